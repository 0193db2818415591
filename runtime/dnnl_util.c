/*
 * oneDNN glue (see dnnl_util.h). One CPU engine serves the whole process: engines are
 * thread-safe and creating one per session would only repeat ISA detection.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <dnnl_debug.h>

#include "dnnl_util.h"
#include "weights.h"

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t engine;
static dnnl_status_t engine_status;

static void create_engine(void) { engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0); }

onyx_status onyxi_dnnl_engine(dnnl_engine_t *out, onyxi_err *e) {
    pthread_once(&engine_once, create_engine);
    if (engine_status != dnnl_success) return onyxi_dnnl_check(engine_status, "dnnl_engine_create", e);
    *out = engine;
    return ONYX_OK;
}

onyx_status onyxi_dnnl_check(dnnl_status_t st, const char *call, onyxi_err *e) {
    switch (st) {
    case dnnl_success: return ONYX_OK;
    case dnnl_unimplemented:
        return onyxi_fail(e, ONYX_UNSUPPORTED, "oneDNN has no implementation (%s)", call);
    case dnnl_out_of_memory: return onyxi_fail(e, ONYX_NOMEM, "oneDNN ran out of memory (%s)", call);
    default:
        return onyxi_fail(e, ONYX_BACKEND, "oneDNN call %s failed with status %d", call, (int)st);
    }
}

onyx_status onyxi_dnnl_md_dims(dnnl_memory_desc_t *md, int rank, const int64_t *dims,
                               dnnl_format_tag_t tag, onyxi_err *e) {
    if (rank < 1 || rank > DNNL_MAX_NDIMS)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "rank %d is outside oneDNN's 1..%d", rank,
                          DNNL_MAX_NDIMS);
    dnnl_dims_t d = {0};
    for (int i = 0; i < rank; i++) d[i] = dims[i];
    if (tag != dnnl_format_tag_undef) {
        ONYXI_DNNL(dnnl_memory_desc_init_by_tag(md, rank, d, dnnl_f32, tag), e);
        return ONYX_OK;
    }
    dnnl_dims_t strides = {0};
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i] > 0 ? dims[i] : 1;
    }
    ONYXI_DNNL(dnnl_memory_desc_init_by_strides(md, rank, d, dnnl_f32, strides), e);
    return ONYX_OK;
}

onyx_status onyxi_dnnl_md_plain(dnnl_memory_desc_t *md, const onyx_tensor *t, onyxi_err *e) {
    if (t->dtype != ONYX_DTYPE_FLOAT32)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "oneDNN path takes float32, not %s",
                          onyx_dtype_name(t->dtype));
    static const int64_t one = 1;
    return t->rank == 0 ? onyxi_dnnl_md_dims(md, 1, &one, dnnl_format_tag_undef, e)
                        : onyxi_dnnl_md_dims(md, t->rank, t->dims, dnnl_format_tag_undef, e);
}

const char *onyxi_dnnl_impl_str(const_dnnl_primitive_desc_t pd) {
    const char *s = NULL;
    if (!pd || dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s) != dnnl_success || !s)
        return "?";
    return s;
}

int onyxi_dnnl_is_ref(const_dnnl_primitive_desc_t pd) {
    return strncmp(onyxi_dnnl_impl_str(pd), "ref", 3) == 0;
}

const char *onyxi_dnnl_layout_name(const void *layout) {
    const dnnl_memory_desc_t *md = layout;
    for (int t = dnnl_format_tag_any + 1; t < dnnl_format_tag_last; t++) {
        dnnl_memory_desc_t probe;
        if (dnnl_memory_desc_init_by_tag(&probe, md->ndims, md->dims, md->data_type,
                                         (dnnl_format_tag_t)t) != dnnl_success)
            continue;
        if (dnnl_memory_desc_equal(&probe, md)) return dnnl_fmt_tag2str((dnnl_format_tag_t)t);
    }
    return "blocked";
}

/* Reorders the constant weights (plain, user_md) into the layout the primitive chose. */
typedef struct pack_ctx {
    dnnl_engine_t eng;
    dnnl_stream_t stream;
    const dnnl_memory_desc_t *from, *to;
    const void *data;
} pack_ctx;

static onyx_status pack_weights(void *ctx, void *dst, onyxi_err *e) {
    pack_ctx *c = ctx;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t from = NULL, to = NULL;
    onyx_status rc = onyxi_dnnl_check(
        dnnl_reorder_primitive_desc_create(&pd, c->from, c->eng, c->to, c->eng, NULL),
        "dnnl_reorder_primitive_desc_create", e);
    if (rc == ONYX_OK) rc = onyxi_dnnl_check(dnnl_primitive_create(&prim, pd), "dnnl_primitive_create", e);
    if (rc == ONYX_OK)
        rc = onyxi_dnnl_check(dnnl_memory_create(&from, c->from, c->eng, (void *)c->data),
                              "dnnl_memory_create", e);
    if (rc == ONYX_OK)
        rc = onyxi_dnnl_check(dnnl_memory_create(&to, c->to, c->eng, dst), "dnnl_memory_create", e);
    if (rc == ONYX_OK) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
        rc = onyxi_dnnl_check(dnnl_primitive_execute(prim, c->stream, 2, args),
                              "dnnl_primitive_execute(reorder)", e);
        if (rc == ONYX_OK) rc = onyxi_dnnl_check(dnnl_stream_wait(c->stream), "dnnl_stream_wait", e);
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (prim) dnnl_primitive_destroy(prim);
    if (from) dnnl_memory_destroy(from);
    if (to) dnnl_memory_destroy(to);
    return rc;
}

onyx_status onyxi_dnnl_pack_constant(onyxi_exec *x, int input, const dnnl_memory_desc_t *user_md,
                                     const dnnl_memory_desc_t *want_md, const void **packed) {
    if (!(x->const_inputs >> input & 1u) || !x->weights)
        return onyxi_fail(x->err, ONYX_INTERNAL, "input %d is not constant", input);
    pack_ctx pc = {x->backend->engine, x->backend->stream, user_md, want_md, x->in[input]->data};
    onyx_status rc = onyxi_weights_get(x->weights, x->node, input, want_md, sizeof *want_md,
                                       dnnl_memory_desc_get_size(want_md), pack_weights, &pc,
                                       packed, x->err);
    if (rc == ONYX_OK && input < 32) x->packed_inputs |= 1u << input; /* plain bytes unneeded */
    return rc;
}

onyx_status onyxi_dnnl_md_of(dnnl_memory_desc_t *md, const onyx_tensor *t, onyxi_err *e) {
    if (t->layout) {
        *md = *(const dnnl_memory_desc_t *)t->layout;
        return ONYX_OK;
    }
    return onyxi_dnnl_md_plain(md, t, e);
}

onyx_status onyxi_dnnl_set_output(onyxi_exec *x, int k, const dnnl_memory_desc_t *chosen,
                                  dnnl_memory_desc_t *store) {
    dnnl_memory_desc_t plain;
    ONYXI_CHECK(onyxi_dnnl_md_plain(&plain, x->out[k], x->err));
    if (dnnl_memory_desc_equal(chosen, &plain)) return ONYX_OK;
    *store = *chosen;
    x->out[k]->layout = store;
    x->out[k]->nbytes = dnnl_memory_desc_get_size(chosen);
    return ONYX_OK;
}

onyx_status onyxi_dnnl_make_pd(onyxi_exec *x, const void *desc, const_dnnl_post_ops_t post_ops,
                               dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    ONYXI_DNNL(dnnl_primitive_attr_create(&attr), x->err);
    dnnl_status_t ds = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (ds == dnnl_success && post_ops) ds = dnnl_primitive_attr_set_post_ops(attr, post_ops);
    if (ds == dnnl_success) ds = dnnl_primitive_desc_create(pd, desc, attr, x->backend->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    ONYXI_DNNL(ds, x->err);
    if (onyxi_dnnl_is_ref(*pd)) {
        /* oneDNN's reference loop is slower than our own C kernels */
        dnnl_primitive_desc_destroy(*pd);
        *pd = NULL;
        return ONYX_UNSUPPORTED;
    }
    x->detail = onyxi_dnnl_impl_str(*pd);
    return ONYX_OK;
}

onyx_status onyxi_dnnl_make_pd_nth(onyxi_exec *x, const void *desc, const_dnnl_post_ops_t post_ops,
                                   int nth, dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    if (nth <= 0) return onyxi_dnnl_make_pd(x, desc, post_ops, pd);
    dnnl_primitive_attr_t attr = NULL;
    ONYXI_DNNL(dnnl_primitive_attr_create(&attr), x->err);
    dnnl_status_t ds = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (ds == dnnl_success && post_ops) ds = dnnl_primitive_attr_set_post_ops(attr, post_ops);
    dnnl_primitive_desc_iterator_t it = NULL;
    if (ds == dnnl_success)
        ds = dnnl_primitive_desc_iterator_create(&it, desc, attr, x->backend->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    ONYXI_DNNL(ds, x->err);
    /* the iterator lists oneDNN's implementations in its order of preference; the same
     * kernel may come back for another layout, so variants count distinct names */
    char seen[16][64];
    int n_seen = 0;
    onyx_status rc = ONYX_UNSUPPORTED;
    do {
        dnnl_primitive_desc_t cand = dnnl_primitive_desc_iterator_fetch(it);
        if (!cand) {
            rc = onyxi_fail(x->err, ONYX_NOMEM, "out of memory listing oneDNN kernels");
            break;
        }
        const char *name = onyxi_dnnl_impl_str(cand);
        int dup = onyxi_dnnl_is_ref(cand);
        for (int i = 0; i < n_seen && !dup; i++) dup = strncmp(seen[i], name, 63) == 0;
        if (!dup && n_seen == nth) {
            *pd = cand;
            x->detail = name;
            rc = ONYX_OK;
            break;
        }
        if (!dup && n_seen < 16) snprintf(seen[n_seen++], sizeof seen[0], "%s", name);
        dnnl_primitive_desc_destroy(cand);
    } while (n_seen <= nth && n_seen < 16 &&
             dnnl_primitive_desc_iterator_next(it) == dnnl_success);
    dnnl_primitive_desc_iterator_destroy(it);
    return rc;
}

int onyxi_dnnl_same_layout(const void *a, const void *b) {
    return dnnl_memory_desc_equal((const dnnl_memory_desc_t *)a, (const dnnl_memory_desc_t *)b);
}
