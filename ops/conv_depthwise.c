/*
 * Depthwise Conv ("dw"): group == C_in == C_out, float32, 2-D, square 3x3 or 5x5 kernel, equal
 * strides of 1 or 2, dilation 1, any pads, optional bias and the fused activations Relu,
 * LeakyRelu, Clip, Sigmoid, HardSigmoid and SiLU (a fused Add or anything newer is declined).
 * AVX2+FMA, chosen at run time (__builtin_cpu_supports); everything else declines with
 * ONYX_UNSUPPORTED.
 *
 * Why: measured on the depthwise shapes of mobilenet_v2 and efficientnet_b0 (bench/dw_kernels.c),
 * oneDNN 2.6's AVX2 depthwise kernel is 1.4-2x slower than this one; its AVX-512 kernel is about
 * as fast (ahead on stride 2, behind on stride 1 and on its swish post-op). The session times
 * both on each node and keeps the faster.
 *
 * Layout: channels-last. The kernel reads the input as 8-channel vectors at (block, h, w), so it
 * takes nhwc ("acdb") and nChw8c ("aBcd8b") inputs as they are; any other layout (plain NCHW
 * included) is reordered by oneDNN into a step-owned nhwc buffer first. The output is nhwc
 * (acdb) when every consumer takes blocked layouts (x->blocked_ok), else it is computed into a
 * step-owned nhwc buffer and reordered to plain NCHW.
 *
 * Work split: rows of output (image, oh), and for small images blocks of channels too, over
 * x->num_threads OpenMP threads. A row goes in tiles of up to 8 adjacent outputs, register
 * blocked (dw_tile); Relu and Clip are applied on the way out of the tile, the other
 * activations in a pass over the finished row. Each output is computed the same way at any
 * thread count, so results do not depend on it.
 */
#include <math.h>
#include <string.h>

#include "conv.h"
#include "dnnl_stage.h"
#include "postops.h"
#include "../runtime/weights.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define DW_TARGET __attribute__((target("avx2,fma")))
#define DW_INLINE static inline __attribute__((always_inline)) DW_TARGET

/* One fused activation, as the kernel applies it to a vector of 8 outputs. */
typedef struct dw_post {
    int kind; /* ONYXI_POST_* (never ADD) */
    float a, b;
} dw_post;

/* What run needs, fixed at init. Strides are in floats. */
typedef struct dw_geom {
    int64_t N, C, H, W, OH, OW;
    int K, S, pt, pl;
    int nb;                              /* 8-channel blocks, ceil(C / 8) */
    int64_t in_cs, in_ws, in_hs, in_ns;  /* input: block, column, row and image strides */
    int64_t out_ws, out_hs, out_ns;      /* output (nhwc): column, row and image strides */
    int owl, owr;                        /* outputs [owl, owr) read no padding column */
    float lo, hi;                        /* the tiles clamp their results to [lo, hi] */
    int row_post;                        /* the chain (not a clamp) runs over each row */
    int n_post;
    dw_post post[ONYXI_MAX_POST_OPS];
} dw_geom;

typedef struct dw_state {
    dw_geom g;
    const float *wpack; /* borrowed: weight cache, or wown; per block: bias[8], taps[K*K][8] */
    float *wown;        /* owned: the packed weights when the session has no weight cache */
    onyxi_dnnl_stage src; /* input 0, reordered to nhwc when its layout is not read natively */
    /* plain output: the kernel writes obuf (nhwc), then a reorder writes output 0 */
    float *obuf; /* owned */
    dnnl_primitive_t out_reorder;
    dnnl_memory_t out_from, out_to;
    dnnl_memory_desc_t out_md; /* output 0's layout when nhwc (x->out[0]->layout) */
} dw_state;

/* ---- vector math ----------------------------------------------------------------------- */

/* e^x, clamped to [-87.3, 88] so that 2^n stays a normal float (beyond it the sigmoid is 0
 * or 1 to float precision anyway); NaN stays NaN. x = n ln2 + r with |r| <= ln2/2; e^r by a
 * degree-5 minimax polynomial (relative error 1.1e-7, fitted here for this range); 2^n through
 * the exponent bits. Rounding adds 1.5 * 2^23, which leaves n in the low mantissa bits, and
 * the polynomial is in Estrin's form: a tile activates eight vectors at once, so short
 * dependency chains and few multiplies (the FMA ports also run the convolution) matter more
 * than the last ulp. */
DW_INLINE __m256 dw_exp(__m256 x) {
    /* this operand order keeps NaN */
    x = _mm256_min_ps(_mm256_set1_ps(88.0f), _mm256_max_ps(_mm256_set1_ps(-87.3f), x));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), magic);
    __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693147180559945f), x);
    /* e^r = 1 + r + r^2 ((c2 + c3 r) + r^2 (c4 + c5 r)) */
    __m256 r2 = _mm256_mul_ps(r, r);
    __m256 lo = _mm256_fmadd_ps(_mm256_set1_ps(0.16667114f), r, _mm256_set1_ps(0.49999232f));
    __m256 hi = _mm256_fmadd_ps(_mm256_set1_ps(0.00831253f), r, _mm256_set1_ps(0.04189012f));
    __m256 p = _mm256_fmadd_ps(r2, _mm256_fmadd_ps(r2, hi, lo),
                               _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* t's bits are 0x4B400000 + n: shifted left by 23 only n << 23 survives */
    __m256i e = _mm256_add_epi32(_mm256_slli_epi32(_mm256_castps_si256(t), 23),
                                 _mm256_set1_epi32(127 << 23));
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* 1 / (1 + e^-v). 1 + e^-v lies in [1, 1.7e38]: rcp's 12 bits and one Newton step (~23 bits)
 * cost far less than a division, which would dominate a 3x3 tile (where rcp underflows, the
 * sigmoid is below 1.2e-38). */
DW_INLINE __m256 dw_sigmoid(__m256 v) {
    __m256 d = _mm256_add_ps(_mm256_set1_ps(1.0f), dw_exp(_mm256_sub_ps(_mm256_setzero_ps(), v)));
    __m256 q = _mm256_rcp_ps(d);
    return _mm256_mul_ps(q, _mm256_fnmadd_ps(d, q, _mm256_set1_ps(2.0f)));
}

/* One activation, with the formulas (and NaN behaviour) of postops.c. */
DW_INLINE __m256 dw_post1(int kind, float a, float b, __m256 v) {
    const __m256 zero = _mm256_setzero_ps();
    switch (kind) {
    case ONYXI_POST_RELU: return _mm256_max_ps(zero, v);
    case ONYXI_POST_LEAKY_RELU:
        return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(a)),
                                _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
    case ONYXI_POST_CLIP: /* a <= b, checked at init */
        return _mm256_min_ps(_mm256_set1_ps(b), _mm256_max_ps(_mm256_set1_ps(a), v));
    case ONYXI_POST_SIGMOID: return dw_sigmoid(v);
    case ONYXI_POST_HARD_SIGMOID:
        v = _mm256_add_ps(_mm256_mul_ps(v, _mm256_set1_ps(a)), _mm256_set1_ps(b));
        return _mm256_min_ps(_mm256_set1_ps(1.0f), _mm256_max_ps(zero, v));
    case ONYXI_POST_SILU: return _mm256_mul_ps(v, dw_sigmoid(v));
    default: return v;
    }
}

/* Loads and stores of one 8-channel vector; the last block of a C % 8 != 0 tensor is masked. */
DW_INLINE __m256 dw_load(const float *p, int masked, __m256i mask) {
    return masked ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p);
}

DW_INLINE void dw_store(float *p, __m256 v, int masked, __m256i mask) {
    if (masked)
        _mm256_maskstore_ps(p, mask, v);
    else
        _mm256_storeu_ps(p, v);
}

/* What padding columns read. */
static const float dw_zeros[8] __attribute__((aligned(32)));

/* ---- the row kernel ---------------------------------------------------------------------
 * One output row (oh) for the 8-channel blocks [cb0, cb1), in tiles of T adjacent outputs:
 * per kernel row, the tile's K weights stay in registers and each of its (T - 1) * S + K input
 * vectors is loaded once and feeds every output it touches. Blocks are the innermost loop, so
 * a tile's input pixels are read along their channels (contiguous in nhwc) while the blocks'
 * weights (bias + K*K vectors each) come from L1. Kernel rows [kh0, kh1) fall inside the
 * input; a tile whose columns reach into the padding (`edge`) reads zeros there. Results are
 * clamped to [lo, hi] on the way out (that is Relu, ReLU6 and Clip; +-inf without them); any
 * other activation runs over the finished row (dw_row_post). */
DW_INLINE void dw_tile(const dw_geom *g, const float *x, float *y, const float *w, int cb0,
                       int cb1, int kh0, int kh1, int64_t ih0, int64_t ow, const int K,
                       const int S, const int T, int masked, int edge, __m256i mask) {
    const int64_t ws = g->in_ws, cs = g->in_cs, wstride = 8 + K * K * 8;
    const int64_t iw0 = ow * S - g->pl;
    const __m256 lo = _mm256_set1_ps(g->lo), hi = _mm256_set1_ps(g->hi);
    for (int cb = cb0; cb < cb1; cb++) {
        const float *xb = x + cb * cs, *wb = w + cb * wstride;
        __m256 acc[8];
        const __m256 bias = _mm256_loadu_ps(wb);
#pragma GCC unroll 8
        for (int t = 0; t < T; t++) acc[t] = bias;
        for (int kh = kh0; kh < kh1; kh++) {
            const float *xr = xb + (ih0 + kh) * g->in_hs; /* column 0 of the input row */
            const float *wr = wb + 8 + kh * K * 8;
            __m256 wv[5];
#pragma GCC unroll 5
            for (int kw = 0; kw < K; kw++) wv[kw] = _mm256_loadu_ps(wr + kw * 8);
#pragma GCC unroll 24
            for (int j = 0; j < (T - 1) * S + K; j++) {
                /* (a pointer is formed only for a column inside the row) */
                const float *src = edge && (uint64_t)(iw0 + j) >= (uint64_t)g->W
                                       ? dw_zeros
                                       : xr + (iw0 + j) * ws;
                __m256 v = dw_load(src, masked, mask);
#pragma GCC unroll 8
                for (int t = 0; t < T; t++) {
                    int kw = j - t * S;
                    if (kw >= 0 && kw < K) acc[t] = _mm256_fmadd_ps(v, wv[kw], acc[t]);
                }
            }
        }
        /* this operand order keeps NaN, as Relu and Clip do */
#pragma GCC unroll 8
        for (int t = 0; t < T; t++)
            dw_store(y + (ow + t) * g->out_ws + cb * 8,
                     _mm256_min_ps(hi, _mm256_max_ps(lo, acc[t])), masked, mask);
    }
}

/* Tiles of 8 outputs along the row, or of 7 when that divides the width and 8 does not (the
 * 7, 14 and 28 wide maps of the CNNs); what remains goes in tiles of 4, 2 and 1. */
DW_INLINE void dw_row(const dw_geom *g, const float *x, float *y, const float *w, int cb0,
                      int cb1, int kh0, int kh1, int64_t ih0, const int K, const int S,
                      int masked, __m256i mask) {
    int64_t ow = 0;
#define DW_TILE(TT)                                                                                \
    do {                                                                                           \
        if (ow < g->owl || ow + (TT) > g->owr)                                                     \
            dw_tile(g, x, y, w, cb0, cb1, kh0, kh1, ih0, ow, K, S, TT, masked, 1, mask);           \
        else                                                                                       \
            dw_tile(g, x, y, w, cb0, cb1, kh0, kh1, ih0, ow, K, S, TT, masked, 0, mask);           \
        ow += (TT);                                                                                \
    } while (0)
    if (g->OW % 8 != 0 && g->OW % 7 == 0) {
        while (ow < g->OW) DW_TILE(7);
        return;
    }
    while (ow + 8 <= g->OW) DW_TILE(8);
    if (ow + 7 == g->OW) DW_TILE(7);
    if (ow + 4 <= g->OW) DW_TILE(4);
    if (ow + 2 <= g->OW) DW_TILE(2);
    if (ow < g->OW) DW_TILE(1);
#undef DW_TILE
}

typedef void (*dw_row_fn)(const dw_geom *g, const float *x, float *y, const float *w, int cb0,
                          int cb1, int kh0, int kh1, int64_t ih0, __m256i mask);

/* One row function per (kernel, stride, masked). 8 accumulators + K weights + 1 input fit the
 * 16 ymm registers. */
#define DW_ROW(K, S, M)                                                                            \
    static DW_TARGET void dw_row_##K##_##S##_##M(const dw_geom *g, const float *x, float *y,      \
                                                 const float *w, int cb0, int cb1, int kh0,       \
                                                 int kh1, int64_t ih0, __m256i mask) {             \
        dw_row(g, x, y, w, cb0, cb1, kh0, kh1, ih0, K, S, M, mask);                                \
    }
DW_ROW(3, 1, 0)
DW_ROW(3, 1, 1)
DW_ROW(3, 2, 0)
DW_ROW(3, 2, 1)
DW_ROW(5, 1, 0)
DW_ROW(5, 1, 1)
DW_ROW(5, 2, 0)
DW_ROW(5, 2, 1)

static dw_row_fn dw_pick(const dw_geom *g, int masked) {
    static const dw_row_fn fns[2][2][2] = {
        {{dw_row_3_1_0, dw_row_3_1_1}, {dw_row_3_2_0, dw_row_3_2_1}},
        {{dw_row_5_1_0, dw_row_5_1_1}, {dw_row_5_2_0, dw_row_5_2_1}},
    };
    return fns[g->K == 5][g->S == 2][masked];
}

/* The activations the tiles do not apply, over channels [c0, c1) of every output of the row
 * (still in L1). SiLU, the common case, is compiled in; anything else walks the chain. */
static DW_TARGET void dw_row_post(const dw_geom *g, float *y, int64_t c0, int64_t c1) {
    const int silu = g->n_post == 1 && g->post[0].kind == ONYXI_POST_SILU;
    int64_t n8 = (c1 - c0) / 8 * 8;
    int tail = (int)(c1 - c0 - n8);
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail),
                                      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int64_t ow = 0; ow < g->OW; ow++) {
        float *p = y + ow * g->out_ws + c0;
        if (silu) {
            for (int64_t c = 0; c < n8; c += 8) {
                __m256 v = _mm256_loadu_ps(p + c);
                _mm256_storeu_ps(p + c, _mm256_mul_ps(v, dw_sigmoid(v)));
            }
            if (tail) {
                __m256 v = _mm256_maskload_ps(p + n8, mask);
                _mm256_maskstore_ps(p + n8, mask, _mm256_mul_ps(v, dw_sigmoid(v)));
            }
            continue;
        }
        for (int64_t c = 0; c < n8 + (tail ? 8 : 0); c += 8) {
            int m = c == n8;
            __m256 v = m ? _mm256_maskload_ps(p + c, mask) : _mm256_loadu_ps(p + c);
            for (int i = 0; i < g->n_post; i++)
                v = dw_post1(g->post[i].kind, g->post[i].a, g->post[i].b, v);
            if (m)
                _mm256_maskstore_ps(p + c, mask, v);
            else
                _mm256_storeu_ps(p + c, v);
        }
    }
}

/* Work item `item`: output row (n, oh) for channel chunk item % nchunks. */
static DW_TARGET void dw_compute(const dw_geom *g, const float *xd, float *yd, const float *wpack,
                                 int nchunks, int64_t item) {
    int64_t chunk = item % nchunks, row = item / nchunks;
    int64_t n = row / g->OH, oh = row % g->OH;
    int cb0 = (int)(chunk * g->nb / nchunks), cb1 = (int)((chunk + 1) * g->nb / nchunks);
    int64_t ih0 = oh * g->S - g->pt;
    int kh0 = ih0 < 0 ? (int)-ih0 : 0;
    int kh1 = g->H - ih0 < g->K ? (int)(g->H - ih0) : g->K;
    if (kh1 < kh0) kh1 = kh0; /* the row lies wholly in the padding: bias only */
    const float *x = xd + n * g->in_ns;
    float *y = yd + n * g->out_ns + oh * g->out_hs;
    int tail = (int)(g->C % 8), nfull = (int)(g->C / 8);
    int full_end = cb1 < nfull ? cb1 : nfull;
    if (cb0 < full_end)
        dw_pick(g, 0)(g, x, y, wpack, cb0, full_end, kh0, kh1, ih0, _mm256_set1_epi32(-1));
    if (tail && cb1 > nfull) {
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail),
                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        dw_pick(g, 1)(g, x, y, wpack, nfull, nfull + 1, kh0, kh1, ih0, mask);
    }
    if (g->row_post) {
        int64_t c1 = (int64_t)cb1 * 8 < g->C ? (int64_t)cb1 * 8 : g->C;
        dw_row_post(g, y, (int64_t)cb0 * 8, c1);
    }
}

/* ---- init / run / fini ------------------------------------------------------------------ */

typedef struct dw_pack_ctx {
    const float *w, *b; /* b may be NULL */
    int64_t C;
    int KK;
} dw_pack_ctx;

static onyx_status dw_pack(void *ctx, void *dst, onyxi_err *e) {
    (void)e;
    const dw_pack_ctx *p = ctx;
    float *out = dst;
    int64_t nb = (p->C + 7) / 8, stride = 8 + (int64_t)p->KK * 8;
    memset(out, 0, (size_t)(nb * stride) * sizeof(float));
    for (int64_t c = 0; c < p->C; c++) {
        float *blk = out + (c / 8) * stride;
        blk[c % 8] = p->b ? p->b[c] : 0.0f;
        for (int t = 0; t < p->KK; t++) blk[8 + t * 8 + c % 8] = p->w[c * p->KK + t];
    }
    return ONYX_OK;
}

static void conv_fini_dw(onyxi_exec *x) {
    dw_state *st = x->state;
    if (!st) return;
    onyxi_dnnl_stage_fini(&st->src);
    if (st->out_reorder) dnnl_primitive_destroy(st->out_reorder);
    if (st->out_from) dnnl_memory_destroy(st->out_from);
    if (st->out_to) dnnl_memory_destroy(st->out_to);
    onyxi_free(st->obuf);
    onyxi_free(st->wown);
    onyxi_free(st);
    x->state = NULL;
}

/* The fused chain in kernel form; ONYX_UNSUPPORTED for an Add or a Clip with min > max. */
static onyx_status dw_read_post(onyxi_exec *x, const conv_geom *cg, dw_geom *g) {
    const onyxi_fusion *f = onyxi_post_chain(x->node);
    g->lo = -INFINITY;
    g->hi = INFINITY;
    if (!f) return ONYX_OK;
    int64_t dims[4] = {cg->N, cg->M, cg->out[0], cg->out[1]};
    ONYXI_CHECK(onyxi_conv_post_check(x->node, x->n_in, x->in, 4, dims, x->err));
    for (int i = 0; i < f->n_post; i++) {
        const onyxi_post_op *p = &f->post[i];
        /* Add, GELU, bias: not written here (dw_post1 would pass them through) */
        if (p->kind < ONYXI_POST_RELU || p->kind > ONYXI_POST_SILU) return ONYX_UNSUPPORTED;
        if (p->kind == ONYXI_POST_CLIP && !(p->alpha <= p->beta)) return ONYX_UNSUPPORTED;
        g->post[g->n_post++] = (dw_post){(int)p->kind, p->alpha, p->beta};
    }
    /* Relu and Clip alone are a clamp the tiles apply; anything else a pass over each row */
    if (g->n_post == 1 && g->post[0].kind == ONYXI_POST_RELU) {
        g->lo = 0.0f;
    } else if (g->n_post == 1 && g->post[0].kind == ONYXI_POST_CLIP) {
        g->lo = g->post[0].a;
        g->hi = g->post[0].b;
    } else {
        g->row_post = 1;
    }
    return ONYX_OK;
}

static onyx_status conv_init_dw(onyxi_exec *x) {
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return ONYX_UNSUPPORTED;
    const onyx_tensor *X = x->in[0], *W = x->in[1];
    const onyx_tensor *B = x->n_in > 2 ? x->in[2] : NULL;
    if (!x->backend || X->dtype != ONYX_DTYPE_FLOAT32 || X->rank != 4 ||
        !(x->const_inputs & 2u) || !W->data || (B && (!(x->const_inputs & 4u) || !B->data)))
        return ONYX_UNSUPPORTED;
    conv_geom cg;
    ONYXI_CHECK(onyxi_conv_geometry(x->node, X, W, B, &cg, x->err));
    if (cg.G != cg.C || cg.M != cg.C || cg.k[0] != cg.k[1] || (cg.k[0] != 3 && cg.k[0] != 5) ||
        cg.stride[0] != cg.stride[1] || (cg.stride[0] != 1 && cg.stride[0] != 2) ||
        cg.dil[0] != 1 || cg.dil[1] != 1 || cg.N < 1 || cg.C < 1 || cg.in[0] < 1 ||
        cg.in[1] < 1)
        return ONYX_UNSUPPORTED;
    /* keeps every int in the kernels (pads, kernel-row bounds, block counts) far from overflow */
    for (int i = 0; i < 2; i++)
        if (cg.pad[i] > (1 << 20) || cg.in[i] > (1 << 24) || cg.out[i] > (1 << 24))
            return ONYX_UNSUPPORTED;
    if (cg.C > (1 << 24)) return ONYX_UNSUPPORTED;

    dw_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the depthwise conv state");
    x->state = st;
    dw_geom *g = &st->g;
    g->N = cg.N;
    g->C = cg.C;
    g->H = cg.in[0];
    g->W = cg.in[1];
    g->OH = cg.out[0];
    g->OW = cg.out[1];
    g->K = (int)cg.k[0];
    g->S = (int)cg.stride[0];
    g->pt = (int)cg.pad[0];
    g->pl = (int)cg.pad[1];
    g->nb = (int)((cg.C + 7) / 8);
    ONYXI_CHECK(dw_read_post(x, &cg, g));
    /* interior outputs: ow * S - pl >= 0 and ow * S - pl + K <= W */
    int64_t owl = (g->pl + g->S - 1) / g->S, owr = g->W + g->pl >= g->K
                                                      ? (g->W + g->pl - g->K) / g->S + 1
                                                      : 0;
    if (owl > g->OW) owl = g->OW;
    if (owr > g->OW) owr = g->OW;
    if (owr < owl) owr = owl;
    g->owl = (int)owl;
    g->owr = (int)owr;

    /* the input: nhwc or nChw8c as it is, anything else reordered to nhwc */
    onyxi_err *e = x->err;
    dnnl_memory_desc_t have, nhwc, want;
    ONYXI_CHECK(onyxi_dnnl_md_of(&have, X, e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&nhwc, 4, X->dims, dnnl_acdb, e));
    dnnl_format_tag_t tag = X->layout ? onyxi_dnnl_tag_of(&have) : dnnl_abcd;
    int blocked8 = tag == dnnl_aBcd8b;
    want = tag == dnnl_acdb || blocked8 ? have : nhwc;
    ONYXI_CHECK(onyxi_dnnl_stage_init(x, 0, &have, &want, ONYXI_STAGE_BUFFER, &st->src));
    if (blocked8) {
        int64_t cp = (int64_t)g->nb * 8;
        g->in_ws = 8;
        g->in_hs = g->W * 8;
        g->in_cs = g->H * g->W * 8;
        g->in_ns = cp * g->H * g->W;
    } else {
        g->in_ws = g->C;
        g->in_hs = g->W * g->C;
        g->in_cs = 8;
        g->in_ns = g->H * g->W * g->C;
    }
    g->out_ws = g->C;
    g->out_hs = g->OW * g->C;
    g->out_ns = g->OH * g->OW * g->C;

    /* weights and bias packed per 8-channel block, once per model when there is a cache */
    dw_pack_ctx pc = {W->data, B ? B->data : NULL, g->C, g->K * g->K};
    size_t wbytes = (size_t)g->nb * (8 + (size_t)g->K * g->K * 8) * sizeof(float);
    if (x->weights) {
        static const char key[] = "dw:nhwc8:bias+taps";
        const void *packed = NULL;
        ONYXI_CHECK(onyxi_weights_get(x->weights, x->node, 1, key, sizeof key, wbytes, dw_pack,
                                      &pc, &packed, e));
        st->wpack = packed;
        x->packed_inputs |= B ? 6u : 2u; /* run reads only wpack (taps and bias) */
    } else {
        if (!(st->wown = onyxi_malloc(wbytes)))
            return onyxi_fail(e, ONYX_NOMEM, "out of memory for packed depthwise weights");
        ONYXI_CHECK(dw_pack(&pc, st->wown, e));
        st->wpack = st->wown;
    }

    /* the output: nhwc, or plain through a buffer and a reorder */
    const onyx_tensor *Y = x->out[0];
    dnnl_memory_desc_t out_nhwc, out_plain;
    ONYXI_CHECK(onyxi_dnnl_md_dims(&out_nhwc, 4, Y->dims, dnnl_acdb, e));
    if (x->blocked_ok & 1u) return onyxi_dnnl_set_output(x, 0, &out_nhwc, &st->out_md);
    ONYXI_CHECK(onyxi_dnnl_md_plain(&out_plain, Y, e));
    size_t obytes = dnnl_memory_desc_get_size(&out_nhwc);
    if (!(st->obuf = onyxi_malloc(obytes ? obytes : 1)))
        return onyxi_fail(e, ONYX_NOMEM, "out of memory for the depthwise conv's nhwc output");
    dnnl_engine_t eng = x->backend->engine;
    dnnl_primitive_desc_t rpd = NULL;
    ONYXI_DNNL(dnnl_reorder_primitive_desc_create(&rpd, &out_nhwc, eng, &out_plain, eng, NULL), e);
    onyx_status rc = onyxi_dnnl_check(dnnl_primitive_create(&st->out_reorder, rpd),
                                      "dnnl_primitive_create(reorder)", e);
    dnnl_primitive_desc_destroy(rpd);
    ONYXI_CHECK(rc);
    ONYXI_DNNL(dnnl_memory_create(&st->out_from, &out_nhwc, eng, st->obuf), e);
    ONYXI_CHECK(onyxi_dnnl_memory(x, &out_plain, &st->out_to));
    return ONYX_OK;
}

static onyx_status conv_run_dw(onyxi_exec *x) {
    dw_state *st = x->state;
    if (!st || !st->wpack) return onyxi_fail(x->err, ONYX_INTERNAL, "Conv (dw) run without init");
    const dw_geom *g = &st->g;
    ONYXI_CHECK(onyxi_dnnl_stage_run(x, 0, &st->src));
    if (st->src.reorder) ONYXI_DNNL(dnnl_stream_wait(x->backend->stream), x->err);
    /* the input as the kernel reads it: as given, reordered, or packed (a constant input) */
    void *src = NULL;
    ONYXI_DNNL(dnnl_memory_get_data_handle(st->src.mem, &src), x->err);
    const float *xd = src;
    float *yd = st->obuf ? st->obuf : x->out[0]->data;
    /* rows, split further into channel chunks when there are too few rows for the threads */
    int threads = x->num_threads > 0 ? x->num_threads : 1, nchunks = 1;
    int64_t rows = g->N * g->OH;
    while (threads > 1 && rows * nchunks < 8 * threads && nchunks * 2 <= g->nb) nchunks *= 2;
    int64_t items = rows * nchunks;
    int64_t work = g->N * g->OH * g->OW * g->C * g->K * g->K;
    int parallel = threads > 1 && items > 1 && work >= (1 << 16);
    const float *wpack = st->wpack;
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
    for (int64_t item = 0; item < items; item++) dw_compute(g, xd, yd, wpack, nchunks, item);
    if (st->out_reorder) {
        ONYXI_DNNL(dnnl_memory_set_data_handle(st->out_to, x->out[0]->data), x->err);
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, st->out_from}, {DNNL_ARG_TO, st->out_to}};
        ONYXI_DNNL(dnnl_primitive_execute(st->out_reorder, x->backend->stream, 2, args), x->err);
        ONYXI_DNNL(dnnl_stream_wait(x->backend->stream), x->err);
    }
    return ONYX_OK;
}

const onyxi_impl onyxi_conv_dw = {"dw", conv_init_dw, conv_run_dw, conv_fini_dw};

#else /* not x86-64: the implementation exists and always declines */

static onyx_status conv_init_dw(onyxi_exec *x) {
    (void)x;
    return ONYX_UNSUPPORTED;
}

static onyx_status conv_run_dw(onyxi_exec *x) {
    return onyxi_fail(x->err, ONYX_INTERNAL, "Conv (dw) is not built for this CPU");
}

const onyxi_impl onyxi_conv_dw = {"dw", conv_init_dw, conv_run_dw, NULL};

#endif
