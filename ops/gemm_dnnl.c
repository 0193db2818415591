/*
 * Gemm (opset 1-13) on oneDNN's matmul primitive, float32 only. transA/transB are strided
 * descriptors (tag `ba` over the stored buffer), so nothing is transposed at run time; a
 * constant B is reordered once into the weight cache when the primitive wants another layout.
 * alpha is an eltwise linear post-op; beta * C is the bias (alpha == 1, C a row) or a binary
 * add post-op (C scalar, a row or full), beta pre-applied once when C is constant. Declines
 * integer dtypes, empty operands, blocked inputs, a per-row C ([M,1], oneDNN's ref loop) and
 * beta != 1 with a C computed at run time.
 * A fused activation chain (postops.h) becomes eltwise post-ops after those for alpha and C,
 * the reference kernel's order; a chain oneDNN would compute differently is declined.
 */
#include <dnnl_debug.h>
#include <string.h>

#include "../runtime/dnnl_util.h"
#include "dnnl_stage.h"
#include "gemm.h"
#include "postops.h"

typedef struct gemm_dnnl_state {
    onyxi_dnnl_prim p; /* the primitive, its dst and scratchpad */
    dnnl_memory_t a, b, c;
    int c_arg;            /* exec arg of C: DNNL_ARG_BIAS or the binary post-op's src1 */
    const void *b_packed; /* borrowed from the weight cache; NULL = bind B's own data */
    float *c_scaled;      /* owned: beta * C when beta != 1 (C constant) */
} gemm_dnnl_state;

static void gemm_fini_dnnl(onyxi_exec *x) {
    gemm_dnnl_state *st = x->state;
    if (!st) return;
    onyxi_dnnl_prim_fini(&st->p);
    dnnl_memory_t mems[] = {st->a, st->b, st->c};
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    onyxi_free(st->c_scaled);
    onyxi_free(st);
    x->state = NULL;
}

/* The primitive for geometry g: post-ops for alpha and C as described above, then the
 * node's fused chain. */
static onyx_status gemm_make_pd(onyxi_exec *x, const gemm_geom *g, int use_c, float alpha,
                                dnnl_primitive_desc_t *pd, int *c_arg, dnnl_memory_desc_t *c_md) {
    onyxi_err *e = x->err;
    int64_t ad[2] = {g->m, g->k}, bd[2] = {g->k, g->n}, yd[2] = {g->m, g->n};
    int64_t cd[2] = {g->c_rs ? g->m : 1, g->c_cs ? g->n : 1};
    dnnl_memory_desc_t a_md, b_md, y_md;
    /* a transposed operand is its stored [cols, rows] buffer read column-major */
    ONYXI_CHECK(onyxi_dnnl_md_dims(&a_md, 2, ad, g->ta ? dnnl_ba : dnnl_ab, e));
    int b_const = (x->const_inputs & 2u) && x->weights;
    ONYXI_CHECK(onyxi_dnnl_md_dims(&b_md, 2, bd,
                                   b_const ? dnnl_format_tag_any
                                   : g->tb ? dnnl_ba
                                           : dnnl_ab,
                                   e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&y_md, 2, yd, dnnl_ab, e));
    int as_bias = use_c && alpha == 1.0f && cd[0] == 1 && cd[1] == g->n;
    if (use_c) ONYXI_CHECK(onyxi_dnnl_md_dims(c_md, 2, cd, dnnl_ab, e));

    dnnl_matmul_desc_t md;
    dnnl_status_t ds = dnnl_matmul_desc_init(&md, &a_md, &b_md, as_bias ? c_md : NULL, &y_md);
    if (ds != dnnl_success)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "oneDNN matmul rejects these shapes (%s)",
                          dnnl_status2str(ds));
    const onyxi_fusion *chain = onyxi_post_chain(x->node);
    dnnl_post_ops_t po = NULL;
    int n_po = 0;
    *c_arg = DNNL_ARG_BIAS;
    if (alpha != 1.0f || (use_c && !as_bias) || chain) {
        ONYXI_DNNL(dnnl_post_ops_create(&po), e);
        if (alpha != 1.0f)
            ds = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_linear, alpha, 0.0f);
        if (alpha != 1.0f) n_po++;
        if (ds == dnnl_success && use_c && !as_bias) {
            ds = dnnl_post_ops_append_binary(po, dnnl_binary_add, c_md);
            *c_arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(n_po) | DNNL_ARG_SRC_1;
            n_po++;
        }
        if (ds != dnnl_success) {
            dnnl_post_ops_destroy(po);
            return onyxi_fail(e, ONYX_UNSUPPORTED, "oneDNN rejects Gemm's post-ops (%s)",
                              dnnl_status2str(ds));
        }
        onyx_status rc = ONYX_OK;
        for (int i = 0; chain && rc == ONYX_OK && i < chain->n_post; i++)
            rc = onyxi_post_dnnl_eltwise(po, &chain->post[i], &n_po, e);
        if (rc != ONYX_OK) {
            dnnl_post_ops_destroy(po);
            return rc;
        }
    }
    onyx_status rc = onyxi_dnnl_make_pd(x, &md, po, pd);
    if (po) dnnl_post_ops_destroy(po);
    return rc;
}

static onyx_status gemm_init_dnnl(onyxi_exec *x) {
    const onyx_tensor *A = x->in[0], *B = x->in[1], *C = x->n_in > 2 ? x->in[2] : NULL;
    onyxi_err *e = x->err;
    if (!x->backend || A->dtype != ONYX_DTYPE_FLOAT32 || B->layout || A->layout || (C && C->layout))
        return ONYX_UNSUPPORTED;
    gemm_geom g;
    ONYXI_CHECK(onyxi_gemm_geometry(x->node, A, B, C, &g, e));
    int64_t ydims[2] = {g.m, g.n};
    ONYXI_CHECK(onyxi_post_check(x->node, x->n_in, x->in, -1, x->out[0]->dtype, 2, ydims, e));
    if (g.m <= 0 || g.n <= 0 || g.k <= 0) return ONYX_UNSUPPORTED; /* K == 0 gives beta * C */
    float alpha = onyxi_attr_float(x->node, "alpha", 1.0f);
    float beta = onyxi_attr_float(x->node, "beta", 1.0f);
    /* beta == 0 drops C, NaNs included, as the reference kernel does */
    int use_c = C && beta != 0.0f;
    int c_const = C && (x->const_inputs & 4u);
    if (use_c && beta != 1.0f && !c_const) return ONYX_UNSUPPORTED;
    /* a per-row C ([M,1]) makes oneDNN run its reference loop */
    if (use_c && g.c_rs && !g.c_cs) return ONYX_UNSUPPORTED;

    dnnl_primitive_desc_t pd = NULL;
    dnnl_memory_desc_t c_md;
    int c_arg = DNNL_ARG_BIAS;
    ONYXI_CHECK(gemm_make_pd(x, &g, use_c, alpha, &pd, &c_arg, &c_md));
    gemm_dnnl_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) {
        dnnl_primitive_desc_destroy(pd);
        return onyxi_fail(e, ONYX_NOMEM, "out of memory for the Gemm state");
    }
    x->state = st;
    st->c_arg = c_arg;
    onyx_status rc = ONYX_OK;
    if (use_c && beta != 1.0f) {
        /* beta * C rounded as the reference rounds it, once */
        int64_t count = (g.c_rs ? g.m : 1) * (g.c_cs ? g.n : 1);
        st->c_scaled = onyxi_malloc((size_t)count * sizeof(float));
        if (!st->c_scaled)
            rc = onyxi_fail(e, ONYX_NOMEM, "out of memory for beta * C");
        else
            for (int64_t i = 0; i < count; i++)
                st->c_scaled[i] = beta * ((const float *)C->data)[i];
    }
    const dnnl_memory_desc_t *a_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *wei = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    if (rc == ONYX_OK && (x->const_inputs & 2u) && x->weights) {
        dnnl_memory_desc_t b_user;
        int64_t bd[2] = {g.k, g.n};
        rc = onyxi_dnnl_md_dims(&b_user, 2, bd, g.tb ? dnnl_ba : dnnl_ab, e);
        if (rc == ONYX_OK && !dnnl_memory_desc_equal(wei, &b_user))
            rc = onyxi_dnnl_pack_constant(x, 1, &b_user, wei, &st->b_packed);
    }
    if (rc == ONYX_OK) rc = onyxi_dnnl_memory(x, a_md, &st->a);
    if (rc == ONYX_OK) rc = onyxi_dnnl_memory(x, wei, &st->b);
    if (rc == ONYX_OK && use_c) rc = onyxi_dnnl_memory(x, &c_md, &st->c);
    if (rc == ONYX_OK) rc = onyxi_dnnl_prim_init(x, pd, ONYXI_PRIM_PLAIN_OUT, &st->p);
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

static onyx_status gemm_run_dnnl(onyxi_exec *x) {
    gemm_dnnl_state *st = x->state;
    onyxi_err *e = x->err;
    if (!st) return onyxi_fail(e, ONYX_INTERNAL, "Gemm run without init");
    const void *b = st->b_packed ? st->b_packed : x->in[1]->data;
    ONYXI_DNNL(dnnl_memory_set_data_handle(st->a, x->in[0]->data), e);
    ONYXI_DNNL(dnnl_memory_set_data_handle(st->b, (void *)b), e);
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, st->a}, {DNNL_ARG_WEIGHTS, st->b}};
    int n_args = 2;
    if (st->c) {
        void *c = st->c_scaled ? (void *)st->c_scaled : x->in[2]->data;
        ONYXI_DNNL(dnnl_memory_set_data_handle(st->c, c), e);
        args[n_args++] = (dnnl_exec_arg_t){st->c_arg, st->c};
    }
    return onyxi_dnnl_prim_run(x, &st->p, n_args, args);
}

const onyxi_impl onyxi_gemm_dnnl = {"dnnl", gemm_init_dnnl, gemm_run_dnnl, gemm_fini_dnnl};
