/*
 * Constant (ops/constant.c): each value form (value tensor, value_float(s), value_int(s))
 * with its output dtype and shape, the opset in which each attribute appeared, and the
 * errors (none or two attributes, strings and sparse values, inconsistent tensors).
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Appends an attribute of type t by hand (testutil has no tensor/strings helper). The
 * caller keeps ownership of anything it stores in the attribute besides the name. */
static onyxi_attr *add_attr(onyxi_node *n, const char *name, onyxi_attr_type t) {
    onyxi_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = onyxi_strdup(name);
    a->type = t;
    return a;
}

/* Frees the node after detaching test-owned tensor attributes. */
static void free_node(onyxi_node *n) {
    for (int i = 0; i < n->n_attrs; i++)
        n->attrs[i].t = NULL;
    tu_node_free(n);
}

static onyx_status run_constant(onyxi_node *n, onyx_tensor **y, onyxi_err *err) {
    return tu_run_op(n, NULL, y, NULL, err);
}

START_TEST(test_constant_value_tensor) {
    const float v[] = {1.5f, -2, 3, 4, 5, 6};
    onyx_tensor *t = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, v);
    onyxi_node *n = tu_node_new("Constant", 1, 0, 1);
    add_attr(n, "value", ONYXI_ATTR_TENSOR)->t = t;
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_msg(run_constant(n, &y, &err) == ONYX_OK, "%s", err.msg);
    tu_assert_floats(y, 2, (int64_t[]){2, 3}, v, 0, 0);
    tu_tensor_free(y);
    free_node(n);
    tu_tensor_free(t);
}
END_TEST

START_TEST(test_constant_value_tensor_int64_scalar_and_empty) {
    const int64_t v = -42;
    onyx_tensor *t = tu_tensor(ONYX_DTYPE_INT64, 0, NULL, &v);
    onyxi_node *n = tu_node_new("Constant", 13, 0, 1);
    add_attr(n, "value", ONYXI_ATTR_TENSOR)->t = t;
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_INT64);
    ck_assert_int_eq(y->rank, 0);
    ck_assert_int_eq(*(int64_t *)y->data, -42);
    tu_tensor_free(y);
    free_node(n);
    tu_tensor_free(t);

    t = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){3, 0}, NULL);
    n = tu_node_new("Constant", 9, 0, 1);
    add_attr(n, "value", ONYXI_ATTR_TENSOR)->t = t;
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){3, 0}, NULL, 0, 0);
    tu_tensor_free(y);
    free_node(n);
    tu_tensor_free(t);
}
END_TEST

START_TEST(test_constant_value_float_is_scalar) {
    onyxi_node *n = tu_node_new("Constant", 12, 0, 1);
    tu_attr_float(n, "value_float", 2.25f);
    onyx_tensor *y = NULL;
    onyxi_err err;
    const float want[] = {2.25f};
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_OK);
    tu_assert_floats(y, 0, NULL, want, 0, 0);
    tu_tensor_free(y);
    tu_node_free(n);
}
END_TEST

START_TEST(test_constant_value_floats_is_1d) {
    const float v[] = {1, 2, 3.5f};
    onyxi_node *n = tu_node_new("Constant", 13, 0, 1);
    tu_attr_floats(n, "value_floats", 3, v);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_OK);
    tu_assert_floats(y, 1, (int64_t[]){3}, v, 0, 0);
    tu_tensor_free(y);
    tu_node_free(n);
}
END_TEST

START_TEST(test_constant_value_int_is_int64_scalar) {
    onyxi_node *n = tu_node_new("Constant", 12, 0, 1);
    tu_attr_int(n, "value_int", INT64_MIN);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_INT64);
    ck_assert_int_eq(y->rank, 0);
    ck_assert_uint_eq(y->nbytes, 8);
    ck_assert_int_eq(*(int64_t *)y->data, INT64_MIN);
    tu_tensor_free(y);
    tu_node_free(n);
}
END_TEST

START_TEST(test_constant_value_ints_is_int64_1d) {
    const int64_t v[] = {4, -1, 0, 7};
    onyxi_node *n = tu_node_new("Constant", 13, 0, 1);
    tu_attr_ints(n, "value_ints", 4, v);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_INT64);
    ck_assert_int_eq(y->rank, 1);
    ck_assert_int_eq(y->dims[0], 4);
    ck_assert_mem_eq(y->data, v, sizeof v);
    tu_tensor_free(y);
    tu_node_free(n);

    /* an empty list is a [0] tensor */
    n = tu_node_new("Constant", 13, 0, 1);
    tu_attr_ints(n, "value_ints", 0, NULL);
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->rank, 1);
    ck_assert_int_eq(y->dims[0], 0);
    ck_assert_uint_eq(y->nbytes, 0);
    tu_tensor_free(y);
    tu_node_free(n);
}
END_TEST

START_TEST(test_constant_needs_exactly_one_value) {
    onyxi_node *n = tu_node_new("Constant", 13, 0, 1);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "exactly one"));
    tu_attr_int(n, "value_int", 1);
    tu_attr_float(n, "value_float", 1);
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "has 2"));
    tu_node_free(n);
}
END_TEST

START_TEST(test_constant_value_star_needs_opset_12) {
    onyxi_node *n = tu_node_new("Constant", 11, 0, 1);
    tu_attr_int(n, "value_int", 1);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "value_int"));
    ck_assert_ptr_nonnull(strstr(err.msg, "opset 12"));
    tu_node_free(n);

    n = tu_node_new("Constant", 9, 0, 1);
    add_attr(n, "sparse_value", ONYXI_ATTR_SPARSE_TENSOR);
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "opset 11"));
    tu_node_free(n);
}
END_TEST

START_TEST(test_constant_strings_and_sparse_unsupported) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyxi_node *n = tu_node_new("Constant", 13, 0, 1);
    tu_attr_string(n, "value_string", "hello");
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "value_string"));
    tu_node_free(n);

    n = tu_node_new("Constant", 13, 0, 1);
    add_attr(n, "value_strings", ONYXI_ATTR_STRINGS);
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_UNSUPPORTED);
    tu_node_free(n);

    n = tu_node_new("Constant", 11, 0, 1);
    add_attr(n, "sparse_value", ONYXI_ATTR_SPARSE_TENSOR);
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "sparse_value"));
    tu_node_free(n);

    onyx_tensor *t = tu_tensor(ONYX_DTYPE_UINT8, 1, (int64_t[]){1}, NULL);
    t->dtype = ONYX_DTYPE_STRING;
    n = tu_node_new("Constant", 13, 0, 1);
    add_attr(n, "value", ONYXI_ATTR_TENSOR)->t = t;
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_UNSUPPORTED);
    free_node(n);
    tu_tensor_free(t);
}
END_TEST

START_TEST(test_constant_bad_tensor_is_invalid) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    /* byte count disagrees with the shape */
    onyx_tensor *t = tu_tensor(ONYX_DTYPE_FLOAT32, 1, (int64_t[]){3}, NULL);
    t->nbytes = 8;
    onyxi_node *n = tu_node_new("Constant", 13, 0, 1);
    add_attr(n, "value", ONYXI_ATTR_TENSOR)->t = t;
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "8 bytes, expected 12"));
    /* negative dim */
    t->nbytes = 12;
    t->dims[0] = -3;
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_INVALID_MODEL);
    free_node(n);
    tu_tensor_free(t);

    /* a TENSOR attribute without a tensor */
    n = tu_node_new("Constant", 13, 0, 1);
    add_attr(n, "value", ONYXI_ATTR_TENSOR);
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_INVALID_MODEL);
    tu_node_free(n);

    /* wrong attribute type for the name */
    n = tu_node_new("Constant", 13, 0, 1);
    tu_attr_int(n, "value_floats", 3);
    ck_assert_int_eq(run_constant(n, &y, &err), ONYX_INVALID_MODEL);
    tu_node_free(n);
}
END_TEST

static Suite *ops_constant_suite(void) {
    Suite *s = suite_create("ops_constant");
    TCase *tc = tcase_create("forms");
    tcase_add_test(tc, test_constant_value_tensor);
    tcase_add_test(tc, test_constant_value_tensor_int64_scalar_and_empty);
    tcase_add_test(tc, test_constant_value_float_is_scalar);
    tcase_add_test(tc, test_constant_value_floats_is_1d);
    tcase_add_test(tc, test_constant_value_int_is_int64_scalar);
    tcase_add_test(tc, test_constant_value_ints_is_int64_1d);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_constant_needs_exactly_one_value);
    tcase_add_test(tc, test_constant_value_star_needs_opset_12);
    tcase_add_test(tc, test_constant_strings_and_sparse_unsupported);
    tcase_add_test(tc, test_constant_bad_tensor_is_invalid);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_constant_suite());
}
