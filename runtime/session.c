/*
 * Planning and execution. A plan is made for one set of input shapes (and for the data of
 * any input that shapes the graph, such as Resize's sizes fed as a graph input):
 *   reset tensors -> per node in order: infer, fold when every input is constant
 *   -> lifetimes -> arena placement (plan.c) -> choose and init each step's implementation.
 * A run only points inputs/outputs at caller memory and calls each step's run: no malloc.
 */
#define _POSIX_C_SOURCE 200809L /* sysconf */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "consts.h"
#include "log.h"
#include "passes.h"
#include "plan.h"
#include "reorder.h"
#include "select.h"
#include "session.h"
#include "weights.h"

/* Threads when the options say 0: OpenMP's default (OMP_NUM_THREADS or the core count). */
static int default_threads(void) {
#ifdef _OPENMP
    int n = omp_get_max_threads();
    return n > 0 ? n : 1;
#else
    return 1;
#endif
}

/* Trace process ids: one per session, unique within the process. */
static atomic_int next_trace_pid = 1;

/* The machine's physical memory: the default ceiling of a plan. */
static size_t physical_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return SIZE_MAX;
    return (uint64_t)pages > SIZE_MAX / (uint64_t)page ? SIZE_MAX : (size_t)pages * (size_t)page;
}

/* Counts bytes against the session's memory limit before they are allocated. */
static onyx_status reserve_bytes(onyx_session *s, size_t bytes, const char *what) {
    size_t total;
    if (!onyxi_add_size(s->planned_bytes, bytes, &total) || total > s->memory_limit)
        return onyxi_fail(&s->err, ONYX_NOMEM,
                          "%s needs %zu bytes, which would take the plan past the session's "
                          "memory limit of %zu bytes",
                          what, bytes, s->memory_limit);
    s->planned_bytes = total;
    return ONYX_OK;
}

/* Zero-byte tensors need a valid, never dereferenced address. */
static _Alignas(64) unsigned char empty_tensor_storage[64];

static void fail_node(onyx_session *s, int node) {
    char label[256];
    onyxi_node_label(s->g, node, label, sizeof label);
    onyxi_err_prefix(&s->err, "%s: ", label);
}

onyx_status onyxi_session_init(onyx_session *s, onyx_model *m, const onyx_options *o) {
    const onyxi_graph *g = m->graph;
    onyxi_model_retain(m);
    s->model = m;
    s->g = g;
    s->num_threads = o ? o->num_threads : 0;
    s->backend = o ? o->backend : ONYX_BACKEND_AUTO;
    s->memory_limit = o && o->memory_limit ? o->memory_limit : physical_memory();
    s->profiling = o ? o->profiling : 0;
    /* the environment sets the default (so whole test suites can run either way); options
     * that set the selection win */
    const char *sel = getenv("ONYX_KERNEL_SELECTION");
    s->select_measure = !(sel && strcmp(sel, "static") == 0);
    if (o && o->selection_set) s->select_measure = o->selection == ONYX_SELECT_MEASURE;
    const char *own = getenv("ONYX_OWN_KERNELS");
    s->own_kernels = !(own && strcmp(own, "0") == 0);
    s->trace_pid = atomic_fetch_add(&next_trace_pid, 1);
    /* memory sharing (in-place outputs, zero-copy Concat) can be turned off for debugging */
    const char *off = getenv("ONYX_DISABLE_PASSES");
    s->no_aliasing = off && (strstr(off, "all") || strstr(off, "alias"));
    const char *env = getenv("ONYX_BACKEND");
    if (env && (strcmp(env, "ref") == 0 || strcmp(env, "reference") == 0))
        s->backend = ONYX_BACKEND_REFERENCE;
    /* every node input may need a plain copy of a blocked tensor (a reorder step) */
    for (int i = 0; i < g->n_nodes; i++) s->temp_capacity += g->nodes[i].n_inputs;
    size_t nv = (size_t)g->n_values + (size_t)s->temp_capacity + 1;
    s->vals = onyxi_calloc(nv, sizeof *s->vals);
    s->arena_ptr = onyxi_calloc(nv, sizeof *s->arena_ptr);
    s->is_const = onyxi_calloc(nv, 1);
    s->folded = onyxi_calloc(nv, sizeof *s->folded);
    s->in_bind = onyxi_calloc((size_t)g->n_inputs + 1, sizeof *s->in_bind);
    s->out_bind = onyxi_calloc((size_t)g->n_outputs + 1, sizeof *s->out_bind);
    s->planned_inputs = onyxi_calloc((size_t)g->n_inputs + 1, sizeof *s->planned_inputs);
    s->input_snapshot = onyxi_calloc((size_t)g->n_inputs + 1, sizeof *s->input_snapshot);
    if (!s->vals || !s->arena_ptr || !s->is_const || !s->folded || !s->in_bind || !s->out_bind ||
        !s->planned_inputs || !s->input_snapshot)
        return onyxi_fail(&s->err, ONYX_NOMEM, "out of memory creating the session");
    if (s->backend == ONYX_BACKEND_AUTO) {
        s->dnnl.threads = s->num_threads > 0 ? s->num_threads : default_threads();
        onyx_status rc = onyxi_dnnl_engine(&s->dnnl.engine, &s->err);
        if (rc == ONYX_OK)
            rc = onyxi_dnnl_check(dnnl_stream_create(&s->dnnl.stream, s->dnnl.engine,
                                                     dnnl_stream_default_flags),
                                  "dnnl_stream_create", &s->err);
        if (rc != ONYX_OK) return rc;
        s->has_backend = 1;
    }
    for (int v = 0; v < g->n_values; v++) {
        s->vals[v].name = g->values[v].name;
        s->vals[v].rank = -1;
    }
    return ONYX_OK;
}

static void release_plan(onyx_session *s) {
    for (int i = 0; i < s->n_steps && s->steps; i++) {
        onyxi_step *st = &s->steps[i];
        if (st->initialized && st->impl->fini) st->impl->fini(&st->x);
        st->initialized = 0;
    }
    onyxi_consts_plan_release(s->model->consts, s); /* constants its kernels read */
    onyxi_free(s->steps);
    onyxi_free(s->io_in);
    onyxi_free(s->io_out);
    onyxi_free(s->arena);
    onyxi_free(s->records);
    onyxi_profile_free(s->prof);
    s->records = NULL;
    s->n_records = 0;
    s->prof = NULL;
    s->steps = NULL;
    s->io_in = NULL;
    s->io_out = NULL;
    s->arena = NULL;
    s->n_steps = 0;
    onyxi_free(s->scratch);
    s->scratch = NULL;
    s->scratch_bytes = 0;
    for (int v = 0; v < s->g->n_values + s->n_temps && s->folded && s->arena_ptr; v++) {
        onyxi_free(s->folded[v]);
        s->folded[v] = NULL;
        s->arena_ptr[v] = NULL;
    }
    for (int i = 0; i < s->g->n_inputs && s->input_snapshot; i++) {
        onyxi_free(s->input_snapshot[i]);
        s->input_snapshot[i] = NULL;
    }
    s->n_temps = 0;
    s->arena_bytes = s->intermediate_bytes = 0;
    s->planned_bytes = 0;
    s->select_ns = 0;
    onyxi_free(s->sel_pool);
    s->sel_pool = NULL;
    s->sel_pool_bytes = 0;
    s->sel_pool_node = -1;
    s->planned = 0;
}

void onyxi_session_destroy(onyx_session *s) {
    if (s->g) release_plan(s); /* copes with tables missing after a failed init */
    onyxi_free(s->vals);
    onyxi_free(s->arena_ptr);
    onyxi_free(s->is_const);
    onyxi_free(s->folded);
    onyxi_free(s->in_bind);
    onyxi_free(s->out_bind);
    onyxi_free(s->planned_inputs);
    onyxi_free(s->input_snapshot);
    if (s->dnnl.stream) dnnl_stream_destroy(s->dnnl.stream);
    s->dnnl.stream = NULL;
    if (s->model) onyxi_model_release(s->model);
    s->model = NULL;
}

/* Every value back to "unknown", then initializers and bound inputs filled in. */
static void reset_values(onyx_session *s) {
    const onyxi_graph *g = s->g;
    for (int v = 0; v < g->n_values; v++) {
        const onyxi_value *gv = &g->values[v];
        onyx_tensor *t = &s->vals[v];
        memset(t, 0, sizeof *t);
        t->name = gv->name;
        t->rank = -1;
        s->is_const[v] = 0;
        if (gv->flags & ONYXI_VALUE_INITIALIZER) {
            *t = gv->info;
            t->name = gv->name;
            t->owns_data = t->owns_name = 0;
            if (!t->data) t->data = empty_tensor_storage;
            s->is_const[v] = 1;
        }
    }
    for (int i = 0; i < g->n_inputs; i++) {
        onyx_tensor *t = &s->vals[g->inputs[i]];
        const onyxi_input_binding *b = &s->in_bind[i];
        const onyx_tensor *decl = &g->values[g->inputs[i]].info;
        t->dtype = b->bound ? b->shape.dtype : decl->dtype;
        t->rank = b->bound ? b->shape.rank : decl->rank;
        memcpy(t->dims, b->bound ? b->shape.dims : decl->dims, sizeof t->dims);
        t->data = b->bound ? (void *)b->data : NULL;
        t->nbytes = b->bound ? b->nbytes : 0;
        if (b->bound && !t->data) t->data = empty_tensor_storage;
    }
}

static int graph_input_index(const onyxi_graph *g, int value) {
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i] == value) return i;
    return -1;
}

/* Output k of a node after infer: a known dtype and shape, and its byte size. */
static onyx_status finish_output(onyx_session *s, onyx_tensor *t) {
    char buf[160];
    if (!onyxi_dtype_known(t->dtype) || t->dtype == ONYX_DTYPE_STRING)
        return onyxi_fail(&s->err, ONYX_INTERNAL, "output '%s' has no dtype after inference",
                          t->name);
    if (t->rank < 0 || t->rank > ONYXI_MAX_RANK || onyxi_shape_count(t->rank, t->dims) == -1)
        return onyxi_fail(&s->err, ONYX_INTERNAL, "output '%s' has unknown shape %s", t->name,
                          onyxi_shape_str(t->rank, t->dims, buf, sizeof buf));
    return onyxi_shape_nbytes(t->dtype, t->rank, t->dims, &t->nbytes, &s->err);
}

/* Runs one node with its reference implementation at plan time (constant folding). */
static onyx_status fold_node(onyx_session *s, const onyxi_node *nd, const onyx_tensor **ins,
                             onyx_tensor **outs) {
    const onyxi_impl *ref = NULL;
    for (int i = 0; nd->op->impls[i]; i++) ref = nd->op->impls[i];
    for (int k = 0; k < nd->n_outputs; k++) {
        int v = nd->outputs[k];
        if (v < 0) continue;
        char what[160];
        snprintf(what, sizeof what, "constant '%s'", s->vals[v].name);
        ONYXI_CHECK(reserve_bytes(s, s->vals[v].nbytes, what));
        s->folded[v] = onyxi_malloc(s->vals[v].nbytes ? s->vals[v].nbytes : 1);
        if (!s->folded[v]) return onyxi_fail(&s->err, ONYX_NOMEM, "out of memory folding a constant");
        s->vals[v].data = s->folded[v];
        s->is_const[v] = 1;
    }
    onyxi_exec x = {.node = nd, .n_in = nd->n_inputs, .in = ins, .n_out = nd->n_outputs,
                    .out = outs, .num_threads = 1, .err = &s->err};
    size_t old_cap = onyxi_alloc_set_cap(s->memory_limit > s->planned_bytes
                                             ? s->memory_limit - s->planned_bytes
                                             : 1);
    onyx_status rc = ref->init ? ref->init(&x) : ONYX_OK;
    onyxi_alloc_set_cap(old_cap);
    if (rc == ONYX_OK) rc = ref->run(&x);
    if (ref->fini) ref->fini(&x);
    if (rc == ONYX_OK && onyxi_log_enabled(ONYX_LOG_DEBUG)) {
        char label[256];
        onyxi_node_label(s->g, (int)(nd - s->g->nodes), label, sizeof label);
        onyxi_log(ONYX_LOG_DEBUG, "%s: folded into a constant (%zu bytes)", label,
                  nd->n_outputs > 0 && outs[0] ? outs[0]->nbytes : (size_t)0);
    }
    return rc;
}

/* OpenMP's thread count for this session, set around planning and runs: oneDNN fixes a
 * primitive's threads when it is created, and reads the count of the calling thread. */
static int enter_threads(const onyx_session *s) {
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    if (s->has_backend) omp_set_num_threads(s->dnnl.threads);
    return saved;
#else
    (void)s;
    return 1;
#endif
}

static void leave_threads(const onyx_session *s, int saved) {
#ifdef _OPENMP
    if (s->has_backend) omp_set_num_threads(saved);
#else
    (void)s;
    (void)saved;
#endif
}

/* Appends to steps[*n] a reorder of *slot (a blocked tensor) into a new plain temp tensor, and
 * points *slot at the temp. The step is initialized. */
static onyx_status add_reorder(onyx_session *s, onyxi_step *steps, int *n, int node,
                               const onyx_tensor **slot) {
    if (s->n_temps >= s->temp_capacity)
        return onyxi_fail(&s->err, ONYX_INTERNAL, "no room for another reorder");
    const onyx_tensor *src = *slot;
    onyx_tensor *t = &s->vals[s->g->n_values + s->n_temps++];
    *t = (onyx_tensor){.name = src->name, .dtype = src->dtype, .rank = src->rank};
    memcpy(t->dims, src->dims, sizeof t->dims);
    ONYXI_CHECK(onyxi_shape_nbytes(t->dtype, t->rank, t->dims, &t->nbytes, &s->err));
    onyxi_step *st = &steps[(*n)++];
    memset(st, 0, sizeof *st);
    st->node = node;
    st->own_in[0] = src;
    st->own_out[0] = t;
    st->x = (onyxi_exec){.node = &s->g->nodes[node], .n_in = 1, .in = st->own_in, .n_out = 1,
                         .out = st->own_out, .num_threads = s->dnnl.threads, .err = &s->err,
                         .backend = &s->dnnl};
    st->impl = &onyxi_reorder_to_plain;
    ONYXI_CHECK(st->impl->init(&st->x));
    st->initialized = 1;
    *slot = t;
    return ONYX_OK;
}

/* Undoes add_reorder calls back to `mark` steps and `temps` temps. */
static void drop_reorders(onyx_session *s, onyxi_step *steps, int *n, int mark, int temps) {
    while (*n > mark) {
        onyxi_step *st = &steps[--(*n)];
        if (st->initialized && st->impl->fini) st->impl->fini(&st->x);
        st->initialized = 0;
    }
    s->n_temps = temps;
}

/* ---- choosing each step's implementation ---------------------------------------------------
 * Static selection takes the first implementation in the op's list whose init accepts the
 * node. Measured selection (the default, DESIGN.md "Beat oneDNN where it is weak here") builds
 * every accepting candidate — each implementation, and each variant of one that has several
 * (oneDNN's alternative kernels, its Winograd convolution) — times them on temporary buffers
 * of the node's real shapes and keeps the fastest. The reference kernel is timed only when
 * nothing else accepts: it is 10-100x slower, so timing it would only lengthen planning. The
 * ranking goes into the model's choice cache (select.h), which later sessions, re-plans and
 * identical nodes reuse without timing. */

#define SELECT_MAX_VARIANTS 8       /* variants tried per implementation */
#define SELECT_MAX_OUTS 32          /* nodes with more outputs are not measured */
#define SELECT_NODE_CAP_NS 20000000 /* after 20 ms of runs on one node, no second runs */
#define SELECT_MAX_TENSORS 160      /* distinct tensors one timed range may touch */

/* 1 for an implementation of our own: neither oneDNN nor the reference kernel (ONYX_OWN_KERNELS=0
 * leaves them out, for "oneDNN only" comparisons). */
static int is_own_kernel(const onyxi_op *op, int i) {
    const onyxi_impl *impl = op->impls[i];
    return op->impls[i + 1] != NULL && strcmp(impl->name, "dnnl") != 0 &&
           strcmp(impl->name, "ref") != 0;
}

/* Whether implementation i of op may run in this session at all. */
static int impl_allowed(const onyx_session *s, const onyxi_op *op, int i) {
    int is_ref = op->impls[i + 1] == NULL;
    if (s->backend == ONYX_BACKEND_REFERENCE && !is_ref) return 0;
    if (onyxi_impl_takes_blocked(op->impls[i]) && !s->has_backend) return 0;
    if (!s->own_kernels && is_own_kernel(op, i)) return 0;
    return 1;
}

/* Outputs a failed or set-aside attempt may have given a blocked layout go back to plain. */
static void outputs_to_plain(const onyxi_exec *x) {
    for (int k = 0; k < x->n_out; k++)
        if (x->out[k] && x->out[k]->layout) {
            x->out[k]->layout = NULL;
            onyxi_shape_nbytes(x->out[k]->dtype, x->out[k]->rank, x->out[k]->dims,
                               &x->out[k]->nbytes, NULL);
        }
}

/* Adds reorders to plain for the blocked inputs of a plain-only implementation (ins is the
 * step's input array, re-pointed at the plain copies). */
static onyx_status add_input_reorders(onyx_session *s, onyxi_step *steps, int *n, int node,
                                      const onyx_tensor **ins, int n_in) {
    for (int k = 0; k < n_in; k++)
        if (ins[k] && ins[k]->layout) ONYXI_CHECK(add_reorder(s, steps, n, node, &ins[k]));
    return ONYX_OK;
}

static void log_choice(onyx_session *s, const onyxi_step *st, const char *how) {
    if (!onyxi_log_enabled(ONYX_LOG_DEBUG)) return;
    char label[256];
    onyxi_node_label(s->g, st->node, label, sizeof label);
    onyxi_log(ONYX_LOG_DEBUG, "%s: implementation '%s'%s%s%s (%s)", label, st->impl->name,
              st->x.detail ? " (" : "", st->x.detail ? st->x.detail : "",
              st->x.detail ? ")" : "", how);
}

/* The step is in steps[*n], initialized: records its output layout and counts it. */
static void commit_step(onyx_session *s, onyxi_step *steps, int *n, const char *how) {
    onyxi_step *st = &steps[*n];
    st->initialized = 1;
    st->layout = st->x.n_out > 0 && st->x.out[0] && st->x.out[0]->layout
                     ? onyxi_dnnl_layout_name(st->x.out[0]->layout)
                     : NULL;
    (*n)++;
    log_choice(s, st, how);
}

/* Inits variant `variant` of impl for step p straight into steps[*n] (after any reorders it
 * needs) and commits it. ONYX_UNSUPPORTED (or another error) leaves everything as it was;
 * *more reports x.more_variants. */
static onyx_status try_commit(onyx_session *s, const onyxi_step *p, onyxi_step *steps, int *n,
                              const onyxi_impl *impl, int variant, const char *how, int *more) {
    const onyx_tensor **ins = (const onyx_tensor **)p->x.in;
    const onyx_tensor *orig[64];
    int n_in = p->x.n_in < 64 ? p->x.n_in : 64;
    for (int k = 0; k < n_in; k++) orig[k] = ins[k];
    int mark = *n, temps = s->n_temps;
    onyxi_err_clear(&s->err);
    /* a kernel's own buffers count against what is left of the memory limit */
    size_t old_cap = onyxi_alloc_set_cap(s->memory_limit > s->planned_bytes
                                             ? s->memory_limit - s->planned_bytes
                                             : 1);
    onyx_status rc = ONYX_OK;
    if (!onyxi_impl_takes_blocked(impl)) rc = add_input_reorders(s, steps, n, p->node, ins, n_in);
    onyxi_step *st = &steps[*n];
    *st = *p;
    st->x.state = NULL;
    st->x.variant = variant;
    st->x.more_variants = 0;
    if (rc == ONYX_OK) rc = impl->init ? impl->init(&st->x) : ONYX_OK;
    onyxi_alloc_set_cap(old_cap);
    if (more) *more = st->x.more_variants;
    if (rc == ONYX_OK) {
        st->impl = impl;
        commit_step(s, steps, n, how);
        return ONYX_OK;
    }
    if (impl->fini) impl->fini(&st->x);
    st->x.state = NULL;
    outputs_to_plain(&st->x);
    drop_reorders(s, steps, n, mark, temps);
    for (int k = 0; k < n_in; k++) ins[k] = orig[k];
    return rc;
}

/* Static selection: the first implementation whose init accepts the node (the reference one
 * last), at its default variant. */
static onyx_status choose_first(onyx_session *s, const onyxi_step *p, onyxi_step *steps, int *n) {
    const onyxi_op *op = s->g->nodes[p->node].op;
    onyx_status rc = ONYX_UNSUPPORTED;
    for (int i = 0; op->impls[i]; i++) {
        if (!impl_allowed(s, op, i)) continue;
        rc = try_commit(s, p, steps, n, op->impls[i], 0, "first accepting", NULL);
        if (rc == ONYX_OK) return ONYX_OK;
        if (rc != ONYX_UNSUPPORTED || op->impls[i + 1] == NULL) break;
    }
    if (s->err.code == ONYX_OK) onyxi_fail(&s->err, rc, "no implementation accepts this node");
    return rc;
}

/* ---- the choice cache key: everything a measurement depended on ---- */

typedef struct sel_key {
    unsigned char buf[2048];
    size_t len;
    uint64_t overflow; /* hash of whatever did not fit */
    int spilled;
} sel_key;

static void key_add(sel_key *k, const void *p, size_t n) {
    if (!k->spilled && n <= sizeof k->buf - k->len) {
        memcpy(k->buf + k->len, p, n);
        k->len += n;
        return;
    }
    k->spilled = 1;
    k->overflow = onyxi_fnv(k->overflow, p, n);
}

static void key_int(sel_key *k, int64_t v) { key_add(k, &v, sizeof v); }

static void key_str(sel_key *k, const char *str) {
    size_t n = str ? strlen(str) : 0;
    key_int(k, (int64_t)n);
    if (n) key_add(k, str, n);
}

/* A blocked layout's identity (0 for plain): the fields that say where each element is, not
 * the whole descriptor, whose other fields may differ between producers of the same layout. */
static uint64_t layout_hash(const void *layout) {
    if (!layout) return 0;
    const dnnl_memory_desc_t *md = layout;
    uint64_t h = ONYXI_FNV_START;
    int nd = md->ndims > 0 && md->ndims <= DNNL_MAX_NDIMS ? md->ndims : 0;
    h = onyxi_fnv(h, &md->ndims, sizeof md->ndims);
    h = onyxi_fnv(h, md->dims, (size_t)nd * sizeof md->dims[0]);
    h = onyxi_fnv(h, md->padded_dims, (size_t)nd * sizeof md->padded_dims[0]);
    h = onyxi_fnv(h, &md->data_type, sizeof md->data_type);
    h = onyxi_fnv(h, &md->format_kind, sizeof md->format_kind);
    h = onyxi_fnv(h, &md->offset0, sizeof md->offset0);
    if (md->format_kind == dnnl_blocked) {
        const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
        int nb = b->inner_nblks > 0 && b->inner_nblks <= DNNL_MAX_NDIMS ? b->inner_nblks : 0;
        h = onyxi_fnv(h, b->strides, (size_t)nd * sizeof b->strides[0]);
        h = onyxi_fnv(h, &b->inner_nblks, sizeof b->inner_nblks);
        h = onyxi_fnv(h, b->inner_blks, (size_t)nb * sizeof b->inner_blks[0]);
        h = onyxi_fnv(h, b->inner_idxs, (size_t)nb * sizeof b->inner_idxs[0]);
    } else {
        h = onyxi_fnv(h, md, sizeof *md); /* other kinds: the whole descriptor */
    }
    return h;
}

/* The problem step p poses: op, attributes, fused chain, inputs as planned (dtype, shape,
 * layout, constness), output layouts allowed, threads and which kernels may take part. Two
 * nodes with equal keys are timed alike, so they share one measurement. */
static void build_key(const onyx_session *s, const onyxi_step *p, sel_key *k) {
    const onyxi_node *nd = p->x.node;
    memset(k, 0, sizeof *k);
    k->overflow = ONYXI_FNV_START;
    key_add(k, &nd->op, sizeof nd->op);
    key_str(k, nd->op_type);
    key_int(k, s->dnnl.threads);
    key_int(k, s->num_threads);
    key_int(k, s->has_backend);
    key_int(k, s->own_kernels);
    key_int(k, p->x.blocked_ok);
    key_int(k, p->x.const_inputs);
    for (int a = 0; a < nd->n_attrs; a++) {
        const onyxi_attr *at = &nd->attrs[a];
        key_str(k, at->name);
        key_int(k, at->type);
        key_add(k, &at->f, sizeof at->f);
        key_int(k, at->i);
        key_int(k, (int64_t)at->s_len);
        if (at->s_len) key_add(k, at->s, at->s_len);
        key_int(k, at->count);
        if (at->ints && at->count > 0) key_add(k, at->ints, (size_t)at->count * sizeof *at->ints);
        if (at->floats && at->count > 0)
            key_add(k, at->floats, (size_t)at->count * sizeof *at->floats);
        for (int i = 0; at->strings && i < at->count; i++) key_str(k, at->strings[i]);
        if (at->t) {
            key_int(k, at->t->dtype);
            key_int(k, at->t->rank);
            if (at->t->rank > 0) key_add(k, at->t->dims, (size_t)at->t->rank * sizeof(int64_t));
            uint64_t h = at->t->data ? onyxi_fnv(ONYXI_FNV_START, at->t->data, at->t->nbytes) : 0;
            key_int(k, (int64_t)h);
        }
    }
    if (nd->fusion) {
        key_int(k, nd->fusion->n_post);
        for (int i = 0; i < nd->fusion->n_post; i++) {
            const onyxi_post_op *po = &nd->fusion->post[i];
            key_int(k, po->kind);
            key_add(k, &po->alpha, sizeof po->alpha);
            key_add(k, &po->beta, sizeof po->beta);
            key_int(k, po->input);
        }
    }
    for (int i = 0; i < p->x.n_in; i++) {
        const onyx_tensor *t = p->x.in[i];
        key_int(k, t ? (int64_t)t->dtype : -1);
        if (!t) continue;
        key_int(k, t->rank);
        if (t->rank > 0) key_add(k, t->dims, (size_t)t->rank * sizeof t->dims[0]);
        key_int(k, (int64_t)layout_hash(t->layout));
    }
    key_int(k, p->x.n_out);
    if (k->spilled) key_add(k, &k->overflow, sizeof k->overflow); /* spilled: appends the hash */
}

/* ---- timing ---- */

/* A candidate set aside between its init and the decision: its main step with live state
 * (any reorders it needs are rebuilt around each timing and for the winner). */
typedef struct sel_cand {
    onyxi_step st;
    int plain;                           /* takes plain inputs only */
    onyxi_weight_cache *weights;         /* owned: what its init packed */
    const void *out_layout[SELECT_MAX_OUTS];
    size_t out_nbytes[SELECT_MAX_OUTS];
    int64_t ns; /* fastest run; INT64_MAX until timed (or when its run failed) */
    int runs;   /* timed runs so far */
} sel_cand;

static void cand_fini(sel_cand *c) {
    if (c->st.initialized && c->st.impl->fini) c->st.impl->fini(&c->st.x);
    c->st.initialized = 0;
    onyxi_weights_free(c->weights);
    c->weights = NULL;
}

static void cand_outputs_load(const sel_cand *c) {
    const onyxi_exec *x = &c->st.x;
    for (int k = 0; k < x->n_out && k < SELECT_MAX_OUTS; k++)
        if (x->out[k]) {
            x->out[k]->layout = c->out_layout[k];
            x->out[k]->nbytes = c->out_nbytes[k];
        }
}

/* Bytes a timed run may touch in t: a graph input is not bound yet when the session plans at
 * creation (nbytes 0), so its shape tells; a blocked layout's padding counts in nbytes. */
static size_t timing_bytes(const onyx_tensor *t) {
    size_t n = 0;
    if (onyxi_shape_nbytes(t->dtype, t->rank, t->dims, &n, NULL) != ONYX_OK) n = 0;
    return t->nbytes > n ? t->nbytes : n;
}

/* Seeded small random floats (other types zero): what timed runs read. */
static void fill_random(void *data, const onyx_tensor *t, size_t nbytes, uint64_t *state) {
    if (t->dtype != ONYX_DTYPE_FLOAT32) {
        memset(data, 0, nbytes);
        return;
    }
    float *f = data;
    for (size_t i = 0; i < nbytes / sizeof(float); i++) {
        *state = *state * 6364136223846793005ull + 1442695040888963407ull;
        f[i] = (float)((int)(*state >> 40 & 0xffff) - 32768) / 32768.0f;
    }
}

typedef struct sel_tensor {
    onyx_tensor *t;
    void *saved; /* its data pointer before timing */
    void *buf;   /* its offset in the timing buffer */
    int written; /* a step of the range writes it */
} sel_tensor;

/* Index of t in list (adding it when absent); -1 when the list is full. */
static int note_tensor(sel_tensor *list, int *n, const onyx_tensor *t, int written) {
    for (int i = 0; i < *n; i++)
        if (list[i].t == t) {
            list[i].written |= written;
            return i;
        }
    if (*n >= SELECT_MAX_TENSORS) return -1;
    list[*n] = (sel_tensor){(onyx_tensor *)t, t->data, NULL, written};
    return (*n)++;
}

/* The timing buffer: one block reused by every timed candidate of a plan (freed when the
 * plan's kernels are chosen), so runs do not pay for fresh pages. Holds at least bytes;
 * *fresh is set when it was (re)allocated: its contents are then zero. */
static void *timing_pool(onyx_session *s, size_t bytes, int *fresh) {
    *fresh = 0;
    if (s->sel_pool && s->sel_pool_bytes >= bytes) return s->sel_pool;
    onyxi_free(s->sel_pool);
    s->sel_pool_bytes = 0;
    if (!(s->sel_pool = onyxi_malloc(bytes ? bytes : 1))) return NULL;
    memset(s->sel_pool, 0, bytes); /* touched now, not inside a timed run */
    s->sel_pool_bytes = bytes;
    *fresh = 1;
    return s->sel_pool;
}

static size_t align_up(size_t n) { return (n + ONYXI_ALIGN - 1) / ONYXI_ALIGN * ONYXI_ALIGN; }

/* Runs steps[a..b) (reorders, then the candidate) once on the timing buffer: non-constant
 * inputs hold seeded random data (filled once per node), everything written gets room of its
 * own, and the scratch is as big as the steps ask. The buffer's pages are touched when it is
 * made, so no warm-up run is needed to take page faults out of the time. *ns becomes the
 * fastest of its runs so far (INT64_MAX when a run failed: the candidate is dropped); *spent
 * adds the run. ONYX_UNSUPPORTED when the buffers would break the session's memory limit. */
static onyx_status time_range(onyx_session *s, onyxi_step *steps, int a, int b, int node,
                              int64_t *spent, int64_t *ns) {
    sel_tensor list[SELECT_MAX_TENSORS];
    int n = 0;
    size_t scratch = 0, total = 0;
    for (int i = a; i < b; i++) {
        const onyxi_exec *x = &steps[i].x;
        for (int k = 0; k < x->n_in; k++)
            if (x->in[k] && note_tensor(list, &n, x->in[k], 0) < 0) return ONYX_UNSUPPORTED;
        for (int k = 0; k < x->n_out; k++)
            if (x->out[k] && note_tensor(list, &n, x->out[k], 1) < 0) return ONYX_UNSUPPORTED;
        if (x->scratch_bytes > scratch) scratch = x->scratch_bytes;
    }
    /* read-only inputs first, so that they keep their place (and data) across candidates */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            int v = (int)(list[i].t - s->vals);
            if (s->is_const[v] || list[i].written != pass) continue;
            list[i].buf = (void *)(uintptr_t)total; /* an offset until the pool is known */
            if (!onyxi_add_size(total, align_up(timing_bytes(list[i].t)), &total))
                return ONYX_UNSUPPORTED;
        }
    size_t scratch_off = total;
    if (!onyxi_add_size(total, align_up(scratch), &total) || s->planned_bytes > s->memory_limit ||
        total > s->memory_limit - s->planned_bytes)
        return ONYX_UNSUPPORTED;
    int fresh = 0;
    unsigned char *pool = timing_pool(s, total, &fresh);
    if (!pool) return onyxi_fail(&s->err, ONYX_NOMEM, "out of memory timing kernels");
    int refill = fresh || s->sel_pool_node != node;
    s->sel_pool_node = node;
    uint64_t seed = 0x5eed;
    for (int i = 0; i < n; i++) {
        onyx_tensor *t = list[i].t;
        if (s->is_const[(int)(t - s->vals)]) continue; /* initializers, folded values */
        t->data = pool + (size_t)(uintptr_t)list[i].buf;
        if (refill && !list[i].written) fill_random(t->data, t, timing_bytes(t), &seed);
    }
    for (int i = a; i < b; i++) steps[i].x.scratch = scratch ? pool + scratch_off : NULL;
    int64_t t0 = onyxi_now_ns();
    onyx_status r = ONYX_OK;
    for (int i = a; i < b && r == ONYX_OK; i++) r = steps[i].impl->run(&steps[i].x);
    int64_t dt = onyxi_now_ns() - t0;
    *spent += dt;
    if (r != ONYX_OK) { /* e.g. data the random inputs make invalid: not a candidate */
        *ns = INT64_MAX;
        onyxi_err_clear(&s->err);
    } else if (dt < *ns) {
        *ns = dt;
    }
    for (int i = a; i < b; i++) steps[i].x.scratch = NULL;
    for (int i = 0; i < n; i++) list[i].t->data = list[i].saved;
    return ONYX_OK;
}

/* Builds variant `variant` of impl for p as a set-aside candidate *c (weights packed into a
 * cache of its own). Steps, temps, inputs and outputs are as before on return. */
static onyx_status build_cand(onyx_session *s, const onyxi_step *p, onyxi_step *steps, int n,
                              const onyxi_impl *impl, int variant, sel_cand *c, int *more) {
    memset(c, 0, sizeof *c);
    c->ns = INT64_MAX;
    c->plain = !onyxi_impl_takes_blocked(impl);
    if (!(c->weights = onyxi_weights_create_child(s->model->weights)))
        return onyxi_fail(&s->err, ONYX_NOMEM, "out of memory choosing a kernel");
    onyxi_step q = *p;
    q.x.weights = c->weights;
    int at = n;
    onyx_status rc = try_commit(s, &q, steps, &at, impl, variant, "candidate", more);
    if (rc != ONYX_OK) {
        onyxi_weights_free(c->weights);
        c->weights = NULL;
        return rc;
    }
    /* set it aside: the step (state and all) moves into c, reorders are undone */
    c->st = steps[at - 1];
    const onyxi_exec *x = &c->st.x;
    for (int k = 0; k < x->n_out && k < SELECT_MAX_OUTS; k++)
        if (x->out[k]) {
            c->out_layout[k] = x->out[k]->layout;
            c->out_nbytes[k] = x->out[k]->nbytes;
        }
    outputs_to_plain(x);
    const onyx_tensor **ins = (const onyx_tensor **)p->x.in;
    int temps = s->n_temps, mark = at - 1;
    /* the reorders sit right before the step: their outputs are what ins points at now */
    for (int i = n; i < mark; i++) {
        const onyx_tensor *plain_copy = steps[i].own_out[0];
        for (int k = 0; k < p->x.n_in; k++)
            if (ins[k] == plain_copy) ins[k] = steps[i].own_in[0];
        temps--;
    }
    drop_reorders(s, steps, &mark, n, temps);
    return ONYX_OK;
}

/* Times candidate c once more (c->ns: its fastest run): rebuilds its reorders in steps[n..],
 * puts its step after them, runs. A candidate whose run failed is not run again. */
static onyx_status time_cand(onyx_session *s, const onyxi_step *p, onyxi_step *steps, int n,
                             sel_cand *c, int64_t *spent) {
    if (c->runs > 0 && c->ns == INT64_MAX) return ONYX_OK;
    c->runs++;
    const onyx_tensor **ins = (const onyx_tensor **)p->x.in;
    const onyx_tensor *orig[64];
    int n_in = p->x.n_in < 64 ? p->x.n_in : 64;
    for (int k = 0; k < n_in; k++) orig[k] = ins[k];
    int at = n, temps = s->n_temps;
    onyx_status rc = c->plain ? add_input_reorders(s, steps, &at, p->node, ins, n_in) : ONYX_OK;
    if (rc == ONYX_OK) {
        steps[at] = c->st;
        cand_outputs_load(c);
        rc = time_range(s, steps, n, at + 1, p->node, spent, &c->ns);
        outputs_to_plain(&c->st.x);
    }
    drop_reorders(s, steps, &at, n, temps);
    for (int k = 0; k < n_in; k++) ins[k] = orig[k];
    return rc;
}

/* Makes the set-aside winner step p's step: its reorders, then its step, in steps[*n..]. */
static onyx_status commit_cand(onyx_session *s, const onyxi_step *p, onyxi_step *steps, int *n,
                               sel_cand *c, const char *how) {
    const onyx_tensor **ins = (const onyx_tensor **)p->x.in;
    const onyx_tensor *orig[64];
    int n_in = p->x.n_in < 64 ? p->x.n_in : 64;
    for (int k = 0; k < n_in; k++) orig[k] = ins[k];
    int mark = *n, temps = s->n_temps;
    onyx_status rc = c->plain ? add_input_reorders(s, steps, n, p->node, ins, n_in) : ONYX_OK;
    if (rc != ONYX_OK) {
        drop_reorders(s, steps, n, mark, temps);
        for (int k = 0; k < n_in; k++) ins[k] = orig[k];
        return rc;
    }
    steps[*n] = c->st;
    steps[*n].x.weights = s->model->weights;
    c->st.initialized = 0; /* the state now belongs to the step */
    onyxi_weights_merge(s->model->weights, c->weights);
    cand_outputs_load(c);
    commit_step(s, steps, n, how);
    return ONYX_OK;
}

/* 1 when a and b are within 10% of each other. */
static int close_call(int64_t a, int64_t b) {
    if (a == INT64_MAX || b == INT64_MAX) return 0;
    int64_t lo = a < b ? a : b, hi = a < b ? b : a;
    return hi - lo <= lo / 10;
}

/* Measured selection for step p (see the section comment); runs under the model's measuring
 * lock (onyxi_select_lock). */
static onyx_status choose_measured_locked(onyx_session *s, const onyxi_step *p,
                                          onyxi_step *steps, int *n) {
    const onyxi_op *op = s->g->nodes[p->node].op;
    if (p->x.n_out > SELECT_MAX_OUTS || p->x.n_in > 64) return choose_first(s, p, steps, n);
    sel_key *key = onyxi_malloc(sizeof *key);
    if (!key) return onyxi_fail(&s->err, ONYX_NOMEM, "out of memory choosing a kernel");
    build_key(s, p, key);
    onyxi_select_cache *cache = s->model->select;
    onyxi_select_choice ranked[ONYXI_SELECT_MAX_RANKED];
    int n_ranked = onyxi_select_find(cache, key->buf, key->len, ranked);
    onyx_status rc = ONYX_UNSUPPORTED;
    /* a problem measured before: its fastest candidate that still accepts, no timing */
    for (int r = 0; r < n_ranked; r++) {
        rc = try_commit(s, p, steps, n, ranked[r].impl, ranked[r].variant, "measured before",
                        NULL);
        if (rc == ONYX_OK || rc != ONYX_UNSUPPORTED) {
            onyxi_free(key);
            return rc;
        }
    }
    sel_cand *pair = onyxi_calloc(2, sizeof *pair), *best = pair, *cur = pair ? pair + 1 : NULL;
    if (!pair) {
        onyxi_free(key);
        return onyxi_fail(&s->err, ONYX_NOMEM, "out of memory choosing a kernel");
    }
    int have_best = 0, timed = 0, n_skipped_ref = 0, n_cands = 0;
    int64_t spent = 0, t_start = onyxi_now_ns();
    onyxi_select_choice results[ONYXI_SELECT_MAX_RANKED];
    int n_results = 0;
    rc = ONYX_OK;
    for (int i = 0; op->impls[i] && rc == ONYX_OK; i++) {
        if (!impl_allowed(s, op, i)) continue;
        if (op->impls[i + 1] == NULL && have_best) {
            n_skipped_ref++; /* the reference kernel only runs when nothing else accepts */
            break;
        }
        for (int v = 0; v < SELECT_MAX_VARIANTS; v++) {
            int more = 0;
            rc = build_cand(s, p, steps, *n, op->impls[i], v, cur, &more);
            if (rc == ONYX_UNSUPPORTED) {
                rc = ONYX_OK;
                onyxi_err_clear(&s->err);
                if (v == 0 || !more) break; /* variants only of an implementation that accepts */
                continue;
            }
            if (rc != ONYX_OK) break;
            n_cands++;
            if (!have_best) { /* timed only once a rival turns up */
                sel_cand *t = best;
                best = cur;
                cur = t;
                have_best = 1;
            } else {
                if (!timed) {
                    rc = time_cand(s, p, steps, *n, best, &spent);
                    timed = 1;
                }
                if (rc == ONYX_OK) rc = time_cand(s, p, steps, *n, cur, &spent);
                /* a close call (within 10%) gets a second run of both: single runs on a
                 * shared machine are noisy, and clear differences need no more */
                if (rc == ONYX_OK && close_call(cur->ns, best->ns) && spent <= SELECT_NODE_CAP_NS) {
                    rc = time_cand(s, p, steps, *n, cur, &spent);
                    if (rc == ONYX_OK && best->runs < 2)
                        rc = time_cand(s, p, steps, *n, best, &spent);
                }
                if (rc == ONYX_OK && cur->ns < best->ns) {
                    sel_cand *t = best;
                    best = cur;
                    cur = t;
                }
                if (rc == ONYX_OK && n_results < ONYXI_SELECT_MAX_RANKED) /* the loser's time */
                    results[n_results++] =
                        (onyxi_select_choice){cur->st.impl, cur->st.x.variant, cur->ns};
                cand_fini(cur);
            }
            if (rc != ONYX_OK || !more) break;
        }
    }
    if (rc == ONYX_UNSUPPORTED && have_best) { /* no room to time: keep the first */
        cand_fini(cur);
        onyxi_err_clear(&s->err);
        rc = ONYX_OK;
        n_results = 0;
    }
    if (rc == ONYX_OK && have_best) {
        if (timed) onyxi_select_count_measure(cache);
        if (n_results < ONYXI_SELECT_MAX_RANKED) /* the winner (not timed: the only one) */
            results[n_results++] =
                (onyxi_select_choice){best->st.impl, best->st.x.variant, timed ? best->ns : 0};
        /* fastest first; a node with one candidate is remembered too (later plans then skip
         * trying the others) */
        for (int a = 1; a < n_results; a++)
            for (int b = a; b > 0 && results[b].ns < results[b - 1].ns; b--) {
                onyxi_select_choice t = results[b];
                results[b] = results[b - 1];
                results[b - 1] = t;
            }
        if (n_results && results[0].ns == INT64_MAX) n_results = 0; /* every run failed */
        rc = onyxi_select_put(cache, key->buf, key->len, results, n_results);
        if (rc != ONYX_OK) onyxi_fail(&s->err, rc, "out of memory remembering a kernel choice");
        if (onyxi_log_enabled(ONYX_LOG_DEBUG) && timed) {
            char label[256];
            onyxi_node_label(s->g, p->node, label, sizeof label);
            for (int r = 0; r < n_results; r++)
                onyxi_log(ONYX_LOG_DEBUG, "%s: candidate %s variant %d: %.3f ms", label,
                          results[r].impl->name, results[r].variant,
                          results[r].ns == INT64_MAX ? -1.0 : (double)results[r].ns / 1e6);
            if (n_skipped_ref)
                onyxi_log(ONYX_LOG_DEBUG, "%s: reference kernel not timed (%d faster candidates)",
                          label, n_cands);
            onyxi_log(ONYX_LOG_DEBUG, "%s: %d candidates chosen from in %.3f ms (%.3f ms running)",
                      label, n_cands, (double)(onyxi_now_ns() - t_start) / 1e6,
                      (double)spent / 1e6);
        }
        s->select_ns += onyxi_now_ns() - t_start;
        if (rc == ONYX_OK)
            rc = commit_cand(s, p, steps, n, best, timed ? "fastest measured" : "only candidate");
    }
    cand_fini(best);
    cand_fini(cur);
    onyxi_free(pair);
    onyxi_free(key);
    if (rc == ONYX_OK && !have_best) {
        rc = ONYX_UNSUPPORTED;
        if (s->err.code == ONYX_OK) onyxi_fail(&s->err, rc, "no implementation accepts this node");
    }
    return rc;
}

static onyx_status choose_measured(onyx_session *s, const onyxi_step *p, onyxi_step *steps,
                                   int *n) {
    onyxi_select_lock(s->model->select);
    onyx_status rc = choose_measured_locked(s, p, steps, n);
    onyxi_select_unlock(s->model->select);
    return rc;
}

/* Appends step p's implementation to steps[*n], preceded by reorder steps when it needs
 * plain inputs but a producer chose a blocked layout. */
static onyx_status choose_impl(onyx_session *s, const onyxi_step *p, onyxi_step *steps, int *n) {
    if (s->select_measure && s->backend != ONYX_BACKEND_REFERENCE)
        return choose_measured(s, p, steps, n);
    return choose_first(s, p, steps, n);
}

/* Which outputs may be blocked: produced by a step, not a graph output, and read only by
 * steps whose op's first implementation is a dnnl one (value-indexed flags). */
static void mark_blocked_ok(onyx_session *s, const onyxi_step *pending, int n_pending,
                            unsigned char *ok) {
    const onyxi_graph *g = s->g;
    for (int v = 0; v < g->n_values; v++) ok[v] = s->has_backend;
    for (int i = 0; i < g->n_outputs; i++) ok[g->outputs[i]] = 0;
    for (int i = 0; i < n_pending; i++) {
        const onyxi_node *nd = &g->nodes[pending[i].node];
        if (onyxi_impl_takes_blocked(nd->op->impls[0])) continue;
        for (int k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] >= 0) ok[nd->inputs[k]] = 0;
    }
}

/* 1 when a and b are stored alike (both plain, or the same blocked layout). */
static int same_layout(const onyx_tensor *a, const onyx_tensor *b) {
    if (!a->layout || !b->layout) return !a->layout && !b->layout;
    return onyxi_dnnl_same_layout(a->layout, b->layout);
}

static int is_graph_output(const onyx_session *s, int v) {
    return v < s->g->n_values && (s->g->values[v].flags & ONYXI_VALUE_GRAPH_OUTPUT);
}

/* Memory sharing decided before placement (alias_base[v] = the value whose memory v lives in,
 * at byte offset alias_off[v]; -1 = its own):
 *  - zero-copy Concat: when nothing precedes the axis but 1s, each input is a contiguous
 *    slice of the output, so producers whose only consumer is the Concat write straight
 *    into their slice and the Concat step is skipped;
 *  - in place: an op flagged ONYXI_OP_INPLACE_OK writes its output over input 0 when that
 *    input dies at this step and has the same size and layout. */
static void decide_aliases(onyx_session *s, const int *first, const int *last_use, const int *uses,
                           int *alias_base, size_t *alias_off, unsigned char *has_slices) {
    int nv = s->g->n_values + s->n_temps;
    for (int v = 0; v < nv; v++) {
        alias_base[v] = -1;
        alias_off[v] = 0;
        has_slices[v] = 0;
    }
    if (s->no_aliasing) return;
    for (int i = 0; i < s->n_steps; i++) {
        onyxi_step *st = &s->steps[i];
        const onyxi_exec *x = &st->x;
        if (st->impl == &onyxi_reorder_to_plain || strcmp(x->node->op_type, "Concat") != 0 ||
            !x->out[0] || x->out[0]->layout)
            continue;
        const onyx_tensor *y = x->out[0];
        int c = (int)(y - s->vals), axis = 0;
        if (is_graph_output(s, c) ||
            onyxi_norm_axis(onyxi_attr_int(x->node, "axis", 1), y->rank, &axis, NULL) != ONYX_OK)
            continue;
        int ok = 1;
        for (int d = 0; d < axis; d++) ok &= y->dims[d] == 1;
        for (int k = 0; ok && k < x->n_in; k++) {
            const onyx_tensor *t = x->in[k];
            int v = t ? (int)(t - s->vals) : -1;
            ok = t && t >= s->vals && v < nv && first[v] >= 0 && !t->layout && uses[v] == 1 &&
                 !is_graph_output(s, v) && alias_base[v] < 0 && !has_slices[v];
        }
        if (!ok) continue;
        size_t off = 0;
        for (int k = 0; k < x->n_in; k++) {
            int v = (int)(x->in[k] - s->vals);
            alias_base[v] = c;
            alias_off[v] = off;
            off += x->in[k]->nbytes;
        }
        has_slices[c] = 1;
        st->skip = 1;
    }
    for (int i = 0; i < s->n_steps; i++) {
        const onyxi_step *st = &s->steps[i];
        const onyxi_exec *x = &st->x;
        if (st->skip || st->impl == &onyxi_reorder_to_plain || !(x->node->op->flags & ONYXI_OP_INPLACE_OK) ||
            x->n_in < 1 || !x->in[0] || x->n_out < 1 || !x->out[0])
            continue;
        const onyx_tensor *a = x->in[0];
        int va = (int)(a - s->vals), vb = (int)(x->out[0] - s->vals);
        if (a < s->vals || va >= nv || first[va] < 0 || last_use[va] != i || uses[va] != 1 ||
            is_graph_output(s, va) || is_graph_output(s, vb) || alias_base[vb] >= 0 ||
            a->nbytes != x->out[0]->nbytes || !same_layout(a, x->out[0]))
            continue;
        /* input 0 must not share its memory with anything still alive: a Concat slice never
         * qualifies (the Concat's output outlives it); a Concat output does, its slices
         * having died at the skipped Concat step */
        int root = alias_base[va] >= 0 ? alias_base[va] : va;
        if (alias_base[va] >= 0 && (has_slices[alias_base[va]] || alias_off[va] != 0)) continue;
        alias_base[vb] = root;
        alias_off[vb] = 0;
    }
}

static onyx_status place_intermediates(onyx_session *s) {
    const onyxi_graph *g = s->g;
    int nv = g->n_values + s->n_temps;
    onyx_status rc = ONYX_NOMEM;
    int *last_use = onyxi_malloc((size_t)nv * sizeof(int) + 1);
    int *first = onyxi_malloc((size_t)nv * sizeof(int) + 1);
    int *item_value = onyxi_malloc((size_t)nv * sizeof(int) + 1);
    int *uses = onyxi_calloc((size_t)nv + 1, sizeof(int));
    int *own_first = NULL, *own_last = NULL;
    int *alias_base = onyxi_malloc((size_t)nv * sizeof(int) + 1);
    size_t *alias_off = onyxi_malloc((size_t)nv * sizeof(size_t) + 1);
    unsigned char *has_slices = onyxi_malloc((size_t)nv + 1);
    s->records = onyxi_calloc((size_t)nv + 1, sizeof *s->records); /* freed by release_plan */
    onyxi_plan_item *items = onyxi_malloc((size_t)nv * sizeof *items + 1);
    size_t *offsets = onyxi_malloc((size_t)nv * sizeof(size_t) + 1);
    if (!last_use || !first || !item_value || !items || !offsets || !s->records || !uses ||
        !alias_base || !alias_off || !has_slices) {
        onyxi_fail(&s->err, ONYX_NOMEM, "out of memory planning memory");
        goto done;
    }
    for (int v = 0; v < nv; v++) first[v] = last_use[v] = -1;
    /* lifetimes from what each step reads and writes (reorder steps included) */
    for (int i = 0; i < s->n_steps; i++) {
        const onyxi_exec *x = &s->steps[i].x;
        for (int k = 0; k < x->n_out; k++)
            if (x->out[k]) {
                int v = (int)(x->out[k] - s->vals);
                first[v] = last_use[v] = i;
            }
        for (int k = 0; k < x->n_in; k++)
            if (x->in[k] && x->in[k] >= s->vals && x->in[k] < s->vals + nv) {
                last_use[(int)(x->in[k] - s->vals)] = i;
                uses[(int)(x->in[k] - s->vals)]++;
            }
    }
    /* graph outputs stay alive to the end so the caller can read them */
    for (int i = 0; i < g->n_outputs; i++) last_use[g->outputs[i]] = s->n_steps;
    decide_aliases(s, first, last_use, uses, alias_base, alias_off, has_slices);
    /* a shared buffer lives as long as everything stored in it; records keep each
     * tensor's own lifetime */
    own_first = onyxi_malloc((size_t)nv * sizeof(int) + 1);
    own_last = onyxi_malloc((size_t)nv * sizeof(int) + 1);
    if (!own_first || !own_last) {
        rc = onyxi_fail(&s->err, ONYX_NOMEM, "out of memory planning memory");
        goto done;
    }
    memcpy(own_first, first, (size_t)nv * sizeof(int));
    memcpy(own_last, last_use, (size_t)nv * sizeof(int));
    for (int v = 0; v < nv; v++) {
        int r = alias_base[v];
        if (r < 0 || first[v] < 0) continue;
        if (first[v] < first[r]) first[r] = first[v];
        if (last_use[v] > last_use[r]) last_use[r] = last_use[v];
    }
    int n = 0;
    s->intermediate_bytes = 0;
    for (int v = 0; v < nv; v++) {
        if (first[v] >= 0 && alias_base[v] >= 0) s->intermediate_bytes += s->vals[v].nbytes;
        if (first[v] < 0 || alias_base[v] >= 0) continue;
        items[n] = (onyxi_plan_item){s->vals[v].nbytes, first[v], last_use[v]};
        item_value[n++] = v;
        s->intermediate_bytes += s->vals[v].nbytes;
    }
    rc = onyxi_plan_place(items, n, ONYXI_ALIGN, offsets, &s->arena_bytes, &s->err);
    if (rc != ONYX_OK) goto done;
    rc = reserve_bytes(s, s->arena_bytes, "the intermediate-tensor arena");
    if (rc != ONYX_OK) goto done;
    if (s->arena_bytes) {
        s->arena = onyxi_malloc(s->arena_bytes);
        if (!s->arena) {
            rc = onyxi_fail(&s->err, ONYX_NOMEM, "cannot allocate the %zu-byte tensor arena",
                            s->arena_bytes);
            goto done;
        }
    }
    for (int j = 0; j < n; j++) {
        int v = item_value[j];
        void *p = items[j].size ? (unsigned char *)s->arena + offsets[j] : empty_tensor_storage;
        s->vals[v].data = p;
        s->arena_ptr[v] = p;
        s->records[j] = (onyxi_plan_record){v, offsets[j], items[j].size, own_first[v],
                                            own_last[v]};
    }
    s->n_records = n;
    /* values stored inside another's buffer (zero-copy Concat slices, in-place outputs) */
    for (int v = 0; v < nv; v++) {
        if (alias_base[v] < 0 || first[v] < 0) continue;
        unsigned char *base = s->arena_ptr[alias_base[v]];
        void *p = base ? base + alias_off[v] : empty_tensor_storage;
        if (!s->vals[v].nbytes) p = empty_tensor_storage;
        s->vals[v].data = p;
        s->arena_ptr[v] = p;
        /* listed too, so a plan shows which tensors share memory */
        size_t root_off = 0;
        for (int j = 0; j < n; j++)
            if (item_value[j] == alias_base[v]) root_off = offsets[j];
        s->records[s->n_records++] = (onyxi_plan_record){v, root_off + alias_off[v],
                                                         s->vals[v].nbytes, own_first[v],
                                                         own_last[v]};
    }
    rc = ONYX_OK;
done:
    onyxi_free(own_first);
    onyxi_free(own_last);
    onyxi_free(uses);
    onyxi_free(alias_base);
    onyxi_free(alias_off);
    onyxi_free(has_slices);
    onyxi_free(last_use);
    onyxi_free(first);
    onyxi_free(item_value);
    onyxi_free(items);
    onyxi_free(offsets);
    return rc;
}

onyx_status onyxi_session_plan(onyx_session *s, int at_create) {
    const onyxi_graph *g = s->g;
    release_plan(s);
    reset_values(s);
    onyxi_err_clear(&s->err);
    size_t total_in = 0, total_out = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        total_in += (size_t)g->nodes[i].n_inputs;
        total_out += (size_t)g->nodes[i].n_outputs;
    }
    s->steps = onyxi_calloc((size_t)g->n_nodes + (size_t)s->temp_capacity + 1, sizeof *s->steps);
    onyxi_step *pending = onyxi_calloc((size_t)g->n_nodes + 1, sizeof *pending);
    unsigned char *blocked_ok = onyxi_calloc((size_t)g->n_values + 1, 1);
    s->io_in = onyxi_calloc(total_in + 1, sizeof *s->io_in);
    s->io_out = onyxi_calloc(total_out + 1, sizeof *s->io_out);
    unsigned char *shapes_from_input = onyxi_calloc((size_t)g->n_inputs + 1, 1);
    onyx_status rc = ONYX_OK;
    int saved_threads = enter_threads(s);
    int n_pending = 0;
    if (!s->steps || !s->io_in || !s->io_out || !shapes_from_input || !pending || !blocked_ok) {
        rc = onyxi_fail(&s->err, ONYX_NOMEM, "out of memory planning the session");
        goto fail;
    }
    int threads = s->num_threads > 0 ? s->num_threads : default_threads();
    size_t in_used = 0, out_used = 0;
    for (int oi = 0; oi < g->n_nodes; oi++) {
        int ni = g->order[oi];
        const onyxi_node *nd = &g->nodes[ni];
        const onyx_tensor **ins = s->io_in + in_used;
        onyx_tensor **outs = s->io_out + out_used;
        in_used += (size_t)nd->n_inputs;
        out_used += (size_t)nd->n_outputs;
        if (!nd->op) {
            rc = onyxi_fail(&s->err, ONYX_UNSUPPORTED, "op '%s' is not supported by onyx",
                            nd->op_type);
            fail_node(s, ni);
            goto fail;
        }
        if (!onyxi_node_live(nd)) continue; /* absorbed or removed by a graph pass */
        int all_const = 1; /* every input known at plan time: fold the node */
        for (int k = 0; k < nd->n_inputs; k++) {
            ins[k] = nd->inputs[k] < 0 ? NULL : &s->vals[nd->inputs[k]];
            if (nd->inputs[k] >= 0 && !s->is_const[nd->inputs[k]] &&
                !(nd->op->flags & ONYXI_OP_SHAPE_ONLY))
                all_const = 0;
        }
        for (int k = 0; k < nd->n_outputs; k++)
            outs[k] = nd->outputs[k] < 0 ? NULL : &s->vals[nd->outputs[k]];
        onyxi_infer c = {nd, nd->n_inputs, ins, nd->n_outputs, outs, 0, &s->err, 0};
        rc = nd->op->infer(&c);
        if (rc != ONYX_OK) {
            /* at creation inputs carry no data yet: a shape that depends on it waits */
            int waits = 0;
            for (int k = 0; at_create && k < nd->n_inputs; k++)
                if ((c.data_missing >> k & 1u) && nd->inputs[k] >= 0 &&
                    (g->values[nd->inputs[k]].flags & ONYXI_VALUE_GRAPH_INPUT))
                    waits = 1;
            if (waits) {
                rc = ONYX_OK;
                onyxi_err_clear(&s->err);
                goto fail; /* releases the partial plan; planned stays 0 */
            }
            fail_node(s, ni);
            goto fail;
        }
        for (int k = 0; k < nd->n_inputs; k++) {
            if (!(c.data_read >> k & 1u) || nd->inputs[k] < 0) continue;
            int gi = graph_input_index(g, nd->inputs[k]);
            if (gi >= 0) shapes_from_input[gi] = 1;
        }
        for (int k = 0; k < nd->n_outputs; k++) {
            if (!outs[k]) continue;
            rc = finish_output(s, outs[k]);
            if (rc != ONYX_OK) {
                fail_node(s, ni);
                goto fail;
            }
        }
        if (all_const) {
            rc = fold_node(s, nd, ins, outs);
            if (rc != ONYX_OK) {
                fail_node(s, ni);
                goto fail;
            }
            continue;
        }
        onyxi_step *st = &pending[n_pending++];
        st->node = ni;
        unsigned const_inputs = 0;
        for (int k = 0; k < nd->n_inputs && k < 32; k++)
            if (nd->inputs[k] >= 0 && s->is_const[nd->inputs[k]]) const_inputs |= 1u << k;
        st->x = (onyxi_exec){.node = nd, .n_in = nd->n_inputs, .in = ins, .n_out = nd->n_outputs,
                             .out = outs, .num_threads = threads, .err = &s->err,
                             .backend = s->has_backend ? &s->dnnl : NULL,
                             .weights = s->model->weights, .const_inputs = const_inputs};
    }
    /* implementations in execution order: each sees its producers' chosen layouts */
    mark_blocked_ok(s, pending, n_pending, blocked_ok);
    for (int i = 0; i < n_pending; i++) {
        onyxi_step *p = &pending[i];
        for (int k = 0; k < p->x.n_out && k < 32; k++) {
            int v = g->nodes[p->node].outputs[k];
            if (v >= 0 && blocked_ok[v]) p->x.blocked_ok |= 1u << k;
        }
        p->x.step = s->n_steps;
        /* constants the chosen kernel reads when it runs stay in memory for this plan; the
         * ones it packed may be released (consts.h) */
        onyxi_consts_step_begin(s->model->consts, p->x.node);
        rc = choose_impl(s, p, s->steps, &s->n_steps);
        onyx_status held = onyxi_consts_step_end(
            s->model->consts, s, p->x.node, rc == ONYX_OK,
            rc == ONYX_OK ? s->steps[s->n_steps - 1].x.packed_inputs : 0, &s->err);
        if (rc == ONYX_OK) rc = held;
        if (rc != ONYX_OK) {
            fail_node(s, p->node);
            goto fail;
        }
    }
    onyxi_free(s->sel_pool); /* kernels chosen: the timing buffer is done with */
    s->sel_pool = NULL;
    s->sel_pool_bytes = 0;
    rc = place_intermediates(s);
    if (rc != ONYX_OK) goto fail;
    /* one scratch buffer serves every step: they run one after another */
    for (int i = 0; i < s->n_steps; i++)
        if (s->steps[i].x.scratch_bytes > s->scratch_bytes)
            s->scratch_bytes = s->steps[i].x.scratch_bytes;
    if (s->scratch_bytes) {
        rc = reserve_bytes(s, s->scratch_bytes, "the shared scratch buffer");
        if (rc != ONYX_OK) goto fail;
        s->scratch = onyxi_malloc(s->scratch_bytes);
        if (!s->scratch) {
            rc = onyxi_fail(&s->err, ONYX_NOMEM, "out of memory for the scratch buffer");
            goto fail;
        }
        for (int i = 0; i < s->n_steps; i++) s->steps[i].x.scratch = s->scratch;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        s->planned_inputs[i] = s->in_bind[i].shape;
        if (!shapes_from_input[i] || !s->in_bind[i].bound) continue;
        size_t nb = s->in_bind[i].nbytes;
        s->input_snapshot[i] = onyxi_malloc(nb ? nb : 1);
        if (!s->input_snapshot[i]) {
            rc = onyxi_fail(&s->err, ONYX_NOMEM, "out of memory planning the session");
            goto fail;
        }
        if (nb) memcpy(s->input_snapshot[i], s->in_bind[i].data, nb);
    }
    if (s->profiling) {
        s->prof = onyxi_profile_create(s->n_steps);
        if (!s->prof) {
            rc = onyxi_fail(&s->err, ONYX_NOMEM, "out of memory for the profiler");
            goto fail;
        }
    }
    onyxi_free(shapes_from_input);
    onyxi_free(pending);
    onyxi_free(blocked_ok);
    leave_threads(s, saved_threads);
    s->planned = 1;
    if (onyxi_log_enabled(ONYX_LOG_INFO)) {
        int folded = 0;
        for (int i = 0; i < g->n_nodes; i++) folded += g->nodes[i].op != NULL;
        folded -= s->n_steps;
        onyxi_log(ONYX_LOG_INFO,
                  "plan for graph '%s': %d steps, %d nodes folded, %d arena tensors, arena %zu "
                  "bytes (%zu bytes without sharing); %.1f ms choosing kernels by measurement",
                  g->graph_name ? g->graph_name : "", s->n_steps, folded, s->n_records,
                  s->arena_bytes, s->intermediate_bytes, (double)s->select_ns / 1e6);
    }
    return ONYX_OK;
fail:
    onyxi_free(shapes_from_input);
    onyxi_free(pending);
    onyxi_free(blocked_ok);
    leave_threads(s, saved_threads);
    onyx_status keep = rc;
    onyxi_err saved = s->err;
    release_plan(s);
    s->err = saved;
    return keep;
}

static int same_shape(const onyx_tensor *a, const onyx_tensor *b) {
    if (a->dtype != b->dtype || a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

/* Inputs declared with the same symbolic dim name must be bound to the same size. */
static onyx_status check_symbolic_dims(onyx_session *s) {
    const onyxi_graph *g = s->g;
    for (int i = 0; i < g->n_inputs; i++) {
        const onyxi_value *a = &g->values[g->inputs[i]];
        for (int d = 0; d < a->info.rank && d < ONYXI_MAX_RANK; d++) {
            if (!a->dim_params[d]) continue;
            for (int j = i; j < g->n_inputs; j++) {
                const onyxi_value *b = &g->values[g->inputs[j]];
                for (int e = (j == i ? d + 1 : 0); e < b->info.rank && e < ONYXI_MAX_RANK; e++) {
                    if (!b->dim_params[e] || strcmp(a->dim_params[d], b->dim_params[e]) != 0)
                        continue;
                    int64_t x = s->in_bind[i].shape.dims[d], y = s->in_bind[j].shape.dims[e];
                    if (x != y)
                        return onyxi_fail(&s->err, ONYX_SHAPE_MISMATCH,
                                          "inputs '%s' (axis %d) and '%s' (axis %d) share the "
                                          "dimension '%s' but are bound to %lld and %lld",
                                          a->name, d, b->name, e, a->dim_params[d], (long long)x,
                                          (long long)y);
                }
            }
        }
    }
    return ONYX_OK;
}

static int needs_plan(const onyx_session *s) {
    if (!s->planned) return 1;
    for (int i = 0; i < s->g->n_inputs; i++) {
        const onyxi_input_binding *b = &s->in_bind[i];
        if (!same_shape(&b->shape, &s->planned_inputs[i])) return 1;
        if (s->input_snapshot[i] && b->nbytes && memcmp(s->input_snapshot[i], b->data, b->nbytes))
            return 1;
    }
    return 0;
}

onyx_status onyxi_session_prepare(onyx_session *s) {
    const onyxi_graph *g = s->g;
    onyxi_err_clear(&s->err);
    for (int i = 0; i < g->n_inputs; i++)
        if (!s->in_bind[i].bound)
            return onyxi_fail(&s->err, ONYX_MISUSE, "input %d ('%s') is not bound", i,
                              g->values[g->inputs[i]].name);
    if (!needs_plan(s)) return ONYX_OK;
    ONYXI_CHECK(check_symbolic_dims(s));
    if (s->planned && onyxi_log_enabled(ONYX_LOG_INFO)) {
        char was[160], now[160];
        for (int i = 0; i < g->n_inputs; i++) {
            const onyx_tensor *a = &s->planned_inputs[i], *b = &s->in_bind[i].shape;
            if (same_shape(a, b)) continue;
            onyxi_log(ONYX_LOG_INFO, "re-planning: input '%s' changed from %s to %s",
                      g->values[g->inputs[i]].name, onyxi_shape_str(a->rank, a->dims, was, sizeof was),
                      onyxi_shape_str(b->rank, b->dims, now, sizeof now));
        }
    }
    return onyxi_session_plan(s, 0);
}

onyx_status onyxi_session_run(onyx_session *s) {
    const onyxi_graph *g = s->g;
    ONYXI_CHECK(onyxi_session_prepare(s));
    for (int i = 0; i < g->n_inputs; i++) {
        onyx_tensor *t = &s->vals[g->inputs[i]];
        t->data = s->in_bind[i].data ? (void *)s->in_bind[i].data : empty_tensor_storage;
        t->nbytes = s->in_bind[i].nbytes; /* a plan made at creation saw no binding yet */
    }
    /* Outputs computed in the arena are written straight into caller buffers when bound. */
    for (int i = 0; i < g->n_outputs; i++) {
        int v = g->outputs[i];
        if (s->arena_ptr[v]) s->vals[v].data = s->arena_ptr[v];
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int v = g->outputs[i];
        const onyxi_output_binding *b = &s->out_bind[i];
        if (!b->data) continue;
        if (b->nbytes < s->vals[v].nbytes)
            return onyxi_fail(&s->err, ONYX_INVALID_ARG,
                              "output %d ('%s') needs %zu bytes, the bound buffer has %zu", i,
                              g->values[v].name, s->vals[v].nbytes, b->nbytes);
        if (s->arena_ptr[v] && s->vals[v].data == s->arena_ptr[v]) s->vals[v].data = b->data;
    }
    /* the profiler is NULL unless asked for: then the loop costs two well-predicted tests */
    onyxi_profile *prof = s->prof;
    int64_t run_t0 = 0;
    if (prof) {
        onyxi_profile_run_begin(prof);
        run_t0 = onyxi_now_ns();
    }
    int saved_threads = enter_threads(s);
    for (int i = 0; i < s->n_steps; i++) {
        onyxi_step *st = &s->steps[i];
        if (st->skip) continue;
        int64_t t0 = prof ? onyxi_now_ns() : 0;
        onyx_status rc = st->impl->run(&st->x);
        if (prof) onyxi_profile_step(prof, i, t0, onyxi_now_ns());
        if (rc != ONYX_OK) {
            leave_threads(s, saved_threads);
            if (s->err.code == ONYX_OK) onyxi_fail(&s->err, rc, "kernel failed");
            fail_node(s, st->node);
            return rc;
        }
    }
    leave_threads(s, saved_threads);
    for (int i = 0; i < g->n_outputs; i++) {
        int v = g->outputs[i];
        const onyxi_output_binding *b = &s->out_bind[i];
        if (b->data && s->vals[v].data != b->data && s->vals[v].nbytes)
            memcpy(b->data, s->vals[v].data, s->vals[v].nbytes);
    }
    if (prof) onyxi_profile_run_end(prof, run_t0, onyxi_now_ns());
    return ONYX_OK;
}
