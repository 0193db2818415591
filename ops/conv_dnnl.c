/*
 * Conv on oneDNN (1-D to 3-D, groups, dilations, asymmetric pads). The primitive picks its
 * layouts (format_tag_any): constant weights are reordered once into the model's shared
 * weight cache, the output stays in the blocked layout when every consumer is a oneDNN step,
 * and an input in a different layout is reordered inside the step. Declines (letting the
 * reference kernel run) for non-float32 data, weights that are not constant, more than 3
 * spatial dims, and cases where oneDNN itself would fall back to its slow reference loop.
 * A fused Conv's post-op chain (node->fusion, see conv.c) becomes oneDNN post-ops: eltwise
 * relu / relu(alpha) / clip_v2 / logistic / linear+clip (HardSigmoid) / swish (SiLU), and
 * binary add for a residual, whose layout the primitive picks (reordered in when the
 * producer's differs).
 * Variants (onyxi_exec.variant, measured against each other by the session): 0 = oneDNN's
 * first choice of direct kernel; then its Winograd kernels for 3x3 stride-1 convolutions
 * (oneDNN 2.6 has them for avx512_core only; they cut the multiplies 2.25-4x); then, after a
 * gemm-based first choice, the next distinct direct kernels of its primitive-descriptor
 * iterator.
 */
#include <string.h>

#include "../runtime/dnnl_util.h"
#include "conv.h"

/* The addend of a fused Add: what the primitive reads, and how the input gets there. */
typedef struct conv_residual {
    int input;      /* node input index */
    int sum;        /* a sum post-op: the addend is put into dst before the convolution */
    size_t bytes;   /* sum without reorder: bytes copied into dst */
    int arg;        /* binary: DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1 */
    dnnl_memory_t mem, user;
    dnnl_primitive_t reorder; /* NULL when the input already has the layout */
    void *buf;                /* owned: the reordered addend */
} conv_residual;

typedef struct conv_dnnl_state {
    int n_res;
    conv_residual res[ONYXI_MAX_POST_OPS];
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
    for (int i = 0; i < st->n_res; i++) {
        conv_residual *r = &st->res[i];
        if (r->reorder) dnnl_primitive_destroy(r->reorder);
        if (r->mem) dnnl_memory_destroy(r->mem);
        if (r->user) dnnl_memory_destroy(r->user);
        onyxi_free(r->buf);
    }
    onyxi_free(st);
    x->state = NULL;
}

/* The node's fused chain as oneDNN post-ops (*po stays NULL without one); ONYX_UNSUPPORTED for
 * a chain oneDNN would not compute like the reference kernel. */
static onyx_status post_ops(onyxi_exec *x, conv_dnnl_state *st, int rank, const int64_t *ddims,
                            int use_sum, dnnl_post_ops_t *po) {
    const onyxi_fusion *f = x->node->fusion;
    onyxi_err *e = x->err;
    *po = NULL;
    if (!f || f->n_post == 0) return ONYX_OK;
    ONYXI_CHECK(onyxi_conv_post_check(x->node, x->n_in, x->in, rank, ddims, e));
    for (int i = 0; i < f->n_post; i++)
        if (f->post[i].kind == ONYXI_POST_CLIP && !(f->post[i].alpha <= f->post[i].beta))
            return ONYX_UNSUPPORTED; /* Clip's "hi everywhere" reading of lo > hi */
    ONYXI_DNNL(dnnl_post_ops_create(po), e);
    int len = 0; /* entries so far: a post-op's index in the chain */
    for (int i = 0; i < f->n_post; i++) {
        const onyxi_post_op *p = &f->post[i];
        dnnl_status_t ds = dnnl_success;
        switch (p->kind) {
        case ONYXI_POST_RELU:
            ds = dnnl_post_ops_append_eltwise(*po, 1.f, dnnl_eltwise_relu, 0, 0);
            break;
        case ONYXI_POST_LEAKY_RELU:
            ds = dnnl_post_ops_append_eltwise(*po, 1.f, dnnl_eltwise_relu, p->alpha, 0);
            break;
        case ONYXI_POST_CLIP:
            ds = dnnl_post_ops_append_eltwise(*po, 1.f, dnnl_eltwise_clip_v2, p->alpha, p->beta);
            break;
        case ONYXI_POST_SIGMOID:
            ds = dnnl_post_ops_append_eltwise(*po, 1.f, dnnl_eltwise_logistic, 0, 0);
            break;
        case ONYXI_POST_HARD_SIGMOID: /* 2.6 has no hardsigmoid: linear, then clip to [0, 1] */
            ds = dnnl_post_ops_append_eltwise(*po, 1.f, dnnl_eltwise_linear, p->alpha, p->beta);
            if (ds == dnnl_success) {
                len++;
                ds = dnnl_post_ops_append_eltwise(*po, 1.f, dnnl_eltwise_clip, 0.f, 1.f);
            }
            break;
        case ONYXI_POST_SILU:
            ds = dnnl_post_ops_append_eltwise(*po, 1.f, dnnl_eltwise_swish, 1.f, 0);
            break;
        case ONYXI_POST_GELU: /* the pass only fuses the exact constants gelu_erf assumes */
            ds = dnnl_post_ops_append_eltwise(*po, 1.f, dnnl_eltwise_gelu_erf, 0, 0);
            break;
        case ONYXI_POST_BIAS: /* the pass gives a Conv none (it has its own B) */
            return ONYX_UNSUPPORTED;
        case ONYXI_POST_ADD: {
            conv_residual *r = &st->res[st->n_res++];
            r->input = p->input;
            if (use_sum && i == 0) {
                /* sum must come first to stay jit; dst holds the addend when it runs */
                r->sum = 1;
                ds = dnnl_post_ops_append_sum(*po, 1.f);
                break;
            }
            /* the primitive picks the addend's layout (the dst's): a full-size addend in
             * another layout would push it onto a slow gemm path; checked after creation */
            dnnl_memory_desc_t md;
            ONYXI_CHECK(onyxi_dnnl_md_dims(&md, rank, ddims, dnnl_format_tag_any, e));
            ds = dnnl_post_ops_append_binary(*po, dnnl_binary_add, &md);
            r->arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(len) | DNNL_ARG_SRC_1;
            break;
        }
        }
        ONYXI_DNNL(ds, e);
        len++;
    }
    return ONYX_OK;
}

/* Memory for residual r in the layout the primitive chose, with a reorder from the input's
 * layout when they differ. */
static onyx_status residual_init(onyxi_exec *x, const_dnnl_primitive_desc_t pd, conv_residual *r) {
    onyxi_err *e = x->err;
    dnnl_engine_t eng = x->backend->engine;
    const dnnl_memory_desc_t *want =
        r->sum ? dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0)
               : dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, r->arg);
    dnnl_memory_desc_t have;
    ONYXI_CHECK(onyxi_dnnl_md_of(&have, x->in[r->input], e));
    if (!want || want->ndims == 0)
        return onyxi_fail(e, ONYX_BACKEND, "oneDNN gave no layout for the fused Add's input");
    if (r->sum && dnnl_memory_desc_equal(want, &have)) {
        r->bytes = dnnl_memory_desc_get_size(want); /* copied into dst as it is */
        return ONYX_OK;
    }
    if (r->sum) {
        /* reordered straight into dst (st->dst at run time) */
        dnnl_primitive_desc_t rpd = NULL;
        ONYXI_DNNL(dnnl_reorder_primitive_desc_create(&rpd, &have, eng, want, eng, NULL), e);
        dnnl_status_t ds = dnnl_primitive_create(&r->reorder, rpd);
        dnnl_primitive_desc_destroy(rpd);
        ONYXI_DNNL(ds, e);
        ONYXI_DNNL(dnnl_memory_create(&r->user, &have, eng, DNNL_MEMORY_NONE), e);
        return ONYX_OK;
    }
    ONYXI_DNNL(dnnl_memory_create(&r->mem, want, eng, DNNL_MEMORY_NONE), e);
    if (dnnl_memory_desc_equal(want, &have)) return ONYX_OK;
    dnnl_primitive_desc_t rpd = NULL;
    ONYXI_DNNL(dnnl_reorder_primitive_desc_create(&rpd, &have, eng, want, eng, NULL), e);
    dnnl_status_t ds = dnnl_primitive_create(&r->reorder, rpd);
    dnnl_primitive_desc_destroy(rpd);
    ONYXI_DNNL(ds, e);
    ONYXI_DNNL(dnnl_memory_create(&r->user, &have, eng, DNNL_MEMORY_NONE), e);
    size_t n = dnnl_memory_desc_get_size(want);
    if (!(r->buf = onyxi_malloc(n ? n : 1)))
        return onyxi_fail(e, ONYX_NOMEM, "out of memory for a reordered residual");
    ONYXI_DNNL(dnnl_memory_set_data_handle(r->mem, r->buf), e);
    return ONYX_OK;
}

#define CONV_WINO_VARIANTS 2   /* jit_fp32_wino_2x3 and jit_wino_4x3 */
/* The next direct kernels are offered only when oneDNN's first choice is its gemm-based one
 * (grouped convolutions with odd channel counts, plain-layout outputs): after a jit first
 * choice they were within 5% of it on every ResNet-18 convolution here, so timing them would
 * only lengthen session creation. */
#define CONV_DIRECT_VARIANTS 3
#define CONV_VARIANTS (CONV_DIRECT_VARIANTS + CONV_WINO_VARIANTS)
/* oneDNN 2.6 packs Winograd weights with a slow scalar loop (F(4x4,3x3) measured 5.6 ms for
 * 64x64x3x3, 39 ms for 128x128, 288 ms for 512x512; F(2x2,3x3) about half), which would make
 * session creation many times longer than the kernels save in a run: its Winograd variants are
 * offered only up to this many weights per group. */
#define CONV_WINO_MAX_WEIGHTS (64 * 64 * 9)

/* Algorithm and iterator position of variant v (see the header comment). */
static void conv_variant(int v, dnnl_alg_kind_t *alg, int *nth) {
    *alg = dnnl_convolution_direct;
    *nth = v;
    if (v >= 1 && v <= CONV_WINO_VARIANTS) {
        *alg = dnnl_convolution_winograd;
        *nth = v - 1;
    } else if (v > CONV_WINO_VARIANTS) {
        *nth = v - CONV_WINO_VARIANTS;
    }
}

static onyx_status conv_init_dnnl(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0], *W = x->in[1];
    const onyx_tensor *B = x->n_in > 2 ? x->in[2] : NULL;
    if (!x->backend || X->dtype != ONYX_DTYPE_FLOAT32 || !(x->const_inputs & 2u) ||
        (B && !(x->const_inputs & 4u)))
        return ONYX_UNSUPPORTED;
    conv_geom g;
    ONYXI_CHECK(onyxi_conv_geometry(x->node, X, W, B, &g, x->err));
    if (g.S < 1 || g.S > 3 || x->variant < 0 || x->variant >= CONV_VARIANTS)
        return ONYX_UNSUPPORTED;
    x->more_variants = x->variant + 1 < CONV_VARIANTS;
    dnnl_alg_kind_t alg;
    int nth;
    conv_variant(x->variant, &alg, &nth);
    /* what oneDNN's Winograd kernels take; asking it costs an iterator walk */
    int wino_ok = g.S == 2 && g.G == 1 && g.C * g.M * 9 <= CONV_WINO_MAX_WEIGHTS;
    for (int i = 0; wino_ok && i < g.S; i++)
        wino_ok = g.k[i] == 3 && g.stride[i] == 1 && g.dil[i] == 1;
    if (alg == dnnl_convolution_winograd && !wino_ok) return ONYX_UNSUPPORTED;
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
                   &cd, dnnl_forward_inference, alg, &src_any, &wei_any,
                   B ? &bias_md : NULL, &dst_md, strides, dil, pl, pr),
               e);
    /* an Add first in the chain is a sum post-op (the residual copied or reordered into dst,
     * which keeps the layout the convolution prefers); else, or when that has no fast
     * implementation, a binary add whose addend layout the primitive chooses */
    dnnl_primitive_desc_t pd = NULL;
    onyx_status rc = ONYX_UNSUPPORTED;
    for (int use_sum = 1; use_sum >= 0 && rc == ONYX_UNSUPPORTED; use_sum--) {
        dnnl_post_ops_t po = NULL;
        memset(st->res, 0, sizeof st->res);
        st->n_res = 0;
        onyxi_err_clear(e);
        rc = post_ops(x, st, X->rank, ddims, use_sum, &po);
        if (rc == ONYX_OK && alg == dnnl_convolution_direct && nth > 0) {
            dnnl_primitive_desc_t first = NULL;
            rc = onyxi_dnnl_make_pd(x, &cd, po, &first);
            if (rc == ONYX_OK && !strstr(onyxi_dnnl_impl_str(first), "gemm")) rc = ONYX_UNSUPPORTED;
            if (first) dnnl_primitive_desc_destroy(first);
        }
        if (rc == ONYX_OK) rc = onyxi_dnnl_make_pd_nth(x, &cd, po, nth, &pd);
        if (po) dnnl_post_ops_destroy(po);
    }
    if (rc != ONYX_OK) return rc;
    /* further variants only where they may pay: Winograd, or kernels after a gemm first choice */
    if (x->variant == 0) x->more_variants = wino_ok || strstr(x->detail, "gemm") != NULL;
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
    for (int i = 0; rc == ONYX_OK && i < st->n_res; i++) rc = residual_init(x, pd, &st->res[i]);
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
    dnnl_exec_arg_t args[5 + ONYXI_MAX_POST_OPS] = {{DNNL_ARG_SRC, st->src},
                                                    {DNNL_ARG_WEIGHTS, st->wei},
                                                    {DNNL_ARG_DST, st->dst},
                                                    {DNNL_ARG_SCRATCHPAD, st->scratch}};
    int n = 4;
    if (st->bias) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, st->bias};
    for (int i = 0; i < st->n_res; i++) {
        conv_residual *r = &st->res[i];
        void *data = x->in[r->input]->data;
        if (r->sum) {
            if (!r->reorder) {
                memcpy(x->out[0]->data, data, r->bytes);
                continue;
            }
            ONYXI_DNNL(dnnl_memory_set_data_handle(r->user, data), x->err);
            dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, r->user}, {DNNL_ARG_TO, st->dst}};
            ONYXI_DNNL(dnnl_primitive_execute(r->reorder, stream, 2, ra), x->err);
            continue;
        }
        if (r->reorder) {
            ONYXI_DNNL(dnnl_memory_set_data_handle(r->user, data), x->err);
            dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, r->user}, {DNNL_ARG_TO, r->mem}};
            ONYXI_DNNL(dnnl_primitive_execute(r->reorder, stream, 2, ra), x->err);
        } else {
            ONYXI_DNNL(dnnl_memory_set_data_handle(r->mem, data), x->err);
        }
        args[n++] = (dnnl_exec_arg_t){r->arg, r->mem};
    }
    ONYXI_DNNL(dnnl_primitive_execute(st->prim, stream, n, args), x->err);
    ONYXI_DNNL(dnnl_stream_wait(stream), x->err);
    return ONYX_OK;
}

const onyxi_impl onyxi_conv_dnnl = {"dnnl", conv_init_dnnl, conv_run_dnnl, conv_fini_dnnl};
