/*
 * MatMul (ops/matmul.c): numpy.matmul semantics on hand-computed cases (1-D operands,
 * broadcast batch dims, K = 0), int dtypes, shape/type errors, and a seeded random
 * differential test against a naive triple loop; the oneDNN implementation against the
 * reference on seeded random shapes (broadcast batches, 1-D operands, constant or run-time B).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Runs MatMul at opset on a and b; returns the status and the output in *y. */
static onyx_status run_matmul(int64_t opset, onyx_tensor *a, onyx_tensor *b, onyx_tensor **y,
                              onyxi_err *err) {
    onyxi_node *n = tu_node_new("MatMul", opset, 2, 1);
    onyx_tensor *in[2] = {a, b};
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    tu_node_free(n);
    return rc;
}

START_TEST(test_matmul_2d_hand) {
    const float av[] = {1, 2, 3, 4, 5, 6};    /* [2,3] */
    const float bv[] = {7, 8, 9, 10, 11, 12}; /* [3,2] */
    const float want[] = {58, 64, 139, 154};  /* [2,2] */
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, av);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){3, 2}, bv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_matmul(13, a, b, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){2, 2}, want, 0, 0);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_matmul_1d_1d_is_scalar) {
    const float av[] = {1, 2, 3}, bv[] = {4, 5, 6};
    const float want[] = {32};
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 1, (int64_t[]){3}, av);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_FLOAT32, 1, (int64_t[]){3}, bv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_matmul(13, a, b, &y, &err), ONYX_OK);
    tu_assert_floats(y, 0, NULL, want, 0, 0);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_matmul_1d_2d_drops_leading_dim) {
    const float av[] = {1, 2};             /* [2] -> [1,2] */
    const float bv[] = {1, 2, 3, 4, 5, 6}; /* [2,3] */
    const float want[] = {9, 12, 15};      /* [3] */
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 1, (int64_t[]){2}, av);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, bv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_matmul(9, a, b, &y, &err), ONYX_OK);
    tu_assert_floats(y, 1, (int64_t[]){3}, want, 0, 0);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_matmul_2d_1d_drops_trailing_dim) {
    const float av[] = {1, 2, 3, 4, 5, 6}; /* [2,3] */
    const float bv[] = {1, 0, -1};         /* [3] -> [3,1] */
    const float want[] = {-2, -2};         /* [2] */
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, av);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_FLOAT32, 1, (int64_t[]){3}, bv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_matmul(1, a, b, &y, &err), ONYX_OK);
    tu_assert_floats(y, 1, (int64_t[]){2}, want, 0, 0);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_matmul_1d_3d_batched) {
    /* [2] x [2,2,3] -> [2,3]: the vector multiplies each batch matrix */
    const float av[] = {1, -1};
    const float bv[] = {1, 2, 3, 4, 5, 6, 10, 20, 30, 1, 2, 3};
    const float want[] = {-3, -3, -3, 9, 18, 27};
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 1, (int64_t[]){2}, av);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_FLOAT32, 3, (int64_t[]){2, 2, 3}, bv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_matmul(13, a, b, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){2, 3}, want, 0, 0);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_matmul_batch_broadcast) {
    /* A [2,1,1,2] x B [3,2,1] -> [2,3,1,1]: y[i][j] = a_i . b_j */
    const float av[] = {1, 2, 3, 4};
    const float bv[] = {1, 0, 0, 1, 1, 1};
    const float want[] = {1, 2, 3, 3, 4, 7};
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 4, (int64_t[]){2, 1, 1, 2}, av);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_FLOAT32, 3, (int64_t[]){3, 2, 1}, bv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_matmul(13, a, b, &y, &err), ONYX_OK);
    tu_assert_floats(y, 4, (int64_t[]){2, 3, 1, 1}, want, 0, 0);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_matmul_batch_broadcast_shape) {
    /* the spec example [2,1,4,5] x [3,5,6] -> [2,3,4,6], checked through shape inference */
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 4, (int64_t[]){2, 1, 4, 5}, NULL);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_FLOAT32, 3, (int64_t[]){3, 5, 6}, NULL);
    onyxi_node *n = tu_node_new("MatMul", 13, 2, 1);
    onyx_tensor *in[2] = {a, b}, *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_infer_op(n, in, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->rank, 4);
    ck_assert_int_eq(y->dims[0], 2);
    ck_assert_int_eq(y->dims[1], 3);
    ck_assert_int_eq(y->dims[2], 4);
    ck_assert_int_eq(y->dims[3], 6);
    tu_node_free(n);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_matmul_k0_gives_zeros) {
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 0}, NULL);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){0, 3}, NULL);
    onyx_tensor *y = NULL;
    onyxi_err err;
    const float want[6] = {0};
    ck_assert_int_eq(run_matmul(13, a, b, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){2, 3}, want, 0, 0);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_matmul_empty_batch) {
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 3, (int64_t[]){0, 2, 3}, NULL);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){3, 4}, NULL);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_matmul(13, a, b, &y, &err), ONYX_OK);
    tu_assert_floats(y, 3, (int64_t[]){0, 2, 4}, NULL, 0, 0);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_matmul_int64_and_int32) {
    const int64_t a64[] = {1, 2, 3, 4}, b64[] = {INT64_MAX, 1, 1, 1};
    /* row 0: [INT64_MAX + 2, 3] wraps to INT64_MIN + 1 */
    const int64_t want64[] = {INT64_MIN + 1, 3, INT64_MIN + 1, 7}; /* row 1 wraps too */
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){2, 2}, a64);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){2, 2}, b64);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_matmul(13, a, b, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_INT64);
    ck_assert_int_eq(((int64_t *)y->data)[0], want64[0]);
    ck_assert_int_eq(((int64_t *)y->data)[1], want64[1]);
    ck_assert_int_eq(((int64_t *)y->data)[2], want64[2]);
    ck_assert_int_eq(((int64_t *)y->data)[3], want64[3]);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);

    const int32_t a32[] = {1, -2, 3}, b32[] = {4, 5, 6};
    a = tu_tensor(ONYX_DTYPE_INT32, 1, (int64_t[]){3}, a32);
    b = tu_tensor(ONYX_DTYPE_INT32, 1, (int64_t[]){3}, b32);
    ck_assert_int_eq(run_matmul(13, a, b, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_INT32);
    ck_assert_int_eq(y->rank, 0);
    ck_assert_int_eq(((int32_t *)y->data)[0], 12);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_matmul_inner_mismatch_names_shapes) {
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){4, 5}, NULL);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_matmul(13, a, b, &y, &err), ONYX_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "[2,3]"));
    ck_assert_ptr_nonnull(strstr(err.msg, "[4,5]"));
    tu_tensor_free(a);
    tu_tensor_free(b);
}
END_TEST

START_TEST(test_matmul_batch_mismatch) {
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 3, (int64_t[]){2, 2, 3}, NULL);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_FLOAT32, 3, (int64_t[]){3, 3, 1}, NULL);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_matmul(13, a, b, &y, &err), ONYX_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "[2,2,3]"));
    ck_assert_ptr_nonnull(strstr(err.msg, "[3,3,1]"));
    tu_tensor_free(a);
    tu_tensor_free(b);
}
END_TEST

START_TEST(test_matmul_scalar_and_dtype_errors) {
    onyx_tensor *s = tu_tensor(ONYX_DTYPE_FLOAT32, 0, NULL, NULL);
    onyx_tensor *v = tu_tensor(ONYX_DTYPE_FLOAT32, 1, (int64_t[]){1}, NULL);
    onyx_tensor *vi = tu_tensor(ONYX_DTYPE_INT64, 1, (int64_t[]){1}, NULL);
    onyx_tensor *vb = tu_tensor(ONYX_DTYPE_BOOL, 1, (int64_t[]){1}, NULL);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_matmul(13, s, v, &y, &err), ONYX_SHAPE_MISMATCH);
    ck_assert_int_eq(run_matmul(13, v, vi, &y, &err), ONYX_TYPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "int64"));
    ck_assert_int_eq(run_matmul(13, vb, vb, &y, &err), ONYX_UNSUPPORTED);
    tu_tensor_free(s);
    tu_tensor_free(v);
    tu_tensor_free(vi);
    tu_tensor_free(vb);
}
END_TEST

/* Naive reference: y[b][i][j] = sum_p a[b % ba][i][p] * b[b % bb][p][j] in double. */
static void naive_matmul(const float *a, const float *b, float *y, int64_t batch, int64_t ba,
                         int64_t bb, int64_t m, int64_t k, int64_t n) {
    for (int64_t t = 0; t < batch; t++)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0;
                for (int64_t p = 0; p < k; p++)
                    s += (double)a[(t % ba) * m * k + i * k + p] * b[(t % bb) * k * n + p * n + j];
                y[t * m * n + i * n + j] = (float)s;
            }
}

START_TEST(test_matmul_random_matches_naive) {
    /* odd sizes so no dimension is a multiple of a vector width; B broadcast over A's batch */
    const int64_t m = 17, k = 33, n = 65, batch = 3;
    onyx_tensor *a = tu_tensor_random(3, (int64_t[]){batch, m, k}, 7, -1, 1);
    onyx_tensor *b = tu_tensor_random(3, (int64_t[]){1, k, n}, 8, -1, 1);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_matmul(13, a, b, &y, &err), ONYX_OK);
    float *want = malloc((size_t)(batch * m * n) * sizeof(float));
    naive_matmul(a->data, b->data, want, batch, batch, 1, m, k, n);
    /* float accumulation of 33 products in [-1,1] versus double: error well below 1e-4 */
    tu_assert_floats(y, 3, (int64_t[]){batch, m, n}, want, 1e-4, 1e-4);
    free(want);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);
}
END_TEST

/* Seeded generator for the dnnl-vs-ref test. */
static unsigned dnnl_rng = 1;
static int64_t rnd(int64_t lo, int64_t hi) { /* uniform in [lo, hi] */
    dnnl_rng = dnnl_rng * 1103515245u + 12345u;
    return lo + (int64_t)((dnnl_rng >> 8) % (unsigned)(hi - lo + 1));
}

START_TEST(test_matmul_dnnl_matches_ref_random) {
    /* oneDNN's gemm sums the K products in another order than the reference: with values in
     * [-1, 1) and K <= 40 both stay within 1e-5 of the exact sum. */
    const double atol = 1e-5, rtol = 1e-4;
    dnnl_rng = 20241122u;
    int dnnl_cases = 0;
    const int cases = 120;
    for (int iter = 0; iter < cases; iter++) {
        int ra = (int)rnd(1, 4), rb = (int)rnd(1, 4);
        int64_t m = rnd(1, 23), k = rnd(1, 40), n = rnd(1, 37);
        int64_t batch[2] = {rnd(1, 3), rnd(2, 4)}; /* outer, inner batch dims */
        int64_t ad[4], bd[4];
        int nba = ra > 2 ? ra - 2 : 0, nbb = rb > 2 ? rb - 2 : 0;
        for (int i = 0; i < nba; i++) /* right-aligned: a's batch dims are batch[2 - nba..] */
            ad[i] = rnd(0, 2) == 0 ? 1 : batch[2 - nba + i];
        for (int i = 0; i < nbb; i++)
            bd[i] = rnd(0, 2) == 0 ? 1 : batch[2 - nbb + i];
        if (ra == 1)
            ad[0] = k;
        else {
            ad[nba] = m;
            ad[nba + 1] = k;
        }
        if (rb == 1)
            bd[0] = k;
        else {
            bd[nbb] = k;
            bd[nbb + 1] = n;
        }
        onyx_tensor *a = tu_tensor_random(ra, ad, (unsigned)iter * 2 + 1, -1, 1);
        onyx_tensor *b = tu_tensor_random(rb, bd, (unsigned)iter * 2 + 2, -1, 1);
        onyx_tensor *in[2] = {a, b};
        /* every other case B is computed at run time (not packed) */
        unsigned saved = tu_const_inputs;
        tu_const_inputs = iter % 2 ? 2u : 0u;
        onyxi_node *nd = tu_node_new("MatMul", 13, 2, 1);
        onyx_tensor *want = NULL, *got = NULL;
        onyxi_err err;
        ck_assert_int_eq(tu_run_op(nd, in, &want, "ref", &err), ONYX_OK);
        onyx_status rc = tu_run_op(nd, in, &got, "dnnl", &err);
        tu_const_inputs = saved;
        if (rc != ONYX_UNSUPPORTED) {
            ck_assert_msg(rc == ONYX_OK, "case %d: %s", iter, err.msg);
            tu_assert_close(got, want, atol, rtol);
            dnnl_cases++;
        }
        tu_tensor_free(want);
        tu_tensor_free(got);
        tu_tensor_free(a);
        tu_tensor_free(b);
        tu_node_free(nd);
    }
    /* every float32 case with non-empty operands is oneDNN's */
    ck_assert_int_eq(dnnl_cases, cases);
}
END_TEST

START_TEST(test_matmul_dnnl_declines_ints_and_empty) {
    onyx_tensor *ai = tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){2, 3}, NULL);
    onyx_tensor *a0 = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 0}, NULL);
    onyx_tensor *b0 = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){0, 3}, NULL);
    onyx_tensor *in_i[2] = {ai, ai}, *in_0[2] = {a0, b0};
    onyxi_node *nd = tu_node_new("MatMul", 13, 2, 1);
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyx_tensor *bi = tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){3, 2}, NULL);
    in_i[1] = bi;
    ck_assert_int_eq(tu_run_op(nd, in_i, &y, "dnnl", &err), ONYX_UNSUPPORTED);
    /* K == 0 must write zeros: the reference kernel does that */
    ck_assert_int_eq(tu_run_op(nd, in_0, &y, "dnnl", &err), ONYX_UNSUPPORTED);
    tu_tensor_free(ai);
    tu_tensor_free(bi);
    tu_tensor_free(a0);
    tu_tensor_free(b0);
    tu_node_free(nd);
}
END_TEST

static Suite *ops_matmul_suite(void) {
    Suite *s = suite_create("ops_matmul");
    TCase *tc = tcase_create("hand");
    tcase_add_test(tc, test_matmul_2d_hand);
    tcase_add_test(tc, test_matmul_1d_1d_is_scalar);
    tcase_add_test(tc, test_matmul_1d_2d_drops_leading_dim);
    tcase_add_test(tc, test_matmul_2d_1d_drops_trailing_dim);
    tcase_add_test(tc, test_matmul_1d_3d_batched);
    tcase_add_test(tc, test_matmul_int64_and_int32);
    suite_add_tcase(s, tc);
    tc = tcase_create("broadcast");
    tcase_add_test(tc, test_matmul_batch_broadcast);
    tcase_add_test(tc, test_matmul_batch_broadcast_shape);
    suite_add_tcase(s, tc);
    tc = tcase_create("empty");
    tcase_add_test(tc, test_matmul_k0_gives_zeros);
    tcase_add_test(tc, test_matmul_empty_batch);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_matmul_inner_mismatch_names_shapes);
    tcase_add_test(tc, test_matmul_batch_mismatch);
    tcase_add_test(tc, test_matmul_scalar_and_dtype_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("differential");
    tcase_add_test(tc, test_matmul_random_matches_naive);
    suite_add_tcase(s, tc);
    tc = tcase_create("dnnl");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_matmul_dnnl_matches_ref_random);
    tcase_add_test(tc, test_matmul_dnnl_declines_ints_and_empty);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_matmul_suite());
}
