/*
 * Model loading pipeline: bytes -> onnx/ loader (parse + validate) -> deterministic order
 * (cycle check) -> op resolution (registry + attribute checks) -> graph passes (folding,
 * fusion: passes.h) -> declaration views.
 * A failed load still returns a handle that carries the message (SQLite's rule).
 */
#include <string.h>

#include "../onnx/loader.h"
#include "alloc.h"
#include "model.h"
#include "passes.h"
#include "weights.h"

int onyxi_model_valid(const onyx_model *m) { return m && m->magic == ONYXI_MODEL_MAGIC; }

void onyxi_model_retain(onyx_model *m) { atomic_fetch_add(&m->refs, 1); }

void onyxi_model_release(onyx_model *m) {
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
    onyxi_graph_free(m->graph);
    onyxi_weights_free(m->weights);
    onyxi_free(m->inputs);
    onyxi_free(m->outputs);
    onyxi_free(m->initializers);
    m->magic = 0;
    onyxi_free(m);
}

static onyx_status build_views(onyx_model *m, onyxi_err *e) {
    const onyxi_graph *g = m->graph;
    m->inputs = onyxi_calloc((size_t)g->n_inputs + 1, sizeof(onyx_tensor));
    m->outputs = onyxi_calloc((size_t)g->n_outputs + 1, sizeof(onyx_tensor));
    int n_init = 0;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].flags & ONYXI_VALUE_INITIALIZER) n_init++;
    m->initializers = onyxi_calloc((size_t)n_init + 1, sizeof(int));
    if (!m->inputs || !m->outputs || !m->initializers)
        return onyxi_fail(e, ONYX_NOMEM, "out of memory building the model's views");
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].flags & ONYXI_VALUE_INITIALIZER) m->initializers[m->n_initializers++] = v;
    for (int i = 0; i < g->n_inputs; i++) {
        m->inputs[i] = g->values[g->inputs[i]].info;
        m->inputs[i].name = g->values[g->inputs[i]].name;
        m->inputs[i].data = NULL;
        m->inputs[i].owns_data = m->inputs[i].owns_name = 0;
        m->inputs[i].dim_params = g->values[g->inputs[i]].dim_params;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        m->outputs[i] = g->values[g->outputs[i]].info;
        m->outputs[i].name = g->values[g->outputs[i]].name;
        m->outputs[i].data = NULL;
        m->outputs[i].owns_data = m->outputs[i].owns_name = 0;
        m->outputs[i].dim_params = g->values[g->outputs[i]].dim_params;
    }
    return ONYX_OK;
}

onyx_model *onyxi_model_failed(onyx_status code, const onyxi_err *e) {
    onyx_model *m = onyxi_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->magic = ONYXI_MODEL_MAGIC;
    atomic_init(&m->refs, 1);
    m->err = *e;
    m->errcode = code;
    return m;
}

onyx_status onyxi_model_load(const void *bytes, size_t nbytes, const char *model_dir,
                             const onyxi_load_limits *limits, onyx_model **out) {
    onyx_model *m = onyxi_calloc(1, sizeof *m);
    *out = m;
    if (!m) return ONYX_NOMEM;
    m->magic = ONYXI_MODEL_MAGIC;
    atomic_init(&m->refs, 1);
    onyx_status rc = onyxi_onnx_load(bytes, nbytes, model_dir, limits, &m->graph, &m->err);
    if (rc == ONYX_OK) rc = onyxi_graph_order(m->graph, &m->err);
    if (rc == ONYX_OK) rc = onyxi_graph_resolve_ops(m->graph, limits->allow_unsupported, &m->err);
    if (rc == ONYX_OK) rc = onyxi_graph_passes(m->graph, limits->passes_off, &m->err);
    if (rc == ONYX_OK) rc = build_views(m, &m->err);
    if (rc == ONYX_OK && !(m->weights = onyxi_weights_create()))
        rc = onyxi_fail(&m->err, ONYX_NOMEM, "out of memory creating the weight cache");
    if (rc != ONYX_OK) {
        if (m->err.code == ONYX_OK) onyxi_fail(&m->err, rc, "%s", onyx_status_str(rc));
        onyxi_graph_free(m->graph);
        m->graph = NULL;
        onyxi_free(m->inputs);
        onyxi_free(m->outputs);
        onyxi_free(m->initializers);
        m->inputs = m->outputs = NULL;
        m->initializers = NULL;
        m->n_initializers = 0;
    }
    m->errcode = rc;
    return rc;
}
