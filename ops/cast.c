/*
 * Cast-6/9/13/19 and CastLike-15/19 between float32, float64, float16, bfloat16, bool and
 * int8/16/32/64, uint8/16/32/64. Strings, complex and the float8 types of opset 19 are
 * ONYX_UNSUPPORTED (Cast-19's `saturate` only concerns float8, so it is accepted and ignored).
 * Rounding: to float16/bfloat16 round to nearest even (overflow -> inf, NaN stays NaN), as
 * numpy's astype and ONNX >= 1.14 do; float -> integer truncates toward zero with NaN -> 0 and
 * out-of-range values saturated (C and numpy leave those undefined / platform-dependent);
 * integer -> integer wraps modulo 2^bits as numpy; anything -> bool is "!= 0" (NaN -> true).
 */
#include <math.h>
#include <string.h>

#include "ops.h"

/* ---- checks and shape inference ---- */

static int castable(onyx_dtype dt) {
    switch (dt) {
    case ONYX_DTYPE_FLOAT32:
    case ONYX_DTYPE_FLOAT64:
    case ONYX_DTYPE_FLOAT16:
    case ONYX_DTYPE_BFLOAT16:
    case ONYX_DTYPE_BOOL:
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

static onyx_status check_saturate(const onyxi_node *n, onyxi_err *e) {
    if (n->opset < 19 && onyxi_attr_find(n, "saturate"))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'saturate' needs opset 19 (model has %lld)",
                          (long long)n->opset);
    return ONYX_OK;
}

onyx_status onyxi_cast_check(const onyxi_node *n, onyxi_err *e) {
    const onyxi_attr *to = onyxi_attr_find(n, "to");
    if (!to) return onyxi_fail(e, ONYX_INVALID_MODEL, "required attribute 'to' is missing");
    if (to->i < 1 || to->i > 20)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'to' is %lld, not an ONNX dtype",
                          (long long)to->i);
    return check_saturate(n, e);
}

onyx_status onyxi_cast_like_check(const onyxi_node *n, onyxi_err *e) {
    return check_saturate(n, e);
}

static onyx_status infer_cast_to(onyxi_infer *c, int64_t to) {
    const onyx_tensor *X = c->in[0];
    if (!castable(X->dtype))
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 0 ('%s') has dtype %s, which onyx "
                          "cannot cast",
                          X->name ? X->name : "", onyx_dtype_name(X->dtype));
    if (!castable((onyx_dtype)to)) {
        if (to > 16) /* float8 types of opset 19: not in onyx_dtype */
            return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                              "cast to dtype %lld (float8) is not "
                              "supported",
                              (long long)to);
        return onyxi_fail(c->err, ONYX_UNSUPPORTED, "cast to %s is not supported",
                          onyx_dtype_name((onyx_dtype)to));
    }
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes((onyx_dtype)to, X->rank, X->dims, &nbytes, c->err));
    onyxi_infer_set(c, 0, (onyx_dtype)to, X->rank, X->dims);
    return ONYX_OK;
}

onyx_status onyxi_cast_infer(onyxi_infer *c) {
    return infer_cast_to(c, onyxi_attr_int(c->node, "to", 0));
}

/* CastLike: the target dtype is input 1's (its shape and data do not matter). */
onyx_status onyxi_cast_like_infer(onyxi_infer *c) {
    if (!c->in[1]) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input 1 is absent");
    return infer_cast_to(c, c->in[1]->dtype);
}

/* ---- small float formats ---- */

/* The IEEE binary format with `mbits` mantissa bits and exponent bias `bias` nearest to d
 * (ties to even), as 16 bits: float16 is (10, 15), bfloat16 (7, 127). Rounding the exact
 * double once avoids the double rounding of going through float. */
static uint16_t round_small(double d, int mbits, int bias) {
    const uint16_t sign = signbit(d) ? 0x8000u : 0;
    const uint16_t inf = (uint16_t)(((2 * bias + 1) << mbits)); /* all-ones exponent */
    if (isnan(d)) return (uint16_t)(sign | inf | (1u << (mbits - 1)));
    double a = fabs(d);
    if (a < ldexp(1.0, 1 - bias)) {
        /* subnormal: units of 2^(1-bias-mbits); a carry into the exponent is still right */
        return (uint16_t)(sign | (uint16_t)nearbyint(ldexp(a, bias - 1 + mbits)));
    }
    if (isinf(a)) return (uint16_t)(sign | inf);
    int ex;
    double m = frexp(a, &ex); /* a = m * 2^ex, m in [0.5, 1) */
    int e = ex - 1;
    double q = nearbyint(ldexp(m, mbits + 1)); /* significand in [2^mbits, 2^(mbits+1)] */
    if (q >= ldexp(1.0, mbits + 1)) {
        q = ldexp(1.0, mbits);
        e++;
    }
    if (e > bias) return (uint16_t)(sign | inf);
    return (uint16_t)(sign | ((unsigned)(e + bias) << mbits) | ((unsigned)q - (1u << mbits)));
}

static double half_to_double(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

static float bf16_to_float(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- conversions ---- */

/*
 * Elements go through one of three exact intermediate forms: double (every float source),
 * int64 (every integer and bool source except uint64) or uint64. A chunk of the source is
 * widened into a stack buffer, then narrowed into the target: two tight loops, no allocation.
 */
enum { CHUNK = 256 };

typedef enum mid_kind { MID_F64, MID_I64, MID_U64 } mid_kind;

static mid_kind mid_of(onyx_dtype dt) {
    switch (dt) {
    case ONYX_DTYPE_FLOAT32:
    case ONYX_DTYPE_FLOAT64:
    case ONYX_DTYPE_FLOAT16:
    case ONYX_DTYPE_BFLOAT16:
        return MID_F64;
    case ONYX_DTYPE_UINT64:
        return MID_U64;
    default:
        return MID_I64;
    }
}

typedef union mid_buf {
    double f[CHUNK];
    int64_t i[CHUNK];
    uint64_t u[CHUNK];
} mid_buf;

#define WIDEN(T, DST)                                                                              \
    for (int64_t i = 0; i < n; i++)                                                                \
        DST[i] = ((const T *)src)[i];

static void widen(onyx_dtype dt, const void *src, int64_t n, mid_buf *m) {
    switch (dt) {
    case ONYX_DTYPE_FLOAT32:
        WIDEN(float, m->f) break;
    case ONYX_DTYPE_FLOAT64:
        WIDEN(double, m->f) break;
    case ONYX_DTYPE_FLOAT16:
        for (int64_t i = 0; i < n; i++)
            m->f[i] = half_to_double(((const uint16_t *)src)[i]);
        break;
    case ONYX_DTYPE_BFLOAT16:
        for (int64_t i = 0; i < n; i++)
            m->f[i] = bf16_to_float(((const uint16_t *)src)[i]);
        break;
    case ONYX_DTYPE_BOOL:
        for (int64_t i = 0; i < n; i++)
            m->i[i] = ((const uint8_t *)src)[i] != 0;
        break;
    case ONYX_DTYPE_INT8:
        WIDEN(int8_t, m->i) break;
    case ONYX_DTYPE_INT16:
        WIDEN(int16_t, m->i) break;
    case ONYX_DTYPE_INT32:
        WIDEN(int32_t, m->i) break;
    case ONYX_DTYPE_INT64:
        WIDEN(int64_t, m->i) break;
    case ONYX_DTYPE_UINT8:
        WIDEN(uint8_t, m->i) break;
    case ONYX_DTYPE_UINT16:
        WIDEN(uint16_t, m->i) break;
    case ONYX_DTYPE_UINT32:
        WIDEN(uint32_t, m->i) break;
    case ONYX_DTYPE_UINT64:
        WIDEN(uint64_t, m->u) break;
    default:
        break;
    }
}

/* double -> integer: truncate, NaN -> 0, saturate. lo/hi are the target's range as doubles
 * that are exactly representable limits (2^63 and 2^64 are exact doubles). */
static int64_t f2i(double d, int64_t lo, int64_t hi) {
    if (isnan(d)) return 0;
    if (d <= (double)lo) return lo;
    if (d >= (double)hi) return hi; /* (double)INT64_MAX is 2^63, so this also guards it */
    return (int64_t)d;
}

static uint64_t f2u64(double d) {
    if (isnan(d) || d <= 0) return 0;
    if (d >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)d;
}

#define NARROW(T, EXPR)                                                                            \
    for (int64_t i = 0; i < n; i++)                                                                \
        ((T *)dst)[i] = (T)(EXPR);

/* Integer sources into T: C's conversion, which wraps for narrower integer types (modular on
 * every compiler onyx supports) and rounds correctly for float32/float64. */
#define NARROW_INT(SRC)                                                                            \
    switch (dt) {                                                                                  \
    case ONYX_DTYPE_FLOAT32:                                                                       \
        NARROW(float, SRC[i]) break;                                                               \
    case ONYX_DTYPE_FLOAT64:                                                                       \
        NARROW(double, SRC[i]) break;                                                              \
    case ONYX_DTYPE_FLOAT16:                                                                       \
        NARROW(uint16_t, round_small((double)SRC[i], 10, 15)) break;                               \
    case ONYX_DTYPE_BFLOAT16:                                                                      \
        NARROW(uint16_t, round_small((double)SRC[i], 7, 127)) break;                               \
    case ONYX_DTYPE_BOOL:                                                                          \
        NARROW(uint8_t, SRC[i] != 0) break;                                                        \
    case ONYX_DTYPE_INT8:                                                                          \
        NARROW(int8_t, SRC[i]) break;                                                              \
    case ONYX_DTYPE_INT16:                                                                         \
        NARROW(int16_t, SRC[i]) break;                                                             \
    case ONYX_DTYPE_INT32:                                                                         \
        NARROW(int32_t, SRC[i]) break;                                                             \
    case ONYX_DTYPE_INT64:                                                                         \
        NARROW(int64_t, SRC[i]) break;                                                             \
    case ONYX_DTYPE_UINT8:                                                                         \
        NARROW(uint8_t, SRC[i]) break;                                                             \
    case ONYX_DTYPE_UINT16:                                                                        \
        NARROW(uint16_t, SRC[i]) break;                                                            \
    case ONYX_DTYPE_UINT32:                                                                        \
        NARROW(uint32_t, SRC[i]) break;                                                            \
    case ONYX_DTYPE_UINT64:                                                                        \
        NARROW(uint64_t, SRC[i]) break;                                                            \
    default:                                                                                       \
        break;                                                                                     \
    }

static void narrow(onyx_dtype dt, mid_kind k, const mid_buf *m, int64_t n, void *dst) {
    if (k == MID_I64) {
        NARROW_INT(m->i)
        return;
    }
    if (k == MID_U64) {
        NARROW_INT(m->u)
        return;
    }
    const double *f = m->f;
    switch (dt) {
    case ONYX_DTYPE_FLOAT32:
        NARROW(float, f[i]) break;
    case ONYX_DTYPE_FLOAT64:
        NARROW(double, f[i]) break;
    case ONYX_DTYPE_FLOAT16:
        NARROW(uint16_t, round_small(f[i], 10, 15)) break;
    case ONYX_DTYPE_BFLOAT16:
        NARROW(uint16_t, round_small(f[i], 7, 127)) break;
    case ONYX_DTYPE_BOOL:
        NARROW(uint8_t, f[i] != 0) break; /* NaN != 0 holds: true */
    case ONYX_DTYPE_INT8:
        NARROW(int8_t, f2i(f[i], INT8_MIN, INT8_MAX)) break;
    case ONYX_DTYPE_INT16:
        NARROW(int16_t, f2i(f[i], INT16_MIN, INT16_MAX)) break;
    case ONYX_DTYPE_INT32:
        NARROW(int32_t, f2i(f[i], INT32_MIN, INT32_MAX)) break;
    case ONYX_DTYPE_INT64:
        NARROW(int64_t, f2i(f[i], INT64_MIN, INT64_MAX)) break;
    case ONYX_DTYPE_UINT8:
        NARROW(uint8_t, f2i(f[i], 0, UINT8_MAX)) break;
    case ONYX_DTYPE_UINT16:
        NARROW(uint16_t, f2i(f[i], 0, UINT16_MAX)) break;
    case ONYX_DTYPE_UINT32:
        NARROW(uint32_t, f2i(f[i], 0, UINT32_MAX)) break;
    case ONYX_DTYPE_UINT64:
        NARROW(uint64_t, f2u64(f[i])) break;
    default:
        break;
    }
}

/* Converts count elements of src (dtype from) into dst (dtype to). dst may be src when both
 * element sizes are equal: each chunk is read completely before any of it is written. */
static void convert(onyx_dtype from, const void *src, onyx_dtype to, void *dst, int64_t count) {
    const size_t fs = onyxi_dtype_size(from), ts = onyxi_dtype_size(to);
    if (from == to) {
        if (dst != src) memcpy(dst, src, (size_t)count * fs);
        return;
    }
    mid_buf m;
    const mid_kind k = mid_of(from);
    for (int64_t i = 0; i < count; i += CHUNK) {
        int64_t n = count - i < CHUNK ? count - i : CHUNK;
        widen(from, (const char *)src + (size_t)i * fs, n, &m);
        narrow(to, k, &m, n, (char *)dst + (size_t)i * ts);
    }
}

static onyx_status cast_run_ref(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    convert(X->dtype, X->data, x->out[0]->dtype, x->out[0]->data,
            onyxi_shape_count(X->rank, X->dims));
    return ONYX_OK;
}

const onyxi_attr_spec onyxi_cast_attrs[] = {
    {"to", ONYXI_ATTR_INT}, {"saturate", ONYXI_ATTR_INT}, {NULL, 0}};
const onyxi_attr_spec onyxi_cast_like_attrs[] = {{"saturate", ONYXI_ATTR_INT}, {NULL, 0}};

static const onyxi_impl cast_ref = {"ref", NULL, cast_run_ref, NULL};
const onyxi_impl *const onyxi_cast_impls[] = {&cast_ref, NULL};
const onyxi_impl *const onyxi_cast_like_impls[] = {&cast_ref, NULL};
