/*
 * Conv-1 and Conv-11: N-D convolution (1 to 6 spatial dims) with groups (depthwise
 * included), strides, dilations, explicit or auto_pad padding and an optional bias.
 * Conv-11 only reworded the SAME rule (output = ceil(in / stride), extra pad at the end for
 * SAME_UPPER, at the beginning for SAME_LOWER); Conv-1 models are read the same way.
 * float32 only: float16/float64 are refused with ONYX_UNSUPPORTED.
 * A Conv the graph passes fused with what follows it (runtime/passes.c) carries a post-op
 * chain in node->fusion: Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, SiLU and Add of an extra
 * input (inputs 3.., of the output's shape), applied in order to each block of output
 * channels right after it is computed, with the formulas of the unfused ops' kernels
 * (postops.c, shared with MatMul and Gemm).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "conv.h"
#include "ops.h"
#include "postops.h"
#include "window.h"

onyx_status onyxi_conv_check(const onyxi_node *n, onyxi_err *e) {
    ONYXI_CHECK(onyxi_window_check_auto_pad(n, e));
    ONYXI_CHECK(onyxi_window_check_int(n, "group", 1, 1, e));
    int nk, ns, nd, np;
    if ((nk = onyxi_window_check_ints(n, "kernel_shape", 1, e)) == -2 ||
        (ns = onyxi_window_check_ints(n, "strides", 1, e)) == -2 ||
        (nd = onyxi_window_check_ints(n, "dilations", 1, e)) == -2 ||
        (np = onyxi_window_check_ints(n, "pads", 0, e)) == -2)
        return ONYX_INVALID_MODEL;
    static const char *const names[3] = {"kernel_shape", "strides", "dilations"};
    const int lens[3] = {nk, ns, nd};
    ONYXI_CHECK(onyxi_window_check_lengths(names, lens, 3, np, e));
    return onyxi_window_check_pads_unused(n, e);
}

onyx_status onyxi_conv_geometry(const onyxi_node *n, const onyx_tensor *X, const onyx_tensor *W,
                                 const onyx_tensor *B, conv_geom *g, onyxi_err *e) {
    char b1[160], b2[160];
    memset(g, 0, sizeof *g);
    /* Normally done at load already; repeated so no division below can see a 0 stride. */
    ONYXI_CHECK(onyxi_conv_check(n, e));
    if (X->rank < 3)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input 'X' has rank %d, expected at least 3 (N, C, spatial...)", X->rank);
    if (X->rank > ONYXI_MAX_RANK)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "input 'X' has rank %d, at most %d is supported",
                          X->rank, ONYXI_MAX_RANK);
    if (W->rank != X->rank)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input 'W' has rank %d, expected %d (as 'X')",
                          W->rank, X->rank);
    int S = X->rank - 2;
    g->S = S;
    g->N = X->dims[0];
    g->C = X->dims[1];
    g->M = W->dims[0];
    g->G = onyxi_attr_int(n, "group", 1);
    if (g->G < 1) return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'group' must be >= 1");
    if (g->C % g->G != 0 || g->C / g->G != W->dims[1])
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input 'X' has %lld channels, expected input 'W' dim 1 (%lld) x "
                          "group (%lld)",
                          (long long)g->C, (long long)W->dims[1], (long long)g->G);
    if (g->M % g->G != 0)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input 'W' has %lld output channels, not a multiple of group %lld",
                          (long long)g->M, (long long)g->G);
    if (B && (B->rank != 1 || B->dims[0] != g->M))
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input 'B' has shape %s, expected [%lld]",
                          onyxi_shape_str(B->rank, B->dims, b1, sizeof b1), (long long)g->M);

    int64_t kshape[MAX_SPATIAL], pads[2 * MAX_SPATIAL];
    ONYXI_CHECK(onyxi_window_ints(n, "strides", S, 1, g->stride, e));
    ONYXI_CHECK(onyxi_window_ints(n, "dilations", S, 1, g->dil, e));
    ONYXI_CHECK(onyxi_window_ints(n, "pads", 2 * S, 0, pads, e));
    const int64_t *ks = NULL;
    int nk = onyxi_attr_ints(n, "kernel_shape", &ks);
    if (nk >= 0) {
        ONYXI_CHECK(onyxi_window_ints(n, "kernel_shape", S, 1, kshape, e));
        for (int i = 0; i < S; i++)
            if (kshape[i] != W->dims[2 + i])
                return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                                  "attribute 'kernel_shape' is %s, but input 'W' has kernel "
                                  "dims %s",
                                  onyxi_shape_str(S, kshape, b1, sizeof b1),
                                  onyxi_shape_str(S, W->dims + 2, b2, sizeof b2));
    }
    int mode = onyxi_window_auto_pad(n);

    for (int i = 0; i < S; i++) {
        int64_t in = X->dims[2 + i], k = W->dims[2 + i], s = g->stride[i], ek, out;
        if (k < 1)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "input 'W' has kernel size %lld on axis %d, expected at least 1",
                              (long long)k, 2 + i);
        /* effective (dilated) kernel extent */
        if (!onyxi_window_mul(k - 1, g->dil[i], &ek) || !onyxi_window_add(ek, 1, &ek))
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "dilated kernel on axis %d is too large (%lld x dilation %lld)",
                              2 + i, (long long)k, (long long)g->dil[i]);
        int64_t pb = 0, pe = 0;
        if (mode == ONYXI_PAD_NOTSET) {
            pb = pads[i];
            pe = pads[S + i];
        } else if (mode != ONYXI_PAD_VALID) {
            out = in / s + (in % s != 0);
            int64_t total = 0;
            if (out > 0) {
                /* (out - 1) * s <= in, so only the + ek can overflow */
                if (!onyxi_window_add((out - 1) * s, ek, &total))
                    return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input 'X' axis %d is too large",
                                      2 + i);
                total = total > in ? total - in : 0;
            }
            pb = mode == ONYXI_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            pe = total - pb;
        }
        int64_t span;
        if (!onyxi_window_add(in, pb, &span) || !onyxi_window_add(span, pe, &span))
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input 'X' axis %d is too large", 2 + i);
        if (span < ek)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "output axis %d would be empty: input size %lld + pads %lld + "
                              "%lld is smaller than the dilated kernel size %lld",
                              2 + i, (long long)in, (long long)pb, (long long)pe, (long long)ek);
        out = (span - ek) / s + 1;
        g->in[i] = in;
        g->k[i] = k;
        g->out[i] = out;
        g->pad[i] = pb;
    }
    return ONYX_OK;
}

/* Valid types are float32 (run here) and float16/float64 (ONNX allows them; we do not). */
static onyx_status expect_float(onyxi_infer *c, int k, const char *name) {
    const onyx_tensor *t = c->in[k];
    if (t->dtype == ONYX_DTYPE_FLOAT32) return ONYX_OK;
    if (k == 0 && (t->dtype == ONYX_DTYPE_FLOAT16 || t->dtype == ONYX_DTYPE_FLOAT64))
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input '%s' has dtype %s; only float32 is supported", name,
                          onyx_dtype_name(t->dtype));
    if (k == 0)
        return onyxi_fail(c->err, ONYX_TYPE_MISMATCH, "input '%s' has dtype %s, expected float32",
                          name, onyx_dtype_name(t->dtype));
    return onyxi_fail(c->err, ONYX_TYPE_MISMATCH,
                      "input '%s' has dtype %s, expected float32 (as input 'X')", name,
                      onyx_dtype_name(t->dtype));
}

static const onyx_tensor *bias_input(int n_in, const onyx_tensor *const *in) {
    return n_in > 2 ? in[2] : NULL;
}

onyx_status onyxi_conv_post_check(const onyxi_node *n, int n_in, const onyx_tensor *const *in,
                                  int rank, const int64_t *dims, onyxi_err *e) {
    /* a residual Add's addend follows X, W and B */
    return onyxi_post_check(n, n_in, in, 3, ONYX_DTYPE_FLOAT32, rank, dims, e);
}

onyx_status onyxi_conv_infer(onyxi_infer *c) {
    static const char *names[3] = {"X", "W", "B"};
    for (int k = 0; k < c->n_in && k < 3; k++) {
        if (!c->in[k]) continue;
        ONYXI_CHECK(expect_float(c, k, names[k]));
        ONYXI_CHECK(onyxi_infer_expect_known(c, k));
    }
    conv_geom g;
    ONYXI_CHECK(onyxi_conv_geometry(c->node, c->in[0], c->in[1], bias_input(c->n_in, c->in), &g, c->err));
    int64_t dims[ONYXI_MAX_RANK] = {g.N, g.M};
    for (int i = 0; i < g.S; i++)
        dims[2 + i] = g.out[i];
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(ONYX_DTYPE_FLOAT32, g.S + 2, dims, &nbytes, c->err));
    ONYXI_CHECK(onyxi_conv_post_check(c->node, c->n_in, c->in, g.S + 2, dims, c->err));
    onyxi_infer_set(c, 0, ONYX_DTYPE_FLOAT32, g.S + 2, dims);
    return ONYX_OK;
}

/* ---- reference implementation ----------------------------------------------------------
 * Direct convolution, one output plane (n, m) at a time. For every input channel and kernel
 * tap the weight is a scalar, and the taps' contribution is added row by row along the
 * contiguous output width, so the inner loop is a vectorizable axpy. Which output positions
 * read inside the input (not padding) is precomputed per axis and tap in init, so no bounds
 * test runs in the inner loops.
 */

typedef struct conv_state {
    conv_geom g;
    int64_t w_dims[ONYXI_MAX_RANK]; /* shapes this state was built for, checked by run */
    int64_t x_dims[ONYXI_MAX_RANK];
    int64_t *lo, *hi; /* owned: valid output range [lo, hi) per axis i and tap t, at koff[i] + t */
    int64_t koff[MAX_SPATIAL];
} conv_state;

static void conv_fini_ref(onyxi_exec *x) {
    conv_state *st = x->state;
    if (!st) return;
    onyxi_free(st->lo);
    onyxi_free(st->hi);
    onyxi_free(st);
    x->state = NULL;
}

static onyx_status conv_init_ref(onyxi_exec *x) {
    conv_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the conv state");
    x->state = st;
    const onyx_tensor *X = x->in[0], *W = x->in[1];
    ONYXI_CHECK(onyxi_conv_geometry(x->node, X, W, bias_input(x->n_in, x->in), &st->g, x->err));
    memcpy(st->x_dims, X->dims, sizeof st->x_dims);
    memcpy(st->w_dims, W->dims, sizeof st->w_dims);
    const conv_geom *g = &st->g;
    int64_t ydims[ONYXI_MAX_RANK] = {g->N, g->M};
    for (int i = 0; i < g->S; i++) ydims[2 + i] = g->out[i];
    ONYXI_CHECK(onyxi_conv_post_check(x->node, x->n_in, x->in, g->S + 2, ydims, x->err));
    /* An empty W leaves only the bias to write. Otherwise W's element count bounds the sum
     * of the kernel sizes, so the tables below stay small. */
    if (onyxi_shape_count(W->rank, W->dims) == 0) return ONYX_OK;
    int64_t taps = 0;
    for (int i = 0; i < g->S; i++) {
        st->koff[i] = taps;
        taps += g->k[i];
    }
    st->lo = onyxi_malloc((size_t)taps * sizeof *st->lo);
    st->hi = onyxi_malloc((size_t)taps * sizeof *st->hi);
    if (!st->lo || !st->hi) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for conv tables");
    for (int i = 0; i < g->S; i++) {
        for (int64_t t = 0; t < g->k[i]; t++) {
            /* output o reads input o * s + off, valid when 0 <= o * s + off < in */
            int64_t s = g->stride[i], off = t * g->dil[i] - g->pad[i];
            int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
            int64_t hi = g->in[i] - off <= 0 ? 0 : (g->in[i] - 1 - off) / s + 1;
            if (hi > g->out[i]) hi = g->out[i];
            if (lo > hi) lo = hi;
            st->lo[st->koff[i] + t] = lo;
            st->hi[st->koff[i] + t] = hi;
        }
    }
    return ONYX_OK;
}

/* Output channels computed together: each input row loaded feeds MB output rows. */
#define MB 4

/* y_b[o] += w_b * x[o + off] for four distinct output rows; restrict lets it vectorize. */
static void axpy4(float *restrict y0, float *restrict y1, float *restrict y2, float *restrict y3,
                  const float *restrict w, const float *restrict xr, int64_t lo, int64_t hi,
                  int64_t off) {
    float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
    for (int64_t o = lo; o < hi; o++) {
        float v = xr[o + off];
        y0[o] += w0 * v;
        y1[o] += w1 * v;
        y2[o] += w2 * v;
        y3[o] += w3 * v;
    }
}

/* y_b[o] += w[b] * x[o * s + off] for o in [lo, hi) and the nb output rows y_b = y + b * ystep. */
static void axpy_rows(float *y, int64_t ystep, const float *w, int nb, const float *xr, int64_t lo,
                      int64_t hi, int64_t s, int64_t off) {
    if (nb == MB && s == 1) {
        axpy4(y, y + ystep, y + 2 * ystep, y + 3 * ystep, w, xr, lo, hi, off);
        return;
    }
    for (int b = 0; b < nb; b++) {
        float *yb = y + b * ystep, wb = w[b];
        if (s == 1) {
            for (int64_t o = lo; o < hi; o++)
                yb[o] += wb * xr[o + off];
        } else {
            for (int64_t o = lo; o < hi; o++)
                yb[o] += wb * xr[o * s + off];
        }
    }
}

/* Adds the contribution of one kernel tap (tap[] per axis) of one input channel plane xp to
 * nb output planes yp + b * ostep, with weights w[0..nb). */
static void conv_tap(const conv_state *st, const int64_t *tap, const float *w, int nb,
                     const float *xp, float *yp, int64_t ostep, const int64_t *ostr,
                     const int64_t *istr) {
    const conv_geom *g = &st->g;
    int L = g->S - 1; /* the innermost (width) axis */
    int64_t wlo = st->lo[st->koff[L] + tap[L]], whi = st->hi[st->koff[L] + tap[L]];
    if (wlo >= whi) return;
    int64_t woff = tap[L] * g->dil[L] - g->pad[L];
    int64_t o[MAX_SPATIAL], lo[MAX_SPATIAL], hi[MAX_SPATIAL];
    for (int i = 0; i < L; i++) {
        lo[i] = st->lo[st->koff[i] + tap[i]];
        hi[i] = st->hi[st->koff[i] + tap[i]];
        if (lo[i] >= hi[i]) return;
        o[i] = lo[i];
    }
    for (;;) {
        int64_t yoff = 0, xoff = 0;
        for (int i = 0; i < L; i++) {
            yoff += o[i] * ostr[i];
            xoff += (o[i] * g->stride[i] + tap[i] * g->dil[i] - g->pad[i]) * istr[i];
        }
        axpy_rows(yp + yoff, ostep, w, nb, xp + xoff, wlo, whi, g->stride[L], woff);
        int i = L - 1;
        while (i >= 0 && ++o[i] == hi[i]) {
            o[i] = lo[i];
            i--;
        }
        if (i < 0) return;
    }
}

static onyx_status conv_run_ref(onyxi_exec *x) {
    const conv_state *st = x->state;
    const conv_geom *g = &st->g;
    const onyx_tensor *X = x->in[0], *W = x->in[1], *Bt = bias_input(x->n_in, x->in);
    if (memcmp(X->dims, st->x_dims, sizeof st->x_dims) != 0 ||
        memcmp(W->dims, st->w_dims, sizeof st->w_dims) != 0)
        return onyxi_fail(x->err, ONYX_INTERNAL, "input shapes changed since init");
    const float *xd = X->data, *wd = W->data, *bd = Bt ? Bt->data : NULL;
    float *yd = x->out[0]->data;
    int S = g->S;
    int64_t iplane = 1, oplane = 1, kplane = 1;
    int64_t ostr[MAX_SPATIAL], istr[MAX_SPATIAL];
    for (int i = S - 1; i >= 0; i--) {
        ostr[i] = oplane;
        istr[i] = iplane;
        oplane *= g->out[i];
        iplane *= g->in[i];
        kplane *= g->k[i];
    }
    int64_t Cg = g->C / g->G, Mg = g->M / g->G;
    const onyxi_fusion *post = onyxi_post_chain(x->node);
    /* Work items are (image, group, block of MB output channels); they write disjoint outputs,
     * so threads split them and every item is computed the same way at any thread count. */
    int64_t blocks = (Mg + MB - 1) / MB, items = g->N * g->G * blocks;
    int threads = x->num_threads;
    int parallel = threads > 1 && items > 1 && oplane * kplane * Cg * Mg * g->N * g->G >= (1 << 16);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (parallel)
    for (int64_t item = 0; item < items; item++) {
        int64_t n = item / (g->G * blocks), grp = item / blocks % g->G;
        /* output channels m0 .. m0 + nb - 1 of this group, computed together */
        int64_t m0 = grp * Mg + item % blocks * MB;
        int nb = (int)((grp + 1) * Mg - m0 < MB ? (grp + 1) * Mg - m0 : MB);
        float *yp = yd + (n * g->M + m0) * oplane;
        for (int b = 0; b < nb; b++) {
            float bias = bd ? bd[m0 + b] : 0.0f;
            for (int64_t j = 0; j < oplane; j++)
                yp[b * oplane + j] = bias;
        }
        /* an empty W leaves the bias only */
        for (int64_t cc = 0; st->lo && cc < Cg; cc++) {
            const float *xp = xd + (n * g->C + grp * Cg + cc) * iplane;
            int64_t tap[MAX_SPATIAL] = {0};
            for (int64_t t = 0; t < kplane; t++) {
                float w[MB];
                for (int b = 0; b < nb; b++)
                    w[b] = wd[((m0 + b) * Cg + cc) * kplane + t];
                conv_tap(st, tap, w, nb, xp, yp, oplane, ostr, istr);
                for (int i = S - 1; i >= 0 && ++tap[i] == g->k[i]; i--)
                    tap[i] = 0;
            }
        }
        /* the block is still in cache: finish it with the fused chain */
        if (post) onyxi_post_apply(post, x->in, yp, (n * g->M + m0) * oplane, nb * oplane);
    }
    return ONYX_OK;
}

/* ---- exported op pieces ---- */

const onyxi_attr_spec onyxi_conv_attrs[] = {{"auto_pad", ONYXI_ATTR_STRING},
                                            {"dilations", ONYXI_ATTR_INTS},
                                            {"group", ONYXI_ATTR_INT},
                                            {"kernel_shape", ONYXI_ATTR_INTS},
                                            {"pads", ONYXI_ATTR_INTS},
                                            {"strides", ONYXI_ATTR_INTS},
                                            {NULL, 0}};

static const onyxi_impl conv_ref = {"ref", conv_init_ref, conv_run_ref, conv_fini_ref};
const onyxi_impl *const onyxi_conv_impls[] = {&onyxi_conv_dnnl, &onyxi_conv_dw,
                                               &onyxi_conv_winograd, &conv_ref, NULL};
