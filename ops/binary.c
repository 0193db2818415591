/*
 * Binary and ternary element-wise ops with numpy broadcasting (ops/broadcast.h):
 * Add/Sub/Mul/Div-6/7/13/14, Pow-1/7/12/13/15, PRelu-6/7/9/16 (slope broadcast to X only),
 * Equal-7/11/13/19, Less/Greater-7/9/13, LessOrEqual/GreaterOrEqual-12/16, Where-9/16.
 * Numeric dtypes: float32, float64, int8..int64, uint8..uint64 (float16/bfloat16 are
 * ONYX_UNSUPPORTED); comparisons give bool, Equal also takes bool; Where copies any fixed-size
 * dtype up to 8 bytes. Integer arithmetic wraps (two's complement) instead of overflowing;
 * integer Div truncates toward zero like C and the ONNX reference (true division then a cast),
 * and x / 0 is defined as 0 for integers so that no input can trap. Opset 1-6 broadcasting
 * (attributes broadcast/axis; PRelu-6's per-channel 1-D slope) is mapped onto numpy's.
 */
#include <math.h>
#include <string.h>

#include "broadcast.h"
#include "elementwise.h"
#include "ops.h"

/* ---- row kernels ---- */

/*
 * A row of y = EXPR(va, vb) with va from operand 0 and vb from operand 1. Each of the four
 * step combinations gets its own loop, so the common cases (same shape, scalar or per-row
 * constant operand) compile to plain vectorizable loops.
 */
#define BIN_ROW(name, TA, TB, TY, EXPR)                                                            \
    static void name(int64_t n, void *yv, const void *const *x, const int64_t *s,                  \
                     const void *ctx) {                                                            \
        (void)ctx;                                                                                 \
        const TA *a = x[0];                                                                        \
        const TB *b = x[1];                                                                        \
        TY *y = yv;                                                                                \
        if (s[0] && s[1]) {                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const TA va = a[i];                                                                \
                const TB vb = b[i];                                                                \
                y[i] = (TY)(EXPR);                                                                 \
            }                                                                                      \
        } else if (s[0]) {                                                                         \
            const TB vb = b[0];                                                                    \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const TA va = a[i];                                                                \
                y[i] = (TY)(EXPR);                                                                 \
            }                                                                                      \
        } else if (s[1]) {                                                                         \
            const TA va = a[0];                                                                    \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const TB vb = b[i];                                                                \
                y[i] = (TY)(EXPR);                                                                 \
            }                                                                                      \
        } else {                                                                                   \
            const TA va = a[0];                                                                    \
            const TB vb = b[0];                                                                    \
            const TY r = (TY)(EXPR);                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = r;                                                                          \
        }                                                                                          \
    }

/* X(OP, suffix, C type, dtype, kind): F float, S signed int, U unsigned int. */
#define NUM_TYPES(X, OP)                                                                           \
    X(OP, f32, float, FLOAT32, F)                                                                  \
    X(OP, f64, double, FLOAT64, F)                                                                 \
    X(OP, i8, int8_t, INT8, S)                                                                     \
    X(OP, i16, int16_t, INT16, S)                                                                  \
    X(OP, i32, int32_t, INT32, S)                                                                  \
    X(OP, i64, int64_t, INT64, S)                                                                  \
    X(OP, u8, uint8_t, UINT8, U)                                                                   \
    X(OP, u16, uint16_t, UINT16, U)                                                                \
    X(OP, u32, uint32_t, UINT32, U)                                                                \
    X(OP, u64, uint64_t, UINT64, U)

/* Integer results are computed in uint64_t, where wrapping is defined; converting back keeps
 * the low bits (GCC/Clang define the conversion to a narrower signed type as modular). */
#define WRAP(T, e) ((T)(uint64_t)(e))
#define add_F(T, a, b) ((a) + (b))
#define add_S(T, a, b) WRAP(T, (uint64_t)(a) + (uint64_t)(b))
#define add_U add_S
#define sub_F(T, a, b) ((a) - (b))
#define sub_S(T, a, b) WRAP(T, (uint64_t)(a) - (uint64_t)(b))
#define sub_U sub_S
#define mul_F(T, a, b) ((a) * (b))
#define mul_S(T, a, b) WRAP(T, (uint64_t)(a) * (uint64_t)(b))
#define mul_U mul_S
#define div_F(T, a, b) ((a) / (b))
/* MIN / -1 overflows: it wraps to MIN, like the negation it is */
#define div_S(T, a, b) ((b) == 0 ? (T)0 : (b) == -1 ? WRAP(T, 0u - (uint64_t)(a)) : (T)((a) / (b)))
#define div_U(T, a, b) ((b) == 0 ? (T)0 : (T)((a) / (b)))
#define prelu_F(T, a, b) ((a) < 0 ? (a) * (b) : (a))
#define prelu_S(T, a, b) ((a) < 0 ? mul_S(T, a, b) : (a))
#define prelu_U(T, a, b) ((void)(b), (a)) /* never negative */
#define equal_F(T, a, b) ((a) == (b))
#define equal_S equal_F
#define equal_U equal_F
#define equal_B(T, a, b) (!(a) == !(b))
#define less_F(T, a, b) ((a) < (b))
#define less_S less_F
#define less_U less_F
#define greater_F(T, a, b) ((a) > (b))
#define greater_S greater_F
#define greater_U greater_F
#define less_equal_F(T, a, b) ((a) <= (b))
#define less_equal_S less_equal_F
#define less_equal_U less_equal_F
#define greater_equal_F(T, a, b) ((a) >= (b))
#define greater_equal_S greater_equal_F
#define greater_equal_U greater_equal_F

#define DEF_ARITH_ROW(OP, sfx, T, DT, K) BIN_ROW(OP##_row_##sfx, T, T, T, OP##_##K(T, va, vb))
#define DEF_CMP_ROW(OP, sfx, T, DT, K) BIN_ROW(OP##_row_##sfx, T, T, uint8_t, OP##_##K(T, va, vb))
#define CASE_ROW(OP, sfx, T, DT, K)                                                                \
    case ONYX_DTYPE_##DT:                                                                          \
        return OP##_row_##sfx;

/* OP##_row(dtype): the row kernel of OP for dtype, NULL when there is none. */
#define DEFINE_ROWS(OP, DEF, EXTRA_DEF, EXTRA_CASE)                                                \
    NUM_TYPES(DEF, OP)                                                                             \
    EXTRA_DEF                                                                                      \
    static onyxi_bcast_row OP##_row(onyx_dtype dt) {                                               \
        switch (dt) {                                                                              \
            NUM_TYPES(CASE_ROW, OP)                                                                \
            EXTRA_CASE                                                                             \
        default:                                                                                   \
            return NULL;                                                                           \
        }                                                                                          \
    }

DEFINE_ROWS(add, DEF_ARITH_ROW, , )
DEFINE_ROWS(sub, DEF_ARITH_ROW, , )
DEFINE_ROWS(mul, DEF_ARITH_ROW, , )
DEFINE_ROWS(div, DEF_ARITH_ROW, , )
DEFINE_ROWS(prelu, DEF_ARITH_ROW, , )
DEFINE_ROWS(equal, DEF_CMP_ROW, BIN_ROW(equal_row_b, uint8_t, uint8_t, uint8_t, equal_B(, va, vb)),
            case ONYX_DTYPE_BOOL
            : return equal_row_b;)
DEFINE_ROWS(less, DEF_CMP_ROW, , )
DEFINE_ROWS(greater, DEF_CMP_ROW, , )
DEFINE_ROWS(less_equal, DEF_CMP_ROW, , )
DEFINE_ROWS(greater_equal, DEF_CMP_ROW, , )

/* ---- Pow ---- */

/* The exponent's dtype: Pow-12 lets it differ from the base's. */
typedef struct pow_ctx {
    onyx_dtype edt;
} pow_ctx;

static double load_double(const void *p, int64_t i, onyx_dtype dt) {
    switch (dt) {
    case ONYX_DTYPE_FLOAT32:
        return ((const float *)p)[i];
    case ONYX_DTYPE_FLOAT64:
        return ((const double *)p)[i];
    case ONYX_DTYPE_INT8:
        return ((const int8_t *)p)[i];
    case ONYX_DTYPE_INT16:
        return ((const int16_t *)p)[i];
    case ONYX_DTYPE_INT32:
        return ((const int32_t *)p)[i];
    case ONYX_DTYPE_INT64:
        return (double)((const int64_t *)p)[i];
    case ONYX_DTYPE_UINT8:
        return ((const uint8_t *)p)[i];
    case ONYX_DTYPE_UINT16:
        return ((const uint16_t *)p)[i];
    case ONYX_DTYPE_UINT32:
        return ((const uint32_t *)p)[i];
    case ONYX_DTYPE_UINT64:
        return (double)((const uint64_t *)p)[i];
    default:
        return 0;
    }
}

/* Integer exponents as int64 (uint64 beyond INT64_MAX saturates: any |base| > 1 wraps anyway
 * and 1 or -1 only need the parity, which INT64_MAX gets wrong only for -1 ^ even huge). */
static int64_t load_int(const void *p, int64_t i, onyx_dtype dt) {
    if (dt == ONYX_DTYPE_UINT64) {
        uint64_t u = ((const uint64_t *)p)[i];
        return u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
    }
    return (int64_t)load_double(p, i, dt) /* exact below 2^53 */;
}

static int is_int_dtype(onyx_dtype dt) {
    switch (dt) {
    case ONYX_DTYPE_INT8:
    case ONYX_DTYPE_INT16:
    case ONYX_DTYPE_INT32:
    case ONYX_DTYPE_INT64:
    case ONYX_DTYPE_UINT8:
    case ONYX_DTYPE_UINT16:
    case ONYX_DTYPE_UINT32:
    case ONYX_DTYPE_UINT64:
        return 1;
    default:
        return 0;
    }
}

/* base ^ e with wrapping, by squaring. Negative e: the truncated 1 / base^|e|, i.e. 0 unless
 * |base| == 1 (numpy refuses negative integer powers; 0 ^ -e is defined as 0 here). */
static int64_t ipow(int64_t base, int64_t e) {
    if (e < 0) return base == 1 ? 1 : base == -1 ? ((e & 1) ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)base;
    for (uint64_t u = (uint64_t)e; u; u >>= 1) {
        if (u & 1) r *= b;
        b *= b;
    }
    return (int64_t)r;
}

/* A float result stored into an integer: truncated, NaN -> 0, saturated at the type range. */
static int64_t sat_int(double d, int64_t lo, int64_t hi) {
    if (isnan(d)) return 0;
    if (d <= (double)lo) return lo;
    if (d >= (double)hi) return hi;
    return (int64_t)d;
}

static void pow_row_f32(int64_t n, void *yv, const void *const *x, const int64_t *s,
                        const void *ctx) {
    const pow_ctx *pc = ctx;
    const float *a = x[0];
    float *y = yv;
    if (pc->edt == ONYX_DTYPE_FLOAT32) {
        const float *b = x[1];
        if (!s[1]) {
            const float e = b[0];
            if (e == 2.0f) /* the common x^2 (e.g. variance) as one exact multiply */
                for (int64_t i = 0; i < n; i++)
                    y[i] = a[i * s[0]] * a[i * s[0]];
            else
                for (int64_t i = 0; i < n; i++)
                    y[i] = powf(a[i * s[0]], e);
        } else {
            for (int64_t i = 0; i < n; i++)
                y[i] = powf(a[i * s[0]], b[i]);
        }
        return;
    }
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)pow(a[i * s[0]], load_double(x[1], i * s[1], pc->edt));
}

static void pow_row_f64(int64_t n, void *yv, const void *const *x, const int64_t *s,
                        const void *ctx) {
    const pow_ctx *pc = ctx;
    const double *a = x[0];
    double *y = yv;
    for (int64_t i = 0; i < n; i++)
        y[i] = pow(a[i * s[0]], load_double(x[1], i * s[1], pc->edt));
}

#define POW_INT_ROW(name, T, LO, HI)                                                               \
    static void name(int64_t n, void *yv, const void *const *x, const int64_t *s,                  \
                     const void *ctx) {                                                            \
        const pow_ctx *pc = ctx;                                                                   \
        const T *a = x[0];                                                                         \
        T *y = yv;                                                                                 \
        if (is_int_dtype(pc->edt))                                                                 \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = (T)ipow(a[i * s[0]], load_int(x[1], i * s[1], pc->edt));                    \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = (T)sat_int(pow((double)a[i * s[0]], load_double(x[1], i * s[1], pc->edt)),  \
                                  LO, HI);                                                         \
    }

POW_INT_ROW(pow_row_i32, int32_t, INT32_MIN, INT32_MAX)
POW_INT_ROW(pow_row_i64, int64_t, INT64_MIN, INT64_MAX)

static onyxi_bcast_row pow_row(onyx_dtype dt) {
    switch (dt) {
    case ONYX_DTYPE_FLOAT32:
        return pow_row_f32;
    case ONYX_DTYPE_FLOAT64:
        return pow_row_f64;
    case ONYX_DTYPE_INT32:
        return pow_row_i32;
    case ONYX_DTYPE_INT64:
        return pow_row_i64;
    default:
        return NULL;
    }
}

/* ---- Where ---- */

/* Where copies element bits, so one kernel per element size serves every dtype. */
#define WHERE_ROW(name, T)                                                                         \
    static void name(int64_t n, void *yv, const void *const *x, const int64_t *s,                  \
                     const void *ctx) {                                                            \
        (void)ctx;                                                                                 \
        const uint8_t *c = x[0];                                                                   \
        const T *a = x[1], *b = x[2];                                                              \
        T *y = yv;                                                                                 \
        if (s[0] && s[1] && s[2])                                                                  \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = c[i] ? a[i] : b[i];                                                         \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = c[i * s[0]] ? a[i * s[1]] : b[i * s[2]];                                    \
    }

WHERE_ROW(where_row_1, uint8_t)
WHERE_ROW(where_row_2, uint16_t)
WHERE_ROW(where_row_4, uint32_t)
WHERE_ROW(where_row_8, uint64_t)

static onyxi_bcast_row where_row(onyx_dtype dt) {
    if (dt == ONYX_DTYPE_STRING || dt == ONYX_DTYPE_COMPLEX128) return NULL;
    switch (onyxi_dtype_size(dt)) {
    case 1:
        return where_row_1;
    case 2:
        return where_row_2;
    case 4:
        return where_row_4;
    case 8:
        return where_row_8;
    default:
        return NULL;
    }
}

/* ---- opset 1-6 broadcasting ---- */

/*
 * Before opset 7, Add/Sub/Mul/Div/Pow broadcast only B to A, and only with the attribute
 * broadcast=1; `axis` then places B's dims at A's axis `axis` instead of at the end. PRelu-6
 * applies a 1-D slope of A's dim-1 length per channel (axis 1), as PyTorch exported it.
 * *view receives input 1 with the shape it has under these rules (a copy of the struct);
 * the caller then broadcasts A with it and requires A's shape as the result.
 */
static onyx_status legacy_view(const onyxi_node *n, const onyx_tensor *A, const onyx_tensor *B,
                               onyx_tensor *view, onyxi_err *e) {
    *view = *B;
    if (strcmp(n->op_type, "PRelu") == 0) {
        if (B->rank == 1 && A->rank >= 2 && B->dims[0] == A->dims[1] && B->dims[0] > 1) {
            view->rank = A->rank - 1;
            for (int i = 1; i < view->rank; i++)
                view->dims[i] = 1;
        }
        return ONYX_OK;
    }
    if (!onyxi_attr_int(n, "broadcast", 0)) {
        int same = A->rank == B->rank;
        for (int i = 0; same && i < A->rank; i++)
            same = A->dims[i] == B->dims[i];
        if (!same) {
            char sa[160], sb[160];
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "input 1 has shape %s but input 0 has %s; before opset 7 shapes "
                              "must be equal unless attribute 'broadcast' is 1",
                              onyxi_shape_str(B->rank, B->dims, sb, sizeof sb),
                              onyxi_shape_str(A->rank, A->dims, sa, sizeof sa));
        }
        return ONYX_OK;
    }
    const onyxi_attr *ax = onyxi_attr_find(n, "axis");
    if (!ax) return ONYX_OK; /* suffix alignment: numpy's rule */
    int64_t axis = ax->i < 0 ? ax->i + A->rank : ax->i;
    if (axis < 0 || axis + B->rank > A->rank)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "attribute 'axis' is %lld: input 1 of rank %d does not fit in input 0 "
                          "of rank %d there",
                          (long long)ax->i, B->rank, A->rank);
    view->rank = A->rank; /* B's dims at [axis, axis + rank B), 1 around them */
    for (int i = 0; i < view->rank; i++)
        view->dims[i] = i >= axis && i < axis + B->rank ? B->dims[i - axis] : 1;
    return ONYX_OK;
}

/* ---- shape inference ---- */

typedef enum bin_kind {
    K_ARITH, /* Add Sub Mul Div: same dtypes, output of that dtype */
    K_CMP,   /* comparisons: same dtypes, bool output */
    K_POW,   /* base and exponent dtypes may differ from opset 12 */
    K_PRELU, /* slope broadcasts to X; output X's shape */
    K_WHERE, /* bool condition, X and Y of one dtype */
} bin_kind;

typedef onyxi_bcast_row (*row_lookup)(onyx_dtype dt);

static const char *in_name(const onyxi_infer *c, int k) {
    return c->in[k] && c->in[k]->name ? c->in[k]->name : "";
}

/* ONYX_UNSUPPORTED for the dtypes ONNX allows but onyx does not run, else ONYX_TYPE_MISMATCH
 * (bool arithmetic, strings in Add, ...). */
static onyx_status refuse_dtype(onyxi_infer *c, int k, const char *what) {
    onyx_dtype dt = c->in[k]->dtype;
    onyx_status code = dt == ONYX_DTYPE_FLOAT16 || dt == ONYX_DTYPE_BFLOAT16 ||
                               dt == ONYX_DTYPE_STRING || dt == ONYX_DTYPE_COMPLEX64 ||
                               dt == ONYX_DTYPE_COMPLEX128
                           ? ONYX_UNSUPPORTED
                           : ONYX_TYPE_MISMATCH;
    return onyxi_fail(c->err, code, "input %d ('%s') has dtype %s, which %s does not support", k,
                      in_name(c, k), onyx_dtype_name(dt), what);
}

static onyx_status same_dtype(onyxi_infer *c, int k0, int k1) {
    if (c->in[k0]->dtype != c->in[k1]->dtype)
        return onyxi_fail(c->err, ONYX_TYPE_MISMATCH,
                          "input %d ('%s') has dtype %s but input %d ('%s') has dtype %s; they "
                          "must match",
                          k1, in_name(c, k1), onyx_dtype_name(c->in[k1]->dtype), k0, in_name(c, k0),
                          onyx_dtype_name(c->in[k0]->dtype));
    return ONYX_OK;
}

static onyx_status infer_binary(onyxi_infer *c, bin_kind kind, row_lookup rows) {
    const char *op = c->node->op_type;
    for (int k = 0; k < c->n_in; k++)
        if (!c->in[k]) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input %d is absent", k);
    int first = 0; /* the operand whose dtype selects the kernel */
    if (kind == K_WHERE) {
        ONYXI_CHECK(onyxi_infer_expect_dtype(c, 0, ONYX_DTYPE_BOOL));
        ONYXI_CHECK(same_dtype(c, 1, 2));
        first = 1;
    } else if (kind == K_POW) {
        onyx_dtype et = c->in[1]->dtype;
        if (c->node->opset < 12)
            ONYXI_CHECK(same_dtype(c, 0, 1));
        else if (!is_int_dtype(et) && et != ONYX_DTYPE_FLOAT32 && et != ONYX_DTYPE_FLOAT64)
            return refuse_dtype(c, 1, "Pow's exponent");
    } else {
        ONYXI_CHECK(same_dtype(c, 0, 1));
    }
    if (!rows(c->in[first]->dtype)) return refuse_dtype(c, first, op);
    if (kind == K_POW && c->node->opset < 12 && is_int_dtype(c->in[0]->dtype))
        return onyxi_fail(c->err, ONYX_TYPE_MISMATCH,
                          "input 0 has dtype %s; integer Pow needs opset 12 (model has %lld)",
                          onyx_dtype_name(c->in[0]->dtype), (long long)c->node->opset);

    int rank;
    int64_t dims[ONYXI_MAX_RANK];
    const int legacy = c->node->opset < 7;
    if (legacy) {
        ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
        ONYXI_CHECK(onyxi_infer_expect_known(c, 1));
        onyx_tensor bv;
        ONYXI_CHECK(legacy_view(c->node, c->in[0], c->in[1], &bv, c->err));
        const onyx_tensor *t[2] = {c->in[0], &bv};
        ONYXI_CHECK(onyxi_bcast_shape(2, t, 0, &rank, dims, c->err));
    } else {
        ONYXI_CHECK(onyxi_bcast_infer(c, 0, c->n_in, &rank, dims));
    }
    if (kind == K_PRELU || legacy) {
        /* unidirectional: the result must be X's own shape */
        const onyx_tensor *X = c->in[0], *s = c->in[1];
        int same = rank == X->rank;
        for (int i = 0; same && i < rank; i++)
            same = dims[i] == X->dims[i];
        if (!same) {
            char sx[160], ss[160];
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input 1 ('%s') of shape %s does not broadcast to input 0's "
                              "shape %s",
                              in_name(c, 1), onyxi_shape_str(s->rank, s->dims, ss, sizeof ss),
                              onyxi_shape_str(X->rank, X->dims, sx, sizeof sx));
        }
    }
    size_t nbytes;
    onyx_dtype out = kind == K_CMP ? ONYX_DTYPE_BOOL : c->in[first]->dtype;
    ONYXI_CHECK(onyxi_shape_nbytes(out, rank, dims, &nbytes, c->err));
    onyxi_infer_set(c, 0, out, rank, dims);
    return ONYX_OK;
}

/* ---- ref ---- */

typedef struct bin_state {
    onyxi_bcast plan;
    onyxi_bcast_row row; /* borrowed: static */
    pow_ctx pc;
} bin_state;

static onyx_status bin_init(onyxi_exec *x, row_lookup rows) {
    int first = x->n_in == 3 ? 1 : 0; /* Where's kernel follows X, not the condition */
    onyxi_bcast_row row = rows(x->in[first]->dtype);
    if (!row)
        return onyxi_fail(x->err, ONYX_INTERNAL, "no kernel for dtype %s",
                          onyx_dtype_name(x->in[first]->dtype));
    bin_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the element-wise state");
    x->state = st;
    st->row = row;
    st->pc.edt = x->in[1]->dtype;
    if (x->node->opset < 7) {
        onyx_tensor bv;
        ONYXI_CHECK(legacy_view(x->node, x->in[0], x->in[1], &bv, x->err));
        const onyx_tensor *t[2] = {x->in[0], &bv};
        return onyxi_bcast_plan(&st->plan, x->out[0], 2, t, x->err);
    }
    return onyxi_bcast_plan(&st->plan, x->out[0], x->n_in, x->in, x->err);
}

static onyx_status bin_run(onyxi_exec *x) {
    const bin_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "run without init");
    const void *ptr[ONYXI_BCAST_MAX_IN];
    for (int k = 0; k < x->n_in; k++)
        ptr[k] = x->in[k]->data;
    onyxi_bcast_run(&st->plan, x->out[0]->data, ptr, st->row, &st->pc);
    return ONYX_OK;
}

static void bin_fini(onyxi_exec *x) {
    onyxi_free(x->state);
    x->state = NULL;
}

/* `broadcast` and `axis` exist only before opset 7 (Add/Sub/Mul/Div-6, Pow-1). */
static onyx_status check_binary(const onyxi_node *n, onyxi_err *e) {
    if (n->opset >= 7 && (onyxi_attr_find(n, "broadcast") || onyxi_attr_find(n, "axis")))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attributes 'broadcast'/'axis' were removed in opset 7 (model has "
                          "%lld)",
                          (long long)n->opset);
    return ONYX_OK;
}

#define LEGACY_ATTRS                                                                               \
    {                                                                                              \
        {"broadcast", ONYXI_ATTR_INT}, {"axis", ONYXI_ATTR_INT}, {                                 \
            NULL, 0                                                                                \
        }                                                                                          \
    }
#define NO_ATTRS                                                                                   \
    {                                                                                              \
        { NULL, 0 }                                                                                \
    }

/* The exports of op o: attribute table (none), check, infer, the implementations (DNNL is
 * `&onyxi_binary_dnnl,` for the ops oneDNN runs, else empty). */
#define BINARY_EXPORTS(o, KIND, ATTRS, DNNL)                                                       \
    const onyxi_attr_spec onyxi_##o##_attrs[] = ATTRS;                                             \
    onyx_status onyxi_##o##_check(const onyxi_node *n, onyxi_err *e) {                             \
        return check_binary(n, e);                                                                 \
    }                                                                                              \
    onyx_status onyxi_##o##_infer(onyxi_infer *c) {                                                \
        return infer_binary(c, KIND, o##_row);                                                     \
    }                                                                                              \
    static onyx_status o##_init_ref(onyxi_exec *x) {                                               \
        return bin_init(x, o##_row);                                                               \
    }                                                                                              \
    static const onyxi_impl o##_ref = {"ref", o##_init_ref, bin_run, bin_fini};                    \
    const onyxi_impl *const onyxi_##o##_impls[] = {DNNL &o##_ref, NULL};

#define DNNL &onyxi_binary_dnnl,

BINARY_EXPORTS(add, K_ARITH, LEGACY_ATTRS, DNNL)
BINARY_EXPORTS(sub, K_ARITH, LEGACY_ATTRS, DNNL)
BINARY_EXPORTS(mul, K_ARITH, LEGACY_ATTRS, DNNL)
BINARY_EXPORTS(div, K_ARITH, LEGACY_ATTRS, DNNL)
BINARY_EXPORTS(pow, K_POW, LEGACY_ATTRS, )
BINARY_EXPORTS(prelu, K_PRELU, NO_ATTRS, )
BINARY_EXPORTS(equal, K_CMP, NO_ATTRS, )
BINARY_EXPORTS(less, K_CMP, NO_ATTRS, )
BINARY_EXPORTS(greater, K_CMP, NO_ATTRS, )
BINARY_EXPORTS(less_equal, K_CMP, NO_ATTRS, )
BINARY_EXPORTS(greater_equal, K_CMP, NO_ATTRS, )
BINARY_EXPORTS(where, K_WHERE, NO_ATTRS, )
