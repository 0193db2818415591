/*
 * Conv on oneDNN (1-D to 3-D, groups, dilations, asymmetric pads). The primitive picks its
 * layouts (format_tag_any): constant weights are reordered once into the model's shared
 * weight cache, the output stays in the blocked layout when every consumer is a oneDNN step,
 * and an input in a different layout is reordered inside the step. Declines (letting the
 * reference kernel run) for non-float32 data, weights that are not constant, more than 3
 * spatial dims, and cases where oneDNN itself would fall back to its slow reference loop.
 */
#include <string.h>

#include "../runtime/dnnl_util.h"
#include "conv.h"

typedef struct conv_dnnl_state {
    dnnl_primitive_t prim;
    dnnl_memory_t src, wei, bias, dst, scratch;
    dnnl_memory_desc_t dst_md; /* the output's layout when blocked (x->out[0]->layout) */
    /* a producer layout the convolution does not take is reordered into src_buf first */
    dnnl_primitive_t src_reorder;
    dnnl_memory_t src_user;
    void *src_buf; /* owned */
} conv_dnnl_state;

static void conv_fini_dnnl(onyxi_exec *x) {
    conv_dnnl_state *st = x->state;
    if (!st) return;
    if (st->prim) dnnl_primitive_destroy(st->prim);
    if (st->src_reorder) dnnl_primitive_destroy(st->src_reorder);
    dnnl_memory_t mems[] = {st->src, st->wei, st->bias, st->dst, st->scratch, st->src_user};
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    onyxi_free(st->src_buf);
    onyxi_free(st);
    x->state = NULL;
}

static onyx_status conv_init_dnnl(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0], *W = x->in[1];
    const onyx_tensor *B = x->n_in > 2 ? x->in[2] : NULL;
    if (!x->backend || X->dtype != ONYX_DTYPE_FLOAT32 || !(x->const_inputs & 2u) ||
        (B && !(x->const_inputs & 4u)))
        return ONYX_UNSUPPORTED;
    conv_geom g;
    ONYXI_CHECK(onyxi_conv_geometry(x->node, X, W, B, &g, x->err));
    if (g.S < 1 || g.S > 3) return ONYX_UNSUPPORTED;
    conv_dnnl_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory");
    x->state = st;
    dnnl_engine_t eng = x->backend->engine;
    onyxi_err *e = x->err;

    /* descriptors: what the producer gives, what the primitive may choose */
    int64_t wdims[DNNL_MAX_NDIMS], ddims[DNNL_MAX_NDIMS];
    int wr = 0;
    if (g.G > 1) wdims[wr++] = g.G;
    wdims[wr++] = g.M / g.G;
    wdims[wr++] = g.C / g.G;
    ddims[0] = g.N;
    ddims[1] = g.M;
    for (int i = 0; i < g.S; i++) {
        wdims[wr++] = g.k[i];
        ddims[2 + i] = g.out[i];
    }
    dnnl_memory_desc_t src_user_md, src_any, wei_user, wei_any, bias_md, dst_md;
    ONYXI_CHECK(onyxi_dnnl_md_of(&src_user_md, X, e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&src_any, X->rank, X->dims, dnnl_format_tag_any, e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&wei_user, wr, wdims, dnnl_format_tag_undef, e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&wei_any, wr, wdims, dnnl_format_tag_any, e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&bias_md, 1, &g.M, dnnl_format_tag_undef, e));
    int blocked_out = (x->blocked_ok & 1u) != 0;
    ONYXI_CHECK(onyxi_dnnl_md_dims(&dst_md, X->rank, ddims,
                                   blocked_out ? dnnl_format_tag_any : dnnl_format_tag_undef, e));
    dnnl_dims_t strides = {0}, dil = {0}, pl = {0}, pr = {0};
    for (int i = 0; i < g.S; i++) {
        int64_t ek = (g.k[i] - 1) * g.dil[i] + 1;
        strides[i] = g.stride[i];
        dil[i] = g.dil[i] - 1; /* oneDNN counts dilation from 0 */
        pl[i] = g.pad[i];
        pr[i] = (g.out[i] - 1) * g.stride[i] + ek - g.in[i] - g.pad[i];
    }

    dnnl_convolution_desc_t cd;
    ONYXI_DNNL(dnnl_dilated_convolution_forward_desc_init(
                   &cd, dnnl_forward_inference, dnnl_convolution_direct, &src_any, &wei_any,
                   B ? &bias_md : NULL, &dst_md, strides, dil, pl, pr),
               e);
    dnnl_primitive_desc_t pd = NULL;
    ONYXI_CHECK(onyxi_dnnl_make_pd(x, &cd, NULL, &pd));
    onyx_status rc = ONYX_OK;
    const dnnl_memory_desc_t *src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *wei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *out_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    const dnnl_memory_desc_t *scr_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);

    /* the input, reordered into the primitive's layout when the producer's differs */
    rc = onyxi_dnnl_check(dnnl_memory_create(&st->src, src_md, eng, DNNL_MEMORY_NONE),
                          "dnnl_memory_create", e);
    if (rc == ONYX_OK && !dnnl_memory_desc_equal(src_md, &src_user_md)) {
        dnnl_primitive_desc_t rpd = NULL;
        rc = onyxi_dnnl_check(dnnl_reorder_primitive_desc_create(&rpd, &src_user_md, eng, src_md,
                                                                 eng, NULL),
                              "dnnl_reorder_primitive_desc_create", e);
        if (rc == ONYX_OK)
            rc = onyxi_dnnl_check(dnnl_primitive_create(&st->src_reorder, rpd),
                                  "dnnl_primitive_create", e);
        if (rpd) dnnl_primitive_desc_destroy(rpd);
        if (rc == ONYX_OK)
            rc = onyxi_dnnl_check(dnnl_memory_create(&st->src_user, &src_user_md, eng,
                                                     DNNL_MEMORY_NONE),
                                  "dnnl_memory_create", e);
        size_t n = dnnl_memory_desc_get_size(src_md);
        if (rc == ONYX_OK && !(st->src_buf = onyxi_malloc(n ? n : 1)))
            rc = onyxi_fail(e, ONYX_NOMEM, "out of memory for a reordered input");
        if (rc == ONYX_OK)
            rc = onyxi_dnnl_check(dnnl_memory_set_data_handle(st->src, st->src_buf),
                                  "dnnl_memory_set_data_handle", e);
    }
    /* constant weights, packed once per model (every session shares them) */
    if (rc == ONYX_OK) {
        const void *packed = NULL;
        rc = onyxi_dnnl_pack_constant(x, 1, &wei_user, wei_md, &packed);
        if (rc == ONYX_OK)
            rc = onyxi_dnnl_check(dnnl_memory_create(&st->wei, wei_md, eng, (void *)packed),
                                  "dnnl_memory_create", e);
    }
    if (rc == ONYX_OK && B)
        rc = onyxi_dnnl_check(dnnl_memory_create(&st->bias, &bias_md, eng, B->data),
                              "dnnl_memory_create", e);
    if (rc == ONYX_OK)
        rc = onyxi_dnnl_check(dnnl_memory_create(&st->dst, out_md, eng, DNNL_MEMORY_NONE),
                              "dnnl_memory_create", e);
    if (rc == ONYX_OK)
        rc = onyxi_dnnl_check(dnnl_memory_create(&st->scratch, scr_md, eng, DNNL_MEMORY_NONE),
                              "dnnl_memory_create", e);
    if (rc == ONYX_OK)
        rc = onyxi_dnnl_check(dnnl_primitive_create(&st->prim, pd), "dnnl_primitive_create", e);
    if (rc == ONYX_OK) {
        x->scratch_bytes = dnnl_memory_desc_get_size(scr_md);
        rc = onyxi_dnnl_set_output(x, 0, out_md, &st->dst_md);
    }
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

static onyx_status conv_run_dnnl(onyxi_exec *x) {
    conv_dnnl_state *st = x->state;
    dnnl_stream_t stream = x->backend->stream;
    if (st->src_reorder) {
        ONYXI_DNNL(dnnl_memory_set_data_handle(st->src_user, x->in[0]->data), x->err);
        dnnl_exec_arg_t r[2] = {{DNNL_ARG_FROM, st->src_user}, {DNNL_ARG_TO, st->src}};
        ONYXI_DNNL(dnnl_primitive_execute(st->src_reorder, stream, 2, r), x->err);
    } else {
        ONYXI_DNNL(dnnl_memory_set_data_handle(st->src, x->in[0]->data), x->err);
    }
    ONYXI_DNNL(dnnl_memory_set_data_handle(st->dst, x->out[0]->data), x->err);
    ONYXI_DNNL(dnnl_memory_set_data_handle(st->scratch, x->scratch), x->err);
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, st->src},
                               {DNNL_ARG_WEIGHTS, st->wei},
                               {DNNL_ARG_DST, st->dst},
                               {DNNL_ARG_SCRATCHPAD, st->scratch},
                               {DNNL_ARG_BIAS, st->bias}};
    ONYXI_DNNL(dnnl_primitive_execute(st->prim, stream, st->bias ? 5 : 4, args), x->err);
    ONYXI_DNNL(dnnl_stream_wait(stream), x->err);
    return ONYX_OK;
}

const onyxi_impl onyxi_conv_dnnl = {"dnnl", conv_init_dnnl, conv_run_dnnl, conv_fini_dnnl};
