/*
 * Normalization ops, float32, inference only:
 *  - BatchNormalization-6 (is_test: only 1, test mode), 7 (spatial: 0 = per-activation
 *    parameters [C, D1, ...], also in 6), 9 (spatial removed), 14 (training_mode), 15
 *    (parameter types may differ from X; only float32 here). training_mode=1 or any training
 *    output (mean, var, saved_*) is ONYX_UNSUPPORTED. A following Relu the fuse_act pass
 *    merged in (node->fusion) is applied to each plane.
 *  - InstanceNormalization-6: per (n, c) plane statistics.
 *  - LayerNormalization-17: axis, epsilon, stash_type (1 only), optional Mean and InvStdDev.
 * Statistics are accumulated in double so large planes and rows keep float32 accuracy.
 */
#include <math.h>
#include <string.h>

#include "norm.h"
#include "ops.h"
#include "postops.h"

/* Parameter inputs must match X's float32; float16/float64 X is refused as unsupported. */
static onyx_status expect_f32(onyxi_infer *c, int k, const char *name) {
    const onyx_tensor *t = c->in[k];
    if (t->dtype == ONYX_DTYPE_FLOAT32) return ONYX_OK;
    if (t->dtype == ONYX_DTYPE_FLOAT16 || t->dtype == ONYX_DTYPE_FLOAT64 ||
        t->dtype == ONYX_DTYPE_BFLOAT16)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input '%s' has dtype %s; only float32 is supported", name,
                          onyx_dtype_name(t->dtype));
    return onyxi_fail(c->err, ONYX_TYPE_MISMATCH, "input '%s' has dtype %s, expected float32", name,
                      onyx_dtype_name(t->dtype));
}

/* ---- BatchNormalization ---------------------------------------------------------------- */

static const char *const bn_names[5] = {"X", "scale", "B", "input_mean", "input_var"};

onyx_status onyxi_batch_norm_check(const onyxi_node *n, onyxi_err *e) {
    int64_t spatial = onyxi_attr_int(n, "spatial", 1);
    if (onyxi_attr_find(n, "spatial") && n->opset >= 9 && spatial != 1)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'spatial' was removed in opset 9 (the model has opset %lld)",
                          (long long)n->opset);
    if (spatial != 0 && spatial != 1)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'spatial' is %lld, expected 0 or 1",
                          (long long)spatial);
    /* opset 6 defaults to training (is_test=0), where Y uses the batch's own statistics */
    if (n->opset < 7 && onyxi_attr_int(n, "is_test", 0) != 1)
        return onyxi_fail(e, ONYX_UNSUPPORTED,
                          "attribute 'is_test' is %lld; only test mode (1) is supported",
                          (long long)onyxi_attr_int(n, "is_test", 0));
    int64_t training = onyxi_attr_int(n, "training_mode", 0);
    if (onyxi_attr_find(n, "training_mode") && n->opset < 14 && training != 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'training_mode' needs opset 14 (the model has opset %lld)",
                          (long long)n->opset);
    if (training != 0)
        return onyxi_fail(e, ONYX_UNSUPPORTED,
                          "attribute 'training_mode' is %lld; only inference (0) is supported",
                          (long long)training);
    for (int k = 1; k < n->n_outputs; k++)
        if (n->outputs[k] >= 0)
            return onyxi_fail(e, ONYX_UNSUPPORTED,
                              "output %d (a training-mode statistic) is requested; only "
                              "inference with the single output 'Y' is supported",
                              k);
    return ONYX_OK;
}

/* 1 when the parameters hold one value per activation [C, D1, ...] (spatial=0 of opset 7),
 * 0 when one per channel [C]; -1 after recording a shape error. */
static int bn_layout(const onyxi_node *n, const onyx_tensor *const *in, onyxi_err *e) {
    char b1[160], b2[160];
    const onyx_tensor *X = in[0];
    int per_act = n->opset < 9 && onyxi_attr_int(n, "spatial", 1) == 0 && X->rank > 2;
    /* spatial=0 parameters are X's shape without N; [C] is accepted too, as it is exact */
    if (per_act && in[1]->rank == 1) per_act = 0;
    int rank = per_act ? X->rank - 1 : 1;
    for (int k = 1; k < 5; k++) {
        const onyx_tensor *p = in[k];
        int ok = p->rank == rank;
        for (int i = 0; ok && i < rank; i++)
            ok = p->dims[i] == X->dims[1 + i];
        if (!ok) {
            onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input '%s' has shape %s, expected %s", bn_names[k],
                       onyxi_shape_str(p->rank, p->dims, b1, sizeof b1),
                       onyxi_shape_str(rank, X->dims + 1, b2, sizeof b2));
            return -1;
        }
    }
    return per_act;
}

onyx_status onyxi_batch_norm_infer(onyxi_infer *c) {
    for (int k = 0; k < 5; k++) {
        ONYXI_CHECK(expect_f32(c, k, bn_names[k]));
        ONYXI_CHECK(onyxi_infer_expect_known(c, k));
    }
    const onyx_tensor *X = c->in[0];
    if (X->rank < 2)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 'X' has rank %d, expected at least 2 (N, C, ...)", X->rank);
    if (bn_layout(c->node, c->in, c->err) < 0) return ONYX_SHAPE_MISMATCH;
    onyxi_infer_set(c, 0, ONYX_DTYPE_FLOAT32, X->rank, X->dims);
    return ONYX_OK;
}

int onyxi_batch_norm_per_channel(const onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    if (X->dtype != ONYX_DTYPE_FLOAT32 || X->rank < 2 || onyxi_shape_count(X->rank, X->dims) <= 0)
        return 0;
    for (int k = 1; k < 5; k++) {
        const onyx_tensor *p = x->in[k];
        if (p->dtype != ONYX_DTYPE_FLOAT32 || p->layout || p->rank != 1 || p->dims[0] != X->dims[1])
            return 0;
    }
    for (int k = 1; k < x->n_out; k++)
        if (x->out[k]) return 0;
    return 1;
}

/* A fused chain (a Relu, from the fuse_act pass) must suit the output. */
static onyx_status batch_norm_init_ref(onyxi_exec *x) {
    const onyx_tensor *Y = x->out[0];
    return onyxi_post_check(x->node, x->n_in, x->in, -1, Y->dtype, Y->rank, Y->dims, x->err);
}

/* y = (x - mean) * scale / sqrt(var + epsilon) + B, per channel or per activation, then the
 * fused chain on each plane while it is in cache. Each output element reads only its own
 * input element, so the kernel works in place. */
static onyx_status batch_norm_run_ref(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    int per_act = bn_layout(x->node, x->in, x->err);
    if (per_act < 0) return ONYX_SHAPE_MISMATCH;
    float eps = onyxi_attr_float(x->node, "epsilon", 1e-5f);
    const float *xd = X->data, *sc = x->in[1]->data, *bi = x->in[2]->data;
    const float *mu = x->in[3]->data, *va = x->in[4]->data;
    float *yd = x->out[0]->data;
    int64_t C = X->dims[1], planes = X->dims[0] * C; /* bounded by X's element count */
    int64_t size = onyxi_shape_count(X->rank - 2, X->dims + 2);
    if (planes == 0 || size == 0) return ONYX_OK;
    const onyxi_fusion *post = onyxi_post_chain(x->node);
    int threads = x->num_threads;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && planes > 1)
    for (int64_t p = 0; p < planes; p++) {
        int64_t c = p % C;
        const float *xp = xd + p * size;
        float *yp = yd + p * size;
        if (per_act) {
            int64_t o = c * size;
            for (int64_t i = 0; i < size; i++)
                yp[i] = (xp[i] - mu[o + i]) * (sc[o + i] / sqrtf(va[o + i] + eps)) + bi[o + i];
        } else {
            float a = sc[c] / sqrtf(va[c] + eps), m = mu[c], b = bi[c];
            for (int64_t i = 0; i < size; i++)
                yp[i] = (xp[i] - m) * a + b;
        }
        if (post) onyxi_post_apply(post, x->in, yp, p * size, size);
    }
    return ONYX_OK;
}

/* ---- InstanceNormalization ------------------------------------------------------------- */

onyx_status onyxi_instance_norm_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

onyx_status onyxi_instance_norm_infer(onyxi_infer *c) {
    static const char *const names[3] = {"input", "scale", "B"};
    char b1[160];
    for (int k = 0; k < 3; k++) {
        ONYXI_CHECK(expect_f32(c, k, names[k]));
        ONYXI_CHECK(onyxi_infer_expect_known(c, k));
    }
    const onyx_tensor *X = c->in[0];
    if (X->rank < 3)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 'input' has rank %d, expected at least 3 (N, C, spatial...)",
                          X->rank);
    for (int k = 1; k < 3; k++) {
        const onyx_tensor *p = c->in[k];
        if (p->rank != 1 || p->dims[0] != X->dims[1])
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input '%s' has shape %s, expected [%lld] (the channels of "
                              "'input')",
                              names[k], onyxi_shape_str(p->rank, p->dims, b1, sizeof b1),
                              (long long)X->dims[1]);
    }
    onyxi_infer_set(c, 0, ONYX_DTYPE_FLOAT32, X->rank, X->dims);
    return ONYX_OK;
}

/* Mean and variance of n floats, two-pass in double (the one-pass formula cancels badly
 * when the mean is large against the spread). n > 0. */
static void mean_var(const float *v, int64_t n, double *mean, double *var) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += v[i];
    double m = s / (double)n, q = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = v[i] - m;
        q += d * d;
    }
    *mean = m;
    *var = q / (double)n;
}

/* Statistics are taken over the whole plane before any of it is written: in-place safe. */
static onyx_status instance_norm_run_ref(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    float eps = onyxi_attr_float(x->node, "epsilon", 1e-5f);
    const float *xd = X->data, *sc = x->in[1]->data, *bi = x->in[2]->data;
    float *yd = x->out[0]->data;
    int64_t C = X->dims[1], planes = X->dims[0] * C;
    int64_t size = onyxi_shape_count(X->rank - 2, X->dims + 2);
    if (planes == 0 || size == 0) return ONYX_OK;
    int threads = x->num_threads;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && planes > 1)
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = xd + p * size;
        float *yp = yd + p * size;
        double m, v;
        mean_var(xp, size, &m, &v);
        float a = (float)(sc[p % C] / sqrt(v + eps)), mf = (float)m, b = bi[p % C];
        for (int64_t i = 0; i < size; i++)
            yp[i] = (xp[i] - mf) * a + b;
    }
    return ONYX_OK;
}

/* ---- LayerNormalization ---------------------------------------------------------------- */

onyx_status onyxi_layer_norm_check(const onyxi_node *n, onyxi_err *e) {
    int64_t stash = onyxi_attr_int(n, "stash_type", ONYX_DTYPE_FLOAT32);
    if (stash != ONYX_DTYPE_FLOAT32)
        return onyxi_fail(e, ONYX_UNSUPPORTED,
                          "attribute 'stash_type' is %lld; only 1 (float32) is supported",
                          (long long)stash);
    return ONYX_OK;
}

/* X viewed as [rows, len] with the statistics taken over each row of len elements. */
typedef struct ln_view {
    int axis;
    int64_t rows, len;
} ln_view;

/* Checks that parameter p (Scale or B) broadcasts to the normalized shape X.dims[axis:]
 * (numpy rules, p never wider than it). */
static onyx_status ln_param_shape(const onyx_tensor *X, int axis, const onyx_tensor *p,
                                  const char *name, onyxi_err *e) {
    char b1[160], b2[160];
    int nr = X->rank - axis;
    int ok = p->rank <= nr;
    for (int i = 0; ok && i < p->rank; i++) {
        int64_t d = p->dims[p->rank - 1 - i];
        ok = d == 1 || d == X->dims[X->rank - 1 - i];
    }
    if (!ok)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input '%s' has shape %s, expected one broadcastable to the "
                          "normalized shape %s",
                          name, onyxi_shape_str(p->rank, p->dims, b1, sizeof b1),
                          onyxi_shape_str(nr, X->dims + axis, b2, sizeof b2));
    return ONYX_OK;
}

static onyx_status ln_shapes(const onyxi_node *n, int n_in, const onyx_tensor *const *in,
                             ln_view *v, onyxi_err *e) {
    const onyx_tensor *X = in[0];
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(n, "axis", -1), X->rank, &v->axis, e));
    ONYXI_CHECK(ln_param_shape(X, v->axis, in[1], "Scale", e));
    if (n_in > 2 && in[2]) ONYXI_CHECK(ln_param_shape(X, v->axis, in[2], "B", e));
    v->rows = onyxi_shape_count(v->axis, X->dims);
    v->len = onyxi_shape_count(X->rank - v->axis, X->dims + v->axis);
    return ONYX_OK;
}

onyx_status onyxi_layer_norm_infer(onyxi_infer *c) {
    static const char *const names[3] = {"X", "Scale", "B"};
    for (int k = 0; k < c->n_in && k < 3; k++) {
        if (!c->in[k]) continue;
        ONYXI_CHECK(expect_f32(c, k, names[k]));
        ONYXI_CHECK(onyxi_infer_expect_known(c, k));
    }
    const onyx_tensor *X = c->in[0];
    if (X->rank < 1)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "input 'X' is a scalar, expected rank >= 1");
    ln_view v;
    ONYXI_CHECK(ln_shapes(c->node, c->n_in, c->in, &v, c->err));
    onyxi_infer_set(c, 0, ONYX_DTYPE_FLOAT32, X->rank, X->dims);
    /* Mean and InvStdDev: [d0, ..., d(axis-1), 1, ..., 1] */
    int64_t dims[ONYXI_MAX_RANK];
    for (int i = 0; i < X->rank; i++)
        dims[i] = i < v.axis ? X->dims[i] : 1;
    for (int k = 1; k < c->n_out && k < 3; k++)
        if (c->out[k]) onyxi_infer_set(c, k, ONYX_DTYPE_FLOAT32, X->rank, dims);
    return ONYX_OK;
}

typedef struct ln_state {
    ln_view v;
    /* owned: offset into Scale / B of each normalized element, NULL when the parameter has
     * the full normalized shape (offset = index) */
    int64_t *sidx, *bidx;
} ln_state;

static void layer_norm_fini_ref(onyxi_exec *x) {
    ln_state *st = x->state;
    if (!st) return;
    onyxi_free(st->sidx);
    onyxi_free(st->bidx);
    onyxi_free(st);
    x->state = NULL;
}

/* The broadcast offset table of parameter p over the normalized shape (see ln_state). */
static onyx_status ln_param_table(const onyx_tensor *X, const ln_view *v, const onyx_tensor *p,
                                  int64_t **out, onyxi_err *e) {
    *out = NULL;
    if (!p || onyxi_shape_count(p->rank, p->dims) == v->len) return ONYX_OK;
    int64_t *t = onyxi_malloc((size_t)v->len * sizeof *t);
    if (!t) return onyxi_fail(e, ONYX_NOMEM, "out of memory for a LayerNormalization table");
    *out = t;
    int nr = X->rank - v->axis;
    const int64_t *nd = X->dims + v->axis;
    int64_t pstr[ONYXI_MAX_RANK] = {0}; /* p's stride per normalized axis, 0 if broadcast */
    int64_t s = 1;
    for (int i = 0; i < p->rank; i++) {
        int ax = nr - 1 - i, pd = p->rank - 1 - i;
        pstr[ax] = p->dims[pd] == 1 ? 0 : s;
        s *= p->dims[pd];
    }
    int64_t idx[ONYXI_MAX_RANK] = {0}, off = 0;
    for (int64_t j = 0; j < v->len; j++) {
        t[j] = off;
        for (int i = nr - 1; i >= 0; i--) {
            off += pstr[i];
            if (++idx[i] < nd[i]) break;
            off -= pstr[i] * nd[i];
            idx[i] = 0;
        }
    }
    return ONYX_OK;
}

static onyx_status layer_norm_init_ref(onyxi_exec *x) {
    ln_state *st = onyxi_calloc(1, sizeof *st);
    if (!st)
        return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the LayerNormalization state");
    x->state = st;
    ONYXI_CHECK(ln_shapes(x->node, x->n_in, x->in, &st->v, x->err));
    if (st->v.rows == 0 || st->v.len == 0) return ONYX_OK;
    const onyx_tensor *B = x->n_in > 2 ? x->in[2] : NULL;
    ONYXI_CHECK(ln_param_table(x->in[0], &st->v, x->in[1], &st->sidx, x->err));
    ONYXI_CHECK(ln_param_table(x->in[0], &st->v, B, &st->bidx, x->err));
    return ONYX_OK;
}

/* Per row: mean and variance, then y = (x - mean) * inv_std * Scale + B. The row's statistics
 * are complete before it is written, so the kernel works in place. An empty row gives NaN
 * statistics, as the numpy reference's 0 / 0. */
static onyx_status layer_norm_run_ref(onyxi_exec *x) {
    const ln_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "LayerNormalization run without init");
    const int64_t rows = st->v.rows, len = st->v.len;
    float eps = onyxi_attr_float(x->node, "epsilon", 1e-5f);
    const float *xd = x->in[0]->data, *sc = x->in[1]->data;
    const float *bi = x->n_in > 2 && x->in[2] ? x->in[2]->data : NULL;
    float *yd = x->out[0]->data;
    float *md = x->n_out > 1 && x->out[1] ? x->out[1]->data : NULL;
    float *id = x->n_out > 2 && x->out[2] ? x->out[2]->data : NULL;
    const int64_t *sidx = st->sidx, *bidx = st->bidx;
    int threads = x->num_threads;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && rows > 1)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = xd + r * len;
        float *yr = yd + r * len;
        double m = NAN, v = NAN;
        if (len > 0) mean_var(xr, len, &m, &v);
        double inv = 1.0 / sqrt(v + eps);
        if (md) md[r] = (float)m;
        if (id) id[r] = (float)inv;
        float mf = (float)m, invf = (float)inv;
        for (int64_t j = 0; j < len; j++) {
            float s = sc[sidx ? sidx[j] : j];
            float b = bi ? bi[bidx ? bidx[j] : j] : 0.0f;
            yr[j] = (xr[j] - mf) * invf * s + b;
        }
    }
    return ONYX_OK;
}

/* ---- exported op pieces ---- */

const onyxi_attr_spec onyxi_batch_norm_attrs[] = {
    {"epsilon", ONYXI_ATTR_FLOAT},     {"is_test", ONYXI_ATTR_INT},
    {"momentum", ONYXI_ATTR_FLOAT},    {"spatial", ONYXI_ATTR_INT},
    {"training_mode", ONYXI_ATTR_INT}, {NULL, 0}};
const onyxi_attr_spec onyxi_instance_norm_attrs[] = {{"epsilon", ONYXI_ATTR_FLOAT}, {NULL, 0}};
const onyxi_attr_spec onyxi_layer_norm_attrs[] = {{"axis", ONYXI_ATTR_INT},
                                                  {"epsilon", ONYXI_ATTR_FLOAT},
                                                  {"stash_type", ONYXI_ATTR_INT},
                                                  {NULL, 0}};

static const onyxi_impl batch_norm_ref = {"ref", batch_norm_init_ref, batch_norm_run_ref, NULL};
const onyxi_impl *const onyxi_batch_norm_impls[] = {&onyxi_batch_norm_own, &onyxi_batch_norm_dnnl,
                                                    &batch_norm_ref, NULL};
static const onyxi_impl instance_norm_ref = {"ref", NULL, instance_norm_run_ref, NULL};
const onyxi_impl *const onyxi_instance_norm_impls[] = {&instance_norm_ref, NULL};
static const onyxi_impl layer_norm_ref = {"ref", layer_norm_init_ref, layer_norm_run_ref,
                                          layer_norm_fini_ref};
const onyxi_impl *const onyxi_layer_norm_impls[] = {&onyxi_layer_norm_dnnl, &layer_norm_ref, NULL};
