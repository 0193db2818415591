/*
 * Vectorizable erf and GELU (vmath.h). Every element takes the same branch-free path, so the
 * loops compile to SIMD code: both halves of erf are computed and one is selected. GCC only
 * if-converts those selects without -ftrapping-math, which CMakeLists.txt turns off for this
 * file (nothing here enables floating-point traps). The same inline body is instantiated once
 * for the baseline ISA and once for AVX2+FMA, picked per call from the CPU's features.
 *
 * erf(x), |x| <= 0.921875: x + x * P(x^2), P of degree 6 (the small product keeps the
 * rounding of the result near half an ulp). Above, 1 - exp(Q(|x|)) with Q of degree 7
 * approximating log(erfc), and exp by 2^k * E(f), |f| <= ln2 / 2. Above 3.92 erf rounds to
 * 1. The coefficients are minimax fits (Lawson's algorithm) rounded to float; measured
 * over every float in [1e-30, 6] of both signs against double erf: at most 1.13 ulp and
 * 8.2e-8 relative with FMA, 1.40 ulp and 1.02e-7 relative without.
 */
#include <math.h>
#include <string.h>

#include "vmath.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define VMATH_X86 1
#endif

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* a * b + c, fused when the instance is the FMA one (fma_ is a constant after inlining) */
#define MADD(a, b, c) (fma_ ? fmaf((a), (b), (c)) : (a) * (b) + (c))

ALWAYS_INLINE float erf_one(float x, int fma_) {
    const float t = fabsf(x), s = x * x;
    float p = 8.37014231e-05f;
    p = MADD(p, s, -0.000814271567f);
    p = MADD(p, s, 0.00520103332f);
    p = MADD(p, s, -0.0268593989f);
    p = MADD(p, s, 0.112836957f);
    p = MADD(p, s, -0.376126349f);
    p = MADD(p, s, 0.128379166f);
    const float small = MADD(x, p, x);

    /* clamped so that the unused half stays finite (NaN takes the small half) */
    float u = t > 0.921875f ? t : 0.921875f;
    u = u < 3.92f ? u : 3.92f;
    float q = -2.11841852e-05f;
    q = MADD(q, u, 0.000435477181f);
    q = MADD(q, u, -0.00417589862f);
    q = MADD(q, u, 0.0251319408f);
    q = MADD(q, u, -0.108299091f);
    q = MADD(q, u, -0.633329988f);
    q = MADD(q, u, -1.12952316f);
    q = MADD(q, u, 0.000176360933f);
    /* exp(q), q in [-18.4, -1.6]: k = round(q / ln2) by the 1.5 * 2^23 trick, f = q - k ln2
     * in two parts, then k goes straight into the exponent bits (the result stays normal) */
    const float kf = MADD(q, 1.44269504f, 12582912.0f) - 12582912.0f;
    float f = MADD(kf, -0.693145752f, q);
    f = MADD(kf, -1.42860677e-06f, f);
    float e = 0.00138368458f;
    e = MADD(e, f, 0.00837481581f);
    e = MADD(e, f, 0.0416682251f);
    e = MADD(e, f, 0.166664198f);
    e = MADD(e, f, 0.499999911f);
    e = MADD(e, f, 1.0f);
    e = MADD(e, f, 1.0f);
    uint32_t bits;
    memcpy(&bits, &e, sizeof bits);
    bits += (uint32_t)(int32_t)kf << 23;
    memcpy(&e, &bits, sizeof e);
    float big = t < 3.92f ? 1.0f - e : 1.0f;
    big = copysignf(big, x);
    return t > 0.921875f ? big : small;
}

/* Through a small buffer: y may be x, and the compiler need not prove they do not overlap. */
ALWAYS_INLINE void erf_body(const float *x, float *y, int64_t n, int fma_) {
    enum { BLOCK = 256 };
    float buf[BLOCK];
    for (int64_t i = 0; i < n; i += BLOCK) {
        const int64_t m = n - i < BLOCK ? n - i : BLOCK;
        for (int64_t j = 0; j < m; j++)
            buf[j] = erf_one(x[i + j], fma_);
        memcpy(y + i, buf, (size_t)m * sizeof *buf);
    }
}

/* The unfused nodes' arithmetic: Div (or Mul), Erf, Add 1, Mul by v, Mul by 0.5. */
ALWAYS_INLINE void gelu_body(float *y, int64_t n, float c, int mul, int fma_) {
    if (mul) {
        for (int64_t j = 0; j < n; j++) {
            const float v = y[j];
            y[j] = v * (erf_one(v * c, fma_) + 1.0f) * 0.5f;
        }
    } else {
        for (int64_t j = 0; j < n; j++) {
            const float v = y[j];
            y[j] = v * (erf_one(v / c, fma_) + 1.0f) * 0.5f;
        }
    }
}

static void erf_base(const float *x, float *y, int64_t n) {
    erf_body(x, y, n, 0);
}

static void gelu_base(float *y, int64_t n, float c, int mul) {
    gelu_body(y, n, c, mul, 0);
}

#ifdef VMATH_X86
__attribute__((target("avx2,fma"))) static void erf_avx2(const float *x, float *y, int64_t n) {
    erf_body(x, y, n, 1);
}

__attribute__((target("avx2,fma"))) static void gelu_avx2(float *y, int64_t n, float c, int mul) {
    gelu_body(y, n, c, mul, 1);
}

/* libgcc fills the feature table before main (and before any library constructor runs
 * kernels), so this only reads it */
static int have_avx2_fma(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

void onyxi_erf_f32(const float *x, float *y, int64_t n) {
#ifdef VMATH_X86
    if (have_avx2_fma()) {
        erf_avx2(x, y, n);
        return;
    }
#endif
    erf_base(x, y, n);
}

void onyxi_gelu_f32(float *y, int64_t n, float c, int mul) {
#ifdef VMATH_X86
    if (have_avx2_fma()) {
        gelu_avx2(y, n, c, mul);
        return;
    }
#endif
    gelu_base(y, n, c, mul);
}
