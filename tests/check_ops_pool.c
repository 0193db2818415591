/*
 * Tests of the pooling ops (ops/pool.c): GlobalAveragePool on ranks 3, 4 and 5 with
 * hand-computed means, accuracy over a large plane, an empty plane, and the input checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Runs GlobalAveragePool-1 on x (freed here). */
static onyx_status run_gap(onyx_tensor *x, onyx_tensor **y, onyxi_err *err) {
    onyxi_node *n = tu_node_new("GlobalAveragePool", 13, 1, 1);
    onyx_tensor *in[1] = {x};
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    tu_tensor_free(x);
    tu_node_free(n);
    return rc;
}

static void expect_gap(onyx_tensor *x, int rank, const int64_t *dims, const float *want) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyx_status rc = run_gap(x, &y, &err);
    ck_assert_msg(rc == ONYX_OK, "GlobalAveragePool failed: %s", err.msg);
    tu_assert_floats(y, rank, dims, want, 1e-7, 1e-6);
    tu_tensor_free(y);
}

START_TEST(test_gap_rank3) {
    int64_t xd[3] = {1, 2, 3}, yd[3] = {1, 2, 1};
    float x[6] = {1, 2, 3, 4, 5, 6};
    float want[2] = {2, 5};
    expect_gap(tu_tensor(ONYX_DTYPE_FLOAT32, 3, xd, x), 3, yd, want);
}
END_TEST

START_TEST(test_gap_rank4) {
    /* 2 images x 2 channels of 2x2 */
    int64_t xd[4] = {2, 2, 2, 2}, yd[4] = {2, 2, 1, 1};
    float x[16] = {1, 2, 3, 4, -1, -1, -1, -1, 0, 0, 0, 10, 0.5f, 1.5f, 2.5f, 3.5f};
    float want[4] = {2.5f, -1, 2.5f, 2};
    expect_gap(tu_tensor(ONYX_DTYPE_FLOAT32, 4, xd, x), 4, yd, want);
}
END_TEST

START_TEST(test_gap_rank5) {
    /* 1..8 in a 2x2x2 volume, and the same plus 8 in channel 1 */
    int64_t xd[5] = {1, 2, 2, 2, 2}, yd[5] = {1, 2, 1, 1, 1};
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i + 1);
    float want[2] = {4.5f, 12.5f};
    expect_gap(tu_tensor(ONYX_DTYPE_FLOAT32, 5, xd, x), 5, yd, want);
}
END_TEST

START_TEST(test_gap_large_plane_is_accurate) {
    /* A float running sum of 2^22 copies of 0.1f drifts by percent; the mean must stay
     * within float rounding of 0.1f. */
    int64_t xd[4] = {1, 1, 2048, 2048}, yd[4] = {1, 1, 1, 1};
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 4, xd, NULL);
    float *p = x->data;
    for (int64_t i = 0; i < 2048 * 2048; i++)
        p[i] = 0.1f;
    float want[1] = {0.1f};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_gap(x, &y, &err), ONYX_OK);
    tu_assert_floats(y, 4, yd, want, 0, 1e-7);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_gap_empty_plane_is_nan) {
    int64_t xd[4] = {1, 2, 0, 3}, yd[4] = {1, 2, 1, 1};
    float want[2] = {NAN, NAN};
    expect_gap(tu_tensor(ONYX_DTYPE_FLOAT32, 4, xd, NULL), 4, yd, want);
}
END_TEST

START_TEST(test_gap_rank2_is_shape_mismatch) {
    int64_t xd[2] = {2, 3};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_gap(tu_tensor(ONYX_DTYPE_FLOAT32, 2, xd, NULL), &y, &err),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_msg(strstr(err.msg, "input 'X' has rank 2, expected at least 3"), "%s", err.msg);
    ck_assert_ptr_null(y);
}
END_TEST

START_TEST(test_gap_wrong_dtype_is_type_mismatch) {
    int64_t xd[3] = {1, 1, 3};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_gap(tu_tensor(ONYX_DTYPE_INT32, 3, xd, NULL), &y, &err),
                     ONYX_TYPE_MISMATCH);
    ck_assert_msg(strstr(err.msg, "int32"), "%s", err.msg);
    ck_assert_int_eq(run_gap(tu_tensor(ONYX_DTYPE_FLOAT64, 3, xd, NULL), &y, &err),
                     ONYX_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "only float32"), "%s", err.msg);
}
END_TEST

Suite *ops_pool_suite(void) {
    Suite *s = suite_create("ops_pool");
    TCase *tc = tcase_create("global_average_pool");
    tcase_add_test(tc, test_gap_rank3);
    tcase_add_test(tc, test_gap_rank4);
    tcase_add_test(tc, test_gap_rank5);
    tcase_add_test(tc, test_gap_large_plane_is_accurate);
    tcase_add_test(tc, test_gap_empty_plane_is_nan);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_gap_rank2_is_shape_mismatch);
    tcase_add_test(tc, test_gap_wrong_dtype_is_type_mismatch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_pool_suite());
}
