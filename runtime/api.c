/*
 * Public entry points: handle and argument checks, error recording, then calls into
 * model.c / session.c. Nothing else happens here.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "log.h"
#include "model.h"
#include "session.h"

static const char *const NULL_HANDLE_MSG = "out of memory or NULL handle";

const char *onyx_version(void) { return ONYX_VERSION; }
int onyx_version_number(void) { return ONYX_VERSION_NUMBER; }

/* ---- models ---- */

/* Reports the outcome of a load to the log. */
static onyx_status log_load(const char *what, onyx_model *m, onyx_status rc) {
    if (rc != ONYX_OK)
        onyxi_log(ONYX_LOG_ERROR, "cannot load %s: %s (%s)", what, m ? m->err.msg : "out of memory",
                  onyx_status_str(rc));
    else if (onyxi_log_enabled(ONYX_LOG_INFO))
        onyxi_log(ONYX_LOG_INFO, "loaded %s: graph '%s', %d nodes, %d inputs, %d outputs, "
                  "%d initializers", what, m->graph->graph_name ? m->graph->graph_name : "",
                  m->graph->n_nodes, m->graph->n_inputs, m->graph->n_outputs, m->n_initializers);
    return rc;
}

static int model_ok(const onyx_model *m) { return onyxi_model_valid(m) && m->graph; }

static int options_ok(const onyx_options *o);

/* The loader limits from (optional) options and ONYX_LOAD_* flags. */
static onyxi_load_limits load_limits(const onyx_options *o, unsigned flags) {
    onyxi_load_limits l = {0};
    l.max_nodes = o ? o->max_nodes : 0;
    l.max_depth = o ? o->max_depth : 0;
    l.passes_off = o ? o->passes_off : 0;
    l.max_file_bytes = (size_t)1 << 34;
    l.allow_unsupported = (flags & ONYX_LOAD_ALLOW_UNSUPPORTED) != 0;
    return l;
}

onyx_status onyx_model_load_file_opts(const char *path, const onyx_options *o, unsigned flags,
                                      onyx_model **out) {
    if (!out) return ONYX_INVALID_ARG;
    *out = NULL;
    onyxi_err e;
    onyxi_err_clear(&e);
    onyx_status rc = !path ? onyxi_fail(&e, ONYX_INVALID_ARG, "path is NULL")
                     : o && !options_ok(o) ? onyxi_fail(&e, ONYX_MISUSE, "not an options handle")
                                           : ONYX_OK;
    if (rc != ONYX_OK) {
        *out = onyxi_model_failed(rc, &e);
        return *out ? log_load(path ? path : "(NULL path)", *out, rc) : rc;
    }
    /* the folder that external data is resolved against */
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    onyxi_load_limits limits = load_limits(o, flags);
    rc = onyxi_model_load_file(path, dir, &limits, out); /* maps the file, keeps it open */
    return log_load(path, *out, rc);
}

onyx_status onyx_model_load_file_flags(const char *path, unsigned flags, onyx_model **out) {
    return onyx_model_load_file_opts(path, NULL, flags, out);
}

onyx_status onyx_model_load_file(const char *path, onyx_model **out) {
    return onyx_model_load_file_opts(path, NULL, 0, out);
}

onyx_status onyx_model_load_memory_opts(const void *data, size_t nbytes, const onyx_options *o,
                                        unsigned flags, onyx_model **out) {
    if (!out) return ONYX_INVALID_ARG;
    *out = NULL;
    onyxi_err e;
    onyxi_err_clear(&e);
    onyx_status rc = !data && nbytes ? onyxi_fail(&e, ONYX_INVALID_ARG, "data is NULL")
                     : o && !options_ok(o) ? onyxi_fail(&e, ONYX_MISUSE, "not an options handle")
                                           : ONYX_OK;
    if (rc != ONYX_OK) {
        *out = onyxi_model_failed(rc, &e);
        return rc;
    }
    onyxi_load_limits limits = load_limits(o, flags);
    rc = onyxi_model_load(data ? data : "", nbytes, NULL, &limits, out);
    return log_load("a model from memory", *out, rc);
}

onyx_status onyx_model_load_memory(const void *data, size_t nbytes, onyx_model **out) {
    return onyx_model_load_memory_opts(data, nbytes, NULL, 0, out);
}

void onyx_model_free(onyx_model *m) {
    if (onyxi_model_valid(m)) onyxi_model_release(m);
}

onyx_status onyx_model_errcode(const onyx_model *m) {
    return onyxi_model_valid(m) ? m->errcode : ONYX_MISUSE;
}

const char *onyx_model_errmsg(const onyx_model *m) {
    return onyxi_model_valid(m) ? m->err.msg : NULL_HANDLE_MSG;
}

int onyx_model_input_count(const onyx_model *m) { return model_ok(m) ? m->graph->n_inputs : -1; }
int onyx_model_output_count(const onyx_model *m) { return model_ok(m) ? m->graph->n_outputs : -1; }

const onyx_tensor *onyx_model_input(const onyx_model *m, int i) {
    return model_ok(m) && i >= 0 && i < m->graph->n_inputs ? &m->inputs[i] : NULL;
}

const onyx_tensor *onyx_model_output(const onyx_model *m, int i) {
    return model_ok(m) && i >= 0 && i < m->graph->n_outputs ? &m->outputs[i] : NULL;
}

int onyx_model_input_index(const onyx_model *m, const char *name) {
    if (!model_ok(m) || !name) return -1;
    for (int i = 0; i < m->graph->n_inputs; i++)
        if (strcmp(m->inputs[i].name, name) == 0) return i;
    return -1;
}

int onyx_model_output_index(const onyx_model *m, const char *name) {
    if (!model_ok(m) || !name) return -1;
    for (int i = 0; i < m->graph->n_outputs; i++)
        if (strcmp(m->outputs[i].name, name) == 0) return i;
    return -1;
}

int64_t onyx_model_ir_version(const onyx_model *m) {
    return model_ok(m) ? m->graph->ir_version : -1;
}

const char *onyx_model_producer(const onyx_model *m) {
    return model_ok(m) && m->graph->producer_name ? m->graph->producer_name : "";
}

const char *onyx_model_producer_version(const onyx_model *m) {
    return model_ok(m) && m->graph->producer_version ? m->graph->producer_version : "";
}

const char *onyx_model_graph_name(const onyx_model *m) {
    return model_ok(m) && m->graph->graph_name ? m->graph->graph_name : "";
}

int64_t onyx_model_opset(const onyx_model *m, const char *domain) {
    if (!model_ok(m)) return -1;
    int want_default = !domain || !domain[0] || strcmp(domain, "ai.onnx") == 0;
    for (int i = 0; i < m->graph->n_opsets; i++) {
        const char *d = m->graph->opsets[i].domain;
        int is_default = !d[0] || strcmp(d, "ai.onnx") == 0;
        if (want_default ? is_default : strcmp(d, domain) == 0) return m->graph->opsets[i].version;
    }
    return -1;
}

int onyx_model_opset_count(const onyx_model *m) { return model_ok(m) ? m->graph->n_opsets : -1; }

const char *onyx_model_opset_domain(const onyx_model *m, int i) {
    return model_ok(m) && i >= 0 && i < m->graph->n_opsets ? m->graph->opsets[i].domain : NULL;
}

int64_t onyx_model_opset_version(const onyx_model *m, int i) {
    return model_ok(m) && i >= 0 && i < m->graph->n_opsets ? m->graph->opsets[i].version : -1;
}

int onyx_model_node_count(const onyx_model *m) { return model_ok(m) ? m->graph->n_nodes : -1; }

static const onyxi_node *node_at(const onyx_model *m, int i) {
    if (!model_ok(m) || i < 0 || i >= m->graph->n_nodes) return NULL;
    return &m->graph->nodes[m->graph->order[i]];
}

const char *onyx_model_node_op_type(const onyx_model *m, int i) {
    const onyxi_node *n = node_at(m, i);
    return n ? n->op_type : NULL;
}

const char *onyx_model_node_name(const onyx_model *m, int i) {
    const onyxi_node *n = node_at(m, i);
    return n ? n->name : NULL;
}

int onyx_model_node_supported(const onyx_model *m, int i) {
    const onyxi_node *n = node_at(m, i);
    return n ? n->op != NULL : -1;
}

int onyx_model_initializer_count(const onyx_model *m) {
    return model_ok(m) ? m->n_initializers : -1;
}

const onyx_tensor *onyx_model_initializer(const onyx_model *m, int i) {
    if (!model_ok(m) || i < 0 || i >= m->n_initializers) return NULL;
    return &m->graph->values[m->initializers[i]].info;
}

/* ---- options ---- */

static int options_ok(const onyx_options *o) { return o && o->magic == ONYXI_OPTIONS_MAGIC; }

onyx_status onyx_options_create(onyx_options **out) {
    if (!out) return ONYX_INVALID_ARG;
    *out = onyxi_calloc(1, sizeof **out);
    if (!*out) return ONYX_NOMEM;
    (*out)->magic = ONYXI_OPTIONS_MAGIC;
    (*out)->backend = ONYX_BACKEND_AUTO;
    return ONYX_OK;
}

void onyx_options_free(onyx_options *o) {
    if (!options_ok(o)) return;
    o->magic = 0;
    onyxi_free(o);
}

onyx_status onyx_options_set_num_threads(onyx_options *o, int n) {
    if (!options_ok(o)) return ONYX_MISUSE;
    if (n < 0) return ONYX_INVALID_ARG;
    o->num_threads = n;
    return ONYX_OK;
}

onyx_status onyx_options_set_profiling(onyx_options *o, int enable) {
    if (!options_ok(o)) return ONYX_MISUSE;
    o->profiling = enable != 0;
    return ONYX_OK;
}

onyx_status onyx_options_set_memory_limit(onyx_options *o, size_t bytes) {
    if (!options_ok(o)) return ONYX_MISUSE;
    o->memory_limit = bytes;
    return ONYX_OK;
}

onyx_status onyx_options_set_load_limits(onyx_options *o, int max_nodes, int max_depth) {
    if (!options_ok(o)) return ONYX_MISUSE;
    if (max_nodes < 0 || max_depth < 0) return ONYX_INVALID_ARG;
    o->max_nodes = max_nodes;
    o->max_depth = max_depth;
    return ONYX_OK;
}

onyx_status onyx_options_set_passes(onyx_options *o, unsigned mask) {
    if (!options_ok(o)) return ONYX_MISUSE;
    if (mask & ~(unsigned)ONYX_PASS_ALL) return ONYX_INVALID_ARG;
    o->passes_off = ONYX_PASS_ALL & ~mask;
    return ONYX_OK;
}

onyx_status onyx_options_set_backend(onyx_options *o, onyx_backend b) {
    if (!options_ok(o)) return ONYX_MISUSE;
    if (b != ONYX_BACKEND_AUTO && b != ONYX_BACKEND_REFERENCE) return ONYX_INVALID_ARG;
    o->backend = b;
    return ONYX_OK;
}

onyx_status onyx_options_set_kernel_selection(onyx_options *o, onyx_kernel_selection k) {
    if (!options_ok(o)) return ONYX_MISUSE;
    if (k != ONYX_SELECT_MEASURE && k != ONYX_SELECT_STATIC) return ONYX_INVALID_ARG;
    o->selection = k;
    o->selection_set = 1;
    return ONYX_OK;
}

/* ---- sessions ---- */

static int session_valid(const onyx_session *s) { return s && s->magic == ONYXI_SESSION_MAGIC; }
static int session_ok(const onyx_session *s) { return session_valid(s) && !s->failed; }

/* Records the status as the session's last error code and returns it. */
static onyx_status done(onyx_session *s, onyx_status rc) {
    s->errcode = rc;
    if (rc == ONYX_OK) onyxi_err_clear(&s->err);
    else onyxi_log(ONYX_LOG_ERROR, "session: %s (%s)", s->err.msg, onyx_status_str(rc));
    return rc;
}


onyx_status onyx_session_create(onyx_model *m, const onyx_options *o, onyx_session **out) {
    if (!out) return ONYX_INVALID_ARG;
    *out = NULL;
    onyx_session *s = onyxi_calloc(1, sizeof *s);
    if (!s) return ONYX_NOMEM;
    s->magic = ONYXI_SESSION_MAGIC;
    *out = s;
    onyx_status rc = ONYX_OK;
    if (!m) rc = onyxi_fail(&s->err, ONYX_INVALID_ARG, "model is NULL");
    else if (!onyxi_model_valid(m)) rc = onyxi_fail(&s->err, ONYX_MISUSE, "not a model handle");
    else if (!m->graph)
        rc = onyxi_fail(&s->err, ONYX_MISUSE, "the model failed to load: %s", m->err.msg);
    else if (o && !options_ok(o)) rc = onyxi_fail(&s->err, ONYX_MISUSE, "not an options handle");
    if (rc == ONYX_OK) rc = onyxi_session_init(s, m, o);
    if (rc == ONYX_OK) {
        /* plan now when every input shape is fixed; otherwise on the first run */
        int fixed = 1;
        for (int i = 0; i < m->graph->n_inputs; i++) {
            const onyx_tensor *t = &m->inputs[i];
            if (t->rank < 0 || onyxi_shape_count(t->rank, t->dims) < 0) fixed = 0;
            else {
                onyxi_input_binding *b = &s->in_bind[i];
                b->shape.dtype = t->dtype;
                b->shape.rank = t->rank;
                memcpy(b->shape.dims, t->dims, sizeof b->shape.dims);
            }
        }
        if (fixed) rc = onyxi_session_plan(s, 1);
    }
    if (rc != ONYX_OK) s->failed = 1;
    return done(s, rc);
}

void onyx_session_free(onyx_session *s) {
    if (!session_valid(s)) return;
    onyxi_session_destroy(s);
    s->magic = 0;
    onyxi_free(s);
}

onyx_status onyx_session_errcode(const onyx_session *s) {
    return session_valid(s) ? s->errcode : ONYX_MISUSE;
}

const char *onyx_session_errmsg(const onyx_session *s) {
    return session_valid(s) ? s->err.msg : NULL_HANDLE_MSG;
}

onyx_status onyx_session_bind_input(onyx_session *s, int i, onyx_dtype dt, const int64_t *dims,
                                    int rank, const void *data, size_t nbytes) {
    if (!session_ok(s)) return ONYX_MISUSE;
    onyxi_err_clear(&s->err);
    const onyxi_graph *g = s->g;
    if (i < 0 || i >= g->n_inputs)
        return done(s, onyxi_fail(&s->err, ONYX_INVALID_ARG, "input index %d is out of range "
                                  "(the model has %d inputs)", i, g->n_inputs));
    const onyxi_value *v = &g->values[g->inputs[i]];
    const onyx_tensor *decl = &v->info;
    if (rank < 0 || rank > ONYXI_MAX_RANK || (rank > 0 && !dims))
        return done(s, onyxi_fail(&s->err, ONYX_INVALID_ARG, "input '%s': rank %d is invalid",
                                  v->name, rank));
    if (decl->dtype != ONYX_DTYPE_UNDEFINED && dt != decl->dtype)
        return done(s, onyxi_fail(&s->err, ONYX_TYPE_MISMATCH,
                                  "input '%s' has dtype %s, bound as %s", v->name,
                                  onyx_dtype_name(decl->dtype), onyx_dtype_name(dt)));
    if (!onyxi_dtype_known(dt) || dt == ONYX_DTYPE_STRING)
        return done(s, onyxi_fail(&s->err, ONYX_TYPE_MISMATCH, "input '%s': dtype %d is not "
                                  "supported", v->name, (int)dt));
    if (decl->rank >= 0 && rank != decl->rank)
        return done(s, onyxi_fail(&s->err, ONYX_SHAPE_MISMATCH,
                                  "input '%s' has rank %d, bound with rank %d", v->name,
                                  decl->rank, rank));
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 0)
            return done(s, onyxi_fail(&s->err, ONYX_INVALID_ARG, "input '%s': dim %d is "
                                      "negative (%lld)", v->name, d, (long long)dims[d]));
        if (decl->rank >= 0 && decl->dims[d] >= 0 && decl->dims[d] != dims[d])
            return done(s, onyxi_fail(&s->err, ONYX_SHAPE_MISMATCH,
                                      "input '%s': dim %d is %lld, bound as %lld", v->name, d,
                                      (long long)decl->dims[d], (long long)dims[d]));
    }
    size_t want;
    onyx_status rc = onyxi_shape_nbytes(dt, rank, dims, &want, &s->err);
    if (rc != ONYX_OK) return done(s, ONYX_INVALID_ARG);
    if (nbytes != want)
        return done(s, onyxi_fail(&s->err, ONYX_INVALID_ARG,
                                  "input '%s': %zu bytes given, the shape needs %zu", v->name,
                                  nbytes, want));
    if (!data && want)
        return done(s, onyxi_fail(&s->err, ONYX_INVALID_ARG, "input '%s': data is NULL",
                                  v->name));
    onyxi_input_binding *b = &s->in_bind[i];
    b->bound = 1;
    b->data = data;
    b->nbytes = nbytes;
    b->shape.dtype = dt;
    b->shape.rank = rank;
    for (int d = 0; d < ONYXI_MAX_RANK; d++) b->shape.dims[d] = d < rank ? dims[d] : 0;
    return done(s, ONYX_OK);
}

onyx_status onyx_session_bind_output(onyx_session *s, int i, void *data, size_t nbytes) {
    if (!session_ok(s)) return ONYX_MISUSE;
    onyxi_err_clear(&s->err);
    if (i < 0 || i >= s->g->n_outputs)
        return done(s, onyxi_fail(&s->err, ONYX_INVALID_ARG, "output index %d is out of range "
                                  "(the model has %d outputs)", i, s->g->n_outputs));
    s->out_bind[i].data = data;
    s->out_bind[i].nbytes = data ? nbytes : 0;
    return done(s, ONYX_OK);
}

onyx_status onyx_session_run(onyx_session *s) {
    if (!session_ok(s)) return ONYX_MISUSE;
    return done(s, onyxi_session_run(s));
}

onyx_status onyx_session_prepare(onyx_session *s) {
    if (!session_ok(s)) return ONYX_MISUSE;
    return done(s, onyxi_session_prepare(s));
}

const onyx_tensor *onyx_session_output(const onyx_session *s, int i) {
    if (!session_ok(s) || i < 0 || i >= s->g->n_outputs) return NULL;
    return &s->vals[s->g->outputs[i]];
}

size_t onyx_session_arena_bytes(const onyx_session *s) {
    return session_ok(s) ? s->arena_bytes : 0;
}

size_t onyx_session_intermediate_bytes(const onyx_session *s) {
    return session_ok(s) ? s->intermediate_bytes : 0;
}
