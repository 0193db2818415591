/*
 * ConvTranspose (ops/conv_transpose.c): hand-computed 1-D and 2-D cases for strides, pads,
 * output_padding, dilations, groups and bias, every way of fixing the output size
 * (output_shape, SAME_UPPER / SAME_LOWER, VALID) with the padding split rules, error codes,
 * and a seeded random differential test against a naive scatter in 1-D, 2-D and 3-D.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define ASSERT_MSG(err, part)                                                                      \
    ck_assert_msg(strstr((err).msg, (part)) != NULL, "message '%s' lacks '%s'", (err).msg, (part))

static onyxi_node *ct_node(int64_t opset, int n_in) {
    return tu_node_new("ConvTranspose", opset, n_in, 1);
}

/* Runs n (and frees it) on x, w and optional b; the output in *y. */
static onyx_status run_ct(onyxi_node *n, onyx_tensor *x, onyx_tensor *w, onyx_tensor *b,
                          onyx_tensor **y, onyxi_err *err) {
    onyx_tensor *in[3] = {x, w, b};
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    tu_node_free(n);
    return rc;
}

static onyx_tensor *f32(int rank, const int64_t *dims, const float *v) {
    return tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, v);
}

/* 1-D: x = [1, 2, 3], w = [1, 10, 100]. With stride 2 the full result is
 * [1, 10, 102, 20, 203, 30, 300] (x[i] lands at 2i .. 2i+2). */
static const float X1[] = {1, 2, 3};
static const float W3[] = {1, 10, 100};

/* Runs the 1-D case on node n, expecting out values want[0..len). */
static void expect_1d(onyxi_node *n, int64_t len, const float *want) {
    onyx_tensor *x = f32(3, (int64_t[]){1, 1, 3}, X1), *w = f32(3, (int64_t[]){1, 1, 3}, W3);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_msg(run_ct(n, x, w, NULL, &y, &err) == ONYX_OK, "%s", err.msg);
    tu_assert_floats(y, 3, (int64_t[]){1, 1, len}, want, 0, 0);
    tu_tensor_free(x);
    tu_tensor_free(w);
    tu_tensor_free(y);
}

START_TEST(test_conv_transpose_1d_stride1) {
    /* out = 1 * 2 + 3 = 5: [1, 10+2, 100+20+3, 200+30, 300] */
    expect_1d(ct_node(11, 2), 5, (const float[]){1, 12, 123, 230, 300});
}
END_TEST

START_TEST(test_conv_transpose_1d_stride_pads_output_padding) {
    onyxi_node *n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 1, (int64_t[]){2});
    expect_1d(n, 7, (const float[]){1, 10, 102, 20, 203, 30, 300});
    /* pads crop begin and end */
    n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 1, (int64_t[]){2});
    tu_attr_ints(n, "pads", 2, (int64_t[]){1, 2});
    expect_1d(n, 4, (const float[]){10, 102, 20, 203});
    /* output_padding adds (zero) outputs at the end, before the end pad crops */
    n = ct_node(1, 2);
    tu_attr_ints(n, "strides", 1, (int64_t[]){2});
    tu_attr_ints(n, "pads", 2, (int64_t[]){1, 1});
    tu_attr_ints(n, "output_padding", 1, (int64_t[]){1});
    expect_1d(n, 6, (const float[]){10, 102, 20, 203, 30, 300});
    n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 1, (int64_t[]){2});
    tu_attr_ints(n, "output_padding", 1, (int64_t[]){1});
    expect_1d(n, 8, (const float[]){1, 10, 102, 20, 203, 30, 300, 0});
}
END_TEST

START_TEST(test_conv_transpose_1d_dilation) {
    /* dilation 2: x[i] lands at i, i+2, i+4 */
    onyxi_node *n = ct_node(11, 2);
    tu_attr_ints(n, "dilations", 1, (int64_t[]){2});
    expect_1d(n, 7, (const float[]){1, 2, 13, 20, 130, 200, 300});
}
END_TEST

/* auto_pad SAME_*: out = in * stride = 6, total padding 7 - 6 = 1: SAME_UPPER puts the odd
 * pixel at the end (begin 0), SAME_LOWER at the beginning (begin 1). */
START_TEST(test_conv_transpose_auto_pad_same_split) {
    onyxi_node *n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 1, (int64_t[]){2});
    tu_attr_string(n, "auto_pad", "SAME_UPPER");
    expect_1d(n, 6, (const float[]){1, 10, 102, 20, 203, 30});
    n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 1, (int64_t[]){2});
    tu_attr_string(n, "auto_pad", "SAME_LOWER");
    expect_1d(n, 6, (const float[]){10, 102, 20, 203, 30, 300});
    /* VALID: the full result; explicit zero pads are tolerated with auto_pad */
    n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 1, (int64_t[]){2});
    tu_attr_string(n, "auto_pad", "VALID");
    tu_attr_ints(n, "pads", 2, (int64_t[]){0, 0});
    expect_1d(n, 7, (const float[]){1, 10, 102, 20, 203, 30, 300});
}
END_TEST

/* output_shape fixes the size; pads (ignored when given) follow from total = 7 - out. */
START_TEST(test_conv_transpose_output_shape_split) {
    /* total 3, NOTSET: begin = 3 - 3/2 = 2 */
    onyxi_node *n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 1, (int64_t[]){2});
    tu_attr_ints(n, "output_shape", 1, (int64_t[]){4});
    tu_attr_ints(n, "pads", 2, (int64_t[]){5, 5});
    expect_1d(n, 4, (const float[]){102, 20, 203, 30});
    /* total 3, SAME_UPPER: begin = 3/2 = 1 */
    n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 1, (int64_t[]){2});
    tu_attr_ints(n, "output_shape", 1, (int64_t[]){4});
    tu_attr_string(n, "auto_pad", "SAME_UPPER");
    expect_1d(n, 4, (const float[]){10, 102, 20, 203});
    /* total 2 given as the full [N, M, out] shape: begin 1 */
    n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 1, (int64_t[]){2});
    tu_attr_ints(n, "output_shape", 3, (int64_t[]){1, 1, 5});
    expect_1d(n, 5, (const float[]){10, 102, 20, 203, 30});
    /* larger than the full result: no padding, the extra outputs at the end are zero */
    n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 1, (int64_t[]){2});
    tu_attr_ints(n, "output_shape", 1, (int64_t[]){9});
    expect_1d(n, 9, (const float[]){1, 10, 102, 20, 203, 30, 300, 0, 0});
    /* output_padding takes part in the total: 7 + 1 - 7 = 1, NOTSET begin = 1 */
    n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 1, (int64_t[]){2});
    tu_attr_ints(n, "output_padding", 1, (int64_t[]){1});
    tu_attr_ints(n, "output_shape", 1, (int64_t[]){7});
    expect_1d(n, 7, (const float[]){10, 102, 20, 203, 30, 300, 0});
}
END_TEST

/* 2-D with two groups of one input channel and two output channels each, plus bias:
 * y[m] = W[g, m % 2] (a 1x1 kernel) * x[g] + B[m], g = m / 2. */
START_TEST(test_conv_transpose_2d_groups_bias) {
    const float xv[] = {1, 2, 3, 4, 5, 6, 7, 8}; /* [1,2,2,2] */
    const float wv[] = {1, 2, 3, 4};             /* [2,2,1,1] */
    const float bv[] = {0, 1, 2, 3};
    const float want[] = {1,  2,  3,  4,  3,  5,  7,  9,   /* 1*x0 + 0, 2*x0 + 1 */
                          17, 20, 23, 26, 23, 27, 31, 35}; /* 3*x1 + 2, 4*x1 + 3 */
    onyx_tensor *x = f32(4, (int64_t[]){1, 2, 2, 2}, xv), *w = f32(4, (int64_t[]){2, 2, 1, 1}, wv);
    onyx_tensor *b = f32(1, (int64_t[]){4}, bv), *y = NULL;
    onyxi_node *n = ct_node(11, 3);
    tu_attr_int(n, "group", 2);
    tu_attr_ints(n, "kernel_shape", 2, (int64_t[]){1, 1});
    onyxi_err err;
    ck_assert_msg(run_ct(n, x, w, b, &y, &err) == ONYX_OK, "%s", err.msg);
    tu_assert_floats(y, 4, (int64_t[]){1, 4, 2, 2}, want, 0, 0);
    tu_tensor_free(x);
    tu_tensor_free(w);
    tu_tensor_free(b);
    tu_tensor_free(y);
}
END_TEST

/* 2-D, stride [2,1], 2x2 kernel of ones, one channel: every input pixel covers a 2x2 block at
 * (2i, j). Also two input channels summing into one output. */
START_TEST(test_conv_transpose_2d_strides_channels) {
    const float xv[] = {1, 2, 3, 4, 10, 20, 30, 40}; /* [1,2,2,2] */
    const float wv[] = {1, 1, 1, 1, 1, 1, 1, 1};     /* [2,1,2,2] */
    /* channel sum s = [[11, 22], [33, 44]]; out [4, 3] */
    const float want[] = {11, 33, 22, 11, 33, 22, 33, 77, 44, 33, 77, 44};
    onyx_tensor *x = f32(4, (int64_t[]){1, 2, 2, 2}, xv), *w = f32(4, (int64_t[]){2, 1, 2, 2}, wv);
    onyx_tensor *y = NULL;
    onyxi_node *n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 2, (int64_t[]){2, 1});
    onyxi_err err;
    ck_assert_msg(run_ct(n, x, w, NULL, &y, &err) == ONYX_OK, "%s", err.msg);
    tu_assert_floats(y, 4, (int64_t[]){1, 1, 4, 3}, want, 0, 0);
    tu_tensor_free(x);
    tu_tensor_free(w);
    tu_tensor_free(y);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_conv_transpose_errors) {
    onyx_tensor *x = f32(4, (int64_t[]){1, 2, 3, 3}, NULL);
    onyx_tensor *w = f32(4, (int64_t[]){2, 1, 3, 3}, NULL), *y = NULL;
    onyxi_err err;
    /* W dim 0 must be X's channels */
    onyx_tensor *w3 = f32(4, (int64_t[]){3, 1, 3, 3}, NULL);
    ck_assert_int_eq(run_ct(ct_node(11, 2), x, w3, NULL, &y, &err), ONYX_SHAPE_MISMATCH);
    ASSERT_MSG(err, "input 'W' has shape [3,1,3,3]");
    tu_tensor_free(w3);
    /* bias must be [M] = [W dim 1 x group] */
    onyx_tensor *b = f32(1, (int64_t[]){2}, NULL);
    ck_assert_int_eq(run_ct(ct_node(11, 3), x, w, b, &y, &err), ONYX_SHAPE_MISMATCH);
    ASSERT_MSG(err, "input 'B' has shape [2], expected [1]");
    tu_tensor_free(b);
    /* channels not a multiple of group */
    onyxi_node *n = ct_node(11, 2);
    tu_attr_int(n, "group", 3);
    ck_assert_int_eq(run_ct(n, x, w, NULL, &y, &err), ONYX_SHAPE_MISMATCH);
    ASSERT_MSG(err, "group 3");
    /* pads larger than the result */
    n = ct_node(11, 2);
    tu_attr_ints(n, "pads", 4, (int64_t[]){3, 0, 3, 0});
    ck_assert_int_eq(run_ct(n, x, w, NULL, &y, &err), ONYX_SHAPE_MISMATCH);
    ASSERT_MSG(err, "size -1");
    /* attribute values and lengths */
    n = ct_node(11, 2);
    tu_attr_ints(n, "strides", 2, (int64_t[]){1, 0});
    ck_assert_int_eq(run_ct(n, x, w, NULL, &y, &err), ONYX_INVALID_MODEL);
    ASSERT_MSG(err, "attribute 'strides'[1] is 0");
    n = ct_node(11, 2);
    tu_attr_string(n, "auto_pad", "SAME");
    ck_assert_int_eq(run_ct(n, x, w, NULL, &y, &err), ONYX_INVALID_MODEL);
    ASSERT_MSG(err, "'SAME'");
    n = ct_node(11, 2);
    tu_attr_ints(n, "output_shape", 1, (int64_t[]){5});
    ck_assert_int_eq(run_ct(n, x, w, NULL, &y, &err), ONYX_INVALID_MODEL);
    ASSERT_MSG(err, "output_shape");
    n = ct_node(11, 2);
    tu_attr_ints(n, "output_shape", 4, (int64_t[]){1, 7, 5, 5});
    ck_assert_int_eq(run_ct(n, x, w, NULL, &y, &err), ONYX_SHAPE_MISMATCH);
    n = ct_node(11, 2);
    tu_attr_ints(n, "output_padding", 1, (int64_t[]){1});
    ck_assert_int_eq(run_ct(n, x, w, NULL, &y, &err), ONYX_INVALID_MODEL);
    ASSERT_MSG(err, "'output_padding' has 1 values, expected 2");
    n = ct_node(11, 2);
    tu_attr_ints(n, "kernel_shape", 2, (int64_t[]){2, 2});
    ck_assert_int_eq(run_ct(n, x, w, NULL, &y, &err), ONYX_SHAPE_MISMATCH);
    ASSERT_MSG(err, "kernel_shape");
    n = ct_node(11, 2);
    tu_attr_string(n, "auto_pad", "SAME_UPPER");
    tu_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
    ck_assert_int_eq(run_ct(n, x, w, NULL, &y, &err), ONYX_INVALID_MODEL);
    /* rank and dtype */
    onyx_tensor *x2 = f32(2, (int64_t[]){2, 3}, NULL);
    ck_assert_int_eq(run_ct(ct_node(11, 2), x2, w, NULL, &y, &err), ONYX_SHAPE_MISMATCH);
    tu_tensor_free(x2);
    onyx_tensor *xd = tu_tensor(ONYX_DTYPE_FLOAT64, 4, (int64_t[]){1, 2, 3, 3}, NULL);
    ck_assert_int_eq(run_ct(ct_node(11, 2), xd, w, NULL, &y, &err), ONYX_UNSUPPORTED);
    tu_tensor_free(xd);
    onyx_tensor *wi = tu_tensor(ONYX_DTYPE_INT64, 4, (int64_t[]){2, 1, 3, 3}, NULL);
    ck_assert_int_eq(run_ct(ct_node(11, 2), x, wi, NULL, &y, &err), ONYX_TYPE_MISMATCH);
    tu_tensor_free(wi);
    tu_tensor_free(x);
    tu_tensor_free(w);
}
END_TEST

/* ---- differential ---- */

typedef struct ct_case {
    int S;
    int64_t n, c, m, g; /* m: output channels */
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], op[3];
    int bias;
} ct_case;

/* The definition: y[n, m, o] = B[m] + sum over c in m's group, taps t and inputs i with
 * o = i * s + t * d - pb of x[n, c, i] * W[c, m % Mg, t], in double. */
static void naive_ct(const ct_case *t, const int64_t *out, const float *x, const float *w,
                     const float *b, float *y) {
    int64_t iplane = 1, oplane = 1, kplane = 1, Cg = t->c / t->g, Mg = t->m / t->g;
    for (int a = 0; a < t->S; a++) {
        iplane *= t->in[a];
        oplane *= out[a];
        kplane *= t->k[a];
    }
    double *acc = calloc((size_t)(t->n * t->m * oplane), sizeof *acc);
    for (int64_t n = 0; n < t->n; n++)
        for (int64_t c = 0; c < t->c; c++)
            for (int64_t mm = 0; mm < Mg; mm++)
                for (int64_t ii = 0; ii < iplane; ii++)
                    for (int64_t kk = 0; kk < kplane; kk++) {
                        int64_t o = 0, rem_i = ii, rem_k = kk, ok = 1, mul = 1;
                        for (int a = t->S - 1; a >= 0; a--) {
                            int64_t i = rem_i % t->in[a], k = rem_k % t->k[a];
                            rem_i /= t->in[a];
                            rem_k /= t->k[a];
                            int64_t pos = i * t->s[a] + k * t->d[a] - t->pb[a];
                            if (pos < 0 || pos >= out[a]) ok = 0;
                            o += pos * mul;
                            mul *= out[a];
                        }
                        if (!ok) continue;
                        int64_t m = c / Cg * Mg + mm;
                        acc[(n * t->m + m) * oplane + o] +=
                            (double)x[(n * t->c + c) * iplane + ii] *
                            w[(c * Mg + mm) * kplane + kk];
                    }
    for (int64_t n = 0; n < t->n; n++)
        for (int64_t m = 0; m < t->m; m++)
            for (int64_t o = 0; o < oplane; o++) {
                int64_t idx = (n * t->m + m) * oplane + o;
                y[idx] = (float)(acc[idx] + (b ? b[m] : 0.0));
            }
    free(acc);
}

START_TEST(test_conv_transpose_random_matches_naive) {
    /* clang-format off */
    static const ct_case cases[] = {
        {1, 2, 3, 4, 1, {7}, {3}, {2}, {1}, {1}, {0}, {1}, 1},
        {1, 1, 4, 6, 2, {5}, {4}, {3}, {2}, {0}, {2}, {2}, 0},
        {2, 1, 3, 2, 1, {5, 6}, {3, 2}, {2, 3}, {1, 2}, {1, 0}, {2, 1}, {1, 2}, 1},
        {2, 2, 4, 4, 4, {4, 3}, {3, 3}, {1, 2}, {2, 1}, {2, 1}, {1, 0}, {0, 1}, 1},
        {2, 1, 6, 9, 3, {9, 17}, {5, 4}, {3, 2}, {1, 1}, {2, 1}, {2, 2}, {0, 0}, 1},
        {3, 1, 2, 3, 1, {3, 4, 5}, {2, 3, 2}, {2, 1, 3}, {1, 2, 1}, {0, 1, 1}, {1, 0, 2},
         {1, 0, 2}, 1},
    };
    /* clang-format on */
    unsigned seed = 11;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const ct_case *t = &cases[ci];
        int64_t xd[5] = {t->n, t->c}, wd[5] = {t->c, t->m / t->g}, out[3], yd[5] = {t->n, t->m};
        for (int a = 0; a < t->S; a++) {
            xd[2 + a] = t->in[a];
            wd[2 + a] = t->k[a];
            out[a] = t->s[a] * (t->in[a] - 1) + t->op[a] + (t->k[a] - 1) * t->d[a] + 1 - t->pb[a] -
                     t->pe[a];
            yd[2 + a] = out[a];
        }
        onyx_tensor *x = tu_tensor_random(t->S + 2, xd, seed++, -1, 1);
        onyx_tensor *w = tu_tensor_random(t->S + 2, wd, seed++, -1, 1);
        onyx_tensor *b = t->bias ? tu_tensor_random(1, (int64_t[]){t->m}, seed++, -1, 1) : NULL;
        int64_t total = t->n * t->m;
        for (int a = 0; a < t->S; a++)
            total *= out[a];
        float *want = malloc((size_t)total * sizeof *want);
        naive_ct(t, out, x->data, w->data, b ? b->data : NULL, want);
        int64_t pads[6];
        for (int a = 0; a < t->S; a++) {
            pads[a] = t->pb[a];
            pads[t->S + a] = t->pe[a];
        }
        onyxi_node *n = ct_node(11, t->bias ? 3 : 2);
        tu_attr_int(n, "group", t->g);
        tu_attr_ints(n, "strides", t->S, t->s);
        tu_attr_ints(n, "dilations", t->S, t->d);
        tu_attr_ints(n, "pads", 2 * t->S, pads);
        tu_attr_ints(n, "output_padding", t->S, t->op);
        onyx_tensor *y = NULL;
        onyxi_err err;
        ck_assert_msg(run_ct(n, x, w, b, &y, &err) == ONYX_OK, "case %zu: %s", ci, err.msg);
        tu_assert_floats(y, t->S + 2, yd, want, 1e-5, 1e-4);
        free(want);
        tu_tensor_free(x);
        tu_tensor_free(w);
        tu_tensor_free(b);
        tu_tensor_free(y);
    }
}
END_TEST

static Suite *ops_conv_transpose_suite(void) {
    Suite *s = suite_create("ops_conv_transpose");
    TCase *tc = tcase_create("hand");
    tcase_add_test(tc, test_conv_transpose_1d_stride1);
    tcase_add_test(tc, test_conv_transpose_1d_stride_pads_output_padding);
    tcase_add_test(tc, test_conv_transpose_1d_dilation);
    tcase_add_test(tc, test_conv_transpose_2d_groups_bias);
    tcase_add_test(tc, test_conv_transpose_2d_strides_channels);
    suite_add_tcase(s, tc);
    tc = tcase_create("output_size");
    tcase_add_test(tc, test_conv_transpose_auto_pad_same_split);
    tcase_add_test(tc, test_conv_transpose_output_shape_split);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_conv_transpose_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("differential");
    tcase_add_test(tc, test_conv_transpose_random_matches_naive);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_conv_transpose_suite());
}
