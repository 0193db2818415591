/*
 * Pooling ops over N-D inputs X [N, C, d1, ..., dS] (S = 1 to 6 spatial dims):
 *  - MaxPool-1, 8 (optional int64 Indices output, storage_order), 10 (dilations, ceil_mode),
 *    11 (pads reworded), 12 (int8/uint8 inputs). Indices are flattened over the whole input
 *    tensor, row-major within a plane for storage_order 0 and column-major for 1.
 *  - AveragePool-1, 7 (count_include_pad), 10 (ceil_mode), 11, 19 (dilations).
 *  - GlobalAveragePool-1 and GlobalMaxPool-1: one value per (n, c) plane.
 * kernel_shape, strides, explicit/asymmetric pads or auto_pad (NOTSET, SAME_UPPER, SAME_LOWER,
 * VALID) as in Conv. float32 (MaxPool also int8/uint8); float16/float64 are refused with
 * ONYX_UNSUPPORTED. An attribute set to a non-default value before the version that introduced
 * it is refused with ONYX_INVALID_MODEL.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops.h"
#include "pool.h"
#include "window.h"

#define MAX_SPATIAL POOL_MAX_SPATIAL

/* ONYX_INVALID_MODEL when int attribute `name` is set outside {0, 1}. */
static onyx_status check_flag(const onyxi_node *n, const char *name, onyxi_err *e) {
    int64_t v = onyxi_attr_int(n, name, 0);
    if (v != 0 && v != 1)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute '%s' is %lld, expected 0 or 1", name,
                          (long long)v);
    return ONYX_OK;
}

/* Refuses a non-default value of an attribute the node's opset does not have yet. Default
 * values are tolerated: they mean the same in every version. */
static onyx_status check_since(const onyxi_node *n, const char *name, int since, onyxi_err *e) {
    if (n->opset >= since || !onyxi_attr_find(n, name)) return ONYX_OK;
    int set = 0;
    const int64_t *v = NULL;
    int len = onyxi_attr_ints(n, name, &v);
    if (len >= 0) {
        for (int i = 0; i < len; i++)
            set |= v[i] != 1; /* dilations */
    } else {
        set = onyxi_attr_int(n, name, 0) != 0;
    }
    if (set)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute '%s' needs opset %d (the model has opset %lld)", name, since,
                          (long long)n->opset);
    return ONYX_OK;
}

static int pool_kind(const onyxi_node *n) {
    return strcmp(n->op_type, "MaxPool") == 0 ? KIND_MAX : KIND_AVG;
}

/* Attribute checks shared by MaxPool and AveragePool; version rules by kind. */
static onyx_status pool_check(const onyxi_node *n, onyxi_err *e) {
    int kind = pool_kind(n);
    ONYXI_CHECK(onyxi_window_check_auto_pad(n, e));
    ONYXI_CHECK(check_flag(n, "ceil_mode", e));
    ONYXI_CHECK(check_since(n, "ceil_mode", 10, e));
    if (kind == KIND_MAX) {
        ONYXI_CHECK(check_flag(n, "storage_order", e));
        ONYXI_CHECK(check_since(n, "storage_order", 8, e));
        ONYXI_CHECK(check_since(n, "dilations", 10, e));
    } else {
        ONYXI_CHECK(check_flag(n, "count_include_pad", e));
        ONYXI_CHECK(check_since(n, "count_include_pad", 7, e));
        ONYXI_CHECK(check_since(n, "dilations", 19, e));
    }
    int nk, ns, nd, np;
    if ((nk = onyxi_window_check_ints(n, "kernel_shape", 1, e)) == -2 ||
        (ns = onyxi_window_check_ints(n, "strides", 1, e)) == -2 ||
        (nd = onyxi_window_check_ints(n, "dilations", 1, e)) == -2 ||
        (np = onyxi_window_check_ints(n, "pads", 0, e)) == -2)
        return ONYX_INVALID_MODEL;
    if (nk < 0) return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'kernel_shape' is required");
    if (nk == 0 || nk > MAX_SPATIAL)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'kernel_shape' has %d values, expected 1 to %d", nk,
                          MAX_SPATIAL);
    if (ns >= 0 && ns != nk)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'strides' has %d values, expected %d (as 'kernel_shape')", ns,
                          nk);
    if (nd >= 0 && nd != nk)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'dilations' has %d values, expected %d (as 'kernel_shape')",
                          nd, nk);
    if (np >= 0 && np != 2 * nk)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'pads' has %d values, expected %d (2 x kernel_shape)", np,
                          2 * nk);
    return onyxi_window_check_pads_unused(n, e);
}

onyx_status onyxi_max_pool_check(const onyxi_node *n, onyxi_err *e) {
    return pool_check(n, e);
}

onyx_status onyxi_average_pool_check(const onyxi_node *n, onyxi_err *e) {
    return pool_check(n, e);
}

/* Validates X's shape against the attributes and fills g, output shape included. */
static onyx_status pool_geometry(const onyxi_node *n, const onyx_tensor *X, pool_geom *g,
                                 onyxi_err *e) {
    memset(g, 0, sizeof *g);
    /* Normally done at load already; repeated so nothing below sees a bad attribute. */
    ONYXI_CHECK(pool_check(n, e));
    g->kind = pool_kind(n);
    const int64_t *ks = NULL;
    int S = onyxi_attr_ints(n, "kernel_shape", &ks);
    if (X->rank != S + 2)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input 'X' has rank %d, expected %d (N, C and the %d dims of "
                          "'kernel_shape')",
                          X->rank, S + 2, S);
    g->S = S;
    g->N = X->dims[0];
    g->C = X->dims[1];
    int64_t pads[2 * MAX_SPATIAL];
    memcpy(g->k, ks, (size_t)S * sizeof *ks);
    /* lengths were checked by pool_check: these cannot fail */
    ONYXI_CHECK(onyxi_window_ints(n, "strides", S, 1, g->stride, e));
    ONYXI_CHECK(onyxi_window_ints(n, "dilations", S, 1, g->dil, e));
    ONYXI_CHECK(onyxi_window_ints(n, "pads", 2 * S, 0, pads, e));
    int mode = onyxi_window_auto_pad(n);
    int ceil_mode = (int)onyxi_attr_int(n, "ceil_mode", 0);
    g->count_include_pad = (int)onyxi_attr_int(n, "count_include_pad", 0);
    g->storage_order = (int)onyxi_attr_int(n, "storage_order", 0);
    for (int i = 0; i < S; i++) {
        /* attributes are <= INT32_MAX, so ek and the SAME total cannot overflow */
        int64_t in = X->dims[2 + i], s = g->stride[i], ek = (g->k[i] - 1) * g->dil[i] + 1, out;
        int64_t pb = 0, pe = 0;
        if (mode == ONYXI_PAD_NOTSET) {
            pb = pads[i];
            pe = pads[S + i];
        } else if (mode != ONYXI_PAD_VALID) {
            /* SAME: out = ceil(in / s); the extra pad goes at the end for SAME_UPPER */
            out = in / s + (in % s != 0);
            int64_t total = out > 0 ? (out - 1) * s + ek - in : 0;
            if (total < 0) total = 0;
            pb = mode == ONYXI_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            pe = total - pb;
        }
        int64_t span;
        if (!onyxi_window_add(in, pb + pe, &span))
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input 'X' axis %d is too large", 2 + i);
        if (span < ek)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "output axis %d would be empty: input size %lld + pads %lld + "
                              "%lld is smaller than the (dilated) kernel size %lld",
                              2 + i, (long long)in, (long long)pb, (long long)pe, (long long)ek);
        if (ceil_mode && (mode == ONYXI_PAD_NOTSET || mode == ONYXI_PAD_VALID)) {
            out = (span - ek + s - 1) / s + 1;
            /* the last window must start inside the input or the left padding */
            if ((out - 1) * s >= in + pb) out--;
        } else {
            out = (span - ek) / s + 1;
        }
        g->in[i] = in;
        g->out[i] = out;
        g->pad[i] = pb;
        g->pad_end[i] = pe;
    }
    return ONYX_OK;
}

onyx_status onyxi_pool_geometry(const onyxi_node *n, const onyx_tensor *X, pool_geom *g,
                                onyxi_err *e) {
    return pool_geometry(n, X, g, e);
}

/* float32 always; int8/uint8 for MaxPool-12. */
static onyx_status pool_expect_dtype(onyxi_infer *c, int allow_int8) {
    onyx_dtype dt = c->in[0]->dtype;
    if (dt == ONYX_DTYPE_FLOAT32) return ONYX_OK;
    if (allow_int8 && (dt == ONYX_DTYPE_INT8 || dt == ONYX_DTYPE_UINT8)) return ONYX_OK;
    if (dt == ONYX_DTYPE_FLOAT16 || dt == ONYX_DTYPE_FLOAT64)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 'X' has dtype %s; only float32 is supported", onyx_dtype_name(dt));
    return onyxi_fail(c->err, ONYX_TYPE_MISMATCH, "input 'X' has dtype %s, expected float32%s",
                      onyx_dtype_name(dt), allow_int8 ? ", int8 or uint8" : "");
}

static onyx_status pool_infer(onyxi_infer *c, int allow_int8) {
    ONYXI_CHECK(pool_expect_dtype(c, allow_int8));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    pool_geom g;
    ONYXI_CHECK(pool_geometry(c->node, c->in[0], &g, c->err));
    int64_t dims[ONYXI_MAX_RANK] = {g.N, g.C};
    for (int i = 0; i < g.S; i++)
        dims[2 + i] = g.out[i];
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(ONYX_DTYPE_INT64, g.S + 2, dims, &nbytes, c->err));
    onyxi_infer_set(c, 0, c->in[0]->dtype, g.S + 2, dims);
    if (c->n_out > 1 && c->out[1]) onyxi_infer_set(c, 1, ONYX_DTYPE_INT64, g.S + 2, dims);
    return ONYX_OK;
}

onyx_status onyxi_max_pool_infer(onyxi_infer *c) {
    return pool_infer(c, c->node->opset >= 12);
}

onyx_status onyxi_average_pool_infer(onyxi_infer *c) {
    return pool_infer(c, 0);
}

/* ---- MaxPool / AveragePool reference ------------------------------------------------------
 * One (n, c) plane at a time. For every axis and output position, init precomputes which
 * kernel taps read inside the input (lo..hi) and how many fall inside the padded input (for
 * count_include_pad), so the window loops below have no bounds tests. The innermost axis is
 * a plain strided loop over one input row.
 */

typedef struct pool_state {
    pool_geom g;
    int64_t x_dims[ONYXI_MAX_RANK]; /* shape the state was built for, checked by run */
    int64_t *tab; /* owned: per axis i and output o, {lo, hi, padded count} at 3*(toff[i]+o) */
    int64_t toff[MAX_SPATIAL];
    int64_t istr[MAX_SPATIAL]; /* row-major strides of an input plane */
    int64_t iplane, oplane;
} pool_state;

static void pool_fini_ref(onyxi_exec *x) {
    pool_state *st = x->state;
    if (!st) return;
    onyxi_free(st->tab);
    onyxi_free(st);
    x->state = NULL;
}

static onyx_status pool_init_ref(onyxi_exec *x) {
    pool_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the pool state");
    x->state = st;
    const onyx_tensor *X = x->in[0];
    ONYXI_CHECK(pool_geometry(x->node, X, &st->g, x->err));
    memcpy(st->x_dims, X->dims, sizeof st->x_dims);
    const pool_geom *g = &st->g;
    st->iplane = st->oplane = 1;
    for (int i = g->S - 1; i >= 0; i--) {
        st->istr[i] = st->iplane;
        st->iplane *= g->in[i];
        st->oplane *= g->out[i];
    }
    /* An empty output needs no tables; otherwise each out[i] is bounded by its size. */
    if (st->oplane == 0 || g->N * g->C == 0) return ONYX_OK;
    int64_t rows = 0;
    for (int i = 0; i < g->S; i++) {
        st->toff[i] = rows;
        rows += g->out[i];
    }
    st->tab = onyxi_malloc((size_t)rows * 3 * sizeof *st->tab);
    if (!st->tab) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for pool tables");
    for (int i = 0; i < g->S; i++) {
        int64_t in = g->in[i], k = g->k[i], d = g->dil[i];
        for (int64_t o = 0; o < g->out[i]; o++) {
            /* tap t reads input start + t * d; valid when 0 <= it < in */
            int64_t start = o * g->stride[i] - g->pad[i];
            int64_t lo = start >= 0 ? 0 : (-start + d - 1) / d;
            int64_t hi = start > in - 1 ? 0 : (in - 1 - start) / d + 1;
            if (hi > k) hi = k;
            if (lo > hi) lo = hi;
            /* Taps inside the padded input [-pad, in + pad_end) count for count_include_pad
             * (start >= -pad always); taps of the windows ceil_mode adds past the end pad do
             * not, as in onnxruntime. */
            int64_t cnt = (in + g->pad_end[i] - 1 - start) / d + 1;
            int64_t *r = st->tab + 3 * (st->toff[i] + o);
            r[0] = lo;
            r[1] = hi;
            r[2] = cnt < k ? cnt : k;
        }
    }
    return ONYX_OK;
}

/* The window of the output position with multi-index o: per axis, the input coordinate of
 * tap 0 (start), the taps reading inside the input [lo, hi) and, when cnt is not NULL, the
 * product of the per-axis padded-tap counts. Returns 0 when the window reads no input. */
static int pool_window(const pool_state *st, const int64_t *o, int64_t *start, int64_t *lo,
                       int64_t *hi, double *cnt) {
    const pool_geom *g = &st->g;
    int nonempty = 1;
    double c = 1; /* a kernel volume can exceed int64 (six axes of up to 2^31 taps) */
    for (int i = 0; i < g->S; i++) {
        const int64_t *r = st->tab + 3 * (st->toff[i] + o[i]);
        start[i] = o[i] * g->stride[i] - g->pad[i];
        lo[i] = r[0];
        hi[i] = r[1];
        c *= (double)r[2];
        nonempty &= lo[i] < hi[i];
    }
    if (cnt) *cnt = c;
    return nonempty;
}

/* Advances the row-major multi-index o over dims n[0..S); returns 0 after the last. */
static int next_index(int64_t *o, const int64_t *lo, const int64_t *hi, int S) {
    int i = S - 1;
    while (i >= 0 && ++o[i] == hi[i]) {
        o[i] = lo[i];
        i--;
    }
    return i >= 0;
}

/* storage_order 1: the column-major index of row-major plane position pos. */
static int64_t column_major(const pool_state *st, int64_t pos) {
    int64_t idx = 0, cs = 1;
    for (int i = 0; i < st->g.S; i++) {
        idx += pos / st->istr[i] % st->g.in[i] * cs;
        cs *= st->g.in[i];
    }
    return idx;
}

/*
 * Max of every window of one plane into yp and, when ip is not NULL, the flattened input
 * index of the first maximum into ip (ibase: the plane's offset in the input tensor). NaN
 * inputs are skipped, as by the ONNX reference's nanmax and onnxruntime; a window of padding
 * only gives EMPTY and index -1.
 */
#define DEFINE_MAX_PLANE(NAME, T, LOWEST, EMPTY)                                                   \
    static void NAME(const pool_state *st, const T *xp, T *yp, int64_t *ip, int64_t ibase) {       \
        const pool_geom *g = &st->g;                                                               \
        const int L = g->S - 1;                                                                    \
        const int64_t dl = g->dil[L];                                                              \
        int64_t o[MAX_SPATIAL] = {0}, zero[MAX_SPATIAL] = {0};                                     \
        for (int64_t j = 0; j < st->oplane; j++) {                                                 \
            int64_t start[MAX_SPATIAL] = {0}, lo[MAX_SPATIAL] = {0}, hi[MAX_SPATIAL] = {0};        \
            int64_t t[MAX_SPATIAL];                                                                \
            T best = EMPTY;                                                                        \
            int64_t arg = -1;                                                                      \
            if (pool_window(st, o, start, lo, hi, NULL)) {                                         \
                best = LOWEST;                                                                     \
                arg = start[L] + lo[L] * dl;                                                       \
                for (int i = 0; i < L; i++) {                                                      \
                    t[i] = lo[i];                                                                  \
                    arg += (start[i] + lo[i] * g->dil[i]) * st->istr[i];                           \
                }                                                                                  \
                do {                                                                               \
                    int64_t off = start[L];                                                        \
                    for (int i = 0; i < L; i++)                                                    \
                        off += (start[i] + t[i] * g->dil[i]) * st->istr[i];                        \
                    for (int64_t u = lo[L]; u < hi[L]; u++)                                        \
                        if (xp[off + u * dl] > best) {                                             \
                            best = xp[off + u * dl];                                               \
                            arg = off + u * dl;                                                    \
                        }                                                                          \
                } while (next_index(t, lo, hi, L));                                                \
            }                                                                                      \
            yp[j] = best;                                                                          \
            if (ip)                                                                                \
                ip[j] = arg < 0 ? -1 : ibase + (g->storage_order ? column_major(st, arg) : arg);   \
            next_index(o, zero, g->out, g->S);                                                     \
        }                                                                                          \
    }

DEFINE_MAX_PLANE(max_plane_f32, float, -INFINITY, NAN)
DEFINE_MAX_PLANE(max_plane_i8, int8_t, INT8_MIN, INT8_MIN)
DEFINE_MAX_PLANE(max_plane_u8, uint8_t, 0, 0)

/* The common 2-D float MaxPool without Indices: the same result as max_plane_f32 (NaN
 * skipped, padding-only windows NaN) with the window loops written out, which avoids the
 * generic per-position bookkeeping and lets the compiler keep the running max in a register. */
static void max_plane_2d_f32(const pool_state *st, const float *xp, float *yp) {
    const pool_geom *g = &st->g;
    const int64_t W = g->in[1], dh = g->dil[0], dw = g->dil[1];
    const int64_t *th = st->tab + 3 * st->toff[0], *tw = st->tab + 3 * st->toff[1];
    for (int64_t oh = 0; oh < g->out[0]; oh++) {
        int64_t sh = oh * g->stride[0] - g->pad[0], hlo = th[3 * oh], hhi = th[3 * oh + 1];
        float *yr = yp + oh * g->out[1];
        for (int64_t ow = 0; ow < g->out[1]; ow++) {
            int64_t sw = ow * g->stride[1] - g->pad[1], wlo = tw[3 * ow], whi = tw[3 * ow + 1];
            if (hlo >= hhi || wlo >= whi) {
                yr[ow] = NAN;
                continue;
            }
            float best = -INFINITY;
            for (int64_t a = hlo; a < hhi; a++) {
                const float *row = xp + (sh + a * dh) * W + sw;
                for (int64_t b = wlo; b < whi; b++) {
                    float v = row[b * dw];
                    best = v > best ? v : best;
                }
            }
            yr[ow] = best;
        }
    }
}

/* Mean of every window of one plane. The divisor counts the taps inside the input, or with
 * count_include_pad also those on the padding (the numpy reference pads with zeros then). A
 * window with nothing to count gives NaN. */
static void avg_plane(const pool_state *st, const float *xp, float *yp) {
    const pool_geom *g = &st->g;
    const int L = g->S - 1;
    const int64_t dl = g->dil[L];
    int64_t o[MAX_SPATIAL] = {0}, zero[MAX_SPATIAL] = {0};
    for (int64_t j = 0; j < st->oplane; j++) {
        int64_t start[MAX_SPATIAL] = {0}, lo[MAX_SPATIAL] = {0}, hi[MAX_SPATIAL] = {0};
        int64_t t[MAX_SPATIAL];
        double cnt = 0, n = 0;
        float sum = 0.0f;
        if (pool_window(st, o, start, lo, hi, &cnt)) {
            n = (double)(hi[L] - lo[L]);
            for (int i = 0; i < L; i++) {
                t[i] = lo[i];
                n *= (double)(hi[i] - lo[i]);
            }
            do {
                int64_t off = start[L];
                for (int i = 0; i < L; i++)
                    off += (start[i] + t[i] * g->dil[i]) * st->istr[i];
                for (int64_t u = lo[L]; u < hi[L]; u++)
                    sum += xp[off + u * dl];
            } while (next_index(t, lo, hi, L));
        }
        if (g->count_include_pad) n = cnt;
        yp[j] = n > 0 ? (float)(sum / n) : NAN;
        next_index(o, zero, g->out, g->S);
    }
}

/* avg_plane written out for 2-D, for the same reason as max_plane_2d_f32. */
static void avg_plane_2d(const pool_state *st, const float *xp, float *yp) {
    const pool_geom *g = &st->g;
    const int64_t W = g->in[1], dh = g->dil[0], dw = g->dil[1];
    const int64_t *th = st->tab + 3 * st->toff[0], *tw = st->tab + 3 * st->toff[1];
    for (int64_t oh = 0; oh < g->out[0]; oh++) {
        int64_t sh = oh * g->stride[0] - g->pad[0], hlo = th[3 * oh], hhi = th[3 * oh + 1];
        float *yr = yp + oh * g->out[1];
        for (int64_t ow = 0; ow < g->out[1]; ow++) {
            int64_t sw = ow * g->stride[1] - g->pad[1], wlo = tw[3 * ow], whi = tw[3 * ow + 1];
            float sum = 0.0f;
            for (int64_t a = hlo; a < hhi; a++) {
                const float *row = xp + (sh + a * dh) * W + sw;
                for (int64_t b = wlo; b < whi; b++)
                    sum += row[b * dw];
            }
            double n = g->count_include_pad ? (double)th[3 * oh + 2] * (double)tw[3 * ow + 2]
                                            : (double)(hhi - hlo) * (double)(whi - wlo);
            yr[ow] = n > 0 ? (float)(sum / n) : NAN;
        }
    }
}

static onyx_status pool_run_ref(onyxi_exec *x) {
    const pool_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "pool run without init");
    const onyx_tensor *X = x->in[0];
    if (memcmp(X->dims, st->x_dims, sizeof st->x_dims) != 0)
        return onyxi_fail(x->err, ONYX_INTERNAL, "input shape changed since init");
    if (!st->tab) return ONYX_OK; /* empty output */
    const pool_geom *g = &st->g;
    onyx_dtype dt = X->dtype;
    int64_t *ind = x->n_out > 1 && x->out[1] ? x->out[1]->data : NULL;
    int64_t planes = g->N * g->C, ip = st->iplane, op = st->oplane;
    int threads = x->num_threads;
    /* Planes are independent and each is computed the same way at any thread count. */
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && planes > 1)
    for (int64_t p = 0; p < planes; p++) {
        int64_t *pi = ind ? ind + p * op : NULL;
        if (g->kind == KIND_AVG && g->S == 2)
            avg_plane_2d(st, (const float *)X->data + p * ip, (float *)x->out[0]->data + p * op);
        else if (g->kind == KIND_AVG)
            avg_plane(st, (const float *)X->data + p * ip, (float *)x->out[0]->data + p * op);
        else if (dt == ONYX_DTYPE_INT8)
            max_plane_i8(st, (const int8_t *)X->data + p * ip, (int8_t *)x->out[0]->data + p * op,
                         pi, p * ip);
        else if (dt == ONYX_DTYPE_UINT8)
            max_plane_u8(st, (const uint8_t *)X->data + p * ip, (uint8_t *)x->out[0]->data + p * op,
                         pi, p * ip);
        else if (g->S == 2 && !pi)
            max_plane_2d_f32(st, (const float *)X->data + p * ip,
                             (float *)x->out[0]->data + p * op);
        else
            max_plane_f32(st, (const float *)X->data + p * ip, (float *)x->out[0]->data + p * op,
                          pi, p * ip);
    }
    return ONYX_OK;
}

/* ---- GlobalAveragePool / GlobalMaxPool --------------------------------------------------- */

static onyx_status global_pool_infer(onyxi_infer *c) {
    const onyx_tensor *X = c->in[0];
    if (X->dtype == ONYX_DTYPE_FLOAT16 || X->dtype == ONYX_DTYPE_FLOAT64)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 'X' has dtype %s; only float32 is supported",
                          onyx_dtype_name(X->dtype));
    ONYXI_CHECK(onyxi_infer_expect_dtype(c, 0, ONYX_DTYPE_FLOAT32));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    if (X->rank < 3)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 'X' has rank %d, expected at least 3 (N, C, spatial...)", X->rank);
    int64_t dims[ONYXI_MAX_RANK];
    for (int i = 0; i < X->rank; i++)
        dims[i] = i < 2 ? X->dims[i] : 1;
    onyxi_infer_set(c, 0, ONYX_DTYPE_FLOAT32, X->rank, dims);
    return ONYX_OK;
}

onyx_status onyxi_global_average_pool_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

onyx_status onyxi_global_average_pool_infer(onyxi_infer *c) {
    return global_pool_infer(c);
}

onyx_status onyxi_global_max_pool_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

onyx_status onyxi_global_max_pool_infer(onyxi_infer *c) {
    return global_pool_infer(c);
}

/* Sums in double: float accumulation over a large plane (e.g. 512x512) loses several
 * digits, and double keeps the relative error near 1e-16 x plane size. An empty plane
 * gives NaN, as the mean of nothing does in the ONNX (numpy) reference. */
static onyx_status global_average_pool_run_ref(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    const float *xd = X->data;
    float *yd = x->out[0]->data;
    int64_t planes = X->dims[0] * X->dims[1]; /* bounded: the output has this many elements */
    int64_t size = onyxi_shape_count(X->rank - 2, X->dims + 2);
    if (planes == 0) return ONYX_OK;
    int threads = x->num_threads;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && planes > 1)
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = xd + p * size;
        double sum = 0.0;
        for (int64_t i = 0; i < size; i++)
            sum += xp[i];
        yd[p] = size > 0 ? (float)(sum / (double)size) : NAN;
    }
    return ONYX_OK;
}

/* NaN propagates, as np.max in the ONNX reference; an empty plane gives NaN. */
static onyx_status global_max_pool_run_ref(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    const float *xd = X->data;
    float *yd = x->out[0]->data;
    int64_t planes = X->dims[0] * X->dims[1];
    int64_t size = onyxi_shape_count(X->rank - 2, X->dims + 2);
    if (planes == 0) return ONYX_OK;
    int threads = x->num_threads;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && planes > 1)
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = xd + p * size;
        float m = size > 0 ? xp[0] : NAN;
        for (int64_t i = 1; i < size && !isnan(m); i++)
            m = xp[i] > m || isnan(xp[i]) ? xp[i] : m;
        yd[p] = m;
    }
    return ONYX_OK;
}

/* ---- exported op pieces ---- */

const onyxi_attr_spec onyxi_max_pool_attrs[] = {
    {"auto_pad", ONYXI_ATTR_STRING}, {"ceil_mode", ONYXI_ATTR_INT},
    {"dilations", ONYXI_ATTR_INTS},  {"kernel_shape", ONYXI_ATTR_INTS},
    {"pads", ONYXI_ATTR_INTS},       {"storage_order", ONYXI_ATTR_INT},
    {"strides", ONYXI_ATTR_INTS},    {NULL, 0}};
const onyxi_attr_spec onyxi_average_pool_attrs[] = {
    {"auto_pad", ONYXI_ATTR_STRING},       {"ceil_mode", ONYXI_ATTR_INT},
    {"count_include_pad", ONYXI_ATTR_INT}, {"dilations", ONYXI_ATTR_INTS},
    {"kernel_shape", ONYXI_ATTR_INTS},     {"pads", ONYXI_ATTR_INTS},
    {"strides", ONYXI_ATTR_INTS},          {NULL, 0}};
const onyxi_attr_spec onyxi_global_average_pool_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_global_max_pool_attrs[] = {{NULL, 0}};

static const onyxi_impl pool_ref = {"ref", pool_init_ref, pool_run_ref, pool_fini_ref};
const onyxi_impl *const onyxi_max_pool_impls[] = {&onyxi_pool_dnnl, &pool_ref, NULL};
const onyxi_impl *const onyxi_average_pool_impls[] = {&onyxi_pool_dnnl, &pool_ref, NULL};

static const onyxi_impl global_average_pool_ref = {"ref", NULL, global_average_pool_run_ref, NULL};
const onyxi_impl *const onyxi_global_average_pool_impls[] = {&onyxi_global_pool_dnnl,
                                                             &global_average_pool_ref, NULL};
static const onyxi_impl global_max_pool_ref = {"ref", NULL, global_max_pool_run_ref, NULL};
const onyxi_impl *const onyxi_global_max_pool_impls[] = {&onyxi_global_pool_dnnl,
                                                         &global_max_pool_ref, NULL};
