/*
 * Softmax and LogSoftmax (ops/softmax.c): the opset 1/11 coerce-to-2-D rule against the
 * opset 13 single-axis rule on one 3-D input, default and negative axes, large inputs, the
 * NaN rows of the numpy reference, and axis/dtype errors. Expected values come from numpy's
 * exp(x - max) / sum and (x - max) - log(sum(exp(x - max))) in float32. The oneDNN
 * implementation against the reference on seeded random shapes and axes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* x of shape [2,2,2] used by most cases */
static const float X3[] = {0, 1, 2, 3, -1, 0, 5, 1};
static const int64_t X3_DIMS[] = {2, 2, 2};

/* Runs op_type (Softmax or LogSoftmax) at opset with axis (has_axis 0 = attribute absent). */
static onyx_status run_op(const char *op_type, int64_t opset, int has_axis, int64_t axis,
                          onyx_tensor *x, onyx_tensor **y, onyxi_err *err) {
    onyxi_node *n = tu_node_new(op_type, opset, 1, 1);
    if (has_axis) tu_attr_int(n, "axis", axis);
    onyx_status rc = tu_run_op(n, &x, y, NULL, err);
    tu_node_free(n);
    return rc;
}

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
    /* negative axes are official from opset 11, but PyTorch's opset 6 exports use them */
    check_x3(1, 1, -1, want);
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
    ck_assert_int_eq(run_softmax(1, 1, -4, x, &y, &err), ONYX_INVALID_MODEL);
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

/* LogSoftmax of the [2,2,2] case against want (atol 1e-6: values are O(1) logs). */
static void check_log_x3(int64_t opset, int has_axis, int64_t axis, const float *want) {
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 3, X3_DIMS, X3);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_msg(run_op("LogSoftmax", opset, has_axis, axis, x, &y, &err) == ONYX_OK, "%s",
                  err.msg);
    tu_assert_floats(y, 3, X3_DIMS, want, 1e-6, 1e-6);
    tu_tensor_free(x);
    tu_tensor_free(y);
}

START_TEST(test_logsoftmax_example_row) {
    const float xv[] = {-1, 0, 1};
    const float want[] = {-2.4076061f, -1.4076060f, -0.40760601f};
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){1, 3}, xv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_op("LogSoftmax", 13, 0, 0, x, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){1, 3}, want, 1e-6, 1e-6);
    tu_tensor_free(x);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_logsoftmax_large_numbers) {
    /* exp(10000) overflows: only the max-shifted form stays finite */
    const float xv[] = {0, 1, 2, 3, 10000, 10001, 10002, 10003};
    const float want[] = {-3.4401896f, -2.4401896f, -1.4401896f, -0.44018966f,
                          -3.4401896f, -2.4401896f, -1.4401896f, -0.44018966f};
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 4}, xv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_op("LogSoftmax", 13, 0, 0, x, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){2, 4}, want, 1e-6, 1e-6);
    tu_tensor_free(x);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_logsoftmax_v11_coerces_to_2d) {
    const float want[] = {-3.4401896f, -2.4401896f, -1.4401896f,  -0.44018966f,
                          -6.0271602f, -5.0271602f, -0.02716014f, -4.0271602f};
    check_log_x3(11, 1, 1, want);
    check_log_x3(11, 0, 0, want); /* default axis 1 before opset 13 */
    check_log_x3(1, 1, 1, want);
    const float want_axis0[] = {-5.2132616f, -4.2132616f, -3.2132616f,  -2.2132616f,
                                -6.2132616f, -5.2132616f, -0.21326156f, -4.2132616f};
    check_log_x3(11, 1, 0, want_axis0);
}
END_TEST

START_TEST(test_logsoftmax_v13_single_axis) {
    const float want1[] = {-2.1269281f, -2.1269281f, -0.12692805f,   -0.12692805f,
                           -6.0024757f, -1.3132616f, -0.0024756517f, -0.31326166f};
    check_log_x3(13, 1, 1, want1);
    const float want0[] = {-0.31326166f, -0.31326166f, -3.0485873f,   -0.12692805f,
                           -1.3132616f,  -1.3132616f,  -0.048587333f, -2.1269281f};
    check_log_x3(13, 1, 0, want0);
    const float wantl[] = {-1.3132616f, -0.31326166f, -1.3132616f,  -0.31326166f,
                           -1.3132616f, -0.31326166f, -0.01814996f, -4.0181499f};
    check_log_x3(13, 0, 0, wantl); /* default -1 */
    check_log_x3(13, 1, -1, wantl);
    check_log_x3(1, 1, -1, wantl); /* last axis: as PyTorch's opset 6 exports write it */
}
END_TEST

START_TEST(test_logsoftmax_errors_name_the_op) {
    const int64_t v[] = {1, 2};
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_INT64, 1, (int64_t[]){2}, v);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_op("LogSoftmax", 13, 0, 0, x, &y, &err), ONYX_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "LogSoftmax"));
    ck_assert_ptr_nonnull(strstr(err.msg, "int64"));
    tu_tensor_free(x);
    x = tu_tensor(ONYX_DTYPE_FLOAT32, 3, X3_DIMS, X3);
    ck_assert_int_eq(run_op("LogSoftmax", 13, 1, 3, x, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_int_eq(run_op("LogSoftmax", 1, 1, -4, x, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "axis -4"));
    tu_tensor_free(x);
}
END_TEST

/* Seeded generator for the dnnl-vs-ref test. */
static unsigned dnnl_rng = 1;
static int64_t rnd(int64_t lo, int64_t hi) { /* uniform in [lo, hi] */
    dnnl_rng = dnnl_rng * 1103515245u + 12345u;
    return lo + (int64_t)((dnnl_rng >> 8) % (unsigned)(hi - lo + 1));
}

START_TEST(test_softmax_dnnl_matches_ref_random) {
    /* expf and the sum differ from the reference's only by rounding: within 1e-6 absolute
     * on probabilities; LogSoftmax's log(sum) within 1e-5 absolute (ONEDNN.md: 3.8e-6) */
    const double rtol = 1e-5;
    dnnl_rng = 20241124u;
    int dnnl_cases = 0, expected = 0;
    for (int iter = 0; iter < 150; iter++) {
        int rank = (int)rnd(1, 4), log = (int)rnd(0, 1);
        int64_t opset = rnd(0, 2) ? 13 : 11, dims[4];
        for (int i = 0; i < rank; i++)
            dims[i] = rnd(0, 3) == 0 ? 1 : rnd(2, 19);
        int64_t axis = rnd(-rank, rank - 1);
        int ax = (int)(axis < 0 ? axis + rank : axis);
        int64_t inner = 1; /* elements after the softmax dim at opset 13 */
        for (int i = ax + 1; i < rank; i++)
            inner *= dims[i];
        /* oneDNN is fast only along the innermost dense dim */
        int takes = opset < 13 || inner == 1;
        onyx_tensor *x = tu_tensor_random(rank, dims, (unsigned)iter + 1, -5, 5);
        onyx_tensor *in[1] = {x};
        onyxi_node *n = tu_node_new(log ? "LogSoftmax" : "Softmax", opset, 1, 1);
        tu_attr_int(n, "axis", axis);
        onyx_tensor *want = NULL, *got = NULL;
        onyxi_err err;
        ck_assert_int_eq(tu_run_op(n, in, &want, "ref", &err), ONYX_OK);
        onyx_status rc = tu_run_op(n, in, &got, "dnnl", &err);
        if (takes) {
            ck_assert_msg(rc == ONYX_OK, "case %d: %s", iter, err.msg);
            tu_assert_close(got, want, log ? 1e-5 : 1e-6, rtol);
            dnnl_cases++;
        } else {
            ck_assert_int_eq(rc, ONYX_UNSUPPORTED);
        }
        expected += takes;
        tu_tensor_free(want);
        tu_tensor_free(got);
        tu_tensor_free(x);
        tu_node_free(n);
    }
    ck_assert_int_eq(dnnl_cases, expected);
    ck_assert_int_ge(dnnl_cases, 90);
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
    tc = tcase_create("logsoftmax");
    tcase_add_test(tc, test_logsoftmax_example_row);
    tcase_add_test(tc, test_logsoftmax_large_numbers);
    tcase_add_test(tc, test_logsoftmax_v11_coerces_to_2d);
    tcase_add_test(tc, test_logsoftmax_v13_single_axis);
    tcase_add_test(tc, test_logsoftmax_errors_name_the_op);
    suite_add_tcase(s, tc);
    tc = tcase_create("dnnl");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_softmax_dnnl_matches_ref_random);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_softmax_suite());
}
