/*
 * Ops that make a tensor from scalars and shapes rather than from an input tensor's data:
 *   ConstantOfShape 9: the `value` attribute (a one-element tensor, default float32 0) repeated
 *     over the shape given by input 0 (int64 1-D; an empty shape gives a scalar);
 *   Range 11: start, start + delta, ... up to but excluding limit, for float32/float64/int16/
 *     int32/int64 scalars; count = max(ceil((limit - start) / delta), 0).
 * Both output shapes come from input DATA, so that data must be known when the session plans
 * (an initializer, a folded constant or a bound graph input).
 */
#include <math.h>
#include <string.h>

#include "ops.h"

static const char *in_name(const onyx_tensor *t) {
    return t && t->name ? t->name : "";
}

/* ---- ConstantOfShape ---- */

const onyxi_attr_spec onyxi_constant_of_shape_attrs[] = {{"value", ONYXI_ATTR_TENSOR}, {NULL, 0}};

onyx_status onyxi_constant_of_shape_check(const onyxi_node *n, onyxi_err *e) {
    const onyxi_attr *a = onyxi_attr_find(n, "value");
    if (!a) return ONYX_OK;
    const onyx_tensor *t = a->t;
    if (!t) return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'value' holds no tensor");
    if (t->dtype == ONYX_DTYPE_STRING)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "attribute 'value' is a string tensor");
    size_t es = onyxi_dtype_size(t->dtype);
    if (es == 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'value' has dtype %s",
                          onyx_dtype_name(t->dtype));
    if (t->rank < 0 || t->rank > ONYXI_MAX_RANK || onyxi_shape_count(t->rank, t->dims) != 1)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'value' must hold exactly one element");
    if (!t->data || t->nbytes < es)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'value' holds %zu bytes, expected %zu",
                          t->data ? t->nbytes : (size_t)0, es);
    return ONYX_OK;
}

/* The value tensor, or NULL for the default float32 0. */
static const onyx_tensor *cos_value(const onyxi_node *n) {
    const onyxi_attr *a = onyxi_attr_find(n, "value");
    return a && a->type == ONYXI_ATTR_TENSOR ? a->t : NULL;
}

onyx_status onyxi_constant_of_shape_infer(onyxi_infer *c) {
    const onyx_tensor *s = c->in[0];
    if (!s) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input 0 (shape) is absent");
    ONYXI_CHECK(onyxi_infer_expect_dtype(c, 0, ONYX_DTYPE_INT64));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    if (s->rank != 1)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 0 ('%s', the shape) has rank %d, expected 1", in_name(s), s->rank);
    if (s->dims[0] > ONYXI_MAX_RANK)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 0 ('%s') asks for rank %lld; onyx supports up to %d", in_name(s),
                          (long long)s->dims[0], ONYXI_MAX_RANK);
    int rank = (int)s->dims[0];
    const int64_t *shape = onyxi_infer_data(c, 0);
    if (!shape && rank > 0) return onyxi_infer_needs_data(c, 0);
    int64_t dims[ONYXI_MAX_RANK];
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input 0 ('%s') has %lld at position %d; dims must be >= 0",
                              in_name(s), (long long)shape[i], i);
        dims[i] = shape[i];
    }
    const onyx_tensor *v = cos_value(c->node);
    onyx_dtype dt = v ? v->dtype : ONYX_DTYPE_FLOAT32;
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(dt, rank, dims, &nbytes, c->err));
    onyxi_infer_set(c, 0, dt, rank, dims);
    return ONYX_OK;
}

/* ---- Range ---- */

const onyxi_attr_spec onyxi_range_attrs[] = {{NULL, 0}};

onyx_status onyxi_range_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

static int range_dtype_ok(onyx_dtype dt) {
    return dt == ONYX_DTYPE_FLOAT32 || dt == ONYX_DTYPE_FLOAT64 || dt == ONYX_DTYPE_INT16 ||
           dt == ONYX_DTYPE_INT32 || dt == ONYX_DTYPE_INT64;
}

/* Element count of an integer range, exact over all of int64 (unsigned differences). */
static onyx_status range_count_int(int64_t start, int64_t limit, int64_t delta, int64_t *out,
                                   onyxi_err *e) {
    uint64_t span, step;
    if (delta > 0) {
        if (limit <= start) return *out = 0, ONYX_OK;
        span = (uint64_t)limit - (uint64_t)start;
        step = (uint64_t)delta;
    } else {
        if (limit >= start) return *out = 0, ONYX_OK;
        span = (uint64_t)start - (uint64_t)limit;
        step = 0 - (uint64_t)delta;
    }
    uint64_t n = span / step + (span % step != 0);
    if (n > (uint64_t)INT64_MAX)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "the range has too many elements");
    *out = (int64_t)n;
    return ONYX_OK;
}

/*
 * Float ranges follow ONNX Runtime: the difference limit - start is taken in the inputs' type,
 * the division and ceil in double.
 */
static onyx_status range_count_float(double diff, double delta, int64_t *out, onyxi_err *e) {
    double n = ceil(diff / delta);
    if (isnan(n) || n >= 9.2e18)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "the range (limit - start = %g, delta %g) has no finite element count",
                          diff, delta);
    *out = n > 0 ? (int64_t)n : 0;
    return ONYX_OK;
}

/* The element count of Range on the scalars in[0..2] (their data must be present). */
static onyx_status range_count(const onyx_tensor *const *in, int64_t *out, onyxi_err *e) {
    onyx_dtype dt = in[0]->dtype;
    if (dt == ONYX_DTYPE_FLOAT32 || dt == ONYX_DTYPE_FLOAT64) {
        double delta = onyxi_read_double(in[2], 0);
        if (delta == 0.0)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "input 2 ('%s', delta) is 0", in_name(in[2]));
        double diff =
            dt == ONYX_DTYPE_FLOAT32
                ? (double)(((const float *)in[1]->data)[0] - ((const float *)in[0]->data)[0])
                : onyxi_read_double(in[1], 0) - onyxi_read_double(in[0], 0);
        return range_count_float(diff, delta, out, e);
    }
    int64_t delta = onyxi_read_int(in[2], 0);
    if (delta == 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "input 2 ('%s', delta) is 0", in_name(in[2]));
    return range_count_int(onyxi_read_int(in[0], 0), onyxi_read_int(in[1], 0), delta, out, e);
}

onyx_status onyxi_range_infer(onyxi_infer *c) {
    static const char *names[3] = {"start", "limit", "delta"};
    for (int k = 0; k < 3; k++) {
        const onyx_tensor *t = c->in[k];
        if (!t)
            return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input %d (%s) is absent", k, names[k]);
        if (k == 0 && !range_dtype_ok(t->dtype))
            return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                              "input 0 ('%s', start) has dtype %s; Range supports float32, "
                              "float64, int16, int32 and int64",
                              in_name(t), onyx_dtype_name(t->dtype));
        ONYXI_CHECK(onyxi_infer_expect_dtype(c, k, c->in[0]->dtype));
        ONYXI_CHECK(onyxi_infer_expect_known(c, k));
        /* ONNX says scalar; a one-element 1-D tensor is accepted too */
        if (t->rank > 1 || onyxi_shape_count(t->rank, t->dims) != 1)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input %d ('%s', %s) must be a scalar, got rank %d", k, in_name(t),
                              names[k], t->rank);
    }
    for (int k = 0; k < 3; k++)
        if (!onyxi_infer_data(c, k)) return onyxi_infer_needs_data(c, k);
    int64_t n;
    ONYXI_CHECK(range_count(c->in, &n, c->err));
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(c->in[0]->dtype, 1, &n, &nbytes, c->err));
    onyxi_infer_set(c, 0, c->in[0]->dtype, 1, &n);
    return ONYX_OK;
}

/* ---- ref ---- */

static onyx_status constant_of_shape_run_ref(onyxi_exec *x) {
    onyx_tensor *y = x->out[0];
    if (y->nbytes == 0) return ONYX_OK;
    const onyx_tensor *v = cos_value(x->node);
    if (!v) {
        memset(y->data, 0, y->nbytes); /* default: float32 0, all bits clear */
        return ONYX_OK;
    }
    size_t es = onyxi_dtype_size(v->dtype);
    const unsigned char *val = v->data;
    unsigned char *p = y->data;
    int zero = 1;
    for (size_t b = 0; b < es; b++)
        zero &= val[b] == 0;
    if (zero || es == 1) {
        memset(p, val[0], y->nbytes);
        return ONYX_OK;
    }
    for (size_t i = 0; i + es <= y->nbytes; i += es)
        memcpy(p + i, val, es);
    return ONYX_OK;
}

/* Two's-complement wrap of an unsigned sum back to int64 (the true value is in range). */
static int64_t to_int64(uint64_t v) {
    return v <= (uint64_t)INT64_MAX ? (int64_t)v : -(int64_t)(UINT64_MAX - v) - 1;
}

static onyx_status range_run_ref(onyxi_exec *x) {
    onyx_tensor *y = x->out[0];
    int64_t n = y->dims[0];
    const onyx_tensor *const *in = x->in;
    switch (y->dtype) {
    case ONYX_DTYPE_FLOAT32: {
        double s = onyxi_read_double(in[0], 0), d = onyxi_read_double(in[2], 0);
        float *p = y->data;
        for (int64_t i = 0; i < n; i++)
            p[i] = (float)(s + (double)i * d);
        return ONYX_OK;
    }
    case ONYX_DTYPE_FLOAT64: {
        double s = onyxi_read_double(in[0], 0), d = onyxi_read_double(in[2], 0);
        double *p = y->data;
        for (int64_t i = 0; i < n; i++)
            p[i] = s + (double)i * d;
        return ONYX_OK;
    }
    default:
        break;
    }
    /* start + i * delta stays between start and limit, but i * delta alone may not fit */
    uint64_t s = (uint64_t)onyxi_read_int(in[0], 0), d = (uint64_t)onyxi_read_int(in[2], 0);
    for (int64_t i = 0; i < n; i++) {
        int64_t v = to_int64(s + (uint64_t)i * d);
        switch (y->dtype) {
        case ONYX_DTYPE_INT64:
            ((int64_t *)y->data)[i] = v;
            break;
        case ONYX_DTYPE_INT32:
            ((int32_t *)y->data)[i] = (int32_t)v;
            break;
        case ONYX_DTYPE_INT16:
            ((int16_t *)y->data)[i] = (int16_t)v;
            break;
        default:
            return onyxi_fail(x->err, ONYX_INTERNAL, "Range on dtype %s",
                              onyx_dtype_name(y->dtype));
        }
    }
    return ONYX_OK;
}

static const onyxi_impl constant_of_shape_ref = {"ref", NULL, constant_of_shape_run_ref, NULL};
static const onyxi_impl range_ref = {"ref", NULL, range_run_ref, NULL};
const onyxi_impl *const onyxi_constant_of_shape_impls[] = {&constant_of_shape_ref, NULL};
const onyxi_impl *const onyxi_range_impls[] = {&range_ref, NULL};
