/*
 * Conv as Winograd F(4x4, 3x3) on AVX2+FMA ("wino"): 2-D, 3x3 kernel, stride 1, dilation 1,
 * group 1, any pads, float32, constant weights, bias and the fused post-op chain of conv.c.
 * oneDNN 2.6 has no Winograd for AVX2 (its AVX-512 ones take at most 64x64 channels here,
 * conv_dnnl.c), and F(4x4, 3x3) does a 4x4 output tile with 36 multiplies per input/output
 * channel pair instead of 144: with 32+ channels on 7x7 to 56x56 planes it runs 1.2-4x faster
 * than oneDNN's direct kernels. It loses where the transformed weights U (4x the raw ones)
 * dwarf the work, e.g. 512x512 channels on 7x7 (38 MB of U for 4 tiles); the session's
 * measured selection keeps oneDNN there (bench/conv_kernels.c times both).
 *
 * Per block of tiles: the input transform B^T d B turns each 6x6 input patch (8 channels at a
 * time, nhwc) into 36 rows V[p][tile][c]; 36 independent GEMMs V[p] x U[p] (U = G g G^T, the
 * weights transformed once at init and shared through the model's weight cache) give
 * O[p][tile][m]; the output transform A^T o A, the bias and the post-ops finish 4x4 outputs.
 * Works natively on nhwc ("acdb") and nChw8c inputs, reorders anything else into nhwc with
 * oneDNN; writes nhwc when the consumers take blocked layouts, plain NCHW otherwise.
 * The kernels are compiled for AVX2+FMA by function attributes and chosen only when the CPU
 * has both; other CPUs and non-x86 builds decline (ONYX_UNSUPPORTED) and the next impl runs.
 */
#include <string.h>

#include "../runtime/dnnl_util.h"
#include "../runtime/weights.h"
#include "conv.h"
#include "postops.h"

#if defined(__x86_64__)

#include <immintrin.h>

#define WINO_TARGET __attribute__((target("avx2,fma")))
#define WINO_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

enum {
    WINO_NR = 16, /* GEMM microkernel width: output channels (two ymm) */
    WINO_MR = 6,  /* and height: tiles */
    /* floats of V + O one thread keeps for a block of tiles (512 KiB, half of L2) */
    WINO_BLOCK_FLOATS = 1 << 17,
    WINO_PANEL_FLOATS = 1 << 16, /* U floats of one K chunk for a chunk of output channels */
    /* floats after each of the 36 planes of V, O and U: with power-of-two plane strides the
     * 36 accesses of one transform would share one L1 set */
    WINO_PAD = 16,
};

/* An addend of a fused Add: the node input, reordered into the output's layout when the
 * producer's differs. */
typedef struct wino_res {
    int input;
    dnnl_primitive_t reorder; /* NULL: read the input as it is */
    dnnl_memory_t user, mem;
    float *buf; /* owned */
} wino_res;

typedef struct wino_state {
    int64_t N, C, H, W, M, OH, OW, pt, pl; /* geometry; pt/pl: pads at the top/left */
    int64_t TY, TX, NT;                    /* tiles down, across, in all */
    int64_t Cp, Mp;                        /* C rounded up to 8, M to WINO_NR */
    /* input addressing in floats: image, block of 8 channels, row, pixel (lanes contiguous) */
    int64_t xs_n, xs_cb, xs_y, xs_x;
    int x_tail; /* lanes valid in the last channel block when they must be masked, else 8 */
    int out_nhwc;
    int64_t x_dims[ONYXI_MAX_RANK];
    /* work split: nblocks blocks of tiles x mchunks chunks of Mc output channels */
    int threads, nblocks, mchunks;
    int64_t Tmax, Mc, vps, ops; /* largest block; V and O plane strides (floats) */
    int64_t kc;                 /* GEMM chunk of K (input channels) */
    size_t thread_floats;       /* scratch floats per thread (V, O, a border patch) */
    const float *U;             /* borrowed: weight cache (or u_own) */
    float *u_own;               /* owned when there is no weight cache */
    int n_post;
    onyxi_post_op post[ONYXI_MAX_POST_OPS];
    int post_res[ONYXI_MAX_POST_OPS]; /* ONYXI_POST_ADD: index into res */
    int n_res;
    wino_res res[ONYXI_MAX_POST_OPS];
    /* an input layout the kernel does not read is reordered into src_buf (nhwc) */
    dnnl_primitive_t src_reorder;
    dnnl_memory_t src_user, src_mem;
    float *src_buf;            /* owned */
    dnnl_memory_desc_t dst_md; /* the output's layout when nhwc (x->out[0]->layout) */
} wino_state;

/* What one run reads and writes, shared by the threads. */
typedef struct wino_args {
    const float *x, *bias;
    float *y;
    const float *add[ONYXI_MAX_POST_OPS]; /* per post-op: the addend of an Add */
    float *scratch;
} wino_args;

/* ---- transforms --------------------------------------------------------------------------
 * F(4x4, 3x3) with the points 0, +-1, +-2, +-1/2 (Lavin & Gray): the B^T and A^T below need
 * only adds and multiplies by small integers, and G's fractions go into the weights. */

/* B^T d along one axis: d0..d5 -> t0..t5. */
WINO_INLINE void bt6(__m256 d0, __m256 d1, __m256 d2, __m256 d3, __m256 d4, __m256 d5, __m256 *t) {
    const __m256 four = _mm256_set1_ps(4.f), five = _mm256_set1_ps(5.f), two = _mm256_set1_ps(2.f);
    __m256 p = _mm256_fnmadd_ps(four, d2, d4); /* d4 - 4 d2 */
    __m256 q = _mm256_fnmadd_ps(four, d1, d3); /* d3 - 4 d1 */
    __m256 r = _mm256_sub_ps(d4, d2);
    __m256 s = _mm256_sub_ps(d3, d1);
    t[0] = _mm256_fmadd_ps(four, d0, _mm256_fnmadd_ps(five, d2, d4));
    t[1] = _mm256_add_ps(p, q);
    t[2] = _mm256_sub_ps(p, q);
    t[3] = _mm256_fmadd_ps(two, s, r);
    t[4] = _mm256_fnmadd_ps(two, s, r);
    t[5] = _mm256_fmadd_ps(four, d1, _mm256_fnmadd_ps(five, d3, d5));
}

/* A^T m along one axis: m0..m5 -> o0..o3. */
WINO_INLINE void at6(__m256 m0, __m256 m1, __m256 m2, __m256 m3, __m256 m4, __m256 m5, __m256 *o) {
    const __m256 two = _mm256_set1_ps(2.f), four = _mm256_set1_ps(4.f), eight = _mm256_set1_ps(8.f);
    __m256 a = _mm256_add_ps(m1, m2), b = _mm256_sub_ps(m1, m2);
    __m256 c = _mm256_add_ps(m3, m4), d = _mm256_sub_ps(m3, m4);
    o[0] = _mm256_add_ps(_mm256_add_ps(m0, a), c);
    o[1] = _mm256_fmadd_ps(two, d, b);
    o[2] = _mm256_fmadd_ps(four, c, a);
    o[3] = _mm256_add_ps(_mm256_fmadd_ps(eight, d, b), m5);
}

/* Lane mask of the first n lanes (0..8). */
WINO_INLINE __m256i lane_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* B^T d B of the 6x6 patch at d (rows ys floats apart, pixels xs apart), 8 channels, into the
 * 36 planes of V at vt (vps floats apart). */
WINO_INLINE void bt_patch(const float *d, int64_t ys, int64_t xs, float *vt, int64_t vps) {
    __m256 w[6][6]; /* rows transformed along x */
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) {
        const float *r = d + i * ys;
        bt6(_mm256_loadu_ps(r), _mm256_loadu_ps(r + xs), _mm256_loadu_ps(r + 2 * xs),
            _mm256_loadu_ps(r + 3 * xs), _mm256_loadu_ps(r + 4 * xs), _mm256_loadu_ps(r + 5 * xs),
            w[i]);
    }
#pragma GCC unroll 6
    for (int j = 0; j < 6; j++) {
        __m256 v[6];
        bt6(w[0][j], w[1][j], w[2][j], w[3][j], w[4][j], w[5][j], v);
#pragma GCC unroll 6
        for (int i = 0; i < 6; i++)
            _mm256_store_ps(vt + (i * 6 + j) * vps, v[i]);
    }
}

/* Input transform of tiles t0 .. t0+T-1 (all channels) into V: plane p, row t, column c.
 * Tiles inside the image are read in place; border tiles (and every tile when the last
 * channel block must be masked) are first copied with their zeros into patch[6][6][Cp]. */
WINO_TARGET static void input_transform(const wino_state *st, const float *x, float *V,
                                        float *patch, int64_t t0, int64_t T) {
    const int64_t ncb = st->Cp / 8, tpi = st->TY * st->TX, Cp = st->Cp;
    const __m256i tail = lane_mask(st->x_tail);
    const __m256 zero = _mm256_setzero_ps();
    for (int64_t t = 0; t < T; t++) {
        int64_t g = t0 + t, n = g / tpi, ty = g % tpi / st->TX, tx = g % st->TX;
        int64_t iy0 = ty * 4 - st->pt, ix0 = tx * 4 - st->pl;
        const float *xn = x + n * st->xs_n;
        float *vt = V + t * Cp;
        if (iy0 >= 0 && iy0 + 6 <= st->H && ix0 >= 0 && ix0 + 6 <= st->W && st->x_tail == 8) {
            const float *d = xn + iy0 * st->xs_y + ix0 * st->xs_x;
            for (int64_t cb = 0; cb < ncb; cb++)
                bt_patch(d + cb * st->xs_cb, st->xs_y, st->xs_x, vt + cb * 8, st->vps);
            continue;
        }
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) {
                float *pp = patch + (i * 6 + j) * Cp;
                int64_t iy = iy0 + i, ix = ix0 + j;
                if (iy < 0 || iy >= st->H || ix < 0 || ix >= st->W) {
                    for (int64_t cb = 0; cb < ncb; cb++)
                        _mm256_store_ps(pp + cb * 8, zero);
                    continue;
                }
                const float *src = xn + iy * st->xs_y + ix * st->xs_x;
                for (int64_t cb = 0; cb < ncb; cb++)
                    _mm256_store_ps(pp + cb * 8,
                                    cb == ncb - 1 && st->x_tail < 8
                                        ? _mm256_maskload_ps(src + cb * st->xs_cb, tail)
                                        : _mm256_loadu_ps(src + cb * st->xs_cb));
            }
        for (int64_t cb = 0; cb < ncb; cb++)
            bt_patch(patch + cb * 8, 6 * Cp, Cp, vt + cb * 8, st->vps);
    }
}

/* ---- batched GEMM: O[p] = V[p] x U[p] for the 36 positions ------------------------------
 * A rows x 16 block of O accumulates in 2 x rows ymm registers over a chunk of K; U is packed
 * as [p][m / 16][k][16] so the two loads per k are one cache line. */
WINO_INLINE void micro(const int rows, int64_t K, const float *a, int64_t lda, const float *b,
                       float *c, int64_t ldc, int acc) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    if (acc) { /* a later chunk of K: add to what the earlier ones left */
        c00 = _mm256_load_ps(c);
        c01 = _mm256_load_ps(c + 8);
        if (rows > 1) c10 = _mm256_load_ps(c + ldc), c11 = _mm256_load_ps(c + ldc + 8);
        if (rows > 2) c20 = _mm256_load_ps(c + 2 * ldc), c21 = _mm256_load_ps(c + 2 * ldc + 8);
        if (rows > 3) c30 = _mm256_load_ps(c + 3 * ldc), c31 = _mm256_load_ps(c + 3 * ldc + 8);
        if (rows > 4) c40 = _mm256_load_ps(c + 4 * ldc), c41 = _mm256_load_ps(c + 4 * ldc + 8);
        if (rows > 5) c50 = _mm256_load_ps(c + 5 * ldc), c51 = _mm256_load_ps(c + 5 * ldc + 8);
    }
    const float *a0 = a, *a1 = a + lda * (rows > 1), *a2 = a + 2 * lda * (rows > 2),
                *a3 = a + 3 * lda * (rows > 3), *a4 = a + 4 * lda * (rows > 4),
                *a5 = a + 5 * lda * (rows > 5);
    for (int64_t k = 0; k < K; k++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8), v;
        /* U comes from L2 (or L3 when the tiles are few): fetch ahead of the prefetcher */
        _mm_prefetch((const char *)(b + 8 * WINO_NR), _MM_HINT_T0);
        b += WINO_NR;
        v = _mm256_broadcast_ss(a0 + k);
        c00 = _mm256_fmadd_ps(v, b0, c00);
        c01 = _mm256_fmadd_ps(v, b1, c01);
        if (rows > 1) {
            v = _mm256_broadcast_ss(a1 + k);
            c10 = _mm256_fmadd_ps(v, b0, c10);
            c11 = _mm256_fmadd_ps(v, b1, c11);
        }
        if (rows > 2) {
            v = _mm256_broadcast_ss(a2 + k);
            c20 = _mm256_fmadd_ps(v, b0, c20);
            c21 = _mm256_fmadd_ps(v, b1, c21);
        }
        if (rows > 3) {
            v = _mm256_broadcast_ss(a3 + k);
            c30 = _mm256_fmadd_ps(v, b0, c30);
            c31 = _mm256_fmadd_ps(v, b1, c31);
        }
        if (rows > 4) {
            v = _mm256_broadcast_ss(a4 + k);
            c40 = _mm256_fmadd_ps(v, b0, c40);
            c41 = _mm256_fmadd_ps(v, b1, c41);
        }
        if (rows > 5) {
            v = _mm256_broadcast_ss(a5 + k);
            c50 = _mm256_fmadd_ps(v, b0, c50);
            c51 = _mm256_fmadd_ps(v, b1, c51);
        }
    }
    _mm256_store_ps(c, c00);
    _mm256_store_ps(c + 8, c01);
    if (rows > 1) {
        _mm256_store_ps(c + ldc, c10);
        _mm256_store_ps(c + ldc + 8, c11);
    }
    if (rows > 2) {
        _mm256_store_ps(c + 2 * ldc, c20);
        _mm256_store_ps(c + 2 * ldc + 8, c21);
    }
    if (rows > 3) {
        _mm256_store_ps(c + 3 * ldc, c30);
        _mm256_store_ps(c + 3 * ldc + 8, c31);
    }
    if (rows > 4) {
        _mm256_store_ps(c + 4 * ldc, c40);
        _mm256_store_ps(c + 4 * ldc + 8, c41);
    }
    if (rows > 5) {
        _mm256_store_ps(c + 5 * ldc, c50);
        _mm256_store_ps(c + 5 * ldc + 8, c51);
    }
}

/* Not inlined: inside the block loops the compiler ran out of registers and kept k on the
 * stack. */
WINO_TARGET __attribute__((noinline)) static void micro_rows(int rows, int64_t K, const float *a,
                                                             int64_t lda, const float *b, float *c,
                                                             int64_t ldc, int acc) {
    switch (rows) {
    case 6:
        micro(6, K, a, lda, b, c, ldc, acc);
        break;
    case 5:
        micro(5, K, a, lda, b, c, ldc, acc);
        break;
    case 4:
        micro(4, K, a, lda, b, c, ldc, acc);
        break;
    case 3:
        micro(3, K, a, lda, b, c, ldc, acc);
        break;
    case 2:
        micro(2, K, a, lda, b, c, ldc, acc);
        break;
    default:
        micro(1, K, a, lda, b, c, ldc, acc);
        break;
    }
}

/* O[p][0..T)[0..m1-m0) = V[p] x U[p][.., m0..m1) for every position p. Per chunk of K (st->kc)
 * the rows of one tile group stay in L1 while the chunk's U panels (kc x (m1 - m0), sized for
 * L2) stream past them. */
WINO_TARGET static void gemm_block(const wino_state *st, const float *V, float *O, int64_t T,
                                   int64_t m0, int64_t m1) {
    const int64_t K = st->C, nb = st->Mp / WINO_NR;
    for (int p = 0; p < 36; p++) {
        const float *vp = V + p * st->vps;
        float *op = O + p * st->ops;
        const float *up = st->U + p * (nb * K * WINO_NR + WINO_PAD);
        for (int64_t k0 = 0; k0 < K; k0 += st->kc) {
            int64_t kc = K - k0 < st->kc ? K - k0 : st->kc;
            for (int64_t t = 0; t < T;) {
                /* 7..9 rows left: two middling calls keep more accumulators busy than 6 + 1..3 */
                int64_t left = T - t;
                int rows = left > 9 || left == 6 ? WINO_MR
                           : left > 6            ? (int)(left + 1) / 2
                                                 : (int)left;
                for (int64_t m = m0; m < m1; m += WINO_NR)
                    micro_rows(rows, kc, vp + t * st->Cp + k0, st->Cp,
                               up + (m / WINO_NR * K + k0) * WINO_NR, op + t * st->Mc + (m - m0),
                               st->Mc, k0 > 0);
                t += rows;
            }
        }
    }
}

/* ---- output transform, bias and post-ops ------------------------------------------------ */

/* e^v for the sigmoid post-ops: Cephes' expf (range reduction by ln 2, degree-5 polynomial,
 * about 1 ulp); saturates outside +-88.37 and keeps NaN. */
WINO_INLINE __m256 exp8(__m256 v) {
    v = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f),
                      _mm256_max_ps(_mm256_set1_ps(-88.3762626647949f), v));
    __m256 fx = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), v);
    v = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), v);
    __m256 y = _mm256_set1_ps(1.9875691500E-4f);
    y = _mm256_fmadd_ps(y, v, _mm256_set1_ps(1.3981999507E-3f));
    y = _mm256_fmadd_ps(y, v, _mm256_set1_ps(8.3334519073E-3f));
    y = _mm256_fmadd_ps(y, v, _mm256_set1_ps(4.1665795894E-2f));
    y = _mm256_fmadd_ps(y, v, _mm256_set1_ps(1.6666665459E-1f));
    y = _mm256_fmadd_ps(y, v, _mm256_set1_ps(5.0000001201E-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(v, v), _mm256_add_ps(v, _mm256_set1_ps(1.f)));
    /* 2^fx in two halves: fx = 128 (v near 88.37) alone would overflow the exponent */
    __m256i k = _mm256_cvtps_epi32(fx);
    __m256i k1 = _mm256_srai_epi32(k, 1), k2 = _mm256_sub_epi32(k, k1);
    __m256 s1 =
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, _mm256_set1_epi32(127)), 23));
    __m256 s2 =
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
}

/* 1 / (1 + e^-v), as the Sigmoid kernel computes it (to within float rounding). */
WINO_INLINE __m256 sigmoid8(__m256 v) {
    const __m256 one = _mm256_set1_ps(1.f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), v))));
}

/* Where one vector of outputs lives, so that an Add reads its addend at the same places:
 * nhwc, 8 channels at off (lanes masked by mask); or NCHW, 4 pixels of channel c at off and of
 * channel c + 4 at off_hi (each present when lo_ok/hi_ok, pixels masked by m4). */
typedef struct wino_where {
    int nchw, lo_ok, hi_ok;
    int64_t off, off_hi;
    __m256i mask;
    __m128i m4;
} wino_where;

WINO_INLINE __m256 load_addend(const float *a, const wino_where *w) {
    if (!w->nchw) return _mm256_maskload_ps(a + w->off, w->mask);
    __m128 lo = w->lo_ok ? _mm_maskload_ps(a + w->off, w->m4) : _mm_setzero_ps();
    __m128 hi = w->hi_ok ? _mm_maskload_ps(a + w->off_hi, w->m4) : _mm_setzero_ps();
    return _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
}

/* The fused chain on one vector, with the formulas of postops.c (NaN-propagating operand
 * order: max/min return their second operand when either is NaN). */
WINO_INLINE __m256 apply_post(const wino_state *st, const wino_args *a, __m256 v,
                              const wino_where *w) {
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.f);
    for (int i = 0; i < st->n_post; i++) {
        const onyxi_post_op *p = &st->post[i];
        switch (p->kind) {
        case ONYXI_POST_RELU:
            v = _mm256_max_ps(zero, v);
            break;
        case ONYXI_POST_LEAKY_RELU:
            v = _mm256_blendv_ps(v, _mm256_mul_ps(_mm256_set1_ps(p->alpha), v),
                                 _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
            break;
        case ONYXI_POST_CLIP: /* also lo > hi: hi everywhere, as Clip does */
            v = _mm256_min_ps(_mm256_set1_ps(p->beta), _mm256_max_ps(_mm256_set1_ps(p->alpha), v));
            break;
        case ONYXI_POST_SIGMOID:
            v = sigmoid8(v);
            break;
        case ONYXI_POST_HARD_SIGMOID:
            v = _mm256_fmadd_ps(_mm256_set1_ps(p->alpha), v, _mm256_set1_ps(p->beta));
            v = _mm256_min_ps(one, _mm256_max_ps(zero, v));
            break;
        case ONYXI_POST_SILU:
            v = _mm256_mul_ps(v, sigmoid8(v));
            break;
        case ONYXI_POST_ADD:
            v = _mm256_add_ps(v, load_addend(a->add[i], w));
            break;
        default:
            break; /* init declines every other kind */
        }
    }
    return v;
}

/* Output transform of tiles t0 .. t0+T-1, output channels m0 .. m1-1 (O holds channels from
 * m0 on), plus bias and post-ops, into the output. */
WINO_TARGET static void output_transform(const wino_state *st, const wino_args *a, const float *O,
                                         int64_t t0, int64_t T, int64_t m0, int64_t m1) {
    const int64_t tpi = st->TY * st->TX, M = st->M, OH = st->OH, OW = st->OW;
    for (int64_t t = 0; t < T; t++) {
        int64_t g = t0 + t, n = g / tpi, oy0 = g % tpi / st->TX * 4, ox0 = g % st->TX * 4;
        int rows = OH - oy0 < 4 ? (int)(OH - oy0) : 4, cols = OW - ox0 < 4 ? (int)(OW - ox0) : 4;
        for (int64_t m = m0; m < m1; m += 8) {
            int lanes = m1 - m < 8 ? (int)(m1 - m) : 8;
            __m256i lmask = lane_mask(lanes);
            const float *ot = O + t * st->Mc + (m - m0);
            __m256 s[4][6], y[4][4];
            for (int j = 0; j < 6; j++) {
                __m256 o[4];
                at6(_mm256_load_ps(ot + (0 * 6 + j) * st->ops),
                    _mm256_load_ps(ot + (1 * 6 + j) * st->ops),
                    _mm256_load_ps(ot + (2 * 6 + j) * st->ops),
                    _mm256_load_ps(ot + (3 * 6 + j) * st->ops),
                    _mm256_load_ps(ot + (4 * 6 + j) * st->ops),
                    _mm256_load_ps(ot + (5 * 6 + j) * st->ops), o);
                for (int i = 0; i < 4; i++)
                    s[i][j] = o[i];
            }
            __m256 bias = a->bias ? _mm256_maskload_ps(a->bias + m, lmask) : _mm256_setzero_ps();
            for (int i = 0; i < rows; i++) {
                at6(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5], y[i]);
                for (int j = 0; j < 4; j++)
                    y[i][j] = _mm256_add_ps(y[i][j], bias);
            }
            if (st->out_nhwc) {
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < cols; j++) {
                        wino_where w = {.off = ((n * OH + oy0 + i) * OW + ox0 + j) * M + m,
                                        .mask = lmask};
                        __m256 v = apply_post(st, a, y[i][j], &w);
                        if (lanes == 8)
                            _mm256_storeu_ps(a->y + w.off, v);
                        else
                            _mm256_maskstore_ps(a->y + w.off, lmask, v);
                    }
                continue;
            }
            /* NCHW: transpose 4 pixels x 8 channels into [channel k | channel k + 4] x 4
             * pixels, k = 0..3, and store rows of 4 pixels per channel */
            __m128i m4 = _mm_cmpgt_epi32(_mm_set1_epi32(cols), _mm_setr_epi32(0, 1, 2, 3));
            for (int i = 0; i < rows; i++) {
                __m256 u0 = _mm256_unpacklo_ps(y[i][0], y[i][1]);
                __m256 u1 = _mm256_unpackhi_ps(y[i][0], y[i][1]);
                __m256 u2 = _mm256_unpacklo_ps(y[i][2], y[i][3]);
                __m256 u3 = _mm256_unpackhi_ps(y[i][2], y[i][3]);
                __m256 r[4] = {_mm256_shuffle_ps(u0, u2, 0x44), _mm256_shuffle_ps(u0, u2, 0xEE),
                               _mm256_shuffle_ps(u1, u3, 0x44), _mm256_shuffle_ps(u1, u3, 0xEE)};
                for (int k = 0; k < 4; k++) {
                    int64_t c = m + k;
                    wino_where w = {.nchw = 1,
                                    .lo_ok = k < lanes,
                                    .hi_ok = k + 4 < lanes,
                                    .off = ((n * M + c) * OH + oy0 + i) * OW + ox0,
                                    .off_hi = ((n * M + c + 4) * OH + oy0 + i) * OW + ox0,
                                    .m4 = m4};
                    if (!w.lo_ok) break;
                    __m256 v = apply_post(st, a, r[k], &w);
                    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
                    if (cols == 4) {
                        _mm_storeu_ps(a->y + w.off, lo);
                        if (w.hi_ok) _mm_storeu_ps(a->y + w.off_hi, hi);
                    } else {
                        float l[4], h[4];
                        _mm_storeu_ps(l, lo);
                        _mm_storeu_ps(h, hi);
                        for (int j = 0; j < cols; j++) {
                            a->y[w.off + j] = l[j];
                            if (w.hi_ok) a->y[w.off_hi + j] = h[j];
                        }
                    }
                }
            }
        }
    }
}

/* Thread tid's share of the (block of tiles, chunk of output channels) items. */
WINO_TARGET static void worker(const wino_state *st, const wino_args *a, int tid) {
    int64_t items = (int64_t)st->nblocks * st->mchunks;
    int64_t i0 = items * tid / st->threads, i1 = items * (tid + 1) / st->threads;
    float *V = a->scratch + (size_t)tid * st->thread_floats;
    float *O = V + 36 * st->vps, *patch = O + 36 * st->ops;
    int64_t last = -1;
    for (int64_t it = i0; it < i1; it++) {
        int64_t b = it / st->mchunks, mc = it % st->mchunks;
        int64_t t0 = st->NT * b / st->nblocks, t1 = st->NT * (b + 1) / st->nblocks;
        if (b != last) { /* consecutive chunks of one block share its transformed input */
            input_transform(st, a->x, V, patch, t0, t1 - t0);
            last = b;
        }
        int64_t m0 = mc * st->Mc, m1 = m0 + st->Mc < st->Mp ? m0 + st->Mc : st->Mp;
        gemm_block(st, V, O, t1 - t0, m0, m1);
        output_transform(st, a, O, t0, t1 - t0, m0, m1 < st->M ? m1 : st->M);
    }
}

/* ---- weights: U[p][m / 16][c][m % 16] = (G g G^T)[p], zero past M ----------------------- */

typedef struct wino_pack_ctx {
    const float *w;
    int64_t M, C, Mp;
    int threads;
} wino_pack_ctx;

/* G x (a, b, c) of F(4x4, 3x3): one axis of the weight transform, in double so that U is
 * G g G^T rounded once. */
WINO_INLINE void g6(__m256d a, __m256d b, __m256d c, __m256d *o) {
    const __m256d sixth = _mm256_set1_pd(-1.0 / 6), s = _mm256_add_pd(a, c);
    const __m256d q =
        _mm256_fmadd_pd(a, _mm256_set1_pd(1.0 / 24), _mm256_mul_pd(c, _mm256_set1_pd(1.0 / 6)));
    o[0] = _mm256_mul_pd(a, _mm256_set1_pd(0.25));
    o[1] = _mm256_mul_pd(_mm256_add_pd(s, b), sixth);
    o[2] = _mm256_mul_pd(_mm256_sub_pd(s, b), sixth);
    o[3] = _mm256_fmadd_pd(b, _mm256_set1_pd(1.0 / 12), q);
    o[4] = _mm256_fnmadd_pd(b, _mm256_set1_pd(1.0 / 12), q);
    o[5] = c;
}

/* 4 output channels m0.. (n valid) of input channel c: G g G^T into the 36 planes at u. */
WINO_TARGET static void pack_4(const wino_pack_ctx *pc, int64_t m0, int n, int64_t c, float *u,
                               int64_t plane) {
    const int ks = (int)(pc->C * 9); /* floats from one output channel's kernels to the next */
    const __m128i idx = _mm_mullo_epi32(_mm_setr_epi32(0, 1, 2, 3), _mm_set1_epi32(ks));
    const __m128i n4 = _mm_cmpgt_epi32(_mm_set1_epi32(n), _mm_setr_epi32(0, 1, 2, 3));
    const float *g = pc->w + (m0 * pc->C + c) * 9;
    __m256d k[9], t[3][6];
    for (int i = 0; i < 9; i++) /* lanes past M read nothing and are 0 */
        k[i] = _mm256_cvtps_pd(
            _mm_mask_i32gather_ps(_mm_setzero_ps(), g + i, idx, _mm_castsi128_ps(n4), 4));
    for (int col = 0; col < 3; col++)
        g6(k[col], k[3 + col], k[6 + col], t[col]);
    for (int i = 0; i < 6; i++) {
        __m256d r[6];
        g6(t[0][i], t[1][i], t[2][i], r);
        for (int j = 0; j < 6; j++)
            _mm_store_ps(u + (i * 6 + j) * plane, _mm256_cvtpd_ps(r[j]));
    }
}

static onyx_status pack_weights(void *ctx, void *dst, onyxi_err *e) {
    (void)e;
    const wino_pack_ctx *pc = ctx;
    float *U = dst;
    const int64_t C = pc->C, nb = pc->Mp / WINO_NR, plane = nb * C * WINO_NR + WINO_PAD;
    /* by blocks of 16 output channels: each (block, c) fills one cache line of every plane */
#pragma omp parallel for schedule(static) num_threads(pc->threads) if (pc->threads > 1)
    for (int64_t mb = 0; mb < nb; mb++)
        for (int64_t c = 0; c < C; c++)
            for (int h = 0; h < WINO_NR / 4; h++) {
                int64_t m0 = mb * WINO_NR + h * 4;
                int n = pc->M - m0 < 4 ? (int)(pc->M - m0) : 4;
                float *u = U + (mb * C + c) * WINO_NR + h * 4;
                if (n > 0) {
                    pack_4(pc, m0, n, c, u, plane);
                } else { /* output channels past M: zero weights */
                    for (int p = 0; p < 36; p++)
                        memset(u + p * plane, 0, 4 * sizeof(float));
                }
            }
    return ONYX_OK;
}

/* ---- init / run / fini ------------------------------------------------------------------ */

static void wino_fini(onyxi_exec *x) {
    wino_state *st = x->state;
    if (!st) return;
    if (st->src_reorder) dnnl_primitive_destroy(st->src_reorder);
    if (st->src_user) dnnl_memory_destroy(st->src_user);
    if (st->src_mem) dnnl_memory_destroy(st->src_mem);
    onyxi_free(st->src_buf);
    for (int i = 0; i < st->n_res; i++) {
        wino_res *r = &st->res[i];
        if (r->reorder) dnnl_primitive_destroy(r->reorder);
        if (r->user) dnnl_memory_destroy(r->user);
        if (r->mem) dnnl_memory_destroy(r->mem);
        onyxi_free(r->buf);
    }
    onyxi_free(st->u_own);
    onyxi_free(st);
    x->state = NULL;
}

/* A reorder from `from` into `to` whose destination is a new owned buffer *buf. */
static onyx_status make_reorder(onyxi_exec *x, const dnnl_memory_desc_t *from,
                                const dnnl_memory_desc_t *to, dnnl_primitive_t *prim,
                                dnnl_memory_t *user, dnnl_memory_t *mem, float **buf) {
    onyxi_err *e = x->err;
    if (!x->backend)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "a layout change needs the oneDNN backend");
    dnnl_engine_t eng = x->backend->engine;
    dnnl_primitive_desc_t rpd = NULL;
    ONYXI_DNNL(dnnl_reorder_primitive_desc_create(&rpd, from, eng, to, eng, NULL), e);
    dnnl_status_t ds = dnnl_primitive_create(prim, rpd);
    dnnl_primitive_desc_destroy(rpd);
    ONYXI_DNNL(ds, e);
    ONYXI_DNNL(dnnl_memory_create(user, from, eng, DNNL_MEMORY_NONE), e);
    size_t n = dnnl_memory_desc_get_size(to);
    if (!(*buf = onyxi_malloc(n ? n : 1)))
        return onyxi_fail(e, ONYX_NOMEM, "out of memory for a reordered input");
    ONYXI_DNNL(dnnl_memory_create(mem, to, eng, *buf), e);
    return ONYX_OK;
}

static onyx_status run_reorder(onyxi_exec *x, dnnl_primitive_t prim, dnnl_memory_t user,
                               dnnl_memory_t mem, const void *data) {
    ONYXI_DNNL(dnnl_memory_set_data_handle(user, (void *)data), x->err);
    dnnl_exec_arg_t r[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, mem}};
    ONYXI_DNNL(dnnl_primitive_execute(prim, x->backend->stream, 2, r), x->err);
    return ONYX_OK;
}

/* Blocks of tiles and chunks of output channels for `threads` threads. */
static void plan_work(wino_state *st, int threads) {
    int64_t per_tile = 36 * (st->Cp + st->Mp); /* floats of V + O per tile */
    int64_t tcache = WINO_BLOCK_FLOATS / per_tile;
    /* every block reads all of U (from L3 when it is large): at least 24 tiles share a read,
     * even if the block then outgrows the budget */
    if (tcache < 24) tcache = 24;
    int64_t nblocks = (st->NT + tcache - 1) / tcache, mchunks = 1, nbm = st->Mp / WINO_NR;
    if (nblocks < threads) {
        /* too few tiles to share: keep them in one block each and split the output channels,
         * so that U (the larger operand here) is still read once */
        mchunks = (threads + nblocks - 1) / nblocks;
        if (mchunks > nbm) mchunks = nbm;
    } else {
        /* equal shares: the nearest multiple of the thread count */
        nblocks = (nblocks + threads / 2) / threads * threads;
    }
    if (nblocks > st->NT) nblocks = st->NT;
    int64_t mc_blocks = (nbm + mchunks - 1) / mchunks;
    st->Mc = mc_blocks * WINO_NR;
    st->mchunks = (int)((nbm + mc_blocks - 1) / mc_blocks);
    st->nblocks = (int)nblocks;
    st->threads = threads;
    st->Tmax = (st->NT + nblocks - 1) / nblocks;
    st->vps = st->Tmax * st->Cp + WINO_PAD;
    st->ops = st->Tmax * st->Mc + WINO_PAD;
    st->thread_floats = (size_t)(36 * (st->vps + st->ops + st->Cp)); /* V, O, patch */
    /* K in equal chunks whose U panels (kc x Mc floats) take at most 256 KiB of L2 */
    int64_t kmax = WINO_PANEL_FLOATS / st->Mc, nk;
    if (kmax < 16) kmax = 16;
    nk = (st->C + kmax - 1) / kmax;
    st->kc = (st->C + nk - 1) / nk;
}

static onyx_status wino_init(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0], *W = x->in[1];
    const onyx_tensor *B = x->n_in > 2 ? x->in[2] : NULL;
    onyxi_err *e = x->err;
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return ONYX_UNSUPPORTED;
    if (X->dtype != ONYX_DTYPE_FLOAT32 || X->rank != 4 || !(x->const_inputs & 2u) ||
        x->variant != 0) /* one kernel, no variants */
        return ONYX_UNSUPPORTED;
    conv_geom g;
    ONYXI_CHECK(onyxi_conv_geometry(x->node, X, W, B, &g, e));
    if (g.S != 2 || g.G != 1 || g.k[0] != 3 || g.k[1] != 3) return ONYX_UNSUPPORTED;
    for (int i = 0; i < 2; i++)
        if (g.stride[i] != 1 || g.dil[i] != 1) return ONYX_UNSUPPORTED;
    if (g.N < 1 || g.C < 1 || g.M < 1) return ONYX_UNSUPPORTED; /* empty: ref writes bias */
    int64_t ydims[4] = {g.N, g.M, g.out[0], g.out[1]};
    ONYXI_CHECK(onyxi_conv_post_check(x->node, x->n_in, x->in, 4, ydims, e));

    /* few tiles with many channel pairs: every run streams all of U (4x the raw weights) from
     * memory for little work; oneDNN's direct kernel wins there (512x512 on 7x7: 0.42x), and
     * leaving it out spares the session that transform's time and memory */
    if (g.N * ((g.out[0] + 3) / 4) * ((g.out[1] + 3) / 4) < 8 && g.C * g.M >= 65536)
        return ONYX_UNSUPPORTED;

    wino_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(e, ONYX_NOMEM, "out of memory for the conv state");
    x->state = st;
    st->N = g.N;
    st->C = g.C;
    st->M = g.M;
    st->H = g.in[0];
    st->W = g.in[1];
    st->OH = g.out[0];
    st->OW = g.out[1];
    st->pt = g.pad[0];
    st->pl = g.pad[1];
    st->TY = (st->OH + 3) / 4;
    st->TX = (st->OW + 3) / 4;
    st->NT = st->N * st->TY * st->TX;
    st->Cp = (st->C + 7) / 8 * 8;
    st->Mp = (st->M + WINO_NR - 1) / WINO_NR * WINO_NR;
    memcpy(st->x_dims, X->dims, sizeof st->x_dims);

    /* the input: nhwc or nChw8c read as they are, anything else reordered into nhwc */
    dnnl_memory_desc_t have, nhwc, c8;
    ONYXI_CHECK(onyxi_dnnl_md_of(&have, X, e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&nhwc, 4, X->dims, dnnl_acdb, e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&c8, 4, X->dims, dnnl_aBcd8b, e));
    int64_t HW = st->H * st->W;
    if (X->layout && dnnl_memory_desc_equal(&have, &c8)) {
        st->xs_n = st->Cp * HW;
        st->xs_cb = 8 * HW;
        st->xs_y = 8 * st->W;
        st->xs_x = 8;
        st->x_tail = 8; /* the padding lanes are inside the buffer, and never summed */
    } else {
        if (!(!X->layout && st->C == 1) && !dnnl_memory_desc_equal(&have, &nhwc)) {
            ONYXI_CHECK(make_reorder(x, &have, &nhwc, &st->src_reorder, &st->src_user, &st->src_mem,
                                     &st->src_buf));
        }
        st->xs_n = st->C * HW;
        st->xs_cb = 8;
        st->xs_y = st->C * st->W;
        st->xs_x = st->C;
        st->x_tail = st->C % 8 ? (int)(st->C % 8) : 8;
    }

    /* the output: nhwc when every consumer takes a blocked layout */
    dnnl_memory_desc_t out_md;
    st->out_nhwc = (x->blocked_ok & 1u) != 0;
    if (st->out_nhwc) {
        ONYXI_CHECK(onyxi_dnnl_md_dims(&out_md, 4, ydims, dnnl_acdb, e));
        ONYXI_CHECK(onyxi_dnnl_set_output(x, 0, &out_md, &st->dst_md));
    } else {
        ONYXI_CHECK(onyxi_dnnl_md_dims(&out_md, 4, ydims, dnnl_format_tag_undef, e));
    }

    /* the post-op chain; an addend in another layout than the output is reordered into it */
    const onyxi_fusion *f = onyxi_post_chain(x->node);
    st->n_post = f ? f->n_post : 0;
    for (int i = 0; i < st->n_post; i++)
        if (f->post[i].kind < ONYXI_POST_RELU || f->post[i].kind > ONYXI_POST_ADD)
            return ONYX_UNSUPPORTED; /* e.g. GELU: not written here */
    for (int i = 0; i < st->n_post; i++) {
        st->post[i] = f->post[i];
        if (f->post[i].kind != ONYXI_POST_ADD) continue;
        wino_res *r = &st->res[st->n_res];
        st->post_res[i] = st->n_res++;
        r->input = f->post[i].input;
        dnnl_memory_desc_t rmd;
        ONYXI_CHECK(onyxi_dnnl_md_of(&rmd, x->in[r->input], e));
        if (!dnnl_memory_desc_equal(&rmd, &out_md))
            ONYXI_CHECK(make_reorder(x, &rmd, &out_md, &r->reorder, &r->user, &r->mem, &r->buf));
    }

    /* the transformed weights, once per model */
    size_t ubytes;
    if (!onyxi_mul_size((size_t)st->Mp, (size_t)st->C, &ubytes) ||
        !onyxi_mul_size(ubytes, sizeof(float), &ubytes) ||
        !onyxi_add_size(ubytes, WINO_PAD * sizeof(float), &ubytes) ||
        !onyxi_mul_size(ubytes, 36, &ubytes))
        return onyxi_fail(e, ONYX_UNSUPPORTED, "the transformed weights are too large");
    wino_pack_ctx pc = {W->data, st->M, st->C, st->Mp, x->num_threads > 0 ? x->num_threads : 1};
    if (x->weights) {
        static const char key[] = "winograd F(4x4,3x3) v3";
        const void *u = NULL;
        ONYXI_CHECK(onyxi_weights_get(x->weights, x->node, 1, key, sizeof key, ubytes, pack_weights,
                                      &pc, &u, e));
        st->U = u;
        x->packed_inputs |= 2u; /* run reads U, never W: the model may release W's bytes */
    } else {
        if (!(st->u_own = onyxi_malloc(ubytes)))
            return onyxi_fail(e, ONYX_NOMEM, "out of memory for the transformed weights");
        ONYXI_CHECK(pack_weights(&pc, st->u_own, e));
        st->U = st->u_own;
    }

    plan_work(st, x->num_threads > 0 ? x->num_threads : 1);
    size_t scratch;
    if (!onyxi_mul_size(st->thread_floats * sizeof(float), (size_t)st->threads, &scratch))
        return onyxi_fail(e, ONYX_UNSUPPORTED, "the Winograd scratch is too large");
    x->scratch_bytes = scratch + 64; /* room to align it */
    x->detail = "winograd F(4x4,3x3):avx2";
    return ONYX_OK;
}

static onyx_status wino_run(onyxi_exec *x) {
    wino_state *st = x->state;
    if (memcmp(x->in[0]->dims, st->x_dims, sizeof st->x_dims) != 0)
        return onyxi_fail(x->err, ONYX_INTERNAL, "input shapes changed since init");
    wino_args a = {.x = x->in[0]->data, .y = x->out[0]->data};
    if (x->n_in > 2 && x->in[2]) a.bias = x->in[2]->data;
    if (st->src_reorder) {
        ONYXI_CHECK(run_reorder(x, st->src_reorder, st->src_user, st->src_mem, x->in[0]->data));
        a.x = st->src_buf;
    }
    for (int i = 0; i < st->n_post; i++) {
        if (st->post[i].kind != ONYXI_POST_ADD) continue;
        wino_res *r = &st->res[st->post_res[i]];
        a.add[i] = x->in[r->input]->data;
        if (r->reorder) {
            ONYXI_CHECK(run_reorder(x, r->reorder, r->user, r->mem, a.add[i]));
            a.add[i] = r->buf;
        }
    }
    if (st->src_reorder || st->n_res) ONYXI_DNNL(dnnl_stream_wait(x->backend->stream), x->err);
    a.scratch = (float *)(((uintptr_t)x->scratch + 63) & ~(uintptr_t)63);
    int threads = st->threads;
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
    for (int tid = 0; tid < threads; tid++)
        worker(st, &a, tid);
    return ONYX_OK;
}

#else /* not x86-64: the kernels need AVX2 */

static onyx_status wino_init(onyxi_exec *x) {
    (void)x;
    return ONYX_UNSUPPORTED;
}

static onyx_status wino_run(onyxi_exec *x) {
    return onyxi_fail(x->err, ONYX_INTERNAL, "the Winograd kernel runs only on x86-64");
}

static void wino_fini(onyxi_exec *x) {
    (void)x;
}

#endif

const onyxi_impl onyxi_conv_winograd = {"wino", wino_init, wino_run, wino_fini};
