/*
 * Inference (forward) of the loss ops: NegativeLogLikelihoodLoss-12/13 and
 * SoftmaxCrossEntropyLoss-12/13 (float32 scores [N, C] or [N, C, d1, ...], int32/int64 targets,
 * optional class weights [C], reduction none/sum/mean, ignore_index; SCE's optional second
 * output is the log-softmax over C). As in the ONNX reference, "mean" divides by the summed
 * weights of the non-ignored targets (their count when there are no weights).
 * Sums accumulate in double; a target outside [0, C) that is not ignore_index fails the run.
 */
#include <math.h>
#include <string.h>

#include "ops.h"

static const char *tname(const onyx_tensor *t) {
    return t && t->name ? t->name : "";
}

typedef enum { RED_NONE, RED_SUM, RED_MEAN } red_kind;

static red_kind reduction(const onyxi_node *n) {
    const char *r = onyxi_attr_string(n, "reduction", "mean");
    return strcmp(r, "none") == 0 ? RED_NONE : strcmp(r, "sum") == 0 ? RED_SUM : RED_MEAN;
}

static onyx_status check_loss(const onyxi_node *n, onyxi_err *e) {
    const char *r = onyxi_attr_string(n, "reduction", "mean");
    if (strcmp(r, "none") != 0 && strcmp(r, "sum") != 0 && strcmp(r, "mean") != 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'reduction' is '%s', expected none, sum or mean", r);
    return ONYX_OK;
}

/* Scores [N, C, d...] float32, target [N, d...] int32/int64, weight [C] float32. */
static onyx_status infer_loss(onyxi_infer *c, int log_prob_out) {
    const onyx_tensor *x = c->in[0], *t = c->in[1];
    const onyx_tensor *w = c->n_in > 2 ? c->in[2] : NULL;
    for (int k = 0; k < c->n_in; k++)
        ONYXI_CHECK(onyxi_infer_expect_known(c, k));
    if (x->dtype != ONYX_DTYPE_FLOAT32)
        return onyxi_fail(c->err,
                          x->dtype == ONYX_DTYPE_FLOAT16 || x->dtype == ONYX_DTYPE_FLOAT64 ||
                                  x->dtype == ONYX_DTYPE_BFLOAT16
                              ? ONYX_UNSUPPORTED
                              : ONYX_TYPE_MISMATCH,
                          "input 0 ('%s') has dtype %s, expected float32", tname(x),
                          onyx_dtype_name(x->dtype));
    if (t->dtype != ONYX_DTYPE_INT64 && t->dtype != ONYX_DTYPE_INT32)
        return onyxi_fail(c->err, ONYX_TYPE_MISMATCH,
                          "input 1 ('%s') has dtype %s, expected int32 or int64", tname(t),
                          onyx_dtype_name(t->dtype));
    if (x->rank < 2)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 0 ('%s') has rank %d, expected >= 2 ([N, C, ...])", tname(x),
                          x->rank);
    int ok = t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
    for (int i = 1; ok && i < t->rank; i++)
        ok = t->dims[i] == x->dims[i + 1];
    if (!ok) {
        char s0[160], s1[160];
        onyxi_shape_str(x->rank, x->dims, s0, sizeof s0);
        onyxi_shape_str(t->rank, t->dims, s1, sizeof s1);
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 1 ('%s') has shape %s, expected input 0's %s without axis 1",
                          tname(t), s1, s0);
    }
    if (w) {
        ONYXI_CHECK(onyxi_infer_expect_dtype(c, 2, ONYX_DTYPE_FLOAT32));
        if (w->rank != 1 || w->dims[0] != x->dims[1])
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input 2 ('%s') must have shape [%lld] (one weight per class)",
                              tname(w), (long long)x->dims[1]);
    }
    if (reduction(c->node) == RED_NONE)
        onyxi_infer_set(c, 0, ONYX_DTYPE_FLOAT32, t->rank, t->dims);
    else
        onyxi_infer_set(c, 0, ONYX_DTYPE_FLOAT32, 0, NULL);
    if (log_prob_out) onyxi_infer_set(c, 1, ONYX_DTYPE_FLOAT32, x->rank, x->dims);
    return ONYX_OK;
}

/*
 * Shared run: loss[n, d] = -w[t] * s[n, t, d] where s is the input (NLL) or its log-softmax
 * over axis 1 (SCE, also written to out[1] when present); ignored targets contribute 0 loss
 * and 0 weight.
 */
static onyx_status loss_run(onyxi_exec *x, int softmax) {
    const onyx_tensor *in = x->in[0], *tg = x->in[1];
    const onyx_tensor *wt = x->n_in > 2 ? x->in[2] : NULL;
    const int64_t N = in->dims[0], C = in->dims[1];
    int64_t D = 1;
    for (int i = 2; i < in->rank; i++)
        D *= in->dims[i];
    const float *xs = in->data;
    const float *w = wt ? wt->data : NULL;
    float *y = x->out[0]->data;
    float *lp = softmax && x->n_out > 1 && x->out[1] ? x->out[1]->data : NULL;
    const onyxi_attr *ii = onyxi_attr_find(x->node, "ignore_index");
    const red_kind red = reduction(x->node);
    double acc = 0, acc_w = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t d = 0; d < D; d++) {
            const float *s = xs + n * C * D + d; /* s[c * D] is class c */
            double shift = 0;                    /* log-softmax: s - max - log(sum e^(s - max)) */
            if (softmax && C > 0) {
                double mx = s[0], sum = 0;
                for (int64_t k = 1; k < C; k++)
                    if (s[k * D] > mx) mx = s[k * D];
                for (int64_t k = 0; k < C; k++)
                    sum += exp(s[k * D] - mx);
                shift = mx + log(sum);
                if (lp)
                    for (int64_t k = 0; k < C; k++)
                        lp[n * C * D + k * D + d] = (float)(s[k * D] - shift);
            }
            const int64_t t = onyxi_read_int(tg, n * D + d);
            double l = 0, wv = 0;
            if (!(ii && t == ii->i)) {
                if (t < 0 || t >= C)
                    return onyxi_fail(x->err, ONYX_INVALID_ARG,
                                      "input 1 ('%s') holds class %lld, expected 0 to %lld or "
                                      "ignore_index",
                                      tname(tg), (long long)t, (long long)(C - 1));
                wv = w ? w[t] : 1.0;
                l = -wv * ((double)s[t * D] - shift);
            }
            if (red == RED_NONE) y[n * D + d] = (float)l;
            acc += l;
            acc_w += wv;
        }
    if (red == RED_SUM) y[0] = (float)acc;
    if (red == RED_MEAN) y[0] = (float)(acc / acc_w); /* 0 / 0 = NaN as in the reference */
    return ONYX_OK;
}

/* ---- exports ---- */

const onyxi_attr_spec onyxi_nll_loss_attrs[] = {
    {"reduction", ONYXI_ATTR_STRING}, {"ignore_index", ONYXI_ATTR_INT}, {NULL, 0}};
const onyxi_attr_spec onyxi_sce_loss_attrs[] = {
    {"reduction", ONYXI_ATTR_STRING}, {"ignore_index", ONYXI_ATTR_INT}, {NULL, 0}};

onyx_status onyxi_nll_loss_check(const onyxi_node *n, onyxi_err *e) {
    return check_loss(n, e);
}
onyx_status onyxi_sce_loss_check(const onyxi_node *n, onyxi_err *e) {
    return check_loss(n, e);
}
onyx_status onyxi_nll_loss_infer(onyxi_infer *c) {
    return infer_loss(c, 0);
}
onyx_status onyxi_sce_loss_infer(onyxi_infer *c) {
    return infer_loss(c, 1);
}

static onyx_status nll_loss_run_ref(onyxi_exec *x) {
    return loss_run(x, 0);
}
static onyx_status sce_loss_run_ref(onyxi_exec *x) {
    return loss_run(x, 1);
}

static const onyxi_impl nll_loss_ref = {"ref", NULL, nll_loss_run_ref, NULL};
static const onyxi_impl sce_loss_ref = {"ref", NULL, sce_loss_run_ref, NULL};
const onyxi_impl *const onyxi_nll_loss_impls[] = {&nll_loss_ref, NULL};
const onyxi_impl *const onyxi_sce_loss_impls[] = {&sce_loss_ref, NULL};
