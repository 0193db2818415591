/*
 * Softmax (ops/softmax.c): the opset 1/11 coerce-to-2-D rule against the opset 13
 * single-axis rule on one 3-D input, default and negative axes, large inputs, the NaN rows
 * of the numpy reference, and axis/dtype errors. Expected values come from numpy's
 * exp(x - max) / sum in float32.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* x of shape [2,2,2] used by most cases */
static const float X3[] = {0, 1, 2, 3, -1, 0, 5, 1};
static const int64_t X3_DIMS[] = {2, 2, 2};

/* Runs Softmax at opset with axis (has_axis 0 = attribute absent) on x. */
static onyx_status run_softmax(int64_t opset, int has_axis, int64_t axis, onyx_tensor *x,
                               onyx_tensor **y, onyxi_err *err) {
    onyxi_node *n = tu_node_new("Softmax", opset, 1, 1);
    if (has_axis) tu_attr_int(n, "axis", axis);
    onyx_status rc = tu_run_op(n, &x, y, NULL, err);
    tu_node_free(n);
    return rc;
}

/* Runs the [2,2,2] case and compares with want (rtol 1e-6: float32 rounding only). */
static void check_x3(int64_t opset, int has_axis, int64_t axis, const float *want) {
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 3, X3_DIMS, X3);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_msg(run_softmax(opset, has_axis, axis, x, &y, &err) == ONYX_OK, "%s", err.msg);
    tu_assert_floats(y, 3, X3_DIMS, want, 1e-7, 1e-6);
    tu_tensor_free(x);
    tu_tensor_free(y);
}

START_TEST(test_softmax_example_row) {
    const float xv[] = {-1, 0, 1};
    const float want[] = {0.09003058f, 0.24472848f, 0.66524094f};
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){1, 3}, xv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_softmax(13, 0, 0, x, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){1, 3}, want, 1e-7, 1e-6);
    tu_tensor_free(x);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_softmax_v11_coerces_to_2d) {
    /* axis 1 on [2,2,2]: rows of 4 elements */
    const float want[] = {0.032058604f, 0.08714432f,  0.2368828f, 0.6439143f,
                          0.002412335f, 0.006557406f, 0.9732054f, 0.017824879f};
    check_x3(11, 1, 1, want);
    check_x3(11, 0, 0, want); /* default axis is 1 before opset 13 */
    check_x3(1, 1, 1, want);
}
END_TEST

START_TEST(test_softmax_v13_single_axis) {
    /* the same input and axis 1, now over dim 1 alone */
    const float want[] = {0.11920292f,  0.11920292f, 0.880797f,  0.880797f,
                          0.002472623f, 0.2689414f,  0.9975274f, 0.7310586f};
    check_x3(13, 1, 1, want);
}
END_TEST

START_TEST(test_softmax_axis_0_differs_by_version) {
    const float want11[] = {0.005443889f, 0.014798026f, 0.0402252f, 0.10934344f,
                            0.002002695f, 0.005443889f, 0.8079448f, 0.014798026f};
    const float want13[] = {0.7310586f, 0.7310586f, 0.047425874f, 0.880797f,
                            0.2689414f, 0.2689414f, 0.95257413f,  0.11920292f};
    check_x3(11, 1, 0, want11);
    check_x3(13, 1, 0, want13);
}
END_TEST

START_TEST(test_softmax_v13_default_and_negative_axis) {
    const float want[] = {0.2689414f, 0.7310586f, 0.2689414f,  0.7310586f,
                          0.2689414f, 0.7310586f, 0.98201376f, 0.01798621f};
    check_x3(13, 0, 0, want); /* default -1 */
    check_x3(13, 1, -1, want);
    check_x3(13, 1, 2, want);
    check_x3(11, 1, -1, want); /* last axis: both rules agree */
}
END_TEST

START_TEST(test_softmax_large_numbers) {
    const float xv[] = {0, 1, 2, 3, 10000, 10001, 10002, 10003};
    const float want[] = {0.032058604f, 0.08714432f, 0.2368828f, 0.6439143f,
                          0.032058604f, 0.08714432f, 0.2368828f, 0.6439143f};
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 4}, xv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_softmax(13, 0, 0, x, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){2, 4}, want, 1e-7, 1e-6);
    tu_tensor_free(x);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_softmax_inf_and_nan_rows_are_nan) {
    /* numpy: max -inf gives -inf - -inf = NaN; max +inf gives inf - inf = NaN in the sum */
    const float xv[] = {-INFINITY, -INFINITY, INFINITY, 0, NAN, 1, 0, 0};
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){4, 2}, xv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_softmax(13, 0, 0, x, &y, &err), ONYX_OK);
    const float *yv = y->data;
    for (int i = 0; i < 6; i++)
        ck_assert_msg(isnan(yv[i]), "element %d is %g", i, yv[i]);
    ck_assert_float_eq_tol(yv[6], 0.5f, 1e-7f);
    ck_assert_float_eq_tol(yv[7], 0.5f, 1e-7f);
    tu_tensor_free(x);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_softmax_empty_input) {
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){0, 3}, NULL);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_softmax(13, 0, 0, x, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){0, 3}, NULL, 0, 0);
    tu_tensor_free(x);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_softmax_axis_out_of_range) {
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 3, X3_DIMS, X3);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_softmax(13, 1, 3, x, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "axis 3"));
    ck_assert_int_eq(run_softmax(13, 1, -4, x, &y, &err), ONYX_INVALID_MODEL);
    /* negative axes arrived with opset 11 */
    ck_assert_int_eq(run_softmax(1, 1, -1, x, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "opset 11"));
    tu_tensor_free(x);
}
END_TEST

START_TEST(test_softmax_non_float_unsupported) {
    const int64_t v[] = {1, 2};
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_INT64, 1, (int64_t[]){2}, v);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_softmax(13, 0, 0, x, &y, &err), ONYX_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "int64"));
    tu_tensor_free(x);
}
END_TEST

static Suite *ops_softmax_suite(void) {
    Suite *s = suite_create("ops_softmax");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, test_softmax_example_row);
    tcase_add_test(tc, test_softmax_large_numbers);
    tcase_add_test(tc, test_softmax_inf_and_nan_rows_are_nan);
    tcase_add_test(tc, test_softmax_empty_input);
    suite_add_tcase(s, tc);
    tc = tcase_create("versions");
    tcase_add_test(tc, test_softmax_v11_coerces_to_2d);
    tcase_add_test(tc, test_softmax_v13_single_axis);
    tcase_add_test(tc, test_softmax_axis_0_differs_by_version);
    tcase_add_test(tc, test_softmax_v13_default_and_negative_axis);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_softmax_axis_out_of_range);
    tcase_add_test(tc, test_softmax_non_float_unsupported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_softmax_suite());
}
