/*
 * Concat (ops/concat.c): every axis of a 3-D input, positive and negative, with an empty
 * input in the middle; int64 and bool data; and the shape, rank, dtype, axis and
 * missing-attribute errors. The oneDNN implementation against the reference on seeded
 * random shapes, axes and input counts (bit-exact), and its declines.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* A = 0..7 as [2,2,2]; B = 10..13 with size 1 on the concat axis */
static const float A[] = {0, 1, 2, 3, 4, 5, 6, 7};
static const float B[] = {10, 11, 12, 13};

/* Runs Concat at opset with axis (has_axis 0 = attribute absent) on n_in inputs. */
static onyx_status run_concat(int64_t opset, int has_axis, int64_t axis, int n_in, onyx_tensor **in,
                              onyx_tensor **y, onyxi_err *err) {
    onyxi_node *n = tu_node_new("Concat", opset, n_in, 1);
    if (has_axis) tu_attr_int(n, "axis", axis);
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    tu_node_free(n);
    return rc;
}

/* Concats A, an empty input and B along axis ax (given as `axis`, maybe negative). */
static void check_axis(int64_t opset, int ax, int64_t axis, const float *want) {
    int64_t bd[3] = {2, 2, 2}, ed[3] = {2, 2, 2}, yd[3] = {2, 2, 2};
    bd[ax] = 1;
    ed[ax] = 0;
    yd[ax] = 3;
    onyx_tensor *in[3] = {tu_tensor(ONYX_DTYPE_FLOAT32, 3, (int64_t[]){2, 2, 2}, A),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 3, ed, NULL),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 3, bd, B)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_msg(run_concat(opset, 1, axis, 3, in, &y, &err) == ONYX_OK, "%s", err.msg);
    tu_assert_floats(y, 3, yd, want, 0, 0);
    for (int k = 0; k < 3; k++)
        tu_tensor_free(in[k]);
    tu_tensor_free(y);
}

START_TEST(test_concat_axis_0) {
    const float want[] = {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13};
    check_axis(4, 0, 0, want);
    check_axis(13, 0, -3, want);
}
END_TEST

START_TEST(test_concat_axis_1) {
    const float want[] = {0, 1, 2, 3, 10, 11, 4, 5, 6, 7, 12, 13};
    check_axis(11, 1, 1, want);
    check_axis(11, 1, -2, want);
}
END_TEST

START_TEST(test_concat_axis_2) {
    const float want[] = {0, 1, 10, 2, 3, 11, 4, 5, 12, 6, 7, 13};
    check_axis(13, 2, 2, want);
    check_axis(13, 2, -1, want);
}
END_TEST

START_TEST(test_concat_single_input_copies) {
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 3, (int64_t[]){2, 2, 2}, A);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 1, 1, &x, &y, &err), ONYX_OK);
    tu_assert_floats(y, 3, (int64_t[]){2, 2, 2}, A, 0, 0);
    tu_tensor_free(x);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_concat_int64) {
    const int64_t a[] = {1, 2, 3, 4}, b[] = {INT64_MAX, INT64_MIN};
    const int64_t want[] = {1, 2, INT64_MAX, 3, 4, INT64_MIN};
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){2, 2}, a),
                          tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){2, 1}, b)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, -1, 2, in, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_INT64);
    ck_assert_int_eq(y->rank, 2);
    ck_assert_int_eq(y->dims[0], 2);
    ck_assert_int_eq(y->dims[1], 3);
    ck_assert_mem_eq(y->data, want, sizeof want);
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_concat_bool_1d) {
    const unsigned char a[] = {1, 0, 1}, b[] = {0, 1};
    const unsigned char want[] = {1, 0, 1, 0, 1};
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_BOOL, 1, (int64_t[]){3}, a),
                          tu_tensor(ONYX_DTYPE_BOOL, 1, (int64_t[]){2}, b)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 0, 2, in, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_BOOL);
    ck_assert_int_eq(y->dims[0], 5);
    ck_assert_mem_eq(y->data, want, sizeof want);
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_concat_all_empty) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){0, 2}, NULL),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){0, 3}, NULL)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 1, 2, in, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){0, 5}, NULL, 0, 0);
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_concat_mismatched_dims) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){3, 4}, NULL)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 1, 2, in, &y, &err), ONYX_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "input 1"));
    ck_assert_ptr_nonnull(strstr(err.msg, "[3,4]"));
    ck_assert_ptr_nonnull(strstr(err.msg, "[2,3]"));
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
}
END_TEST

START_TEST(test_concat_mismatched_rank) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 3, (int64_t[]){2, 3, 1}, NULL)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 0, 2, in, &y, &err), ONYX_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "rank 3"));
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
}
END_TEST

START_TEST(test_concat_mismatched_dtype) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 1, (int64_t[]){2}, NULL),
                          tu_tensor(ONYX_DTYPE_INT64, 1, (int64_t[]){2}, NULL)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 0, 2, in, &y, &err), ONYX_TYPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "int64"));
    ck_assert_ptr_nonnull(strstr(err.msg, "float32"));
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
}
END_TEST

START_TEST(test_concat_axis_out_of_range) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 2, 2, in, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "axis 2"));
    ck_assert_int_eq(run_concat(13, 1, -3, 2, in, &y, &err), ONYX_INVALID_MODEL);
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
}
END_TEST

START_TEST(test_concat_axis_attribute_rules) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    /* axis is required in every version */
    ck_assert_int_eq(run_concat(4, 0, 0, 2, in, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'axis'"));
    ck_assert_int_eq(run_concat(13, 0, 0, 2, in, &y, &err), ONYX_INVALID_MODEL);
    /* negative axes only from opset 11 */
    ck_assert_int_eq(run_concat(4, 1, -1, 2, in, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "opset 11"));
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
}
END_TEST

START_TEST(test_concat_absent_input_is_invalid) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 1, (int64_t[]){2}, NULL), NULL};
    onyxi_node *n = tu_node_new("Concat", 13, 2, 1);
    tu_attr_int(n, "axis", 0);
    tu_node_absent_input(n, 1);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, in, &y, NULL, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "input 1"));
    tu_node_free(n);
    tu_tensor_free(in[0]);
}
END_TEST

/* Seeded generator for the dnnl-vs-ref test. */
static unsigned dnnl_rng = 1;
static int64_t rnd(int64_t lo, int64_t hi) { /* uniform in [lo, hi] */
    dnnl_rng = dnnl_rng * 1103515245u + 12345u;
    return lo + (int64_t)((dnnl_rng >> 8) % (unsigned)(hi - lo + 1));
}

START_TEST(test_concat_dnnl_matches_ref_random) {
    /* a copy: bit-exact */
    dnnl_rng = 20241125u;
    int dnnl_cases = 0;
    const int cases = 100;
    for (int iter = 0; iter < cases; iter++) {
        int rank = (int)rnd(1, 5), n_in = (int)rnd(1, 4);
        int64_t axis = rnd(-rank, rank - 1), dims[5];
        int ax = (int)(axis < 0 ? axis + rank : axis);
        for (int i = 0; i < rank; i++)
            dims[i] = rnd(1, rank > 3 ? 5 : 13);
        onyx_tensor *in[4];
        for (int k = 0; k < n_in; k++) {
            dims[ax] = rnd(1, 9);
            in[k] = tu_tensor_random(rank, dims, (unsigned)(iter * 4 + k + 1), -1, 1);
        }
        onyxi_node *n = tu_node_new("Concat", 13, n_in, 1);
        tu_attr_int(n, "axis", axis);
        onyx_tensor *want = NULL, *got = NULL;
        onyxi_err err;
        ck_assert_int_eq(tu_run_op(n, in, &want, "ref", &err), ONYX_OK);
        onyx_status rc = tu_run_op(n, in, &got, "dnnl", &err);
        ck_assert_msg(rc == ONYX_OK, "case %d: %s", iter, err.msg);
        tu_assert_close(got, want, 0, 0);
        dnnl_cases++;
        tu_tensor_free(want);
        tu_tensor_free(got);
        for (int k = 0; k < n_in; k++)
            tu_tensor_free(in[k]);
        tu_node_free(n);
    }
    ck_assert_int_eq(dnnl_cases, cases);
}
END_TEST

START_TEST(test_concat_dnnl_declines_empty_and_ints) {
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL);
    onyx_tensor *e = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 0}, NULL);
    onyx_tensor *i = tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){2, 3}, NULL);
    onyx_tensor *in_e[2] = {a, e}, *in_i[2] = {i, i}, *y = NULL;
    onyxi_node *n = tu_node_new("Concat", 13, 2, 1);
    tu_attr_int(n, "axis", 1);
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, in_e, &y, "dnnl", &err), ONYX_UNSUPPORTED);
    ck_assert_int_eq(tu_run_op(n, in_i, &y, "dnnl", &err), ONYX_UNSUPPORTED);
    tu_tensor_free(a);
    tu_tensor_free(e);
    tu_tensor_free(i);
    tu_node_free(n);
}
END_TEST

static Suite *ops_concat_suite(void) {
    Suite *s = suite_create("ops_concat");
    TCase *tc = tcase_create("axes");
    tcase_add_test(tc, test_concat_axis_0);
    tcase_add_test(tc, test_concat_axis_1);
    tcase_add_test(tc, test_concat_axis_2);
    tcase_add_test(tc, test_concat_single_input_copies);
    suite_add_tcase(s, tc);
    tc = tcase_create("dtypes");
    tcase_add_test(tc, test_concat_int64);
    tcase_add_test(tc, test_concat_bool_1d);
    tcase_add_test(tc, test_concat_all_empty);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_concat_mismatched_dims);
    tcase_add_test(tc, test_concat_mismatched_rank);
    tcase_add_test(tc, test_concat_mismatched_dtype);
    tcase_add_test(tc, test_concat_axis_out_of_range);
    tcase_add_test(tc, test_concat_axis_attribute_rules);
    tcase_add_test(tc, test_concat_absent_input_is_invalid);
    suite_add_tcase(s, tc);
    tc = tcase_create("dnnl");
    tcase_add_test(tc, test_concat_dnnl_matches_ref_random);
    tcase_add_test(tc, test_concat_dnnl_declines_empty_and_ints);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_concat_suite());
}
