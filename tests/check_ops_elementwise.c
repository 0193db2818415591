/*
 * Tests of the element-wise ops (ops/elementwise.c): Sigmoid values against hand-computed
 * and double-precision results, the extremes (+-1000, +-inf, NaN), in-place execution
 * (the op is registered ONYXI_OP_INPLACE_OK) and the dtype checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Runs Sigmoid at opset on x (freed here). */
static onyx_status run_sigmoid(int64_t opset, onyx_tensor *x, onyx_tensor **y, onyxi_err *err) {
    onyxi_node *n = tu_node_new("Sigmoid", opset, 1, 1);
    onyx_tensor *in[1] = {x};
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    tu_tensor_free(x);
    tu_node_free(n);
    return rc;
}

START_TEST(test_sigmoid_example) {
    /* the ONNX example: 1 / (1 + e^1) = 0.26894142, 1 / (1 + e^-1) = 0.73105858 */
    int64_t d[1] = {3};
    float x[3] = {-1, 0, 1};
    float want[3] = {0.26894142f, 0.5f, 0.73105858f};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_sigmoid(13, tu_tensor(ONYX_DTYPE_FLOAT32, 1, d, x), &y, &err), ONYX_OK);
    tu_assert_floats(y, 1, d, want, 0, 1e-7);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_sigmoid_extremes) {
    int64_t d[2] = {2, 5};
    float x[10] = {-1000, 1000, -INFINITY, INFINITY, NAN, -88, 88, -20, 20, -0.0f};
    /* -88: e^-88 = 6.0546e-39 (a float subnormal); -20: 2.0611537e-9 */
    float want[10] = {0, 1, 0, 1, NAN, 6.0546015e-39f, 1, 2.0611537e-09f, 1, 0.5f};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_sigmoid(6, tu_tensor(ONYX_DTYPE_FLOAT32, 2, d, x), &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, d, want, 1e-44, 1e-6);
    const float *p = y->data;
    for (int i = 0; i < 10; i++)
        if (i != 4) ck_assert_msg(isfinite(p[i]), "element %d is %g", i, p[i]);
    ck_assert(isnan(p[4]));
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_sigmoid_matches_double) {
    /* 3 x 5 x 7 values over [-30, 30), against the double formula; rank 3 on purpose */
    int64_t d[3] = {3, 5, 7};
    onyx_tensor *x = tu_tensor_random(3, d, 7, -30, 30);
    float want[105];
    const float *xp = x->data;
    for (int i = 0; i < 105; i++)
        want[i] = (float)(1.0 / (1.0 + exp(-(double)xp[i])));
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_sigmoid(13, x, &y, &err), ONYX_OK);
    tu_assert_floats(y, 3, d, want, 0, 1e-6);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_sigmoid_scalar) {
    float x[1] = {2};
    float want[1] = {0.88079708f};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_sigmoid(13, tu_tensor(ONYX_DTYPE_FLOAT32, 0, NULL, x), &y, &err), ONYX_OK);
    tu_assert_floats(y, 0, NULL, want, 0, 1e-7);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_sigmoid_in_place) {
    const onyxi_op *op = onyxi_op_find("", "Sigmoid", 13, NULL);
    ck_assert_ptr_nonnull(op);
    ck_assert(op->flags & ONYXI_OP_INPLACE_OK);
    const onyxi_impl *impl = NULL;
    for (int i = 0; op->impls[i]; i++)
        if (strcmp(op->impls[i]->name, "ref") == 0) impl = op->impls[i];
    ck_assert_ptr_nonnull(impl);

    /* odd length so any vector tail is exercised too */
    int64_t d[1] = {37};
    onyx_tensor *t = tu_tensor_random(1, d, 3, -10, 10);
    float *p = t->data;
    p[0] = -1000;
    p[1] = NAN;
    p[2] = INFINITY;
    float want[37];
    for (int i = 0; i < 37; i++)
        want[i] = isnan(p[i]) ? NAN : (float)(1.0 / (1.0 + exp(-(double)p[i])));

    onyxi_node *n = tu_node_new("Sigmoid", 13, 1, 1);
    n->op = op;
    const onyx_tensor *ins[1] = {t};
    onyx_tensor *outs[1] = {t}; /* the same memory */
    onyxi_err err;
    onyxi_err_clear(&err);
    onyxi_exec x = {
        .node = n, .n_in = 1, .in = ins, .n_out = 1, .out = outs, .num_threads = 1, .err = &err};
    ck_assert_int_eq(impl->init ? impl->init(&x) : ONYX_OK, ONYX_OK);
    ck_assert_int_eq(impl->run(&x), ONYX_OK);
    if (impl->fini) impl->fini(&x);
    tu_assert_floats(t, 1, d, want, 0, 1e-6);
    tu_tensor_free(t);
    tu_node_free(n);
}
END_TEST

START_TEST(test_sigmoid_wrong_dtype) {
    int64_t d[1] = {4};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_sigmoid(13, tu_tensor(ONYX_DTYPE_INT32, 1, d, NULL), &y, &err),
                     ONYX_TYPE_MISMATCH);
    ck_assert_msg(strstr(err.msg, "has dtype int32, expected float32"), "%s", err.msg);
    ck_assert_ptr_null(y);
    ck_assert_int_eq(run_sigmoid(13, tu_tensor(ONYX_DTYPE_FLOAT64, 1, d, NULL), &y, &err),
                     ONYX_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "only float32"), "%s", err.msg);
}
END_TEST

Suite *ops_elementwise_suite(void) {
    Suite *s = suite_create("ops_elementwise");
    TCase *tc = tcase_create("sigmoid");
    tcase_add_test(tc, test_sigmoid_example);
    tcase_add_test(tc, test_sigmoid_extremes);
    tcase_add_test(tc, test_sigmoid_matches_double);
    tcase_add_test(tc, test_sigmoid_scalar);
    tcase_add_test(tc, test_sigmoid_in_place);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_sigmoid_wrong_dtype);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_elementwise_suite());
}
