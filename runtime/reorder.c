/*
 * Reorder from a blocked layout (in[0]->layout) to plain (out[0]) with oneDNN's reorder
 * primitive. Memory objects are created without buffers and pointed at the arena per run.
 */
#include "reorder.h"

#include "dnnl_util.h"

typedef struct reorder_state {
    dnnl_primitive_t prim;
    dnnl_memory_t src, dst;
} reorder_state;

static void reorder_fini(onyxi_exec *x) {
    reorder_state *st = x->state;
    if (!st) return;
    if (st->prim) dnnl_primitive_destroy(st->prim);
    if (st->src) dnnl_memory_destroy(st->src);
    if (st->dst) dnnl_memory_destroy(st->dst);
    onyxi_free(st);
    x->state = NULL;
}

static onyx_status reorder_init(onyxi_exec *x) {
    if (!x->backend || !x->in[0]->layout)
        return onyxi_fail(x->err, ONYX_INTERNAL, "reorder without a blocked input");
    reorder_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory");
    x->state = st;
    const dnnl_memory_desc_t *src_md = x->in[0]->layout;
    dnnl_memory_desc_t dst_md;
    ONYXI_CHECK(onyxi_dnnl_md_plain(&dst_md, x->out[0], x->err));
    dnnl_engine_t eng = x->backend->engine;
    dnnl_primitive_desc_t pd = NULL;
    ONYXI_DNNL(dnnl_reorder_primitive_desc_create(&pd, src_md, eng, &dst_md, eng, NULL), x->err);
    dnnl_status_t ds = dnnl_primitive_create(&st->prim, pd);
    dnnl_primitive_desc_destroy(pd);
    ONYXI_DNNL(ds, x->err);
    ONYXI_DNNL(dnnl_memory_create(&st->src, src_md, eng, DNNL_MEMORY_NONE), x->err);
    ONYXI_DNNL(dnnl_memory_create(&st->dst, &dst_md, eng, DNNL_MEMORY_NONE), x->err);
    x->detail = "reorder to plain";
    return ONYX_OK;
}

static onyx_status reorder_run(onyxi_exec *x) {
    reorder_state *st = x->state;
    ONYXI_DNNL(dnnl_memory_set_data_handle(st->src, x->in[0]->data), x->err);
    ONYXI_DNNL(dnnl_memory_set_data_handle(st->dst, x->out[0]->data), x->err);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, st->src}, {DNNL_ARG_TO, st->dst}};
    ONYXI_DNNL(dnnl_primitive_execute(st->prim, x->backend->stream, 2, args), x->err);
    ONYXI_DNNL(dnnl_stream_wait(x->backend->stream), x->err);
    return ONYX_OK;
}

const onyxi_impl onyxi_reorder_to_plain = {"reorder", reorder_init, reorder_run, reorder_fini};
