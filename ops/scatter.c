/*
 * Index-driven gathers and scatters, reference kernels only:
 *   ScatterElements-11/13/16/18, ScatterND-11/13/16/18 (reduction none for every fixed-size
 *   dtype; add/mul from 16 and max/min from 18 for float32/64 and int32/64; duplicate indices
 *   apply in index order, so with "none" the last write wins, as in the ONNX reference),
 *   GatherND-11/12/13 (batch_dims from 12), and the deprecated Scatter-9/10 as ScatterElements.
 * Indices are int32 or int64; negative ones count from the end of their axis, and an index
 * outside [-dim, dim) fails the run with ONYX_INVALID_ARG instead of touching memory.
 */
#include <string.h>

#include "infer_util.h"
#include "ops.h"

static int64_t elems(const onyx_tensor *t) {
    return onyxi_shape_count(t->rank, t->dims);
}

/* Known shapes for inputs 0..n-1, a fixed-size dtype for input 0 and an integer index input. */
static onyx_status expect_inputs(onyxi_infer *c, int n, int index_input) {
    for (int k = 0; k < n; k++)
        ONYXI_CHECK(onyxi_infer_expect_known(c, k));
    if (onyxi_dtype_size(c->in[0]->dtype) == 0)
        return onyxi_refuse_dtype(c, 0, "a fixed-size dtype");
    onyx_dtype it = c->in[index_input]->dtype;
    if (it != ONYX_DTYPE_INT64 && it != ONYX_DTYPE_INT32)
        return onyxi_refuse_dtype(c, index_input, "int32 or int64");
    return ONYX_OK;
}

/* Index value v for an axis of length dim, normalized into [0, dim); ONYX_INVALID_ARG outside. */
static onyx_status norm_index(int64_t v, int64_t dim, int64_t *out, const onyx_tensor *ind,
                              onyxi_err *e) {
    if (v < -dim || v >= dim)
        return onyxi_fail(e, ONYX_INVALID_ARG,
                          "input 1 ('%s') holds index %lld, outside [%lld, %lld)",
                          onyxi_tensor_name(ind), (long long)v, (long long)-dim, (long long)dim);
    *out = v < 0 ? v + dim : v;
    return ONYX_OK;
}

/* ---- reductions ---- */

typedef enum { R_NONE, R_ADD, R_MUL, R_MAX, R_MIN } red_kind;

static red_kind reduction(const onyxi_node *n) {
    const char *r = onyxi_attr_string(n, "reduction", "none");
    return strcmp(r, "add") == 0   ? R_ADD
           : strcmp(r, "mul") == 0 ? R_MUL
           : strcmp(r, "max") == 0 ? R_MAX
           : strcmp(r, "min") == 0 ? R_MIN
                                   : R_NONE;
}

/* Opset 16 added 'reduction' (none, add, mul); 18 added max and min. */
static onyx_status check_reduction(const onyxi_node *n, onyxi_err *e) {
    const char *r = onyxi_attr_string(n, "reduction", NULL);
    if (!r) return ONYX_OK;
    if (n->opset < 16)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'reduction' needs opset 16 (model "
                          "has %lld)",
                          (long long)n->opset);
    int ok = strcmp(r, "none") == 0 || strcmp(r, "add") == 0 || strcmp(r, "mul") == 0;
    int later = strcmp(r, "max") == 0 || strcmp(r, "min") == 0;
    if (later && n->opset < 18)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'reduction' '%s' needs opset 18", r);
    if (!ok && !later)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'reduction' is '%s', expected none, add, mul, max or min", r);
    return ONYX_OK;
}

static int arith_dtype(onyx_dtype dt) {
    return dt == ONYX_DTYPE_FLOAT32 || dt == ONYX_DTYPE_FLOAT64 || dt == ONYX_DTYPE_INT32 ||
           dt == ONYX_DTYPE_INT64;
}

static onyx_status expect_reducible(onyxi_infer *c) {
    if (reduction(c->node) != R_NONE && !arith_dtype(c->in[0]->dtype))
        return onyxi_refuse_dtype(c, 0, "float32, float64, int32 or int64 with a reduction");
    return ONYX_OK;
}

#define RED_LOOP(T, ADD, MUL)                                                                      \
    do {                                                                                           \
        T *d = dst;                                                                                \
        const T *s = src;                                                                          \
        for (int64_t i = 0; i < n; i++)                                                            \
            switch (r) {                                                                           \
            case R_ADD:                                                                            \
                d[i] = ADD(d[i], s[i]);                                                            \
                break;                                                                             \
            case R_MUL:                                                                            \
                d[i] = MUL(d[i], s[i]);                                                            \
                break;                                                                             \
            case R_MAX:                                                                            \
                d[i] = s[i] > d[i] ? s[i] : d[i];                                                  \
                break;                                                                             \
            default:                                                                               \
                d[i] = s[i] < d[i] ? s[i] : d[i];                                                  \
            }                                                                                      \
    } while (0)

#define F_ADD(a, b) ((a) + (b))
#define F_MUL(a, b) ((a) * (b))
/* integers wrap instead of overflowing */
#define I32_ADD(a, b) ((int32_t)((uint32_t)(a) + (uint32_t)(b)))
#define I32_MUL(a, b) ((int32_t)((uint32_t)(a) * (uint32_t)(b)))
#define I64_ADD(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define I64_MUL(a, b) ((int64_t)((uint64_t)(a) * (uint64_t)(b)))

/* dst[0..n) = dst op src, element-wise. */
static void combine(onyx_dtype dt, red_kind r, void *dst, const void *src, int64_t n) {
    if (r == R_NONE) {
        memcpy(dst, src, (size_t)n * onyxi_dtype_size(dt));
        return;
    }
    switch (dt) {
    case ONYX_DTYPE_FLOAT32:
        RED_LOOP(float, F_ADD, F_MUL);
        break;
    case ONYX_DTYPE_FLOAT64:
        RED_LOOP(double, F_ADD, F_MUL);
        break;
    case ONYX_DTYPE_INT32:
        RED_LOOP(int32_t, I32_ADD, I32_MUL);
        break;
    case ONYX_DTYPE_INT64:
        RED_LOOP(int64_t, I64_ADD, I64_MUL);
        break;
    default:
        break; /* infer refused it */
    }
}

/* y starts as a copy of the data input (unless they share memory). */
static void copy_data(onyxi_exec *x) {
    if (x->out[0]->data != x->in[0]->data)
        memcpy(x->out[0]->data, x->in[0]->data,
               x->in[0]->nbytes ? x->in[0]->nbytes
                                : (size_t)elems(x->in[0]) * onyxi_dtype_size(x->in[0]->dtype));
}

static void strides_of(const onyx_tensor *t, int64_t *stride) {
    int64_t st = 1;
    for (int i = t->rank - 1; i >= 0; i--) {
        stride[i] = st;
        st *= t->dims[i];
    }
}

/* ---- ScatterElements ---- */

onyx_status onyxi_scatter_elements_check(const onyxi_node *n, onyxi_err *e) {
    /* the table's Scatter-9 row shares this op; ONNX removed Scatter in opset 11 */
    if (strcmp(n->op_type, "Scatter") == 0 && n->opset >= 11)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "Scatter was removed in opset 11 (model has %lld); use ScatterElements",
                          (long long)n->opset);
    return check_reduction(n, e);
}

onyx_status onyxi_scatter_elements_infer(onyxi_infer *c) {
    ONYXI_CHECK(expect_inputs(c, 3, 1));
    const onyx_tensor *d = c->in[0], *ind = c->in[1], *u = c->in[2];
    ONYXI_CHECK(onyxi_infer_expect_dtype(c, 2, d->dtype));
    ONYXI_CHECK(expect_reducible(c));
    int a;
    if (d->rank < 1)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "input 0 ('%s') is a scalar",
                          onyxi_tensor_name(d));
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(c->node, "axis", 0), d->rank, &a, c->err));
    if (ind->rank != d->rank || u->rank != d->rank)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "inputs 'data', 'indices', 'updates' have ranks %d, %d, %d; expected "
                          "equal",
                          d->rank, ind->rank, u->rank);
    for (int i = 0; i < d->rank; i++) {
        if (ind->dims[i] != u->dims[i])
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "inputs 1 ('%s') and 2 ('%s') differ on axis %d: %lld versus %lld",
                              onyxi_tensor_name(ind), onyxi_tensor_name(u), i,
                              (long long)ind->dims[i], (long long)u->dims[i]);
        if (i != a && ind->dims[i] > d->dims[i])
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input 1 ('%s') has %lld on axis %d, more than data's %lld",
                              onyxi_tensor_name(ind), (long long)ind->dims[i], i,
                              (long long)d->dims[i]);
    }
    onyxi_infer_set(c, 0, d->dtype, d->rank, d->dims);
    return ONYX_OK;
}

static onyx_status scatter_elements_run_ref(onyxi_exec *x) {
    const onyx_tensor *d = x->in[0], *ind = x->in[1], *u = x->in[2];
    int a;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(x->node, "axis", 0), d->rank, &a, x->err));
    const red_kind r = reduction(x->node);
    const size_t es = onyxi_dtype_size(d->dtype);
    int64_t dstride[ONYXI_MAX_RANK], idx[ONYXI_MAX_RANK] = {0};
    strides_of(d, dstride);
    copy_data(x);
    char *y = x->out[0]->data;
    const char *ud = u->data;
    const int64_t n = elems(ind);
    for (int64_t e = 0; e < n; e++) {
        int64_t j = 0;
        ONYXI_CHECK(norm_index(onyxi_read_int(ind, e), d->dims[a], &j, ind, x->err));
        int64_t off = 0;
        for (int i = 0; i < d->rank; i++)
            off += (i == a ? j : idx[i]) * dstride[i];
        combine(d->dtype, r, y + (size_t)off * es, ud + (size_t)e * es, 1);
        for (int i = ind->rank - 1; i >= 0; i--) {
            if (++idx[i] < ind->dims[i]) break;
            idx[i] = 0;
        }
    }
    return ONYX_OK;
}

/* ---- ScatterND and GatherND: index tuples addressing slices ---- */

/* Element offset of the slice addressed by the k-tuple at tup (indices of data dims
 * first..first+k-1, whose strides are stride[first..]). */
static onyx_status tuple_offset(const onyx_tensor *ind, int64_t tup, int k, const onyx_tensor *d,
                                int first, const int64_t *stride, int64_t *off, onyxi_err *e) {
    int64_t o = 0;
    for (int j = 0; j < k; j++) {
        int64_t v = 0;
        ONYXI_CHECK(norm_index(onyxi_read_int(ind, tup + j), d->dims[first + j], &v, ind, e));
        o += v * stride[first + j];
    }
    *off = o;
    return ONYX_OK;
}

onyx_status onyxi_scatter_nd_check(const onyxi_node *n, onyxi_err *e) {
    return check_reduction(n, e);
}

onyx_status onyxi_scatter_nd_infer(onyxi_infer *c) {
    ONYXI_CHECK(expect_inputs(c, 3, 1));
    const onyx_tensor *d = c->in[0], *ind = c->in[1], *u = c->in[2];
    ONYXI_CHECK(onyxi_infer_expect_dtype(c, 2, d->dtype));
    ONYXI_CHECK(expect_reducible(c));
    if (d->rank < 1 || ind->rank < 1)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "inputs 0 ('%s') and 1 ('%s') need rank >= 1", onyxi_tensor_name(d),
                          onyxi_tensor_name(ind));
    const int q = ind->rank;
    const int64_t k = ind->dims[q - 1];
    if (k < 1 || k > d->rank)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 1 ('%s') has tuples of %lld indices, expected 1 to %d (data's "
                          "rank)",
                          onyxi_tensor_name(ind), (long long)k, d->rank);
    /* updates shape = indices.shape[:-1] + data.shape[k:] */
    int ok = u->rank == q - 1 + d->rank - (int)k;
    for (int i = 0; ok && i < u->rank; i++)
        ok = u->dims[i] == (i < q - 1 ? ind->dims[i] : d->dims[k + i - (q - 1)]);
    if (!ok) {
        char s0[160];
        onyxi_shape_str(u->rank, u->dims, s0, sizeof s0);
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 2 ('%s') has shape %s, expected indices.shape[:-1] + "
                          "data.shape[%lld:]",
                          onyxi_tensor_name(u), s0, (long long)k);
    }
    onyxi_infer_set(c, 0, d->dtype, d->rank, d->dims);
    return ONYX_OK;
}

static onyx_status scatter_nd_run_ref(onyxi_exec *x) {
    const onyx_tensor *d = x->in[0], *ind = x->in[1];
    const red_kind r = reduction(x->node);
    const int k = (int)ind->dims[ind->rank - 1];
    const size_t es = onyxi_dtype_size(d->dtype);
    const int64_t slice = onyxi_dims_prod(d->dims, k, d->rank), tuples = elems(ind) / k;
    int64_t stride[ONYXI_MAX_RANK];
    strides_of(d, stride);
    copy_data(x);
    char *y = x->out[0]->data;
    const char *ud = x->in[2]->data;
    for (int64_t t = 0; t < tuples; t++) {
        int64_t off;
        ONYXI_CHECK(tuple_offset(ind, t * k, k, d, 0, stride, &off, x->err));
        combine(d->dtype, r, y + (size_t)off * es, ud + (size_t)(t * slice) * es, slice);
    }
    return ONYX_OK;
}

/* ---- GatherND ---- */

onyx_status onyxi_gather_nd_check(const onyxi_node *n, onyxi_err *e) {
    int64_t b = onyxi_attr_int(n, "batch_dims", 0);
    if (onyxi_attr_find(n, "batch_dims") && n->opset < 12)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'batch_dims' needs opset 12");
    if (b < 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'batch_dims' is %lld, expected >= 0",
                          (long long)b);
    return ONYX_OK;
}

onyx_status onyxi_gather_nd_infer(onyxi_infer *c) {
    ONYXI_CHECK(expect_inputs(c, 2, 1));
    const onyx_tensor *d = c->in[0], *ind = c->in[1];
    const int64_t b = onyxi_attr_int(c->node, "batch_dims", 0);
    const int r = d->rank, q = ind->rank;
    if (r < 1 || q < 1 || b >= r || b >= q)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "data rank %d and indices rank %d must both exceed batch_dims %lld", r, q,
                          (long long)b);
    const int64_t k = ind->dims[q - 1];
    if (k < 1 || k > r - b)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 1 ('%s') has tuples of %lld indices, expected 1 to %lld",
                          onyxi_tensor_name(ind), (long long)k, (long long)(r - b));
    for (int i = 0; i < b; i++)
        if (d->dims[i] != ind->dims[i])
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "batch axis %d: data has %lld, indices %lld", i,
                              (long long)d->dims[i], (long long)ind->dims[i]);
    const int orank = q - 1 + r - (int)b - (int)k;
    if (orank > ONYXI_MAX_RANK)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED, "output rank %d exceeds %d", orank,
                          ONYXI_MAX_RANK);
    int64_t dims[ONYXI_MAX_RANK];
    for (int i = 0; i < orank; i++)
        dims[i] = i < q - 1 ? ind->dims[i] : d->dims[b + k + i - (q - 1)];
    onyxi_infer_set(c, 0, d->dtype, orank, dims);
    return ONYX_OK;
}

static onyx_status gather_nd_run_ref(onyxi_exec *x) {
    const onyx_tensor *d = x->in[0], *ind = x->in[1];
    const int b = (int)onyxi_attr_int(x->node, "batch_dims", 0);
    const int q = ind->rank, k = (int)ind->dims[q - 1];
    const size_t es = onyxi_dtype_size(d->dtype);
    const int64_t batches = onyxi_dims_prod(d->dims, 0, b);
    const int64_t per_batch = onyxi_dims_prod(ind->dims, b, q - 1); /* tuples per batch */
    const int64_t slice = onyxi_dims_prod(d->dims, b + k, d->rank);
    const int64_t dbatch = onyxi_dims_prod(d->dims, b, d->rank);
    int64_t stride[ONYXI_MAX_RANK];
    strides_of(d, stride);
    char *y = x->out[0]->data;
    const char *src = d->data;
    for (int64_t bi = 0; bi < batches; bi++)
        for (int64_t t = 0; t < per_batch; t++) {
            int64_t off;
            ONYXI_CHECK(tuple_offset(ind, (bi * per_batch + t) * k, k, d, b, stride, &off, x->err));
            memcpy(y, src + (size_t)(bi * dbatch + off) * es, (size_t)slice * es);
            y += (size_t)slice * es;
        }
    return ONYX_OK;
}

/* ---- exports ---- */

const onyxi_attr_spec onyxi_scatter_elements_attrs[] = {
    {"axis", ONYXI_ATTR_INT}, {"reduction", ONYXI_ATTR_STRING}, {NULL, 0}};
const onyxi_attr_spec onyxi_scatter_nd_attrs[] = {{"reduction", ONYXI_ATTR_STRING}, {NULL, 0}};
const onyxi_attr_spec onyxi_gather_nd_attrs[] = {{"batch_dims", ONYXI_ATTR_INT}, {NULL, 0}};

static const onyxi_impl scatter_elements_ref = {"ref", NULL, scatter_elements_run_ref, NULL};
static const onyxi_impl scatter_nd_ref = {"ref", NULL, scatter_nd_run_ref, NULL};
static const onyxi_impl gather_nd_ref = {"ref", NULL, gather_nd_run_ref, NULL};
const onyxi_impl *const onyxi_scatter_elements_impls[] = {&scatter_elements_ref, NULL};
const onyxi_impl *const onyxi_scatter_nd_impls[] = {&scatter_nd_ref, NULL};
const onyxi_impl *const onyxi_gather_nd_impls[] = {&gather_nd_ref, NULL};
