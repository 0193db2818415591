/*
 * Unary element-wise ops (the binary ones are in binary.c, Cast in cast.c).
 * float32 only: Sigmoid-6/13, Sqrt/Exp/Log/Reciprocal/Tanh-6/13, Erf-9/13, LeakyRelu-6/16,
 *   Elu-6, Selu-6, Softplus-1, HardSigmoid-6, HardSwish-14 (float16/float64/bfloat16 are
 *   refused with ONYX_UNSUPPORTED; later versions only added those types).
 * Several dtypes: Neg-6/13 (float32/64, int8..int64), Abs-6/13 (float32/64, all ints),
 *   Relu-6/13/14 (float32/64; int8..int64 from 14), Not-1 (bool),
 *   Clip-6 (min/max attributes), Clip-11/12/13 (optional scalar inputs min/max, possibly
 *   empty; float32/64, and every int type from 12).
 * Every op here is registered ONYXI_OP_INPLACE_OK: each element is read before the same
 * element of the output is written, so y may be x.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "elementwise.h"
#include "ops.h"
#include "vmath.h"

/* ---- shape inference ---- */

/* Fails for dtypes outside the op's list: ONYX_UNSUPPORTED for the ones ONNX allows but onyx
 * does not run (other float formats, strings, complex), ONYX_TYPE_MISMATCH otherwise. */
static onyx_status dtype_refused(onyxi_infer *c, onyx_dtype dt, const char *supported) {
    const onyx_tensor *t = c->in[0];
    onyx_status code = dt == ONYX_DTYPE_FLOAT16 || dt == ONYX_DTYPE_BFLOAT16 ||
                               dt == ONYX_DTYPE_FLOAT64 || dt == ONYX_DTYPE_STRING ||
                               dt == ONYX_DTYPE_COMPLEX64 || dt == ONYX_DTYPE_COMPLEX128
                           ? ONYX_UNSUPPORTED
                           : ONYX_TYPE_MISMATCH;
    return onyxi_fail(c->err, code, "input 0 ('%s') has dtype %s, expected %s",
                      t->name ? t->name : "", onyx_dtype_name(dt), supported);
}

/* Output = input 0's dtype and shape. */
static onyx_status infer_same(onyxi_infer *c) {
    const onyx_tensor *t = c->in[0];
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    onyxi_infer_set(c, 0, t->dtype, t->rank, t->dims);
    return ONYX_OK;
}

static onyx_status infer_float_unary(onyxi_infer *c) {
    const onyx_tensor *X = c->in[0];
    if (X->dtype == ONYX_DTYPE_FLOAT16 || X->dtype == ONYX_DTYPE_FLOAT64 ||
        X->dtype == ONYX_DTYPE_BFLOAT16)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 'X' has dtype %s; only float32 is supported",
                          onyx_dtype_name(X->dtype));
    ONYXI_CHECK(onyxi_infer_expect_dtype(c, 0, ONYX_DTYPE_FLOAT32));
    return infer_same(c);
}

static int is_signed_int(onyx_dtype dt) {
    return dt == ONYX_DTYPE_INT8 || dt == ONYX_DTYPE_INT16 || dt == ONYX_DTYPE_INT32 ||
           dt == ONYX_DTYPE_INT64;
}

static int is_unsigned_int(onyx_dtype dt) {
    return dt == ONYX_DTYPE_UINT8 || dt == ONYX_DTYPE_UINT16 || dt == ONYX_DTYPE_UINT32 ||
           dt == ONYX_DTYPE_UINT64;
}

static int is_float(onyx_dtype dt) {
    return dt == ONYX_DTYPE_FLOAT32 || dt == ONYX_DTYPE_FLOAT64;
}

static int64_t elems(const onyx_tensor *t) {
    return onyxi_shape_count(t->rank, t->dims);
}

/* ---- float32 activations ---- */

/* The run, impl table, check and infer exports of a float32 op whose element v maps to EXPR.
 * SETUP reads the attributes once per run. DNNL is `&onyxi_eltwise_dnnl,` for the ops oneDNN
 * runs, else empty. */
#define FLOAT_UNARY(o, DNNL, SETUP, EXPR)                                                          \
    static onyx_status o##_run_ref(onyxi_exec *x) {                                                \
        const float *xd = x->in[0]->data;                                                          \
        float *yd = x->out[0]->data;                                                               \
        const int64_t n = elems(x->in[0]);                                                         \
        SETUP;                                                                                     \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const float v = xd[i];                                                                 \
            yd[i] = (EXPR);                                                                        \
        }                                                                                          \
        return ONYX_OK;                                                                            \
    }                                                                                              \
    static const onyxi_impl o##_ref = {"ref", NULL, o##_run_ref, NULL};                            \
    const onyxi_impl *const onyxi_##o##_impls[] = {DNNL &o##_ref, NULL};                           \
    onyx_status onyxi_##o##_check(const onyxi_node *n, onyxi_err *e) {                             \
        (void)n;                                                                                   \
        (void)e;                                                                                   \
        return ONYX_OK;                                                                            \
    }                                                                                              \
    onyx_status onyxi_##o##_infer(onyxi_infer *c) {                                                \
        return infer_float_unary(c);                                                               \
    }

#define ATTR(x, name, def) const float name = onyxi_attr_float((x)->node, #name, def)
#define NO_SETUP (void)0
#define DNNL &onyxi_eltwise_dnnl,

/* 1 / (1 + e^-x) overflows e^-x for x << 0 (harmless, but inf arithmetic), so negative x
 * uses the equal e^x / (1 + e^x), whose e^x only underflows to 0. NaN takes the second
 * branch and stays NaN; -inf gives 0 and +inf gives 1. */
static inline float sigmoidf(float v) {
    if (v >= 0.0f) return 1.0f / (1.0f + expf(-v));
    float ev = expf(v);
    return ev / (1.0f + ev);
}

/* log(1 + e^x) without overflow for large x; NaN stays NaN. */
static inline float softplusf(float v) {
    return v > 0.0f ? v + log1pf(expf(-v)) : log1pf(expf(v));
}

/* max(0, min(1, a*v + b)); NaN stays NaN (comparisons with NaN are false) */
static inline float hard_sigmoidf(float v, float a, float b) {
    float t = a * v + b;
    return t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
}

/* `v < 0 ? .. : v` keeps NaN as NaN, as the numpy references (np.clip, np.where) do */
FLOAT_UNARY(sigmoid, DNNL, NO_SETUP, sigmoidf(v))
FLOAT_UNARY(sqrt, DNNL, NO_SETUP, sqrtf(v))
FLOAT_UNARY(exp, DNNL, NO_SETUP, expf(v))
FLOAT_UNARY(log, , NO_SETUP, logf(v))
FLOAT_UNARY(reciprocal, , NO_SETUP, 1.0f / v)
FLOAT_UNARY(tanh, DNNL, NO_SETUP, tanhf(v))
FLOAT_UNARY(leaky_relu, DNNL, ATTR(x, alpha, 0.01f), v < 0.0f ? alpha * v : v)
FLOAT_UNARY(elu, DNNL, ATTR(x, alpha, 1.0f), v < 0.0f ? alpha * expm1f(v) : v)
FLOAT_UNARY(selu, , ATTR(x, alpha, 1.67326319217681884765625f);
            ATTR(x, gamma, 1.05070102214813232421875f),
            v <= 0.0f ? gamma * alpha * expm1f(v) : gamma * v)
FLOAT_UNARY(softplus, , NO_SETUP, softplusf(v))
FLOAT_UNARY(hard_sigmoid, DNNL, ATTR(x, alpha, 0.2f); ATTR(x, beta, 0.5f),
            hard_sigmoidf(v, alpha, beta))
/* HardSwish-14: x * HardSigmoid(x) with alpha = 1/6, beta = 0.5 */
FLOAT_UNARY(hard_swish, DNNL, NO_SETUP, v *hard_sigmoidf(v, 1.0f / 6.0f, 0.5f))

/* Erf: vmath.c's vectorized erf (oneDNN 2.6 has erf only inside gelu_erf), threads splitting
 * blocks. Each element's value does not depend on the split. */
static onyx_status erf_run_ref(onyxi_exec *x) {
    const float *xd = x->in[0]->data;
    float *yd = x->out[0]->data;
    const int64_t n = elems(x->in[0]), block = 8192, blocks = (n + block - 1) / block;
    const int threads = x->num_threads;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && blocks > 1)
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t i = b * block;
        onyxi_erf_f32(xd + i, yd + i, n - i < block ? n - i : block);
    }
    return ONYX_OK;
}
static const onyxi_impl erf_ref = {"ref", NULL, erf_run_ref, NULL};
const onyxi_impl *const onyxi_erf_impls[] = {&erf_ref, NULL};
onyx_status onyxi_erf_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}
onyx_status onyxi_erf_infer(onyxi_infer *c) {
    return infer_float_unary(c);
}

const onyxi_attr_spec onyxi_sigmoid_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_sqrt_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_exp_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_log_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_reciprocal_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_tanh_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_erf_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_leaky_relu_attrs[] = {{"alpha", ONYXI_ATTR_FLOAT}, {NULL, 0}};
const onyxi_attr_spec onyxi_elu_attrs[] = {{"alpha", ONYXI_ATTR_FLOAT}, {NULL, 0}};
const onyxi_attr_spec onyxi_selu_attrs[] = {
    {"alpha", ONYXI_ATTR_FLOAT}, {"gamma", ONYXI_ATTR_FLOAT}, {NULL, 0}};
const onyxi_attr_spec onyxi_softplus_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_hard_sigmoid_attrs[] = {
    {"alpha", ONYXI_ATTR_FLOAT}, {"beta", ONYXI_ATTR_FLOAT}, {NULL, 0}};
const onyxi_attr_spec onyxi_hard_swish_attrs[] = {{NULL, 0}};

/* ---- Neg, Abs, Relu: several dtypes ---- */

/* Integer negation wraps (-INT_MIN = INT_MIN) instead of overflowing: computed in uint64_t,
 * whose low bits are the two's complement result for every width. */
#define WRAP_NEG(T, v) ((T)(0u - (uint64_t)(v)))

#define LOOP(T, EXPR)                                                                              \
    do {                                                                                           \
        const T *xd = x->in[0]->data;                                                              \
        T *yd = x->out[0]->data;                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T v = xd[i];                                                                     \
            yd[i] = (T)(EXPR);                                                                     \
        }                                                                                          \
    } while (0)

/* One LOOP per signed integer type (T is the C type inside EXPR). */
#define SIGNED_CASES(EXPR)                                                                         \
    case ONYX_DTYPE_INT8:                                                                          \
        LOOP(int8_t, EXPR(int8_t));                                                                \
        break;                                                                                     \
    case ONYX_DTYPE_INT16:                                                                         \
        LOOP(int16_t, EXPR(int16_t));                                                              \
        break;                                                                                     \
    case ONYX_DTYPE_INT32:                                                                         \
        LOOP(int32_t, EXPR(int32_t));                                                              \
        break;                                                                                     \
    case ONYX_DTYPE_INT64:                                                                         \
        LOOP(int64_t, EXPR(int64_t));                                                              \
        break;

#define NEG_INT(T) WRAP_NEG(T, v)
#define ABS_INT(T) (v < 0 ? WRAP_NEG(T, v) : v)
#define RELU_INT(T) (v < 0 ? 0 : v)

static onyx_status unsupported_run(onyxi_exec *x) {
    return onyxi_fail(x->err, ONYX_INTERNAL, "dtype %s reached the kernel",
                      onyx_dtype_name(x->in[0]->dtype));
}

static onyx_status neg_run_ref(onyxi_exec *x) {
    const int64_t n = elems(x->in[0]);
    switch (x->in[0]->dtype) {
    case ONYX_DTYPE_FLOAT32:
        LOOP(float, -v);
        break;
    case ONYX_DTYPE_FLOAT64:
        LOOP(double, -v);
        break;
        SIGNED_CASES(NEG_INT)
    default:
        return unsupported_run(x);
    }
    return ONYX_OK;
}

static onyx_status abs_run_ref(onyxi_exec *x) {
    const int64_t n = elems(x->in[0]);
    switch (x->in[0]->dtype) {
    case ONYX_DTYPE_FLOAT32:
        LOOP(float, fabsf(v));
        break;
    case ONYX_DTYPE_FLOAT64:
        LOOP(double, fabs(v));
        break;
        SIGNED_CASES(ABS_INT)
    case ONYX_DTYPE_UINT8:
    case ONYX_DTYPE_UINT16:
    case ONYX_DTYPE_UINT32:
    case ONYX_DTYPE_UINT64:
        if (x->out[0]->data != x->in[0]->data)
            memcpy(x->out[0]->data, x->in[0]->data, (size_t)n * onyxi_dtype_size(x->in[0]->dtype));
        break;
    default:
        return unsupported_run(x);
    }
    return ONYX_OK;
}

static onyx_status relu_run_ref(onyxi_exec *x) {
    const int64_t n = elems(x->in[0]);
    switch (x->in[0]->dtype) {
    case ONYX_DTYPE_FLOAT32:
        LOOP(float, v < 0.0f ? 0.0f : v);
        break;
    case ONYX_DTYPE_FLOAT64:
        LOOP(double, v < 0.0 ? 0.0 : v);
        break;
        SIGNED_CASES(RELU_INT)
    default:
        return unsupported_run(x);
    }
    return ONYX_OK;
}

onyx_status onyxi_neg_infer(onyxi_infer *c) {
    onyx_dtype dt = c->in[0]->dtype;
    if (!is_float(dt) && !is_signed_int(dt))
        return dtype_refused(c, dt, "float32, float64 or a signed integer type");
    return infer_same(c);
}

onyx_status onyxi_abs_infer(onyxi_infer *c) {
    onyx_dtype dt = c->in[0]->dtype;
    if (!is_float(dt) && !is_signed_int(dt) && !is_unsigned_int(dt))
        return dtype_refused(c, dt, "float32, float64 or an integer type");
    return infer_same(c);
}

/* Relu-14 added the signed integer types. */
onyx_status onyxi_relu_infer(onyxi_infer *c) {
    onyx_dtype dt = c->in[0]->dtype;
    if (is_float(dt) || (is_signed_int(dt) && c->node->opset >= 14)) return infer_same(c);
    if (is_signed_int(dt))
        return onyxi_fail(c->err, ONYX_TYPE_MISMATCH,
                          "input 0 has dtype %s; integer Relu needs opset 14 (model has %lld)",
                          onyx_dtype_name(dt), (long long)c->node->opset);
    return dtype_refused(c, dt,
                         c->node->opset >= 14 ? "float32, float64 or a signed integer type"
                                              : "float32 or float64");
}

/* ---- Not ---- */

static onyx_status not_run_ref(onyxi_exec *x) {
    const int64_t n = elems(x->in[0]);
    const unsigned char *xd = x->in[0]->data;
    unsigned char *yd = x->out[0]->data;
    for (int64_t i = 0; i < n; i++)
        yd[i] = !xd[i];
    return ONYX_OK;
}

onyx_status onyxi_not_infer(onyxi_infer *c) {
    ONYXI_CHECK(onyxi_infer_expect_dtype(c, 0, ONYX_DTYPE_BOOL));
    return infer_same(c);
}

/* ---- Clip ---- */

/* Clip-6 reads min/max from attributes; 11 moved them to optional inputs 1 and 2, which are
 * scalars of X's dtype (an empty name = absent = no bound). 12 added the integer types. */
onyx_status onyxi_clip_check(const onyxi_node *n, onyxi_err *e) {
    if (n->opset >= 11 && (onyxi_attr_find(n, "min") || onyxi_attr_find(n, "max")))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attributes 'min'/'max' were replaced by inputs in opset 11 (model "
                          "has %lld)",
                          (long long)n->opset);
    return ONYX_OK;
}

onyx_status onyxi_clip_infer(onyxi_infer *c) {
    onyx_dtype dt = c->in[0]->dtype;
    int ints = is_signed_int(dt) || is_unsigned_int(dt);
    if (!is_float(dt) && !(ints && c->node->opset >= 12))
        return dtype_refused(c, dt,
                             c->node->opset >= 12 ? "float32, float64 or an integer type"
                                                  : "float32 or float64 (integers from opset 12)");
    for (int k = 1; k < c->n_in; k++) {
        const onyx_tensor *b = c->in[k];
        if (!b) continue;
        ONYXI_CHECK(onyxi_infer_expect_dtype(c, k, dt));
        ONYXI_CHECK(onyxi_infer_expect_known(c, k));
        if (onyxi_shape_count(b->rank, b->dims) != 1) {
            char s[160];
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input %d ('%s', the %s bound) has shape %s, expected a scalar", k,
                              b->name ? b->name : "", k == 1 ? "min" : "max",
                              onyxi_shape_str(b->rank, b->dims, s, sizeof s));
        }
    }
    return infer_same(c);
}

/* The bound of input k (min: 1, max: 2) when present, else dflt. */
#define BOUND(T, k, dflt)                                                                          \
    (x->n_in > (k) && x->in[k] && x->in[k]->data ? *(const T *)x->in[k]->data : (dflt))

/* min(max(v, lo), hi), as np.clip and ORT: lo > hi gives hi everywhere; NaN stays NaN. */
#define CLIP_LOOP(T, LO, HI)                                                                       \
    do {                                                                                           \
        const T lo = BOUND(T, 1, LO), hi = BOUND(T, 2, HI);                                        \
        LOOP(T, v<lo ? (hi < lo ? hi : lo) : v> hi ? hi : v);                                      \
    } while (0)

static onyx_status clip_run_ref(onyxi_exec *x) {
    const int64_t n = elems(x->in[0]);
    if (x->node->opset < 11) {
        const float lo = onyxi_attr_float(x->node, "min", -FLT_MAX);
        const float hi = onyxi_attr_float(x->node, "max", FLT_MAX);
        if (x->in[0]->dtype == ONYX_DTYPE_FLOAT32)
            LOOP(float, v<lo ? (hi < lo ? hi : lo) : v> hi ? hi : v);
        else
            LOOP(double, v<lo ? (hi < lo ? hi : lo) : v> hi ? hi : v);
        return ONYX_OK;
    }
    switch (x->in[0]->dtype) {
    case ONYX_DTYPE_FLOAT32:
        CLIP_LOOP(float, -INFINITY, INFINITY);
        break;
    case ONYX_DTYPE_FLOAT64:
        CLIP_LOOP(double, -INFINITY, INFINITY);
        break;
    case ONYX_DTYPE_INT8:
        CLIP_LOOP(int8_t, INT8_MIN, INT8_MAX);
        break;
    case ONYX_DTYPE_INT16:
        CLIP_LOOP(int16_t, INT16_MIN, INT16_MAX);
        break;
    case ONYX_DTYPE_INT32:
        CLIP_LOOP(int32_t, INT32_MIN, INT32_MAX);
        break;
    case ONYX_DTYPE_INT64:
        CLIP_LOOP(int64_t, INT64_MIN, INT64_MAX);
        break;
    case ONYX_DTYPE_UINT8:
        CLIP_LOOP(uint8_t, 0, UINT8_MAX);
        break;
    case ONYX_DTYPE_UINT16:
        CLIP_LOOP(uint16_t, 0, UINT16_MAX);
        break;
    case ONYX_DTYPE_UINT32:
        CLIP_LOOP(uint32_t, 0, UINT32_MAX);
        break;
    case ONYX_DTYPE_UINT64:
        CLIP_LOOP(uint64_t, 0, UINT64_MAX);
        break;
    default:
        return unsupported_run(x);
    }
    return ONYX_OK;
}

/* ---- exports of the multi-dtype ops ---- */

#define PLAIN_EXPORTS(o, DNNL)                                                                     \
    static const onyxi_impl o##_ref = {"ref", NULL, o##_run_ref, NULL};                            \
    const onyxi_impl *const onyxi_##o##_impls[] = {DNNL &o##_ref, NULL};

#define NO_CHECK(o)                                                                                \
    onyx_status onyxi_##o##_check(const onyxi_node *n, onyxi_err *e) {                             \
        (void)n;                                                                                   \
        (void)e;                                                                                   \
        return ONYX_OK;                                                                            \
    }

PLAIN_EXPORTS(neg, )
PLAIN_EXPORTS(abs, DNNL)
PLAIN_EXPORTS(relu, DNNL)
PLAIN_EXPORTS(not, )
PLAIN_EXPORTS(clip, DNNL)
NO_CHECK(neg)
NO_CHECK(abs)
NO_CHECK(relu)
NO_CHECK(not )
const onyxi_attr_spec onyxi_neg_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_abs_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_relu_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_not_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_clip_attrs[] = {
    {"min", ONYXI_ATTR_FLOAT}, {"max", ONYXI_ATTR_FLOAT}, {NULL, 0}};
