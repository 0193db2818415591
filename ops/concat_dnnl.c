/*
 * Concat (opset 4, 11, 13) on oneDNN's concat primitive, float32, any axis. Each input is
 * given to the primitive in the layout its producer chose (plain or blocked); the output
 * takes the primitive's layout when every consumer is a oneDNN step. Declines other dtypes,
 * empty tensors and the cases oneDNN runs in its reference loop (e.g. nChw8c parts whose
 * channel counts are not multiples of 8).
 */
#include <string.h>

#include "concat.h"
#include "dnnl_stage.h"

typedef struct concat_dnnl_state {
    onyxi_dnnl_prim p;
    int n;
    dnnl_exec_arg_t *args; /* owned: n sources, then room for dst and scratchpad */
    dnnl_memory_t src[];   /* n, owned */
} concat_dnnl_state;

static void concat_fini_dnnl(onyxi_exec *x) {
    concat_dnnl_state *st = x->state;
    if (!st) return;
    onyxi_dnnl_prim_fini(&st->p);
    for (int i = 0; i < st->n; i++)
        if (st->src[i]) dnnl_memory_destroy(st->src[i]);
    onyxi_free(st->args);
    onyxi_free(st);
    x->state = NULL;
}

/* The primitive descriptor for sources srcs into dst, with user-mode scratchpad; declines
 * oneDNN's reference loop. (onyxi_dnnl_make_pd takes op descriptors, which concat has not.) */
static onyx_status concat_pd(onyxi_exec *x, const dnnl_memory_desc_t *dst, int n, int axis,
                             const dnnl_memory_desc_t *srcs, dnnl_primitive_desc_t *pd) {
    dnnl_primitive_attr_t attr = NULL;
    *pd = NULL;
    ONYXI_DNNL(dnnl_primitive_attr_create(&attr), x->err);
    dnnl_status_t ds = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (ds == dnnl_success)
        ds = dnnl_concat_primitive_desc_create(pd, dst, n, axis, srcs, attr, x->backend->engine);
    dnnl_primitive_attr_destroy(attr);
    if (ds != dnnl_success) {
        *pd = NULL;
        return onyxi_fail(x->err, ONYX_UNSUPPORTED, "oneDNN concat rejects these inputs");
    }
    if (onyxi_dnnl_is_ref(*pd)) {
        dnnl_primitive_desc_destroy(*pd);
        *pd = NULL;
        return ONYX_UNSUPPORTED;
    }
    x->detail = onyxi_dnnl_impl_str(*pd);
    return ONYX_OK;
}

static onyx_status concat_init_dnnl(onyxi_exec *x) {
    onyxi_err *e = x->err;
    const onyx_tensor *Y = x->out[0];
    if (!x->backend || x->n_in < 1 || Y->dtype != ONYX_DTYPE_FLOAT32 || Y->rank < 1 ||
        Y->rank > DNNL_MAX_NDIMS)
        return ONYX_UNSUPPORTED;
    if (onyxi_shape_count(Y->rank, Y->dims) <= 0) return ONYX_UNSUPPORTED;
    int ax;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(x->node, "axis", 0), Y->rank, &ax, e));
    for (int k = 0; k < x->n_in; k++)
        if (x->in[k]->rank != Y->rank || onyxi_shape_count(x->in[k]->rank, x->in[k]->dims) <= 0)
            return ONYX_UNSUPPORTED; /* empty parts: the reference kernel skips them */

    size_t bytes = sizeof(concat_dnnl_state), mds = sizeof(dnnl_memory_desc_t);
    if (!onyxi_mul_size((size_t)x->n_in, sizeof(dnnl_memory_t), &bytes) ||
        !onyxi_add_size(bytes, sizeof(concat_dnnl_state), &bytes) ||
        !onyxi_mul_size((size_t)x->n_in, mds, &mds))
        return onyxi_fail(e, ONYX_INVALID_MODEL, "%d inputs is not a valid count", x->n_in);
    concat_dnnl_state *st = onyxi_calloc(1, bytes);
    if (!st) return onyxi_fail(e, ONYX_NOMEM, "out of memory for the Concat state");
    x->state = st;
    st->n = x->n_in;
    st->args = onyxi_calloc((size_t)x->n_in + 2, sizeof(dnnl_exec_arg_t));
    dnnl_memory_desc_t *src_md = onyxi_malloc(mds);
    if (!st->args || !src_md) {
        onyxi_free(src_md);
        return onyxi_fail(e, ONYX_NOMEM, "out of memory for the Concat state");
    }
    onyx_status rc = ONYX_OK;
    for (int k = 0; rc == ONYX_OK && k < x->n_in; k++)
        rc = onyxi_dnnl_md_of(&src_md[k], x->in[k], e);
    int blocked_out = (x->blocked_ok & 1u) != 0;
    dnnl_memory_desc_t dst_md;
    if (rc == ONYX_OK)
        rc = onyxi_dnnl_md_dims(&dst_md, Y->rank, Y->dims,
                                blocked_out ? dnnl_format_tag_any : dnnl_format_tag_undef, e);
    dnnl_primitive_desc_t pd = NULL;
    if (rc == ONYX_OK) rc = concat_pd(x, &dst_md, x->n_in, ax, src_md, &pd);
    for (int k = 0; rc == ONYX_OK && k < x->n_in; k++) {
        rc = onyxi_dnnl_memory(x, &src_md[k], &st->src[k]);
        st->args[k].arg = DNNL_ARG_MULTIPLE_SRC + k;
        st->args[k].memory = st->src[k];
    }
    onyxi_free(src_md);
    if (rc != ONYX_OK) {
        if (pd) dnnl_primitive_desc_destroy(pd);
        return rc;
    }
    rc = onyxi_dnnl_prim_init(x, pd, 0u, &st->p);
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

static onyx_status concat_run_dnnl(onyxi_exec *x) {
    concat_dnnl_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "Concat run without init");
    for (int k = 0; k < st->n; k++)
        ONYXI_DNNL(dnnl_memory_set_data_handle(st->src[k], x->in[k]->data), x->err);
    return onyxi_dnnl_prim_run(x, &st->p, st->n, st->args);
}

const onyxi_impl onyxi_concat_dnnl = {"dnnl", concat_init_dnnl, concat_run_dnnl, concat_fini_dnnl};
