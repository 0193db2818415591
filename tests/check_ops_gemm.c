/*
 * Gemm (ops/gemm.c): hand-computed cases for alpha/beta, transA/transB and every C broadcast
 * form, the version rules (C required before opset 11, integer types from opset 9), error
 * codes and messages, and seeded random differential tests against a naive double loop,
 * including a check that results do not depend on the thread count; the oneDNN
 * implementation against the reference on seeded random cases (every C form, transposes,
 * alpha/beta, constant or run-time B and C).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* A Gemm node at opset with attributes (alpha/beta NAN = absent) and 2 or 3 inputs. */
static onyxi_node *gemm_node(int64_t opset, int n_in, float alpha, float beta, int ta, int tb) {
    onyxi_node *n = tu_node_new("Gemm", opset, n_in, 1);
    if (!isnan(alpha)) tu_attr_float(n, "alpha", alpha);
    if (!isnan(beta)) tu_attr_float(n, "beta", beta);
    if (ta) tu_attr_int(n, "transA", ta);
    if (tb) tu_attr_int(n, "transB", tb);
    return n;
}

/* Runs n on a, b and c (c NULL: two inputs); returns the status, the output in *y. */
static onyx_status run_gemm(onyxi_node *n, onyx_tensor *a, onyx_tensor *b, onyx_tensor *c,
                            onyx_tensor **y, onyxi_err *err) {
    onyx_tensor *in[3] = {a, b, c};
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    tu_node_free(n);
    return rc;
}

static onyx_tensor *f32(int rank, const int64_t *dims, const float *v) {
    return tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, v);
}

#define ASSERT_MSG(err, part)                                                                      \
    ck_assert_msg(strstr((err).msg, (part)) != NULL, "message '%s' lacks '%s'", (err).msg, (part))

/* A [2,3], B [3,2]: A*B = [[58, 64], [139, 154]]. */
static const float A23[] = {1, 2, 3, 4, 5, 6};
static const float B32[] = {7, 8, 9, 10, 11, 12};

START_TEST(test_gemm_alpha_beta_vector_c) {
    const float cv[] = {1, -1}; /* [N] */
    /* alpha 2, beta 3: 2 * [[58,64],[139,154]] + 3 * [1,-1] */
    const float want[] = {119, 125, 281, 305};
    onyx_tensor *a = f32(2, (int64_t[]){2, 3}, A23), *b = f32(2, (int64_t[]){3, 2}, B32);
    onyx_tensor *c = f32(1, (int64_t[]){2}, cv), *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_gemm(gemm_node(13, 3, 2.0f, 3.0f, 0, 0), a, b, c, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){2, 2}, want, 0, 0);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(c);
    tu_tensor_free(y);
}
END_TEST

/* transA, transB and both give the same product when the operands are stored transposed. */
START_TEST(test_gemm_transposes) {
    const float at[] = {1, 4, 2, 5, 3, 6};    /* A^T [3,2] */
    const float bt[] = {7, 9, 11, 8, 10, 12}; /* B^T [2,3] */
    const float want[] = {58, 64, 139, 154};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            onyx_tensor *a = ta ? f32(2, (int64_t[]){3, 2}, at) : f32(2, (int64_t[]){2, 3}, A23);
            onyx_tensor *b = tb ? f32(2, (int64_t[]){2, 3}, bt) : f32(2, (int64_t[]){3, 2}, B32);
            onyx_tensor *y = NULL;
            onyxi_err err;
            ck_assert_int_eq(run_gemm(gemm_node(11, 2, NAN, NAN, ta, tb), a, b, NULL, &y, &err),
                             ONYX_OK);
            tu_assert_floats(y, 2, (int64_t[]){2, 2}, want, 0, 0);
            tu_tensor_free(a);
            tu_tensor_free(b);
            tu_tensor_free(y);
        }
}
END_TEST

/* Every unidirectional broadcast form of C onto [2,2], with beta 1 (the default). */
START_TEST(test_gemm_c_broadcast_forms) {
    static const struct {
        int rank;
        int64_t dims[2];
        float v[4];
        float want[4];
    } cases[] = {
        {0, {0, 0}, {10}, {68, 74, 149, 164}},         /* scalar */
        {1, {1, 0}, {10}, {68, 74, 149, 164}},         /* [1] */
        {1, {2, 0}, {1, 2}, {59, 66, 140, 156}},       /* [N] */
        {2, {2, 1}, {1, 2}, {59, 65, 141, 156}},       /* [M,1] */
        {2, {1, 2}, {1, 2}, {59, 66, 140, 156}},       /* [1,N] */
        {2, {2, 2}, {1, 2, 3, 4}, {59, 66, 142, 158}}, /* [M,N] */
        {2, {1, 1}, {-58}, {0, 6, 81, 96}},            /* [1,1] */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        onyx_tensor *a = f32(2, (int64_t[]){2, 3}, A23), *b = f32(2, (int64_t[]){3, 2}, B32);
        onyx_tensor *c = f32(cases[i].rank, cases[i].dims, cases[i].v), *y = NULL;
        onyxi_err err;
        ck_assert_int_eq(run_gemm(gemm_node(7, 3, NAN, NAN, 0, 0), a, b, c, &y, &err), ONYX_OK);
        tu_assert_floats(y, 2, (int64_t[]){2, 2}, cases[i].want, 0, 0);
        tu_tensor_free(a);
        tu_tensor_free(b);
        tu_tensor_free(c);
        tu_tensor_free(y);
    }
}
END_TEST

/* beta 0 drops C, even when it holds NaN; alpha scales the product alone. */
START_TEST(test_gemm_beta_zero_ignores_c) {
    const float cv[] = {NAN, NAN, NAN, NAN};
    onyx_tensor *a = f32(2, (int64_t[]){2, 3}, A23), *b = f32(2, (int64_t[]){3, 2}, B32);
    onyx_tensor *c = f32(2, (int64_t[]){2, 2}, cv), *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_gemm(gemm_node(9, 3, 0.5f, 0.0f, 0, 0), a, b, c, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){2, 2}, (const float[]){29, 32, 69.5f, 77}, 0, 0);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(c);
    tu_tensor_free(y);
}
END_TEST

/* K = 0: the product is all zeros, so Y = beta * C; M = 0 gives an empty output. */
START_TEST(test_gemm_empty_dims) {
    const float cv[] = {1, 2};
    onyx_tensor *a = f32(2, (int64_t[]){2, 0}, NULL), *b = f32(2, (int64_t[]){0, 2}, NULL);
    onyx_tensor *c = f32(1, (int64_t[]){2}, cv), *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_gemm(gemm_node(13, 3, 1.0f, 2.0f, 0, 0), a, b, c, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){2, 2}, (const float[]){2, 4, 2, 4}, 0, 0);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(y);
    a = f32(2, (int64_t[]){0, 3}, NULL);
    b = f32(2, (int64_t[]){2, 3}, NULL);
    ck_assert_int_eq(run_gemm(gemm_node(13, 3, NAN, NAN, 0, 1), a, b, c, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->rank, 2);
    ck_assert_int_eq(y->dims[0], 0);
    ck_assert_int_eq(y->dims[1], 2);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(c);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_gemm_int_types) {
    const int64_t a64[] = {1, 2, 3, 4, 5, 6}, b64[] = {7, 8, 9, 10, 11, 12}, c64[] = {1, -1};
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){2, 3}, a64);
    onyx_tensor *b = tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){3, 2}, b64);
    onyx_tensor *c = tu_tensor(ONYX_DTYPE_INT64, 1, (int64_t[]){2}, c64), *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_gemm(gemm_node(11, 3, 2.0f, 3.0f, 0, 0), a, b, c, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_INT64);
    const int64_t *yv = y->data;
    ck_assert_int_eq(yv[0], 119);
    ck_assert_int_eq(yv[1], 125);
    ck_assert_int_eq(yv[2], 281);
    ck_assert_int_eq(yv[3], 305);
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(c);
    tu_tensor_free(y);

    const int32_t a32[] = {1, 4, 2, 5, 3, 6}, b32[] = {7, 9, 11, 8, 10, 12}; /* both transposed */
    a = tu_tensor(ONYX_DTYPE_INT32, 2, (int64_t[]){3, 2}, a32);
    b = tu_tensor(ONYX_DTYPE_INT32, 2, (int64_t[]){2, 3}, b32);
    ck_assert_int_eq(run_gemm(gemm_node(13, 2, NAN, NAN, 1, 1), a, b, NULL, &y, &err), ONYX_OK);
    const int32_t *y32 = y->data;
    ck_assert_int_eq(y32[0], 58);
    ck_assert_int_eq(y32[1], 64);
    ck_assert_int_eq(y32[2], 139);
    ck_assert_int_eq(y32[3], 154);
    tu_tensor_free(y);

    /* Gemm-7 allows float types only; fractional alpha has no integer meaning */
    onyx_tensor *c32 = tu_tensor(ONYX_DTYPE_INT32, 0, NULL, (int32_t[]){0});
    ck_assert_int_eq(run_gemm(gemm_node(7, 3, NAN, NAN, 1, 1), a, b, c32, &y, &err),
                     ONYX_TYPE_MISMATCH);
    ASSERT_MSG(err, "before opset 9");
    ck_assert_int_eq(run_gemm(gemm_node(13, 2, 0.5f, NAN, 1, 1), a, b, NULL, &y, &err),
                     ONYX_UNSUPPORTED);
    ASSERT_MSG(err, "alpha");
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(c32);
}
END_TEST

/* ---- version rules and errors ---- */

START_TEST(test_gemm_c_required_before_opset_11) {
    onyx_tensor *a = f32(2, (int64_t[]){2, 3}, A23), *b = f32(2, (int64_t[]){3, 2}, B32);
    onyx_tensor *y = NULL;
    onyxi_err err;
    for (int64_t opset = 7; opset <= 10; opset++) {
        onyxi_node *n = gemm_node(opset, 3, NAN, NAN, 0, 0);
        tu_node_absent_input(n, 2);
        ck_assert_int_eq(run_gemm(n, a, b, NULL, &y, &err), ONYX_INVALID_MODEL);
        ASSERT_MSG(err, "input 2");
    }
    onyxi_node *n = gemm_node(11, 3, NAN, NAN, 0, 0);
    tu_node_absent_input(n, 2);
    ck_assert_int_eq(run_gemm(n, a, b, NULL, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){2, 2}, (const float[]){58, 64, 139, 154}, 0, 0);
    tu_tensor_free(y);
    tu_tensor_free(a);
    tu_tensor_free(b);
}
END_TEST

/* opset 1 and 6: C must be [M, N] unless `broadcast` is set; the attribute is gone in 7. */
START_TEST(test_gemm_opset6_broadcast_attribute) {
    const float cv[] = {1, 2};
    onyx_tensor *a = f32(2, (int64_t[]){2, 3}, A23), *b = f32(2, (int64_t[]){3, 2}, B32);
    onyx_tensor *c = f32(1, (int64_t[]){2}, cv), *y = NULL;
    onyxi_err err;
    for (int64_t opset = 1; opset <= 6; opset += 5) {
        onyxi_node *n = gemm_node(opset, 3, NAN, NAN, 0, 0);
        ck_assert_int_eq(run_gemm(n, a, b, c, &y, &err), ONYX_SHAPE_MISMATCH);
        ASSERT_MSG(err, "input 'C' has shape [2], expected [2,2] (attribute 'broadcast' is 0)");
        n = gemm_node(opset, 3, NAN, NAN, 0, 0);
        tu_attr_int(n, "broadcast", 1);
        ck_assert_int_eq(run_gemm(n, a, b, c, &y, &err), ONYX_OK);
        tu_assert_floats(y, 2, (int64_t[]){2, 2}, (const float[]){59, 66, 140, 156}, 0, 0);
        tu_tensor_free(y);
    }
    onyxi_node *n = gemm_node(7, 3, NAN, NAN, 0, 0);
    tu_attr_int(n, "broadcast", 1);
    ck_assert_int_eq(run_gemm(n, a, b, c, &y, &err), ONYX_INVALID_MODEL);
    ASSERT_MSG(err, "attribute 'broadcast'");
    tu_tensor_free(a);
    tu_tensor_free(b);
    tu_tensor_free(c);
}
END_TEST

START_TEST(test_gemm_shape_errors) {
    onyx_tensor *a = f32(2, (int64_t[]){2, 3}, A23), *b = f32(2, (int64_t[]){3, 2}, B32);
    onyx_tensor *y = NULL;
    onyxi_err err;
    /* transB makes B' [2,3]: inner dims 3 vs 2 */
    ck_assert_int_eq(run_gemm(gemm_node(13, 2, NAN, NAN, 0, 1), a, b, NULL, &y, &err),
                     ONYX_SHAPE_MISMATCH);
    ASSERT_MSG(err, "[2,3]");
    ASSERT_MSG(err, "[3,2]");
    ASSERT_MSG(err, "3 vs 2");
    /* C [3] does not broadcast to [2,2]; neither does [2,2,1] */
    onyx_tensor *c = f32(1, (int64_t[]){3}, NULL);
    ck_assert_int_eq(run_gemm(gemm_node(13, 3, NAN, NAN, 0, 0), a, b, c, &y, &err),
                     ONYX_SHAPE_MISMATCH);
    ASSERT_MSG(err, "input 'C' has shape [3]");
    tu_tensor_free(c);
    c = f32(3, (int64_t[]){2, 2, 1}, NULL);
    ck_assert_int_eq(run_gemm(gemm_node(13, 3, NAN, NAN, 0, 0), a, b, c, &y, &err),
                     ONYX_SHAPE_MISMATCH);
    tu_tensor_free(c);
    /* C [2,1] for M = 2 is fine, [3,1] is not */
    c = f32(2, (int64_t[]){3, 1}, NULL);
    ck_assert_int_eq(run_gemm(gemm_node(13, 3, NAN, NAN, 0, 0), a, b, c, &y, &err),
                     ONYX_SHAPE_MISMATCH);
    tu_tensor_free(c);
    /* rank-3 A */
    onyx_tensor *a3 = f32(3, (int64_t[]){1, 2, 3}, NULL);
    ck_assert_int_eq(run_gemm(gemm_node(13, 2, NAN, NAN, 0, 0), a3, b, NULL, &y, &err),
                     ONYX_SHAPE_MISMATCH);
    ASSERT_MSG(err, "input 'A' has shape [1,2,3], expected rank 2");
    tu_tensor_free(a3);
    /* dtype: B int64 against A float32; float64 unsupported */
    onyx_tensor *bi = tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){3, 2}, NULL);
    ck_assert_int_eq(run_gemm(gemm_node(13, 2, NAN, NAN, 0, 0), a, bi, NULL, &y, &err),
                     ONYX_TYPE_MISMATCH);
    tu_tensor_free(bi);
    onyx_tensor *ad = tu_tensor(ONYX_DTYPE_FLOAT64, 2, (int64_t[]){2, 3}, NULL);
    ck_assert_int_eq(run_gemm(gemm_node(13, 2, NAN, NAN, 0, 0), ad, b, NULL, &y, &err),
                     ONYX_UNSUPPORTED);
    ASSERT_MSG(err, "float64");
    tu_tensor_free(ad);
    /* transA must be 0 or 1 */
    ck_assert_int_eq(run_gemm(gemm_node(13, 2, NAN, NAN, 2, 0), a, b, NULL, &y, &err),
                     ONYX_INVALID_MODEL);
    ASSERT_MSG(err, "attribute 'transA' is 2");
    tu_tensor_free(a);
    tu_tensor_free(b);
}
END_TEST

/* ---- differential ---- */

/* y = alpha * A' B' + beta * C computed in double, C of shape [cm, cn] broadcast. */
static void naive_gemm(const float *a, const float *b, const float *c, int64_t cm, int64_t cn,
                       int64_t m, int64_t n, int64_t k, int ta, int tb, float alpha, float beta,
                       float *y) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++)
                s += (double)(ta ? a[p * m + i] : a[i * k + p]) *
                     (double)(tb ? b[j * k + p] : b[p * n + j]);
            s *= alpha;
            if (c) s += (double)beta * c[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
            y[i * n + j] = (float)s;
        }
}

/* Runs the ref impl of an inferred node directly, with a chosen thread count. */
static void run_threads(onyxi_node *n, onyx_tensor *const *in, int threads, onyx_tensor *y) {
    onyxi_err err;
    onyxi_err_clear(&err);
    const onyxi_op *op = onyxi_op_find("", "Gemm", n->opset, &err);
    ck_assert_ptr_nonnull(op);
    const onyxi_impl *ref = NULL;
    for (int i = 0; op->impls[i]; i++)
        ref = op->impls[i];
    onyx_tensor *outs[1] = {y};
    onyxi_exec x = {.node = n, .n_in = n->n_inputs, .in = (const onyx_tensor *const *)in,
                    .n_out = 1, .out = outs, .num_threads = threads, .err = &err};
    ck_assert_int_eq(ref->init(&x), ONYX_OK);
    ck_assert_int_eq(ref->run(&x), ONYX_OK);
    ref->fini(&x);
}

/* Odd sizes around the tile and lane sizes, every transpose combination, C forms; the
 * tolerance covers float32 accumulation over K <= 300 terms of magnitude <= 1. */
START_TEST(test_gemm_random_matches_naive) {
    static const int64_t sizes[][3] = {{1, 1, 1},    {1, 1000, 67}, {37, 133, 67}, {17, 129, 9},
                                       {64, 3, 300}, {5, 260, 8},   {33, 4, 7}};
    unsigned seed = 1;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int t = 0; t < 4; t++) {
            int ta = t & 1, tb = t >> 1;
            int64_t m = sizes[si][0], n = sizes[si][1], k = sizes[si][2];
            int64_t cm = (si + t) % 3 == 0 ? 1 : m, cn = (si + t) % 2 == 0 ? 1 : n;
            int64_t ad[2] = {ta ? k : m, ta ? m : k}, bd[2] = {tb ? n : k, tb ? k : n};
            onyx_tensor *a = tu_tensor_random(2, ad, seed++, -1, 1);
            onyx_tensor *b = tu_tensor_random(2, bd, seed++, -1, 1);
            onyx_tensor *c = tu_tensor_random(2, (int64_t[]){cm, cn}, seed++, -1, 1);
            float *want = malloc((size_t)(m * n) * sizeof *want);
            naive_gemm(a->data, b->data, c->data, cm, cn, m, n, k, ta, tb, 0.75f, -1.5f, want);
            onyxi_node *nd = gemm_node(13, 3, 0.75f, -1.5f, ta, tb);
            onyx_tensor *in[3] = {a, b, c}, *y = NULL;
            onyxi_err err;
            ck_assert_int_eq(tu_run_op(nd, in, &y, NULL, &err), ONYX_OK);
            tu_assert_floats(y, 2, (int64_t[]){m, n}, want, 1e-4, 1e-4);
            /* any thread count gives bit-identical results */
            onyx_tensor *y3 = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){m, n}, NULL);
            run_threads(nd, in, 3, y3);
            ck_assert_int_eq(memcmp(y->data, y3->data, (size_t)(m * n) * sizeof(float)), 0);
            tu_node_free(nd);
            free(want);
            tu_tensor_free(a);
            tu_tensor_free(b);
            tu_tensor_free(c);
            tu_tensor_free(y);
            tu_tensor_free(y3);
        }
}
END_TEST

/* Seeded generator for the dnnl-vs-ref test. */
static unsigned dnnl_rng = 1;
static int64_t rnd(int64_t lo, int64_t hi) { /* uniform in [lo, hi] */
    dnnl_rng = dnnl_rng * 1103515245u + 12345u;
    return lo + (int64_t)((dnnl_rng >> 8) % (unsigned)(hi - lo + 1));
}

START_TEST(test_gemm_dnnl_matches_ref_random) {
    /* Another summation order than the reference: with values in [-1, 1), K <= 50 and
     * |alpha|, |beta| <= 2 both stay within 2e-5 of the exact result. */
    const double atol = 2e-5, rtol = 1e-4;
    static const float alphas[] = {1.0f, 0.5f, -2.0f}, betas[] = {1.0f, 0.0f, 1.5f};
    dnnl_rng = 20241123u;
    int dnnl_cases = 0, cases = 150, declined = 0;
    for (int iter = 0; iter < cases; iter++) {
        int64_t m = rnd(1, 21), k = rnd(1, 50), n = rnd(1, 45);
        int ta = (int)rnd(0, 1), tb = (int)rnd(0, 1), form = (int)rnd(0, 6);
        float alpha = alphas[rnd(0, 2)], beta = betas[rnd(0, 2)];
        /* C: absent, scalar, [N], [1], [M,1], [1,N], [M,N] */
        int64_t cdims[7][2] = {{0, 0}, {0, 0}, {n, 0}, {1, 0}, {m, 1}, {1, n}, {m, n}};
        int crank[7] = {-1, 0, 1, 1, 2, 2, 2};
        int64_t ad[2] = {ta ? k : m, ta ? m : k}, bd[2] = {tb ? n : k, tb ? k : n};
        onyx_tensor *a = tu_tensor_random(2, ad, (unsigned)iter * 3 + 1, -1, 1);
        onyx_tensor *b = tu_tensor_random(2, bd, (unsigned)iter * 3 + 2, -1, 1);
        onyx_tensor *c = form ? tu_tensor_random(crank[form], cdims[form], (unsigned)iter * 3 + 3,
                                                 -1, 1)
                              : NULL;
        onyx_tensor *in[3] = {a, b, c};
        unsigned saved = tu_const_inputs;
        int c_runtime = iter % 3 == 0, b_runtime = iter % 4 == 0;
        tu_const_inputs = (b_runtime ? 0u : 2u) | (c_runtime ? 0u : 4u);
        onyxi_node *nd = gemm_node(13, c ? 3 : 2, alpha, beta, ta, tb);
        onyx_tensor *want = NULL, *got = NULL;
        onyxi_err err;
        ck_assert_int_eq(tu_run_op(nd, in, &want, "ref", &err), ONYX_OK);
        onyx_status rc = tu_run_op(nd, in, &got, "dnnl", &err);
        tu_const_inputs = saved;
        /* beta * C is pre-scaled once, so only a C computed at run time with beta != 1
         * (and != 0) declines; so does a per-row C [M,1] (oneDNN's ref loop) */
        int per_row = m > 1 && (form == 4 || (form == 6 && n == 1));
        int must_decline = c && beta != 0.0f && ((c_runtime && beta != 1.0f) || per_row);
        declined += must_decline;
        if (must_decline) {
            ck_assert_int_eq(rc, ONYX_UNSUPPORTED);
        } else {
            ck_assert_msg(rc == ONYX_OK, "case %d (m %lld k %lld n %lld ta %d tb %d C form %d "
                          "alpha %g beta %g): %s",
                          iter, (long long)m, (long long)k, (long long)n, ta, tb, form,
                          (double)alpha, (double)beta, err.msg);
            tu_assert_close(got, want, atol, rtol);
            dnnl_cases++;
        }
        tu_tensor_free(want);
        tu_tensor_free(got);
        tu_tensor_free(a);
        tu_tensor_free(b);
        tu_tensor_free(c);
        tu_node_free(nd);
    }
    ck_assert_int_eq(dnnl_cases + declined, cases);
    ck_assert_int_ge(dnnl_cases, 120);
}
END_TEST

static Suite *ops_gemm_suite(void) {
    Suite *s = suite_create("ops_gemm");
    TCase *tc = tcase_create("hand");
    tcase_add_test(tc, test_gemm_alpha_beta_vector_c);
    tcase_add_test(tc, test_gemm_transposes);
    tcase_add_test(tc, test_gemm_c_broadcast_forms);
    tcase_add_test(tc, test_gemm_beta_zero_ignores_c);
    tcase_add_test(tc, test_gemm_empty_dims);
    tcase_add_test(tc, test_gemm_int_types);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_gemm_c_required_before_opset_11);
    tcase_add_test(tc, test_gemm_opset6_broadcast_attribute);
    tcase_add_test(tc, test_gemm_shape_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("differential");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_gemm_random_matches_naive);
    suite_add_tcase(s, tc);
    tc = tcase_create("dnnl");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_gemm_dnnl_matches_ref_random);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_gemm_suite());
}
