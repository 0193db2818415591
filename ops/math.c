/*
 * More element-wise math (the core arithmetic is in binary.c/elementwise.c):
 *   variadic with numpy broadcasting over N inputs: Max/Min-6/8/12/13 (float32/64; every
 *     integer type from 12), Sum/Mean-6/8/13 (float32/64);
 *   binary with broadcasting: And/Or/Xor-7 (bool), Mod-10/13 (fmod 0: Python's sign-of-divisor
 *     remainder, fmod 1: C's fmod; float32/64 and every integer type), BitShift-11 (uint8..64);
 *   unary float32: Floor/Ceil-6/13, Round-11 (half to even), Sin/Cos/Tan/Asin/Acos/Atan-7,
 *     Sinh/Cosh/Asinh/Acosh/Atanh-9, ThresholdedRelu-10, Softsign-1, Shrink-9, Celu-12, Mish-18;
 *   Sign-9/13 (float32/64, every integer type), IsNaN-9/13 and IsInf-10 (float32/64 -> bool).
 * float16/bfloat16 are ONYX_UNSUPPORTED. Opset 6 Max/Min/Sum/Mean required equal shapes; numpy
 * broadcasting is a superset, so one kernel serves every version.
 */
#include <math.h>
#include <string.h>

#include "broadcast.h"
#include "infer_util.h"
#include "ops.h"

/* X(suffix, C type, dtype, kind): F float, S signed int, U unsigned int. */
#define FLOAT_TYPES(X)                                                                             \
    X(f32, float, FLOAT32, F)                                                                      \
    X(f64, double, FLOAT64, F)
#define INT_TYPES(X)                                                                               \
    X(i8, int8_t, INT8, S)                                                                         \
    X(i16, int16_t, INT16, S)                                                                      \
    X(i32, int32_t, INT32, S)                                                                      \
    X(i64, int64_t, INT64, S)                                                                      \
    X(u8, uint8_t, UINT8, U)                                                                       \
    X(u16, uint16_t, UINT16, U)                                                                    \
    X(u32, uint32_t, UINT32, U)                                                                    \
    X(u64, uint64_t, UINT64, U)
#define NUM_TYPES(X) FLOAT_TYPES(X) INT_TYPES(X)

static int is_float(onyx_dtype dt) {
    return dt == ONYX_DTYPE_FLOAT32 || dt == ONYX_DTYPE_FLOAT64;
}

static int is_int(onyx_dtype dt) {
    switch (dt) {
#define CASE_INT(sfx, T, DT, K) case ONYX_DTYPE_##DT:
        INT_TYPES(CASE_INT)
        return 1;
    default:
        return 0;
    }
}

/* Every present input has input 0's dtype (ONYX_TYPE_MISMATCH otherwise); absent inputs of a
 * variadic op are an ONYX_INVALID_MODEL error. */
static onyx_status same_dtypes(onyxi_infer *c) {
    for (int k = 0; k < c->n_in; k++) {
        if (!c->in[k]) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input %d is empty", k);
        ONYXI_CHECK(onyxi_infer_expect_known(c, k));
        if (c->in[k]->dtype != c->in[0]->dtype)
            return onyxi_fail(c->err, ONYX_TYPE_MISMATCH,
                              "input %d ('%s') has dtype %s, input 0 ('%s') has %s", k,
                              onyxi_tensor_name(c->in[k]), onyx_dtype_name(c->in[k]->dtype),
                              onyxi_tensor_name(c->in[0]), onyx_dtype_name(c->in[0]->dtype));
    }
    return ONYX_OK;
}

static onyx_status no_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

/* ---- broadcast state shared by the variadic and binary ops ---- */

/* Per-node state: the row kernel, its context and one loop plan per step. */
typedef struct bc_state {
    onyxi_bcast_row row;
    int n_plans;
    int fmod;            /* Mod */
    int left;            /* BitShift */
    onyxi_bcast plans[]; /* variadic: [0] copies input 0, [k] folds input k into y */
} bc_state;

static void bc_fini(onyxi_exec *x) {
    onyxi_free(x->state);
    x->state = NULL;
}

static bc_state *bc_alloc(onyxi_exec *x, int n_plans) {
    bc_state *s = onyxi_malloc(sizeof *s + (size_t)n_plans * sizeof(onyxi_bcast));
    if (!s) {
        onyxi_fail(x->err, ONYX_NOMEM, "out of memory for %d broadcast plans", n_plans);
        return NULL;
    }
    memset(s, 0, sizeof *s);
    s->n_plans = n_plans;
    x->state = s;
    return s;
}

/* ---- variadic Max, Min, Sum, Mean ---- */

/* y[i] = x0[i * s0]: broadcasts input 0 into the output before the fold. */
#define COPY_ROW(sfx, T, DT, K)                                                                    \
    static void copy_row_##sfx(int64_t n, void *yv, const void *const *x, const int64_t *s,        \
                               const void *ctx) {                                                  \
        (void)ctx;                                                                                 \
        const T *a = x[0];                                                                         \
        T *y = yv;                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            y[i] = a[i * s[0]];                                                                    \
    }
NUM_TYPES(COPY_ROW)

/* numpy's maximum/minimum propagate NaN from either side */
#define max_F(a, b) ((a) != (a) ? (a) : (b) != (b) ? (b) : (a) < (b) ? (b) : (a))
#define min_F(a, b) ((a) != (a) ? (a) : (b) != (b) ? (b) : (b) < (a) ? (b) : (a))
#define max_S(a, b) ((a) < (b) ? (b) : (a))
#define min_S(a, b) ((b) < (a) ? (b) : (a))
#define max_U max_S
#define min_U min_S
#define sum_F(a, b) ((a) + (b))

/* y[i] = OP(y[i], x1[i * s1]) where operand 0 is y itself (always step 1). */
#define FOLD_ROW(OP, sfx, T, K)                                                                    \
    static void OP##_row_##sfx(int64_t n, void *yv, const void *const *x, const int64_t *s,        \
                               const void *ctx) {                                                  \
        (void)ctx;                                                                                 \
        const T *b = x[1];                                                                         \
        T *y = yv;                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            y[i] = (T)OP##_##K(y[i], b[i * s[1]]);                                                 \
    }
#define MAXMIN_ROWS(sfx, T, DT, K) FOLD_ROW(max, sfx, T, K) FOLD_ROW(min, sfx, T, K)
#define SUM_ROWS(sfx, T, DT, K) FOLD_ROW(sum, sfx, T, K)
NUM_TYPES(MAXMIN_ROWS)
FLOAT_TYPES(SUM_ROWS)

typedef enum { V_MAX, V_MIN, V_SUM, V_MEAN } var_kind;

/* The fold row and the copy row for dtype, NULL when the op does not take it. */
static onyxi_bcast_row var_row(var_kind k, onyx_dtype dt, onyxi_bcast_row *copy) {
    *copy = NULL;
    if (k == V_SUM || k == V_MEAN) {
        *copy = dt == ONYX_DTYPE_FLOAT32 ? copy_row_f32 : copy_row_f64;
        if (dt == ONYX_DTYPE_FLOAT32) return sum_row_f32;
        if (dt == ONYX_DTYPE_FLOAT64) return sum_row_f64;
        return NULL;
    }
    switch (dt) {
#define CASE_VAR(sfx, T, DT, KIND)                                                                 \
    case ONYX_DTYPE_##DT:                                                                          \
        *copy = copy_row_##sfx;                                                                    \
        return k == V_MAX ? max_row_##sfx : min_row_##sfx;
        NUM_TYPES(CASE_VAR)
    default:
        return NULL;
    }
}

static onyx_status infer_var(onyxi_infer *c, var_kind k) {
    ONYXI_CHECK(same_dtypes(c));
    onyx_dtype dt = c->in[0]->dtype;
    onyxi_bcast_row copy;
    /* Max/Min took only float types before opset 12 */
    int ok = var_row(k, dt, &copy) != NULL && (is_float(dt) || c->node->opset >= 12);
    if (!ok)
        return onyxi_refuse_dtype(c, 0,
                                  k <= V_MIN && c->node->opset >= 12
                                      ? "float32, float64 or an integer"
                                      : "float32 or float64");
    int rank;
    int64_t dims[ONYXI_MAX_RANK];
    ONYXI_CHECK(onyxi_bcast_shape(c->n_in, c->in, 0, &rank, dims, c->err));
    onyxi_infer_set(c, 0, dt, rank, dims);
    return ONYX_OK;
}

static onyx_status var_init(onyxi_exec *x, var_kind k) {
    const onyx_tensor *y = x->out[0];
    bc_state *s = bc_alloc(x, x->n_in);
    if (!s) return ONYX_NOMEM;
    onyxi_bcast_row copy;
    s->row = var_row(k, y->dtype, &copy);
    if (!s->row)
        return onyxi_fail(x->err, ONYX_INTERNAL, "dtype %s reached the kernel",
                          onyx_dtype_name(y->dtype));
    ONYXI_CHECK(onyxi_bcast_plan(&s->plans[0], y, 1, &x->in[0], x->err));
    for (int k2 = 1; k2 < x->n_in; k2++) {
        const onyx_tensor *ops2[2] = {y, x->in[k2]};
        ONYXI_CHECK(onyxi_bcast_plan(&s->plans[k2], y, 2, ops2, x->err));
    }
    return ONYX_OK;
}

static onyx_status var_run(onyxi_exec *x, var_kind k) {
    bc_state *s = x->state;
    void *y = x->out[0]->data;
    onyxi_bcast_row copy;
    (void)var_row(k, x->out[0]->dtype, &copy);
    const void *p0[1] = {x->in[0]->data};
    onyxi_bcast_run(&s->plans[0], y, p0, copy, NULL);
    for (int i = 1; i < x->n_in; i++) {
        const void *p[2] = {y, x->in[i]->data};
        onyxi_bcast_run(&s->plans[i], y, p, s->row, NULL);
    }
    if (k == V_MEAN) {
        const int64_t n = s->plans[0].count;
        if (x->out[0]->dtype == ONYX_DTYPE_FLOAT32) {
            float *yf = y;
            for (int64_t i = 0; i < n; i++)
                yf[i] /= (float)x->n_in;
        } else {
            double *yd = y;
            for (int64_t i = 0; i < n; i++)
                yd[i] /= (double)x->n_in;
        }
    }
    return ONYX_OK;
}

#define VAR_EXPORTS(o, KIND)                                                                       \
    const onyxi_attr_spec onyxi_##o##_attrs[] = {{NULL, 0}};                                       \
    onyx_status onyxi_##o##_check(const onyxi_node *n, onyxi_err *e) {                             \
        return no_check(n, e);                                                                     \
    }                                                                                              \
    onyx_status onyxi_##o##_infer(onyxi_infer *c) {                                                \
        return infer_var(c, KIND);                                                                 \
    }                                                                                              \
    static onyx_status o##_init_ref(onyxi_exec *x) {                                               \
        return var_init(x, KIND);                                                                  \
    }                                                                                              \
    static onyx_status o##_run_ref(onyxi_exec *x) {                                                \
        return var_run(x, KIND);                                                                   \
    }                                                                                              \
    static const onyxi_impl o##_ref = {"ref", o##_init_ref, o##_run_ref, bc_fini};                 \
    const onyxi_impl *const onyxi_##o##_impls[] = {&o##_ref, NULL};

VAR_EXPORTS(max, V_MAX)
VAR_EXPORTS(min, V_MIN)
VAR_EXPORTS(sum, V_SUM)
VAR_EXPORTS(mean, V_MEAN)

/* ---- binary: And, Or, Xor, Mod, BitShift ---- */

/* y[i] = EXPR(a, b) over two broadcast operands; ctx is the node's bc_state. */
#define BIN_ROW(name, T, TY, EXPR)                                                                 \
    static void name(int64_t n, void *yv, const void *const *x, const int64_t *s,                  \
                     const void *ctx) {                                                            \
        const bc_state *st = ctx;                                                                  \
        (void)st;                                                                                  \
        const T *pa = x[0], *pb = x[1];                                                            \
        TY *y = yv;                                                                                \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T a = pa[i * s[0]], b = pb[i * s[1]];                                            \
            y[i] = (TY)(EXPR);                                                                     \
        }                                                                                          \
    }

BIN_ROW(and_row, uint8_t, uint8_t, a &&b)
BIN_ROW(or_row, uint8_t, uint8_t, a || b)
BIN_ROW(xor_row, uint8_t, uint8_t, !a != !b)

/* Python's remainder takes the divisor's sign; C's % and fmod take the dividend's. x % 0 is
 * defined as 0 for integers (numpy's result) so that no input can trap, and MIN % -1 is 0. */
#define MOD_S(T, a, b)                                                                             \
    ((b) == 0 || (b) == -1 ? (T)0                                                                  \
     : st->fmod                                                                                    \
         ? (T)((a) % (b))                                                                          \
         : (T)((a) % (b) != 0 && (((a) % (b) < 0) != ((b) < 0)) ? (a) % (b) + (b) : (a) % (b)))
#define MOD_U(T, a, b) ((b) == 0 ? (T)0 : (T)((a) % (b)))
#define MOD_ROW(sfx, T, DT, K) BIN_ROW(mod_row_##sfx, T, T, MOD_##K(T, a, b))
INT_TYPES(MOD_ROW)

/* np.mod for floats: fmod, moved into the divisor's sign (a zero result takes b's sign). */
static double py_fmod(double a, double b) {
    double r = fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    if (r == 0) r = copysign(0.0, b);
    return r;
}
static float py_fmodf(float a, float b) {
    float r = fmodf(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    if (r == 0) r = copysignf(0.0f, b);
    return r;
}
BIN_ROW(mod_row_f32, float, float, st->fmod ? fmodf(a, b) : py_fmodf(a, b))
BIN_ROW(mod_row_f64, double, double, st->fmod ? fmod(a, b) : py_fmod(a, b))

/* Shifts by the type's width or more give 0 (C leaves them undefined). */
#define SHIFT_ROW(sfx, T, DT, K)                                                                   \
    BIN_ROW(shift_row_##sfx, T, T, b >= 8 * sizeof(T) ? 0 : st->left ? (T)(a << b) : (T)(a >> b))
SHIFT_ROW(u8, uint8_t, UINT8, U)
SHIFT_ROW(u16, uint16_t, UINT16, U)
SHIFT_ROW(u32, uint32_t, UINT32, U)
SHIFT_ROW(u64, uint64_t, UINT64, U)

typedef enum { B_AND, B_OR, B_XOR, B_MOD, B_SHIFT } bin_kind;

static onyxi_bcast_row bin_row(bin_kind k, onyx_dtype dt) {
    switch (k) {
    case B_AND:
        return dt == ONYX_DTYPE_BOOL ? and_row : NULL;
    case B_OR:
        return dt == ONYX_DTYPE_BOOL ? or_row : NULL;
    case B_XOR:
        return dt == ONYX_DTYPE_BOOL ? xor_row : NULL;
    case B_MOD:
        switch (dt) {
#define CASE_MOD(sfx, T, DT, K)                                                                    \
    case ONYX_DTYPE_##DT:                                                                          \
        return mod_row_##sfx;
            NUM_TYPES(CASE_MOD)
        default:
            return NULL;
        }
    case B_SHIFT:
        switch (dt) {
        case ONYX_DTYPE_UINT8:
            return shift_row_u8;
        case ONYX_DTYPE_UINT16:
            return shift_row_u16;
        case ONYX_DTYPE_UINT32:
            return shift_row_u32;
        case ONYX_DTYPE_UINT64:
            return shift_row_u64;
        default:
            return NULL;
        }
    }
    return NULL;
}

static onyx_status infer_bin(onyxi_infer *c, bin_kind k) {
    ONYXI_CHECK(same_dtypes(c));
    onyx_dtype dt = c->in[0]->dtype;
    if (!bin_row(k, dt))
        return onyxi_refuse_dtype(c, 0,
                                  k == B_MOD     ? "float32, float64 or an integer"
                                  : k == B_SHIFT ? "uint8, uint16, uint32 or uint64"
                                                 : "bool");
    int rank;
    int64_t dims[ONYXI_MAX_RANK];
    ONYXI_CHECK(onyxi_bcast_infer(c, 0, 2, &rank, dims));
    onyxi_infer_set(c, 0, dt, rank, dims);
    return ONYX_OK;
}

static onyx_status bin_init(onyxi_exec *x, bin_kind k) {
    bc_state *s = bc_alloc(x, 1);
    if (!s) return ONYX_NOMEM;
    s->row = bin_row(k, x->in[0]->dtype);
    if (!s->row)
        return onyxi_fail(x->err, ONYX_INTERNAL, "dtype %s reached the kernel",
                          onyx_dtype_name(x->in[0]->dtype));
    s->fmod = onyxi_attr_int(x->node, "fmod", 0) != 0;
    s->left = strcmp(onyxi_attr_string(x->node, "direction", ""), "LEFT") == 0;
    return onyxi_bcast_plan(&s->plans[0], x->out[0], 2, x->in, x->err);
}

static onyx_status bin_run(onyxi_exec *x) {
    bc_state *s = x->state;
    const void *p[2] = {x->in[0]->data, x->in[1]->data};
    onyxi_bcast_run(&s->plans[0], x->out[0]->data, p, s->row, s);
    return ONYX_OK;
}

static onyx_status check_mod(const onyxi_node *n, onyxi_err *e) {
    int64_t f = onyxi_attr_int(n, "fmod", 0);
    if (f != 0 && f != 1)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'fmod' is %lld, expected 0 or 1",
                          (long long)f);
    return ONYX_OK;
}

static onyx_status check_shift(const onyxi_node *n, onyxi_err *e) {
    const char *d = onyxi_attr_string(n, "direction", NULL);
    if (!d) return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'direction' is missing");
    if (strcmp(d, "LEFT") != 0 && strcmp(d, "RIGHT") != 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'direction' is '%s', expected 'LEFT' or 'RIGHT'", d);
    return ONYX_OK;
}

#define BIN_EXPORTS(o, KIND, CHECK)                                                                \
    onyx_status onyxi_##o##_check(const onyxi_node *n, onyxi_err *e) {                             \
        return CHECK(n, e);                                                                        \
    }                                                                                              \
    onyx_status onyxi_##o##_infer(onyxi_infer *c) {                                                \
        return infer_bin(c, KIND);                                                                 \
    }                                                                                              \
    static onyx_status o##_init_ref(onyxi_exec *x) {                                               \
        return bin_init(x, KIND);                                                                  \
    }                                                                                              \
    static const onyxi_impl o##_ref = {"ref", o##_init_ref, bin_run, bc_fini};                     \
    const onyxi_impl *const onyxi_##o##_impls[] = {&o##_ref, NULL};

const onyxi_attr_spec onyxi_and_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_or_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_xor_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_mod_attrs[] = {{"fmod", ONYXI_ATTR_INT}, {NULL, 0}};
const onyxi_attr_spec onyxi_bit_shift_attrs[] = {{"direction", ONYXI_ATTR_STRING}, {NULL, 0}};
BIN_EXPORTS(and, B_AND, no_check)
BIN_EXPORTS(or, B_OR, no_check)
BIN_EXPORTS(xor, B_XOR, no_check)
BIN_EXPORTS(mod, B_MOD, check_mod)
BIN_EXPORTS(bit_shift, B_SHIFT, check_shift)

/* ---- unary float32 ---- */

static int64_t elems(const onyx_tensor *t) {
    return onyxi_shape_count(t->rank, t->dims);
}

static onyx_status infer_float32(onyxi_infer *c) {
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    if (c->in[0]->dtype != ONYX_DTYPE_FLOAT32) return onyxi_refuse_dtype(c, 0, "float32");
    onyxi_infer_set(c, 0, ONYX_DTYPE_FLOAT32, c->in[0]->rank, c->in[0]->dims);
    return ONYX_OK;
}

/* Exports of a float32 op mapping element v to EXPR; SETUP reads attributes once per run.
 * Each element is read before it is written, so the ops run in place. */
#define FLOAT_UNARY(o, SETUP, EXPR)                                                                \
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
    const onyxi_impl *const onyxi_##o##_impls[] = {&o##_ref, NULL};                                \
    onyx_status onyxi_##o##_infer(onyxi_infer *c) {                                                \
        return infer_float32(c);                                                                   \
    }

#define FATTR(name, def) const float name = onyxi_attr_float(x->node, #name, def)
#define NO_SETUP (void)0

/* log(1 + e^v) without overflow for large v */
static inline float softplusf(float v) {
    return v > 0.0f ? v + log1pf(expf(-v)) : log1pf(expf(v));
}

FLOAT_UNARY(floor, NO_SETUP, floorf(v))
FLOAT_UNARY(ceil, NO_SETUP, ceilf(v))
/* the default rounding mode (to nearest, ties to even) is numpy's np.round */
FLOAT_UNARY(round, NO_SETUP, nearbyintf(v))
FLOAT_UNARY(sin, NO_SETUP, sinf(v))
FLOAT_UNARY(cos, NO_SETUP, cosf(v))
FLOAT_UNARY(tan, NO_SETUP, tanf(v))
FLOAT_UNARY(asin, NO_SETUP, asinf(v))
FLOAT_UNARY(acos, NO_SETUP, acosf(v))
FLOAT_UNARY(atan, NO_SETUP, atanf(v))
FLOAT_UNARY(sinh, NO_SETUP, sinhf(v))
FLOAT_UNARY(cosh, NO_SETUP, coshf(v))
FLOAT_UNARY(asinh, NO_SETUP, asinhf(v))
FLOAT_UNARY(acosh, NO_SETUP, acoshf(v))
FLOAT_UNARY(atanh, NO_SETUP, atanhf(v))
FLOAT_UNARY(thresholded_relu, FATTR(alpha, 1.0f), v > alpha ? v : 0.0f)
FLOAT_UNARY(softsign, NO_SETUP, v / (1.0f + fabsf(v)))
FLOAT_UNARY(shrink, FATTR(lambd, 0.5f);
            FATTR(bias, 0.0f), v<-lambd ? v + bias : v> lambd ? v - bias : 0.0f)
/* Celu-12: max(0, v) + min(0, alpha * (e^(v / alpha) - 1)) */
FLOAT_UNARY(celu, FATTR(alpha, 1.0f), v > 0.0f ? v : alpha * expm1f(v / alpha))
FLOAT_UNARY(mish, NO_SETUP, v *tanhf(softplusf(v)))

#define NO_ATTR_OPS(X)                                                                             \
    X(floor)                                                                                       \
    X(ceil) X(round) X(sin) X(cos) X(tan) X(asin) X(acos) X(atan) X(sinh) X(cosh) X(asinh)         \
        X(acosh) X(atanh) X(softsign) X(mish)
#define NO_ATTRS_EXPORT(o)                                                                         \
    const onyxi_attr_spec onyxi_##o##_attrs[] = {{NULL, 0}};                                       \
    onyx_status onyxi_##o##_check(const onyxi_node *n, onyxi_err *e) {                             \
        return no_check(n, e);                                                                     \
    }
NO_ATTR_OPS(NO_ATTRS_EXPORT)

const onyxi_attr_spec onyxi_thresholded_relu_attrs[] = {{"alpha", ONYXI_ATTR_FLOAT}, {NULL, 0}};
const onyxi_attr_spec onyxi_shrink_attrs[] = {
    {"lambd", ONYXI_ATTR_FLOAT}, {"bias", ONYXI_ATTR_FLOAT}, {NULL, 0}};
const onyxi_attr_spec onyxi_celu_attrs[] = {{"alpha", ONYXI_ATTR_FLOAT}, {NULL, 0}};

onyx_status onyxi_thresholded_relu_check(const onyxi_node *n, onyxi_err *e) {
    return no_check(n, e);
}

onyx_status onyxi_shrink_check(const onyxi_node *n, onyxi_err *e) {
    return no_check(n, e);
}

onyx_status onyxi_celu_check(const onyxi_node *n, onyxi_err *e) {
    float a = onyxi_attr_float(n, "alpha", 1.0f);
    if (a == 0.0f || isnan(a))
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'alpha' is %g, expected non-zero",
                          (double)a);
    return ONYX_OK;
}

/* ---- Sign, IsNaN, IsInf ---- */

static onyx_status infer_sign(onyxi_infer *c) {
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    onyx_dtype dt = c->in[0]->dtype;
    if (!is_float(dt) && !is_int(dt))
        return onyxi_refuse_dtype(c, 0, "float32, float64 or an integer");
    onyxi_infer_set(c, 0, dt, c->in[0]->rank, c->in[0]->dims);
    return ONYX_OK;
}

/* NaN stays NaN (np.sign) */
#define SIGN_F(v) ((v) > 0 ? 1 : (v) < 0 ? -1 : (v))
#define SIGN_S(v) ((v) > 0 ? 1 : (v) < 0 ? -1 : 0)
#define SIGN_U(v) ((v) > 0 ? 1 : 0)

static onyx_status sign_run_ref(onyxi_exec *x) {
    const int64_t n = elems(x->in[0]);
    switch (x->in[0]->dtype) {
#define CASE_SIGN(sfx, T, DT, K)                                                                   \
    case ONYX_DTYPE_##DT: {                                                                        \
        const T *xd = x->in[0]->data;                                                              \
        T *yd = x->out[0]->data;                                                                   \
        for (int64_t i = 0; i < n; i++)                                                            \
            yd[i] = (T)SIGN_##K(xd[i]);                                                            \
        return ONYX_OK;                                                                            \
    }
        NUM_TYPES(CASE_SIGN)
    default:
        return onyxi_fail(x->err, ONYX_INTERNAL, "dtype %s reached the kernel",
                          onyx_dtype_name(x->in[0]->dtype));
    }
}

static onyx_status infer_float_to_bool(onyxi_infer *c) {
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    if (!is_float(c->in[0]->dtype)) return onyxi_refuse_dtype(c, 0, "float32 or float64");
    onyxi_infer_set(c, 0, ONYX_DTYPE_BOOL, c->in[0]->rank, c->in[0]->dims);
    return ONYX_OK;
}

/* PRED(v) over a float32 or float64 input into bool */
#define FLOAT_PRED_RUN(name, SETUP, PRED)                                                          \
    static onyx_status name(onyxi_exec *x) {                                                       \
        const int64_t n = elems(x->in[0]);                                                         \
        uint8_t *yd = x->out[0]->data;                                                             \
        SETUP;                                                                                     \
        if (x->in[0]->dtype == ONYX_DTYPE_FLOAT32) {                                               \
            const float *xd = x->in[0]->data;                                                      \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const double v = xd[i];                                                            \
                yd[i] = (uint8_t)(PRED);                                                           \
            }                                                                                      \
        } else {                                                                                   \
            const double *xd = x->in[0]->data;                                                     \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const double v = xd[i];                                                            \
                yd[i] = (uint8_t)(PRED);                                                           \
            }                                                                                      \
        }                                                                                          \
        return ONYX_OK;                                                                            \
    }

FLOAT_PRED_RUN(is_nan_run_ref, NO_SETUP, isnan(v))
FLOAT_PRED_RUN(is_inf_run_ref, const int neg = onyxi_attr_int(x->node, "detect_negative", 1) != 0;
               const int pos = onyxi_attr_int(x->node, "detect_positive", 1) != 0,
               isinf(v) && (v > 0 ? pos : neg))

const onyxi_attr_spec onyxi_sign_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_is_nan_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_is_inf_attrs[] = {
    {"detect_negative", ONYXI_ATTR_INT}, {"detect_positive", ONYXI_ATTR_INT}, {NULL, 0}};

onyx_status onyxi_sign_check(const onyxi_node *n, onyxi_err *e) {
    return no_check(n, e);
}
onyx_status onyxi_is_nan_check(const onyxi_node *n, onyxi_err *e) {
    return no_check(n, e);
}
onyx_status onyxi_is_inf_check(const onyxi_node *n, onyxi_err *e) {
    return no_check(n, e);
}
onyx_status onyxi_sign_infer(onyxi_infer *c) {
    return infer_sign(c);
}
onyx_status onyxi_is_nan_infer(onyxi_infer *c) {
    return infer_float_to_bool(c);
}
onyx_status onyxi_is_inf_infer(onyxi_infer *c) {
    return infer_float_to_bool(c);
}

static const onyxi_impl sign_ref = {"ref", NULL, sign_run_ref, NULL};
static const onyxi_impl is_nan_ref = {"ref", NULL, is_nan_run_ref, NULL};
static const onyxi_impl is_inf_ref = {"ref", NULL, is_inf_run_ref, NULL};
const onyxi_impl *const onyxi_sign_impls[] = {&sign_ref, NULL};
const onyxi_impl *const onyxi_is_nan_impls[] = {&is_nan_ref, NULL};
const onyxi_impl *const onyxi_is_inf_impls[] = {&is_inf_ref, NULL};
