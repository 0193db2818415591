/*
 * Graph lifetime, deterministic topological order and op resolution.
 * The order is Kahn's algorithm with ties broken by file order (a min-heap on node index),
 * so the same model always runs its nodes in the same order.
 */
#include <stdio.h>
#include <string.h>

#include "../ops/op.h"
#include "alloc.h"
#include "ir.h"

static void free_attr(onyxi_attr *a) {
    onyxi_free(a->name);
    onyxi_free(a->s);
    onyxi_free(a->floats);
    onyxi_free(a->ints);
    if (a->strings)
        for (int i = 0; i < a->count; i++) onyxi_free(a->strings[i]);
    onyxi_free(a->strings);
    onyxi_tensor_destroy(a->t);
}

void onyxi_graph_free(onyxi_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_values && g->values; i++) {
        onyxi_value *v = &g->values[i];
        onyxi_free(v->name);
        if (v->info.owns_data) onyxi_free(v->info.data);
        for (int d = 0; d < ONYXI_MAX_RANK; d++) onyxi_free(v->dim_params[d]);
    }
    for (int i = 0; i < g->n_nodes && g->nodes; i++) {
        onyxi_node *n = &g->nodes[i];
        onyxi_free(n->name);
        onyxi_free(n->op_type);
        onyxi_free(n->domain);
        onyxi_free(n->inputs);
        onyxi_free(n->outputs);
        for (int a = 0; a < n->n_attrs && n->attrs; a++) free_attr(&n->attrs[a]);
        onyxi_free(n->attrs);
        onyxi_free(n->fusion);
    }
    for (int i = 0; i < g->n_opsets && g->opsets; i++) onyxi_free(g->opsets[i].domain);
    onyxi_free(g->values);
    onyxi_free(g->nodes);
    onyxi_free(g->inputs);
    onyxi_free(g->outputs);
    onyxi_free(g->order);
    onyxi_free(g->opsets);
    onyxi_free(g->producer_name);
    onyxi_free(g->producer_version);
    onyxi_free(g->graph_name);
    onyxi_free(g);
}

void onyxi_node_label(const onyxi_graph *g, int node_index, char *buf, size_t size) {
    const onyxi_node *n = &g->nodes[node_index];
    if (n->name && n->name[0]) {
        snprintf(buf, size, "node '%s' (%s-%lld)", n->name, n->op_type, (long long)n->opset);
    } else {
        const char *out = n->n_outputs > 0 && n->outputs[0] >= 0
                              ? g->values[n->outputs[0]].name
                              : "";
        snprintf(buf, size, "node #%d (%s-%lld, output '%s')", node_index, n->op_type,
                 (long long)n->opset, out);
    }
}

/* Binary min-heap of node indices. */
static void heap_push(int *h, int *len, int v) {
    int i = (*len)++;
    h[i] = v;
    while (i > 0 && h[(i - 1) / 2] > h[i]) {
        int p = (i - 1) / 2, t = h[p];
        h[p] = h[i];
        h[i] = t;
        i = p;
    }
}

static int heap_pop(int *h, int *len) {
    int top = h[0];
    h[0] = h[--(*len)];
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < *len && h[l] < h[m]) m = l;
        if (r < *len && h[r] < h[m]) m = r;
        if (m == i) break;
        int t = h[m];
        h[m] = h[i];
        h[i] = t;
        i = m;
    }
    return top;
}

onyx_status onyxi_graph_order(onyxi_graph *g, onyxi_err *e) {
    int n = g->n_nodes;
    onyx_status rc = ONYX_NOMEM;
    int *indeg = onyxi_calloc((size_t)n + 1, sizeof(int));
    int *heap = onyxi_calloc((size_t)n + 1, sizeof(int));
    int *order = onyxi_calloc((size_t)n + 1, sizeof(int));
    /* consumers as a CSR list: for each value, the nodes reading it (a node reading a value
     * twice appears twice, matching the two counts in its in-degree) */
    int *cons_start = onyxi_calloc((size_t)g->n_values + 1, sizeof(int));
    size_t total_inputs = 0;
    for (int i = 0; i < n; i++) total_inputs += (size_t)g->nodes[i].n_inputs;
    int *cons = onyxi_calloc(total_inputs + 1, sizeof(int));
    if (!indeg || !heap || !order || !cons_start || !cons) {
        onyxi_fail(e, ONYX_NOMEM, "out of memory ordering the graph");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const onyxi_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->n_inputs; k++) {
            int v = nd->inputs[k];
            if (v < 0 || g->values[v].producer < 0) continue;
            cons_start[v + 1]++;
            indeg[i]++;
        }
    }
    for (int v = 0; v < g->n_values; v++) cons_start[v + 1] += cons_start[v];
    /* fill: cons_start[v] walks from the start to the end of v's range */
    for (int i = 0; i < n; i++) {
        const onyxi_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->n_inputs; k++) {
            int v = nd->inputs[k];
            if (v < 0 || g->values[v].producer < 0) continue;
            cons[cons_start[v]++] = i;
        }
    }
    /* cons_start[v] now points at the end of v's range; shift back */
    for (int v = g->n_values; v > 0; v--) cons_start[v] = cons_start[v - 1];
    cons_start[0] = 0;

    int len = 0, done_count = 0;
    for (int i = 0; i < n; i++)
        if (indeg[i] == 0) heap_push(heap, &len, i);
    while (len > 0) {
        int i = heap_pop(heap, &len);
        order[done_count++] = i;
        const onyxi_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->n_outputs; k++) {
            int v = nd->outputs[k];
            if (v < 0) continue;
            for (int c = cons_start[v]; c < cons_start[v + 1]; c++)
                if (--indeg[cons[c]] == 0) heap_push(heap, &len, cons[c]);
        }
    }
    if (done_count != n) {
        char label[256];
        int culprit = 0;
        for (int i = 0; i < n; i++)
            if (indeg[i] > 0) {
                culprit = i;
                break;
            }
        onyxi_node_label(g, culprit, label, sizeof label);
        rc = onyxi_fail(e, ONYX_INVALID_MODEL,
                        "the graph has a cycle: %d nodes never become ready, e.g. %s",
                        n - done_count, label);
        goto done;
    }
    onyxi_free(g->order);
    g->order = order;
    order = NULL;
    rc = ONYX_OK;
done:
    onyxi_free(indeg);
    onyxi_free(heap);
    onyxi_free(order);
    onyxi_free(cons_start);
    onyxi_free(cons);
    return rc;
}

/* Appends "; <label>: <reason>" for one more unsupported node to a message being built,
 * cutting it short when the buffer is full. */
static void add_unsupported(char *msg, size_t size, int *count, const char *label,
                            const char *reason) {
    const char *parts[4] = {(*count)++ ? "; " : "", label, ": ", reason};
    size_t used = strlen(msg);
    for (int i = 0; i < 4; i++) {
        size_t len = strlen(parts[i]);
        if (len > size - 1 - used) len = size - 1 - used;
        memcpy(msg + used, parts[i], len);
        used += len;
    }
    msg[used] = '\0';
}

onyx_status onyxi_graph_resolve_ops(onyxi_graph *g, int allow_unsupported, onyxi_err *e) {
    /* Every node without an implementation is named, not just the first: a user porting a
     * model wants the whole list of missing ops at once. */
    char missing[ONYXI_ERRMSG_MAX] = "";
    int n_missing = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        onyxi_node *n = &g->nodes[i];
        char label[256];
        onyxi_node_label(g, i, label, sizeof label);
        n->op = onyxi_op_find(n->domain, n->op_type, n->opset, e);
        if (!n->op) {
            if (!allow_unsupported) add_unsupported(missing, sizeof missing, &n_missing, label, e->msg);
            onyxi_err_clear(e);
            continue;
        }
        onyx_status rc = onyxi_op_check_node(n->op, n, e);
        if (rc != ONYX_OK) {
            onyxi_err_prefix(e, "%s: ", label);
            return rc;
        }
    }
    if (n_missing == 1) return onyxi_fail(e, ONYX_UNSUPPORTED, "%s", missing);
    if (n_missing > 1)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "%d nodes use ops onyx cannot run: %s", n_missing,
                          missing);
    return ONYX_OK;
}
