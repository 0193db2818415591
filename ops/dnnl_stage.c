/*
 * Step building blocks for oneDNN implementations (see dnnl_stage.h): input staging (reorders
 * an input whose stored layout a primitive does not take, at run time into a step-owned buffer
 * or the output, or once per model for constants), the primitive with its dst and scratchpad,
 * and the one-source, one-destination step built from both.
 */
#include "dnnl_stage.h"

onyx_status onyxi_dnnl_memory(onyxi_exec *x, const dnnl_memory_desc_t *md, dnnl_memory_t *m) {
    ONYXI_DNNL(dnnl_memory_create(m, md, x->backend->engine, DNNL_MEMORY_NONE), x->err);
    return ONYX_OK;
}

dnnl_format_tag_t onyxi_dnnl_tag_of(const dnnl_memory_desc_t *md) {
    if (md->format_kind != dnnl_blocked) return dnnl_format_tag_undef;
    for (int t = dnnl_format_tag_any + 1; t < dnnl_format_tag_last; t++) {
        dnnl_memory_desc_t probe;
        if (dnnl_memory_desc_init_by_tag(&probe, md->ndims, md->dims, md->data_type,
                                         (dnnl_format_tag_t)t) != dnnl_success)
            continue;
        if (dnnl_memory_desc_equal(&probe, md)) return (dnnl_format_tag_t)t;
    }
    return dnnl_format_tag_undef;
}

onyx_status onyxi_dnnl_stage_init(onyxi_exec *x, int k, const dnnl_memory_desc_t *have,
                                  const dnnl_memory_desc_t *want, int target, onyxi_dnnl_stage *s) {
    onyxi_err *e = x->err;
    dnnl_engine_t eng = x->backend->engine;
    s->target = target;
    ONYXI_CHECK(onyxi_dnnl_memory(x, want, &s->mem));
    if (dnnl_memory_desc_equal(have, want)) return ONYX_OK;
    if (target == ONYXI_STAGE_BUFFER && (x->const_inputs >> k & 1u) && x->weights &&
        x->in[k]->data && !x->in[k]->layout) {
        const void *packed = NULL;
        ONYXI_CHECK(onyxi_dnnl_pack_constant(x, k, have, want, &packed));
        ONYXI_DNNL(dnnl_memory_set_data_handle(s->mem, (void *)packed), e);
        s->packed = 1;
        return ONYX_OK;
    }
    dnnl_primitive_desc_t rpd = NULL;
    ONYXI_DNNL(dnnl_reorder_primitive_desc_create(&rpd, have, eng, want, eng, NULL), e);
    onyx_status rc = onyxi_dnnl_check(dnnl_primitive_create(&s->reorder, rpd),
                                      "dnnl_primitive_create(reorder)", e);
    dnnl_primitive_desc_destroy(rpd);
    ONYXI_CHECK(rc);
    ONYXI_CHECK(onyxi_dnnl_memory(x, have, &s->from));
    if (target == ONYXI_STAGE_BUFFER) {
        size_t n = dnnl_memory_desc_get_size(want);
        s->buf = onyxi_malloc(n ? n : 1);
        if (!s->buf)
            return onyxi_fail(e, ONYX_NOMEM, "out of memory for input %d in a oneDNN layout", k);
        ONYXI_DNNL(dnnl_memory_set_data_handle(s->mem, s->buf), e);
    }
    return ONYX_OK;
}

onyx_status onyxi_dnnl_stage_run(onyxi_exec *x, int k, onyxi_dnnl_stage *s) {
    if (s->packed) return ONYX_OK;
    if (!s->reorder) {
        ONYXI_DNNL(dnnl_memory_set_data_handle(s->mem, x->in[k]->data), x->err);
        return ONYX_OK;
    }
    if (s->target == ONYXI_STAGE_OUTPUT)
        ONYXI_DNNL(dnnl_memory_set_data_handle(s->mem, x->out[0]->data), x->err);
    ONYXI_DNNL(dnnl_memory_set_data_handle(s->from, x->in[k]->data), x->err);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, s->from}, {DNNL_ARG_TO, s->mem}};
    ONYXI_DNNL(dnnl_primitive_execute(s->reorder, x->backend->stream, 2, args), x->err);
    return ONYX_OK;
}

void onyxi_dnnl_stage_fini(onyxi_dnnl_stage *s) {
    if (s->reorder) dnnl_primitive_destroy(s->reorder);
    if (s->mem) dnnl_memory_destroy(s->mem);
    if (s->from) dnnl_memory_destroy(s->from);
    onyxi_free(s->buf);
    *s = (onyxi_dnnl_stage){0};
}

onyx_status onyxi_dnnl_prim_init(onyxi_exec *x, const_dnnl_primitive_desc_t pd, unsigned flags,
                                 onyxi_dnnl_prim *p) {
    const dnnl_memory_desc_t *scr = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    const dnnl_memory_desc_t *dst = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    if (!scr || !dst) return onyxi_fail(x->err, ONYX_BACKEND, "oneDNN gave no dst/scratchpad md");
    if (!(flags & ONYXI_PRIM_IN_PLACE)) ONYXI_CHECK(onyxi_dnnl_memory(x, dst, &p->dst));
    ONYXI_CHECK(onyxi_dnnl_memory(x, scr, &p->scratch));
    ONYXI_DNNL(dnnl_primitive_create(&p->prim, pd), x->err);
    x->scratch_bytes = dnnl_memory_desc_get_size(scr);
    if (flags & ONYXI_PRIM_PLAIN_OUT) return ONYX_OK;
    return onyxi_dnnl_set_output(x, 0, dst, &p->out_md);
}

onyx_status onyxi_dnnl_prim_exec(onyxi_exec *x, onyxi_dnnl_prim *p, int n, dnnl_exec_arg_t *args) {
    if (!p->prim) return onyxi_fail(x->err, ONYX_INTERNAL, "%s run without init", x->node->op_type);
    if (p->dst) ONYXI_DNNL(dnnl_memory_set_data_handle(p->dst, x->out[0]->data), x->err);
    ONYXI_DNNL(dnnl_memory_set_data_handle(p->scratch, x->scratch), x->err);
    args[n] = (dnnl_exec_arg_t){DNNL_ARG_DST, p->dst ? p->dst : args[0].memory};
    args[n + 1] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, p->scratch};
    ONYXI_DNNL(dnnl_primitive_execute(p->prim, x->backend->stream, n + 2, args), x->err);
    return ONYX_OK;
}

onyx_status onyxi_dnnl_prim_run(onyxi_exec *x, onyxi_dnnl_prim *p, int n, dnnl_exec_arg_t *args) {
    ONYXI_CHECK(onyxi_dnnl_prim_exec(x, p, n, args));
    ONYXI_DNNL(dnnl_stream_wait(x->backend->stream), x->err);
    return ONYX_OK;
}

void onyxi_dnnl_prim_fini(onyxi_dnnl_prim *p) {
    if (p->prim) dnnl_primitive_destroy(p->prim);
    if (p->dst) dnnl_memory_destroy(p->dst);
    if (p->scratch) dnnl_memory_destroy(p->scratch);
    *p = (onyxi_dnnl_prim){0};
}

onyx_status onyxi_dnnl_state_new(onyxi_exec *x, size_t size, void **state) {
    *state = onyxi_calloc(1, size);
    if (!*state)
        return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the %s state", x->node->op_type);
    x->state = *state;
    return ONYX_OK;
}

onyx_status onyxi_dnnl_step_make(onyxi_exec *x, const void *desc, unsigned flags,
                                 onyxi_dnnl_step *s) {
    if (s->src.target == ONYXI_STAGE_OUTPUT) flags |= ONYXI_PRIM_IN_PLACE;
    dnnl_primitive_desc_t pd = NULL;
    ONYXI_CHECK(onyxi_dnnl_make_pd(x, desc, NULL, &pd));
    onyx_status rc = onyxi_dnnl_prim_init(x, pd, flags, &s->p);
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

void onyxi_dnnl_step_clear(onyxi_dnnl_step *s) {
    onyxi_dnnl_stage_fini(&s->src);
    onyxi_dnnl_prim_fini(&s->p);
}

onyx_status onyxi_dnnl_step_run(onyxi_exec *x) {
    onyxi_dnnl_step *s = x->state;
    if (!s) return onyxi_fail(x->err, ONYX_INTERNAL, "%s run without init", x->node->op_type);
    ONYXI_CHECK(onyxi_dnnl_stage_run(x, 0, &s->src));
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, s->src.mem}};
    return onyxi_dnnl_prim_run(x, &s->p, 1, args);
}

void onyxi_dnnl_step_fini(onyxi_exec *x) {
    if (!x->state) return;
    onyxi_dnnl_step_clear(x->state);
    onyxi_free(x->state);
    x->state = NULL;
}
