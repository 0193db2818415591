/*
 * ModelProto -> IR graph (onyxi_onnx_load). Parses with protobuf-c through onyxi_malloc,
 * validates everything that needs no op registry (see loader.h and STYLE.md G3's checklist)
 * and copies what the runtime needs into the graph, so the protobuf message is freed before
 * returning. Values are built in this order: initializers, graph inputs, node outputs; node
 * inputs and graph outputs are then resolved by name through a hash table.
 * Ignored on purpose: value_info (shapes come from inference), training_info and metadata.
 */
#include <stdio.h>
#include <string.h>

#include "../runtime/alloc.h"
#include "loader.h"
#include "pb.h"

#define DEFAULT_MAX_FILE_BYTES ((size_t)2 << 30) /* protobuf's own 2 GiB message limit */
#define DEFAULT_MAX_NODES 1000000
/* protobuf-c's unpack recurses once per nested message without a limit; subgraphs and
 * TypeProtos can nest arbitrarily, so deeper files are refused before parsing (protobuf's
 * C++ default recursion limit is also 100). */
#define MAX_NESTING 100

/* ---- nesting pre-scan ---- */

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 1;
        }
    }
    return 0;
}

/* 1 when a message field nests deeper than max_depth (<= MAX_NESTING). Malformed data stops
 * the scan with 0: protobuf-c then rejects it itself. Recursion is bounded by max_depth. */
static int too_deep(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                    int depth, int max_depth) {
    while (p < end) {
        uint64_t tag, v;
        if (!read_varint(&p, end, &tag)) return 0;
        switch (tag & 7) {
        case 0:
            if (!read_varint(&p, end, &v)) return 0;
            break;
        case 1:
            if (end - p < 8) return 0;
            p += 8;
            break;
        case 5:
            if (end - p < 4) return 0;
            p += 4;
            break;
        case 2: {
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p)) return 0;
            const ProtobufCFieldDescriptor *f =
                tag >> 3 <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3))
                    : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (depth + 1 > max_depth) return 1;
                if (too_deep(f->descriptor, p, p + v, depth + 1, max_depth)) return 1;
            }
            p += v;
            break;
        }
        default:
            return 0;
        }
    }
    return 0;
}

/* ---- the loader's working state ---- */

typedef struct loader {
    const Onnx__ModelProto *mp;
    const Onnx__GraphProto *gp;
    const char *model_dir;
    onyxi_graph *g;
    int *slots;           /* owned: hash table of value indices, -1 = empty */
    size_t mask;          /* slots has mask + 1 entries, a power of two */
    unsigned char *typed; /* owned: per value, 1 once its declared type was read */
    onyxi_err *e;
} loader;

static size_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return (size_t)h;
}

/* Index of the value called name, or -1. */
static int find_value(const loader *L, const char *name) {
    for (size_t i = hash_name(name) & L->mask;; i = (i + 1) & L->mask) {
        int v = L->slots[i];
        if (v < 0) return -1;
        if (!strcmp(L->g->values[v].name, name)) return v;
    }
}

/* Appends a value called name (REQUIRES: not present yet, room left); -1 when out of memory. */
static int add_value(loader *L, const char *name, unsigned flags, int producer) {
    onyxi_graph *g = L->g;
    int v = g->n_values;
    onyxi_value *val = &g->values[v];
    val->name = onyxi_strdup(name);
    if (!val->name) return -1;
    g->n_values++;
    val->info.name = val->name;
    val->info.dtype = ONYX_DTYPE_UNDEFINED;
    val->info.rank = -1;
    val->producer = producer;
    val->flags = flags;
    size_t i = hash_name(name) & L->mask;
    while (L->slots[i] >= 0)
        i = (i + 1) & L->mask;
    L->slots[i] = v;
    return v;
}

static onyx_status nomem(loader *L) {
    return onyxi_fail(L->e, ONYX_NOMEM, "out of memory loading the model");
}

static const char *str_or_empty(const char *s) {
    return s ? s : "";
}

/* "ai.onnx" and "" are the same domain; the IR stores "". */
static const char *norm_domain(const char *d) {
    return !d || !strcmp(d, "ai.onnx") ? "" : d;
}

/* Label of node i as onyxi_node_label writes it, from the proto (usable mid-build). */
static void node_label(const loader *L, int i, char *buf, size_t size) {
    const Onnx__NodeProto *np = L->gp->node[i];
    const char *op = str_or_empty(np->op_type);
    char ver[32] = "";
    if (L->g->nodes[i].opset > 0)
        snprintf(ver, sizeof ver, "-%lld", (long long)L->g->nodes[i].opset);
    if (np->name && np->name[0]) {
        snprintf(buf, size, "node '%.100s' (%.60s%s)", np->name, op, ver);
    } else {
        const char *y = np->n_output > 0 ? str_or_empty(np->output[0]) : "";
        snprintf(buf, size, "node #%d (%.60s%s, output '%.100s')", i, op, ver, y);
    }
}

/* Describes who produces value v, for duplicate-producer messages. */
static void producer_desc(const loader *L, int v, char *buf, size_t size) {
    const onyxi_value *val = &L->g->values[v];
    if (val->producer >= 0)
        node_label(L, val->producer, buf, size);
    else if (val->flags & ONYXI_VALUE_INITIALIZER)
        snprintf(buf, size, "an initializer");
    else
        snprintf(buf, size, "a graph input");
}

static onyx_status duplicate(loader *L, const char *name, int existing, const char *second) {
    char first[256];
    producer_desc(L, existing, first, sizeof first);
    return onyxi_fail(L->e, ONYX_INVALID_MODEL, "tensor '%.100s' has two producers: %s and %s",
                      name, first, second);
}

/* ---- model-level pieces ---- */

static onyx_status load_opsets(loader *L) {
    const Onnx__ModelProto *mp = L->mp;
    onyxi_graph *g = L->g;
    if (mp->n_opset_import == 0)
        return onyxi_fail(L->e, ONYX_INVALID_MODEL, "the model has no opset_import");
    if (mp->n_opset_import > 10000)
        return onyxi_fail(L->e, ONYX_INVALID_MODEL, "the model has %zu opset_imports",
                          mp->n_opset_import);
    g->opsets = onyxi_calloc(mp->n_opset_import, sizeof *g->opsets);
    if (!g->opsets) return nomem(L);
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *op = mp->opset_import[i];
        const char *dom = norm_domain(op->domain);
        int64_t ver = op->has_version ? op->version : 0;
        for (int k = 0; k < g->n_opsets; k++)
            if (!strcmp(g->opsets[k].domain, dom))
                return onyxi_fail(L->e, ONYX_INVALID_MODEL,
                                  "opset_import lists domain '%.100s' twice",
                                  dom[0] ? dom : "ai.onnx");
        if (!dom[0] && ver < 1)
            return onyxi_fail(L->e, ONYX_INVALID_MODEL,
                              "opset_import has ai.onnx version %lld, must be >= 1",
                              (long long)ver);
        if (!dom[0] && ver > ONYXI_MAX_OPSET)
            return onyxi_fail(L->e, ONYX_UNSUPPORTED,
                              "the model needs ai.onnx opset %lld; onyx supports up to opset %d",
                              (long long)ver, ONYXI_MAX_OPSET);
        g->opsets[i].domain = onyxi_strdup(dom);
        if (!g->opsets[i].domain) return nomem(L);
        g->opsets[i].version = ver;
        g->n_opsets = (int)i + 1;
    }
    return ONYX_OK;
}

static onyx_status load_initializers(loader *L) {
    const Onnx__GraphProto *gp = L->gp;
    if (gp->n_sparse_initializer > 0)
        return onyxi_fail(L->e, ONYX_UNSUPPORTED, "sparse initializers are not supported");
    for (size_t k = 0; k < gp->n_initializer; k++) {
        const Onnx__TensorProto *tp = gp->initializer[k];
        if (!tp->name || !tp->name[0])
            return onyxi_fail(L->e, ONYX_INVALID_MODEL, "initializer #%zu has no name", k);
        int v = find_value(L, tp->name);
        if (v >= 0) return duplicate(L, tp->name, v, "another initializer");
        v = add_value(L, tp->name, ONYXI_VALUE_INITIALIZER, -1);
        if (v < 0) return nomem(L);
        char what[160];
        snprintf(what, sizeof what, "initializer '%.100s'", tp->name);
        ONYXI_CHECK(onyxi_pb_tensor_to_ir(tp, L->model_dir, what, &L->g->values[v].info, L->e));
        L->typed[v] = 1;
    }
    return ONYX_OK;
}

/* Reads the declared type of a graph input/output into value v (once). */
static onyx_status declare_type(loader *L, int v, const Onnx__ValueInfoProto *vi,
                                const char *kind) {
    if (L->typed[v]) return ONYX_OK;
    onyxi_value *val = &L->g->values[v];
    char what[160];
    snprintf(what, sizeof what, "%s '%.100s'", kind, val->name);
    L->typed[v] = 1;
    return onyxi_pb_type_to_ir(vi->type, what, &val->info, val->dim_params, L->e);
}

static onyx_status load_inputs(loader *L) {
    const Onnx__GraphProto *gp = L->gp;
    onyxi_graph *g = L->g;
    g->inputs = onyxi_calloc(gp->n_input + 1, sizeof(int));
    if (!g->inputs) return nomem(L);
    for (size_t k = 0; k < gp->n_input; k++) {
        const Onnx__ValueInfoProto *vi = gp->input[k];
        if (!vi->name || !vi->name[0])
            return onyxi_fail(L->e, ONYX_INVALID_MODEL, "graph input #%zu has no name", k);
        int v = find_value(L, vi->name);
        if (v >= 0) {
            onyxi_value *val = &g->values[v];
            if ((val->flags & ONYXI_VALUE_INITIALIZER) && !(val->flags & ONYXI_VALUE_GRAPH_INPUT)) {
                /* an initializer listed as an input (old IR style) is fine once; the flag
                 * marks "listed" to catch a second listing and is cleared below */
                val->flags |= ONYXI_VALUE_GRAPH_INPUT;
                continue;
            }
            return duplicate(L, vi->name, v, "another graph input");
        }
        v = add_value(L, vi->name, ONYXI_VALUE_GRAPH_INPUT, -1);
        if (v < 0) return nomem(L);
        g->inputs[g->n_inputs++] = v;
        ONYXI_CHECK(declare_type(L, v, vi, "graph input"));
    }
    /* initializers listed as inputs are constants, not something the caller binds */
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].flags & ONYXI_VALUE_INITIALIZER)
            g->values[v].flags &= ~(unsigned)ONYXI_VALUE_GRAPH_INPUT;
    return ONYX_OK;
}

/* Pass 0 over node i: names, domain, opset, and the refusal of model-local functions. */
static onyx_status load_node_header(loader *L, int i) {
    const Onnx__NodeProto *np = L->gp->node[i];
    onyxi_node *n = &L->g->nodes[i];
    char label[256];
    if (!np->op_type || !np->op_type[0]) {
        node_label(L, i, label, sizeof label);
        return onyxi_fail(L->e, ONYX_INVALID_MODEL, "%s has no op_type", label);
    }
    const char *dom = norm_domain(np->domain);
    for (size_t f = 0; f < L->mp->n_functions; f++) {
        const Onnx__FunctionProto *fn = L->mp->functions[f];
        if (fn->name && !strcmp(fn->name, np->op_type) && !strcmp(norm_domain(fn->domain), dom)) {
            node_label(L, i, label, sizeof label);
            return onyxi_fail(L->e, ONYX_UNSUPPORTED,
                              "%s calls the model-local function '%.100s%s%.100s', which onyx "
                              "does not support",
                              label, dom, dom[0] ? "." : "", np->op_type);
        }
    }
    int found = 0;
    for (int k = 0; k < L->g->n_opsets; k++)
        if (!strcmp(L->g->opsets[k].domain, dom)) {
            n->opset = L->g->opsets[k].version;
            found = 1;
        }
    if (!found) {
        node_label(L, i, label, sizeof label);
        return onyxi_fail(L->e, ONYX_INVALID_MODEL,
                          "%s: domain '%.100s' is not in the model's opset_import", label,
                          dom[0] ? dom : "ai.onnx");
    }
    n->name = onyxi_strdup(str_or_empty(np->name));
    n->op_type = onyxi_strdup(np->op_type);
    n->domain = onyxi_strdup(dom);
    if (!n->name || !n->op_type || !n->domain) return nomem(L);
    if (np->n_input > INT32_MAX || np->n_output > INT32_MAX || np->n_attribute > INT32_MAX) {
        node_label(L, i, label, sizeof label);
        return onyxi_fail(L->e, ONYX_UNSUPPORTED, "%s has too many inputs, outputs or attributes",
                          label);
    }
    return ONYX_OK;
}

/* Pass 1 over node i: its outputs become values produced by i. */
static onyx_status load_node_outputs(loader *L, int i) {
    const Onnx__NodeProto *np = L->gp->node[i];
    onyxi_node *n = &L->g->nodes[i];
    n->outputs = onyxi_calloc(np->n_output + 1, sizeof(int));
    if (!n->outputs) return nomem(L);
    for (size_t k = 0; k < np->n_output; k++) {
        const char *name = np->output[k];
        n->outputs[k] = -1;
        n->n_outputs = (int)k + 1;
        if (!name || !name[0]) continue; /* an absent optional output */
        int v = find_value(L, name);
        if (v >= 0) {
            char label[256];
            node_label(L, i, label, sizeof label);
            return duplicate(L, name, v, label);
        }
        v = add_value(L, name, 0, i);
        if (v < 0) return nomem(L);
        n->outputs[k] = v;
    }
    return ONYX_OK;
}

/* Pass 2 over node i: inputs resolve to values anywhere in the graph; attributes. */
static onyx_status load_node_body(loader *L, int i) {
    const Onnx__NodeProto *np = L->gp->node[i];
    onyxi_node *n = &L->g->nodes[i];
    char label[256];
    n->inputs = onyxi_calloc(np->n_input + 1, sizeof(int));
    if (!n->inputs) return nomem(L);
    n->n_inputs = (int)np->n_input;
    for (size_t k = 0; k < np->n_input; k++) {
        const char *name = np->input[k];
        n->inputs[k] = -1;
        if (!name || !name[0]) continue; /* an absent optional input */
        int v = find_value(L, name);
        if (v < 0) {
            node_label(L, i, label, sizeof label);
            return onyxi_fail(L->e, ONYX_INVALID_MODEL,
                              "%s: input '%.100s' is not produced by any node, graph input or "
                              "initializer",
                              label, name);
        }
        n->inputs[k] = v;
    }
    n->attrs = onyxi_calloc(np->n_attribute + 1, sizeof(onyxi_attr));
    if (!n->attrs) return nomem(L);
    for (size_t k = 0; k < np->n_attribute; k++) {
        n->n_attrs = (int)k + 1; /* the attribute is freeable even when half converted */
        onyx_status rc = onyxi_pb_attr_to_ir(np->attribute[k], L->model_dir, &n->attrs[k], L->e);
        if (rc == ONYX_OK)
            for (size_t j = 0; j < k; j++)
                if (!strcmp(n->attrs[j].name, n->attrs[k].name))
                    rc = onyxi_fail(L->e, ONYX_INVALID_MODEL, "attribute '%.100s' is given twice",
                                    n->attrs[k].name);
        if (rc != ONYX_OK) {
            node_label(L, i, label, sizeof label);
            onyxi_err_prefix(L->e, "%s: ", label);
            return rc;
        }
    }
    return ONYX_OK;
}

static onyx_status load_outputs(loader *L) {
    const Onnx__GraphProto *gp = L->gp;
    onyxi_graph *g = L->g;
    g->outputs = onyxi_calloc(gp->n_output + 1, sizeof(int));
    if (!g->outputs) return nomem(L);
    for (size_t k = 0; k < gp->n_output; k++) {
        const Onnx__ValueInfoProto *vi = gp->output[k];
        if (!vi->name || !vi->name[0])
            return onyxi_fail(L->e, ONYX_INVALID_MODEL, "graph output #%zu has no name", k);
        int v = find_value(L, vi->name);
        if (v < 0)
            return onyxi_fail(L->e, ONYX_INVALID_MODEL,
                              "graph output '%.100s' is not produced by any node, graph input or "
                              "initializer",
                              vi->name);
        g->values[v].flags |= ONYXI_VALUE_GRAPH_OUTPUT;
        g->outputs[g->n_outputs++] = v;
        ONYXI_CHECK(declare_type(L, v, vi, "graph output"));
    }
    return ONYX_OK;
}

static onyx_status build(loader *L) {
    const Onnx__ModelProto *mp = L->mp;
    const Onnx__GraphProto *gp = mp->graph;
    if (!gp) return onyxi_fail(L->e, ONYX_INVALID_MODEL, "the model has no graph");
    L->gp = gp;
    onyxi_graph *g = L->g = onyxi_calloc(1, sizeof *g);
    if (!g) return nomem(L);
    g->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    g->producer_name = onyxi_strdup(str_or_empty(mp->producer_name));
    g->producer_version = onyxi_strdup(str_or_empty(mp->producer_version));
    g->graph_name = onyxi_strdup(str_or_empty(gp->name));
    if (!g->producer_name || !g->producer_version || !g->graph_name) return nomem(L);
    ONYXI_CHECK(load_opsets(L));

    /* every value is an initializer, a graph input or a node output: this bounds the table */
    size_t cap = gp->n_initializer + gp->n_input;
    for (size_t i = 0; i < gp->n_node && cap <= INT32_MAX / 4; i++)
        cap += gp->node[i]->n_output;
    if (cap > INT32_MAX / 4 || gp->n_output > INT32_MAX)
        return onyxi_fail(L->e, ONYX_UNSUPPORTED, "the graph has too many tensors");
    size_t nslots = 16;
    while (nslots < 2 * cap)
        nslots *= 2;
    L->mask = nslots - 1;
    L->slots = onyxi_malloc(nslots * sizeof(int));
    L->typed = onyxi_calloc(cap + 1, 1);
    g->values = onyxi_calloc(cap + 1, sizeof *g->values);
    g->nodes = onyxi_calloc(gp->n_node + 1, sizeof *g->nodes);
    if (!L->slots || !L->typed || !g->values || !g->nodes) return nomem(L);
    memset(L->slots, 0xff, nslots * sizeof(int)); /* all -1 */
    g->n_nodes = (int)gp->n_node;                 /* zeroed nodes free cleanly */

    ONYXI_CHECK(load_initializers(L));
    ONYXI_CHECK(load_inputs(L));
    for (int i = 0; i < g->n_nodes; i++)
        ONYXI_CHECK(load_node_header(L, i));
    for (int i = 0; i < g->n_nodes; i++)
        ONYXI_CHECK(load_node_outputs(L, i));
    for (int i = 0; i < g->n_nodes; i++)
        ONYXI_CHECK(load_node_body(L, i));
    return load_outputs(L);
}

onyx_status onyxi_onnx_load(const void *bytes, size_t nbytes, const char *model_dir,
                            const onyxi_load_limits *limits, onyxi_graph **out, onyxi_err *e) {
    if (!out) return onyxi_fail(e, ONYX_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!bytes && nbytes) return onyxi_fail(e, ONYX_INVALID_ARG, "bytes is NULL");
    size_t max_bytes =
        limits && limits->max_file_bytes ? limits->max_file_bytes : DEFAULT_MAX_FILE_BYTES;
    long long max_nodes = limits && limits->max_nodes > 0 ? limits->max_nodes : DEFAULT_MAX_NODES;
    if (nbytes == 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "not a valid ONNX ModelProto (0 bytes)");
    if (nbytes > max_bytes)
        return onyxi_fail(e, ONYX_UNSUPPORTED,
                          "the model has %zu bytes, more than the limit of %zu", nbytes, max_bytes);
    int max_depth = limits && limits->max_depth > 0 && limits->max_depth < MAX_NESTING
                        ? limits->max_depth
                        : MAX_NESTING;
    if (too_deep(&onnx__model_proto__descriptor, bytes, (const uint8_t *)bytes + nbytes, 0,
                 max_depth))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "the model nests messages more than %d levels deep", max_depth);

    onyxi_pb_allocator pa;
    onyxi_pb_allocator_init(&pa);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(&pa.base, nbytes, bytes);
    if (!mp) {
        if (pa.failed) return onyxi_fail(e, ONYX_NOMEM, "out of memory parsing the model");
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "not a valid ONNX ModelProto (protobuf parse failed)");
    }
    loader L = {.mp = mp, .model_dir = model_dir, .e = e};
    onyx_status rc;
    if (mp->graph && mp->graph->n_node > (size_t)max_nodes)
        rc = onyxi_fail(e, ONYX_UNSUPPORTED, "the graph has %zu nodes, more than the limit of %lld",
                        mp->graph->n_node, max_nodes);
    else
        rc = build(&L);
    onnx__model_proto__free_unpacked(mp, &pa.base);
    onyxi_free(L.slots);
    onyxi_free(L.typed);
    if (rc != ONYX_OK) {
        onyxi_graph_free(L.g);
        return rc;
    }
    *out = L.g;
    return ONYX_OK;
}
