/*
 * Loader validation: one test per rule of STYLE.md G3's checklist. Each builds a malformed
 * model with the protobuf-c structs, packs it, loads it (through onyxi_onnx_load or the
 * public API) and expects the exact status and a message naming the culprit, with no
 * allocation left behind. Plus corrupt inputs: truncated, random and bit-flipped files.
 */
#define _XOPEN_SOURCE 700

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

/* ---- loading helpers ---- */

static onyxi_err ERR;

/* onyxi_onnx_load on buf; asserts the graph is freed and nothing leaks either way. */
static onyx_status load_buf(const uint8_t *buf, size_t len, const char *dir,
                            const onyxi_load_limits *lim) {
    long before = onyxi_alloc_live_blocks();
    onyxi_graph *g = (onyxi_graph *)&ERR; /* must be reset to NULL on failure */
    onyxi_err_clear(&ERR);
    onyx_status rc = onyxi_onnx_load(buf, len, dir, lim, &g, &ERR);
    if (rc == ONYX_OK) {
        ck_assert_ptr_nonnull(g);
        onyxi_graph_free(g);
    } else {
        ck_assert_ptr_null(g);
        ck_assert_str_ne(ERR.msg, "");
    }
    ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
    return rc;
}

static void check_msg(const char *msg, const char *s1, const char *s2) {
    if (s1) ck_assert_msg(strstr(msg, s1) != NULL, "message '%s' lacks '%s'", msg, s1);
    if (s2) ck_assert_msg(strstr(msg, s2) != NULL, "message '%s' lacks '%s'", msg, s2);
}

/* Packs b, loads it with model folder dir and expects code and a message with s1 and s2. */
static void expect(mb *b, const char *dir, onyx_status code, const char *s1, const char *s2) {
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    onyx_status rc = load_buf(buf, len, dir, NULL);
    ck_assert_msg(rc == code, "got %s (%s), expected %s", onyx_status_str(rc), ERR.msg,
                  onyx_status_str(code));
    check_msg(ERR.msg, s1, s2);
    free(buf);
}

/* The same through onyx_model_load_memory (adds ordering and op checks). */
static void expect_api(mb *b, onyx_status code, const char *s1, const char *s2) {
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    long before = onyxi_alloc_live_blocks();
    onyx_model *m = NULL;
    onyx_status rc = onyx_model_load_memory(buf, len, &m);
    ck_assert_ptr_nonnull(m);
    ck_assert_msg(rc == code, "got %s (%s), expected %s", onyx_status_str(rc), onyx_model_errmsg(m),
                  onyx_status_str(code));
    ck_assert_int_eq(onyx_model_errcode(m), code);
    check_msg(onyx_model_errmsg(m), s1, s2);
    onyx_model_free(m);
    ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
    free(buf);
}

static const int64_t D4[1] = {4};
static const float F4[4] = {1, 2, 3, 4};

/* x[4] -> Relu-free single Add node "add1": y = x + W, W an initializer filled by the test. */
static mb *add_model(Onnx__TensorProto **w) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "Add", "add1", "x,W", "y");
    *w = mb_tensor(b, 1, "W", ONYX_DTYPE_FLOAT32, 1, D4);
    return b;
}

/* A fresh folder under the test tmp dir. */
static const char *tmp_dir(const char *tag) {
    static char path[512];
    snprintf(path, sizeof path, "%s/validate_%s", ONYX_TEST_TMP_DIR, tag);
    mkdir(path, 0755);
    return path;
}

/* ---- structure ---- */

START_TEST(test_validate_no_graph) {
    mb *b = mb_new(13);
    b->model.graph = NULL;
    expect(b, NULL, ONYX_INVALID_MODEL, "no graph", NULL);
}
END_TEST

START_TEST(test_validate_no_opset_import) {
    mb *b = mb_new(0);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL, "opset_import", NULL);
}
END_TEST

START_TEST(test_validate_opset_too_new) {
    mb *b = mb_new(20);
    expect(b, NULL, ONYX_UNSUPPORTED, "opset 20", "up to opset 19");
}
END_TEST

START_TEST(test_validate_opset_zero) {
    mb *b = mb_new(13);
    b->opsets[0].version = 0;
    expect(b, NULL, ONYX_INVALID_MODEL, "ai.onnx version 0", NULL);
}
END_TEST

START_TEST(test_validate_domain_not_imported) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    Onnx__NodeProto *n = mb_node(b, "Gelu", "g1", "x", "y");
    n->domain = mb_str(b, "com.example");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL, "node 'g1'", "'com.example' is not in");
}
END_TEST

START_TEST(test_validate_local_function_unsupported) {
    mb *b = mb_new(13);
    Onnx__OperatorSetIdProto custom = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    custom.domain = mb_str(b, "my.funcs");
    custom.has_version = 1;
    custom.version = 1;
    b->opset_ptrs[b->model.n_opset_import++] = &custom;
    Onnx__FunctionProto fn = ONNX__FUNCTION_PROTO__INIT;
    Onnx__FunctionProto *fns[1] = {&fn};
    fn.name = mb_str(b, "Swish");
    fn.domain = mb_str(b, "my.funcs");
    b->model.n_functions = 1;
    b->model.functions = fns;
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    Onnx__NodeProto *n = mb_node(b, "Swish", NULL, "x", "y");
    n->domain = mb_str(b, "my.funcs");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_UNSUPPORTED, "node #0 (Swish", "my.funcs.Swish");
}
END_TEST

START_TEST(test_validate_unresolved_input) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "Conv", "n", "x,foo", "y");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL,
           "node 'n' (Conv-13): input 'foo' is not produced by any node, graph input or "
           "initializer",
           NULL);
}
END_TEST

START_TEST(test_validate_unresolved_input_unnamed_node) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "Relu", NULL, "x", "r");
    mb_node(b, "Add", NULL, "r,bar", "y");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL, "node #1 (Add-13, output 'y')", "input 'bar'");
}
END_TEST

START_TEST(test_validate_unresolved_graph_output) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "Relu", "r", "x", "y");
    mb_value(b, 1, "z", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL, "graph output 'z' is not produced", NULL);
}
END_TEST

START_TEST(test_validate_duplicate_producer_nodes) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "Relu", "first", "x", "t");
    mb_node(b, "Sigmoid", "second", "x", "t");
    mb_value(b, 1, "t", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL, "tensor 't' has two producers: node 'first' (Relu-13)",
           "node 'second' (Sigmoid-13)");
}
END_TEST

START_TEST(test_validate_duplicate_producer_input_and_node) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "Relu", "r", "x", "x");
    mb_value(b, 1, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL, "tensor 'x' has two producers: a graph input", "node 'r'");
}
END_TEST

START_TEST(test_validate_duplicate_initializer) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_raw(w, F4, sizeof F4);
    Onnx__TensorProto *w2 = mb_tensor(b, 1, "W", ONYX_DTYPE_FLOAT32, 1, D4);
    mb_raw(w2, F4, sizeof F4);
    expect(b, NULL, ONYX_INVALID_MODEL, "tensor 'W' has two producers: an initializer",
           "another initializer");
}
END_TEST

START_TEST(test_validate_duplicate_graph_input) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "Relu", "r", "x", "y");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL, "tensor 'x' has two producers: a graph input",
           "another graph input");
}
END_TEST

START_TEST(test_validate_initializer_listed_twice_as_input) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_raw(w, F4, sizeof F4);
    mb_value(b, 0, "W", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_value(b, 0, "W", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL, "tensor 'W' has two producers", "another graph input");
}
END_TEST

START_TEST(test_validate_cycle) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "Add", "a1", "x,c", "a");
    mb_node(b, "Add", "a2", "a,x", "c");
    mb_value(b, 1, "a", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect_api(b, ONYX_INVALID_MODEL, "cycle", "node 'a1' (Add-13)");
}
END_TEST

START_TEST(test_validate_empty_op_type) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "", "nop", "x", "y");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL, "node 'nop'", "no op_type");
}
END_TEST

/* ---- types and tensors ---- */

START_TEST(test_validate_unknown_dtype_initializer) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    w->data_type = 42;
    mb_raw(w, F4, sizeof F4);
    expect(b, NULL, ONYX_INVALID_MODEL, "initializer 'W'", "unknown data_type 42");
}
END_TEST

START_TEST(test_validate_unknown_elem_type_input) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", 99, 1, D4, NULL);
    mb_node(b, "Relu", "r", "x", "y");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL, "graph input 'x'", "unknown elem_type 99");
}
END_TEST

START_TEST(test_validate_negative_dim_initializer) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    w->dims[0] = -4;
    expect(b, NULL, ONYX_INVALID_MODEL, "initializer 'W'", "dimension 0 is -4");
}
END_TEST

START_TEST(test_validate_negative_dim_input) {
    const int64_t dims[2] = {2, -3};
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "Relu", "r", "x", "y");
    Onnx__ValueInfoProto *vi = mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 2, dims, NULL);
    /* mb_value leaves negative dims unset: force a negative dim_value */
    vi->type->tensor_type->shape->dim[1]->value_case =
        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    vi->type->tensor_type->shape->dim[1]->dim_value = -3;
    expect(b, NULL, ONYX_INVALID_MODEL, "graph output 'y'", "dimension 1 is -3");
}
END_TEST

START_TEST(test_validate_rank_too_high) {
    const int64_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    mb *b = mb_new(13);
    mb_value(b, 0, "x9", ONYX_DTYPE_FLOAT32, 9, dims, NULL);
    expect(b, NULL, ONYX_UNSUPPORTED, "graph input 'x9'", "rank 9");
}
END_TEST

START_TEST(test_validate_sequence_input_unsupported) {
    mb *b = mb_new(13);
    Onnx__ValueInfoProto *vi = mb_value(b, 0, "seq", ONYX_DTYPE_FLOAT32, -1, NULL, NULL);
    Onnx__TypeProto elem = ONNX__TYPE_PROTO__INIT;
    Onnx__TypeProto__Sequence seq = ONNX__TYPE_PROTO__SEQUENCE__INIT;
    seq.elem_type = &elem;
    vi->type->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
    vi->type->sequence_type = &seq;
    expect(b, NULL, ONYX_UNSUPPORTED, "graph input 'seq'", "sequence");
}
END_TEST

START_TEST(test_validate_string_initializer_unsupported) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    w->data_type = ONYX_DTYPE_STRING;
    expect(b, NULL, ONYX_UNSUPPORTED, "initializer 'W'", "string");
}
END_TEST

START_TEST(test_validate_element_count_overflow) {
    const int64_t big[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    Onnx__TensorProto *h = mb_tensor(b, 1, "huge", ONYX_DTYPE_FLOAT32, 2, big);
    mb_raw(w, F4, sizeof F4);
    mb_raw(h, F4, sizeof F4);
    expect(b, NULL, ONYX_INVALID_MODEL, "initializer 'huge'", "too many elements");
}
END_TEST

START_TEST(test_validate_raw_data_too_short) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_raw(w, F4, 12);
    expect(b, NULL, ONYX_INVALID_MODEL, "initializer 'W'", "raw_data has 12 bytes, expected 16");
}
END_TEST

START_TEST(test_validate_raw_data_too_long) {
    static const float f5[5] = {1, 2, 3, 4, 5};
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_raw(w, f5, sizeof f5);
    expect(b, NULL, ONYX_INVALID_MODEL, "initializer 'W'", "raw_data has 20 bytes, expected 16");
}
END_TEST

START_TEST(test_validate_typed_count_mismatch) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    w->n_float_data = 3;
    w->float_data = (float *)F4;
    expect(b, NULL, ONYX_INVALID_MODEL, "initializer 'W'", "float_data has 3 values, expected 4");
}
END_TEST

START_TEST(test_validate_typed_wrong_field) {
    static const int64_t i4[4] = {1, 2, 3, 4};
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    w->n_int64_data = 4;
    w->int64_data = (int64_t *)i4;
    expect(b, NULL, ONYX_INVALID_MODEL, "initializer 'W'", "other than float_data");
}
END_TEST

START_TEST(test_validate_no_data) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    expect(b, NULL, ONYX_INVALID_MODEL, "initializer 'W'", "float_data has 0 values, expected 4");
}
END_TEST

START_TEST(test_validate_tensor_attribute_checked) {
    mb *b = mb_new(13);
    Onnx__NodeProto *n = mb_node(b, "Constant", "c", NULL, "y");
    Onnx__AttributeProto *a = mb_attr(b, n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = mb_tensor(b, 0, "v", ONYX_DTYPE_FLOAT32, 1, D4);
    mb_raw(a->t, F4, 8);
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL, "node 'c' (Constant-13): tensor of attribute 'value'",
           "raw_data has 8 bytes");
}
END_TEST

/* ---- attributes and ops (through the public API) ---- */

START_TEST(test_validate_wrong_attribute_type) {
    const int64_t xd[4] = {1, 1, 5, 5}, wd[4] = {1, 1, 3, 3}, yd[4] = {1, 1, 3, 3};
    mb *b = mb_new(11);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 4, xd, NULL);
    mb_value(b, 0, "w", ONYX_DTYPE_FLOAT32, 4, wd, NULL);
    Onnx__NodeProto *n = mb_node(b, "Conv", "conv1", "x,w", "y");
    Onnx__AttributeProto *a =
        mb_attr(b, n, "strides", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = 2.0f;
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 4, yd, NULL);
    expect_api(b, ONYX_INVALID_MODEL, "node 'conv1' (Conv-11)", "'strides'");
}
END_TEST

START_TEST(test_validate_attribute_without_type_or_value) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    Onnx__NodeProto *n = mb_node(b, "Softmax", "sm", "x", "y");
    mb_attr(b, n, "axis", 0);
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_INVALID_MODEL, "node 'sm'", "attribute 'axis' has no type");
}
END_TEST

START_TEST(test_validate_attribute_ref_unsupported) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    Onnx__NodeProto *n = mb_node(b, "Softmax", "sm", "x", "y");
    Onnx__AttributeProto *a = mb_attr(b, n, "axis", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->ref_attr_name = mb_str(b, "outer_axis");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect(b, NULL, ONYX_UNSUPPORTED, "node 'sm'", "'outer_axis'");
}
END_TEST

START_TEST(test_validate_unknown_op) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "FooBar", "fb", "x", "y");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    expect_api(b, ONYX_UNSUPPORTED, "node 'fb'", "FooBar");
}
END_TEST

START_TEST(test_validate_every_unsupported_op_is_named) {
    /* a user porting a model gets the whole list of missing ops, each with its node */
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "FooBar", "fb", "x", "t");
    mb_node(b, "Sigmoid", "sig", "t", "u");
    mb_node(b, "BazQux", NULL, "u", "y");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    onyx_model *m = NULL;
    ck_assert_int_eq(onyx_model_load_memory(buf, len, &m), ONYX_UNSUPPORTED);
    const char *msg = onyx_model_errmsg(m);
    ck_assert_msg(strstr(msg, "2 nodes") && strstr(msg, "node 'fb' (FooBar-13)") &&
                      strstr(msg, "'FooBar'") && strstr(msg, "(BazQux-13, output 'y')") &&
                      strstr(msg, "'BazQux'") && !strstr(msg, "Sigmoid"),
                  "message: %s", msg);
    onyx_model_free(m);
    free(buf);
}
END_TEST

START_TEST(test_validate_op_before_its_opset) {
    /* Resize exists since opset 10 */
    static const float scales[4] = {1, 1, 2, 2};
    const int64_t xd[4] = {1, 1, 2, 2};
    mb *b = mb_new(9);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 4, xd, NULL);
    mb_node(b, "Resize", "rs", "x,s", "y");
    mb_raw(mb_tensor(b, 1, "s", ONYX_DTYPE_FLOAT32, 1, D4), scales, sizeof scales);
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, -1, NULL, NULL);
    expect_api(b, ONYX_UNSUPPORTED, "node 'rs' (Resize-9)", "Resize");
}
END_TEST

/* ---- external data ---- */

START_TEST(test_validate_external_absolute_path) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_external(b, w, "/etc/passwd", NULL, NULL);
    expect(b, tmp_dir("abs"), ONYX_INVALID_MODEL, "initializer 'W'", "'/etc/passwd' is absolute");
}
END_TEST

START_TEST(test_validate_external_dotdot) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_external(b, w, "sub/../../w.bin", NULL, NULL);
    expect(b, tmp_dir("dotdot"), ONYX_INVALID_MODEL, "initializer 'W'", "contains '..'");
}
END_TEST

START_TEST(test_validate_external_symlink_escape) {
    char outside[1024], link[1024];
    const char *dir = tmp_dir("symlink");
    snprintf(outside, sizeof outside, "%s/validate_outside.bin", ONYX_TEST_TMP_DIR);
    tu_write_file(ONYX_TEST_TMP_DIR, "validate_outside.bin", F4, sizeof F4);
    snprintf(link, sizeof link, "%s/w.bin", dir);
    unlink(link);
    ck_assert_int_eq(symlink(outside, link), 0);
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_external(b, w, "w.bin", NULL, NULL);
    expect(b, dir, ONYX_INVALID_MODEL, "'w.bin'", "outside the model's folder");
}
END_TEST

START_TEST(test_validate_external_past_end) {
    const char *dir = tmp_dir("pastend");
    tu_write_file(dir, "w.bin", F4, sizeof F4);
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_external(b, w, "w.bin", "8", "16");
    expect(b, dir, ONYX_INVALID_MODEL, "offset 8 + length 16", "past the end of 'w.bin'");
    b = add_model(&w);
    mb_external(b, w, "w.bin", "17", NULL);
    expect(b, dir, ONYX_INVALID_MODEL, "offset 17 is past the end", "(16 bytes)");
    b = add_model(&w);
    mb_external(b, w, "w.bin", "4", NULL); /* 12 bytes left, 16 needed */
    expect(b, dir, ONYX_INVALID_MODEL, "has 12 bytes, the tensor needs 16", NULL);
    b = add_model(&w);
    mb_external(b, w, "w.bin", "-4", NULL);
    expect(b, dir, ONYX_INVALID_MODEL, "offset '-4'", NULL);
}
END_TEST

START_TEST(test_validate_external_missing_file) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_external(b, w, "nowhere.bin", NULL, NULL);
    expect(b, tmp_dir("missing"), ONYX_IO, "initializer 'W'", "'nowhere.bin'");
}
END_TEST

START_TEST(test_validate_external_not_regular_file) {
    const char *dir = tmp_dir("notreg");
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/adir", dir);
    mkdir(sub, 0755);
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_external(b, w, "adir", NULL, NULL);
    expect(b, dir, ONYX_INVALID_MODEL, "'adir'", "not a regular file");
}
END_TEST

START_TEST(test_validate_external_nul_in_location) {
    const char *dir = tmp_dir("nul");
    tu_write_file(dir, "w", F4, sizeof F4);
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_external(b, w, "wQ../x", NULL, NULL);
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    uint8_t *q = memchr(buf, 'Q', len);
    ck_assert_ptr_nonnull(q);
    *q = '\0'; /* the wire string is now "w\0../x": protobuf-c would hand us just "w" */
    ck_assert_int_eq(load_buf(buf, len, dir, NULL), ONYX_INVALID_MODEL);
    check_msg(ERR.msg, "initializer 'W'", "NUL byte");
    free(buf);
}
END_TEST

START_TEST(test_validate_external_from_memory) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_external(b, w, "w.bin", NULL, NULL);
    expect(b, NULL, ONYX_UNSUPPORTED, "initializer 'W'", "external file 'w.bin'");
    b = add_model(&w);
    mb_external(b, w, "w.bin", NULL, NULL);
    expect_api(b, ONYX_UNSUPPORTED, "initializer 'W'", "not from memory");
}
END_TEST

START_TEST(test_validate_external_no_location) {
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_external(b, w, NULL, "0", NULL);
    expect(b, tmp_dir("noloc"), ONYX_INVALID_MODEL, "initializer 'W'", "no 'location'");
}
END_TEST

/* ---- limits ---- */

START_TEST(test_validate_limits) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    mb_node(b, "Relu", "r1", "x", "a");
    mb_node(b, "Relu", "r2", "a", "y");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D4, NULL);
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    onyxi_load_limits lim = {.max_nodes = 1};
    ck_assert_int_eq(load_buf(buf, len, NULL, &lim), ONYX_UNSUPPORTED);
    check_msg(ERR.msg, "2 nodes", "limit of 1");
    onyxi_load_limits lim2 = {.max_file_bytes = 10};
    ck_assert_int_eq(load_buf(buf, len, NULL, &lim2), ONYX_UNSUPPORTED);
    check_msg(ERR.msg, "limit of 10", NULL);
    ck_assert_int_eq(load_buf(buf, len, NULL, NULL), ONYX_OK);
    free(buf);
}
END_TEST

/* Appends a length-delimited field number f holding inner[0..n) to out. */
static size_t wrap(uint8_t *out, unsigned f, const uint8_t *inner, size_t n) {
    size_t k = 0;
    out[k++] = (uint8_t)(f << 3 | 2);
    for (size_t v = n;; v >>= 7) {
        out[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        if (v <= 0x7f) break;
    }
    memmove(out + k, inner, n);
    return k + n;
}

START_TEST(test_validate_deep_nesting) {
    /* ModelProto.graph -> (GraphProto.node -> NodeProto.attribute -> AttributeProto.g)^300 */
    size_t cap = 1 << 16, n = 0;
    uint8_t *a = calloc(cap, 1), *t = calloc(cap, 1);
    for (int level = 0; level < 300; level++) {
        n = wrap(t, 6, a, n); /* AttributeProto.g */
        n = wrap(a, 5, t, n); /* NodeProto.attribute */
        n = wrap(t, 1, a, n); /* GraphProto.node */
        memcpy(a, t, n);
        ck_assert_uint_lt(n + 16, cap);
    }
    n = wrap(t, 7, a, n); /* ModelProto.graph */
    ck_assert_int_eq(load_buf(t, n, NULL, NULL), ONYX_INVALID_MODEL);
    check_msg(ERR.msg, "levels deep", NULL);
    free(a);
    free(t);
}
END_TEST

/* ---- corrupt files ---- */

static uint8_t *read_model(const char *rel, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ONYX_TEST_MODELS_DIR, rel);
    uint8_t *buf = tu_read_file(path, len);
    ck_assert_msg(buf != NULL, "cannot read %s", path);
    return buf;
}

START_TEST(test_validate_empty_buffer) {
    static const uint8_t one = 0;
    ck_assert_int_eq(load_buf(&one, 0, NULL, NULL), ONYX_INVALID_MODEL);
    check_msg(ERR.msg, "not a valid ONNX ModelProto", NULL);
    long before = onyxi_alloc_live_blocks();
    onyx_model *m = NULL;
    ck_assert_int_eq(onyx_model_load_memory(&one, 0, &m), ONYX_INVALID_MODEL);
    onyx_model_free(m);
    ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
}
END_TEST

START_TEST(test_validate_truncated_file) {
    size_t len;
    uint8_t *buf = read_model("conv1d_op13/model.onnx", &len);
    ck_assert_int_eq(load_buf(buf, len, NULL, NULL), ONYX_OK);
    for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 7)) {
        uint8_t *copy = malloc(cut + 1); /* exactly cut bytes, so ASan sees overreads */
        memcpy(copy, buf, cut);
        onyx_status rc = load_buf(copy, cut, NULL, NULL);
        ck_assert_msg(rc == ONYX_INVALID_MODEL, "cut at %zu: %s (%s)", cut, onyx_status_str(rc),
                      ERR.msg);
        free(copy);
    }
    free(buf);
}
END_TEST

START_TEST(test_validate_random_bytes) {
    uint32_t s = 12345;
    uint8_t buf[512];
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = 1 + (size_t)(iter % 511);
        for (size_t i = 0; i < len; i++) {
            s = s * 1664525u + 1013904223u;
            buf[i] = (uint8_t)(s >> 24);
        }
        onyx_status rc = load_buf(buf, len, NULL, NULL);
        ck_assert_msg(rc != ONYX_OK, "random buffer %d loaded", iter);
    }
    ck_assert_int_eq(load_buf((const uint8_t *)"not an onnx model at all", 24, NULL, NULL),
                     ONYX_INVALID_MODEL);
    check_msg(ERR.msg, "protobuf parse failed", NULL);
}
END_TEST

START_TEST(test_validate_bit_flips) {
    size_t len;
    uint8_t *buf = read_model("conv1d_op13/model.onnx", &len);
    uint8_t *copy = malloc(len);
    int ok = 0, failed = 0;
    uint32_t s = 777;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(copy, buf, len);
        int flips = 1 + iter % 3;
        for (int f = 0; f < flips; f++) {
            s = s * 1664525u + 1013904223u;
            size_t pos = (s >> 8) % len;
            copy[pos] ^= (uint8_t)(1u << (s & 7));
        }
        /* the whole public path: parse, validate, order, op checks */
        long before = onyxi_alloc_live_blocks();
        onyx_model *m = NULL;
        onyx_status rc = onyx_model_load_memory(copy, len, &m);
        ck_assert_ptr_nonnull(m);
        if (rc == ONYX_OK) {
            ok++;
            ck_assert_int_ge(onyx_model_input_count(m), 0);
        } else {
            failed++;
            ck_assert_str_ne(onyx_model_errmsg(m), "");
        }
        onyx_model_free(m);
        ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
    }
    /* most flips land in weight bytes and keep the model valid; some must break it */
    ck_assert_int_gt(ok, 0);
    ck_assert_int_gt(failed, 0);
    free(copy);
    free(buf);
}
END_TEST

/* Every allocation of a load failing in turn: ONYX_NOMEM each time, never a leak. */
START_TEST(test_validate_alloc_failures) {
    const char *dir = tmp_dir("fault");
    tu_write_file(dir, "w.bin", F4, sizeof F4);
    Onnx__TensorProto *w;
    mb *b = add_model(&w);
    mb_external(b, w, "w.bin", NULL, NULL);
    Onnx__AttributeProto *a =
        mb_attr(b, &b->nodes[0], "names", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    ProtobufCBinaryData strs[2] = {{1, (uint8_t *)"a"}, {2, (uint8_t *)"bc"}};
    a->n_strings = 2;
    a->strings = strs;
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    int n;
    for (n = 1; n < 10000; n++) {
        long before = onyxi_alloc_live_blocks();
        onyxi_graph *g = NULL;
        onyxi_alloc_fail_after(n);
        onyx_status rc = onyxi_onnx_load(buf, len, dir, NULL, &g, &ERR);
        onyxi_alloc_fail_after(0);
        onyxi_graph_free(g);
        ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
        if (rc == ONYX_OK) break;
        ck_assert_msg(rc == ONYX_NOMEM, "failing allocation %d gave %s (%s)", n,
                      onyx_status_str(rc), ERR.msg);
    }
    ck_assert_int_gt(n, 10);
    free(buf);
}
END_TEST

static Suite *validate_suite(void) {
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("structure");
    tcase_add_test(tc, test_validate_no_graph);
    tcase_add_test(tc, test_validate_no_opset_import);
    tcase_add_test(tc, test_validate_opset_too_new);
    tcase_add_test(tc, test_validate_opset_zero);
    tcase_add_test(tc, test_validate_domain_not_imported);
    tcase_add_test(tc, test_validate_local_function_unsupported);
    tcase_add_test(tc, test_validate_unresolved_input);
    tcase_add_test(tc, test_validate_unresolved_input_unnamed_node);
    tcase_add_test(tc, test_validate_unresolved_graph_output);
    tcase_add_test(tc, test_validate_duplicate_producer_nodes);
    tcase_add_test(tc, test_validate_duplicate_producer_input_and_node);
    tcase_add_test(tc, test_validate_duplicate_initializer);
    tcase_add_test(tc, test_validate_duplicate_graph_input);
    tcase_add_test(tc, test_validate_initializer_listed_twice_as_input);
    tcase_add_test(tc, test_validate_cycle);
    tcase_add_test(tc, test_validate_empty_op_type);
    suite_add_tcase(s, tc);

    tc = tcase_create("tensors");
    tcase_add_test(tc, test_validate_unknown_dtype_initializer);
    tcase_add_test(tc, test_validate_unknown_elem_type_input);
    tcase_add_test(tc, test_validate_negative_dim_initializer);
    tcase_add_test(tc, test_validate_negative_dim_input);
    tcase_add_test(tc, test_validate_rank_too_high);
    tcase_add_test(tc, test_validate_sequence_input_unsupported);
    tcase_add_test(tc, test_validate_string_initializer_unsupported);
    tcase_add_test(tc, test_validate_element_count_overflow);
    tcase_add_test(tc, test_validate_raw_data_too_short);
    tcase_add_test(tc, test_validate_raw_data_too_long);
    tcase_add_test(tc, test_validate_typed_count_mismatch);
    tcase_add_test(tc, test_validate_typed_wrong_field);
    tcase_add_test(tc, test_validate_no_data);
    tcase_add_test(tc, test_validate_tensor_attribute_checked);
    suite_add_tcase(s, tc);

    tc = tcase_create("attributes_ops");
    tcase_add_test(tc, test_validate_wrong_attribute_type);
    tcase_add_test(tc, test_validate_attribute_without_type_or_value);
    tcase_add_test(tc, test_validate_attribute_ref_unsupported);
    tcase_add_test(tc, test_validate_unknown_op);
    tcase_add_test(tc, test_validate_every_unsupported_op_is_named);
    tcase_add_test(tc, test_validate_op_before_its_opset);
    suite_add_tcase(s, tc);

    tc = tcase_create("external");
    tcase_add_test(tc, test_validate_external_absolute_path);
    tcase_add_test(tc, test_validate_external_dotdot);
    tcase_add_test(tc, test_validate_external_symlink_escape);
    tcase_add_test(tc, test_validate_external_past_end);
    tcase_add_test(tc, test_validate_external_missing_file);
    tcase_add_test(tc, test_validate_external_not_regular_file);
    tcase_add_test(tc, test_validate_external_nul_in_location);
    tcase_add_test(tc, test_validate_external_from_memory);
    tcase_add_test(tc, test_validate_external_no_location);
    suite_add_tcase(s, tc);

    tc = tcase_create("corrupt");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_validate_limits);
    tcase_add_test(tc, test_validate_deep_nesting);
    tcase_add_test(tc, test_validate_empty_buffer);
    tcase_add_test(tc, test_validate_truncated_file);
    tcase_add_test(tc, test_validate_random_bytes);
    tcase_add_test(tc, test_validate_bit_flips);
    tcase_add_test(tc, test_validate_alloc_failures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(validate_suite());
}
