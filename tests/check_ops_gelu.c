/*
 * The erf behind the Erf kernel and the fused GELU (ops/vmath.c), and the GELU post-op in
 * every host that takes one: accuracy of erf against double precision over a dense sweep
 * and at the special values, the Erf kernel's independence of the thread count and of
 * working in place, and for MatMul, Gemm and Conv the oneDNN gelu_erf post-op against the
 * reference kernel, which itself is checked against a double-precision GELU.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "vmath.h"

/* ---- erf ---- */

START_TEST(test_erf_accuracy_sweep) {
    /* every 97th float in [-6, 6] would be slow under ASan; a dense grid of 2M points with odd
     * steps hits both halves, the switch at 0.921875 and the saturation at 3.92 */
    const int64_t n = 2000003;
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    for (int64_t i = 0; i < n; i++)
        x[i] = -6.0f + 12.0f * (float)((double)i / (double)(n - 1));
    onyxi_erf_f32(x, y, n);
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double want = erf((double)x[i]);
        double rel = want == 0 ? fabs(y[i]) : fabs(y[i] - want) / fabs(want);
        if (rel > worst) worst = rel;
        ck_assert_msg(rel <= 1.5e-7, "erf(%.9g) = %.9g, want %.9g (rel %.3g)", x[i], y[i], want,
                      rel);
        ck_assert(fabsf(y[i]) <= 1.0f);
    }
    /* the tight end: measured 1.02e-7 without FMA, 8.2e-8 with */
    ck_assert_msg(worst > 1e-8, "suspiciously exact: %g", worst);
    free(x);
    free(y);
    /* tiny, subnormal, huge, infinite, NaN, signed zero */
    static const float sp[] = {0.0f,  -0.0f,  1e-30f,   -3e-39f,   3.92f, 4.0f,
                               1e30f, -1e30f, INFINITY, -INFINITY, NAN};
    float out[sizeof sp / sizeof sp[0]];
    onyxi_erf_f32(sp, out, (int64_t)(sizeof sp / sizeof sp[0]));
    ck_assert(out[0] == 0.0f && !signbit(out[0]));
    ck_assert(out[1] == 0.0f && signbit(out[1]));
    ck_assert_float_eq_tol(out[2], 1.1283792e-30f, 1e-37f);
    ck_assert(out[3] < 0.0f);
    ck_assert_float_eq(out[4], 1.0f);
    ck_assert_float_eq(out[5], 1.0f);
    ck_assert_float_eq(out[6], 1.0f);
    ck_assert_float_eq(out[7], -1.0f);
    ck_assert_float_eq(out[8], 1.0f);
    ck_assert_float_eq(out[9], -1.0f);
    ck_assert(isnan(out[10]));
}
END_TEST

/* Odd lengths around the block and vector sizes, in place and not: the same bits. */
START_TEST(test_erf_in_place_and_lengths) {
    static const int64_t lens[] = {1, 7, 8, 9, 255, 256, 257, 1031};
    for (size_t c = 0; c < sizeof lens / sizeof lens[0]; c++) {
        int64_t n = lens[c];
        onyx_tensor *t = tu_tensor_random(1, &n, (unsigned)c + 1, -5, 5);
        float *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
        memcpy(b, t->data, (size_t)n * sizeof *b);
        onyxi_erf_f32(t->data, a, n);
        onyxi_erf_f32(b, b, n);
        ck_assert_mem_eq(a, b, (size_t)n * sizeof *a);
        /* element by element: the same as a one-element call */
        for (int64_t i = 0; i < n; i++) {
            float one;
            onyxi_erf_f32((const float *)t->data + i, &one, 1);
            ck_assert_mem_eq(&one, &a[i], sizeof one);
        }
        free(a);
        free(b);
        tu_tensor_free(t);
    }
}
END_TEST

/* The Erf op through a session at 1 and 2 threads (blocks of 8192 split between threads). */
START_TEST(test_erf_op_threads) {
    onyxi_node *n = tu_node_new("Erf", 13, 1, 1);
    int64_t dims[2] = {3, 7001};
    onyx_tensor *x = tu_tensor_random(2, dims, 5, -4, 4), *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, &x, &y, "ref", &err), ONYX_OK);
    float *direct = malloc(x->nbytes);
    onyxi_erf_f32(x->data, direct, 3 * 7001);
    ck_assert_mem_eq(y->data, direct, x->nbytes);
    tu_tensor_free(y);
    /* in place, as the planner may arrange */
    onyx_tensor *xi = tu_tensor(ONYX_DTYPE_FLOAT32, 2, dims, x->data);
    onyxi_exec ex = {.node = n,
                     .n_in = 1,
                     .in = (const onyx_tensor *const *)&xi,
                     .n_out = 1,
                     .out = &xi,
                     .num_threads = 2,
                     .err = &err};
    const onyxi_impl *ref = tu_ref_impl(n->op);
    ck_assert_int_eq(ref->run(&ex), ONYX_OK);
    ck_assert_mem_eq(xi->data, direct, x->nbytes);
    free(direct);
    tu_tensor_free(xi);
    tu_tensor_free(x);
    tu_node_free(n);
}
END_TEST

/* ---- the GELU post-op in each host ---- */

static double gelu_exact(double v) {
    return 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
}

/* Runs node n (output shape of `count` floats) with the post-op chain {GELU(k, mul)} on the
 * reference and oneDNN kernels: the reference within a few float roundings of the double
 * GELU of the unfused reference output, oneDNN (which must accept the chain) within the
 * node-test tolerance of the fused reference. */
static void check_gelu_host(onyxi_node *n, onyx_tensor **in, float k, int mul) {
    onyxi_err err;
    onyx_tensor *plain = NULL, *ref = NULL, *dn = NULL;
    ck_assert_int_eq(tu_run_op(n, in, &plain, "ref", &err), ONYX_OK);
    onyxi_fusion f = {.role = ONYXI_FUSION_HOST, .host = -1, .n_post = 1};
    f.post[0].kind = ONYXI_POST_GELU;
    f.post[0].alpha = k;
    f.post[0].beta = (float)mul;
    n->fusion = &f;
    ck_assert_int_eq(tu_run_op(n, in, &ref, "ref", &err), ONYX_OK);
    onyx_status rc = tu_run_op(n, in, &dn, "dnnl", &err);
    ck_assert_msg(rc == ONYX_OK, "dnnl declined: %s", err.msg);
    n->fusion = NULL;
    size_t count = plain->nbytes / sizeof(float);
    const float *p = plain->data, *r = ref->data, *d = dn->data;
    for (size_t i = 0; i < count; i++) {
        double want = gelu_exact(p[i]);
        ck_assert_msg(fabs(r[i] - want) <= 3e-7 * fabs(p[i]) + 1e-30,
                      "ref %zu: gelu(%.9g) = %.9g, want %.9g", i, p[i], r[i], want);
        ck_assert_msg(fabsf(d[i] - r[i]) <= 1e-5f + 1e-4f * fabsf(r[i]), "dnnl %zu: %.9g, ref %.9g",
                      i, d[i], r[i]);
    }
    tu_tensor_free(plain);
    tu_tensor_free(ref);
    tu_tensor_free(dn);
}

START_TEST(test_gelu_matmul_dnnl_vs_ref) {
    static const int64_t shapes[3][4] = {{1, 13, 11, 17}, {3, 5, 64, 33}, {2, 197, 24, 31}};
    for (int c = 0; c < 3; c++) {
        const int64_t *s = shapes[c];
        int64_t ad[3] = {s[0], s[1], s[2]}, bd[2] = {s[2], s[3]};
        onyx_tensor *in[2] = {tu_tensor_random(3, ad, (unsigned)c + 1, -2, 2),
                              tu_tensor_random(2, bd, (unsigned)c + 7, -0.5f, 0.5f)};
        onyxi_node *n = tu_node_new("MatMul", 13, 2, 1);
        check_gelu_host(n, in, 1.41421354f, 0);
        check_gelu_host(n, in, 0.707106769f, 1);
        tu_node_free(n);
        tu_tensor_free(in[0]);
        tu_tensor_free(in[1]);
    }
}
END_TEST

START_TEST(test_gelu_gemm_dnnl_vs_ref) {
    for (int c = 0; c < 2; c++) {
        int64_t m = c ? 37 : 5, kk = c ? 19 : 8, nn = c ? 23 : 9;
        int64_t ad[2] = {m, kk}, bd[2] = {nn, kk}, cd[1] = {nn};
        onyx_tensor *in[3] = {tu_tensor_random(2, ad, 3, -2, 2),
                              tu_tensor_random(2, bd, 4, -0.6f, 0.6f),
                              tu_tensor_random(1, cd, 5, -1, 1)};
        onyxi_node *n = tu_node_new("Gemm", 13, 3, 1);
        tu_attr_int(n, "transB", 1);
        if (c) tu_attr_float(n, "alpha", 0.75f);
        check_gelu_host(n, in, 1.41421354f, 0);
        tu_node_free(n);
        for (int k = 0; k < 3; k++)
            tu_tensor_free(in[k]);
    }
}
END_TEST

START_TEST(test_gelu_conv_dnnl_vs_ref) {
    static const int64_t cases[3][4] = {{1, 3, 9, 5}, {2, 16, 10, 24}, {1, 8, 7, 7}};
    for (int c = 0; c < 3; c++) {
        const int64_t *q = cases[c]; /* N, C, H = W, M */
        int64_t xd[4] = {q[0], q[1], q[2], q[2]}, wd[4] = {q[3], q[1], 3, 3}, bd[1] = {q[3]};
        onyx_tensor *in[3] = {tu_tensor_random(4, xd, (unsigned)c + 11, -2, 2),
                              tu_tensor_random(4, wd, (unsigned)c + 12, -0.3f, 0.3f),
                              tu_tensor_random(1, bd, (unsigned)c + 13, -0.5f, 0.5f)};
        onyxi_node *n = tu_node_new("Conv", 11, 3, 1);
        static const int64_t ks[2] = {3, 3}, pads[4] = {1, 1, 1, 1};
        tu_attr_ints(n, "kernel_shape", 2, ks);
        tu_attr_ints(n, "pads", 4, pads);
        check_gelu_host(n, in, 0.707106769f, 1);
        tu_node_free(n);
        for (int k = 0; k < 3; k++)
            tu_tensor_free(in[k]);
    }
}
END_TEST

static Suite *gelu_suite(void) {
    Suite *s = suite_create("ops_gelu");
    TCase *tc = tcase_create("erf");
    tcase_add_test(tc, test_erf_accuracy_sweep);
    tcase_add_test(tc, test_erf_in_place_and_lengths);
    tcase_add_test(tc, test_erf_op_threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("gelu_post_op");
    tcase_add_test(tc, test_gelu_matmul_dnnl_vs_ref);
    tcase_add_test(tc, test_gelu_gemm_dnnl_vs_ref);
    tcase_add_test(tc, test_gelu_conv_dnnl_vs_ref);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(gelu_suite());
}
