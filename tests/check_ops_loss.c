/*
 * Tests of ops/loss.c: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss forward with
 * every reduction, class weights, ignore_index, the [N, C, d] layout, SCE's log_prob output,
 * and the error codes (bad reduction, target shape, out-of-range class).
 */
#include <math.h>
#include <string.h>

#include "testutil.h"

#define F32(rank, dims, ...) tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, (const float[]){__VA_ARGS__})
#define I64(rank, dims, ...) tu_tensor(ONYX_DTYPE_INT64, rank, dims, (const int64_t[]){__VA_ARGS__})

/* Runs op with reduction red (NULL = default mean) and ignore_index ii (INT64_MIN = none). */
static onyx_status run_loss(const char *op, const char *red, int64_t ii, onyx_tensor *x,
                            onyx_tensor *t, onyx_tensor *w, int n_out, onyx_tensor **y,
                            onyxi_err *err) {
    int n_in = w ? 3 : 2;
    onyxi_node *n = tu_node_new(op, 13, n_in, n_out);
    if (red) tu_attr_string(n, "reduction", red);
    if (ii != INT64_MIN) tu_attr_int(n, "ignore_index", ii);
    onyx_tensor *in[3] = {x, t, w};
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    for (int k = 0; k < n_in; k++)
        tu_tensor_free(in[k]);
    tu_node_free(n);
    return rc;
}

static void assert_f32(onyx_tensor *y, int rank, const int64_t *dims, const float *want) {
    tu_assert_floats(y, rank, dims, want, 1e-6, 1e-5);
    tu_tensor_free(y);
}

/* x [2, 3]: rows (0.1, 0.2, 0.7) and (0.5, 0.3, 0.2) as log-probabilities for NLL */
#define X23 F32(2, d23, 0.1f, 0.2f, 0.7f, 0.5f, 0.3f, 0.2f)

START_TEST(test_nll_reductions) {
    int64_t d23[2] = {2, 3}, d2[1] = {2}, d3[1] = {3};
    onyx_tensor *y[1];
    onyxi_err err;
    ck_assert_int_eq(run_loss("NegativeLogLikelihoodLoss", "none", INT64_MIN, X23, I64(1, d2, 2, 0),
                              NULL, 1, y, &err),
                     ONYX_OK);
    assert_f32(y[0], 1, d2, (const float[]){-0.7f, -0.5f});
    ck_assert_int_eq(run_loss("NegativeLogLikelihoodLoss", "sum", INT64_MIN, X23, I64(1, d2, 2, 0),
                              NULL, 1, y, &err),
                     ONYX_OK);
    assert_f32(y[0], 0, NULL, (const float[]){-1.2f});
    ck_assert_int_eq(run_loss("NegativeLogLikelihoodLoss", NULL, INT64_MIN, X23, I64(1, d2, 2, 0),
                              NULL, 1, y, &err),
                     ONYX_OK);
    assert_f32(y[0], 0, NULL, (const float[]){-0.6f});
    /* weights: mean = sum(w * loss) / sum(w) = (-0.7*2 - 0.5*4) / 6 */
    ck_assert_int_eq(run_loss("NegativeLogLikelihoodLoss", "mean", INT64_MIN, X23, I64(1, d2, 2, 0),
                              F32(1, d3, 4, 1, 2), 1, y, &err),
                     ONYX_OK);
    assert_f32(y[0], 0, NULL, (const float[]){-3.4f / 6});
    /* ignore_index: the ignored target adds neither loss nor weight */
    ck_assert_int_eq(
        run_loss("NegativeLogLikelihoodLoss", "mean", -1, X23, I64(1, d2, 2, -1), NULL, 1, y, &err),
        ONYX_OK);
    assert_f32(y[0], 0, NULL, (const float[]){-0.7f});
    ck_assert_int_eq(run_loss("NegativeLogLikelihoodLoss", "none", 0, X23, I64(1, d2, 2, 0),
                              F32(1, d3, 4, 1, 2), 1, y, &err),
                     ONYX_OK);
    assert_f32(y[0], 1, d2, (const float[]){-1.4f, 0});
}
END_TEST

START_TEST(test_nll_spatial) {
    /* [N=1, C=2, d=3]: class c at position d is x[c * 3 + d] */
    int64_t d123[3] = {1, 2, 3}, d13[2] = {1, 3};
    onyx_tensor *y[1];
    onyxi_err err;
    ck_assert_int_eq(run_loss("NegativeLogLikelihoodLoss", "none", INT64_MIN,
                              F32(3, d123, 1, 2, 3, 4, 5, 6), I64(2, d13, 1, 0, 1), NULL, 1, y,
                              &err),
                     ONYX_OK);
    assert_f32(y[0], 2, d13, (const float[]){-4, -2, -6});
}
END_TEST

START_TEST(test_sce_log_prob) {
    int64_t d23[2] = {2, 3}, d2[1] = {2};
    onyx_tensor *y[2];
    onyxi_err err;
    /* row 0 = (0, ln 2, ln 5): softmax (1/8, 2/8, 5/8); row 1 uniform: 1/3 each */
    const float l2 = logf(2), l5 = logf(5), l8 = logf(8), l3 = logf(3);
    ck_assert_int_eq(run_loss("SoftmaxCrossEntropyLoss", "none", INT64_MIN,
                              F32(2, d23, 0, l2, l5, 7, 7, 7), I64(1, d2, 2, 0), NULL, 2, y, &err),
                     ONYX_OK);
    assert_f32(y[0], 1, d2, (const float[]){l8 - l5, l3});
    assert_f32(y[1], 2, d23, (const float[]){-l8, l2 - l8, l5 - l8, -l3, -l3, -l3});
    /* mean with only the loss output */
    ck_assert_int_eq(run_loss("SoftmaxCrossEntropyLoss", NULL, INT64_MIN,
                              F32(2, d23, 0, l2, l5, 7, 7, 7), I64(1, d2, 2, 0), NULL, 1, y, &err),
                     ONYX_OK);
    assert_f32(y[0], 0, NULL, (const float[]){(l8 - l5 + l3) / 2});
}
END_TEST

START_TEST(test_loss_errors) {
    int64_t d23[2] = {2, 3}, d2[1] = {2}, d3[1] = {3}, d4[1] = {4};
    onyx_tensor *y[1];
    onyxi_err err;
    ck_assert_int_eq(run_loss("NegativeLogLikelihoodLoss", "avg", INT64_MIN, X23, I64(1, d2, 0, 0),
                              NULL, 1, y, &err),
                     ONYX_INVALID_MODEL);
    ck_assert_int_eq(run_loss("NegativeLogLikelihoodLoss", NULL, INT64_MIN, X23,
                              I64(1, d3, 0, 0, 0), NULL, 1, y, &err),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_int_eq(run_loss("NegativeLogLikelihoodLoss", NULL, INT64_MIN, X23, I64(1, d2, 0, 0),
                              F32(1, d4, 1, 1, 1, 1), 1, y, &err),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_int_eq(run_loss("SoftmaxCrossEntropyLoss", NULL, INT64_MIN, X23, I64(1, d2, 3, 0),
                              NULL, 1, y, &err),
                     ONYX_INVALID_ARG);
    ck_assert(strstr(err.msg, "class 3") != NULL);
    ck_assert_int_eq(run_loss("SoftmaxCrossEntropyLoss", NULL, INT64_MIN, X23, F32(1, d2, 0, 0),
                              NULL, 1, y, &err),
                     ONYX_TYPE_MISMATCH);
}
END_TEST

int main(void) {
    Suite *s = suite_create("ops_loss");
    TCase *tc = tcase_create("nll");
    tcase_add_test(tc, test_nll_reductions);
    tcase_add_test(tc, test_nll_spatial);
    suite_add_tcase(s, tc);
    tc = tcase_create("sce");
    tcase_add_test(tc, test_sce_log_prob);
    tcase_add_test(tc, test_loss_errors);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
