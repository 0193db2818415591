/*
 * The protobuf-c ModelProto builder of pbbuild.h. Fixed-size tables keep it free of
 * allocation bookkeeping: a test that outgrows them fails an assertion, never corrupts.
 */
#include "pbbuild.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mb_str(mb *b, const char *s) {
    size_t n = strlen(s) + 1;
    ck_assert_uint_le(b->pool_used + n, sizeof b->pool);
    char *p = b->pool + b->pool_used;
    memcpy(p, s, n);
    b->pool_used += n;
    return p;
}

/* A model importing ai.onnx at opset (no import when opset <= 0) with an empty graph "g". */
mb *mb_new(int64_t opset) {
    mb *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    onnx__model_proto__init(&b->model);
    onnx__graph_proto__init(&b->graph);
    b->model.has_ir_version = 1;
    b->model.ir_version = 8;
    b->model.producer_name = mb_str(b, "onyx-test");
    b->model.graph = &b->graph;
    b->graph.name = mb_str(b, "g");
    b->graph.node = b->node_ptrs;
    b->graph.initializer = b->init_ptrs;
    b->graph.input = b->vi_ptrs[0];
    b->graph.output = b->vi_ptrs[1];
    b->model.opset_import = b->opset_ptrs;
    if (opset > 0) {
        onnx__operator_set_id_proto__init(&b->opsets[0]);
        b->opsets[0].domain = mb_str(b, "");
        b->opsets[0].has_version = 1;
        b->opsets[0].version = opset;
        b->opset_ptrs[0] = &b->opsets[0];
        b->model.n_opset_import = 1;
    }
    return b;
}

/* Adds a graph input (is_output 0) or output (1). dims[i] < 0: symbolic dim named
 * params[i] when params is given, else a dim without value. rank < 0: no shape. */
Onnx__ValueInfoProto *mb_value(mb *b, int is_output, const char *name, int elem, int rank,
                               const int64_t *dims, const char *const *params) {
    size_t k = is_output ? b->graph.n_output++ : b->graph.n_input++;
    Onnx__ValueInfoProto *vi = &b->vis[is_output][k];
    onnx__value_info_proto__init(vi);
    vi->name = mb_str(b, name);
    Onnx__TypeProto *tp = &b->types[is_output][k];
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = &b->tts[is_output][k];
    onnx__type_proto__tensor__init(tt);
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    if (rank >= 0) {
        Onnx__TensorShapeProto *sp = &b->shapes[is_output][k];
        onnx__tensor_shape_proto__init(sp);
        sp->n_dim = (size_t)rank;
        sp->dim = b->dim_ptrs[is_output][k];
        for (int i = 0; i < rank; i++) {
            Onnx__TensorShapeProto__Dimension *d = &b->dims[is_output][k][i];
            onnx__tensor_shape_proto__dimension__init(d);
            if (dims[i] >= 0) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = dims[i];
            } else if (params && params[i]) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = mb_str(b, params[i]);
            }
            sp->dim[i] = d;
        }
        tt->shape = sp;
    }
    vi->type = tp;
    b->vi_ptrs[is_output][k] = vi;
    return vi;
}

/* Splits a comma-separated name list ("x,,B": the middle input absent) into names. */
static size_t split_names(mb *b, const char *list, char **out) {
    size_t n = 0;
    if (!list) return 0;
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", list);
    for (char *p = tmp;;) {
        char *c = strchr(p, ',');
        if (c) *c = '\0';
        ck_assert_uint_lt(n, 8);
        out[n++] = mb_str(b, p);
        if (!c) break;
        p = c + 1;
    }
    return n;
}

Onnx__NodeProto *mb_node(mb *b, const char *op, const char *name, const char *ins,
                         const char *outs) {
    size_t k = b->graph.n_node++;
    ck_assert_uint_lt(k, MB_MAX);
    Onnx__NodeProto *n = &b->nodes[k];
    onnx__node_proto__init(n);
    n->op_type = mb_str(b, op);
    if (name) n->name = mb_str(b, name);
    n->input = b->node_io[k][0];
    n->n_input = split_names(b, ins, n->input);
    n->output = b->node_io[k][1];
    n->n_output = split_names(b, outs, n->output);
    n->attribute = b->attr_ptrs[k];
    b->node_ptrs[k] = n;
    return n;
}

/* A new attribute of node n; the caller fills the value fields. */
Onnx__AttributeProto *mb_attr(mb *b, Onnx__NodeProto *n, const char *name, int type) {
    size_t k = (size_t)(n - b->nodes), j = n->n_attribute++;
    ck_assert_uint_lt(j, 12);
    Onnx__AttributeProto *a = &b->attrs[k][j];
    onnx__attribute_proto__init(a);
    a->name = mb_str(b, name);
    if (type) {
        a->has_type = 1;
        a->type = type;
    }
    b->attr_ptrs[k][j] = a;
    return a;
}

/* A tensor (no data yet); also an initializer when init is set. */
Onnx__TensorProto *mb_tensor(mb *b, int init, const char *name, int dt, int rank,
                             const int64_t *dims) {
    int k = b->n_tensors++;
    ck_assert_int_lt(k, MB_MAX);
    Onnx__TensorProto *t = &b->tensors[k];
    onnx__tensor_proto__init(t);
    if (name) t->name = mb_str(b, name);
    t->has_data_type = 1;
    t->data_type = dt;
    t->n_dims = (size_t)rank;
    t->dims = b->tensor_dims[k];
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    if (init) b->init_ptrs[b->graph.n_initializer++] = t;
    return t;
}

void mb_raw(Onnx__TensorProto *t, const void *data, size_t n) {
    t->has_raw_data = 1;
    t->raw_data.data = (uint8_t *)data;
    t->raw_data.len = n;
}

/* Marks t as external data at location (offset/length NULL: key absent). */
void mb_external(mb *b, Onnx__TensorProto *t, const char *loc, const char *offset,
                 const char *length) {
    int k = (int)(t - b->tensors);
    const char *keys[3] = {"location", "offset", "length"};
    const char *vals[3] = {loc, offset, length};
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    t->external_data = b->kv_ptrs[k];
    for (int i = 0; i < 3; i++) {
        if (!vals[i]) continue;
        Onnx__StringStringEntryProto *kv = &b->kv[k][t->n_external_data];
        onnx__string_string_entry_proto__init(kv);
        kv->key = mb_str(b, keys[i]);
        kv->value = mb_str(b, vals[i]);
        t->external_data[t->n_external_data++] = kv;
    }
}

void *mb_alloc(mb *b, size_t n) {
    ck_assert_int_lt(b->n_owned, (int)(sizeof b->owned / sizeof b->owned[0]));
    void *p = calloc(1, n ? n : 1);
    ck_assert_ptr_nonnull(p);
    b->owned[b->n_owned++] = p;
    return p;
}

float *mb_random_floats(mb *b, size_t n, unsigned seed, float lo, float hi) {
    float *p = mb_alloc(b, n * sizeof *p);
    unsigned s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = lo + (hi - lo) * (float)(s >> 8) / (float)(1u << 24);
    }
    return p;
}

static size_t count_of(int rank, const int64_t *dims) {
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    return n;
}

/* An initializer of elem type dt holding a builder-owned copy of count * size bytes. */
static void init_copy(mb *b, const char *name, int dt, int rank, const int64_t *dims,
                      const void *data, size_t size) {
    size_t bytes = count_of(rank, dims) * size;
    void *p = mb_alloc(b, bytes);
    if (bytes) memcpy(p, data, bytes);
    mb_raw(mb_tensor(b, 1, name, dt, rank, dims), p, bytes);
}

void mb_init_floats(mb *b, const char *name, int rank, const int64_t *dims, const float *data) {
    init_copy(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims, data, sizeof(float));
}

void mb_init_ints(mb *b, const char *name, int rank, const int64_t *dims, const int64_t *data) {
    init_copy(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, rank, dims, data, sizeof(int64_t));
}

void mb_attr_int(mb *b, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = mb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void mb_attr_ints(mb *b, Onnx__NodeProto *n, const char *name, int count, const int64_t *v) {
    Onnx__AttributeProto *a = mb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)count;
    a->ints = mb_alloc(b, (size_t)count * sizeof(int64_t));
    if (count) memcpy(a->ints, v, (size_t)count * sizeof(int64_t));
}

void mb_attr_float(mb *b, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = mb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void mb_attr_string(mb *b, Onnx__NodeProto *n, const char *name, const char *v) {
    Onnx__AttributeProto *a = mb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.data = (uint8_t *)mb_str(b, v);
    a->s.len = strlen(v);
}

/* The serialized model (malloc'd) and frees the builder. */
uint8_t *mb_pack(mb *b, size_t *len) {
    *len = onnx__model_proto__get_packed_size(&b->model);
    uint8_t *buf = malloc(*len + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(onnx__model_proto__pack(&b->model, buf), *len);
    for (int i = 0; i < b->n_owned; i++)
        free(b->owned[i]);
    free(b);
    return buf;
}
