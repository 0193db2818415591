/*
 * Resize (ai.onnx) 10, 11, 13, 18, 19: float32 reference kernel.
 *  - 10: inputs X, scales; attribute mode (nearest|linear); asymmetric coordinates and the
 *    nearest rounding ONNX Runtime keeps for this version (floor when upsampling an axis,
 *    ceil when downsampling it).
 *  - 11/13: inputs X, roi, scales, sizes (empty name or empty tensor = absent); modes
 *    nearest/linear/cubic, every coordinate_transformation_mode and nearest_mode,
 *    cubic_coeff_a, exclude_outside, extrapolation_value (tf_crop_and_resize).
 *  - 18: antialias, axes, keep_aspect_ratio_policy.  19: half_pixel_symmetric.
 * Values follow the ONNX Python reference (onnx/reference/ops/op_resize.py), which is what
 * generated the backend node tests. Where it contradicts the spec text and ONNX Runtime
 * (length_resized == 1 with pytorch_half_pixel / tf_crop_and_resize) we follow the spec.
 * Output shapes from scales are floor(float(in) * scale) in float32, as ONNX's C++ shape
 * inference and ONNX Runtime compute them (the Python reference uses float64).
 *
 * Other choices: roi absent or empty under tf_crop_and_resize means [0, 1] per axis;
 * exclude_outside and antialias do not affect nearest; scales/sizes are read when planning
 * (their data must be known then), roi at every run (it may change without a re-plan).
 *
 * The kernel is separable: one pass per resized axis (innermost first, as the reference
 * nests its 1-D interpolations), each a table of (source index, weight) taps per output
 * index. Intermediates are float64 like the reference's arithmetic.
 */
#include <math.h>
#include <string.h>

#include "ops.h"
#include "resize.h"

#define R ONYXI_MAX_RANK

/* Taps of one axis: output j reads in[idx[j*taps+t]] with weight w[j*taps+t]; out-of-roi
 * outputs (tf_crop_and_resize) take the extrapolation value instead. */
typedef struct axis_table {
    int taps;
    int64_t *idx;          /* owned */
    double *w;             /* owned */
    unsigned char *extrap; /* owned */
    int identity;          /* the pass copies: skipped */
} axis_table;

typedef struct resize_state {
    resize_params p;
    resize_geom g;
    axis_table t[R];
    double *buf[2]; /* owned: ping-pong intermediates between passes */
    int roi_tables; /* tables depend on roi data: rebuilt by run (no allocation) */
} resize_state;

/* ---- attributes ---- */

static int version_of(int64_t opset) {
    return opset >= 19 ? 19 : opset >= 18 ? 18 : opset >= 13 ? 13 : opset >= 11 ? 11 : 10;
}

/* Index of s in the NULL-terminated names, or -1. */
static int lookup(const char *s, const char *const *names) {
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

static onyx_status parse_params(const onyxi_node *n, resize_params *p, onyxi_err *e) {
    static const struct {
        const char *name;
        int since;
    } attr_since[] = {{"coordinate_transformation_mode", 11},
                      {"cubic_coeff_a", 11},
                      {"exclude_outside", 11},
                      {"extrapolation_value", 11},
                      {"nearest_mode", 11},
                      {"antialias", 18},
                      {"axes", 18},
                      {"keep_aspect_ratio_policy", 18}};
    memset(p, 0, sizeof *p);
    p->ver = version_of(n->opset);
    for (size_t i = 0; i < sizeof attr_since / sizeof attr_since[0]; i++)
        if (p->ver < attr_since[i].since && onyxi_attr_find(n, attr_since[i].name))
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "attribute '%s' is defined from Resize-%d, not at opset %lld",
                              attr_since[i].name, attr_since[i].since, (long long)n->opset);

    static const char *const modes[] = {"nearest", "linear", "cubic", NULL};
    const char *s = onyxi_attr_string(n, "mode", "nearest");
    p->mode = lookup(s, modes);
    if (p->mode < 0 || (p->ver == 10 && p->mode == MODE_CUBIC))
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'mode' is '%s', expected %s", s,
                          p->ver == 10 ? "'nearest' or 'linear' (Resize-10)"
                                       : "'nearest', 'linear' or 'cubic'");
    if (p->ver == 10) { /* no coordinate modes yet: Upsample-style asymmetric sampling */
        p->ctm = CT_ASYMMETRIC;
        p->nearest = NM_OPSET10;
        p->cubic_a = -0.75;
        return ONYX_OK;
    }

    /* tf_half_pixel_for_nn left the spec at 13; ONNX Runtime still takes it, so do we. */
    static const char *const ctms[] = {
        "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize", NULL};
    s = onyxi_attr_string(n, "coordinate_transformation_mode", "half_pixel");
    p->ctm = lookup(s, ctms);
    if (p->ctm < 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'coordinate_transformation_mode' is '%s', expected one of "
                          "half_pixel, half_pixel_symmetric (from 19), pytorch_half_pixel, "
                          "align_corners, asymmetric, tf_half_pixel_for_nn, tf_crop_and_resize",
                          s);
    if (p->ctm == CT_HALF_PIXEL_SYMMETRIC && p->ver < 19)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'coordinate_transformation_mode' is 'half_pixel_symmetric', "
                          "which exists from Resize-19, not at opset %lld",
                          (long long)n->opset);

    static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil",
                                      NULL};
    s = onyxi_attr_string(n, "nearest_mode", "round_prefer_floor");
    p->nearest = lookup(s, nms);
    if (p->nearest < 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'nearest_mode' is '%s', expected round_prefer_floor, "
                          "round_prefer_ceil, floor or ceil",
                          s);

    float a = onyxi_attr_float(n, "cubic_coeff_a", -0.75f);
    if (!isfinite(a))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'cubic_coeff_a' is %g, expected a "
                          "finite value",
                          (double)a);
    p->cubic_a = a;
    p->extrapolation = onyxi_attr_float(n, "extrapolation_value", 0.0f);

    int64_t v = onyxi_attr_int(n, "exclude_outside", 0);
    if (v != 0 && v != 1)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'exclude_outside' is %lld, expected "
                          "0 or 1",
                          (long long)v);
    p->exclude_outside = (int)v;
    v = onyxi_attr_int(n, "antialias", 0);
    if (v != 0 && v != 1)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'antialias' is %lld, expected 0 or 1",
                          (long long)v);
    p->antialias = (int)v;

    static const char *const keeps[] = {"stretch", "not_larger", "not_smaller", NULL};
    s = onyxi_attr_string(n, "keep_aspect_ratio_policy", "stretch");
    p->keep = lookup(s, keeps);
    if (p->keep < 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'keep_aspect_ratio_policy' is '%s', expected stretch, "
                          "not_larger or not_smaller",
                          s);

    const int64_t *axes;
    int naxes = onyxi_attr_ints(n, "axes", &axes);
    if (naxes == 0 || naxes > R)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'axes' has %d values, expected 1 to %d",
                          naxes, R);
    return ONYX_OK;
}

onyx_status onyxi_resize_check(const onyxi_node *n, onyxi_err *e) {
    resize_params p;
    return parse_params(n, &p, e);
}

/* ---- shapes ---- */

static const char *input_name(int ver, int k) {
    static const char *const names[] = {"X", "roi", "scales", "sizes"};
    if (ver == 10) return k == 1 ? "scales" : "X";
    return k >= 0 && k < 4 ? names[k] : "?";
}

/* Element count of optional input k: -1 when absent, -2 when its shape is unknown. */
static int64_t input_count(const onyx_tensor *const *in, int n_in, int k) {
    if (k >= n_in || !in[k]) return -1;
    int64_t c = onyxi_shape_count(in[k]->rank, in[k]->dims);
    return c < 0 ? -2 : c;
}

/* Output shape and per-axis scales from X and scales/sizes. c is the inference context
 * (records the data read) or NULL when called from init, where the data is at hand. */
static onyx_status resize_geometry(const onyxi_node *n, const resize_params *p,
                                   const onyx_tensor *const *in, int n_in, onyxi_infer *c,
                                   resize_geom *g, onyxi_err *e) {
    const onyx_tensor *X = in[0];
    if (X->dtype != ONYX_DTYPE_FLOAT32)
        return onyxi_fail(e, ONYX_TYPE_MISMATCH, "input 'X' has dtype %s, expected float32",
                          onyx_dtype_name(X->dtype));
    if (X->rank < 1)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input 'X' has rank %d, expected at least 1",
                          X->rank);
    memset(g, 0, sizeof *g);
    g->rank = X->rank;
    for (int i = 0; i < g->rank; i++) {
        if (X->dims[i] < 0)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input 'X' has an unknown dim %d", i);
        g->in[i] = g->out[i] = X->dims[i];
        g->scale[i] = 1.0;
        g->out_w[i] = (double)X->dims[i];
    }

    /* axes (18+): normalized, no duplicates; defaults to every axis */
    const int64_t *axes;
    int naxes = p->ver >= 18 ? onyxi_attr_ints(n, "axes", &axes) : -1;
    if (naxes < 0) {
        g->naxes = g->rank;
        for (int i = 0; i < g->rank; i++)
            g->axes[i] = i;
    } else {
        g->naxes = naxes;
        for (int i = 0; i < naxes; i++) {
            if (axes[i] < -g->rank || axes[i] >= g->rank)
                return onyxi_fail(e, ONYX_INVALID_MODEL,
                                  "attribute 'axes' value %lld is out of range for rank %d",
                                  (long long)axes[i], g->rank);
            g->axes[i] = (int)(axes[i] < 0 ? axes[i] + g->rank : axes[i]);
            for (int j = 0; j < i; j++)
                if (g->axes[j] == g->axes[i])
                    return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'axes' names axis %d twice",
                                      g->axes[i]);
        }
    }

    int ks = p->ver == 10 ? 1 : 2, kz = 3;
    int64_t ns = input_count(in, n_in, ks), nz = p->ver == 10 ? -1 : input_count(in, n_in, kz);
    if (ns == -2 || nz == -2)
        return onyxi_fail(e, ONYX_UNSUPPORTED,
                          "the output shape depends on run-time data of input '%s' (its shape "
                          "is not known before the run)",
                          input_name(p->ver, ns == -2 ? ks : kz));
    /* An empty tensor means absent (opset 11 requires scales, so exporters pass []). */
    int has_s = ns > 0, has_z = nz > 0;
    if (has_s && has_z)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "inputs 'scales' and 'sizes' are both given, expected exactly one");
    if (!has_s && !has_z)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          p->ver == 10 ? "input 'scales' is empty, expected one value per axis"
                                       : "neither 'scales' nor 'sizes' is given, expected "
                                         "exactly one");
    int k = has_s ? ks : kz;
    const onyx_tensor *t = in[k];
    int64_t cnt = has_s ? ns : nz;
    if (has_s && t->dtype != ONYX_DTYPE_FLOAT32)
        return onyxi_fail(e, ONYX_TYPE_MISMATCH, "input 'scales' has dtype %s, expected float32",
                          onyx_dtype_name(t->dtype));
    if (has_z && t->dtype != ONYX_DTYPE_INT64 && t->dtype != ONYX_DTYPE_INT32)
        return onyxi_fail(e, ONYX_TYPE_MISMATCH, "input 'sizes' has dtype %s, expected int64",
                          onyx_dtype_name(t->dtype));
    if (cnt != g->naxes)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input '%s' has %lld values, expected %d (%s)",
                          input_name(p->ver, k), (long long)cnt, g->naxes,
                          naxes < 0 ? "the rank of 'X'" : "the length of 'axes'");
    const void *data = c ? onyxi_infer_data(c, k) : t->data;
    if (!data)
        return onyxi_fail(e, ONYX_UNSUPPORTED,
                          "the output shape depends on run-time data of input '%s'; onyx needs "
                          "it to be an initializer, a constant or a bound graph input",
                          input_name(p->ver, k));

    if (has_s) {
        const float *sc = data;
        for (int i = 0; i < g->naxes; i++) {
            int a = g->axes[i];
            float s = sc[i];
            if (!(s > 0.0f) || !isfinite(s))
                return onyxi_fail(e, ONYX_INVALID_MODEL,
                                  "input 'scales' value %d is %g, expected a finite value > 0", i,
                                  (double)s);
            /* float32 product, like ONNX shape inference and ONNX Runtime */
            float o = floorf((float)g->in[a] * s);
            if (!(o < 9.0e18f))
                return onyxi_fail(e, ONYX_INVALID_MODEL,
                                  "input 'scales' value %d (%g) makes axis %d too large", i,
                                  (double)s, a);
            g->out[a] = (int64_t)o;
            g->scale[a] = (double)s;
            g->out_w[a] = (double)s * (double)g->in[a];
        }
    } else {
        for (int i = 0; i < g->naxes; i++) {
            int a = g->axes[i];
            int64_t z = onyxi_read_int(t, i);
            if (z < 0)
                return onyxi_fail(e, ONYX_INVALID_MODEL,
                                  "input 'sizes' value %d is %lld, "
                                  "expected >= 0",
                                  i, (long long)z);
            if (g->in[a] == 0 && z != 0)
                return onyxi_fail(e, ONYX_INVALID_MODEL,
                                  "input 'sizes' value %d is %lld, but axis %d of 'X' is empty "
                                  "(expected 0)",
                                  i, (long long)z, a);
            g->out[a] = z;
            g->scale[a] = g->in[a] ? (double)z / (double)g->in[a] : 1.0;
        }
        if (p->keep != KEEP_STRETCH) {
            /* one scale for every resized axis; sizes rounded half up from it */
            double s = g->scale[g->axes[0]];
            for (int i = 1; i < g->naxes; i++) {
                double si = g->scale[g->axes[i]];
                s = p->keep == KEEP_NOT_LARGER ? fmin(s, si) : fmax(s, si);
            }
            for (int i = 0; i < g->naxes; i++) {
                int a = g->axes[i];
                double o = s * (double)g->in[a] + 0.5;
                if (!(o < 9.0e18))
                    return onyxi_fail(e, ONYX_INVALID_MODEL,
                                      "input 'sizes' makes axis %d too "
                                      "large",
                                      a);
                g->scale[a] = s;
                g->out[a] = (int64_t)o;
            }
        }
        for (int i = 0; i < g->naxes; i++) {
            int a = g->axes[i];
            g->out_w[a] = g->scale[a] * (double)g->in[a];
        }
    }
    if (onyxi_shape_count(g->rank, g->out) < 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "the output element count overflows int64");

    if (p->ver >= 11 && p->ctm == CT_TF_CROP_AND_RESIZE) {
        int64_t nr = input_count(in, n_in, 1);
        if (nr > 0 && in[1]->dtype != ONYX_DTYPE_FLOAT32 && in[1]->dtype != ONYX_DTYPE_FLOAT64)
            return onyxi_fail(e, ONYX_TYPE_MISMATCH,
                              "input 'roi' has dtype %s, expected float32 or float64",
                              onyx_dtype_name(in[1]->dtype));
        if (nr > 0 && nr != 2 * g->naxes && nr != 2 * g->rank)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "input 'roi' has %lld values, expected %d (starts then ends)",
                              (long long)nr, 2 * g->naxes);
        if (nr == -2) return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input 'roi' has an unknown shape");
    }
    return ONYX_OK;
}

onyx_status onyxi_resize_infer(onyxi_infer *c) {
    resize_params p;
    resize_geom g;
    ONYXI_CHECK(parse_params(c->node, &p, c->err));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    ONYXI_CHECK(resize_geometry(c->node, &p, c->in, c->n_in, c, &g, c->err));
    onyxi_infer_set(c, 0, ONYX_DTYPE_FLOAT32, g.rank, g.out);
    return ONYX_OK;
}

onyx_status onyxi_resize_params(const onyxi_node *n, resize_params *p, onyxi_err *e) {
    return parse_params(n, p, e);
}

onyx_status onyxi_resize_geometry(const onyxi_node *n, const resize_params *p,
                                  const onyx_tensor *const *in, int n_in, resize_geom *g,
                                  onyxi_err *e) {
    return resize_geometry(n, p, in, n_in, NULL, g, e);
}

/* ---- tap tables ---- */

/* Number of taps per output for one axis (antialias widens the filter by 1/scale). */
static int64_t tap_count(const resize_params *p, double scale) {
    if (p->mode == MODE_NEAREST) return 1;
    if (!p->antialias || scale >= 1.0) return p->mode == MODE_LINEAR ? 2 : 4;
    /* reference: linear start = floor(-1/s) + 1, cubic floor(-2/s) + 1; taps = 2 - 2*start */
    double start = floor((p->mode == MODE_LINEAR ? -1.0 : -2.0) / scale) + 1.0;
    double taps = 2.0 - 2.0 * start;
    return taps < 1e15 ? (int64_t)taps : INT64_MAX;
}

/* Cubic convolution kernel of the antialias path at distance x (Keys, coefficient A). */
static double cubic_kernel(double x, double A) {
    x = fabs(x);
    double x2 = x * x, x3 = x * x2;
    if (x <= 1) return (A + 2) * x3 - (A + 3) * x2 + 1;
    if (x < 2) return A * x3 - 5 * A * x2 + 8 * A * x - 4 * A;
    return 0.0;
}

/* Source coordinate of output index j (the spec's x_original). roi_start/roi_len are the
 * axis' roi values (roi_len computed in the roi's precision, as the reference does). */
static double source_coord(const resize_params *p, int64_t j, int64_t in, int64_t out, double scale,
                           double out_w, double roi_start, double roi_len) {
    double x = (double)j;
    switch (p->ctm) {
    case CT_ALIGN_CORNERS:
        return out == 1 ? 0.0 : x * (double)(in - 1) / (out_w - 1);
    case CT_ASYMMETRIC:
        if (p->nearest == NM_OPSET10) /* ONNX Runtime's Resize-10 divides in float32 */
            return (double)((float)j / (float)scale);
        return x / scale;
    case CT_TF_HALF_PIXEL_FOR_NN:
        return (x + 0.5) / scale;
    case CT_TF_CROP_AND_RESIZE: {
        double xo = out == 1 ? roi_len * (double)(in - 1) / 2
                             : x * roi_len * (double)(in - 1) / (out_w - 1);
        return xo + roi_start * (double)(in - 1);
    }
    case CT_PYTORCH_HALF_PIXEL:
        return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case CT_HALF_PIXEL_SYMMETRIC: {
        /* centres the implicit roi when out is not exactly in * scale */
        double adjustment = (double)out / out_w;
        double center = (double)in / 2;
        double offset = center * (1 - adjustment);
        return offset + (x + 0.5) / scale - 0.5;
    }
    default: /* half_pixel */
        return (x + 0.5) / scale - 0.5;
    }
}

/* Fills table a for one axis. taps was fixed by init (tap_count). */
static void build_axis(const resize_params *p, axis_table *a, int64_t in, int64_t out, double scale,
                       double out_w, double roi_start, double roi_len) {
    int n = a->taps;
    a->identity = in == out;
    for (int64_t j = 0; j < out; j++) {
        int64_t *idx = a->idx + j * n;
        double *w = a->w + j * n;
        double xo = source_coord(p, j, in, out, scale, out_w, roi_start, roi_len);
        a->extrap[j] = 0;
        if (p->ctm == CT_TF_CROP_AND_RESIZE && (xo < 0 || xo > (double)(in - 1))) {
            a->extrap[j] = 1;
            for (int t = 0; t < n; t++)
                idx[t] = 0, w[t] = 0.0;
            a->identity = 0;
            continue;
        }
        /* keep the integer conversions defined for absurd coordinates */
        if (!(xo > -4.0 - n)) xo = -4.0 - n;
        if (!(xo < (double)in + 4.0 + n)) xo = (double)in + 4.0 + n;
        double fl = floor(xo);
        /* the reference picks taps left of x: base + ratio == x with ratio in (0, 1] */
        int integral = xo == fl;
        double ratio = integral ? 1.0 : xo - fl;
        int64_t base = (int64_t)fl - (integral ? 1 : 0);

        if (p->mode == MODE_NEAREST) {
            int64_t k;
            switch (p->nearest) {
            case NM_OPSET10:
                k = scale < 1.0 ? (int64_t)ceil(xo) : (int64_t)fl;
                break;
            case NM_ROUND_PREFER_CEIL:
                k = ratio < 0.5 ? base : base + 1;
                break;
            case NM_FLOOR:
                k = integral ? base + 1 : base;
                break;
            case NM_CEIL:
                k = base + 1;
                break;
            default:
                k = ratio <= 0.5 ? base : base + 1;
                break;
            }
            idx[0] = k < 0 ? 0 : k >= in ? in - 1 : k;
            w[0] = 1.0;
            if (idx[0] != j) a->identity = 0;
            continue;
        }

        int64_t first = base + 1 - n / 2; /* position of tap 0 */
        double s = scale < 1.0 ? scale : 1.0;
        if (p->antialias && p->mode == MODE_LINEAR) {
            double sum = 0;
            for (int t = 0; t < n; t++) {
                double arg = ((double)(first - base + t) - ratio) * s;
                double v = 1 - fabs(arg);
                w[t] = v < 0 ? 0 : v > 1 ? 1 : v;
                sum += w[t];
            }
            for (int t = 0; t < n; t++)
                w[t] /= sum;
        } else if (p->antialias && p->mode == MODE_CUBIC) {
            double sum = 0;
            for (int t = 0; t < n; t++) {
                w[t] = cubic_kernel(s * ((double)(first - base + t) - ratio), p->cubic_a);
                sum += w[t];
            }
            for (int t = 0; t < n; t++)
                w[t] /= sum;
        } else if (p->mode == MODE_LINEAR) {
            w[0] = 1 - ratio;
            w[1] = ratio;
        } else {
            double A = p->cubic_a, r1 = ratio + 1, q = 1 - ratio, q1 = q + 1;
            w[0] = ((A * r1 - 5 * A) * r1 + 8 * A) * r1 - 4 * A;
            w[1] = ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1;
            w[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
            w[3] = ((A * q1 - 5 * A) * q1 + 8 * A) * q1 - 4 * A;
        }
        if (p->exclude_outside) {
            double sum = 0;
            for (int t = 0; t < n; t++) {
                int64_t pos = first + t;
                if (pos < 0 || pos >= in) w[t] = 0;
                sum += w[t];
            }
            if (sum != 0)
                for (int t = 0; t < n; t++)
                    w[t] /= sum;
        }
        /* outside taps read the edge: the reference pads with mode='edge' */
        double self = 0;
        for (int t = 0; t < n; t++) {
            int64_t pos = first + t;
            idx[t] = pos < 0 ? 0 : pos >= in ? in - 1 : pos;
            if (idx[t] == j)
                self += w[t];
            else if (w[t] != 0)
                a->identity = 0;
        }
        if (self != 1.0) a->identity = 0;
    }
}

/* Roi start and length of axis a (defaults [0, 1] when roi is absent or empty). */
static void roi_of(const onyxi_exec *x, const resize_geom *g, int i, double *start, double *len) {
    *start = 0.0;
    *len = 1.0;
    const onyx_tensor *roi = x->n_in > 1 ? x->in[1] : NULL;
    if (!roi || !roi->data) return;
    int64_t nr = onyxi_shape_count(roi->rank, roi->dims);
    int a = g->axes[i], ks, ke;
    if (nr == 2 * g->rank) {
        ks = a, ke = g->rank + a;
    } else if (nr == 2 * g->naxes) {
        ks = i, ke = g->naxes + i;
    } else {
        return;
    }
    if (roi->dtype == ONYX_DTYPE_FLOAT32) {
        const float *r = roi->data;
        *start = r[ks];
        *len = (double)(r[ke] - r[ks]); /* float32 subtraction, as numpy does on a float32 roi */
    } else {
        const double *r = roi->data;
        *start = r[ks];
        *len = r[ke] - r[ks];
    }
}

static void build_tables(onyxi_exec *x, resize_state *st) {
    const resize_geom *g = &st->g;
    for (int i = 0; i < g->naxes; i++) {
        int a = g->axes[i];
        double rs = 0.0, rl = 1.0;
        if (st->roi_tables) roi_of(x, g, i, &rs, &rl);
        build_axis(&st->p, &st->t[a], g->in[a], g->out[a], g->scale[a], g->out_w[a], rs, rl);
    }
}

/* ---- ref implementation ---- */

static void resize_fini_ref(onyxi_exec *x) {
    resize_state *st = x->state;
    if (!st) return;
    for (int i = 0; i < R; i++) {
        onyxi_free(st->t[i].idx);
        onyxi_free(st->t[i].w);
        onyxi_free(st->t[i].extrap);
    }
    onyxi_free(st->buf[0]);
    onyxi_free(st->buf[1]);
    onyxi_free(st);
    x->state = NULL;
}

static onyx_status resize_init_ref(onyxi_exec *x) {
    resize_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the resize state");
    x->state = st;
    onyx_status rc = parse_params(x->node, &st->p, x->err);
    if (rc == ONYX_OK) rc = resize_geometry(x->node, &st->p, x->in, x->n_in, NULL, &st->g, x->err);
    if (rc != ONYX_OK) goto fail;
    resize_geom *g = &st->g;
    if (onyxi_shape_count(g->rank, g->out) == 0) return ONYX_OK; /* nothing to compute */

    for (int i = 0; i < g->naxes; i++) {
        int a = g->axes[i];
        int64_t taps = tap_count(&st->p, g->scale[a]);
        size_t cells, bi, bw;
        if (taps > INT32_MAX || !onyxi_mul_size((size_t)g->out[a], (size_t)taps, &cells) ||
            !onyxi_mul_size(cells, sizeof(int64_t), &bi) ||
            !onyxi_mul_size(cells, sizeof(double), &bw)) {
            rc = onyxi_fail(x->err, ONYX_NOMEM, "the tap table of axis %d is too large", a);
            goto fail;
        }
        st->t[a].taps = (int)taps;
        st->t[a].idx = onyxi_malloc(bi);
        st->t[a].w = onyxi_malloc(bw);
        st->t[a].extrap = onyxi_malloc((size_t)g->out[a]);
        if (!st->t[a].idx || !st->t[a].w || !st->t[a].extrap) {
            rc = onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the tap table of axis %d", a);
            goto fail;
        }
    }

    /* Intermediate shapes: axes done innermost-first. Skipped (identity) passes only drop
     * shapes from this sequence, so its maximum bounds every run. */
    int64_t cur[R];
    memcpy(cur, g->in, sizeof cur);
    size_t need = 0;
    for (int i = g->naxes - 1; i > 0; i--) { /* the last pass writes the output */
        cur[g->axes[i]] = g->out[g->axes[i]];
        int64_t cnt = onyxi_shape_count(g->rank, cur);
        if (cnt < 0 || (uint64_t)cnt > SIZE_MAX / sizeof(double)) {
            rc = onyxi_fail(x->err, ONYX_NOMEM, "the intermediate tensor is too large");
            goto fail;
        }
        if ((size_t)cnt > need) need = (size_t)cnt;
    }
    if (need) {
        st->buf[0] = onyxi_malloc(need * sizeof(double));
        st->buf[1] = g->naxes > 2 ? onyxi_malloc(need * sizeof(double)) : NULL;
        if (!st->buf[0] || (g->naxes > 2 && !st->buf[1])) {
            rc = onyxi_fail(x->err, ONYX_NOMEM, "out of memory for resize intermediates");
            goto fail;
        }
    }
    st->roi_tables = st->p.ctm == CT_TF_CROP_AND_RESIZE;
    if (!st->roi_tables) build_tables(x, st);
    return ONYX_OK;
fail:
    resize_fini_ref(x);
    return rc;
}

/* One pass along axis a of a tensor whose dims are cur (before the pass): outer * in *
 * inner elements become outer * out * inner. Exactly one of sf/sd and of df/dd is set. */
static void resize_pass(const axis_table *t, int64_t outer, int64_t in, int64_t out, int64_t inner,
                        const float *sf, const double *sd, float *df, double *dd, double extrap) {
    int n = t->taps;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t j = 0; j < out; j++) {
            int64_t d0 = (o * out + j) * inner;
            const int64_t *idx = t->idx + j * n;
            const double *w = t->w + j * n;
            for (int64_t i = 0; i < inner; i++) {
                double acc = extrap;
                if (!t->extrap[j]) {
                    acc = 0.0;
                    for (int k = 0; k < n; k++) {
                        int64_t s = (o * in + idx[k]) * inner + i;
                        acc += w[k] * (sf ? (double)sf[s] : sd[s]);
                    }
                }
                if (df)
                    df[d0 + i] = (float)acc;
                else
                    dd[d0 + i] = acc;
            }
        }
    }
}

static onyx_status resize_run_ref(onyxi_exec *x) {
    resize_state *st = x->state;
    const resize_geom *g = &st->g;
    onyx_tensor *Y = x->out[0];
    for (int i = 0; i < g->rank; i++)
        if (Y->rank != g->rank || Y->dims[i] != g->out[i])
            return onyxi_fail(x->err, ONYX_INTERNAL,
                              "output 'Y' shape changed since the plan (dim %d)", i);
    if (onyxi_shape_count(g->rank, g->out) == 0) return ONYX_OK;
    if (st->roi_tables) build_tables(x, st);

    int pass[R], np = 0;
    for (int i = g->naxes - 1; i >= 0; i--)
        if (!st->t[g->axes[i]].identity) pass[np++] = g->axes[i];
    const float *X = x->in[0]->data;
    float *out = Y->data;
    if (np == 0) {
        memcpy(out, X, (size_t)onyxi_shape_count(g->rank, g->in) * sizeof(float));
        return ONYX_OK;
    }

    int64_t cur[R];
    memcpy(cur, g->in, sizeof cur);
    const double *src = NULL;
    for (int k = 0; k < np; k++) {
        int a = pass[k];
        int64_t outer = 1, inner = 1;
        for (int i = 0; i < a; i++)
            outer *= cur[i];
        for (int i = a + 1; i < g->rank; i++)
            inner *= cur[i];
        double *dst = k == np - 1 ? NULL : st->buf[k % 2];
        resize_pass(&st->t[a], outer, cur[a], g->out[a], inner, k == 0 ? X : NULL, src,
                    dst ? NULL : out, dst, (double)st->p.extrapolation);
        cur[a] = g->out[a];
        src = dst;
    }
    return ONYX_OK;
}

/* ---- exported op pieces ---- */

const onyxi_attr_spec onyxi_resize_attrs[] = {
    {"mode", ONYXI_ATTR_STRING},
    {"coordinate_transformation_mode", ONYXI_ATTR_STRING},
    {"cubic_coeff_a", ONYXI_ATTR_FLOAT},
    {"exclude_outside", ONYXI_ATTR_INT},
    {"extrapolation_value", ONYXI_ATTR_FLOAT},
    {"nearest_mode", ONYXI_ATTR_STRING},
    {"antialias", ONYXI_ATTR_INT},
    {"axes", ONYXI_ATTR_INTS},
    {"keep_aspect_ratio_policy", ONYXI_ATTR_STRING},
    {NULL, 0},
};

static const onyxi_impl resize_ref = {"ref", resize_init_ref, resize_run_ref, resize_fini_ref};
const onyxi_impl *const onyxi_resize_impls[] = {&onyxi_resize_dnnl, &resize_ref, NULL};
