/*
 * Softmax and LogSoftmax (opset 1, 11, 13), float32; one kernel, LogSoftmax only changes the
 * last step.
 * opset 1 and 11: the input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])] and
 *   softmax runs along the second dim; default axis 1. Negative axes became official in
 *   opset 11, but PyTorch's opset 6-10 exports already emit axis -1 (as onnxruntime accepts
 *   it), so they are accepted at every opset.
 * opset 13: softmax along the single dim `axis`; default -1.
 * Like the ONNX numpy reference, y = exp(x - max) / sum(exp(x - max)), so a row whose max is
 * -inf, +inf or NaN comes out NaN. LogSoftmax is (x - max) - log(sum(exp(x - max))), also
 * as in the reference.
 */
#include <math.h>
#include <string.h>

#include "ops.h"
#include "softmax.h"

const onyxi_attr_spec onyxi_softmax_attrs[] = {{"axis", ONYXI_ATTR_INT}, {NULL, 0}};

onyx_status onyxi_softmax_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK; /* the axis range depends on the input rank: checked in infer */
}

onyx_status onyxi_softmax_view(const onyxi_node *n, const onyx_tensor *t, sm_view *v,
                               onyxi_err *e) {
    int64_t axis = onyxi_attr_int(n, "axis", n->opset >= 13 ? -1 : 1);
    int ax;
    ONYXI_CHECK(onyxi_norm_axis(axis, t->rank, &ax, e));
    int end = n->opset >= 13 ? ax + 1 : t->rank; /* opset 1/11 fold every later dim in */
    int64_t outer = onyxi_shape_count(ax, t->dims);
    int64_t len = onyxi_shape_count(end - ax, t->dims + ax);
    int64_t inner = onyxi_shape_count(t->rank - end, t->dims + end);
    if (outer < 0 || len < 0 || inner < 0)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input shape is unknown or too large");
    v->outer = outer;
    v->len = len;
    v->inner = inner;
    return ONYX_OK;
}

onyx_status onyxi_softmax_infer(onyxi_infer *c) {
    const onyx_tensor *t = c->in[0];
    if (t->dtype != ONYX_DTYPE_FLOAT32)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED, "input has dtype %s; %s supports float32 only",
                          onyx_dtype_name(t->dtype), c->node->op_type);
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    sm_view v;
    ONYXI_CHECK(onyxi_softmax_view(c->node, t, &v, c->err));
    onyxi_infer_set(c, 0, t->dtype, t->rank, t->dims);
    return ONYX_OK;
}

/* ---- ref ---- */

typedef struct sm_state {
    sm_view v;
    int log;        /* LogSoftmax */
    float *scratch; /* owned: 2 * inner floats, the running max and sum of each column */
} sm_state;

static onyx_status softmax_init_ref(onyxi_exec *x) {
    sm_view v;
    ONYXI_CHECK(onyxi_softmax_view(x->node, x->in[0], &v, x->err));
    sm_state *st = onyxi_calloc(1, sizeof *st);
    if (!st)
        return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the %s state", x->node->op_type);
    x->state = st;
    st->v = v;
    st->log = strcmp(x->node->op_type, "LogSoftmax") == 0;
    if (v.outer == 0 || v.len == 0 || v.inner == 0) return ONYX_OK;
    if ((uint64_t)v.inner > SIZE_MAX / (2 * sizeof(float)))
        return onyxi_fail(x->err, ONYX_NOMEM, "inner size %lld is too large", (long long)v.inner);
    st->scratch = onyxi_malloc((size_t)v.inner * 2 * sizeof(float));
    if (!st->scratch)
        return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for %s scratch", x->node->op_type);
    return ONYX_OK;
}

/*
 * Per outer index, the [len, inner] slab is processed row by row so that every inner loop
 * runs over contiguous memory (inner == 1 for the common last-axis case and for opset < 13).
 */
static onyx_status softmax_run_ref(onyxi_exec *x) {
    sm_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "%s run without init", x->node->op_type);
    const int64_t outer = st->v.outer, len = st->v.len, inner = st->v.inner;
    if (!st->scratch) return ONYX_OK; /* empty tensor */
    float *mx = st->scratch, *sum = st->scratch + inner;
    for (int64_t o = 0; o < outer; o++) {
        const float *xs = (const float *)x->in[0]->data + o * len * inner;
        float *ys = (float *)x->out[0]->data + o * len * inner;
        for (int64_t i = 0; i < inner; i++) {
            mx[i] = xs[i];
            sum[i] = 0.0f;
        }
        /* NaN must win the max, as np.max lets it, so the whole row becomes NaN */
        for (int64_t l = 1; l < len; l++)
            for (int64_t i = 0; i < inner; i++) {
                float val = xs[l * inner + i];
                if (val > mx[i] || isnan(val)) mx[i] = val;
            }
        for (int64_t l = 0; l < len; l++)
            for (int64_t i = 0; i < inner; i++) {
                float e = expf(xs[l * inner + i] - mx[i]);
                ys[l * inner + i] = e;
                sum[i] += e;
            }
        if (st->log) {
            for (int64_t i = 0; i < inner; i++)
                sum[i] = logf(sum[i]);
            for (int64_t l = 0; l < len; l++)
                for (int64_t i = 0; i < inner; i++)
                    ys[l * inner + i] = (xs[l * inner + i] - mx[i]) - sum[i];
        } else {
            for (int64_t l = 0; l < len; l++)
                for (int64_t i = 0; i < inner; i++)
                    ys[l * inner + i] /= sum[i];
        }
    }
    return ONYX_OK;
}

static void softmax_fini_ref(onyxi_exec *x) {
    sm_state *st = x->state;
    if (!st) return;
    onyxi_free(st->scratch);
    onyxi_free(st);
    x->state = NULL;
}

static const onyxi_impl softmax_ref = {"ref", softmax_init_ref, softmax_run_ref, softmax_fini_ref};
const onyxi_impl *const onyxi_softmax_impls[] = {&onyxi_softmax_dnnl, &softmax_ref, NULL};
