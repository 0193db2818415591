/*
 * Element-wise ops on oneDNN, float32 only.
 *  - Unary (eltwise primitive): Relu, LeakyRelu, Sigmoid (logistic), Tanh, Elu, Clip (clip_v2;
 *    opset 11+ bounds must be constant, min <= max), HardSwish, HardSigmoid (linear, then clip
 *    in place), Exp, Sqrt, Abs. Not Log nor Softplus (soft_relu): oneDNN's log is off by
 *    ~1e-6 absolute near 1 (log(1.001) and softplus(-8.7) come out 1.4e-3 and 1.7e-3
 *    relative off), beyond the node-test tolerance.
 *  - Binary (binary primitive): Add, Sub, Mul, Div (opset 7+), Max and Min with two inputs.
 * A blocked input keeps its layout in the output when the output may be blocked; otherwise it
 * is reordered into the (plain) output and the primitive runs in place there. Declines where
 * oneDNN would only run its reference loop (e.g. logistic on a channel-padded layout, the
 * broadcast patterns listed in ONEDNN.md) so the reference kernel runs instead.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "dnnl_stage.h"
#include "ops.h"

/* ---- unary -------------------------------------------------------------------------------- */

/* One eltwise algorithm, optionally followed by a second one (run in place on the output). */
typedef struct elt_alg {
    dnnl_alg_kind_t alg, post; /* post: dnnl_alg_kind_undef when none */
    float alpha, beta, post_alpha, post_beta;
} elt_alg;

/* Clip's bound from input k (opset 11+): absent = no bound; it must be constant. */
static onyx_status clip_bound(const onyxi_exec *x, int k, float dflt, float *v) {
    *v = dflt;
    if (x->n_in <= k || !x->in[k]) return ONYX_OK;
    if (!(x->const_inputs >> k & 1u) || !x->in[k]->data || x->in[k]->layout)
        return ONYX_UNSUPPORTED;
    *v = *(const float *)x->in[k]->data;
    return ONYX_OK;
}

/* The algorithm of x's op, ONYX_UNSUPPORTED for ops oneDNN 2.6 does not cover. */
static onyx_status elt_alg_of(const onyxi_exec *x, elt_alg *a) {
    const onyxi_node *n = x->node;
    const char *op = n->op_type;
    *a = (elt_alg){dnnl_alg_kind_undef, dnnl_alg_kind_undef, 0.0f, 0.0f, 0.0f, 0.0f};
    static const struct {
        const char *op;
        dnnl_alg_kind_t alg;
    } simple[] = {{"Relu", dnnl_eltwise_relu}, {"Sigmoid", dnnl_eltwise_logistic},
                  {"Tanh", dnnl_eltwise_tanh}, {"HardSwish", dnnl_eltwise_hardswish},
                  {"Exp", dnnl_eltwise_exp},   {"Sqrt", dnnl_eltwise_sqrt},
                  {"Abs", dnnl_eltwise_abs}};
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcmp(op, simple[i].op) == 0) {
            a->alg = simple[i].alg;
            return ONYX_OK;
        }
    if (strcmp(op, "LeakyRelu") == 0) {
        a->alg = dnnl_eltwise_relu; /* relu's alpha is the negative slope */
        a->alpha = onyxi_attr_float(n, "alpha", 0.01f);
    } else if (strcmp(op, "Elu") == 0) {
        a->alg = dnnl_eltwise_elu;
        a->alpha = onyxi_attr_float(n, "alpha", 1.0f);
    } else if (strcmp(op, "HardSigmoid") == 0) {
        /* max(0, min(1, alpha x + beta)): 2.6 has no hardsigmoid, and an eltwise primitive
         * with a clip post-op runs oneDNN's reference loop, so linear then clip in place */
        a->alg = dnnl_eltwise_linear;
        a->alpha = onyxi_attr_float(n, "alpha", 0.2f);
        a->beta = onyxi_attr_float(n, "beta", 0.5f);
        a->post = dnnl_eltwise_clip_v2;
        a->post_alpha = 0.0f;
        a->post_beta = 1.0f;
    } else if (strcmp(op, "Clip") == 0) {
        /* clip_v2 is min(max(x, lo), hi), which is np.clip's result for lo > hi as well */
        a->alg = dnnl_eltwise_clip_v2;
        if (n->opset < 11) {
            a->alpha = onyxi_attr_float(n, "min", -FLT_MAX);
            a->beta = onyxi_attr_float(n, "max", FLT_MAX);
        } else {
            ONYXI_CHECK(clip_bound(x, 1, -INFINITY, &a->alpha));
            ONYXI_CHECK(clip_bound(x, 2, INFINITY, &a->beta));
        }
        if (!(a->alpha <= a->beta)) return ONYX_UNSUPPORTED; /* oneDNN refuses lo > hi */
    } else {
        return ONYX_UNSUPPORTED;
    }
    return ONYX_OK;
}

typedef struct elt_state {
    onyxi_dnnl_step s;
    dnnl_primitive_t post; /* the second algorithm, in place on the output; NULL when none */
} elt_state;

static void elt_clear(elt_state *st) {
    onyxi_dnnl_step_clear(&st->s);
    if (st->post) dnnl_primitive_destroy(st->post);
    st->post = NULL;
}

static void elt_fini(onyxi_exec *x) {
    if (!x->state) return;
    elt_clear(x->state);
    onyxi_free(x->state);
    x->state = NULL;
}

/* Builds the step with the primitive working on data md `want` (input stored as `have`). */
static onyx_status elt_try(onyxi_exec *x, elt_state *st, const elt_alg *a,
                           const dnnl_memory_desc_t *have, const dnnl_memory_desc_t *want) {
    int in_place = !dnnl_memory_desc_equal(have, want);
    ONYXI_CHECK(onyxi_dnnl_stage_init(
        x, 0, have, want, in_place ? ONYXI_STAGE_OUTPUT : ONYXI_STAGE_BUFFER, &st->s.src));
    dnnl_eltwise_desc_t d;
    ONYXI_DNNL(
        dnnl_eltwise_forward_desc_init(&d, dnnl_forward_inference, a->alg, want, a->alpha, a->beta),
        x->err);
    ONYXI_CHECK(onyxi_dnnl_step_make(x, &d, 0u, &st->s));
    if (a->post == dnnl_alg_kind_undef) return ONYX_OK;
    /* the second algorithm reads and writes the output, in the same layout */
    const char *detail = x->detail;
    ONYXI_DNNL(dnnl_eltwise_forward_desc_init(&d, dnnl_forward_inference, a->post, want,
                                              a->post_alpha, a->post_beta),
               x->err);
    dnnl_primitive_desc_t pd = NULL;
    ONYXI_CHECK(onyxi_dnnl_make_pd(x, &d, NULL, &pd));
    onyx_status rc;
    const dnnl_memory_desc_t *scr = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    x->detail = detail;
    /* (element-wise primitives need no scratchpad; one that did would need its own binding) */
    if (!scr || dnnl_memory_desc_get_size(scr) != 0)
        rc = ONYX_UNSUPPORTED;
    else
        rc =
            onyxi_dnnl_check(dnnl_primitive_create(&st->post, pd), "dnnl_primitive_create", x->err);
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

static onyx_status elt_init(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    if (!x->backend || X->dtype != ONYX_DTYPE_FLOAT32 || onyxi_shape_count(X->rank, X->dims) <= 0)
        return ONYX_UNSUPPORTED;
    elt_alg a;
    ONYXI_CHECK(elt_alg_of(x, &a));
    elt_state *st;
    ONYXI_CHECK(onyxi_dnnl_state_new(x, sizeof *st, (void **)&st));
    dnnl_memory_desc_t have, plain;
    ONYXI_CHECK(onyxi_dnnl_md_of(&have, X, x->err));
    ONYXI_CHECK(onyxi_dnnl_md_plain(&plain, X, x->err));
    /* a blocked input stays blocked when the output may be; else the plain output is the
     * reorder's target and the primitive runs in place on it */
    onyx_status rc = ONYX_UNSUPPORTED;
    if (X->layout && (x->blocked_ok & 1u)) rc = elt_try(x, st, &a, &have, &have);
    if (rc == ONYX_UNSUPPORTED) {
        elt_clear(st);
        rc = elt_try(x, st, &a, &have, &plain);
    }
    return rc;
}

static onyx_status elt_run(onyxi_exec *x) {
    elt_state *st = x->state;
    ONYXI_CHECK(onyxi_dnnl_stage_run(x, 0, &st->s.src));
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, st->s.src.mem}};
    ONYXI_CHECK(onyxi_dnnl_prim_exec(x, &st->s.p, 1, args));
    if (st->post) {
        dnnl_memory_t dst = args[1].memory; /* the DST prim_exec bound */
        dnnl_exec_arg_t post[2] = {{DNNL_ARG_SRC, dst}, {DNNL_ARG_DST, dst}};
        ONYXI_DNNL(dnnl_primitive_execute(st->post, x->backend->stream, 2, post), x->err);
    }
    ONYXI_DNNL(dnnl_stream_wait(x->backend->stream), x->err);
    return ONYX_OK;
}

const onyxi_impl onyxi_eltwise_dnnl = {"dnnl", elt_init, elt_run, elt_fini};

/* ---- binary ------------------------------------------------------------------------------- */

typedef struct bin_state {
    onyxi_dnnl_stage src0, src1; /* src0 may be reordered into the output (then in place) */
    int swap;                    /* src0 is input 1 (a commutative op with input 0 broadcast) */
    onyxi_dnnl_prim p;
} bin_state;

static void bin_clear(bin_state *st) {
    onyxi_dnnl_stage_fini(&st->src0);
    onyxi_dnnl_stage_fini(&st->src1);
    onyxi_dnnl_prim_fini(&st->p);
}

static void bin_fini(onyxi_exec *x) {
    if (!x->state) return;
    bin_clear(x->state);
    onyxi_free(x->state);
    x->state = NULL;
}

/* The algorithm of x's op; *commutes when the operands may be swapped. */
static onyx_status bin_alg_of(const onyxi_node *n, dnnl_alg_kind_t *alg, int *commutes) {
    static const struct {
        const char *op;
        dnnl_alg_kind_t alg;
        int commutes;
    } ops[] = {{"Add", dnnl_binary_add, 1}, {"Sub", dnnl_binary_sub, 0},
               {"Mul", dnnl_binary_mul, 1}, {"Div", dnnl_binary_div, 0},
               {"Max", dnnl_binary_max, 1}, {"Min", dnnl_binary_min, 1}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(n->op_type, ops[i].op) == 0) {
            *alg = ops[i].alg;
            *commutes = ops[i].commutes;
            return ONYX_OK;
        }
    return ONYX_UNSUPPORTED;
}

/* t's descriptor with its dims right-aligned to rank r (numpy's leading 1s). A blocked tensor
 * must already have rank r. */
static onyx_status bin_md_have(const onyx_tensor *t, int r, const int64_t *dims,
                               dnnl_memory_desc_t *md, onyxi_err *e) {
    if (t->layout) {
        *md = *(const dnnl_memory_desc_t *)t->layout;
        return md->ndims == r ? ONYX_OK : ONYX_UNSUPPORTED;
    }
    return onyxi_dnnl_md_dims(md, r, dims, dnnl_format_tag_undef, e);
}

/* Builds the step. tag: the blocked layout both sources and dst take, or undef for plain. */
static onyx_status bin_try(onyxi_exec *x, bin_state *st, dnnl_alg_kind_t alg, int r,
                           const int64_t *d0, const int64_t *d1, dnnl_format_tag_t tag) {
    const int i0 = st->swap, i1 = 1 - st->swap;
    onyxi_err *e = x->err;
    dnnl_memory_desc_t have0, have1, want0, want1;
    ONYXI_CHECK(bin_md_have(x->in[i0], r, d0, &have0, e));
    ONYXI_CHECK(bin_md_have(x->in[i1], r, d1, &have1, e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&want0, r, d0, tag, e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&want1, r, d1, tag, e));
    int in_place = !dnnl_memory_desc_equal(&have0, &want0);
    ONYXI_CHECK(onyxi_dnnl_stage_init(
        x, i0, &have0, &want0, in_place ? ONYXI_STAGE_OUTPUT : ONYXI_STAGE_BUFFER, &st->src0));
    ONYXI_CHECK(onyxi_dnnl_stage_init(x, i1, &have1, &want1, ONYXI_STAGE_BUFFER, &st->src1));
    dnnl_binary_desc_t bd;
    ONYXI_DNNL(dnnl_binary_desc_init(&bd, alg, &want0, &want1, &want0), e);
    dnnl_primitive_desc_t pd = NULL;
    ONYXI_CHECK(onyxi_dnnl_make_pd(x, &bd, NULL, &pd));
    onyx_status rc = onyxi_dnnl_prim_init(x, pd, in_place ? ONYXI_PRIM_IN_PLACE : 0u, &st->p);
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

static onyx_status bin_init(onyxi_exec *x) {
    if (!x->backend || x->n_in != 2 || x->n_out != 1) return ONYX_UNSUPPORTED;
    const onyx_tensor *A = x->in[0], *B = x->in[1], *Y = x->out[0];
    if (!A || !B || A->dtype != ONYX_DTYPE_FLOAT32 || B->dtype != ONYX_DTYPE_FLOAT32 ||
        Y->dtype != ONYX_DTYPE_FLOAT32)
        return ONYX_UNSUPPORTED;
    /* before opset 7, broadcast=1 aligns B at `axis`, not numpy-style */
    if (x->node->opset < 7 && onyxi_attr_int(x->node, "broadcast", 0)) return ONYX_UNSUPPORTED;
    dnnl_alg_kind_t alg;
    int commutes;
    ONYXI_CHECK(bin_alg_of(x->node, &alg, &commutes));
    int r = Y->rank > 0 ? Y->rank : 1;
    if (r > DNNL_MAX_NDIMS || A->rank > r || B->rank > r ||
        onyxi_shape_count(Y->rank, Y->dims) <= 0)
        return ONYX_UNSUPPORTED;
    /* operands right-aligned to the output's rank */
    int64_t yd[ONYXI_MAX_RANK], ad[ONYXI_MAX_RANK], bd[ONYXI_MAX_RANK];
    int a_full = 1, b_full = 1;
    for (int i = 0; i < r; i++) {
        yd[i] = Y->rank > 0 ? Y->dims[i] : 1;
        ad[i] = i >= r - A->rank ? A->dims[i - (r - A->rank)] : 1;
        bd[i] = i >= r - B->rank ? B->dims[i - (r - B->rank)] : 1;
        a_full &= ad[i] == yd[i];
        b_full &= bd[i] == yd[i];
    }
    /* oneDNN broadcasts src1 only (a broadcast src0 runs its reference loop) */
    int swap = !a_full;
    if (swap && !(b_full && commutes)) return ONYX_UNSUPPORTED;
    bin_state *st;
    ONYXI_CHECK(onyxi_dnnl_state_new(x, sizeof *st, (void **)&st));
    st->swap = swap;
    const int64_t *d0 = swap ? bd : ad, *d1 = swap ? ad : bd;
    /* a blocked src0 keeps its layout when the output may be blocked (src1 then takes the
     * same layout, reordered if need be); otherwise everything runs plain */
    const onyx_tensor *S0 = x->in[swap];
    onyx_status rc = ONYX_UNSUPPORTED;
    if (S0->layout && (x->blocked_ok & 1u) &&
        ((const dnnl_memory_desc_t *)S0->layout)->ndims == r) {
        dnnl_format_tag_t tag = onyxi_dnnl_tag_of(S0->layout);
        if (tag != dnnl_format_tag_undef) rc = bin_try(x, st, alg, r, d0, d1, tag);
    }
    if (rc == ONYX_UNSUPPORTED) {
        bin_clear(st);
        rc = bin_try(x, st, alg, r, d0, d1, dnnl_format_tag_undef);
    }
    return rc;
}

static onyx_status bin_run(onyxi_exec *x) {
    bin_state *st = x->state;
    const int i0 = st->swap, i1 = 1 - st->swap;
    ONYXI_CHECK(onyxi_dnnl_stage_run(x, i1, &st->src1));
    ONYXI_CHECK(onyxi_dnnl_stage_run(x, i0, &st->src0));
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC_0, st->src0.mem}, {DNNL_ARG_SRC_1, st->src1.mem}};
    return onyxi_dnnl_prim_run(x, &st->p, 2, args);
}

const onyxi_impl onyxi_binary_dnnl = {"dnnl", bin_init, bin_run, bin_fini};
