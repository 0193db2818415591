/*
 * MatMul (opset 1, 9, 13) on oneDNN's matmul primitive, float32 only: numpy batch
 * broadcasting maps onto oneDNN's own (every operand padded to the output's rank with leading
 * 1s), 1-D operands become [1, K] / [K, 1]. A constant B is reordered once into the model's
 * weight cache when the primitive wants a layout other than plain. Declines integer dtypes,
 * empty operands, ranks above oneDNN's limit and inputs in a blocked layout of another rank.
 * A fused chain (postops.h) becomes post-ops: a bias first in it is the primitive's own bias,
 * a later one a binary add, activations are eltwise post-ops; a chain oneDNN would compute
 * differently, or only in its reference loop, is declined.
 */
#include <dnnl_debug.h>
#include <string.h>

#include "../runtime/dnnl_util.h"
#include "dnnl_stage.h"
#include "matmul.h"
#include "postops.h"

typedef struct matmul_dnnl_state {
    onyxi_dnnl_prim p; /* the primitive, its dst and scratchpad */
    dnnl_memory_t a, b, bias;
    const void *b_packed;  /* borrowed from the weight cache; NULL = bind B's own data */
    int bias_in, bias_arg; /* the fused bias: node input and exec arg (bias NULL: none) */
} matmul_dnnl_state;

static void matmul_fini_dnnl(onyxi_exec *x) {
    matmul_dnnl_state *st = x->state;
    if (!st) return;
    onyxi_dnnl_prim_fini(&st->p);
    dnnl_memory_t mems[] = {st->a, st->b, st->bias};
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    onyxi_free(st);
    x->state = NULL;
}

/* Operand k's descriptor at rank nd: its blocked layout when it has one (only at that rank),
 * else the plain row-major view of dims. */
static onyx_status operand_md(onyxi_exec *x, int k, int nd, const int64_t *dims,
                              dnnl_memory_desc_t *md) {
    const onyx_tensor *t = x->in[k];
    if (t->layout) {
        if (t->rank != nd)
            return onyxi_fail(x->err, ONYX_UNSUPPORTED,
                              "input %d is blocked at rank %d, the product needs rank %d", k,
                              t->rank, nd);
        return onyxi_dnnl_md_of(md, t, x->err);
    }
    return onyxi_dnnl_md_dims(md, nd, dims, dnnl_format_tag_undef, x->err);
}

/* The node's fused chain as oneDNN post-ops (*po stays NULL without a chain) for a product of
 * nd dims whose rows have n elements. A bias (at most one) becomes *bias_md, the primitive's
 * bias when first (*as_bias), else a binary add; st->bias_in/bias_arg say where it binds. */
static onyx_status chain_post_ops(onyxi_exec *x, matmul_dnnl_state *st, int nd, int64_t n,
                                  dnnl_post_ops_t *po, dnnl_memory_desc_t *bias_md, int *as_bias) {
    const onyxi_fusion *f = onyxi_post_chain(x->node);
    const onyx_tensor *y = x->out[0];
    *po = NULL;
    *as_bias = 0;
    st->bias_in = -1;
    if (!f) return ONYX_OK;
    ONYXI_CHECK(onyxi_post_check(x->node, x->n_in, x->in, 2, y->dtype, y->rank, y->dims, x->err));
    ONYXI_DNNL(dnnl_post_ops_create(po), x->err);
    onyx_status rc = ONYX_OK;
    for (int i = 0, len = 0; rc == ONYX_OK && i < f->n_post; i++) {
        const onyxi_post_op *p = &f->post[i];
        if (p->kind != ONYXI_POST_BIAS) {
            rc = onyxi_post_dnnl_eltwise(*po, p, &len, x->err);
            continue;
        }
        /* a 1-D B drops the row axis: the bias would run along M */
        if (st->bias_in >= 0 || x->in[1]->rank < 2) {
            rc = ONYX_UNSUPPORTED;
            break;
        }
        int64_t dims[DNNL_MAX_NDIMS];
        for (int d = 0; d < nd; d++)
            dims[d] = d == nd - 1 ? n : 1;
        rc = onyxi_dnnl_md_dims(bias_md, nd, dims, dnnl_format_tag_undef, x->err);
        if (rc != ONYX_OK) break;
        st->bias_in = p->input;
        if (i == 0) {
            *as_bias = 1;
            st->bias_arg = DNNL_ARG_BIAS;
            continue;
        }
        rc = onyxi_dnnl_check(dnnl_post_ops_append_binary(*po, dnnl_binary_add, bias_md),
                              "dnnl_post_ops_append_binary", x->err);
        st->bias_arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(len) | DNNL_ARG_SRC_1;
        len++;
    }
    if (rc != ONYX_OK) {
        dnnl_post_ops_destroy(*po);
        *po = NULL;
    }
    return rc;
}

static onyx_status matmul_init_dnnl(onyxi_exec *x) {
    const onyx_tensor *A = x->in[0], *B = x->in[1];
    onyxi_err *e = x->err;
    if (!x->backend || A->dtype != ONYX_DTYPE_FLOAT32 || B->dtype != ONYX_DTYPE_FLOAT32)
        return ONYX_UNSUPPORTED;
    mm_shape s;
    ONYXI_CHECK(onyxi_matmul_shape(A, B, &s, e));
    int nd = s.nb + 2;
    if (nd > DNNL_MAX_NDIMS) return ONYX_UNSUPPORTED;
    if (s.m <= 0 || s.n <= 0 || s.k <= 0) return ONYX_UNSUPPORTED; /* K == 0 must write zeros */
    int64_t ad[DNNL_MAX_NDIMS], bd[DNNL_MAX_NDIMS], yd[DNNL_MAX_NDIMS];
    for (int i = 0; i < s.nb; i++) {
        if (s.y_batch[i] <= 0) return ONYX_UNSUPPORTED;
        ad[i] = s.a_batch[i];
        bd[i] = s.b_batch[i];
        yd[i] = s.y_batch[i];
    }
    ad[s.nb] = yd[s.nb] = s.m;
    ad[s.nb + 1] = bd[s.nb] = s.k;
    bd[s.nb + 1] = yd[s.nb + 1] = s.n;

    dnnl_memory_desc_t a_md, b_user, b_want, y_md;
    ONYXI_CHECK(operand_md(x, 0, nd, ad, &a_md));
    ONYXI_CHECK(operand_md(x, 1, nd, bd, &b_user));
    /* a constant B may be packed once: let the primitive choose its layout */
    int b_const = (x->const_inputs & 2u) && x->weights && !B->layout;
    b_want = b_user;
    if (b_const) ONYXI_CHECK(onyxi_dnnl_md_dims(&b_want, nd, bd, dnnl_format_tag_any, e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&y_md, nd, yd, dnnl_format_tag_undef, e));

    matmul_dnnl_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(e, ONYX_NOMEM, "out of memory for the MatMul state");
    x->state = st;
    dnnl_post_ops_t po = NULL;
    dnnl_memory_desc_t bias_md;
    int as_bias;
    ONYXI_CHECK(chain_post_ops(x, st, nd, s.n, &po, &bias_md, &as_bias));
    dnnl_matmul_desc_t md;
    dnnl_status_t ds = dnnl_matmul_desc_init(&md, &a_md, &b_want, as_bias ? &bias_md : NULL, &y_md);
    if (ds != dnnl_success) {
        if (po) dnnl_post_ops_destroy(po);
        return onyxi_fail(e, ONYX_UNSUPPORTED, "oneDNN matmul rejects these shapes (%s)",
                          dnnl_status2str(ds));
    }
    dnnl_primitive_desc_t pd = NULL;
    onyx_status prc = onyxi_dnnl_make_pd(x, &md, po, &pd);
    if (po) dnnl_post_ops_destroy(po);
    if (prc != ONYX_OK) return prc;
    const dnnl_memory_desc_t *wei = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    onyx_status rc = ONYX_OK;
    /* on AVX2 oneDNN keeps B plain, so packing is rarely more than a lookup */
    if (b_const && !dnnl_memory_desc_equal(wei, &b_user))
        rc = onyxi_dnnl_pack_constant(x, 1, &b_user, wei, &st->b_packed);
    if (rc == ONYX_OK) rc = onyxi_dnnl_memory(x, &a_md, &st->a);
    if (rc == ONYX_OK) rc = onyxi_dnnl_memory(x, wei, &st->b);
    if (rc == ONYX_OK && st->bias_in >= 0) rc = onyxi_dnnl_memory(x, &bias_md, &st->bias);
    if (rc == ONYX_OK) rc = onyxi_dnnl_prim_init(x, pd, ONYXI_PRIM_PLAIN_OUT, &st->p);
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

static onyx_status matmul_run_dnnl(onyxi_exec *x) {
    matmul_dnnl_state *st = x->state;
    onyxi_err *e = x->err;
    if (!st) return onyxi_fail(e, ONYX_INTERNAL, "MatMul run without init");
    const void *b = st->b_packed ? st->b_packed : x->in[1]->data;
    ONYXI_DNNL(dnnl_memory_set_data_handle(st->a, x->in[0]->data), e);
    ONYXI_DNNL(dnnl_memory_set_data_handle(st->b, (void *)b), e);
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, st->a}, {DNNL_ARG_WEIGHTS, st->b}};
    int n_args = 2;
    if (st->bias) {
        ONYXI_DNNL(dnnl_memory_set_data_handle(st->bias, x->in[st->bias_in]->data), e);
        args[n_args++] = (dnnl_exec_arg_t){st->bias_arg, st->bias};
    }
    return onyxi_dnnl_prim_run(x, &st->p, n_args, args);
}

const onyxi_impl onyxi_matmul_dnnl = {"dnnl", matmul_init_dnnl, matmul_run_dnnl, matmul_fini_dnnl};
