/*
 * Resize (opset 10, 11, 13, 18, 19) on oneDNN's resampling primitive, float32, 3-D to 5-D,
 * spatial axes only, and only where oneDNN's sampling equals ONNX's (measured in ONEDNN.md
 * section 5; oneDNN maps x_in = (x_out + 0.5) * in / out - 0.5 with its own out/in):
 *  - nearest, half_pixel or pytorch_half_pixel: round_prefer_ceil always, round_prefer_floor
 *    when no axis can produce a .5 tie (in / gcd(in, out) odd);
 *  - nearest, asymmetric with floor (or Resize-10's rule) at integer upscale factors;
 *  - linear (no antialias), half_pixel or pytorch_half_pixel: float32 coordinates, within
 *    ~4e-6 of the float64 reference.
 * The ONNX scale must equal out / in on every axis; everything else declines.
 */
#include <dnnl_debug.h>
#include <math.h>

#include "dnnl_stage.h"
#include "resize.h"

static int64_t gcd64(int64_t a, int64_t b) {
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* 1 when oneDNN computes exactly what the reference computes for this node (see above). */
static int resize_exact(const resize_params *p, const resize_geom *g) {
    if (g->rank < 3 || g->rank > 5) return 0;
    for (int a = 0; a < g->rank; a++) {
        int64_t in = g->in[a], out = g->out[a];
        if (in <= 0 || out <= 0) return 0;
        /* oneDNN recomputes the factor as out / in: the ONNX scale must be exactly that */
        if (fabs(g->out_w[a] - (double)out) > 1e-9 * (double)out) return 0;
        if (a < 2 && in != out) return 0; /* N and C are never resampled */
    }
    int half = p->ctm == CT_HALF_PIXEL || p->ctm == CT_PYTORCH_HALF_PIXEL;
    for (int a = 2; a < g->rank; a++) {
        int64_t in = g->in[a], out = g->out[a];
        /* pytorch_half_pixel samples 0 for a length-1 output; oneDNN samples the middle */
        if (p->ctm == CT_PYTORCH_HALF_PIXEL && out == 1 && in != 1) return 0;
        if (p->mode == MODE_LINEAR) {
            if (!half || p->antialias) return 0;
        } else if (p->mode == MODE_NEAREST) {
            if (half) {
                if (p->nearest == NM_ROUND_PREFER_CEIL) continue;
                /* ties at .5 happen only when in / gcd(in, out) is even */
                if (p->nearest != NM_ROUND_PREFER_FLOOR) return 0;
                if (in != out && (in / gcd64(in, out)) % 2 == 0) return 0;
            } else if (p->ctm == CT_ASYMMETRIC) {
                if (p->nearest != NM_FLOOR && p->nearest != NM_OPSET10) return 0;
                if (out % in != 0) return 0;
            } else {
                return 0;
            }
        } else {
            return 0;
        }
    }
    return 1;
}

static onyx_status resize_init_dnnl(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    onyxi_err *e = x->err;
    if (!x->backend || X->dtype != ONYX_DTYPE_FLOAT32) return ONYX_UNSUPPORTED;
    resize_params p;
    resize_geom g;
    ONYXI_CHECK(onyxi_resize_params(x->node, &p, e));
    ONYXI_CHECK(onyxi_resize_geometry(x->node, &p, x->in, x->n_in, &g, e));
    if (!resize_exact(&p, &g)) return ONYX_UNSUPPORTED;

    dnnl_memory_desc_t src_md, dst_md;
    ONYXI_CHECK(onyxi_dnnl_md_of(&src_md, X, e));
    int blocked_out = (x->blocked_ok & 1u) != 0;
    ONYXI_CHECK(onyxi_dnnl_md_dims(&dst_md, g.rank, g.out,
                                   blocked_out ? dnnl_format_tag_any : dnnl_format_tag_undef, e));
    dnnl_resampling_desc_t rd;
    dnnl_alg_kind_t alg = p.mode == MODE_LINEAR ? dnnl_resampling_linear : dnnl_resampling_nearest;
    dnnl_status_t ds =
        dnnl_resampling_forward_desc_init(&rd, dnnl_forward_inference, alg, NULL, &src_md, &dst_md);
    if (ds != dnnl_success)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "oneDNN resampling rejects this input (%s)",
                          dnnl_status2str(ds));
    onyxi_dnnl_step *st;
    ONYXI_CHECK(onyxi_dnnl_state_new(x, sizeof *st, (void **)&st));
    ONYXI_CHECK(onyxi_dnnl_stage_init(x, 0, &src_md, &src_md, ONYXI_STAGE_BUFFER, &st->src));
    return onyxi_dnnl_step_make(x, &rd, 0u, st);
}

const onyxi_impl onyxi_resize_dnnl = {"dnnl", resize_init_dnnl, onyxi_dnnl_step_run,
                                      onyxi_dnnl_step_fini};
