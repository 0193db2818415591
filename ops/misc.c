/*
 * Structural ops around the core, reference kernels only:
 *   Trilu-14 (any fixed-size dtype), CumSum-11/14 (float32/64, int32/64, uint32/64; exclusive,
 *   reverse), Hardmax-1/11/13 (float32; before 13 the input is coerced to 2-D at axis),
 *   OneHot-9/11 (negative indices from 11), TopK-1/10/11 (float32/64, int32/64; ties keep the
 *   lower index first; k attribute before 10, input from 10; largest/sorted from 11; the output
 *   is always sorted), DepthToSpace-1/11/13 (DCR; CRD from 11), SpaceToDepth-1/13,
 *   Compress-9/11 (output shape from the condition's data), MeanVarianceNormalization-9/13
 *   (float32; (x - mean) / (std + 1e-9) like the ONNX reference).
 */
#include <math.h>
#include <string.h>

#include "infer_util.h"
#include "ops.h"

static int64_t elems(const onyx_tensor *t) {
    return onyxi_shape_count(t->rank, t->dims);
}

/* Input k is present, has a known shape and a fixed-size dtype (byte-copying ops). */
static onyx_status expect_copyable(onyxi_infer *c, int k) {
    if (!c->in[k]) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input %d is empty", k);
    ONYXI_CHECK(onyxi_infer_expect_known(c, k));
    if (onyxi_dtype_size(c->in[k]->dtype) == 0)
        return onyxi_refuse_dtype(c, k, "a fixed-size dtype");
    return ONYX_OK;
}

/* A scalar integer input (rank 0 or a single element) with data of int32/int64 dtype. */
static onyx_status expect_int_scalar(onyxi_infer *c, int k) {
    const onyx_tensor *t = c->in[k];
    ONYXI_CHECK(onyxi_infer_expect_known(c, k));
    if (t->dtype != ONYX_DTYPE_INT64 && t->dtype != ONYX_DTYPE_INT32)
        return onyxi_refuse_dtype(c, k, "int32 or int64");
    if (elems(t) != 1)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input %d ('%s') has %lld elements, expected a scalar", k,
                          onyxi_tensor_name(t), (long long)elems(t));
    return ONYX_OK;
}

static void state_fini(onyxi_exec *x) {
    onyxi_free(x->state);
    x->state = NULL;
}

/* ---- Trilu ---- */

onyx_status onyxi_trilu_check(const onyxi_node *n, onyxi_err *e) {
    int64_t u = onyxi_attr_int(n, "upper", 1);
    if (u != 0 && u != 1)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'upper' is %lld, expected 0 or 1",
                          (long long)u);
    return ONYX_OK;
}

onyx_status onyxi_trilu_infer(onyxi_infer *c) {
    ONYXI_CHECK(expect_copyable(c, 0));
    const onyx_tensor *x = c->in[0];
    if (x->rank < 2)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "input 0 ('%s') has rank %d, expected >= 2",
                          onyxi_tensor_name(x), x->rank);
    if (c->n_in > 1 && c->in[1]) ONYXI_CHECK(expect_int_scalar(c, 1));
    onyxi_infer_set(c, 0, x->dtype, x->rank, x->dims);
    return ONYX_OK;
}

/* Row i keeps columns j with j - i >= k (upper) or j - i <= k (lower); the rest become 0. */
static onyx_status trilu_run_ref(onyxi_exec *x) {
    const onyx_tensor *t = x->in[0];
    const size_t es = onyxi_dtype_size(t->dtype);
    const int64_t n = t->dims[t->rank - 2], m = t->dims[t->rank - 1];
    const int64_t mats = n > 0 && m > 0 ? elems(t) / (n * m) : 0;
    int64_t k = x->n_in > 1 && x->in[1] ? onyxi_read_int(x->in[1], 0) : 0;
    /* beyond +-(n + m) every row is all kept or all zeroed; clamping avoids i + k overflow */
    if (k > n + m) k = n + m;
    if (k < -(n + m)) k = -(n + m);
    const int upper = onyxi_attr_int(x->node, "upper", 1) != 0;
    const char *src = t->data;
    char *dst = x->out[0]->data;
    for (int64_t b = 0; b < mats; b++) {
        for (int64_t i = 0; i < n; i++) {
            int64_t lo = upper ? i + k : 0, hi = upper ? m : i + k + 1; /* kept: [lo, hi) */
            if (lo < 0) lo = 0;
            if (lo > m) lo = m;
            if (hi > m) hi = m;
            if (hi < lo) hi = lo;
            const size_t row = (size_t)((b * n + i) * m) * es;
            memset(dst + row, 0, (size_t)lo * es);
            memcpy(dst + row + (size_t)lo * es, src + row + (size_t)lo * es,
                   (size_t)(hi - lo) * es);
            memset(dst + row + (size_t)hi * es, 0, (size_t)(m - hi) * es);
        }
    }
    return ONYX_OK;
}

/* ---- CumSum ---- */

static int cumsum_dtype(onyx_dtype dt) {
    return dt == ONYX_DTYPE_FLOAT32 || dt == ONYX_DTYPE_FLOAT64 || dt == ONYX_DTYPE_INT32 ||
           dt == ONYX_DTYPE_INT64 || dt == ONYX_DTYPE_UINT32 || dt == ONYX_DTYPE_UINT64;
}

onyx_status onyxi_cum_sum_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

onyx_status onyxi_cum_sum_infer(onyxi_infer *c) {
    const onyx_tensor *x = c->in[0];
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    if (!cumsum_dtype(x->dtype))
        return onyxi_refuse_dtype(c, 0, "float32, float64, int32, int64, uint32 or uint64");
    if (x->rank < 1)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 0 ('%s') is a scalar, expected rank >= 1", onyxi_tensor_name(x));
    ONYXI_CHECK(expect_int_scalar(c, 1));
    const void *axis = onyxi_infer_data(c, 1);
    if (axis) { /* a known axis is checked now; else at run */
        int a;
        ONYXI_CHECK(onyxi_norm_axis(onyxi_read_int(c->in[1], 0), x->rank, &a, c->err));
    }
    onyxi_infer_set(c, 0, x->dtype, x->rank, x->dims);
    return ONYX_OK;
}

/* Integer sums wrap (computed in the unsigned type of the same width). */
#define CUMSUM_LOOP(T, ACC)                                                                        \
    do {                                                                                           \
        const T *xs = x->in[0]->data;                                                              \
        T *ys = x->out[0]->data;                                                                   \
        for (int64_t o = 0; o < outer; o++)                                                        \
            for (int64_t in = 0; in < inner; in++) {                                               \
                ACC acc = 0;                                                                       \
                for (int64_t jj = 0; jj < len; jj++) {                                             \
                    const int64_t j = reverse ? len - 1 - jj : jj;                                 \
                    const int64_t p = (o * len + j) * inner + in;                                  \
                    const ACC v = (ACC)xs[p];                                                      \
                    if (exclusive) {                                                               \
                        ys[p] = (T)acc;                                                            \
                        acc += v;                                                                  \
                    } else {                                                                       \
                        acc += v;                                                                  \
                        ys[p] = (T)acc;                                                            \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
    } while (0)

static onyx_status cum_sum_run_ref(onyxi_exec *x) {
    const onyx_tensor *t = x->in[0];
    int a;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_read_int(x->in[1], 0), t->rank, &a, x->err));
    const int64_t outer = onyxi_dims_prod(t->dims, 0, a), len = t->dims[a],
                  inner = onyxi_dims_prod(t->dims, a + 1, t->rank);
    const int exclusive = onyxi_attr_int(x->node, "exclusive", 0) != 0;
    const int reverse = onyxi_attr_int(x->node, "reverse", 0) != 0;
    switch (t->dtype) {
    case ONYX_DTYPE_FLOAT32:
        CUMSUM_LOOP(float, float);
        break;
    case ONYX_DTYPE_FLOAT64:
        CUMSUM_LOOP(double, double);
        break;
    case ONYX_DTYPE_INT32:
    case ONYX_DTYPE_UINT32:
        CUMSUM_LOOP(uint32_t, uint32_t);
        break;
    case ONYX_DTYPE_INT64:
    case ONYX_DTYPE_UINT64:
        CUMSUM_LOOP(uint64_t, uint64_t);
        break;
    default:
        return onyxi_fail(x->err, ONYX_INTERNAL, "dtype %s reached the kernel",
                          onyx_dtype_name(t->dtype));
    }
    return ONYX_OK;
}

/* ---- Hardmax ---- */

onyx_status onyxi_hardmax_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

static int64_t hardmax_default_axis(const onyxi_node *n) {
    return onyxi_attr_int(n, "axis", n->opset >= 13 ? -1 : 1);
}

onyx_status onyxi_hardmax_infer(onyxi_infer *c) {
    const onyx_tensor *x = c->in[0];
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    if (x->dtype != ONYX_DTYPE_FLOAT32) return onyxi_refuse_dtype(c, 0, "float32");
    int a;
    /* before 13 axis == rank is allowed: [N*..., 1] after coercion */
    if (!(c->node->opset < 13 && hardmax_default_axis(c->node) == x->rank))
        ONYXI_CHECK(onyxi_norm_axis(hardmax_default_axis(c->node), x->rank, &a, c->err));
    onyxi_infer_set(c, 0, x->dtype, x->rank, x->dims);
    return ONYX_OK;
}

/* 1 at the first maximum along the axis (np.argmax: the first NaN wins), 0 elsewhere.
 * Opset < 13 coerces to 2-D [onyxi_dims_prod(dims[:axis]), onyxi_dims_prod(dims[axis:])] and works
 * on rows. */
static onyx_status hardmax_run_ref(onyxi_exec *x) {
    const onyx_tensor *t = x->in[0];
    int64_t axis = hardmax_default_axis(x->node);
    if (axis < 0) axis += t->rank;
    int64_t outer = onyxi_dims_prod(t->dims, 0, (int)axis), len, inner;
    if (x->node->opset < 13) {
        len = onyxi_dims_prod(t->dims, (int)axis, t->rank);
        inner = 1;
    } else {
        len = t->dims[axis];
        inner = onyxi_dims_prod(t->dims, (int)axis + 1, t->rank);
    }
    const float *xs = t->data;
    float *ys = x->out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            const int64_t base = o * len * inner + in;
            int64_t best = 0;
            for (int64_t j = 1; j < len && !isnan(xs[base + best * inner]); j++) {
                float v = xs[base + j * inner];
                if (isnan(v) || v > xs[base + best * inner]) best = j;
            }
            for (int64_t j = 0; j < len; j++)
                ys[base + j * inner] = j == best ? 1.0f : 0.0f;
        }
    return ONYX_OK;
}

/* ---- OneHot ---- */

onyx_status onyxi_one_hot_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

static int is_numeric(onyx_dtype dt) {
    return dt != ONYX_DTYPE_BOOL && dt != ONYX_DTYPE_STRING && dt != ONYX_DTYPE_FLOAT16 &&
           dt != ONYX_DTYPE_BFLOAT16 && onyxi_dtype_size(dt) > 0 && dt != ONYX_DTYPE_COMPLEX64 &&
           dt != ONYX_DTYPE_COMPLEX128;
}

onyx_status onyxi_one_hot_infer(onyxi_infer *c) {
    const onyx_tensor *ind = c->in[0], *dep = c->in[1], *val = c->in[2];
    for (int k = 0; k < 3; k++)
        ONYXI_CHECK(onyxi_infer_expect_known(c, k));
    if (!is_numeric(ind->dtype)) return onyxi_refuse_dtype(c, 0, "a numeric dtype");
    if (!is_numeric(dep->dtype)) return onyxi_refuse_dtype(c, 1, "a numeric dtype");
    if (onyxi_dtype_size(val->dtype) == 0) return onyxi_refuse_dtype(c, 2, "a fixed-size dtype");
    if (elems(dep) != 1)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 1 ('%s') has %lld elements, expected one (depth)",
                          onyxi_tensor_name(dep), (long long)elems(dep));
    if (val->rank != 1 || val->dims[0] != 2)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 2 ('%s') must have shape [2] (off, on values)",
                          onyxi_tensor_name(val));
    if (ind->rank + 1 > ONYXI_MAX_RANK)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED, "output rank %d exceeds %d", ind->rank + 1,
                          ONYXI_MAX_RANK);
    int a;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(c->node, "axis", -1), ind->rank + 1, &a, c->err));
    if (!onyxi_infer_data(c, 1)) return onyxi_infer_needs_data(c, 1);
    double d = onyxi_read_double(dep, 0);
    if (!(d >= 0 && d < 9.0e18))
        return onyxi_fail(c->err, ONYX_INVALID_ARG, "input 1 ('%s'): depth %g is not >= 0",
                          onyxi_tensor_name(dep), d);
    int64_t dims[ONYXI_MAX_RANK];
    for (int i = 0, j = 0; i <= ind->rank; i++)
        dims[i] = i == a ? (int64_t)d : ind->dims[j++];
    size_t nb;
    ONYXI_CHECK(onyxi_shape_nbytes(val->dtype, ind->rank + 1, dims, &nb, c->err));
    onyxi_infer_set(c, 0, val->dtype, ind->rank + 1, dims);
    return ONYX_OK;
}

/* y[outer, d, inner] = on when indices[outer, inner] (+ depth if negative) == d, else off. */
static onyx_status one_hot_run_ref(onyxi_exec *x) {
    const onyx_tensor *ind = x->in[0], *y = x->out[0];
    int a;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(x->node, "axis", -1), y->rank, &a, x->err));
    const int64_t depth = y->dims[a];
    const int64_t outer = onyxi_dims_prod(y->dims, 0, a),
                  inner = onyxi_dims_prod(y->dims, a + 1, y->rank);
    const size_t es = onyxi_dtype_size(y->dtype);
    const char *off = x->in[2]->data, *on = off + es;
    char *dst = y->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t d = 0; d < depth; d++)
            for (int64_t in = 0; in < inner; in++) {
                int64_t idx = onyxi_read_int(ind, o * inner + in);
                if (idx < 0 && idx >= -depth) idx += depth; /* opset 11 */
                memcpy(dst + (size_t)((o * depth + d) * inner + in) * es, idx == d ? on : off, es);
            }
    return ONYX_OK;
}

/* ---- TopK ---- */

static int topk_dtype(onyx_dtype dt) {
    return dt == ONYX_DTYPE_FLOAT32 || dt == ONYX_DTYPE_FLOAT64 || dt == ONYX_DTYPE_INT32 ||
           dt == ONYX_DTYPE_INT64;
}

onyx_status onyxi_top_k_check(const onyxi_node *n, onyxi_err *e) {
    if (n->opset < 10) {
        if (!onyxi_attr_find(n, "k"))
            return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'k' is missing (TopK-1)");
        if (n->n_inputs != 1)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "has %d inputs, expected 1 (TopK-1)",
                              n->n_inputs);
    } else {
        if (onyxi_attr_find(n, "k"))
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "attribute 'k' was replaced by input 'K' in opset 10");
        if (n->n_inputs != 2)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "has %d inputs, expected 2 (X, K)",
                              n->n_inputs);
    }
    if (n->opset < 11 && (onyxi_attr_find(n, "largest") || onyxi_attr_find(n, "sorted")))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attributes 'largest'/'sorted' need opset 11 (model has %lld)",
                          (long long)n->opset);
    return ONYX_OK;
}

onyx_status onyxi_top_k_infer(onyxi_infer *c) {
    const onyx_tensor *x = c->in[0];
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    if (!topk_dtype(x->dtype)) return onyxi_refuse_dtype(c, 0, "float32, float64, int32 or int64");
    int a;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(c->node, "axis", -1), x->rank, &a, c->err));
    int64_t k;
    if (c->node->opset < 10) {
        k = onyxi_attr_int(c->node, "k", -1);
    } else {
        ONYXI_CHECK(onyxi_infer_expect_known(c, 1));
        if (c->in[1]->dtype != ONYX_DTYPE_INT64) return onyxi_refuse_dtype(c, 1, "int64");
        if (elems(c->in[1]) != 1)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input 1 ('%s') has %lld elements, expected 1 (K)",
                              onyxi_tensor_name(c->in[1]), (long long)elems(c->in[1]));
        if (!onyxi_infer_data(c, 1)) return onyxi_infer_needs_data(c, 1);
        k = onyxi_read_int(c->in[1], 0);
    }
    if (k < 0 || k > x->dims[a])
        return onyxi_fail(c->err, ONYX_INVALID_ARG,
                          "K is %lld, expected 0 to %lld (the length of axis %d)", (long long)k,
                          (long long)x->dims[a], a);
    int64_t dims[ONYXI_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[a] = k;
    onyxi_infer_set(c, 0, x->dtype, x->rank, dims);
    onyxi_infer_set(c, 1, ONYX_DTYPE_INT64, x->rank, dims);
    return ONYX_OK;
}

/* Scratch of two index arrays as long as the axis, for a stable merge sort. */
static onyx_status top_k_init_ref(onyxi_exec *x) {
    int a;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(x->node, "axis", -1), x->in[0]->rank, &a, x->err));
    int64_t len = x->in[0]->dims[a];
    if (len < 1) len = 1;
    x->state = onyxi_malloc((size_t)len * 2 * sizeof(int64_t));
    if (!x->state)
        return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for a sort buffer of %lld",
                          (long long)len);
    return ONYX_OK;
}

/* Element p of x as a comparable pair: NaN sorts above every number (numpy's order). */
static int before(const onyx_tensor *t, int64_t p, int64_t q, int largest) {
    int r; /* sign of value(p) - value(q) */
    switch (t->dtype) {
    case ONYX_DTYPE_FLOAT32:
    case ONYX_DTYPE_FLOAT64: {
        double a = onyxi_read_double(t, p), b = onyxi_read_double(t, q);
        int na = isnan(a), nb = isnan(b);
        r = na || nb ? na - nb : (a > b) - (a < b);
        break;
    }
    default: {
        int64_t a = onyxi_read_int(t, p), b = onyxi_read_int(t, q);
        r = (a > b) - (a < b);
    }
    }
    return largest ? r > 0 : r < 0;
}

static onyx_status top_k_run_ref(onyxi_exec *x) {
    const onyx_tensor *t = x->in[0];
    int a;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(x->node, "axis", -1), t->rank, &a, x->err));
    const int largest = onyxi_attr_int(x->node, "largest", 1) != 0;
    const int64_t len = t->dims[a], k = x->out[0]->dims[a];
    const int64_t outer = onyxi_dims_prod(t->dims, 0, a),
                  inner = onyxi_dims_prod(t->dims, a + 1, t->rank);
    const size_t es = onyxi_dtype_size(t->dtype);
    int64_t *idx = x->state, *tmp = idx + (len > 0 ? len : 1);
    int64_t *yi = x->out[1] ? x->out[1]->data : NULL;
    char *yv = x->out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            const int64_t base = o * len * inner + in;
            for (int64_t j = 0; j < len; j++)
                idx[j] = j;
            /* bottom-up merge sort: stable, so equal values keep the lower index first */
            for (int64_t w = 1; w < len; w *= 2) {
                for (int64_t lo = 0; lo < len; lo += 2 * w) {
                    int64_t mid = lo + w < len ? lo + w : len;
                    int64_t hi = lo + 2 * w < len ? lo + 2 * w : len;
                    int64_t i = lo, j = mid, m = lo;
                    while (i < mid && j < hi)
                        tmp[m++] = before(t, base + idx[j] * inner, base + idx[i] * inner, largest)
                                       ? idx[j++]
                                       : idx[i++];
                    while (i < mid)
                        tmp[m++] = idx[i++];
                    while (j < hi)
                        tmp[m++] = idx[j++];
                }
                memcpy(idx, tmp, (size_t)len * sizeof *idx);
            }
            for (int64_t j = 0; j < k; j++) {
                const int64_t p = (o * k + j) * inner + in;
                memcpy(yv + (size_t)p * es,
                       (const char *)t->data + (size_t)(base + idx[j] * inner) * es, es);
                if (yi) yi[p] = idx[j];
            }
        }
    return ONYX_OK;
}

/* ---- DepthToSpace, SpaceToDepth ---- */

static onyx_status check_blocksize(const onyxi_node *n, onyxi_err *e) {
    const onyxi_attr *b = onyxi_attr_find(n, "blocksize");
    if (!b) return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'blocksize' is missing");
    if (b->i < 1 || b->i > 1 << 20)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'blocksize' is %lld, expected >= 1",
                          (long long)b->i);
    return ONYX_OK;
}

onyx_status onyxi_depth_to_space_check(const onyxi_node *n, onyxi_err *e) {
    ONYXI_CHECK(check_blocksize(n, e));
    const char *mode = onyxi_attr_string(n, "mode", "DCR");
    if (strcmp(mode, "DCR") != 0 && strcmp(mode, "CRD") != 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'mode' is '%s', expected DCR or CRD",
                          mode);
    if (n->opset < 11 && onyxi_attr_find(n, "mode"))
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'mode' needs opset 11");
    return ONYX_OK;
}

onyx_status onyxi_space_to_depth_check(const onyxi_node *n, onyxi_err *e) {
    return check_blocksize(n, e);
}

/* Shared infer: to_space maps [N, C, H, W] to [N, C/b^2, H*b, W*b], else the reverse. */
static onyx_status infer_d2s(onyxi_infer *c, int to_space) {
    ONYXI_CHECK(expect_copyable(c, 0));
    const onyx_tensor *x = c->in[0];
    const int64_t b = onyxi_attr_int(c->node, "blocksize", 1);
    if (x->rank != 4)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "input 0 ('%s') has rank %d, expected 4",
                          onyxi_tensor_name(x), x->rank);
    int64_t d[4] = {x->dims[0], x->dims[1], x->dims[2], x->dims[3]};
    if (to_space) {
        if (d[1] % (b * b) != 0)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input 0 ('%s') has %lld channels, not a multiple of blocksize^2 = "
                              "%lld",
                              onyxi_tensor_name(x), (long long)d[1], (long long)(b * b));
        if (d[2] > INT64_MAX / b || d[3] > INT64_MAX / b)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "output dims overflow");
        d[1] /= b * b;
        d[2] *= b;
        d[3] *= b;
    } else {
        if (d[2] % b != 0 || d[3] % b != 0)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input 0 ('%s') has H=%lld, W=%lld, expected multiples of "
                              "blocksize %lld",
                              onyxi_tensor_name(x), (long long)d[2], (long long)d[3], (long long)b);
        if (d[1] > INT64_MAX / (b * b))
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "output dims overflow");
        d[1] *= b * b;
        d[2] /= b;
        d[3] /= b;
    }
    onyxi_infer_set(c, 0, x->dtype, 4, d);
    return ONYX_OK;
}

onyx_status onyxi_depth_to_space_infer(onyxi_infer *c) {
    return infer_d2s(c, 1);
}

onyx_status onyxi_space_to_depth_infer(onyxi_infer *c) {
    return infer_d2s(c, 0);
}

/*
 * One loop over the space-side tensor [N, C, H*b, W*b] (y of DepthToSpace, x of SpaceToDepth):
 * element (n, c, h*b+i, w*b+j) pairs with depth-side channel (i*b + j)*C + c (DCR) or
 * c*b*b + i*b + j (CRD) at (n, ., h, w).
 */
static void d2s_copy(const onyx_tensor *space, const onyx_tensor *depth, int64_t b, int crd,
                     int to_space) {
    const size_t es = onyxi_dtype_size(space->dtype);
    const int64_t N = space->dims[0], C = space->dims[1], H = depth->dims[2], W = depth->dims[3];
    const int64_t CD = depth->dims[1];
    char *sp = space->data, *dp = depth->data;
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t hh = 0; hh < H * b; hh++)
                for (int64_t ww = 0; ww < W * b; ww++) {
                    const int64_t h = hh / b, i = hh % b, w = ww / b, j = ww % b;
                    const int64_t cd = crd ? c * b * b + i * b + j : (i * b + j) * C + c;
                    const size_t ps = (size_t)(((n * C + c) * H * b + hh) * W * b + ww) * es;
                    const size_t pd = (size_t)(((n * CD + cd) * H + h) * W + w) * es;
                    if (to_space)
                        memcpy(sp + ps, dp + pd, es);
                    else
                        memcpy(dp + pd, sp + ps, es);
                }
}

static onyx_status depth_to_space_run_ref(onyxi_exec *x) {
    const int crd = strcmp(onyxi_attr_string(x->node, "mode", "DCR"), "CRD") == 0;
    d2s_copy(x->out[0], x->in[0], onyxi_attr_int(x->node, "blocksize", 1), crd, 1);
    return ONYX_OK;
}

static onyx_status space_to_depth_run_ref(onyxi_exec *x) {
    d2s_copy(x->in[0], x->out[0], onyxi_attr_int(x->node, "blocksize", 1), 0, 0);
    return ONYX_OK;
}

/* ---- Compress ---- */

onyx_status onyxi_compress_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

/* The axis (-1 when flattening) and the length the condition applies to. */
static onyx_status compress_axis(const onyxi_node *node, const onyx_tensor *x, int *axis,
                                 int64_t *len, onyxi_err *e) {
    const onyxi_attr *a = onyxi_attr_find(node, "axis");
    if (!a) {
        *axis = -1;
        *len = elems(x);
        return ONYX_OK;
    }
    if (node->opset < 11 && a->i < 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'axis' is %lld; negative axes need "
                          "opset 11",
                          (long long)a->i);
    ONYXI_CHECK(onyxi_norm_axis(a->i, x->rank, axis, e));
    *len = x->dims[*axis];
    return ONYX_OK;
}

onyx_status onyxi_compress_infer(onyxi_infer *c) {
    ONYXI_CHECK(expect_copyable(c, 0));
    const onyx_tensor *x = c->in[0], *cond = c->in[1];
    ONYXI_CHECK(onyxi_infer_expect_known(c, 1));
    ONYXI_CHECK(onyxi_infer_expect_dtype(c, 1, ONYX_DTYPE_BOOL));
    if (cond->rank != 1)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "input 1 ('%s') has rank %d, expected 1",
                          onyxi_tensor_name(cond), cond->rank);
    int axis;
    int64_t len = 0;
    ONYXI_CHECK(compress_axis(c->node, x, &axis, &len, c->err));
    if (cond->dims[0] > len)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 1 ('%s') has %lld elements, more than the %lld it selects from",
                          onyxi_tensor_name(cond), (long long)cond->dims[0], (long long)len);
    const uint8_t *cd = onyxi_infer_data(c, 1);
    if (!cd) return onyxi_infer_needs_data(c, 1);
    int64_t kept = 0;
    for (int64_t i = 0; i < cond->dims[0]; i++)
        kept += cd[i] != 0;
    if (axis < 0) {
        onyxi_infer_set(c, 0, x->dtype, 1, &kept);
    } else {
        int64_t dims[ONYXI_MAX_RANK];
        memcpy(dims, x->dims, sizeof dims);
        dims[axis] = kept;
        onyxi_infer_set(c, 0, x->dtype, x->rank, dims);
    }
    return ONYX_OK;
}

static onyx_status compress_run_ref(onyxi_exec *x) {
    const onyx_tensor *t = x->in[0], *cond = x->in[1];
    int axis;
    int64_t len = 0;
    ONYXI_CHECK(compress_axis(x->node, t, &axis, &len, x->err));
    const size_t es = onyxi_dtype_size(t->dtype);
    const int64_t outer = axis < 0 ? 1 : onyxi_dims_prod(t->dims, 0, axis);
    const int64_t inner = axis < 0 ? 1 : onyxi_dims_prod(t->dims, axis + 1, t->rank);
    const uint8_t *cd = cond->data;
    int64_t kept = 0;
    for (int64_t i = 0; i < cond->dims[0]; i++)
        kept += cd[i] != 0;
    /* the planned output must agree with the condition seen now */
    if ((axis < 0 ? x->out[0]->dims[0] : x->out[0]->dims[axis]) != kept)
        return onyxi_fail(x->err, ONYX_SHAPE_MISMATCH,
                          "input 1 ('%s') selects %lld slices, the planned output has another "
                          "count",
                          onyxi_tensor_name(cond), (long long)kept);
    char *dst = x->out[0]->data;
    const char *src = t->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < cond->dims[0]; i++) {
            if (!cd[i]) continue;
            memcpy(dst, src + (size_t)((o * len + i) * inner) * es, (size_t)inner * es);
            dst += (size_t)inner * es;
        }
    return ONYX_OK;
}

/* ---- MeanVarianceNormalization ---- */

/* Bit i set: axis i is reduced. Default axes [0, 2, 3]. */
static onyx_status mvn_axes(const onyxi_node *n, int rank, unsigned *mask, onyxi_err *e) {
    static const int64_t def[3] = {0, 2, 3};
    const int64_t *ax = def;
    int cnt = onyxi_attr_ints(n, "axes", &ax);
    if (cnt < 0) {
        ax = def;
        cnt = 3;
    }
    *mask = 0;
    for (int i = 0; i < cnt; i++) {
        int a;
        ONYXI_CHECK(onyxi_norm_axis(ax[i], rank, &a, e));
        if (*mask & (1u << a))
            return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'axes' repeats axis %d", a);
        *mask |= 1u << a;
    }
    return ONYX_OK;
}

onyx_status onyxi_mvn_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

onyx_status onyxi_mvn_infer(onyxi_infer *c) {
    const onyx_tensor *x = c->in[0];
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    if (x->dtype != ONYX_DTYPE_FLOAT32) return onyxi_refuse_dtype(c, 0, "float32");
    unsigned mask;
    ONYXI_CHECK(mvn_axes(c->node, x->rank, &mask, c->err));
    onyxi_infer_set(c, 0, x->dtype, x->rank, x->dims);
    return ONYX_OK;
}

/* Maps each element to its group (the kept axes' flat index) via an odometer. */
typedef struct mvn_state {
    unsigned mask;
    int64_t groups;
    double *sum, *sumsq; /* per group */
} mvn_state;

static void mvn_fini(onyxi_exec *x) {
    mvn_state *s = x->state;
    if (s) onyxi_free(s->sum);
    onyxi_free(s);
    x->state = NULL;
}

static onyx_status mvn_init_ref(onyxi_exec *x) {
    const onyx_tensor *t = x->in[0];
    mvn_state *s = onyxi_malloc(sizeof *s);
    if (!s) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory");
    memset(s, 0, sizeof *s);
    x->state = s;
    ONYXI_CHECK(mvn_axes(x->node, t->rank, &s->mask, x->err));
    s->groups = 1;
    for (int i = 0; i < t->rank; i++)
        if (!(s->mask & (1u << i))) s->groups *= t->dims[i];
    size_t n = (size_t)(s->groups > 0 ? s->groups : 1);
    s->sum = onyxi_malloc(2 * n * sizeof(double));
    if (!s->sum) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for %zu groups", n);
    s->sumsq = s->sum + n;
    return ONYX_OK;
}

/* Group index of every element in order, computed incrementally (row-major odometer). */
#define MVN_WALK(BODY)                                                                             \
    do {                                                                                           \
        int64_t idx[ONYXI_MAX_RANK] = {0};                                                         \
        int64_t g = 0;                                                                             \
        for (int64_t e = 0; e < count; e++) {                                                      \
            BODY;                                                                                  \
            for (int d = t->rank - 1; d >= 0; d--) {                                               \
                int kept = !(s->mask & (1u << d));                                                 \
                if (kept) g += gstride[d];                                                         \
                if (++idx[d] < t->dims[d]) break;                                                  \
                if (kept) g -= gstride[d] * t->dims[d];                                            \
                idx[d] = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static onyx_status mvn_run_ref(onyxi_exec *x) {
    mvn_state *s = x->state;
    const onyx_tensor *t = x->in[0];
    const int64_t count = elems(t);
    if (count <= 0) return ONYX_OK;
    int64_t gstride[ONYXI_MAX_RANK];
    int64_t st = 1;
    for (int d = t->rank - 1; d >= 0; d--) {
        gstride[d] = st;
        if (!(s->mask & (1u << d))) st *= t->dims[d];
    }
    const int64_t per = count / s->groups;
    const float *xs = t->data;
    float *ys = x->out[0]->data;
    for (int64_t i = 0; i < s->groups; i++)
        s->sum[i] = s->sumsq[i] = 0;
    MVN_WALK((s->sum[g] += xs[e], s->sumsq[g] += (double)xs[e] * xs[e]));
    for (int64_t i = 0; i < s->groups; i++) {
        double mean = s->sum[i] / (double)per, var = s->sumsq[i] / (double)per - mean * mean;
        s->sum[i] = mean;
        s->sumsq[i] = sqrt(var > 0 ? var : 0) + 1e-9;
    }
    MVN_WALK(ys[e] = (float)((xs[e] - s->sum[g]) / s->sumsq[g]));
    return ONYX_OK;
}

/* ---- exports ---- */

const onyxi_attr_spec onyxi_trilu_attrs[] = {{"upper", ONYXI_ATTR_INT}, {NULL, 0}};
const onyxi_attr_spec onyxi_cum_sum_attrs[] = {
    {"exclusive", ONYXI_ATTR_INT}, {"reverse", ONYXI_ATTR_INT}, {NULL, 0}};
const onyxi_attr_spec onyxi_hardmax_attrs[] = {{"axis", ONYXI_ATTR_INT}, {NULL, 0}};
const onyxi_attr_spec onyxi_one_hot_attrs[] = {{"axis", ONYXI_ATTR_INT}, {NULL, 0}};
const onyxi_attr_spec onyxi_top_k_attrs[] = {{"axis", ONYXI_ATTR_INT},
                                             {"k", ONYXI_ATTR_INT},
                                             {"largest", ONYXI_ATTR_INT},
                                             {"sorted", ONYXI_ATTR_INT},
                                             {NULL, 0}};
const onyxi_attr_spec onyxi_depth_to_space_attrs[] = {
    {"blocksize", ONYXI_ATTR_INT}, {"mode", ONYXI_ATTR_STRING}, {NULL, 0}};
const onyxi_attr_spec onyxi_space_to_depth_attrs[] = {{"blocksize", ONYXI_ATTR_INT}, {NULL, 0}};
const onyxi_attr_spec onyxi_compress_attrs[] = {{"axis", ONYXI_ATTR_INT}, {NULL, 0}};
const onyxi_attr_spec onyxi_mvn_attrs[] = {{"axes", ONYXI_ATTR_INTS}, {NULL, 0}};

static const onyxi_impl trilu_ref = {"ref", NULL, trilu_run_ref, NULL};
static const onyxi_impl cum_sum_ref = {"ref", NULL, cum_sum_run_ref, NULL};
static const onyxi_impl hardmax_ref = {"ref", NULL, hardmax_run_ref, NULL};
static const onyxi_impl one_hot_ref = {"ref", NULL, one_hot_run_ref, NULL};
static const onyxi_impl top_k_ref = {"ref", top_k_init_ref, top_k_run_ref, state_fini};
static const onyxi_impl depth_to_space_ref = {"ref", NULL, depth_to_space_run_ref, NULL};
static const onyxi_impl space_to_depth_ref = {"ref", NULL, space_to_depth_run_ref, NULL};
static const onyxi_impl compress_ref = {"ref", NULL, compress_run_ref, NULL};
static const onyxi_impl mvn_ref = {"ref", mvn_init_ref, mvn_run_ref, mvn_fini};
const onyxi_impl *const onyxi_trilu_impls[] = {&trilu_ref, NULL};
const onyxi_impl *const onyxi_cum_sum_impls[] = {&cum_sum_ref, NULL};
const onyxi_impl *const onyxi_hardmax_impls[] = {&hardmax_ref, NULL};
const onyxi_impl *const onyxi_one_hot_impls[] = {&one_hot_ref, NULL};
const onyxi_impl *const onyxi_top_k_impls[] = {&top_k_ref, NULL};
const onyxi_impl *const onyxi_depth_to_space_impls[] = {&depth_to_space_ref, NULL};
const onyxi_impl *const onyxi_space_to_depth_impls[] = {&space_to_depth_ref, NULL};
const onyxi_impl *const onyxi_compress_impls[] = {&compress_ref, NULL};
const onyxi_impl *const onyxi_mvn_impls[] = {&mvn_ref, NULL};
