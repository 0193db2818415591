/*
 * Read-only views of a model's node wiring and of a session's current plan: the steps and
 * their implementations, shapes and FLOP estimates, what happened to each node (run, folded,
 * fused), where each arena tensor lives, and the profiler's API. Used by `onyx info --plan`,
 * `--dot` and `onyx bench --top`; none of it is on the execution path.
 */
#include <string.h>

#include "log.h"
#include "model.h"
#include "profile.h"
#include "reorder.h"
#include "session.h"

static int model_ok(const onyx_model *m) { return onyxi_model_valid(m) && m->graph; }

static int session_ok(const onyx_session *s) {
    return s && s->magic == ONYXI_SESSION_MAGIC && !s->failed;
}

/* ---- model nodes ---- */

static const onyxi_node *node_at(const onyx_model *m, int i) {
    if (!model_ok(m) || i < 0 || i >= m->graph->n_nodes) return NULL;
    return &m->graph->nodes[m->graph->order[i]];
}

/* A node the graph passes removed still shows the wiring it had in the file (a fused Relu
 * reads the Conv's old output, a folded node writes its constants); a fused host shows its
 * extra inputs (a residual). */
static int n_inputs(const onyxi_node *n) {
    return n->fusion && n->fusion->role != ONYXI_FUSION_HOST ? n->fusion->n_inputs : n->n_inputs;
}

static int n_outputs(const onyxi_node *n) {
    return n->fusion && n->fusion->role != ONYXI_FUSION_HOST ? n->fusion->n_outputs : n->n_outputs;
}

int onyx_model_node_input_count(const onyx_model *m, int i) {
    const onyxi_node *n = node_at(m, i);
    return n ? n_inputs(n) : -1;
}

int onyx_model_node_output_count(const onyx_model *m, int i) {
    const onyxi_node *n = node_at(m, i);
    return n ? n_outputs(n) : -1;
}

const char *onyx_model_node_input_name(const onyx_model *m, int i, int k) {
    const onyxi_node *n = node_at(m, i);
    if (!n || k < 0 || k >= n_inputs(n)) return NULL;
    return n->inputs[k] < 0 ? "" : m->graph->values[n->inputs[k]].name;
}

const char *onyx_model_node_output_name(const onyx_model *m, int i, int k) {
    const onyxi_node *n = node_at(m, i);
    if (!n || k < 0 || k >= n_outputs(n)) return NULL;
    return n->outputs[k] < 0 ? "" : m->graph->values[n->outputs[k]].name;
}

/* ---- steps ---- */

static const onyxi_step *step_at(const onyx_session *s, int i) {
    if (!session_ok(s) || !s->planned || i < 0 || i >= s->n_steps) return NULL;
    return &s->steps[i];
}

int onyx_session_step_count(const onyx_session *s) {
    if (!session_ok(s)) return -1;
    return s->planned ? s->n_steps : 0;
}

int onyx_session_step_node(const onyx_session *s, int i) {
    const onyxi_step *st = step_at(s, i);
    if (!st) return -1;
    /* public node numbers follow the execution order, steps hold file-order indices */
    for (int k = 0; k < s->g->n_nodes; k++)
        if (s->g->order[k] == st->node) return k;
    return -1;
}

const char *onyx_session_step_impl(const onyx_session *s, int i) {
    const onyxi_step *st = step_at(s, i);
    if (st && st->skip) return "zero-copy"; /* producers write into its output directly */
    return st && st->impl ? st->impl->name : NULL;
}

const char *onyx_session_step_kernel(const onyx_session *s, int i) {
    const onyxi_step *st = step_at(s, i);
    return st && !st->skip ? st->x.detail : NULL;
}

const char *onyx_session_step_layout(const onyx_session *s, int i) {
    const onyxi_step *st = step_at(s, i);
    return st ? onyxi_step_layout(st) : NULL;
}

int onyx_session_step_input_count(const onyx_session *s, int i) {
    const onyxi_step *st = step_at(s, i);
    return st ? st->x.n_in : -1;
}

int onyx_session_step_output_count(const onyx_session *s, int i) {
    const onyxi_step *st = step_at(s, i);
    return st ? st->x.n_out : -1;
}

const onyx_tensor *onyx_session_step_input(const onyx_session *s, int i, int k) {
    const onyxi_step *st = step_at(s, i);
    return st && k >= 0 && k < st->x.n_in ? st->x.in[k] : NULL;
}

const onyx_tensor *onyx_session_step_output(const onyx_session *s, int i, int k) {
    const onyxi_step *st = step_at(s, i);
    return st && k >= 0 && k < st->x.n_out ? st->x.out[k] : NULL;
}

onyx_node_state onyx_session_node_state(const onyx_session *s, int i) {
    if (!session_ok(s) || !s->planned || i < 0 || i >= s->g->n_nodes) return ONYX_NODE_NOT_PLANNED;
    int node = s->g->order[i];
    /* the load-time passes: absorbed into another node's step, or an Identity/Dropout whose
     * readers take its input (merged away just as well); folded at load like at plan time */
    const onyxi_fusion *f = s->g->nodes[node].fusion;
    if (f && (f->role == ONYXI_FUSION_ABSORBED || f->role == ONYXI_FUSION_DROPPED))
        return ONYX_NODE_FUSED;
    if (f && f->role == ONYXI_FUSION_FOLDED) return ONYX_NODE_FOLDED;
    for (int k = 0; k < s->n_steps; k++)
        if (s->steps[k].node == node) return ONYX_NODE_EXECUTED;
    /* a planned node that no step runs was computed at plan time */
    return ONYX_NODE_FOLDED;
}

/* ---- FLOP estimates ---- */

static double count_of(const onyx_tensor *t) {
    if (!t || t->rank < 0) return 0;
    double c = 1;
    for (int d = 0; d < t->rank; d++) c *= (double)(t->dims[d] > 0 ? t->dims[d] : 0);
    return c;
}

/* Ops whose cost is about one operation per output element. */
static int is_elementwise(const char *op) {
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid",
                                      "Tanh", "Clip", "Exp", "Log", "Sqrt", "Pow", "Neg", "Abs",
                                      "Max", "Min", "Erf", "HardSigmoid", "Softmax",
                                      "BatchNormalization", "Elu", "Selu", "PRelu", "HardSwish",
                                      NULL};
    for (int i = 0; ops[i]; i++)
        if (strcmp(op, ops[i]) == 0) return 1;
    return 0;
}

double onyx_session_step_flops(const onyx_session *s, int i) {
    const onyxi_step *st = step_at(s, i);
    if (!st) return -1;
    /* reorders and zero-copy steps only move data */
    if (st->skip || st->impl == &onyxi_reorder_to_plain) return 0;
    /* the registry's name: a fused node's op_type names its whole chain ("Conv+Relu") */
    const onyxi_node *nd = &s->g->nodes[st->node];
    const char *op = nd->op ? nd->op->op_type : nd->op_type;
    const onyx_tensor *y = st->x.n_out > 0 ? st->x.out[0] : NULL;
    const onyx_tensor *a = st->x.n_in > 0 ? st->x.in[0] : NULL;
    const onyx_tensor *w = st->x.n_in > 1 ? st->x.in[1] : NULL;
    if (!y) return 0;
    if ((strcmp(op, "Conv") == 0 || strcmp(op, "ConvTranspose") == 0) && w && w->rank >= 2) {
        /* per output element of Conv: C_in/group * kernel multiply-adds; W is
         * [C_out, C_in/group, k...]. ConvTranspose does the same work per input element. */
        double per = 1;
        for (int d = 1; d < w->rank; d++) per *= (double)w->dims[d];
        if (strcmp(op, "Conv") == 0) return 2 * per * count_of(y);
        return 2 * per * count_of(a); /* W is [C_in, C_out/group, k...] */
    }
    if ((strcmp(op, "MatMul") == 0 || strcmp(op, "Gemm") == 0) && a && a->rank >= 1) {
        /* every output element is a dot product of length K (the last dim of A, or the
         * first for Gemm with transA) */
        double k = (double)a->dims[a->rank - 1];
        if (strcmp(op, "Gemm") == 0 && a->rank == 2) {
            for (int n = 0; n < s->g->nodes[st->node].n_attrs; n++) {
                const onyxi_attr *at = &s->g->nodes[st->node].attrs[n];
                if (strcmp(at->name, "transA") == 0 && at->i) k = (double)a->dims[0];
            }
        }
        if (a->rank == 1) k = (double)a->dims[0];
        return 2 * k * count_of(y);
    }
    if (is_elementwise(op)) return count_of(y);
    return 0;
}

/* ---- values and memory ---- */

const onyx_tensor *onyx_session_value(const onyx_session *s, const char *name) {
    if (!session_ok(s) || !s->planned || !name) return NULL;
    for (int v = 0; v < s->g->n_values; v++)
        if (strcmp(s->g->values[v].name, name) == 0) return &s->vals[v];
    return NULL;
}

int onyx_session_plan_tensor_count(const onyx_session *s) {
    if (!session_ok(s)) return -1;
    return s->planned ? s->n_records : 0;
}

onyx_status onyx_session_plan_tensor(const onyx_session *s, int i, const char **name,
                                     size_t *offset, size_t *nbytes, int *first_step,
                                     int *last_step) {
    if (!session_ok(s)) return ONYX_MISUSE;
    if (!s->planned || i < 0 || i >= s->n_records) return ONYX_INVALID_ARG;
    const onyxi_plan_record *r = &s->records[i];
    if (name) *name = s->vals[r->value].name; /* reorder temps carry their source's name */
    if (offset) *offset = r->offset;
    if (nbytes) *nbytes = r->nbytes;
    if (first_step) *first_step = r->first;
    if (last_step) *last_step = r->last;
    return ONYX_OK;
}

/* ---- profiling ---- */

onyx_status onyx_session_profile_reset(onyx_session *s) {
    if (!session_ok(s) || !s->profiling) return ONYX_MISUSE;
    if (s->prof) onyxi_profile_reset(s->prof);
    return ONYX_OK;
}

int64_t onyx_session_profile_runs(const onyx_session *s) {
    if (!session_ok(s)) return -1;
    return s->prof ? s->prof->runs : 0;
}

int64_t onyx_session_step_time_ns(const onyx_session *s, int i) {
    if (!step_at(s, i) || !s->prof) return -1;
    return s->prof->total_ns[i];
}

onyx_status onyx_session_profile_write(onyx_session *s, const char *path) {
    if (!session_ok(s)) return ONYX_MISUSE;
    onyxi_err_clear(&s->err);
    onyx_status rc;
    if (!path) rc = onyxi_fail(&s->err, ONYX_INVALID_ARG, "path is NULL");
    else if (!s->profiling)
        rc = onyxi_fail(&s->err, ONYX_MISUSE,
                        "profiling is off (turn it on with onyx_options_set_profiling)");
    else rc = onyxi_profile_write(s, path);
    s->errcode = rc;
    return rc;
}
