/*
 * Normalization on oneDNN, float32, inference:
 *  - BatchNormalization (all versions, per-channel [C] parameters; spatial=0 per-activation
 *    parameters decline): use_global_stats | use_scale | use_shift, with fuse_norm_relu when
 *    the fuse_act pass merged a Relu in (other chains decline). A blocked input keeps its
 *    layout when the output may be blocked, else it is reordered into the plain output and
 *    the primitive runs in place there.
 *  - LayerNormalization-17 over the last axis only, on a plain input viewed as [rows, len],
 *    with Scale (and B) of the full length; no Mean / InvStdDev outputs.
 */
#include <string.h>

#include "dnnl_stage.h"
#include "norm.h"
#include "postops.h"

typedef struct norm_dnnl_state {
    onyxi_dnnl_step s;       /* in place when the input was reordered into the output */
    dnnl_memory_t params[4]; /* bound at run to the parameter inputs (see *_PARAMS) */
} norm_dnnl_state;

static void norm_clear(norm_dnnl_state *st) {
    onyxi_dnnl_step_clear(&st->s);
    for (int k = 0; k < 4; k++) {
        if (st->params[k]) dnnl_memory_destroy(st->params[k]);
        st->params[k] = NULL;
    }
}

static void norm_fini_dnnl(onyxi_exec *x) {
    if (!x->state) return;
    norm_clear(x->state);
    onyxi_free(x->state);
    x->state = NULL;
}

/* Argument k of the primitive comes from input in[k] (absent: -1). */
typedef struct param_map {
    int arg[4], in[4];
} param_map;

static const param_map BN_PARAMS = {
    {DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE}, {1, 2, 3, 4}};

/* Executes the step: stages the input, binds output, parameters and scratch. */
static onyx_status norm_execute(onyxi_exec *x, const param_map *pm) {
    norm_dnnl_state *st = x->state;
    ONYXI_CHECK(onyxi_dnnl_stage_run(x, 0, &st->s.src));
    dnnl_exec_arg_t args[7] = {{DNNL_ARG_SRC, st->s.src.mem}};
    int n = 1;
    for (int k = 0; k < 4; k++) {
        if (!st->params[k]) continue;
        ONYXI_DNNL(dnnl_memory_set_data_handle(st->params[k], x->in[pm->in[k]]->data), x->err);
        args[n++] = (dnnl_exec_arg_t){pm->arg[k], st->params[k]};
    }
    return onyxi_dnnl_prim_run(x, &st->s.p, n, args);
}

/* ---- BatchNormalization ------------------------------------------------------------------- */

/* Builds the step with the primitive working on data md `want` (input stored as `have`);
 * flags adds to use_global_stats | use_scale | use_shift. */
static onyx_status bn_try(onyxi_exec *x, norm_dnnl_state *st, const dnnl_memory_desc_t *have,
                          const dnnl_memory_desc_t *want, unsigned flags) {
    onyxi_err *e = x->err;
    int in_place = !dnnl_memory_desc_equal(have, want);
    ONYXI_CHECK(onyxi_dnnl_stage_init(
        x, 0, have, want, in_place ? ONYXI_STAGE_OUTPUT : ONYXI_STAGE_BUFFER, &st->s.src));
    dnnl_memory_desc_t pmd;
    ONYXI_CHECK(onyxi_dnnl_md_dims(&pmd, 1, &x->in[0]->dims[1], dnnl_format_tag_undef, e));
    for (int k = 0; k < 4; k++)
        ONYXI_CHECK(onyxi_dnnl_memory(x, &pmd, &st->params[k]));
    float eps = onyxi_attr_float(x->node, "epsilon", 1e-5f);
    dnnl_batch_normalization_desc_t d;
    ONYXI_DNNL(dnnl_batch_normalization_forward_desc_init(&d, dnnl_forward_inference, want, eps,
                                                          dnnl_use_global_stats | dnnl_use_scale |
                                                              dnnl_use_shift | flags),
               e);
    return onyxi_dnnl_step_make(x, &d, 0u, &st->s);
}

static onyx_status bn_init_dnnl(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    if (!x->backend || X->rank > 5 || !onyxi_batch_norm_per_channel(x)) return ONYX_UNSUPPORTED;
    /* a fused Relu (fuse_act) is the primitive's own fuse_norm_relu; nothing else fits */
    unsigned flags = 0;
    const onyxi_fusion *post = onyxi_post_chain(x->node);
    if (post) {
        const onyx_tensor *Y = x->out[0];
        ONYXI_CHECK(
            onyxi_post_check(x->node, x->n_in, x->in, -1, Y->dtype, Y->rank, Y->dims, x->err));
        if (post->n_post != 1 || post->post[0].kind != ONYXI_POST_RELU) return ONYX_UNSUPPORTED;
        flags = dnnl_fuse_norm_relu;
    }
    norm_dnnl_state *st;
    ONYXI_CHECK(onyxi_dnnl_state_new(x, sizeof *st, (void **)&st));
    dnnl_memory_desc_t have, plain;
    ONYXI_CHECK(onyxi_dnnl_md_of(&have, X, x->err));
    ONYXI_CHECK(onyxi_dnnl_md_plain(&plain, X, x->err));
    onyx_status rc = ONYX_UNSUPPORTED;
    if (X->layout && (x->blocked_ok & 1u)) rc = bn_try(x, st, &have, &have, flags);
    if (rc == ONYX_UNSUPPORTED) {
        norm_clear(st);
        rc = bn_try(x, st, &have, &plain, flags);
    }
    return rc;
}

static onyx_status bn_run_dnnl(onyxi_exec *x) {
    return norm_execute(x, &BN_PARAMS);
}

const onyxi_impl onyxi_batch_norm_dnnl = {"dnnl", bn_init_dnnl, bn_run_dnnl, norm_fini_dnnl};

/* ---- LayerNormalization ------------------------------------------------------------------- */

static const param_map LN_PARAMS = {{DNNL_ARG_SCALE, DNNL_ARG_SHIFT, 0, 0}, {1, 2, -1, -1}};

static onyx_status ln_init_dnnl(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    const onyx_tensor *B = x->n_in > 2 ? x->in[2] : NULL;
    if (!x->backend || X->dtype != ONYX_DTYPE_FLOAT32 || X->layout || X->rank < 1)
        return ONYX_UNSUPPORTED;
    for (int k = 1; k < x->n_out; k++)
        if (x->out[k]) return ONYX_UNSUPPORTED; /* oneDNN does not expose inference stats */
    int axis;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(x->node, "axis", -1), X->rank, &axis, x->err));
    int64_t dims[2] = {onyxi_shape_count(X->rank - 1, X->dims), X->dims[X->rank - 1]};
    if (axis != X->rank - 1 || dims[0] <= 0 || dims[1] <= 0) return ONYX_UNSUPPORTED;
    const onyx_tensor *params[2] = {x->in[1], B};
    for (int k = 0; k < 2; k++)
        if (params[k] && (params[k]->dtype != ONYX_DTYPE_FLOAT32 || params[k]->layout ||
                          onyxi_shape_count(params[k]->rank, params[k]->dims) != dims[1]))
            return ONYX_UNSUPPORTED; /* broadcast parameters */
    norm_dnnl_state *st;
    ONYXI_CHECK(onyxi_dnnl_state_new(x, sizeof *st, (void **)&st));
    onyxi_err *e = x->err;
    dnnl_memory_desc_t data, pmd;
    ONYXI_CHECK(onyxi_dnnl_md_dims(&data, 2, dims, dnnl_format_tag_undef, e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&pmd, 1, &dims[1], dnnl_format_tag_undef, e));
    ONYXI_CHECK(onyxi_dnnl_stage_init(x, 0, &data, &data, ONYXI_STAGE_BUFFER, &st->s.src));
    ONYXI_CHECK(onyxi_dnnl_memory(x, &pmd, &st->params[0]));
    if (B) ONYXI_CHECK(onyxi_dnnl_memory(x, &pmd, &st->params[1]));
    float eps = onyxi_attr_float(x->node, "epsilon", 1e-5f);
    dnnl_layer_normalization_desc_t d;
    ONYXI_DNNL(
        dnnl_layer_normalization_forward_desc_init(&d, dnnl_forward_inference, &data, NULL, eps,
                                                   dnnl_use_scale | (B ? dnnl_use_shift : 0u)),
        e);
    /* the [rows, len] view is plain row-major: the output stays plain */
    return onyxi_dnnl_step_make(x, &d, ONYXI_PRIM_PLAIN_OUT, &st->s);
}

static onyx_status ln_run_dnnl(onyxi_exec *x) {
    return norm_execute(x, &LN_PARAMS);
}

const onyxi_impl onyxi_layer_norm_dnnl = {"dnnl", ln_init_dnnl, ln_run_dnnl, norm_fini_dnnl};
