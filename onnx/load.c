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

/* ---- raw_data stripping ----
 * protobuf-c copies every bytes field it parses, so a model's weights would sit in memory
 * twice (the parsed message, then the graph) on top of the file's bytes. Before parsing, the
 * loader copies the model's structure without the raw_data payloads of the main graph's
 * initializers (each becomes an empty raw_data) and remembers where each payload is; the
 * conversion then reads each payload once, straight into the graph. Anything unusual (a
 * ModelProto with two graph fields, which protobuf merges; framing protobuf-c might read
 * differently) leaves the bytes as they are. */

/* onnx.proto field numbers: ModelProto.graph, GraphProto.initializer, TensorProto.raw_data */
enum { MODEL_GRAPH = 7, GRAPH_INITIALIZER = 5, TENSOR_RAW_DATA = 9 };

/* One field of a message: number, wire type, where it starts (its tag), and for a
 * length-delimited field where its payload starts; it ends at *p after next_field. */
typedef struct wire_field {
    uint64_t num;
    int wt;
    const uint8_t *start, *body;
    size_t tag_len; /* bytes of the tag at start */
} wire_field;

/* Reads the field at *p, at most as leniently as protobuf-c (tags and lengths of at most 5
 * bytes, no groups); 0 when the bytes are not a field protobuf-c would accept. */
static int next_field(const uint8_t **p, const uint8_t *end, wire_field *f) {
    uint64_t tag, v;
    f->start = *p;
    if (!read_varint(p, end, &tag) || *p - f->start > 5 || tag >> 3 == 0 || tag >> 32) return 0;
    f->tag_len = (size_t)(*p - f->start);
    f->num = tag >> 3;
    f->wt = (int)(tag & 7);
    f->body = NULL;
    switch (f->wt) {
    case 0:
        return read_varint(p, end, &v);
    case 1:
        if (end - *p < 8) return 0;
        *p += 8;
        return 1;
    case 5:
        if (end - *p < 4) return 0;
        *p += 4;
        return 1;
    case 2: {
        const uint8_t *len_at = *p;
        if (!read_varint(p, end, &v) || *p - len_at > 5 || v > (uint64_t)(end - *p)) return 0;
        f->body = *p;
        *p += v;
        return 1;
    }
    default:
        return 0;
    }
}

/* Output of the stripping copy; buf NULL only counts. */
typedef struct sink {
    uint8_t *buf;
    size_t len;
} sink;

static void put(sink *s, const void *p, size_t n) {
    if (s->buf && n) memcpy(s->buf + s->len, p, n);
    s->len += n;
}

static void put_varint(sink *s, uint64_t v) {
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) b[n] |= 0x80;
        n++;
    } while (v);
    put(s, b, n);
}

/* Where the stripped payloads are, per initializer in file order. */
typedef struct strip_state {
    const uint8_t *base;
    onyxi_pb_raw *raws; /* NULL while counting */
    size_t n_raws;
} strip_state;

/* A TensorProto without its raw_data payload (an empty raw_data instead); *raw gets where
 * the last raw_data was (protobuf keeps the last of a repeated singular field). */
static int strip_tensor(const uint8_t *p, const uint8_t *end, const uint8_t *base, sink *out,
                        onyxi_pb_raw *raw) {
    wire_field f;
    *raw = (onyxi_pb_raw){0};
    while (p < end) {
        if (!next_field(&p, end, &f)) return 0;
        if (f.num == TENSOR_RAW_DATA && f.wt == 2) {
            *raw = (onyxi_pb_raw){1, (uint64_t)(f.body - base), (size_t)(p - f.body)};
            continue;
        }
        put(out, f.start, (size_t)(p - f.start));
    }
    if (raw->present) put(out, "\x4a\x00", 2); /* field 9, length-delimited, 0 bytes */
    return 1;
}

/* A GraphProto whose initializers went through strip_tensor. */
static int strip_graph(const uint8_t *p, const uint8_t *end, strip_state *st, sink *out) {
    wire_field f;
    while (p < end) {
        if (!next_field(&p, end, &f)) return 0;
        if (!(f.num == GRAPH_INITIALIZER && f.wt == 2)) {
            put(out, f.start, (size_t)(p - f.start));
            continue;
        }
        onyxi_pb_raw raw;
        sink count = {NULL, 0};
        if (!strip_tensor(f.body, p, st->base, &count, &raw)) return 0;
        put(out, f.start, f.tag_len); /* the tag as it was, then the new length */
        put_varint(out, count.len);
        strip_tensor(f.body, p, st->base, out, &raw);
        if (st->raws) st->raws[st->n_raws] = raw;
        st->n_raws++;
    }
    return 1;
}

/* Builds in *out (onyxi_malloc) the model's bytes without the initializers' raw_data payloads
 * and in *raws where those are (*n_raws entries, one per initializer). ONYX_OK with *out NULL
 * when the bytes are better parsed as they are; ONYX_NOMEM. */
static onyx_status strip_model(const uint8_t *bytes, size_t nbytes, uint8_t **out, size_t *out_len,
                               onyxi_pb_raw **raws, size_t *n_raws) {
    *out = NULL;
    *raws = NULL;
    *n_raws = 0;
    const uint8_t *end = bytes + nbytes, *p = bytes;
    wire_field f, graph = {0};
    const uint8_t *graph_end = NULL;
    int graphs = 0;
    while (p < end) {
        if (!next_field(&p, end, &f)) return ONYX_OK; /* malformed: protobuf-c will say */
        if (f.num == MODEL_GRAPH && f.wt == 2) {
            graph = f;
            graph_end = p;
            graphs++;
        }
    }
    if (graphs != 1) return ONYX_OK;
    strip_state st = {bytes, NULL, 0};
    sink body = {NULL, 0};
    if (!strip_graph(graph.body, graph_end, &st, &body)) return ONYX_OK;
    if (st.n_raws == 0) return ONYX_OK; /* nothing to gain */
    size_t graph_len = body.len;
    sink total = {NULL, (size_t)(graph.start - bytes) + (size_t)(end - graph_end)};
    put(&total, graph.start, graph.tag_len);
    put_varint(&total, graph_len);
    total.len += graph_len;

    uint8_t *buf = onyxi_malloc(total.len ? total.len : 1);
    st.raws = onyxi_calloc(st.n_raws, sizeof *st.raws);
    if (!buf || !st.raws) {
        onyxi_free(buf);
        onyxi_free(st.raws);
        return ONYX_NOMEM;
    }
    size_t n = st.n_raws;
    st.n_raws = 0;
    sink w = {buf, 0};
    put(&w, bytes, (size_t)(graph.start - bytes));
    put(&w, graph.start, graph.tag_len);
    put_varint(&w, graph_len);
    strip_graph(graph.body, graph_end, &st, &w);
    put(&w, graph_end, (size_t)(end - graph_end));
    if (w.len != total.len || st.n_raws != n) { /* cannot happen: both passes saw the same bytes */
        onyxi_free(buf);
        onyxi_free(st.raws);
        return ONYX_OK;
    }
    *out = buf;
    *out_len = w.len;
    *raws = st.raws;
    *n_raws = n;
    return ONYX_OK;
}

/* ---- the loader's working state ---- */

typedef struct loader {
    const Onnx__ModelProto *mp;
    const Onnx__GraphProto *gp;
    const char *model_dir;
    onyxi_pb_src src;         /* payloads of stripped raw_data, and where sources go */
    const onyxi_pb_raw *raws; /* borrowed: per initializer, its stripped payload; or NULL */
    size_t n_raws;
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
        const onyxi_pb_raw *raw = L->raws ? &L->raws[k] : NULL;
        onyxi_sources *srcs = L->src.sources;
        onyxi_src_loc *loc = srcs && v < srcs->n_at ? &srcs->at[v] : NULL;
        ONYXI_CHECK(onyxi_pb_tensor_read(tp, &L->src, raw, what, &L->g->values[v].info, loc, L->e));
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
    if (L->raws && L->n_raws != gp->n_initializer)
        return onyxi_fail(L->e, ONYX_INTERNAL,
                          "stripped %zu raw_data payloads for %zu initializers", L->n_raws,
                          gp->n_initializer);
    onyxi_sources *srcs = L->src.sources;
    if (srcs) {
        srcs->at = onyxi_malloc((cap + 1) * sizeof *srcs->at);
        if (!srcs->at) return nomem(L);
        srcs->n_at = (int)cap + 1;
        for (int v = 0; v < srcs->n_at; v++)
            srcs->at[v] = (onyxi_src_loc){-1, 0, NULL};
    }

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
    return onyxi_onnx_load_ex(bytes, nbytes, -1, -1, model_dir, limits, NULL, out, e);
}

onyx_status onyxi_onnx_load_ex(const void *bytes, size_t nbytes, int model_fd, int model_file,
                               const char *model_dir, const onyxi_load_limits *limits,
                               onyxi_sources *sources, onyxi_graph **out, onyxi_err *e) {
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

    uint8_t *stripped = NULL;
    size_t stripped_len = 0, n_raws = 0;
    onyxi_pb_raw *raws = NULL;
    if (strip_model(bytes, nbytes, &stripped, &stripped_len, &raws, &n_raws) != ONYX_OK)
        return onyxi_fail(e, ONYX_NOMEM, "out of memory parsing the model");
    onyxi_pb_allocator pa;
    onyxi_pb_allocator_init(&pa);
    Onnx__ModelProto *mp = stripped ? onnx__model_proto__unpack(&pa.base, stripped_len, stripped)
                                    : onnx__model_proto__unpack(&pa.base, nbytes, bytes);
    onyxi_free(stripped);
    if (!mp) {
        onyxi_free(raws);
        if (pa.failed) return onyxi_fail(e, ONYX_NOMEM, "out of memory parsing the model");
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "not a valid ONNX ModelProto (protobuf parse failed)");
    }
    loader L = {.mp = mp,
                .model_dir = model_dir,
                .src = {model_dir, bytes, model_fd, model_file, sources},
                .raws = raws,
                .n_raws = n_raws,
                .e = e};
    onyx_status rc;
    if (mp->graph && mp->graph->n_node > (size_t)max_nodes)
        rc = onyxi_fail(e, ONYX_UNSUPPORTED, "the graph has %zu nodes, more than the limit of %lld",
                        mp->graph->n_node, max_nodes);
    else
        rc = build(&L);
    onnx__model_proto__free_unpacked(mp, &pa.base);
    onyxi_free(raws);
    onyxi_free(L.slots);
    onyxi_free(L.typed);
    if (rc != ONYX_OK) {
        onyxi_graph_free(L.g);
        return rc;
    }
    *out = L.g;
    return ONYX_OK;
}
