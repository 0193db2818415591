/*
 * The loader on real models and hand-built ones: inputs, outputs, dtypes, dims (fixed and
 * symbolic), opsets and metadata; initializers in raw and typed form; attributes of every
 * type; external data; and TensorProto (.pb) reading and writing through the public API.
 * Expected values were dumped with Python's onnx.numpy_helper from the same files.
 */
#define _XOPEN_SOURCE 700

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../onnx/loader.h"
#include "alloc.h"
#include "onnx.pb-c.h"
#include "pbbuild.h"
#include "testutil.h"

/* ---- helpers ---- */

static onyxi_err ERR;

static uint8_t *read_path(const char *dir, const char *rel, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    uint8_t *buf = tu_read_file(path, len);
    ck_assert_msg(buf != NULL, "cannot read %s", path);
    return buf;
}

/* Loads buf through onyxi_onnx_load, asserting success. Free with onyxi_graph_free. */
static onyxi_graph *load_ok(const uint8_t *buf, size_t len, const char *dir) {
    onyxi_graph *g = NULL;
    onyx_status rc = onyxi_onnx_load(buf, len, dir, NULL, &g, &ERR);
    ck_assert_msg(rc == ONYX_OK, "load failed: %s (%s)", onyx_status_str(rc), ERR.msg);
    ck_assert_ptr_nonnull(g);
    return g;
}

static onyxi_graph *load_built(mb *b, const char *dir) {
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    onyxi_graph *g = load_ok(buf, len, dir);
    free(buf);
    return g;
}

static int value_index(const onyxi_graph *g, const char *name) {
    for (int v = 0; v < g->n_values; v++)
        if (!strcmp(g->values[v].name, name)) return v;
    return -1;
}

static void assert_dims(const onyx_tensor *t, int rank, const int64_t *dims) {
    ck_assert_int_eq(t->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_int_eq(t->dims[i], dims[i]);
}

static const int64_t D4[1] = {4};

/* ---- real models ---- */

START_TEST(test_load_conv_node_model) {
    size_t len;
    uint8_t *buf = read_path(ONYX_TEST_NODE_DIR, "test_conv_with_strides_padding/model.onnx", &len);
    long before = onyxi_alloc_live_blocks();
    onyxi_graph *g = load_ok(buf, len, NULL);
    ck_assert_int_eq(g->ir_version, 6);
    ck_assert_str_eq(g->producer_name, "backend-test");
    ck_assert_str_eq(g->producer_version, "");
    ck_assert_str_eq(g->graph_name, "test_conv_with_strides_padding");
    ck_assert_int_eq(g->n_opsets, 1);
    ck_assert_str_eq(g->opsets[0].domain, "");
    ck_assert_int_eq(g->opsets[0].version, 11);

    const int64_t xd[4] = {1, 1, 7, 5}, wd[4] = {1, 1, 3, 3}, yd[4] = {1, 1, 4, 3};
    ck_assert_int_eq(g->n_inputs, 2);
    const onyxi_value *x = &g->values[g->inputs[0]], *w = &g->values[g->inputs[1]];
    ck_assert_str_eq(x->name, "x");
    ck_assert_str_eq(x->info.name, "x");
    ck_assert_int_eq(x->info.dtype, ONYX_DTYPE_FLOAT32);
    assert_dims(&x->info, 4, xd);
    ck_assert_uint_eq(x->flags, ONYXI_VALUE_GRAPH_INPUT);
    ck_assert_int_eq(x->producer, -1);
    ck_assert_ptr_null(x->info.data);
    ck_assert_str_eq(w->name, "W");
    assert_dims(&w->info, 4, wd);
    ck_assert_int_eq(g->n_outputs, 1);
    const onyxi_value *y = &g->values[g->outputs[0]];
    ck_assert_str_eq(y->name, "y");
    assert_dims(&y->info, 4, yd);
    ck_assert_uint_eq(y->flags, ONYXI_VALUE_GRAPH_OUTPUT);
    ck_assert_int_eq(y->producer, 0);

    ck_assert_int_eq(g->n_nodes, 1);
    const onyxi_node *n = &g->nodes[0];
    ck_assert_str_eq(n->op_type, "Conv");
    ck_assert_str_eq(n->name, "");
    ck_assert_str_eq(n->domain, "");
    ck_assert_int_eq(n->opset, 11);
    ck_assert_int_eq(n->n_inputs, 2);
    ck_assert_int_eq(n->inputs[0], g->inputs[0]);
    ck_assert_int_eq(n->inputs[1], g->inputs[1]);
    ck_assert_int_eq(n->n_outputs, 1);
    ck_assert_int_eq(n->outputs[0], g->outputs[0]);
    ck_assert_int_eq(n->n_attrs, 3);
    ck_assert_str_eq(n->attrs[0].name, "kernel_shape");
    ck_assert_int_eq(n->attrs[0].type, ONYXI_ATTR_INTS);
    ck_assert_int_eq(n->attrs[0].count, 2);
    ck_assert_int_eq(n->attrs[0].ints[1], 3);
    ck_assert_str_eq(n->attrs[1].name, "pads");
    ck_assert_int_eq(n->attrs[1].count, 4);
    ck_assert_str_eq(n->attrs[2].name, "strides");
    ck_assert_int_eq(n->attrs[2].ints[0], 2);
    ck_assert_ptr_null(n->op); /* resolving ops is not the loader's job */
    ck_assert_ptr_null(g->order);
    onyxi_graph_free(g);
    ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
    free(buf);
}
END_TEST

START_TEST(test_load_conv_node_model_public_api) {
    char path[1024];
    snprintf(path, sizeof path, "%s/test_conv_with_strides_padding/model.onnx", ONYX_TEST_NODE_DIR);
    onyx_model *m = NULL;
    ck_assert_int_eq(onyx_model_load_file(path, &m), ONYX_OK);
    ck_assert_int_eq(onyx_model_input_count(m), 2);
    ck_assert_int_eq(onyx_model_output_count(m), 1);
    const onyx_tensor *x = onyx_model_input(m, 0);
    ck_assert_str_eq(onyx_tensor_name(x), "x");
    ck_assert_int_eq(onyx_tensor_dtype(x), ONYX_DTYPE_FLOAT32);
    ck_assert_int_eq(onyx_tensor_rank(x), 4);
    ck_assert_int_eq(onyx_tensor_dim(x, 2), 7);
    ck_assert_int_eq(onyx_tensor_dim(x, 3), 5);
    ck_assert_int_eq(onyx_tensor_dim(onyx_model_output(m, 0), 2), 4);
    ck_assert_int_eq(onyx_model_opset(m, ""), 11);
    ck_assert_int_eq(onyx_model_opset(m, "ai.onnx"), 11);
    ck_assert_int_eq(onyx_model_ir_version(m), 6);
    ck_assert_str_eq(onyx_model_producer(m), "backend-test");
    onyx_model_free(m);
}
END_TEST

START_TEST(test_load_raw_initializers) {
    /* pytorch export: 6 raw_data initializers, old-style not listed as inputs */
    size_t len;
    uint8_t *buf = read_path(ONYX_TEST_MODELS_DIR, "conv1d_op13/model.onnx", &len);
    onyxi_graph *g = load_ok(buf, len, NULL);
    ck_assert_int_eq(g->ir_version, 7);
    ck_assert_str_eq(g->producer_name, "pytorch");
    ck_assert_str_eq(g->producer_version, "1.13.0");
    ck_assert_str_eq(g->graph_name, "torch_jit");
    ck_assert_int_eq(g->n_inputs, 1);
    ck_assert_int_eq(g->n_outputs, 2);
    ck_assert_int_eq(g->n_nodes, 10);
    ck_assert_str_eq(g->nodes[0].name, "/c1/Conv");
    int v = value_index(g, "c1.weight");
    ck_assert_int_ge(v, 0);
    const onyx_tensor *t = &g->values[v].info;
    const int64_t wd[3] = {8, 4, 5};
    ck_assert_uint_eq(g->values[v].flags, ONYXI_VALUE_INITIALIZER);
    ck_assert_int_eq(t->dtype, ONYX_DTYPE_FLOAT32);
    assert_dims(t, 3, wd);
    ck_assert_uint_eq(t->nbytes, 8 * 4 * 5 * 4);
    ck_assert_int_eq(t->owns_data, 1);
    ck_assert_uint_eq((uintptr_t)t->data % 64, 0);
    ck_assert_float_eq_tol(((const float *)t->data)[0], -0.31493998f, 1e-7f);
    ck_assert_float_eq_tol(((const float *)t->data)[2], -0.02521973f, 1e-7f);
    v = value_index(g, "c3.bias");
    ck_assert_float_eq_tol(((const float *)g->values[v].info.data)[1], -0.43085814f, 1e-7f);
    onyxi_graph_free(g);
    free(buf);
}
END_TEST

START_TEST(test_load_constant_typed_tensor_attribute) {
    size_t len;
    uint8_t *buf = read_path(ONYX_TEST_NODE_DIR, "test_constant/model.onnx", &len);
    onyxi_graph *g = load_ok(buf, len, NULL);
    ck_assert_int_eq(g->n_inputs, 0);
    const onyxi_attr *a = &g->nodes[0].attrs[0];
    ck_assert_str_eq(a->name, "value");
    ck_assert_int_eq(a->type, ONYXI_ATTR_TENSOR);
    const int64_t d[2] = {5, 5};
    assert_dims(a->t, 2, d);
    ck_assert_uint_eq(a->t->nbytes, 100);
    ck_assert_int_eq(a->t->owns_data, 1);
    ck_assert_int_eq(a->t->owns_name, 1);
    ck_assert_float_eq_tol(((const float *)a->t->data)[0], 1.7640524f, 1e-7f);
    ck_assert_float_eq_tol(((const float *)a->t->data)[1], 0.4001572f, 1e-7f);
    onyxi_graph_free(g);
    free(buf);
}
END_TEST

START_TEST(test_load_all_node_models_load_or_refuse_cleanly) {
    /* every model of a sample of backend tests: loads, or is refused as UNSUPPORTED
     * (sequences, strings, training ops) - never as malformed */
    static const char *names[] = {"test_constant",
                                  "test_resize_downsample_scales_linear",
                                  "test_identity_sequence",
                                  "test_cast_STRING_to_FLOAT",
                                  "test_concat_2d_axis_0",
                                  "test_maxpool_2d_pads",
                                  "test_if",
                                  "test_loop11"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "%s/model.onnx", names[i]);
        size_t len;
        uint8_t *buf = read_path(ONYX_TEST_NODE_DIR, rel, &len);
        long before = onyxi_alloc_live_blocks();
        onyxi_graph *g = NULL;
        onyx_status rc = onyxi_onnx_load(buf, len, NULL, NULL, &g, &ERR);
        ck_assert_msg(rc == ONYX_OK || rc == ONYX_UNSUPPORTED, "%s: %s", names[i], ERR.msg);
        onyxi_graph_free(g);
        ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
        free(buf);
    }
}
END_TEST

/* ---- hand-built models ---- */

START_TEST(test_load_symbolic_dims) {
    const int64_t dims[3] = {-1, 3, -1};
    const char *params[3] = {"N", NULL, NULL};
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 3, dims, params);
    mb_node(b, "Relu", "r", "x", "y");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, -1, NULL, NULL);
    onyxi_graph *g = load_built(b, NULL);
    const onyxi_value *x = &g->values[g->inputs[0]];
    ck_assert_int_eq(x->info.rank, 3);
    ck_assert_int_eq(x->info.dims[0], -1);
    ck_assert_str_eq(x->dim_params[0], "N");
    ck_assert_int_eq(x->info.dims[1], 3);
    ck_assert_int_eq(x->info.dims[2], -1); /* neither value nor param */
    ck_assert_ptr_null(x->dim_params[2]);
    const onyxi_value *y = &g->values[g->outputs[0]];
    ck_assert_int_eq(y->info.rank, -1); /* no shape declared */
    ck_assert_int_eq(y->info.dtype, ONYX_DTYPE_FLOAT32);
    onyxi_graph_free(g);
}
END_TEST

START_TEST(test_load_typed_initializers) {
    static const int64_t i64[4] = {-1, 2, 1LL << 40, 4};
    static const int32_t i8[4] = {-1, 127, -128, 5};
    static const int32_t bools[4] = {0, 1, 7, 0};
    static const int32_t halves[4] = {0x3c00, 0xc000, 0, 0x7bff}; /* 1, -2, 0, 65504 */
    static const double f64[4] = {0.5, -1.25, 3, 1e300};
    static const uint64_t u32[4] = {0, 1, 0xffffffffu, 7};
    static const int64_t d0[2] = {0, 3};
    mb *b = mb_new(13);
    Onnx__TensorProto *t;
    t = mb_tensor(b, 1, "i64", ONYX_DTYPE_INT64, 1, D4);
    t->n_int64_data = 4, t->int64_data = (int64_t *)i64;
    t = mb_tensor(b, 1, "i8", ONYX_DTYPE_INT8, 1, D4);
    t->n_int32_data = 4, t->int32_data = (int32_t *)i8;
    t = mb_tensor(b, 1, "b", ONYX_DTYPE_BOOL, 1, D4);
    t->n_int32_data = 4, t->int32_data = (int32_t *)bools;
    t = mb_tensor(b, 1, "h", ONYX_DTYPE_FLOAT16, 1, D4);
    t->n_int32_data = 4, t->int32_data = (int32_t *)halves;
    t = mb_tensor(b, 1, "d", ONYX_DTYPE_FLOAT64, 1, D4);
    t->n_double_data = 4, t->double_data = (double *)f64;
    t = mb_tensor(b, 1, "u32", ONYX_DTYPE_UINT32, 1, D4);
    t->n_uint64_data = 4, t->uint64_data = (uint64_t *)u32;
    mb_tensor(b, 1, "empty", ONYX_DTYPE_FLOAT32, 2, d0);
    mb_value(b, 1, "i64", ONYX_DTYPE_INT64, 1, D4, NULL); /* an initializer as graph output */
    onyxi_graph *g = load_built(b, NULL);

    const onyx_tensor *x = &g->values[value_index(g, "i64")].info;
    ck_assert_uint_eq(x->nbytes, 32);
    ck_assert_int_eq(((const int64_t *)x->data)[2], 1LL << 40);
    ck_assert_uint_eq(g->values[value_index(g, "i64")].flags,
                      ONYXI_VALUE_INITIALIZER | ONYXI_VALUE_GRAPH_OUTPUT);
    x = &g->values[value_index(g, "i8")].info;
    ck_assert_uint_eq(x->nbytes, 4);
    ck_assert_int_eq(((const int8_t *)x->data)[0], -1);
    ck_assert_int_eq(((const int8_t *)x->data)[2], -128);
    x = &g->values[value_index(g, "b")].info;
    ck_assert_int_eq(((const uint8_t *)x->data)[2], 1);
    ck_assert_int_eq(((const uint8_t *)x->data)[3], 0);
    x = &g->values[value_index(g, "h")].info;
    ck_assert_uint_eq(x->nbytes, 8);
    ck_assert_uint_eq(((const uint16_t *)x->data)[1], 0xc000);
    ck_assert_uint_eq(((const uint16_t *)x->data)[3], 0x7bff);
    x = &g->values[value_index(g, "d")].info;
    ck_assert_double_eq(((const double *)x->data)[1], -1.25);
    x = &g->values[value_index(g, "u32")].info;
    ck_assert_uint_eq(x->nbytes, 16);
    ck_assert_uint_eq(((const uint32_t *)x->data)[2], 0xffffffffu);
    x = &g->values[value_index(g, "empty")].info;
    ck_assert_uint_eq(x->nbytes, 0);
    ck_assert_ptr_nonnull(x->data); /* "known, empty" rather than "no data" */
    onyxi_graph_free(g);
}
END_TEST

START_TEST(test_load_initializer_listed_as_input) {
    static const float w[4] = {1, 2, 3, 4};
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_value(b, 0, "W", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "Add", "add", "x,W", "y");
    mb_raw(mb_tensor(b, 1, "W", ONYX_DTYPE_FLOAT32, 1, D4), w, sizeof w);
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    onyxi_graph *g = load_built(b, NULL);
    ck_assert_int_eq(g->n_inputs, 1);
    ck_assert_str_eq(g->values[g->inputs[0]].name, "x");
    int v = value_index(g, "W");
    ck_assert_uint_eq(g->values[v].flags, ONYXI_VALUE_INITIALIZER);
    ck_assert_int_eq(g->nodes[0].inputs[1], v);
    ck_assert_float_eq(((const float *)g->values[v].info.data)[3], 4.0f);
    onyxi_graph_free(g);
}
END_TEST

START_TEST(test_load_optional_inputs_outputs_and_order) {
    /* node inputs may name outputs of later nodes (ordering is onyxi_graph_order's job);
     * empty names are absent optional inputs/outputs */
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "Clip", "clip", "r,,", "y");
    mb_node(b, "Dropout", "drop", "x", "r,");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    onyxi_graph *g = load_built(b, NULL);
    const onyxi_node *clip = &g->nodes[0], *drop = &g->nodes[1];
    ck_assert_int_eq(clip->n_inputs, 3);
    ck_assert_int_eq(clip->inputs[0], value_index(g, "r"));
    ck_assert_int_eq(clip->inputs[1], -1);
    ck_assert_int_eq(clip->inputs[2], -1);
    ck_assert_int_eq(drop->n_outputs, 2);
    ck_assert_int_eq(drop->outputs[1], -1);
    ck_assert_int_eq(g->values[value_index(g, "r")].producer, 1);
    ck_assert_int_eq(onyxi_graph_order(g, &ERR), ONYX_OK);
    ck_assert_int_eq(g->order[0], 1);
    ck_assert_int_eq(g->order[1], 0);
    onyxi_graph_free(g);
}
END_TEST

START_TEST(test_load_attribute_types) {
    static const float fl[2] = {0.5f, -1.5f};
    static const int64_t in[3] = {1, -2, 3};
    ProtobufCBinaryData strs[2] = {{3, (uint8_t *)"abc"}, {0, NULL}};
    Onnx__GraphProto sub = ONNX__GRAPH_PROTO__INIT;
    mb *b = mb_new(13);
    Onnx__NodeProto *n = mb_node(b, "Custom", "c", NULL, "y");
    Onnx__AttributeProto *a;
    a = mb_attr(b, n, "f", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1, a->f = 0.25f;
    a = mb_attr(b, n, "i", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1, a->i = -7;
    a = mb_attr(b, n, "s", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1, a->s.len = 4, a->s.data = (uint8_t *)"a\0bc";
    a = mb_attr(b, n, "fs", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = 2, a->floats = (float *)fl;
    a = mb_attr(b, n, "is", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = 3, a->ints = (int64_t *)in;
    a = mb_attr(b, n, "ss", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    a->n_strings = 2, a->strings = strs;
    a = mb_attr(b, n, "g", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    a->g = &sub;
    a = mb_attr(b, n, "old", 0); /* IR 1 style: no type, one value field */
    a->has_i = 1, a->i = 42;
    a = mb_attr(b, n, "empty_ints", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, -1, NULL, NULL);
    onyxi_graph *g = load_built(b, NULL);
    const onyxi_attr *at = g->nodes[0].attrs;
    ck_assert_int_eq(g->nodes[0].n_attrs, 9);
    ck_assert_int_eq(at[0].type, ONYXI_ATTR_FLOAT);
    ck_assert_float_eq(at[0].f, 0.25f);
    ck_assert_int_eq(at[1].type, ONYXI_ATTR_INT);
    ck_assert_int_eq(at[1].i, -7);
    ck_assert_int_eq(at[2].type, ONYXI_ATTR_STRING);
    ck_assert_uint_eq(at[2].s_len, 4);
    ck_assert_int_eq(memcmp(at[2].s, "a\0bc", 5), 0);
    ck_assert_int_eq(at[3].count, 2);
    ck_assert_float_eq(at[3].floats[1], -1.5f);
    ck_assert_int_eq(at[4].count, 3);
    ck_assert_int_eq(at[4].ints[1], -2);
    ck_assert_int_eq(at[5].type, ONYXI_ATTR_STRINGS);
    ck_assert_int_eq(at[5].count, 2);
    ck_assert_str_eq(at[5].strings[0], "abc");
    ck_assert_str_eq(at[5].strings[1], "");
    ck_assert_int_eq(at[6].type, ONYXI_ATTR_GRAPH);
    ck_assert_str_eq(at[6].name, "g");
    ck_assert_int_eq(at[7].type, ONYXI_ATTR_INT);
    ck_assert_int_eq(at[7].i, 42);
    ck_assert_int_eq(at[8].type, ONYXI_ATTR_INTS);
    ck_assert_int_eq(at[8].count, 0);
    onyxi_graph_free(g);
}
END_TEST

/* ---- external data ---- */

static const char *tmp_dir(const char *tag) {
    static char path[512];
    snprintf(path, sizeof path, "%s/load_%s", ONYX_TEST_TMP_DIR, tag);
    mkdir(path, 0755);
    return path;
}

START_TEST(test_load_external_data) {
    const char *dir = tmp_dir("external");
    char sub[600];
    snprintf(sub, sizeof sub, "%s/weights", dir);
    /* file: 6 junk bytes, W (4 floats), 2 junk bytes, B (2 floats) */
    unsigned char file[6 + 16 + 2 + 8];
    const float w[4] = {1.5f, -2, 3, 4.25f}, bias[2] = {10, 20};
    memset(file, 0xee, sizeof file);
    memcpy(file + 6, w, sizeof w);
    memcpy(file + 24, bias, sizeof bias);
    tu_write_file(sub, "all.bin", file, sizeof file);
    const int64_t d2[1] = {2};

    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    Onnx__NodeProto *n = mb_node(b, "Concat", "cat", "x,W", "y");
    Onnx__AttributeProto *axis = mb_attr(b, n, "axis", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    axis->has_i = 1;
    mb_external(b, mb_tensor(b, 1, "W", ONYX_DTYPE_FLOAT32, 1, D4), "weights/all.bin", "6", "16");
    /* no length: the rest of the file */
    mb_external(b, mb_tensor(b, 1, "B", ONYX_DTYPE_FLOAT32, 1, d2), "./weights/all.bin", "24",
                NULL);
    const int64_t d8[1] = {8};
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, d8, NULL);
    mb_value(b, 1, "B", ONYX_DTYPE_FLOAT32, 1, d2, NULL);
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    long before = onyxi_alloc_live_blocks();
    onyxi_graph *g = load_ok(buf, len, dir);
    const onyx_tensor *t = &g->values[value_index(g, "W")].info;
    ck_assert_uint_eq(t->nbytes, 16);
    ck_assert_int_eq(memcmp(t->data, w, 16), 0);
    t = &g->values[value_index(g, "B")].info;
    ck_assert_float_eq(((const float *)t->data)[1], 20.0f);
    onyxi_graph_free(g);
    ck_assert_int_eq(onyxi_alloc_live_blocks(), before);

    /* the public file loader resolves against the model's folder */
    tu_write_file(dir, "model.onnx", buf, len);
    char path[700];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    onyx_model *m = NULL;
    onyx_status rc = onyx_model_load_file(path, &m);
    ck_assert_msg(rc == ONYX_OK, "%s", onyx_model_errmsg(m));
    ck_assert_int_eq(onyx_model_initializer_count(m), 2);
    const onyx_tensor *w0 = onyx_model_initializer(m, 0);
    ck_assert_str_eq(onyx_tensor_name(w0), "W");
    ck_assert_float_eq(((const float *)onyx_tensor_data(w0))[3], 4.25f);
    onyx_tensor_free((onyx_tensor *)w0); /* a view: must be left alone */
    ck_assert_float_eq(((const float *)onyx_tensor_data(w0))[0], 1.5f);
    onyx_model_free(m);
    free(buf);
}
END_TEST

/* ---- TensorProto files ---- */

START_TEST(test_load_pb_real_input) {
    char path[1024], err[256] = "x";
    snprintf(path, sizeof path, "%s/test_conv_with_strides_padding/test_data_set_0/input_0.pb",
             ONYX_TEST_NODE_DIR);
    onyx_tensor *t = NULL;
    ck_assert_int_eq(onyx_tensor_load_pb(path, &t, err, sizeof err), ONYX_OK);
    ck_assert_str_eq(err, "");
    const int64_t d[4] = {1, 1, 7, 5};
    ck_assert_str_eq(onyx_tensor_name(t), "x");
    ck_assert_int_eq(onyx_tensor_dtype(t), ONYX_DTYPE_FLOAT32);
    assert_dims(t, 4, d);
    ck_assert_int_eq(onyx_tensor_count(t), 35);
    ck_assert_uint_eq(onyx_tensor_nbytes(t), 140);
    const float *x = onyx_tensor_data(t);
    ck_assert_float_eq(x[0], 0.0f);
    ck_assert_float_eq(x[1], 1.0f);
    ck_assert_float_eq(x[34], 34.0f);
    onyx_tensor_free(t);

    snprintf(path, sizeof path, "%s/test_conv_with_strides_padding/test_data_set_0/output_0.pb",
             ONYX_TEST_NODE_DIR);
    ck_assert_int_eq(onyx_tensor_load_pb(path, &t, NULL, 0), ONYX_OK);
    static const float want[12] = {12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124};
    const int64_t yd[4] = {1, 1, 4, 3};
    tu_assert_floats(t, 4, yd, want, 0, 0);
    onyx_tensor_free(t);
}
END_TEST

START_TEST(test_load_pb_round_trip) {
    const int64_t d[2] = {2, 3};
    const int64_t v[6] = {1, -2, 3, 1LL << 50, 5, -6};
    onyx_tensor *t = NULL, *u = NULL;
    long before = onyxi_alloc_live_blocks();
    ck_assert_int_eq(onyx_tensor_create("ints", ONYX_DTYPE_INT64, d, 2, v, &t), ONYX_OK);
    char err[256];
    const char *path = tu_write_temp("load_roundtrip.pb", "", 0);
    ck_assert_int_eq(onyx_tensor_save_pb(t, path, err, sizeof err), ONYX_OK);
    ck_assert_int_eq(onyx_tensor_load_pb(path, &u, err, sizeof err), ONYX_OK);
    ck_assert_str_eq(onyx_tensor_name(u), "ints");
    ck_assert_int_eq(onyx_tensor_dtype(u), ONYX_DTYPE_INT64);
    assert_dims(u, 2, d);
    ck_assert_int_eq(memcmp(onyx_tensor_data(u), v, sizeof v), 0);
    onyx_tensor_free(t);
    onyx_tensor_free(u);

    /* scalar, zero-filled create and an empty tensor survive a trip through memory */
    ck_assert_int_eq(onyx_tensor_create(NULL, ONYX_DTYPE_FLOAT32, NULL, 0, NULL, &t), ONYX_OK);
    ck_assert_str_eq(onyx_tensor_name(t), "");
    ck_assert_float_eq(*(const float *)onyx_tensor_data(t), 0.0f);
    void *bytes;
    size_t n;
    onyxi_err e;
    ck_assert_int_eq(onyxi_onnx_write_tensor(t, &bytes, &n, &e), ONYX_OK);
    ck_assert_int_eq(onyx_tensor_load_pb_memory(bytes, n, &u, NULL, 0), ONYX_OK);
    ck_assert_int_eq(onyx_tensor_rank(u), 0);
    ck_assert_int_eq(onyx_tensor_count(u), 1);
    onyxi_free(bytes);
    onyx_tensor_free(t);
    onyx_tensor_free(u);
    const int64_t d0[2] = {3, 0};
    ck_assert_int_eq(onyx_tensor_create("e", ONYX_DTYPE_UINT8, d0, 2, NULL, &t), ONYX_OK);
    ck_assert_int_eq(onyxi_onnx_write_tensor(t, &bytes, &n, &e), ONYX_OK);
    ck_assert_int_eq(onyxi_onnx_read_tensor(bytes, n, &u, &e), ONYX_OK);
    assert_dims(u, 2, d0);
    ck_assert_uint_eq(u->nbytes, 0);
    ck_assert_ptr_nonnull(u->data);
    onyxi_free(bytes);
    onyx_tensor_free(t);
    onyx_tensor_free(u);
    ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
}
END_TEST

START_TEST(test_load_pb_errors) {
    char err[256];
    onyx_tensor *t = (onyx_tensor *)err;
    ck_assert_int_eq(onyx_tensor_load_pb_memory("\xff\xff\xff", 3, &t, err, sizeof err),
                     ONYX_INVALID_MODEL);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(err, "TensorProto"));
    ck_assert_int_eq(onyx_tensor_load_pb("/nonexistent/x.pb", &t, err, sizeof err), ONYX_IO);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.pb"));
    /* an error message is cut to errlen */
    ck_assert_int_eq(onyx_tensor_load_pb("/nonexistent/x.pb", &t, err, 5), ONYX_IO);
    ck_assert_uint_eq(strlen(err), 4);
    ck_assert_int_eq(onyx_tensor_load_pb(NULL, &t, NULL, 0), ONYX_INVALID_ARG);

    /* raw_data of the wrong size */
    const int64_t d[1] = {3};
    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    tp.n_dims = 1, tp.dims = (int64_t *)d;
    tp.has_data_type = 1, tp.data_type = ONYX_DTYPE_FLOAT32;
    tp.name = "short";
    tp.has_raw_data = 1, tp.raw_data.len = 8, tp.raw_data.data = (uint8_t *)"12345678";
    uint8_t buf[128];
    size_t n = onnx__tensor_proto__pack(&tp, buf);
    ck_assert_int_eq(onyx_tensor_load_pb_memory(buf, n, &t, err, sizeof err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err, "tensor 'short': raw_data has 8 bytes, expected 12"));
    /* external data cannot be resolved for a .pb read from memory */
    Onnx__StringStringEntryProto kv = ONNX__STRING_STRING_ENTRY_PROTO__INIT, *kvs[1] = {&kv};
    kv.key = "location", kv.value = "data.bin";
    tp.has_raw_data = 0;
    tp.has_data_location = 1, tp.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    tp.n_external_data = 1, tp.external_data = kvs;
    n = onnx__tensor_proto__pack(&tp, buf);
    ck_assert_int_eq(onyx_tensor_load_pb_memory(buf, n, &t, err, sizeof err), ONYX_UNSUPPORTED);

    /* writing: data-less and dtype-less tensors are refused */
    onyx_tensor view = {0};
    view.dtype = ONYX_DTYPE_FLOAT32;
    view.rank = 1;
    view.dims[0] = 2;
    ck_assert_int_eq(onyx_tensor_save_pb(&view, "/tmp/never.pb", err, sizeof err),
                     ONYX_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(err, "no data"));
    ck_assert_int_eq(onyx_tensor_save_pb(NULL, "/tmp/never.pb", NULL, 0), ONYX_INVALID_ARG);
    onyx_tensor_free(&view); /* not owned: a no-op */

    const int64_t bad[1] = {-1};
    ck_assert_int_eq(onyx_tensor_create("x", ONYX_DTYPE_FLOAT32, bad, 1, NULL, &t),
                     ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_tensor_create("x", ONYX_DTYPE_STRING, NULL, 0, NULL, &t),
                     ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_tensor_create("x", ONYX_DTYPE_FLOAT32, NULL, 9, NULL, &t),
                     ONYX_INVALID_ARG);
}
END_TEST

static Suite *load_suite(void) {
    Suite *s = suite_create("load");
    TCase *tc = tcase_create("real_models");
    tcase_add_test(tc, test_load_conv_node_model);
    tcase_add_test(tc, test_load_conv_node_model_public_api);
    tcase_add_test(tc, test_load_raw_initializers);
    tcase_add_test(tc, test_load_constant_typed_tensor_attribute);
    tcase_add_test(tc, test_load_all_node_models_load_or_refuse_cleanly);
    suite_add_tcase(s, tc);

    tc = tcase_create("built_models");
    tcase_add_test(tc, test_load_symbolic_dims);
    tcase_add_test(tc, test_load_typed_initializers);
    tcase_add_test(tc, test_load_initializer_listed_as_input);
    tcase_add_test(tc, test_load_optional_inputs_outputs_and_order);
    tcase_add_test(tc, test_load_attribute_types);
    suite_add_tcase(s, tc);

    tc = tcase_create("external_data");
    tcase_add_test(tc, test_load_external_data);
    suite_add_tcase(s, tc);

    tc = tcase_create("tensor_pb");
    tcase_add_test(tc, test_load_pb_real_input);
    tcase_add_test(tc, test_load_pb_round_trip);
    tcase_add_test(tc, test_load_pb_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(load_suite());
}
