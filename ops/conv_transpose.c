/*
 * ConvTranspose-1 and ConvTranspose-11: N-D transposed convolution (1 to 6 spatial dims) with
 * groups, strides, dilations, pads, output_padding, output_shape, auto_pad and an optional
 * bias; float32 only. X is [N, C, in...], W is [C, M/group, k...], Y is [N, M, out...] with
 *   out = stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - pad_begin - pad_end.
 * Both versions are read with the opset-11 padding rule (see transpose_geometry).
 */
#include <stdint.h>
#include <string.h>

#include "ops.h"
#include "window.h"

#define MAX_SPATIAL (ONYXI_MAX_RANK - 2)

/* Everything the kernel needs to know about one (node, input shapes) pair. */
typedef struct ct_geom {
    int S; /* spatial dims */
    int64_t N, C, M, G;
    int64_t in[MAX_SPATIAL], k[MAX_SPATIAL], out[MAX_SPATIAL];
    int64_t stride[MAX_SPATIAL], dil[MAX_SPATIAL], pad[MAX_SPATIAL]; /* pad: at the start */
} ct_geom;

onyx_status onyxi_conv_transpose_check(const onyxi_node *n, onyxi_err *e) {
    ONYXI_CHECK(onyxi_window_check_auto_pad(n, e));
    ONYXI_CHECK(onyxi_window_check_int(n, "group", 1, 1, e));
    int nk, ns, nd, no, np, nos;
    if ((nk = onyxi_window_check_ints(n, "kernel_shape", 1, e)) == -2 ||
        (ns = onyxi_window_check_ints(n, "strides", 1, e)) == -2 ||
        (nd = onyxi_window_check_ints(n, "dilations", 1, e)) == -2 ||
        (no = onyxi_window_check_ints(n, "output_padding", 0, e)) == -2 ||
        (np = onyxi_window_check_ints(n, "pads", 0, e)) == -2 ||
        (nos = onyxi_window_check_ints(n, "output_shape", 0, e)) == -2)
        return ONYX_INVALID_MODEL;
    static const char *const names[4] = {"kernel_shape", "strides", "dilations", "output_padding"};
    const int lens[4] = {nk, ns, nd, no};
    ONYXI_CHECK(onyxi_window_check_lengths(names, lens, 4, np, e));
    return onyxi_window_check_pads_unused(n, e);
}

/* Reads output_shape into out[0..S): S values, or S + 2 whose first two must be N and M
 * (some exporters write the full shape). Returns 0 when absent, 1 when read. */
static int read_output_shape(const onyxi_node *n, const ct_geom *g, int64_t *out, onyxi_err *e,
                             onyx_status *rc) {
    char b1[160];
    const int64_t *v = NULL;
    int len = onyxi_attr_ints(n, "output_shape", &v);
    *rc = ONYX_OK;
    if (len < 0) return 0;
    if (len == g->S + 2 && (v[0] != g->N || v[1] != g->M)) {
        *rc = onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                         "attribute 'output_shape' is %s, but the output has batch %lld and "
                         "%lld channels",
                         onyxi_shape_str(len, v, b1, sizeof b1), (long long)g->N, (long long)g->M);
        return 0;
    }
    if (len != g->S && len != g->S + 2) {
        *rc = onyxi_fail(e, ONYX_INVALID_MODEL,
                         "attribute 'output_shape' has %d values, expected %d (the spatial "
                         "dims) or %d",
                         len, g->S, g->S + 2);
        return 0;
    }
    memcpy(out, v + (len - g->S), (size_t)g->S * sizeof *out);
    return 1;
}

/*
 * Validates the input shapes against the attributes and fills g (output shape included).
 * Padding: explicit `pads` (NOTSET), none (VALID), or derived from a target size, which is
 * output_shape when given and else in * stride for SAME_UPPER/SAME_LOWER. Then
 *   total = stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - target,
 * and pad_begin = total / 2 for SAME_UPPER, total - total / 2 otherwise (opset 11's rule; the
 * formula text of ConvTranspose-1 swapped the two, contradicting its own auto_pad description,
 * so opset-1 models are read with the opset-11 rule as well). A negative total (a target
 * larger than the full result) is taken as 0, as ONNX Runtime does: the extra outputs at the
 * end receive only the bias.
 */
static onyx_status transpose_geometry(const onyxi_node *n, const onyx_tensor *X,
                                      const onyx_tensor *W, const onyx_tensor *B, ct_geom *g,
                                      onyxi_err *e) {
    char b1[160], b2[160];
    memset(g, 0, sizeof *g);
    /* Normally done at load already; repeated so no division below can see a 0 stride. */
    ONYXI_CHECK(onyxi_conv_transpose_check(n, e));
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
    g->G = onyxi_attr_int(n, "group", 1);
    if (W->dims[0] != g->C)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input 'W' has shape %s, expected dim 0 to be the %lld channels of "
                          "input 'X'",
                          onyxi_shape_str(W->rank, W->dims, b1, sizeof b1), (long long)g->C);
    if (g->C % g->G != 0)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input 'X' has %lld channels, not a multiple of group %lld",
                          (long long)g->C, (long long)g->G);
    if (!onyxi_window_mul(W->dims[1], g->G, &g->M))
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input 'W' dim 1 (%lld) x group (%lld) output channels overflow",
                          (long long)W->dims[1], (long long)g->G);
    if (B && (B->rank != 1 || B->dims[0] != g->M))
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input 'B' has shape %s, expected [%lld] (W dim 1 x group)",
                          onyxi_shape_str(B->rank, B->dims, b1, sizeof b1), (long long)g->M);

    int64_t kshape[MAX_SPATIAL], pads[2 * MAX_SPATIAL], opad[MAX_SPATIAL], target[MAX_SPATIAL];
    ONYXI_CHECK(onyxi_window_ints(n, "strides", S, 1, g->stride, e));
    ONYXI_CHECK(onyxi_window_ints(n, "dilations", S, 1, g->dil, e));
    ONYXI_CHECK(onyxi_window_ints(n, "output_padding", S, 0, opad, e));
    ONYXI_CHECK(onyxi_window_ints(n, "pads", 2 * S, 0, pads, e));
    if (onyxi_attr_find(n, "kernel_shape")) {
        ONYXI_CHECK(onyxi_window_ints(n, "kernel_shape", S, 1, kshape, e));
        for (int i = 0; i < S; i++)
            if (kshape[i] != W->dims[2 + i])
                return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                                  "attribute 'kernel_shape' is %s, but input 'W' has kernel "
                                  "dims %s",
                                  onyxi_shape_str(S, kshape, b1, sizeof b1),
                                  onyxi_shape_str(S, W->dims + 2, b2, sizeof b2));
    }
    onyx_status rc;
    int has_target = read_output_shape(n, g, target, e, &rc);
    if (rc != ONYX_OK) return rc;
    int mode = onyxi_window_auto_pad(n);

    for (int i = 0; i < S; i++) {
        int64_t in = X->dims[2 + i], k = W->dims[2 + i], s = g->stride[i], full, ek;
        if (k < 1)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "input 'W' has kernel size %lld on axis %d, expected at least 1",
                              (long long)k, 2 + i);
        if (in < 1)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "input 'X' has size %lld on axis %d, expected at least 1",
                              (long long)in, 2 + i);
        /* the full (unpadded) result: stride * (in - 1) + output_padding + dilated kernel */
        if (!onyxi_window_mul(k - 1, g->dil[i], &ek) || !onyxi_window_add(ek, 1, &ek) ||
            !onyxi_window_mul(in - 1, s, &full) || !onyxi_window_add(full, opad[i], &full) ||
            !onyxi_window_add(full, ek, &full))
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "output axis %d is too large", 2 + i);
        int64_t pb = 0, out;
        if (has_target || mode == ONYXI_PAD_SAME_UPPER || mode == ONYXI_PAD_SAME_LOWER) {
            if (has_target) {
                out = target[i];
            } else if (!onyxi_window_mul(in, s, &out)) {
                return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "output axis %d is too large", 2 + i);
            }
            int64_t total = full > out ? full - out : 0;
            pb = mode == ONYXI_PAD_SAME_UPPER ? total / 2 : total - total / 2;
        } else {
            int64_t pe = 0;
            if (mode == ONYXI_PAD_NOTSET) {
                pb = pads[i];
                pe = pads[S + i];
            }
            out = full - pb - pe; /* pads are <= ONYXI_WINDOW_ATTR_MAX: no overflow */
            if (out < 0)
                return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                                  "output axis %d would have size %lld: pads %lld + %lld exceed "
                                  "the full size %lld",
                                  2 + i, (long long)out, (long long)pb, (long long)pe,
                                  (long long)full);
        }
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

onyx_status onyxi_conv_transpose_infer(onyxi_infer *c) {
    static const char *names[3] = {"X", "W", "B"};
    for (int k = 0; k < c->n_in && k < 3; k++) {
        if (!c->in[k]) continue;
        ONYXI_CHECK(expect_float(c, k, names[k]));
        ONYXI_CHECK(onyxi_infer_expect_known(c, k));
    }
    ct_geom g;
    ONYXI_CHECK(
        transpose_geometry(c->node, c->in[0], c->in[1], bias_input(c->n_in, c->in), &g, c->err));
    int64_t dims[ONYXI_MAX_RANK] = {g.N, g.M};
    for (int i = 0; i < g.S; i++)
        dims[2 + i] = g.out[i];
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(ONYX_DTYPE_FLOAT32, g.S + 2, dims, &nbytes, c->err));
    onyxi_infer_set(c, 0, ONYX_DTYPE_FLOAT32, g.S + 2, dims);
    return ONYX_OK;
}

/* ---- reference implementation ----------------------------------------------------------
 * Scatter form, one output plane (n, m) per work item: the plane starts as the bias, then
 * every input channel c of m's group and every kernel tap t adds w[c, m, t] * x[c, i] at
 * output position i * stride + t * dilation - pad_begin. Which input positions land inside
 * the output is precomputed per axis and tap in init, so the inner loop (along the input
 * width) runs without bounds tests. Items write disjoint planes and each sums in the same
 * order, so results do not depend on the thread count.
 */

typedef struct ct_state {
    ct_geom g;
    int64_t w_dims[ONYXI_MAX_RANK]; /* shapes this state was built for, checked by run */
    int64_t x_dims[ONYXI_MAX_RANK];
    int64_t *lo, *hi; /* owned: input range [lo, hi) per axis i and tap t, at koff[i] + t */
    int64_t koff[MAX_SPATIAL];
} ct_state;

static void conv_transpose_fini_ref(onyxi_exec *x) {
    ct_state *st = x->state;
    if (!st) return;
    onyxi_free(st->lo);
    onyxi_free(st->hi);
    onyxi_free(st);
    x->state = NULL;
}

static onyx_status conv_transpose_init_ref(onyxi_exec *x) {
    ct_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the ConvTranspose state");
    x->state = st;
    const onyx_tensor *X = x->in[0], *W = x->in[1];
    ONYXI_CHECK(transpose_geometry(x->node, X, W, bias_input(x->n_in, x->in), &st->g, x->err));
    memcpy(st->x_dims, X->dims, sizeof st->x_dims);
    memcpy(st->w_dims, W->dims, sizeof st->w_dims);
    const ct_geom *g = &st->g;
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
    if (!st->lo || !st->hi)
        return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for ConvTranspose tables");
    for (int i = 0; i < g->S; i++) {
        for (int64_t t = 0; t < g->k[i]; t++) {
            /* input i lands at output i * s + off, kept when 0 <= i * s + off < out */
            int64_t s = g->stride[i], off = t * g->dil[i] - g->pad[i];
            int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
            int64_t hi = g->out[i] - off <= 0 ? 0 : (g->out[i] - 1 - off) / s + 1;
            if (hi > g->in[i]) hi = g->in[i];
            if (lo > hi) lo = hi;
            st->lo[st->koff[i] + t] = lo;
            st->hi[st->koff[i] + t] = hi;
        }
    }
    return ONYX_OK;
}

/* y[i * s + off] += w * x[i] for i in [lo, hi); restrict lets the s == 1 loop vectorize. */
static void scatter_row(float *restrict y, const float *restrict xr, float w, int64_t lo,
                        int64_t hi, int64_t s, int64_t off) {
    if (s == 1) {
        for (int64_t i = lo; i < hi; i++)
            y[i + off] += w * xr[i];
    } else {
        for (int64_t i = lo; i < hi; i++)
            y[i * s + off] += w * xr[i];
    }
}

/* Adds the contribution of one kernel tap (tap[] per axis) with weight w of input plane xp to
 * output plane yp; ostr/istr are the planes' row-major strides. */
static void scatter_tap(const ct_state *st, const int64_t *tap, float w, const float *xp, float *yp,
                        const int64_t *ostr, const int64_t *istr) {
    const ct_geom *g = &st->g;
    int L = g->S - 1; /* the innermost (width) axis */
    int64_t wlo = st->lo[st->koff[L] + tap[L]], whi = st->hi[st->koff[L] + tap[L]];
    if (wlo >= whi) return;
    int64_t woff = tap[L] * g->dil[L] - g->pad[L];
    int64_t i[MAX_SPATIAL], lo[MAX_SPATIAL], hi[MAX_SPATIAL];
    for (int a = 0; a < L; a++) {
        lo[a] = st->lo[st->koff[a] + tap[a]];
        hi[a] = st->hi[st->koff[a] + tap[a]];
        if (lo[a] >= hi[a]) return;
        i[a] = lo[a];
    }
    for (;;) {
        int64_t yoff = 0, xoff = 0;
        for (int a = 0; a < L; a++) {
            yoff += (i[a] * g->stride[a] + tap[a] * g->dil[a] - g->pad[a]) * ostr[a];
            xoff += i[a] * istr[a];
        }
        scatter_row(yp + yoff, xp + xoff, w, wlo, whi, g->stride[L], woff);
        int a = L - 1;
        while (a >= 0 && ++i[a] == hi[a]) {
            i[a] = lo[a];
            a--;
        }
        if (a < 0) return;
    }
}

static onyx_status conv_transpose_run_ref(onyxi_exec *x) {
    const ct_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "ConvTranspose run without init");
    const ct_geom *g = &st->g;
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
    if (oplane == 0) return ONYX_OK; /* empty output */
    int64_t Cg = g->C / g->G, Mg = g->M / g->G, items = g->N * g->M;
    int threads = x->num_threads;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1 && items > 1)
    for (int64_t item = 0; item < items; item++) {
        int64_t n = item / g->M, m = item % g->M, grp = m / Mg, mm = m % Mg;
        float *yp = yd + item * oplane;
        float bias = bd ? bd[m] : 0.0f;
        for (int64_t j = 0; j < oplane; j++)
            yp[j] = bias;
        if (!st->lo) continue; /* empty W: bias only */
        for (int64_t cc = 0; cc < Cg; cc++) {
            int64_t c = grp * Cg + cc;
            const float *xp = xd + (n * g->C + c) * iplane;
            const float *wp = wd + (c * Mg + mm) * kplane; /* W[c, mm, :] */
            int64_t tap[MAX_SPATIAL] = {0};
            for (int64_t t = 0; t < kplane; t++) {
                scatter_tap(st, tap, wp[t], xp, yp, ostr, istr);
                for (int i = S - 1; i >= 0 && ++tap[i] == g->k[i]; i--)
                    tap[i] = 0;
            }
        }
    }
    return ONYX_OK;
}

/* ---- exported op pieces ---- */

const onyxi_attr_spec onyxi_conv_transpose_attrs[] = {{"auto_pad", ONYXI_ATTR_STRING},
                                                      {"dilations", ONYXI_ATTR_INTS},
                                                      {"group", ONYXI_ATTR_INT},
                                                      {"kernel_shape", ONYXI_ATTR_INTS},
                                                      {"output_padding", ONYXI_ATTR_INTS},
                                                      {"output_shape", ONYXI_ATTR_INTS},
                                                      {"pads", ONYXI_ATTR_INTS},
                                                      {"strides", ONYXI_ATTR_INTS},
                                                      {NULL, 0}};

static const onyxi_impl conv_transpose_ref = {"ref", conv_transpose_init_ref,
                                              conv_transpose_run_ref, conv_transpose_fini_ref};
const onyxi_impl *const onyxi_conv_transpose_impls[] = {&conv_transpose_ref, NULL};
