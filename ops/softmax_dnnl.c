/*
 * Softmax and LogSoftmax (opset 1, 11, 13) on oneDNN's softmax v2 primitive, float32. oneDNN
 * is fast only along the innermost dense dim, so a plain input runs as the 2-D view
 * [outer, len] (every dim after the axis is 1, or folded in by opset < 13's coercion) and a
 * blocked input along its logical axis when oneDNN has a jit kernel for that layout (axis 1
 * of nChw8c). Everything else declines to the reference kernel.
 */
#include <dnnl_debug.h>
#include <string.h>

#include "../runtime/dnnl_util.h"
#include "softmax.h"

typedef struct softmax_dnnl_state {
    dnnl_primitive_t prim;
    dnnl_memory_t src, dst, scratch;
    dnnl_memory_desc_t dst_md; /* the output's layout when blocked (x->out[0]->layout) */
} softmax_dnnl_state;

static void softmax_fini_dnnl(onyxi_exec *x) {
    softmax_dnnl_state *st = x->state;
    if (!st) return;
    if (st->prim) dnnl_primitive_destroy(st->prim);
    dnnl_memory_t mems[] = {st->src, st->dst, st->scratch};
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    onyxi_free(st);
    x->state = NULL;
}

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
    dnnl_primitive_desc_t pd = NULL;
    ONYXI_CHECK(onyxi_dnnl_make_pd(x, &sd, NULL, &pd));
    softmax_dnnl_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) {
        dnnl_primitive_desc_destroy(pd);
        return onyxi_fail(e, ONYX_NOMEM, "out of memory for the %s state", x->node->op_type);
    }
    x->state = st;
    dnnl_engine_t eng = x->backend->engine;
    const dnnl_memory_desc_t *out_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    const dnnl_memory_desc_t *scr = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    onyx_status rc = onyxi_dnnl_check(dnnl_memory_create(&st->src, &src_md, eng, DNNL_MEMORY_NONE),
                                      "dnnl_memory_create", e);
    if (rc == ONYX_OK)
        rc = onyxi_dnnl_check(dnnl_memory_create(&st->dst, out_md, eng, DNNL_MEMORY_NONE),
                              "dnnl_memory_create", e);
    if (rc == ONYX_OK)
        rc = onyxi_dnnl_check(dnnl_memory_create(&st->scratch, scr, eng, DNNL_MEMORY_NONE),
                              "dnnl_memory_create", e);
    if (rc == ONYX_OK)
        rc = onyxi_dnnl_check(dnnl_primitive_create(&st->prim, pd), "dnnl_primitive_create", e);
    if (rc == ONYX_OK) {
        x->scratch_bytes = dnnl_memory_desc_get_size(scr);
        if (blocked_out) rc = onyxi_dnnl_set_output(x, 0, out_md, &st->dst_md);
    }
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

static onyx_status softmax_run_dnnl(onyxi_exec *x) {
    softmax_dnnl_state *st = x->state;
    onyxi_err *e = x->err;
    if (!st || !st->prim)
        return onyxi_fail(e, ONYX_INTERNAL, "%s run without init", x->node->op_type);
    ONYXI_DNNL(dnnl_memory_set_data_handle(st->src, x->in[0]->data), e);
    ONYXI_DNNL(dnnl_memory_set_data_handle(st->dst, x->out[0]->data), e);
    ONYXI_DNNL(dnnl_memory_set_data_handle(st->scratch, x->scratch), e);
    dnnl_exec_arg_t args[3] = {
        {DNNL_ARG_SRC, st->src}, {DNNL_ARG_DST, st->dst}, {DNNL_ARG_SCRATCHPAD, st->scratch}};
    ONYXI_DNNL(dnnl_primitive_execute(st->prim, x->backend->stream, 3, args), e);
    ONYXI_DNNL(dnnl_stream_wait(x->backend->stream), e);
    return ONYX_OK;
}

const onyxi_impl onyxi_softmax_dnnl = {"dnnl", softmax_init_dnnl, softmax_run_dnnl,
                                       softmax_fini_dnnl};
