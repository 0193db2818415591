/*
 * Softmax and LogSoftmax (opset 1, 11, 13) on oneDNN's softmax v2 primitive, float32. oneDNN
 * is fast only along the innermost dense dim, so a plain input runs as the 2-D view
 * [outer, len] (every dim after the axis is 1, or folded in by opset < 13's coercion) and a
 * blocked input along its logical axis when oneDNN has a jit kernel for that layout (axis 1
 * of nChw8c). Everything else declines to the reference kernel.
 */
#include <dnnl_debug.h>
#include <string.h>

#include "dnnl_stage.h"
#include "softmax.h"

static onyx_status softmax_init_dnnl(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    onyxi_err *e = x->err;
    if (!x->backend || X->dtype != ONYX_DTYPE_FLOAT32) return ONYX_UNSUPPORTED;
    sm_view v;
    ONYXI_CHECK(onyxi_softmax_view(x->node, X, &v, e));
    if (v.outer <= 0 || v.len <= 0 || v.inner <= 0) return ONYX_UNSUPPORTED;
    int ax;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(x->node, "axis", x->node->opset >= 13 ? -1 : 1),
                                X->rank, &ax, e));
    dnnl_memory_desc_t src_md, dst_md;
    int axis, blocked_out = 0;
    if (!X->layout) {
        if (v.inner != 1) return ONYX_UNSUPPORTED; /* a strided axis: oneDNN's ref loop */
        int64_t d2[2] = {v.outer, v.len};
        ONYXI_CHECK(onyxi_dnnl_md_dims(&src_md, 2, d2, dnnl_format_tag_undef, e));
        dst_md = src_md;
        axis = 1;
    } else {
        /* opset < 13 folds later dims into the axis: only the same thing when it is the last */
        if (x->node->opset < 13 && ax != X->rank - 1) return ONYX_UNSUPPORTED;
        ONYXI_CHECK(onyxi_dnnl_md_of(&src_md, X, e));
        blocked_out = (x->blocked_ok & 1u) != 0;
        ONYXI_CHECK(onyxi_dnnl_md_dims(&dst_md, X->rank, X->dims,
                                       blocked_out ? dnnl_format_tag_any : dnnl_format_tag_undef,
                                       e));
        axis = ax;
    }
    int log = strcmp(x->node->op_type, "LogSoftmax") == 0;
    dnnl_softmax_v2_desc_t sd;
    dnnl_status_t ds = dnnl_softmax_v2_forward_desc_init(
        &sd, dnnl_forward_inference, log ? dnnl_softmax_log : dnnl_softmax_accurate, &src_md,
        &dst_md, axis);
    if (ds != dnnl_success)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "oneDNN softmax rejects this input (%s)",
                          dnnl_status2str(ds));
    onyxi_dnnl_step *st;
    ONYXI_CHECK(onyxi_dnnl_state_new(x, sizeof *st, (void **)&st));
    ONYXI_CHECK(onyxi_dnnl_stage_init(x, 0, &src_md, &src_md, ONYXI_STAGE_BUFFER, &st->src));
    /* the plain 2-D view leaves the output plain */
    return onyxi_dnnl_step_make(x, &sd, blocked_out ? 0u : ONYXI_PRIM_PLAIN_OUT, st);
}

const onyxi_impl onyxi_softmax_dnnl = {"dnnl", softmax_init_dnnl, onyxi_dnnl_step_run,
                                       onyxi_dnnl_step_fini};
