/*
 * Concat (opset 4, 11, 13) on oneDNN's concat primitive, float32, any axis. When the output
 * may be blocked and some input is, the primitive runs in one blocked layout: the one holding
 * the most input bytes; the odd inputs (plain, or another layout) are reordered inside the
 * step into buffers it owns. Otherwise each input is given in its producer's layout with a
 * plain output. Declines other dtypes, empty tensors, mixed layouts with a plain output (the
 * session's reorders then write straight into zero-copy slices) and the cases oneDNN runs in
 * its reference loop (e.g. nChw8c parts whose channel counts are not multiples of 8).
 */
#include <string.h>

#include "concat.h"
#include "dnnl_stage.h"

typedef struct concat_dnnl_state {
    onyxi_dnnl_prim p;
    int n;
    dnnl_exec_arg_t *args;  /* owned: n sources, then room for dst and scratchpad */
    onyxi_dnnl_stage src[]; /* n: input k as the primitive reads it */
} concat_dnnl_state;

static void concat_fini_dnnl(onyxi_exec *x) {
    concat_dnnl_state *st = x->state;
    if (!st) return;
    onyxi_dnnl_prim_fini(&st->p);
    for (int i = 0; i < st->n; i++)
        onyxi_dnnl_stage_fini(&st->src[i]);
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

/* 1 when input t is stored in layout `tag` (its own dims under that tag). */
static int stored_as(const onyx_tensor *t, const dnnl_memory_desc_t *have, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t md;
    if (onyxi_dnnl_md_dims(&md, t->rank, t->dims, tag, NULL) != ONYX_OK) return 0;
    return dnnl_memory_desc_equal(&md, have);
}

/* The blocked layout holding the most input bytes (counting only inputs stored exactly in
 * it), so the fewest bytes need a reorder; dnnl_format_tag_undef when no input is blocked in a
 * layout a format tag names. Tags are looked up once per distinct layout (the lookup is slow). */
static dnnl_format_tag_t majority_layout(const onyxi_exec *x, const dnnl_memory_desc_t *have,
                                         unsigned char *seen) {
    dnnl_format_tag_t best = dnnl_format_tag_undef;
    size_t best_bytes = 0;
    memset(seen, 0, (size_t)x->n_in);
    for (int k = 0; k < x->n_in; k++) {
        if (seen[k] || !x->in[k]->layout) continue;
        dnnl_format_tag_t tag = onyxi_dnnl_tag_of(&have[k]);
        if (tag == dnnl_format_tag_undef) continue;
        size_t bytes = 0;
        for (int j = k; j < x->n_in; j++)
            if (x->in[j]->layout && !seen[j] && stored_as(x->in[j], &have[j], tag)) {
                seen[j] = 1;
                bytes += x->in[j]->nbytes;
            }
        if (bytes > best_bytes) {
            best = tag;
            best_bytes = bytes;
        }
    }
    return best;
}

/* Builds the step: want[k] is what the primitive reads for input k (have[k] as stored). */
static onyx_status concat_build(onyxi_exec *x, concat_dnnl_state *st, int ax,
                                const dnnl_memory_desc_t *have, const dnnl_memory_desc_t *want,
                                const dnnl_memory_desc_t *dst) {
    dnnl_primitive_desc_t pd = NULL;
    ONYXI_CHECK(concat_pd(x, dst, x->n_in, ax, want, &pd));
    onyx_status rc = ONYX_OK;
    for (int k = 0; rc == ONYX_OK && k < x->n_in; k++) {
        rc = onyxi_dnnl_stage_init(x, k, &have[k], &want[k], ONYXI_STAGE_BUFFER, &st->src[k]);
        st->args[k].arg = DNNL_ARG_MULTIPLE_SRC + k;
        st->args[k].memory = st->src[k].mem;
    }
    if (rc == ONYX_OK) rc = onyxi_dnnl_prim_init(x, pd, 0u, &st->p);
    dnnl_primitive_desc_destroy(pd);
    return rc;
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
    int n_blocked = 0;
    for (int k = 0; k < x->n_in; k++) {
        if (x->in[k]->rank != Y->rank || onyxi_shape_count(x->in[k]->rank, x->in[k]->dims) <= 0)
            return ONYX_UNSUPPORTED; /* empty parts: the reference kernel skips them */
        n_blocked += x->in[k]->layout != NULL;
    }
    int blocked_out = (x->blocked_ok & 1u) != 0;
    if (!blocked_out && n_blocked > 0 && n_blocked < x->n_in) return ONYX_UNSUPPORTED;

    size_t bytes = sizeof(concat_dnnl_state), mds = sizeof(dnnl_memory_desc_t);
    if (!onyxi_mul_size((size_t)x->n_in, sizeof(onyxi_dnnl_stage), &bytes) ||
        !onyxi_add_size(bytes, sizeof(concat_dnnl_state), &bytes) ||
        !onyxi_mul_size((size_t)x->n_in, 2 * mds, &mds))
        return onyxi_fail(e, ONYX_INVALID_MODEL, "%d inputs is not a valid count", x->n_in);
    concat_dnnl_state *st = onyxi_calloc(1, bytes);
    if (!st) return onyxi_fail(e, ONYX_NOMEM, "out of memory for the Concat state");
    x->state = st;
    st->n = x->n_in;
    st->args = onyxi_calloc((size_t)x->n_in + 2, sizeof(dnnl_exec_arg_t));
    /* have[0..n) then want[0..n), and the per-input marks of majority_layout */
    dnnl_memory_desc_t *have = onyxi_malloc(mds), *want = have ? have + x->n_in : NULL;
    unsigned char *seen = onyxi_malloc((size_t)x->n_in);
    onyx_status rc = st->args && have && seen
                         ? ONYX_OK
                         : onyxi_fail(e, ONYX_NOMEM, "out of memory for the Concat state");
    for (int k = 0; rc == ONYX_OK && k < x->n_in; k++)
        rc = onyxi_dnnl_md_of(&have[k], x->in[k], e);
    dnnl_format_tag_t tag = dnnl_format_tag_undef;
    if (rc == ONYX_OK && blocked_out && n_blocked > 0) tag = majority_layout(x, have, seen);
    dnnl_memory_desc_t dst;
    if (tag != dnnl_format_tag_undef) {
        /* one layout for all: the odd inputs are reordered into it inside the step */
        for (int k = 0; rc == ONYX_OK && k < x->n_in; k++)
            rc = onyxi_dnnl_md_dims(&want[k], x->in[k]->rank, x->in[k]->dims, tag, e);
        if (rc == ONYX_OK) rc = onyxi_dnnl_md_dims(&dst, Y->rank, Y->dims, tag, e);
    } else if (rc == ONYX_OK) {
        /* all plain, or blocked in a layout no tag names: as stored, oneDNN picks */
        if (n_blocked > 0 && n_blocked < x->n_in) rc = ONYX_UNSUPPORTED;
        for (int k = 0; rc == ONYX_OK && k < x->n_in; k++)
            want[k] = have[k];
        if (rc == ONYX_OK)
            rc = onyxi_dnnl_md_dims(&dst, Y->rank, Y->dims,
                                    blocked_out ? dnnl_format_tag_any : dnnl_format_tag_undef, e);
    }
    if (rc == ONYX_OK) rc = concat_build(x, st, ax, have, want, &dst);
    onyxi_free(have);
    onyxi_free(seen);
    return rc;
}

static onyx_status concat_run_dnnl(onyxi_exec *x) {
    concat_dnnl_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "Concat run without init");
    /* reorders of odd inputs are queued on the in-order stream ahead of the concat */
    for (int k = 0; k < st->n; k++)
        ONYXI_CHECK(onyxi_dnnl_stage_run(x, k, &st->src[k]));
    return onyxi_dnnl_prim_run(x, &st->p, st->n, st->args);
}

const onyxi_impl onyxi_concat_dnnl = {"dnnl", concat_init_dnnl, concat_run_dnnl, concat_fini_dnnl};
