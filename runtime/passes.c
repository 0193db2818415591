/*
 * Graph passes run once at load (passes.h): drop_identity, fold_constants, fold_bn, and the
 * post-op fusions fuse_act (activations into Conv, MatMul and Gemm; Relu into
 * BatchNormalization) / fuse_add (a residual Add into Conv). Nodes a pass removes stay in the
 * node table (the public node list keeps its numbering) as "retired" nodes without inputs or
 * outputs, marked by their fusion record; a node that absorbed others carries its post-op
 * chain there. drop_identity also drops a Pad of all-zero pads.
 * fuse_act also takes the erf GELU, fuse_add a MatMul's bias row, and fuse_norm turns a
 * LayerNormalization exported as primitive ops (ReduceMean, Sub, Pow, ...) into one node.
 * Static shapes (graph inputs with fixed declared shapes, initializers) are propagated once
 * with each op's own infer, which both folding and the same-shape test of fuse_add need.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/op.h"
#include "alloc.h"
#include "log.h"
#include "passes.h"

/* Folding an output larger than this is left to the sessions (a hostile model could ask for
 * a huge ConstantOfShape, and a session at least counts it against its memory limit). */
#define FOLD_MAX_BYTES ((size_t)64 << 20)

/* Zero-byte constants need a non-NULL address that is never read. */
static _Alignas(64) unsigned char empty_storage[64];

/* ---- retired nodes ---- */

static onyx_status retired_infer(onyxi_infer *c) {
    (void)c;
    return ONYX_OK;
}
static onyx_status retired_run(onyxi_exec *x) {
    (void)x;
    return ONYX_OK;
}
static const onyxi_attr_spec retired_attrs[] = {{NULL, 0}};
static const onyxi_impl retired_impl = {"none", NULL, retired_run, NULL};
static const onyxi_impl *const retired_impls[] = {&retired_impl, NULL};
const onyxi_op onyxi_passes_retired_op = {
    "(removed)", 1, 0, 0, 0, 0, retired_attrs, NULL, retired_infer, 0, retired_impls};

int onyxi_node_live(const onyxi_node *n) {
    return !n->fusion || n->fusion->role == ONYXI_FUSION_HOST;
}

/* ---- switches ---- */

static const struct {
    const char *name;
    unsigned bit;
} PASS_NAMES[] = {{"drop_identity", ONYX_PASS_DROP_IDENTITY},
                  {"fold_constants", ONYX_PASS_FOLD_CONSTANTS},
                  {"fold_bn", ONYX_PASS_FOLD_BN},
                  {"fuse_act", ONYX_PASS_FUSE_ACT},
                  {"fuse_add", ONYX_PASS_FUSE_ADD},
                  {"fuse_norm", ONYX_PASS_FUSE_NORM},
                  {"all", ONYX_PASS_ALL}};

unsigned onyxi_passes_parse(const char *list) {
    unsigned bits = 0;
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ", ");
        if (len > 0) {
            size_t i = 0, n = sizeof PASS_NAMES / sizeof PASS_NAMES[0];
            while (i < n &&
                   !(strlen(PASS_NAMES[i].name) == len && strncmp(PASS_NAMES[i].name, p, len) == 0))
                i++;
            if (i < n)
                bits |= PASS_NAMES[i].bit;
            else
                /* the planner reads the same variable for its own passes ("alias") */
                onyxi_log(ONYX_LOG_DEBUG, "ONYX_DISABLE_PASSES: '%.*s' is not a graph pass",
                          (int)(len > 64 ? 64 : len), p);
        }
        p += len;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return bits;
}

/* ---- pass state ---- */

typedef struct pass_ctx {
    onyxi_graph *g;
    onyxi_err *e;
    unsigned on;  /* ONYX_PASS_* bits to run */
    int n_static; /* values covered by t/known (values added later have no static info) */
    /* per value: static dtype/shape (data when constant, owned or the graph's), under two
     * different values for the symbolic dims of graph inputs (see probe_dim) */
    onyx_tensor *t, *t2;
    unsigned char *known, *known2, *is_const;
    void **owned;           /* data computed by folding, until handed to the graph */
    int cap;                /* capacity of the per-value arrays below */
    int *uses;              /* input slots of live nodes reading the value */
    unsigned char *touched; /* read before the passes, or made by them: freed when unread */
    /* who reads each value, as singly linked lists; entries go stale when a node stops
     * reading the value (retired or rewired) and are filtered out on lookup */
    int *head, *next, *reader, n_entries, entries_cap;
} pass_ctx;

static onyx_status nomem(pass_ctx *c) {
    return onyxi_fail(c->e, ONYX_NOMEM, "out of memory running graph passes");
}

static int is_op(const onyxi_node *n, const char *op_type) {
    return onyxi_node_live(n) && n->op && n->domain[0] == '\0' &&
           strcmp(n->op->op_type, op_type) == 0;
}

static onyx_status grow_values(pass_ctx *c, int need) {
    if (need <= c->cap) return ONYX_OK;
    int cap = need + need / 2 + 16;
    int *uses = onyxi_realloc(c->uses, (size_t)cap * sizeof *uses);
    if (!uses) return nomem(c);
    c->uses = uses;
    int *head = onyxi_realloc(c->head, (size_t)cap * sizeof *head);
    if (!head) return nomem(c);
    c->head = head;
    unsigned char *touched = onyxi_realloc(c->touched, (size_t)cap);
    if (!touched) return nomem(c);
    c->touched = touched;
    for (int v = c->cap; v < cap; v++) {
        c->uses[v] = 0;
        c->head[v] = -1;
        c->touched[v] = 0;
    }
    c->cap = cap;
    return ONYX_OK;
}

/* Records that node reads v (once more). */
static onyx_status add_reader(pass_ctx *c, int v, int node) {
    if (c->n_entries == c->entries_cap) {
        int cap = c->entries_cap * 2 + 64;
        int *next = onyxi_realloc(c->next, (size_t)cap * sizeof *next);
        if (!next) return nomem(c);
        c->next = next;
        int *reader = onyxi_realloc(c->reader, (size_t)cap * sizeof *reader);
        if (!reader) return nomem(c);
        c->reader = reader;
        c->entries_cap = cap;
    }
    c->reader[c->n_entries] = node;
    c->next[c->n_entries] = c->head[v];
    c->head[v] = c->n_entries++;
    c->uses[v]++;
    c->touched[v] = 1;
    return ONYX_OK;
}

/* The distinct live nodes reading v into nodes[0..max) and the input slots they read it
 * through (*slots). Returns the number of nodes, or -1 when more than max. */
static int readers(const pass_ctx *c, int v, int *nodes, int max, int *slots) {
    int n = 0;
    *slots = 0;
    for (int i = c->head[v]; i >= 0; i = c->next[i]) {
        int ni = c->reader[i], dup = 0;
        for (int k = 0; k < n; k++)
            dup |= nodes[k] == ni;
        if (dup) continue;
        const onyxi_node *nd = &c->g->nodes[ni];
        if (!onyxi_node_live(nd)) continue;
        int s = 0;
        for (int k = 0; k < nd->n_inputs; k++)
            s += nd->inputs[k] == v;
        if (s == 0) continue;
        if (n == max) return -1;
        nodes[n++] = ni;
        *slots += s;
    }
    return n;
}

static int is_graph_output(const pass_ctx *c, int v) {
    return (c->g->values[v].flags & ONYXI_VALUE_GRAPH_OUTPUT) != 0;
}

static int is_initializer(const pass_ctx *c, int v) {
    return v >= 0 && (c->g->values[v].flags & ONYXI_VALUE_INITIALIZER) && c->g->values[v].info.data;
}

/* Takes node ni out of the graph: its reads are dropped, its outputs lose their producer
 * (the caller has moved any it still needs to another node). */
static onyx_status retire(pass_ctx *c, int ni, onyxi_fusion_role role, int host) {
    onyxi_node *n = &c->g->nodes[ni];
    if (!n->fusion) {
        n->fusion = onyxi_calloc(1, sizeof *n->fusion);
        if (!n->fusion) return nomem(c);
    }
    n->fusion->role = role;
    n->fusion->host = host;
    for (int k = 0; k < n->n_inputs; k++)
        if (n->inputs[k] >= 0) c->uses[n->inputs[k]]--;
    for (int k = 0; k < n->n_outputs; k++) {
        int v = n->outputs[k];
        if (v >= 0 && c->g->values[v].producer == ni) c->g->values[v].producer = -1;
    }
    n->fusion->n_inputs = n->n_inputs;
    n->fusion->n_outputs = n->n_outputs;
    n->n_inputs = n->n_outputs = 0;
    n->op = &onyxi_passes_retired_op;
    return ONYX_OK;
}

/* A new initializer value named after base (made unique) that takes ownership of data. */
static int add_initializer(pass_ctx *c, const char *base, int rank, const int64_t *dims,
                           float *data, size_t nbytes) {
    onyxi_graph *g = c->g;
    if (grow_values(c, g->n_values + 1) != ONYX_OK) return -1;
    size_t len = strlen(base) + 24;
    char *name = onyxi_malloc(len);
    if (!name) {
        nomem(c);
        return -1;
    }
    /* unique: no value may share the name (lookups by name return the first) */
    for (int suffix = 0;; suffix++) {
        if (suffix == 0)
            snprintf(name, len, "%s", base);
        else
            snprintf(name, len, "%s_%d", base, suffix);
        int clash = 0;
        for (int v = 0; v < g->n_values && !clash; v++)
            clash = strcmp(g->values[v].name, name) == 0;
        if (!clash) break;
    }
    onyxi_value *vals = onyxi_realloc(g->values, ((size_t)g->n_values + 1) * sizeof *vals);
    if (!vals) {
        onyxi_free(name);
        nomem(c);
        return -1;
    }
    g->values = vals;
    int v = g->n_values++;
    onyxi_value *nv = &g->values[v];
    memset(nv, 0, sizeof *nv);
    nv->name = name;
    nv->producer = -1;
    nv->flags = ONYXI_VALUE_INITIALIZER;
    nv->info.name = name;
    nv->info.dtype = ONYX_DTYPE_FLOAT32;
    nv->info.rank = rank;
    memcpy(nv->info.dims, dims, (size_t)rank * sizeof *dims);
    nv->info.data = data;
    nv->info.nbytes = nbytes;
    nv->info.owns_data = 1;
    c->touched[v] = 1;
    return v;
}

/* Points input slot k of node ni at value v. */
static onyx_status set_input(pass_ctx *c, int ni, int k, int v) {
    onyxi_node *n = &c->g->nodes[ni];
    if (n->inputs[k] >= 0) c->uses[n->inputs[k]]--;
    n->inputs[k] = v;
    return v < 0 ? ONYX_OK : add_reader(c, v, ni);
}

/* Appends input v (-1 = absent) to node ni; its slot in *slot. */
static onyx_status append_input(pass_ctx *c, int ni, int v, int *slot) {
    onyxi_node *n = &c->g->nodes[ni];
    int *ins = onyxi_realloc(n->inputs, ((size_t)n->n_inputs + 1) * sizeof *ins);
    if (!ins) return nomem(c);
    n->inputs = ins;
    ins[n->n_inputs] = -1;
    if (slot) *slot = n->n_inputs;
    n->n_inputs++;
    if (v < 0) return ONYX_OK;
    ins[n->n_inputs - 1] = v;
    return add_reader(c, v, ni);
}

/* Makes ni a host (when not yet) and appends "+what" to its op_type. */
static onyx_status host_absorbs(pass_ctx *c, int ni, const char *what) {
    onyxi_node *n = &c->g->nodes[ni];
    if (!n->fusion) {
        n->fusion = onyxi_calloc(1, sizeof *n->fusion);
        if (!n->fusion) return nomem(c);
        n->fusion->role = ONYXI_FUSION_HOST;
        n->fusion->host = -1;
    }
    size_t a = strlen(n->op_type), b = strlen(what);
    char *s = onyxi_realloc(n->op_type, a + b + 2);
    if (!s) return nomem(c);
    s[a] = '+';
    memcpy(s + a + 1, what, b + 1);
    n->op_type = s;
    return ONYX_OK;
}

/* ---- static shapes and fold_constants ---- */

static int is_random(const char *op) {
    static const char *const ops[] = {"RandomNormal",
                                      "RandomUniform",
                                      "RandomNormalLike",
                                      "RandomUniformLike",
                                      "Multinomial",
                                      "Bernoulli",
                                      NULL};
    for (int i = 0; ops[i]; i++)
        if (strcmp(op, ops[i]) == 0) return 1;
    return 0;
}

static int shape_known(const onyx_tensor *t) {
    return onyxi_dtype_known(t->dtype) && t->dtype != ONYX_DTYPE_UNDEFINED &&
           t->dtype != ONYX_DTYPE_STRING && t->rank >= 0 && t->rank <= ONYXI_MAX_RANK &&
           onyxi_shape_count(t->rank, t->dims) >= 0;
}

/* Runs node nd's reference kernel on constant inputs into fresh buffers. ONYX_UNSUPPORTED
 * (and no change) when it should be left to the sessions. */
static onyx_status fold_node(pass_ctx *c, const onyxi_node *nd, const onyx_tensor **ins,
                             onyx_tensor **outs) {
    for (int k = 0; k < nd->n_outputs; k++) {
        int v = nd->outputs[k];
        if (v < 0) continue;
        /* a graph output stays computed by its node: sessions return it from their plan */
        if (is_graph_output(c, v) || outs[k]->nbytes > FOLD_MAX_BYTES) return ONYX_UNSUPPORTED;
    }
    for (int k = 0; k < nd->n_outputs; k++) {
        int v = nd->outputs[k];
        if (v < 0) continue;
        c->owned[v] = onyxi_malloc(outs[k]->nbytes ? outs[k]->nbytes : 1);
        if (!c->owned[v]) return nomem(c);
        outs[k]->data = c->owned[v];
    }
    const onyxi_impl *ref = NULL;
    for (int i = 0; nd->op->impls[i]; i++)
        ref = nd->op->impls[i];
    onyxi_err err;
    onyxi_err_clear(&err);
    onyxi_exec x = {.node = nd,
                    .n_in = nd->n_inputs,
                    .in = ins,
                    .n_out = nd->n_outputs,
                    .out = outs,
                    .num_threads = 1,
                    .err = &err};
    onyx_status rc = ref->init ? ref->init(&x) : ONYX_OK;
    if (rc == ONYX_OK) rc = ref->run(&x);
    if (ref->fini) ref->fini(&x);
    if (rc == ONYX_OK) return ONYX_OK;
    for (int k = 0; k < nd->n_outputs; k++) {
        int v = nd->outputs[k];
        if (v < 0) continue;
        onyxi_free(c->owned[v]);
        c->owned[v] = NULL;
        outs[k]->data = NULL;
    }
    /* the session will fold it again and report the error where it always did */
    if (rc == ONYX_NOMEM) return nomem(c);
    return ONYX_UNSUPPORTED;
}

/* A stand-in size for unknown dim d of graph input value v. Dims sharing a symbolic name get
 * the same size (sessions insist on that when binding), others differ. Shapes are inferred
 * under two such sets, one odd and one even (strided ops round differently): tensors whose
 * shapes agree under both are taken to have equal shapes. That is a heuristic, so a fused
 * Add still checks the real shapes when a session plans (conv.c). */
static int64_t probe_dim(const onyxi_graph *g, int v, int d, int set) {
    const char *name = g->values[v].dim_params[d];
    int index = 0, found = 0;
    for (int i = 0; i < g->n_inputs && !found; i++) {
        const onyxi_value *in = &g->values[g->inputs[i]];
        for (int k = 0; k < in->info.rank && k < ONYXI_MAX_RANK && !found; k++) {
            if (in->info.dims[k] >= 0) continue;
            if (g->inputs[i] == v && k == d)
                found = 1;
            else if (name && in->dim_params[k] && strcmp(in->dim_params[k], name) == 0)
                found = 1;
            else
                index++;
        }
    }
    return (set ? 128 : 97) + 2 * (int64_t)(index % 1000);
}

/* Infers every node whose input shapes are statically known, in order, into t/known (with
 * probe set `set` for symbolic dims); with `folded`, nodes whose inputs are all constant
 * are computed (and marked there), and so are Shape/Size nodes when no graph input has a
 * symbolic dim (every known shape is then the real one: bind_input enforces declared dims). */
static onyx_status propagate(pass_ctx *c, onyx_tensor *tv, unsigned char *known,
                             unsigned char *folded, int set) {
    onyxi_graph *g = c->g;
    int probed = 0; /* a stand-in size was used for some symbolic dim */
    for (int v = 0; v < c->n_static; v++) {
        const onyxi_value *gv = &g->values[v];
        onyx_tensor *t = &tv[v];
        memset(t, 0, sizeof *t);
        t->name = gv->name;
        t->rank = -1;
        if (gv->flags & ONYXI_VALUE_INITIALIZER) {
            *t = gv->info;
            t->name = gv->name;
            t->owns_data = t->owns_name = 0;
            t->dim_params = NULL;
            known[v] = shape_known(t);
            c->is_const[v] = known[v] && (t->data || t->nbytes == 0);
            if (!t->data && c->is_const[v]) t->data = empty_storage;
        } else if (gv->flags & ONYXI_VALUE_GRAPH_INPUT) {
            *t = gv->info;
            t->name = gv->name;
            t->data = NULL;
            t->owns_data = t->owns_name = 0;
            t->dim_params = NULL;
            for (int d = 0; d < t->rank && d < ONYXI_MAX_RANK; d++)
                if (t->dims[d] < 0) {
                    t->dims[d] = probe_dim(g, v, d, set);
                    probed = 1;
                }
            known[v] = shape_known(t);
            if (known[v]) onyxi_shape_nbytes(t->dtype, t->rank, t->dims, &t->nbytes, NULL);
        } else {
            known[v] = 0;
            c->is_const[v] = 0;
        }
    }
    const onyx_tensor **ins = NULL;
    onyx_tensor **outs = NULL;
    int max_in = 1, max_out = 1;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].n_inputs > max_in) max_in = g->nodes[i].n_inputs;
        if (g->nodes[i].n_outputs > max_out) max_out = g->nodes[i].n_outputs;
    }
    ins = onyxi_calloc((size_t)max_in, sizeof *ins);
    outs = onyxi_calloc((size_t)max_out, sizeof *outs);
    onyx_status rc = ins && outs ? ONYX_OK : nomem(c);
    for (int oi = 0; rc == ONYX_OK && oi < g->n_nodes; oi++) {
        int ni = g->order[oi];
        const onyxi_node *nd = &g->nodes[ni];
        if (!onyxi_node_live(nd) || !nd->op) continue;
        int all_known = 1, all_const = 1;
        for (int k = 0; k < nd->n_inputs; k++) {
            int v = nd->inputs[k];
            ins[k] = v < 0 ? NULL : &tv[v];
            if (v < 0) continue;
            all_known &= known[v];
            all_const &= c->is_const[v];
        }
        if (!all_known) continue;
        for (int k = 0; k < nd->n_outputs; k++)
            outs[k] = nd->outputs[k] < 0 ? NULL : &tv[nd->outputs[k]];
        onyxi_err err;
        onyxi_err_clear(&err);
        onyxi_infer ic = {nd, nd->n_inputs, ins, nd->n_outputs, outs, 0, &err, 0};
        if (nd->op->infer(&ic) != ONYX_OK) continue;
        int ok = 1;
        for (int k = 0; k < nd->n_outputs && ok; k++) {
            if (!outs[k]) continue;
            ok = shape_known(outs[k]) &&
                 onyxi_shape_nbytes(outs[k]->dtype, outs[k]->rank, outs[k]->dims, &outs[k]->nbytes,
                                    NULL) == ONYX_OK;
        }
        if (!ok) continue;
        for (int k = 0; k < nd->n_outputs; k++)
            if (nd->outputs[k] >= 0) known[nd->outputs[k]] = 1;
        int shape_only = (nd->op->flags & ONYXI_OP_SHAPE_ONLY) && !probed;
        if (!folded || !(all_const || shape_only) || is_random(nd->op->op_type) ||
            nd->n_outputs == 0)
            continue;
        onyx_status fr = fold_node(c, nd, ins, outs);
        if (fr == ONYX_NOMEM) rc = fr;
        if (fr != ONYX_OK) continue;
        folded[ni] = 1;
        for (int k = 0; k < nd->n_outputs; k++)
            if (nd->outputs[k] >= 0) c->is_const[nd->outputs[k]] = 1;
    }
    onyxi_free(ins);
    onyxi_free(outs);
    return rc;
}

/* Turns the outputs of folded nodes into initializers and retires the nodes. */
static onyx_status commit_folds(pass_ctx *c, const unsigned char *folded) {
    onyxi_graph *g = c->g;
    for (int ni = 0; ni < g->n_nodes; ni++) {
        if (!folded[ni]) continue;
        onyxi_node *nd = &g->nodes[ni];
        for (int k = 0; k < nd->n_outputs; k++) {
            int v = nd->outputs[k];
            if (v < 0) continue;
            onyxi_value *gv = &g->values[v];
            gv->info = c->t[v];
            gv->info.name = gv->name;
            gv->info.data = c->owned[v];
            gv->info.owns_data = 1;
            gv->info.owns_name = 0;
            gv->info.layout = NULL;
            gv->info.dim_params = NULL;
            gv->flags |= ONYXI_VALUE_INITIALIZER;
            c->owned[v] = NULL;
            c->touched[v] = 1;
        }
        if (onyxi_log_enabled(ONYX_LOG_DEBUG)) {
            char label[256];
            onyxi_node_label(g, ni, label, sizeof label);
            onyxi_log(ONYX_LOG_DEBUG, "%s: folded into a constant (%zu bytes)", label,
                      nd->n_outputs > 0 && nd->outputs[0] >= 0
                          ? g->values[nd->outputs[0]].info.nbytes
                          : (size_t)0);
        }
        ONYXI_CHECK(retire(c, ni, ONYXI_FUSION_FOLDED, -1));
    }
    return ONYX_OK;
}

/* ---- drop_identity ---- */

/* A bool scalar initializer holding false. */
static int is_false(const pass_ctx *c, int v) {
    if (!is_initializer(c, v)) return 0;
    const onyx_tensor *t = &c->g->values[v].info;
    return t->dtype == ONYX_DTYPE_BOOL && onyxi_shape_count(t->rank, t->dims) >= 1 &&
           *(const unsigned char *)t->data == 0;
}

/* Node ni passes value in through as out: out's readers take in instead and ni retires as
 * dropped. Left alone when out has more readers than this walks (rare). */
static onyx_status bypass(pass_ctx *c, int ni, int in, int out) {
    int rd[64], slots;
    int nr = readers(c, out, rd, 64, &slots);
    if (nr < 0) return ONYX_OK;
    for (int r = 0; r < nr; r++) {
        onyxi_node *cn = &c->g->nodes[rd[r]];
        for (int k = 0; k < cn->n_inputs; k++)
            if (cn->inputs[k] == out) ONYXI_CHECK(set_input(c, rd[r], k, in));
    }
    return retire(c, ni, ONYXI_FUSION_DROPPED, -1);
}

static onyx_status drop_identity(pass_ctx *c) {
    onyxi_graph *g = c->g;
    for (int ni = 0; ni < g->n_nodes; ni++) {
        onyxi_node *n = &g->nodes[ni];
        int dropout = is_op(n, "Dropout");
        if (!is_op(n, "Identity") && !dropout) continue;
        if (n->n_inputs < 1 || n->n_outputs < 1) continue;
        int in = n->inputs[0], out = n->outputs[0];
        if (in < 0 || out < 0 || is_graph_output(c, out)) continue;
        if (dropout) {
            int tmp[1], slots;
            /* the mask must be unused; training_mode absent or a constant false */
            if (n->n_outputs > 1 && n->outputs[1] >= 0 &&
                (is_graph_output(c, n->outputs[1]) ||
                 readers(c, n->outputs[1], tmp, 1, &slots) != 0))
                continue;
            if (n->n_inputs > 2 && n->inputs[2] >= 0 && !is_false(c, n->inputs[2])) continue;
        }
        ONYXI_CHECK(bypass(c, ni, in, out));
    }
    return ONYX_OK;
}

/* 1 when every value of Pad node n's pads is 0: the attribute before opset 11, else input 1,
 * which must be a constant (a Constant node's output is one after fold_constants). */
static int pads_all_zero(const pass_ctx *c, const onyxi_node *n) {
    if (n->opset < 11) {
        const int64_t *p;
        int cnt = onyxi_attr_ints(n, "pads", &p);
        for (int i = 0; i < cnt; i++)
            if (p[i] != 0) return 0;
        return cnt >= 0;
    }
    int v = n->n_inputs > 1 ? n->inputs[1] : -1;
    if (!is_initializer(c, v)) return 0;
    const onyx_tensor *t = &c->g->values[v].info;
    int64_t cnt = onyxi_shape_count(t->rank, t->dims);
    if (t->dtype != ONYX_DTYPE_INT64 || cnt < 0 || t->nbytes != (size_t)cnt * sizeof(int64_t))
        return 0;
    for (int64_t i = 0; i < cnt; i++)
        if (onyxi_read_int(t, i) != 0) return 0;
    return 1;
}

/* Part of drop_identity: a Pad of all-zero pads returns its input whatever its mode (PyTorch
 * exports one before each count_include_pad AveragePool). It runs after fold_constants and
 * the first shape propagation: `pads` is then an initializer, and only a Pad whose output
 * shape inferred statically (so its own checks of pads, axes and mode passed) is dropped,
 * leaving a malformed one to fail where it always did. */
static onyx_status drop_zero_pads(pass_ctx *c) {
    onyxi_graph *g = c->g;
    for (int ni = 0; ni < g->n_nodes; ni++) {
        onyxi_node *n = &g->nodes[ni];
        if (!is_op(n, "Pad") || n->n_inputs < 1 || n->n_outputs != 1) continue;
        int in = n->inputs[0], out = n->outputs[0];
        if (in < 0 || out < 0 || out >= c->n_static || !c->known[out] || is_graph_output(c, out))
            continue;
        if (pads_all_zero(c, n)) ONYXI_CHECK(bypass(c, ni, in, out));
    }
    return ONYX_OK;
}

/* ---- fold_bn ---- */

/* v is a float32 initializer of shape [m]. */
static int is_vector(const pass_ctx *c, int v, int64_t m) {
    if (!is_initializer(c, v)) return 0;
    const onyx_tensor *t = &c->g->values[v].info;
    return t->dtype == ONYX_DTYPE_FLOAT32 && t->rank == 1 && t->dims[0] == m &&
           t->nbytes == (size_t)m * sizeof(float);
}

static onyx_status fold_bn_one(pass_ctx *c, int bi) {
    onyxi_graph *g = c->g;
    onyxi_node *bn = &g->nodes[bi];
    if (bn->n_inputs != 5 || bn->n_outputs < 1 || bn->inputs[0] < 0 || bn->outputs[0] < 0)
        return ONYX_OK;
    if (bn->opset < 9 && onyxi_attr_int(bn, "spatial", 1) == 0) return ONYX_OK;
    if (onyxi_attr_int(bn, "training_mode", 0) != 0) return ONYX_OK;
    for (int k = 1; k < bn->n_outputs; k++) {
        int v = bn->outputs[k], tmp[1], slots;
        if (v >= 0 && (is_graph_output(c, v) || readers(c, v, tmp, 1, &slots) != 0)) return ONYX_OK;
    }
    int y = bn->inputs[0];
    int ci = g->values[y].producer;
    if (ci < 0 || is_graph_output(c, y)) return ONYX_OK;
    onyxi_node *cv = &g->nodes[ci];
    /* a Conv already carrying post-ops computes something else than its linear output */
    if (!is_op(cv, "Conv") || (cv->fusion && cv->fusion->n_post > 0) || cv->n_outputs != 1 ||
        cv->n_inputs < 2 || cv->n_inputs > 3)
        return ONYX_OK;
    int rd[2], slots;
    if (readers(c, y, rd, 2, &slots) != 1 || slots != 1) return ONYX_OK;
    int w = cv->inputs[1], b = cv->n_inputs > 2 ? cv->inputs[2] : -1;
    if (!is_initializer(c, w)) return ONYX_OK;
    const onyx_tensor *W = &g->values[w].info;
    if (W->dtype != ONYX_DTYPE_FLOAT32 || W->rank < 3 || W->dims[0] < 1) return ONYX_OK;
    int64_t m = W->dims[0], count = onyxi_shape_count(W->rank, W->dims);
    if (count < 0 || W->nbytes != (size_t)count * sizeof(float)) return ONYX_OK;
    if (b >= 0 && !is_vector(c, b, m)) return ONYX_OK;
    for (int k = 1; k < 5; k++)
        if (!is_vector(c, bn->inputs[k], m)) return ONYX_OK;
    const float *sc = g->values[bn->inputs[1]].info.data, *sh = g->values[bn->inputs[2]].info.data;
    const float *mu = g->values[bn->inputs[3]].info.data, *va = g->values[bn->inputs[4]].info.data;
    const float *wd = W->data, *bd = b >= 0 ? g->values[b].info.data : NULL;
    float eps = onyxi_attr_float(bn, "epsilon", 1e-5f);

    float *nw = onyxi_malloc(W->nbytes), *nb = onyxi_malloc((size_t)m * sizeof *nb);
    if (!nw || !nb) {
        onyxi_free(nw);
        onyxi_free(nb);
        return nomem(c);
    }
    int64_t per = count / m;
    for (int64_t o = 0; o < m; o++) {
        /* the same factor the BatchNormalization kernel computes */
        float a = sc[o] / sqrtf(va[o] + eps);
        for (int64_t i = 0; i < per; i++)
            nw[o * per + i] = wd[o * per + i] * a;
        nb[o] = ((bd ? bd[o] : 0.0f) - mu[o]) * a + sh[o];
    }
    int64_t wdims[ONYXI_MAX_RANK];
    memcpy(wdims, W->dims, sizeof wdims);
    int wrank = W->rank;
    size_t wbytes = W->nbytes;
    char base[300];
    snprintf(base, sizeof base, "%.200s/bn_folded_W", g->values[w].name);
    int nwv = add_initializer(c, base, wrank, wdims, nw, wbytes);
    if (nwv < 0) {
        onyxi_free(nw);
        onyxi_free(nb);
        return ONYX_NOMEM;
    }
    snprintf(base, sizeof base, "%.200s/bn_folded_B", g->values[w].name);
    int nbv = add_initializer(c, base, 1, &m, nb, (size_t)m * sizeof *nb);
    if (nbv < 0) {
        onyxi_free(nb);
        return ONYX_NOMEM;
    }
    ONYXI_CHECK(set_input(c, ci, 1, nwv));
    if (cv->n_inputs < 3)
        ONYXI_CHECK(append_input(c, ci, nbv, NULL));
    else
        ONYXI_CHECK(set_input(c, ci, 2, nbv));
    int z = bn->outputs[0];
    ONYXI_CHECK(retire(c, bi, ONYXI_FUSION_ABSORBED, ci));
    cv->outputs[0] = z;
    g->values[z].producer = ci;
    return host_absorbs(c, ci, "BatchNormalization");
}

static onyx_status fold_bn(pass_ctx *c) {
    for (int i = 0; i < c->g->n_nodes; i++)
        if (is_op(&c->g->nodes[i], "BatchNormalization")) ONYXI_CHECK(fold_bn_one(c, i));
    return ONYX_OK;
}

/* ---- fuse_act / fuse_add: post-op chains on Conv, MatMul and Gemm ---- */

/* Reads a constant float32 scalar bound (input k of n) into *out; 0 when it is not one. */
static int const_bound(const pass_ctx *c, const onyxi_node *n, int k, float *out) {
    if (n->n_inputs <= k || n->inputs[k] < 0) return 1; /* absent: the default stays */
    int v = n->inputs[k];
    if (!is_initializer(c, v)) return 0;
    const onyx_tensor *t = &c->g->values[v].info;
    if (t->dtype != ONYX_DTYPE_FLOAT32 || onyxi_shape_count(t->rank, t->dims) != 1) return 0;
    *out = *(const float *)t->data;
    return 1;
}

/* The activation node a as a post-op; 0 when it is not one this pass fuses. */
static int activation(const pass_ctx *c, const onyxi_node *a, onyxi_post_op *p) {
    memset(p, 0, sizeof *p);
    if (is_op(a, "Relu")) {
        p->kind = ONYXI_POST_RELU;
    } else if (is_op(a, "LeakyRelu")) {
        p->kind = ONYXI_POST_LEAKY_RELU;
        p->alpha = onyxi_attr_float(a, "alpha", 0.01f);
    } else if (is_op(a, "Sigmoid")) {
        p->kind = ONYXI_POST_SIGMOID;
    } else if (is_op(a, "HardSigmoid")) {
        p->kind = ONYXI_POST_HARD_SIGMOID;
        p->alpha = onyxi_attr_float(a, "alpha", 0.2f);
        p->beta = onyxi_attr_float(a, "beta", 0.5f);
    } else if (is_op(a, "Clip")) {
        p->kind = ONYXI_POST_CLIP;
        /* the defaults the Clip kernel uses, so fused and unfused agree bit for bit */
        if (a->opset < 11) {
            p->alpha = onyxi_attr_float(a, "min", -FLT_MAX);
            p->beta = onyxi_attr_float(a, "max", FLT_MAX);
        } else {
            p->alpha = -INFINITY;
            p->beta = INFINITY;
            if (!const_bound(c, a, 1, &p->alpha) || !const_bound(c, a, 2, &p->beta)) return 0;
        }
        if (isnan(p->alpha) || isnan(p->beta)) return 0;
    } else {
        return 0;
    }
    return a->n_inputs >= 1 && a->n_outputs >= 1 && a->outputs[0] >= 0;
}

/* The static shapes of values a and b are known and equal, float32. */
static int same_static_shape(const pass_ctx *c, int a, int b) {
    if (a < 0 || b < 0 || a >= c->n_static || b >= c->n_static) return 0;
    for (int set = 0; set < 2; set++) {
        const unsigned char *known = set ? c->known2 : c->known;
        const onyx_tensor *tv = set ? c->t2 : c->t;
        if (!known[a] || !known[b]) return 0;
        const onyx_tensor *x = &tv[a], *y = &tv[b];
        if (x->dtype != ONYX_DTYPE_FLOAT32 || y->dtype != ONYX_DTYPE_FLOAT32 || x->rank != y->rank)
            return 0;
        for (int d = 0; d < x->rank; d++)
            if (x->dims[d] != y->dims[d]) return 0;
    }
    return 1;
}

static const char *post_name(onyxi_post_kind k) {
    switch (k) {
    case ONYXI_POST_RELU:
        return "Relu";
    case ONYXI_POST_LEAKY_RELU:
        return "LeakyRelu";
    case ONYXI_POST_CLIP:
        return "Clip";
    case ONYXI_POST_SIGMOID:
        return "Sigmoid";
    case ONYXI_POST_HARD_SIGMOID:
        return "HardSigmoid";
    case ONYXI_POST_SILU:
        return "SiLU";
    case ONYXI_POST_ADD:
    case ONYXI_POST_BIAS:
        return "Add";
    case ONYXI_POST_GELU:
        return "Gelu";
    }
    return "?";
}

/* The constant float32 scalar v (one element, of a rank that cannot raise y's static rank by
 * broadcasting) into *out. */
static int scalar_const(const pass_ctx *c, int v, int y, float *out) {
    if (!is_initializer(c, v)) return 0;
    const onyx_tensor *t = &c->g->values[v].info;
    if (t->dtype != ONYX_DTYPE_FLOAT32 || onyxi_shape_count(t->rank, t->dims) != 1 ||
        t->nbytes != sizeof(float))
        return 0;
    if (t->rank > 0 && !(y >= 0 && y < c->n_static && c->known[y] && c->t[y].rank >= t->rank))
        return 0;
    *out = *(const float *)t->data;
    return 1;
}

/* The one live node reading v, through one slot; -1 when v has other readers or is a graph
 * output (then it must stay computed). */
static int only_reader(const pass_ctx *c, int v) {
    int rd[2], slots;
    if (v < 0 || is_graph_output(c, v) || readers(c, v, rd, 2, &slots) != 1 || slots != 1)
        return -1;
    return rd[0];
}

/* Node ni is op(v, k) (or op(k, v) when either_order) with a constant scalar k, writing one
 * output; k into *k. */
static int op_with_const(const pass_ctx *c, int ni, const char *op, int v, int either_order,
                         float *k) {
    if (ni < 0) return 0;
    const onyxi_node *n = &c->g->nodes[ni];
    if (!is_op(n, op) || n->n_inputs != 2 || n->n_outputs != 1 || n->outputs[0] < 0) return 0;
    if (n->inputs[0] == v && scalar_const(c, n->inputs[1], v, k)) return 1;
    return either_order && n->inputs[1] == v && scalar_const(c, n->inputs[0], v, k);
}

/* Node ni is Mul(a, b) in either order, writing one output. */
static int is_mul_of(const pass_ctx *c, int ni, int a, int b) {
    if (ni < 0) return 0;
    const onyxi_node *n = &c->g->nodes[ni];
    return is_op(n, "Mul") && n->n_inputs == 2 && n->n_outputs == 1 && n->outputs[0] >= 0 &&
           ((n->inputs[0] == a && n->inputs[1] == b) || (n->inputs[0] == b && n->inputs[1] == a));
}

/* An erf GELU reading y through its two readers rd[0..1]: u = Div(y, sqrt(2)) or
 * Mul(y, 1/sqrt(2)), h = Add(Erf(u), 1), then y * h * 0.5 as Mul(Mul(y, h), 0.5),
 * Mul(y, Mul(h, 0.5)) or Mul(Mul(y, 0.5), h), each Mul in either operand order and every
 * intermediate read once. Fills p, the five absorbed nodes and z (the last Mul's output). */
static int gelu_chain(const pass_ctx *c, int y, const int *rd, onyxi_post_op *p, int *absorbed,
                      int *z) {
    const onyxi_graph *g = c->g;
    for (int w = 0; w < 2; w++) {
        int si = rd[w], oi = rd[1 - w];
        float k, half, one;
        int mul;
        /* gelu_erf computes erf(y / sqrt(2)): only that constant, to float rounding */
        if (op_with_const(c, si, "Div", y, 0, &k) && fabsf(k - 1.41421356f) <= 2e-6f)
            mul = 0;
        else if (op_with_const(c, si, "Mul", y, 1, &k) && fabsf(k - 0.707106781f) <= 1e-6f)
            mul = 1;
        else
            continue;
        int ei = only_reader(c, g->nodes[si].outputs[0]);
        if (ei < 0 || !is_op(&g->nodes[ei], "Erf") || g->nodes[ei].n_inputs != 1 ||
            g->nodes[ei].n_outputs != 1)
            continue;
        int ev = g->nodes[ei].outputs[0];
        int ai = only_reader(c, ev);
        if (!op_with_const(c, ai, "Add", ev, 1, &one) || one != 1.0f) continue;
        int hv = g->nodes[ai].outputs[0];
        int m1 = only_reader(c, hv), m2 = -1;
        if (is_mul_of(c, m1, y, hv) && m1 == oi) {
            /* Mul(Mul(y, h), 0.5) */
            int mv = g->nodes[m1].outputs[0];
            m2 = only_reader(c, mv);
            if (!op_with_const(c, m2, "Mul", mv, 1, &half) || half != 0.5f) continue;
        } else if (op_with_const(c, m1, "Mul", hv, 1, &half) && half == 0.5f) {
            /* Mul(y, Mul(h, 0.5)) */
            int mv = g->nodes[m1].outputs[0];
            m2 = only_reader(c, mv);
            if (m2 != oi || !is_mul_of(c, m2, y, mv)) continue;
        } else if (op_with_const(c, oi, "Mul", y, 1, &half) && half == 0.5f) {
            /* Mul(Mul(y, 0.5), h) */
            int yh = g->nodes[oi].outputs[0];
            if (m1 < 0 || only_reader(c, yh) != m1 || !is_mul_of(c, m1, yh, hv)) continue;
            m2 = m1;
            m1 = oi;
        } else {
            continue;
        }
        memset(p, 0, sizeof *p);
        p->kind = ONYXI_POST_GELU;
        p->alpha = k;
        p->beta = (float)mul;
        absorbed[0] = si;
        absorbed[1] = ei;
        absorbed[2] = ai;
        absorbed[3] = m1;
        absorbed[4] = m2;
        *z = g->nodes[m2].outputs[0];
        return 1;
    }
    return 0;
}

/* Value r is a float32 initializer [..., 1, N] whose N is y's static last dim, of at most
 * y's rank: Add(y, r) keeps y's shape and adds one row to every row. Only one per chain and
 * only with a B of rank 2 or more: oneDNN takes no other, and the reference MatMul running
 * the whole chain would cost more than the Add saves. */
static int bias_row(const pass_ctx *c, const onyxi_node *mm, int y, int r) {
    if (!is_initializer(c, r) || y < 0 || y >= c->n_static) return 0;
    for (int i = 0; mm->fusion && i < mm->fusion->n_post; i++)
        if (mm->fusion->post[i].kind == ONYXI_POST_BIAS) return 0;
    int bv = mm->inputs[1];
    if (bv < 0 || bv >= c->n_static || !c->known[bv] || c->t[bv].rank < 2) return 0;
    const onyx_tensor *b = &c->g->values[r].info;
    if (b->dtype != ONYX_DTYPE_FLOAT32 || b->rank < 1) return 0;
    int64_t n = b->dims[b->rank - 1];
    if (n < 1 || b->nbytes != (size_t)n * sizeof(float)) return 0;
    for (int d = 0; d < b->rank - 1; d++)
        if (b->dims[d] != 1) return 0;
    for (int set = 0; set < 2; set++) {
        const unsigned char *known = set ? c->known2 : c->known;
        const onyx_tensor *t = set ? &c->t2[y] : &c->t[y];
        if (!known[y] || t->dtype != ONYX_DTYPE_FLOAT32 || t->rank < b->rank ||
            t->dims[t->rank - 1] != n)
            return 0;
    }
    return 1;
}

/* Extends host ci's post-op chain by one step (a residual Add only when allow_add, a bias Add
 * only on a MatMul); *more = 0 when nothing more fits. */
static onyx_status fuse_step(pass_ctx *c, int ci, int allow_add, int *more) {
    onyxi_graph *g = c->g;
    onyxi_node *cv = &g->nodes[ci];
    *more = 0;
    if (cv->fusion && cv->fusion->n_post >= ONYXI_MAX_POST_OPS) return ONYX_OK;
    int y = cv->outputs[0];
    if (y < 0 || is_graph_output(c, y)) return ONYX_OK;
    int rd[2], slots;
    int nr = readers(c, y, rd, 2, &slots);
    onyxi_post_op p;
    int absorbed[5] = {-1, -1, -1, -1, -1}, z = -1;
    if (nr == 1 && slots == 1) {
        onyxi_node *a = &g->nodes[rd[0]];
        if ((c->on & ONYX_PASS_FUSE_ACT) && activation(c, a, &p) && a->inputs[0] == y) {
            absorbed[0] = rd[0];
            z = a->outputs[0];
        } else if (allow_add && (c->on & ONYX_PASS_FUSE_ADD) && is_op(a, "Add") &&
                   a->n_inputs == 2 && a->n_outputs == 1 && a->outputs[0] >= 0) {
            int r = a->inputs[0] == y ? a->inputs[1] : a->inputs[0];
            /* the result must have the conv's shape: no broadcasting inside the step */
            if (r < 0 || r == y || !same_static_shape(c, y, r) ||
                !same_static_shape(c, y, a->outputs[0]))
                return ONYX_OK;
            memset(&p, 0, sizeof p);
            p.kind = ONYXI_POST_ADD;
            if (cv->n_inputs < 3) ONYXI_CHECK(append_input(c, ci, -1, NULL));
            ONYXI_CHECK(append_input(c, ci, r, &p.input));
            absorbed[0] = rd[0];
            z = a->outputs[0];
        } else if (is_op(cv, "MatMul") && (c->on & ONYX_PASS_FUSE_ADD) && is_op(a, "Add") &&
                   a->n_inputs == 2 && a->n_outputs == 1 && a->outputs[0] >= 0 &&
                   bias_row(c, cv, y, a->inputs[0] == y ? a->inputs[1] : a->inputs[0])) {
            memset(&p, 0, sizeof p);
            p.kind = ONYXI_POST_BIAS;
            ONYXI_CHECK(
                append_input(c, ci, a->inputs[0] == y ? a->inputs[1] : a->inputs[0], &p.input));
            absorbed[0] = rd[0];
            z = a->outputs[0];
        }
    } else if (nr == 2 && slots == 2 && (c->on & ONYX_PASS_FUSE_ACT) &&
               gelu_chain(c, y, rd, &p, absorbed, &z)) {
        /* GELU: absorbed and z are set */
    } else if (nr == 2 && slots == 2 && (c->on & ONYX_PASS_FUSE_ACT)) {
        /* SiLU: Mul(y, Sigmoid(y)) in either order, the sigmoid read only by the Mul */
        int si = is_op(&g->nodes[rd[0]], "Sigmoid") ? rd[0] : rd[1];
        int mi = si == rd[0] ? rd[1] : rd[0];
        onyxi_node *s = &g->nodes[si], *m = &g->nodes[mi];
        if (!is_op(s, "Sigmoid") || !is_op(m, "Mul") || s->n_outputs < 1 || m->n_inputs != 2 ||
            m->n_outputs != 1 || m->outputs[0] < 0)
            return ONYX_OK;
        int sv = s->outputs[0];
        if (sv < 0 || is_graph_output(c, sv)) return ONYX_OK;
        if (!((m->inputs[0] == y && m->inputs[1] == sv) ||
              (m->inputs[1] == y && m->inputs[0] == sv)))
            return ONYX_OK;
        int rs[2], ss;
        if (readers(c, sv, rs, 2, &ss) != 1 || ss != 1) return ONYX_OK;
        memset(&p, 0, sizeof p);
        p.kind = ONYXI_POST_SILU;
        absorbed[0] = si;
        absorbed[1] = mi;
        z = m->outputs[0];
    }
    if (z < 0) return ONYX_OK;
    for (int i = 0; i < 5; i++)
        if (absorbed[i] >= 0) ONYXI_CHECK(retire(c, absorbed[i], ONYXI_FUSION_ABSORBED, ci));
    cv->outputs[0] = z;
    g->values[z].producer = ci;
    ONYXI_CHECK(host_absorbs(c, ci, post_name(p.kind)));
    cv->fusion->post[cv->fusion->n_post++] = p;
    *more = 1;
    return ONYX_OK;
}

/* Value v is float32: by the static shapes, or else by its declared type. */
static int is_float(const pass_ctx *c, int v) {
    if (v < 0) return 0;
    if (v < c->n_static && c->known[v]) return c->t[v].dtype == ONYX_DTYPE_FLOAT32;
    return c->g->values[v].info.dtype == ONYX_DTYPE_FLOAT32;
}

/* A BatchNormalization left standing by fold_bn (pre-activation blocks: DenseNet) hosts the
 * Relu it feeds. Only Relu: oneDNN 2.6 normalization takes no post-ops, only its
 * dnnl_fuse_norm_relu flag; the reference kernel applies the chain per plane. */
static onyx_status fuse_bn_relu(pass_ctx *c, int bi) {
    const onyxi_node *bn = &c->g->nodes[bi];
    int y = bn->outputs[0], rd[2], slots, more;
    if (bn->fusion || y < 0 || is_graph_output(c, y)) return ONYX_OK;
    if (readers(c, y, rd, 2, &slots) != 1 || slots != 1 || !is_op(&c->g->nodes[rd[0]], "Relu"))
        return ONYX_OK;
    return fuse_step(c, bi, 0, &more);
}

static onyx_status fuse_hosts(pass_ctx *c) {
    for (int oi = 0; oi < c->g->n_nodes; oi++) {
        int ci = c->g->order[oi];
        onyxi_node *h = &c->g->nodes[ci];
        if (h->n_outputs != 1 || h->n_inputs < 2) continue;
        if (is_op(h, "BatchNormalization")) {
            if (c->on & ONYX_PASS_FUSE_ACT) ONYXI_CHECK(fuse_bn_relu(c, ci));
            continue;
        }
        int allow_add = is_op(h, "Conv");
        /* MatMul and Gemm also run on integers, which the post-ops do not; their dtypes
         * agree, so any one operand known as float32 settles it */
        if (!allow_add) {
            if (!(is_op(h, "MatMul") || is_op(h, "Gemm"))) continue;
            if (!is_float(c, h->inputs[0]) && !is_float(c, h->inputs[1]) &&
                !is_float(c, h->outputs[0]))
                continue;
        }
        for (int more = 1; more;)
            ONYXI_CHECK(fuse_step(c, ci, allow_add, &more));
    }
    return ONYX_OK;
}

/* ---- fuse_norm: a LayerNormalization exported as primitive ops ---- */

/* Node ri is a ReduceMean of x over its last axis only (x of static rank `rank`), keeping the
 * axis. Opset 18 moved axes from the attribute to a (here constant) input. */
static int mean_last_axis(const pass_ctx *c, int ri, int x, int rank) {
    if (ri < 0) return 0;
    const onyxi_node *r = &c->g->nodes[ri];
    if (!is_op(r, "ReduceMean") || r->n_inputs < 1 || r->inputs[0] != x || r->n_outputs != 1 ||
        r->outputs[0] < 0 || onyxi_attr_int(r, "keepdims", 1) != 1)
        return 0;
    int64_t axis;
    if (r->op->since_version < 18) {
        const int64_t *ax;
        if (onyxi_attr_ints(r, "axes", &ax) != 1) return 0;
        axis = ax[0];
    } else {
        int v = r->n_inputs > 1 ? r->inputs[1] : -1;
        if (!is_initializer(c, v)) return 0;
        const onyx_tensor *t = &c->g->values[v].info;
        if (t->dtype != ONYX_DTYPE_INT64 || onyxi_shape_count(t->rank, t->dims) != 1 ||
            t->nbytes != sizeof(int64_t))
            return 0;
        axis = *(const int64_t *)t->data;
    }
    return axis == -1 || axis == rank - 1;
}

/* Node ni is op(v, p) or op(p, v) with p a float32 initializer [n]; p, else -1. */
static int param_operand(const pass_ctx *c, int ni, const char *op, int v, int64_t n) {
    if (ni < 0) return -1;
    const onyxi_node *nd = &c->g->nodes[ni];
    if (!is_op(nd, op) || nd->n_inputs != 2 || nd->n_outputs != 1 || nd->outputs[0] < 0) return -1;
    int p = nd->inputs[0] == v ? nd->inputs[1] : nd->inputs[1] == v ? nd->inputs[0] : -1;
    return p != v && is_vector(c, p, n) ? p : -1;
}

/* Rewrites the chain that starts at ReduceMean r1 when it is
 *   d = Sub(x, ReduceMean(x)), y = Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps))) * gamma + beta
 * (Pow(d, 2) may be Mul(d, d), the Mul and Add may take their operands in either order, beta
 * may be missing), every mean over x's last axis and every intermediate read only inside the
 * chain. Its last node (the Add of beta, else the Mul) becomes LayerNormalization(x, gamma,
 * beta) with axis -1 and that epsilon, through onyx's LayerNormalization-17 entry whatever the
 * model's opset; the others are absorbed into it. x's static last dim must be gamma's length
 * (the unfused ops would broadcast a mismatch). */
static onyx_status fuse_norm_one(pass_ctx *c, int r1) {
    onyxi_graph *g = c->g;
    int x = g->nodes[r1].n_inputs >= 1 ? g->nodes[r1].inputs[0] : -1;
    if (x < 0 || x >= c->n_static || !c->known[x] || !c->known2[x]) return ONYX_OK;
    const onyx_tensor *tx = &c->t[x];
    int rank = tx->rank;
    if (tx->dtype != ONYX_DTYPE_FLOAT32 || rank < 1 || c->t2[x].rank != rank) return ONYX_OK;
    int64_t n = tx->dims[rank - 1];
    if (n < 1 || c->t2[x].dims[rank - 1] != n || !mean_last_axis(c, r1, x, rank)) return ONYX_OK;
    int mean = g->nodes[r1].outputs[0], si = only_reader(c, mean);
    if (si < 0) return ONYX_OK;
    const onyxi_node *sub = &g->nodes[si];
    if (!is_op(sub, "Sub") || sub->n_inputs != 2 || sub->inputs[0] != x || sub->inputs[1] != mean ||
        sub->n_outputs != 1 || sub->outputs[0] < 0)
        return ONYX_OK;
    /* d feeds the square and the final Div */
    int d = sub->outputs[0], rd[2], slots, pi = -1, di = -1;
    if (is_graph_output(c, d) || readers(c, d, rd, 2, &slots) != 2) return ONYX_OK;
    for (int w = 0; w < 2; w++) {
        const onyxi_node *nd = &g->nodes[rd[w]];
        float two;
        if ((op_with_const(c, rd[w], "Pow", d, 0, &two) && two == 2.0f) ||
            is_mul_of(c, rd[w], d, d))
            pi = rd[w];
        else if (is_op(nd, "Div") && nd->n_inputs == 2 && nd->inputs[0] == d &&
                 nd->inputs[1] != d && nd->n_outputs == 1 && nd->outputs[0] >= 0)
            di = rd[w];
    }
    if (pi < 0 || di < 0 || slots != (is_mul_of(c, pi, d, d) ? 3 : 2)) return ONYX_OK;
    int sq = g->nodes[pi].outputs[0], r2 = only_reader(c, sq);
    if (!mean_last_axis(c, r2, sq, rank)) return ONYX_OK;
    int var = g->nodes[r2].outputs[0], ai = only_reader(c, var);
    float eps;
    if (!op_with_const(c, ai, "Add", var, 1, &eps) || !isfinite(eps)) return ONYX_OK;
    int qi = only_reader(c, g->nodes[ai].outputs[0]);
    if (qi < 0 || !is_op(&g->nodes[qi], "Sqrt") || g->nodes[qi].n_inputs != 1 ||
        g->nodes[qi].n_outputs != 1)
        return ONYX_OK;
    int q = g->nodes[qi].outputs[0];
    if (only_reader(c, q) != di || g->nodes[di].inputs[1] != q) return ONYX_OK;
    int dv = g->nodes[di].outputs[0], mi = only_reader(c, dv);
    int gamma = param_operand(c, mi, "Mul", dv, n);
    if (gamma < 0) return ONYX_OK;
    int mv = g->nodes[mi].outputs[0], bi = only_reader(c, mv);
    int beta = param_operand(c, bi, "Add", mv, n);
    int hi = beta >= 0 ? bi : mi;
    onyxi_node *h = &g->nodes[hi];
    const onyxi_op *ln = onyxi_op_find("", "LayerNormalization", 17, NULL);
    if (!ln || h->fusion || h->n_attrs != 0) return ONYX_OK;

    /* everything that can fail to allocate first: the graph stays as it was */
    char *op_type = onyxi_strdup("LayerNormalization");
    onyxi_attr *attrs = onyxi_calloc(2, sizeof *attrs);
    onyxi_fusion *f = onyxi_calloc(1, sizeof *f);
    char *axis_name = onyxi_strdup("axis"), *eps_name = onyxi_strdup("epsilon");
    if (!op_type || !attrs || !f || !axis_name || !eps_name) {
        onyxi_free(op_type);
        onyxi_free(attrs);
        onyxi_free(f);
        onyxi_free(axis_name);
        onyxi_free(eps_name);
        return nomem(c);
    }
    attrs[0].name = axis_name;
    attrs[0].type = ONYXI_ATTR_INT;
    attrs[0].i = -1;
    attrs[1].name = eps_name;
    attrs[1].type = ONYXI_ATTR_FLOAT;
    attrs[1].f = eps;
    onyxi_free(h->attrs);
    h->attrs = attrs;
    h->n_attrs = 2;
    onyxi_free(h->op_type);
    h->op_type = op_type;
    h->op = ln;
    f->role = ONYXI_FUSION_HOST;
    f->host = -1;
    h->fusion = f;
    ONYXI_CHECK(set_input(c, hi, 0, x));
    ONYXI_CHECK(set_input(c, hi, 1, gamma));
    if (beta >= 0) ONYXI_CHECK(append_input(c, hi, beta, NULL));
    const int absorbed[8] = {r1, si, pi, r2, ai, qi, di, hi == bi ? mi : -1};
    for (int i = 0; i < 8; i++)
        if (absorbed[i] >= 0) ONYXI_CHECK(retire(c, absorbed[i], ONYXI_FUSION_ABSORBED, hi));
    return ONYX_OK;
}

static onyx_status fuse_norm(pass_ctx *c) {
    for (int oi = 0; oi < c->g->n_nodes; oi++) {
        int ni = c->g->order[oi];
        if (is_op(&c->g->nodes[ni], "ReduceMean")) ONYXI_CHECK(fuse_norm_one(c, ni));
    }
    return ONYX_OK;
}

/* ---- driver ---- */

/* Initializers nothing reads any more (replaced by folded ones) give their memory back. */
static void drop_unread(pass_ctx *c) {
    onyxi_graph *g = c->g;
    for (int v = 0; v < g->n_values; v++) {
        onyxi_value *gv = &g->values[v];
        if (!c->touched[v] || c->uses[v] > 0 || !(gv->flags & ONYXI_VALUE_INITIALIZER) ||
            (gv->flags & ONYXI_VALUE_GRAPH_OUTPUT))
            continue;
        if (gv->info.owns_data) onyxi_free(gv->info.data);
        gv->info.data = NULL;
        gv->info.owns_data = 0;
        gv->info.nbytes = 0;
        gv->flags &= ~(unsigned)ONYXI_VALUE_INITIALIZER;
    }
}

/* g->order again, with each absorbed node right after the node that runs it. */
static onyx_status reorder(pass_ctx *c) {
    onyxi_graph *g = c->g;
    ONYXI_CHECK(onyxi_graph_order(g, c->e));
    size_t n_nodes = (size_t)g->n_nodes + 1;
    int *order = onyxi_calloc(n_nodes, sizeof *order);
    int *first = onyxi_calloc(n_nodes, sizeof *first), *next = onyxi_calloc(n_nodes, sizeof *next);
    if (!order || !first || !next) {
        onyxi_free(order);
        onyxi_free(first);
        onyxi_free(next);
        return nomem(c);
    }
    /* absorbed nodes per host, in node order (the order of the chain) */
    for (int i = 0; i < g->n_nodes; i++)
        first[i] = next[i] = -1;
    for (int k = g->n_nodes - 1; k >= 0; k--) {
        const onyxi_fusion *a = g->nodes[k].fusion;
        if (!a || a->role != ONYXI_FUSION_ABSORBED || a->host < 0 || a->host >= g->n_nodes)
            continue;
        next[k] = first[a->host];
        first[a->host] = k;
    }
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        int ni = g->order[i];
        const onyxi_fusion *f = g->nodes[ni].fusion;
        if (f && f->role == ONYXI_FUSION_ABSORBED) continue;
        order[n++] = ni;
        for (int k = first[ni]; k >= 0; k = next[k])
            order[n++] = k;
    }
    onyxi_free(first);
    onyxi_free(next);
    onyxi_free(g->order);
    g->order = order;
    return ONYX_OK;
}

static void ctx_free(pass_ctx *c) {
    for (int v = 0; v < c->n_static && c->owned; v++)
        onyxi_free(c->owned[v]);
    onyxi_free(c->owned);
    onyxi_free(c->t);
    onyxi_free(c->t2);
    onyxi_free(c->known);
    onyxi_free(c->known2);
    onyxi_free(c->is_const);
    onyxi_free(c->uses);
    onyxi_free(c->touched);
    onyxi_free(c->head);
    onyxi_free(c->next);
    onyxi_free(c->reader);
}

static onyx_status run_passes(pass_ctx *c, unsigned char *folded) {
    onyxi_graph *g = c->g;
    ONYXI_CHECK(grow_values(c, g->n_values));
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            if (g->nodes[i].inputs[k] >= 0) ONYXI_CHECK(add_reader(c, g->nodes[i].inputs[k], i));
    if (c->on & ONYX_PASS_DROP_IDENTITY) ONYXI_CHECK(drop_identity(c));
    ONYXI_CHECK(
        propagate(c, c->t, c->known, (c->on & ONYX_PASS_FOLD_CONSTANTS) ? folded : NULL, 0));
    ONYXI_CHECK(commit_folds(c, folded));
    if (c->on & ONYX_PASS_DROP_IDENTITY) ONYXI_CHECK(drop_zero_pads(c));
    if (c->on & (ONYX_PASS_FUSE_ADD | ONYX_PASS_FUSE_NORM))
        ONYXI_CHECK(propagate(c, c->t2, c->known2, NULL, 1));
    if (c->on & ONYX_PASS_FOLD_BN) ONYXI_CHECK(fold_bn(c));
    if (c->on & ONYX_PASS_FUSE_NORM) ONYXI_CHECK(fuse_norm(c));
    if (c->on & (ONYX_PASS_FUSE_ACT | ONYX_PASS_FUSE_ADD)) ONYXI_CHECK(fuse_hosts(c));
    drop_unread(c);
    return reorder(c);
}

onyx_status onyxi_graph_passes(onyxi_graph *g, unsigned off, onyxi_err *e) {
    unsigned on = ONYX_PASS_ALL & ~off & ~onyxi_passes_parse(getenv("ONYX_DISABLE_PASSES"));
    if (!on || g->n_nodes == 0) return ONYX_OK;
    pass_ctx c = {.g = g, .e = e, .on = on, .n_static = g->n_values};
    size_t nv = (size_t)g->n_values + 1;
    c.t = onyxi_calloc(nv, sizeof *c.t);
    c.t2 = onyxi_calloc(nv, sizeof *c.t2);
    c.known = onyxi_calloc(nv, 1);
    c.known2 = onyxi_calloc(nv, 1);
    c.is_const = onyxi_calloc(nv, 1);
    c.owned = onyxi_calloc(nv, sizeof *c.owned);
    unsigned char *folded = onyxi_calloc((size_t)g->n_nodes + 1, 1);
    onyx_status rc = c.t && c.t2 && c.known && c.known2 && c.is_const && c.owned && folded
                         ? run_passes(&c, folded)
                         : nomem(&c);
    if (rc == ONYX_OK && onyxi_log_enabled(ONYX_LOG_INFO)) {
        int counts[5] = {0};
        for (int i = 0; i < g->n_nodes; i++)
            if (g->nodes[i].fusion) counts[g->nodes[i].fusion->role]++;
        onyxi_log(ONYX_LOG_INFO,
                  "graph passes: %d nodes folded into constants, %d dropped, %d fused into %d "
                  "others",
                  counts[ONYXI_FUSION_FOLDED], counts[ONYXI_FUSION_DROPPED],
                  counts[ONYXI_FUSION_ABSORBED], counts[ONYXI_FUSION_HOST]);
    }
    onyxi_free(folded);
    ctx_free(&c);
    return rc;
}
