/*
 * Tests of Conv (ops/conv.c): hand-computed 1-D, 2-D, 3-D and 4-D cases covering groups,
 * depthwise, dilations, strides, asymmetric pads, every auto_pad mode and bias; the
 * validation errors; and a seeded random differential test against a textbook loop
 * convolution written here, independently of the kernel.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- helpers ---- */

static onyx_tensor *ftensor(int rank, const int64_t *dims, const float *data) {
    return tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, data);
}

/* A tensor holding 1, 2, 3, ... (start + i). */
static onyx_tensor *iota(int rank, const int64_t *dims, float start) {
    onyx_tensor *t = ftensor(rank, dims, NULL);
    float *p = t->data;
    for (size_t i = 0; i < t->nbytes / sizeof(float); i++)
        p[i] = start + (float)i;
    return t;
}

static onyx_tensor *filled(int rank, const int64_t *dims, float v) {
    onyx_tensor *t = ftensor(rank, dims, NULL);
    float *p = t->data;
    for (size_t i = 0; i < t->nbytes / sizeof(float); i++)
        p[i] = v;
    return t;
}

static onyxi_node *conv_node(int has_bias) {
    return tu_node_new("Conv", 11, has_bias ? 3 : 2, 1);
}

/* Runs the node on X, W (and B when the node has 3 inputs); frees the inputs. */
static onyx_status run_conv(onyxi_node *n, onyx_tensor *x, onyx_tensor *w, onyx_tensor *b,
                            onyx_tensor **y, onyxi_err *err) {
    onyx_tensor *in[3] = {x, w, b};
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    tu_tensor_free(x);
    tu_tensor_free(w);
    tu_tensor_free(b);
    return rc;
}

/* Runs and expects success with output shape dims and values want (exact up to 1e-6). */
static void expect_conv(onyxi_node *n, onyx_tensor *x, onyx_tensor *w, onyx_tensor *b, int rank,
                        const int64_t *dims, const float *want) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyx_status rc = run_conv(n, x, w, b, &y, &err);
    ck_assert_msg(rc == ONYX_OK, "conv failed: %d %s", rc, err.msg);
    tu_assert_floats(y, rank, dims, want, 1e-6, 1e-6);
    tu_tensor_free(y);
    tu_node_free(n);
}

/* Runs and expects failure with code and a message containing part. */
static void expect_conv_error(onyxi_node *n, onyx_tensor *x, onyx_tensor *w, onyx_tensor *b,
                              onyx_status code, const char *part) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyx_status rc = run_conv(n, x, w, b, &y, &err);
    ck_assert_msg(rc == code, "got status %d (%s), expected %d", rc, err.msg, code);
    ck_assert_msg(strstr(err.msg, part) != NULL, "message '%s' lacks '%s'", err.msg, part);
    ck_assert_ptr_null(y);
    tu_node_free(n);
}

static void ints2(onyxi_node *n, const char *name, int64_t a, int64_t b) {
    int64_t v[2] = {a, b};
    tu_attr_ints(n, name, 2, v);
}

static void ints4(onyxi_node *n, const char *name, int64_t a, int64_t b, int64_t c, int64_t d) {
    int64_t v[4] = {a, b, c, d};
    tu_attr_ints(n, name, 4, v);
}

/* ---- hand-computed cases ---- */

START_TEST(test_conv_1d_pads_and_bias) {
    /* y[o] = x[o-1] - x[o+1] + 0.5 with one zero of padding each side */
    int64_t xd[3] = {1, 1, 5}, wd[3] = {1, 1, 3}, bd[1] = {1};
    float w[3] = {1, 0, -1}, b[1] = {0.5f};
    onyxi_node *n = conv_node(1);
    ints2(n, "pads", 1, 1);
    int64_t yd[3] = {1, 1, 5};
    float want[5] = {-1.5f, -1.5f, -1.5f, -1.5f, 4.5f};
    expect_conv(n, iota(3, xd, 1), ftensor(3, wd, w), ftensor(1, bd, b), 3, yd, want);
}
END_TEST

START_TEST(test_conv_2d_no_padding) {
    /* x[i][j] = 5i + j, 3x3 box sums: 9 * (5r + c) + 54 */
    int64_t xd[4] = {1, 1, 5, 5}, wd[4] = {1, 1, 3, 3}, yd[4] = {1, 1, 3, 3};
    float want[9] = {54, 63, 72, 99, 108, 117, 144, 153, 162};
    expect_conv(conv_node(0), iota(4, xd, 0), filled(4, wd, 1), NULL, 4, yd, want);
}
END_TEST

START_TEST(test_conv_2d_kernel_shape_and_pads) {
    int64_t xd[4] = {1, 1, 5, 5}, wd[4] = {1, 1, 3, 3}, yd[4] = {1, 1, 5, 5};
    onyxi_node *n = conv_node(0);
    ints2(n, "kernel_shape", 3, 3);
    ints4(n, "pads", 1, 1, 1, 1);
    float want[25] = {12,  21, 27, 33,  24,  33,  54,  63, 72,  51,  63,  99, 108,
                      117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84};
    expect_conv(n, iota(4, xd, 0), filled(4, wd, 1), NULL, 4, yd, want);
}
END_TEST

START_TEST(test_conv_2d_strides) {
    int64_t xd[4] = {1, 1, 5, 5}, wd[4] = {1, 1, 3, 3}, yd[4] = {1, 1, 2, 2};
    onyxi_node *n = conv_node(0);
    ints2(n, "strides", 2, 2);
    float want[4] = {54, 72, 144, 162};
    expect_conv(n, iota(4, xd, 0), filled(4, wd, 1), NULL, 4, yd, want);

    /* strides 2 with pads 1: box sums of the padded image at rows/cols 0, 2, 4 */
    n = conv_node(0);
    ints2(n, "strides", 2, 2);
    ints4(n, "pads", 1, 1, 1, 1);
    int64_t yd2[4] = {1, 1, 3, 3};
    float want2[9] = {12, 27, 24, 63, 108, 81, 72, 117, 84};
    expect_conv(n, iota(4, xd, 0), filled(4, wd, 1), NULL, 4, yd2, want2);
}
END_TEST

START_TEST(test_conv_2d_asymmetric_pads) {
    /* x = 1..9 in 3x3, 2x2 ones, one zero row on top and one zero column on the right:
     *   0 0 0 0 / 1 2 3 0 / 4 5 6 0 / 7 8 9 0 */
    int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 2, 2}, yd[4] = {1, 1, 3, 3};
    onyxi_node *n = conv_node(0);
    ints4(n, "pads", 1, 0, 0, 1); /* top, left, bottom, right */
    float want[9] = {3, 5, 3, 12, 16, 9, 24, 28, 15};
    expect_conv(n, iota(4, xd, 1), filled(4, wd, 1), NULL, 4, yd, want);
}
END_TEST

START_TEST(test_conv_3d_box) {
    /* x[i][j][k] = 9i + 3j + k; a 2x2x2 box sum at (a,b,c) is 72a + 24b + 8c + 52 */
    int64_t xd[5] = {1, 1, 3, 3, 3}, wd[5] = {1, 1, 2, 2, 2}, yd[5] = {1, 1, 2, 2, 2};
    float want[8] = {52, 60, 76, 84, 124, 132, 148, 156};
    expect_conv(conv_node(0), iota(5, xd, 0), filled(5, wd, 1), NULL, 5, yd, want);
}
END_TEST

START_TEST(test_conv_3d_strides_end_pads) {
    /* windows at 0 and 2 per axis; at 2 the window's second half is padding. Sum over index
     * sets I x J x K = 9*sum(I)|J||K| + 3*sum(J)|I||K| + sum(K)|I||J|. */
    int64_t xd[5] = {1, 1, 3, 3, 3}, wd[5] = {1, 1, 2, 2, 2}, yd[5] = {1, 1, 2, 2, 2};
    onyxi_node *n = conv_node(0);
    int64_t strides[3] = {2, 2, 2}, pads[6] = {0, 0, 0, 1, 1, 1};
    tu_attr_ints(n, "strides", 3, strides);
    tu_attr_ints(n, "pads", 6, pads);
    float want[8] = {52, 32, 44, 25, 80, 43, 49, 26};
    expect_conv(n, iota(5, xd, 0), filled(5, wd, 1), NULL, 5, yd, want);
}
END_TEST

START_TEST(test_conv_4d_spatial) {
    /* rank 6: 2x1x1x3 input (1..6), 2x1x1x2 ones kernel */
    int64_t xd[6] = {1, 1, 2, 1, 1, 3}, wd[6] = {1, 1, 2, 1, 1, 2}, yd[6] = {1, 1, 1, 1, 1, 2};
    float want[2] = {12, 16};
    expect_conv(conv_node(0), iota(6, xd, 1), filled(6, wd, 1), NULL, 6, yd, want);
}
END_TEST

START_TEST(test_conv_two_output_channels_3d) {
    int64_t wd[5] = {2, 1, 2, 2, 2}, yd[5] = {2, 2, 1, 1, 1};
    float w[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, -1};
    /* batch 2: the second image is the first plus 10 */
    onyx_tensor *x = ftensor(5, (int64_t[]){2, 1, 2, 2, 2}, NULL);
    float *p = x->data;
    for (int i = 0; i < 16; i++)
        p[i] = (float)(i % 8 + 1) + (i >= 8 ? 10.0f : 0.0f);
    float want[4] = {36, -7, 116, -7};
    expect_conv(conv_node(0), x, ftensor(5, wd, w), NULL, 5, yd, want);
}
END_TEST

START_TEST(test_conv_empty_inputs_give_bias) {
    /* no input channels: every output is the bias */
    int64_t xd[3] = {1, 0, 3}, wd[3] = {2, 0, 2}, bd[1] = {2}, yd[3] = {1, 2, 2};
    float b[2] = {1, 2};
    float want[4] = {1, 1, 2, 2};
    expect_conv(conv_node(1), ftensor(3, xd, NULL), ftensor(3, wd, NULL), ftensor(1, bd, b), 3, yd,
                want);
    /* an empty spatial axis with padding: the windows see only zeros */
    int64_t xd2[3] = {1, 1, 0}, wd2[3] = {1, 1, 1}, bd2[1] = {1}, yd2[3] = {1, 1, 2};
    float b2[1] = {5};
    float want2[2] = {5, 5};
    onyxi_node *n = conv_node(1);
    ints2(n, "pads", 1, 1);
    expect_conv(n, ftensor(3, xd2, NULL), filled(3, wd2, 1), ftensor(1, bd2, b2), 3, yd2, want2);
}
END_TEST

START_TEST(test_conv_absent_bias_input) {
    /* three inputs with the third one empty, as exporters write an unused optional input */
    int64_t xd[3] = {1, 1, 4}, wd[3] = {1, 1, 2}, yd[3] = {1, 1, 3};
    onyxi_node *n = conv_node(1);
    tu_node_absent_input(n, 2);
    float want[3] = {3, 5, 7};
    expect_conv(n, iota(3, xd, 1), filled(3, wd, 1), NULL, 3, yd, want);
}
END_TEST

/* ---- groups ---- */

START_TEST(test_conv_groups_with_bias) {
    /* group 2, 1x1: y0 = c0 + 2 c1 + 10, y1 = 3 c2 - c3 + 20 */
    int64_t xd[4] = {1, 4, 2, 2}, wd[4] = {2, 2, 1, 1}, bd[1] = {2}, yd[4] = {1, 2, 2, 2};
    float x[16] = {1, 2, 3, 4, 1, 1, 1, 1, 0, 1, 0, 1, 2, 2, 2, 2};
    float w[4] = {1, 2, 3, -1}, b[2] = {10, 20};
    onyxi_node *n = conv_node(1);
    tu_attr_int(n, "group", 2);
    float want[8] = {13, 14, 15, 16, 18, 21, 18, 21};
    expect_conv(n, ftensor(4, xd, x), ftensor(4, wd, w), ftensor(1, bd, b), 4, yd, want);
}
END_TEST

START_TEST(test_conv_depthwise) {
    int64_t xd[4] = {1, 2, 1, 4}, wd[4] = {2, 1, 1, 2}, yd[4] = {1, 2, 1, 3};
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    float w[4] = {1, 1, 1, -1};
    onyxi_node *n = conv_node(0);
    tu_attr_int(n, "group", 2);
    float want[6] = {3, 5, 7, -1, -1, -1};
    expect_conv(n, ftensor(4, xd, x), ftensor(4, wd, w), NULL, 4, yd, want);
}
END_TEST

START_TEST(test_conv_depthwise_multiplier) {
    /* group == C == 2 with 4 output channels: m0, m1 read c0; m2, m3 read c1 */
    int64_t xd[4] = {1, 2, 1, 4}, wd[4] = {4, 1, 1, 2}, yd[4] = {1, 4, 1, 3};
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    float w[8] = {1, 1, 2, 0, 1, -1, 0, 1};
    onyxi_node *n = conv_node(0);
    tu_attr_int(n, "group", 2);
    float want[12] = {3, 5, 7, 2, 4, 6, -1, -1, -1, 6, 7, 8};
    expect_conv(n, ftensor(4, xd, x), ftensor(4, wd, w), NULL, 4, yd, want);
}
END_TEST

/* ---- dilations ---- */

START_TEST(test_conv_dilations) {
    /* dilation 2 on width: y[o] = x[o] + x[o+2] + x[o+4] */
    int64_t xd[4] = {1, 1, 1, 7}, wd[4] = {1, 1, 1, 3}, yd[4] = {1, 1, 1, 3};
    onyxi_node *n = conv_node(0);
    ints2(n, "dilations", 1, 2);
    float want[3] = {9, 12, 15};
    expect_conv(n, iota(4, xd, 1), filled(4, wd, 1), NULL, 4, yd, want);

    /* with pads 2 left and right: y[o] = x[o-2] + x[o] + x[o+2] */
    n = conv_node(0);
    ints2(n, "dilations", 1, 2);
    ints4(n, "pads", 0, 2, 0, 2);
    int64_t yd2[4] = {1, 1, 1, 7};
    float want2[7] = {4, 6, 9, 12, 15, 10, 12};
    expect_conv(n, iota(4, xd, 1), filled(4, wd, 1), NULL, 4, yd2, want2);
}
END_TEST

/* ---- auto_pad ---- */

/* 1-D x = 1..5 with kernel [1, 10] (so the side the padding went to shows). */
static void expect_autopad(const char *mode, int64_t stride, int64_t out, const float *want) {
    int64_t xd[3] = {1, 1, 5}, wd[3] = {1, 1, 2}, yd[3] = {1, 1, out};
    float w[2] = {1, 10};
    onyxi_node *n = conv_node(0);
    if (mode) tu_attr_string(n, "auto_pad", mode);
    int64_t s[1] = {stride};
    tu_attr_ints(n, "strides", 1, s);
    expect_conv(n, iota(3, xd, 1), ftensor(3, wd, w), NULL, 3, yd, want);
}

START_TEST(test_conv_autopad_notset_and_valid) {
    float want[4] = {21, 32, 43, 54};
    expect_autopad(NULL, 1, 4, want);
    expect_autopad("NOTSET", 1, 4, want);
    expect_autopad("VALID", 1, 4, want);
    float want_s2[2] = {21, 43};
    expect_autopad("VALID", 2, 2, want_s2);
}
END_TEST

START_TEST(test_conv_autopad_same_upper) {
    /* one pad, at the end */
    float want[5] = {21, 32, 43, 54, 5};
    expect_autopad("SAME_UPPER", 1, 5, want);
    /* stride 2: out = ceil(5/2) = 3, total pad 1, at the end: [1 2 3 4 5 0] at 0, 2, 4 */
    float want_s2[3] = {21, 43, 5};
    expect_autopad("SAME_UPPER", 2, 3, want_s2);
}
END_TEST

START_TEST(test_conv_autopad_same_lower) {
    /* one pad, at the beginning */
    float want[5] = {10, 21, 32, 43, 54};
    expect_autopad("SAME_LOWER", 1, 5, want);
    float want_s2[3] = {10, 32, 54};
    expect_autopad("SAME_LOWER", 2, 3, want_s2);
}
END_TEST

START_TEST(test_conv_autopad_same_2d_stride) {
    /* 5x5 iota, 3x3 ones, stride 2, SAME: out 3x3, total pad 2 per axis (1 and 1) - the
     * same as explicit pads 1 */
    int64_t xd[4] = {1, 1, 5, 5}, wd[4] = {1, 1, 3, 3}, yd[4] = {1, 1, 3, 3};
    onyxi_node *n = conv_node(0);
    tu_attr_string(n, "auto_pad", "SAME_LOWER");
    ints2(n, "strides", 2, 2);
    float want[9] = {12, 27, 24, 63, 108, 81, 72, 117, 84};
    expect_conv(n, iota(4, xd, 0), filled(4, wd, 1), NULL, 4, yd, want);
}
END_TEST

START_TEST(test_conv_opset1_same) {
    int64_t xd[3] = {1, 1, 5}, wd[3] = {1, 1, 2}, yd[3] = {1, 1, 5};
    float w[2] = {1, 10};
    onyxi_node *n = tu_node_new("Conv", 1, 2, 1);
    tu_attr_string(n, "auto_pad", "SAME_UPPER");
    float want[5] = {21, 32, 43, 54, 5};
    expect_conv(n, iota(3, xd, 1), ftensor(3, wd, w), NULL, 3, yd, want);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_conv_kernel_shape_mismatch_is_shape_mismatch) {
    int64_t xd[4] = {1, 1, 5, 5}, wd[4] = {1, 1, 3, 3};
    onyxi_node *n = conv_node(0);
    ints2(n, "kernel_shape", 2, 2);
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_SHAPE_MISMATCH,
                      "'kernel_shape' is [2,2]");
}
END_TEST

START_TEST(test_conv_channel_mismatch_is_shape_mismatch) {
    int64_t xd[4] = {1, 3, 5, 5}, wd[4] = {1, 2, 3, 3};
    expect_conv_error(conv_node(0), iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_SHAPE_MISMATCH,
                      "input 'X' has 3 channels, expected input 'W' dim 1 (2) x group (1)");
    /* C must be W.dims[1] * group */
    int64_t xd2[4] = {1, 4, 5, 5}, wd2[4] = {2, 4, 3, 3};
    onyxi_node *n = conv_node(0);
    tu_attr_int(n, "group", 2);
    expect_conv_error(n, iota(4, xd2, 0), filled(4, wd2, 1), NULL, ONYX_SHAPE_MISMATCH,
                      "4 channels, expected input 'W' dim 1 (4) x group (2)");
    /* M must be a multiple of group */
    int64_t wd3[4] = {3, 2, 3, 3};
    n = conv_node(0);
    tu_attr_int(n, "group", 2);
    expect_conv_error(n, iota(4, xd2, 0), filled(4, wd3, 1), NULL, ONYX_SHAPE_MISMATCH,
                      "not a multiple of group 2");
}
END_TEST

START_TEST(test_conv_bad_shapes_are_shape_mismatch) {
    int64_t xd[4] = {1, 1, 5, 5}, wd[4] = {2, 1, 3, 3}, bd[1] = {3};
    expect_conv_error(conv_node(1), iota(4, xd, 0), filled(4, wd, 1), filled(1, bd, 0),
                      ONYX_SHAPE_MISMATCH, "input 'B' has shape [3], expected [2]");
    int64_t xd2[2] = {1, 5}, wd2[2] = {1, 5};
    expect_conv_error(conv_node(0), iota(2, xd2, 0), filled(2, wd2, 1), NULL, ONYX_SHAPE_MISMATCH,
                      "input 'X' has rank 2");
    int64_t wd3[3] = {1, 1, 3};
    expect_conv_error(conv_node(0), iota(4, xd, 0), filled(3, wd3, 1), NULL, ONYX_SHAPE_MISMATCH,
                      "input 'W' has rank 3, expected 4");
    /* a 3-wide kernel on a 2-wide input leaves no output on axis 3 */
    int64_t xd4[4] = {1, 1, 5, 2};
    expect_conv_error(conv_node(0), iota(4, xd4, 0), filled(4, wd, 1), NULL, ONYX_SHAPE_MISMATCH,
                      "output axis 3 would be empty");
    /* dilation makes the kernel 5 tall on a 4-tall input */
    int64_t xd5[4] = {1, 1, 4, 9};
    onyxi_node *n = conv_node(0);
    ints2(n, "dilations", 2, 1);
    expect_conv_error(n, iota(4, xd5, 0), filled(4, wd, 1), NULL, ONYX_SHAPE_MISMATCH,
                      "output axis 2 would be empty");
}
END_TEST

START_TEST(test_conv_wrong_dtype_is_type_mismatch) {
    int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 1, 1};
    expect_conv_error(conv_node(0), tu_tensor(ONYX_DTYPE_INT32, 4, xd, NULL), filled(4, wd, 1),
                      NULL, ONYX_TYPE_MISMATCH, "input 'X' has dtype int32");
    expect_conv_error(conv_node(0), filled(4, xd, 1), tu_tensor(ONYX_DTYPE_FLOAT64, 4, wd, NULL),
                      NULL, ONYX_TYPE_MISMATCH, "input 'W' has dtype float64");
    int64_t bd[1] = {1};
    expect_conv_error(conv_node(1), filled(4, xd, 1), filled(4, wd, 1),
                      tu_tensor(ONYX_DTYPE_INT64, 1, bd, NULL), ONYX_TYPE_MISMATCH,
                      "input 'B' has dtype int64");
    /* legal ONNX that onyx does not run */
    expect_conv_error(conv_node(0), tu_tensor(ONYX_DTYPE_FLOAT64, 4, xd, NULL),
                      tu_tensor(ONYX_DTYPE_FLOAT64, 4, wd, NULL), NULL, ONYX_UNSUPPORTED,
                      "only float32");
}
END_TEST

START_TEST(test_conv_bad_attribute_length_is_invalid_model) {
    int64_t xd[4] = {1, 1, 5, 5}, wd[4] = {1, 1, 3, 3};
    int64_t one[1] = {1}, three[3] = {1, 1, 1};
    onyxi_node *n = conv_node(0);
    tu_attr_ints(n, "strides", 1, one);
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "'strides' has 1 values, expected 2");
    n = conv_node(0);
    tu_attr_ints(n, "pads", 2, (int64_t[]){1, 1});
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "'pads' has 2 values, expected 4");
    n = conv_node(0);
    tu_attr_ints(n, "dilations", 3, three);
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "'dilations' has 3 values");
    n = conv_node(0);
    tu_attr_ints(n, "kernel_shape", 3, (int64_t[]){3, 3, 3});
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "'kernel_shape' has 3 values");
    /* lengths that disagree with each other fail in the load-time check already */
    n = conv_node(0);
    ints2(n, "strides", 1, 1);
    tu_attr_ints(n, "pads", 3, three);
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "'pads' has 3 values, expected 4");
    n = conv_node(0);
    ints2(n, "strides", 1, 1);
    tu_attr_ints(n, "dilations", 1, one);
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "expected equal lengths");
}
END_TEST

START_TEST(test_conv_bad_attribute_values_are_invalid_model) {
    int64_t xd[4] = {1, 1, 5, 5}, wd[4] = {1, 1, 3, 3};
    onyxi_node *n = conv_node(0);
    ints2(n, "strides", 1, 0);
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "'strides'[1] is 0");
    n = conv_node(0);
    ints2(n, "dilations", -1, 1);
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "'dilations'[0] is -1");
    n = conv_node(0);
    ints4(n, "pads", 0, 0, -2, 0);
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "'pads'[2] is -2");
    n = conv_node(0);
    tu_attr_int(n, "group", 0);
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "'group' is 0");
    n = conv_node(0);
    tu_attr_string(n, "auto_pad", "SAME");
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "'auto_pad' is 'SAME'");
    n = conv_node(0);
    tu_attr_string(n, "auto_pad", "SAME_UPPER");
    ints4(n, "pads", 1, 1, 1, 1);
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "cannot be used with auto_pad");
    n = conv_node(0);
    tu_attr_int(n, "strides", 2); /* wrong attribute type: the generic check */
    expect_conv_error(n, iota(4, xd, 0), filled(4, wd, 1), NULL, ONYX_INVALID_MODEL,
                      "'strides' has type int");
}
END_TEST

START_TEST(test_conv_zero_pads_with_auto_pad_are_tolerated) {
    int64_t xd[3] = {1, 1, 5}, wd[3] = {1, 1, 2}, yd[3] = {1, 1, 5};
    float w[2] = {1, 10};
    onyxi_node *n = conv_node(0);
    tu_attr_string(n, "auto_pad", "SAME_LOWER");
    ints2(n, "pads", 0, 0);
    float want[5] = {10, 21, 32, 43, 54};
    expect_conv(n, iota(3, xd, 1), ftensor(3, wd, w), NULL, 3, yd, want);
}
END_TEST

/* ---- differential test against a textbook convolution ---- */

/* The textbook loops over a 3-D convolution with explicit begin pads, accumulating in
 * double; 1-D and 2-D cases are run as 3-D ones with leading size-1 axes. */
static void naive_conv3d(const float *x, const float *w, const float *b, double *y, int64_t N,
                         int64_t C, int64_t M, int64_t G, const int64_t *in, const int64_t *k,
                         const int64_t *out, const int64_t *s, const int64_t *d, const int64_t *p) {
    int64_t Cg = C / G, Mg = M / G;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t o0 = 0; o0 < out[0]; o0++)
                for (int64_t o1 = 0; o1 < out[1]; o1++)
                    for (int64_t o2 = 0; o2 < out[2]; o2++) {
                        double sum = b ? b[m] : 0.0;
                        for (int64_t c = 0; c < Cg; c++)
                            for (int64_t k0 = 0; k0 < k[0]; k0++)
                                for (int64_t k1 = 0; k1 < k[1]; k1++)
                                    for (int64_t k2 = 0; k2 < k[2]; k2++) {
                                        int64_t i0 = o0 * s[0] - p[0] + k0 * d[0];
                                        int64_t i1 = o1 * s[1] - p[1] + k1 * d[1];
                                        int64_t i2 = o2 * s[2] - p[2] + k2 * d[2];
                                        if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] ||
                                            i2 < 0 || i2 >= in[2])
                                            continue;
                                        int64_t ci = (m / Mg) * Cg + c;
                                        double xv =
                                            x[(((n * C + ci) * in[0] + i0) * in[1] + i1) * in[2] +
                                              i2];
                                        double wv =
                                            w[(((m * Cg + c) * k[0] + k0) * k[1] + k1) * k[2] + k2];
                                        sum += xv * wv;
                                    }
                        y[(((n * M + m) * out[0] + o0) * out[1] + o1) * out[2] + o2] = sum;
                    }
}

static unsigned rng_state;
static int64_t rnd(int64_t lo, int64_t hi) { /* uniform in [lo, hi] */
    rng_state = rng_state * 1103515245u + 12345u;
    return lo + (int64_t)((rng_state >> 8) % (unsigned)(hi - lo + 1));
}

START_TEST(test_conv_ref_and_dnnl_match_naive_random) {
    /* Values in [-1, 1) and at most ~300 products per output: float32 accumulation stays
     * within 1e-5 absolute of the double result, so this tolerance only catches real bugs
     * (a wrong tap or a missed pad is off by ~0.1 or more). */
    const double atol = 1e-4, rtol = 1e-4;
    static const char *modes[4] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    rng_state = 20240611u;
    int cases = 0, dnnl_cases = 0;
    for (int iter = 0; cases < 300 && iter < 5000; iter++) {
        int S = (int)rnd(1, 3);
        /* Mg up to 9: the kernel computes output channels in blocks of 4, with tails */
        int64_t N = rnd(1, 2), G = rnd(1, 3), Cg = rnd(1, 3), Mg = rnd(1, 9);
        if (rnd(0, 3) == 0) { /* depthwise */
            G = rnd(2, 5);
            Cg = 1;
        }
        int64_t C = G * Cg, M = G * Mg;
        int mode = rnd(0, 2) == 0 ? (int)rnd(1, 3) : 0;
        /* 3-D axes for the naive loops; the last S are the real ones */
        int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
        int64_t pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0}, out[3] = {1, 1, 1};
        int ok = 1;
        for (int a = 3 - S; a < 3; a++) {
            in[a] = rnd(1, S == 3 ? 7 : 11);
            k[a] = rnd(1, 4);
            s[a] = rnd(1, 3);
            d[a] = rnd(1, 3);
            int64_t ek = (k[a] - 1) * d[a] + 1;
            if (mode == 0) {
                pb[a] = rnd(0, 3);
                pe[a] = rnd(0, 3);
            } else if (mode != 3) {
                /* ONNX's rule, written as its shape inference does */
                int64_t residual = in[a] % s[a];
                int64_t total = residual == 0 ? ek - s[a] : ek - residual;
                if (total < 0) total = 0;
                pb[a] = mode == 1 ? total / 2 : total - total / 2;
                pe[a] = total - pb[a];
            }
            if (in[a] + pb[a] + pe[a] < ek)
                ok = 0;
            else
                out[a] = (in[a] + pb[a] + pe[a] - ek) / s[a] + 1;
            if (mode == 1 || mode == 2) ck_assert_int_eq(out[a], (in[a] + s[a] - 1) / s[a]);
        }
        if (!ok) continue;
        cases++;
        int rank = S + 2;
        int64_t xd[5] = {N, C}, wd[5] = {M, Cg}, yd[5] = {N, M}, bdims[1] = {M};
        for (int a = 0; a < S; a++) {
            xd[2 + a] = in[3 - S + a];
            wd[2 + a] = k[3 - S + a];
            yd[2 + a] = out[3 - S + a];
        }
        onyx_tensor *x = tu_tensor_random(rank, xd, (unsigned)iter * 3 + 1, -1, 1);
        onyx_tensor *w = tu_tensor_random(rank, wd, (unsigned)iter * 3 + 2, -1, 1);
        int with_bias = rnd(0, 1) == 1;
        onyx_tensor *b =
            with_bias ? tu_tensor_random(1, bdims, (unsigned)iter * 3 + 3, -1, 1) : NULL;

        int64_t count = N * M * out[0] * out[1] * out[2];
        double *want = malloc((size_t)count * sizeof *want);
        float *wantf = malloc((size_t)count * sizeof *wantf);
        naive_conv3d(x->data, w->data, b ? b->data : NULL, want, N, C, M, G, in, k, out, s, d, pb);
        for (int64_t i = 0; i < count; i++)
            wantf[i] = (float)want[i];

        onyxi_node *n = conv_node(with_bias);
        int64_t sa[3], da[3], pa[6];
        for (int a = 0; a < S; a++) {
            sa[a] = s[3 - S + a];
            da[a] = d[3 - S + a];
            pa[a] = pb[3 - S + a];
            pa[S + a] = pe[3 - S + a];
        }
        tu_attr_ints(n, "strides", S, sa);
        tu_attr_ints(n, "dilations", S, da);
        if (rnd(0, 1)) tu_attr_ints(n, "kernel_shape", S, wd + 2);
        if (G > 1 || rnd(0, 1)) tu_attr_int(n, "group", G);
        if (mode == 0)
            tu_attr_ints(n, "pads", 2 * S, pa);
        else
            tu_attr_string(n, "auto_pad", modes[mode]);

        /* the reference kernel always, the oneDNN one where it takes the case */
        onyx_tensor *in3[3] = {x, w, b};
        for (int impl = 0; impl < 2; impl++) {
            onyx_tensor *y = NULL;
            onyxi_err err;
            onyx_status rc = tu_run_op(n, in3, &y, impl ? "dnnl" : "ref", &err);
            if (impl && rc == ONYX_UNSUPPORTED) continue;
            ck_assert_msg(rc == ONYX_OK, "case %d (%s): %s", iter, impl ? "dnnl" : "ref", err.msg);
            tu_assert_floats(y, rank, yd, wantf, atol, rtol);
            dnnl_cases += impl;
            tu_tensor_free(y);
        }
        tu_tensor_free(x);
        tu_tensor_free(w);
        tu_tensor_free(b);
        tu_node_free(n);
        free(want);
        free(wantf);
    }
    ck_assert_int_eq(cases, 300);
    /* oneDNN declines only what it would run in its own reference loop */
    ck_assert_int_ge(dnnl_cases, 200);
}
END_TEST

Suite *ops_conv_suite(void) {
    Suite *s = suite_create("ops_conv");
    TCase *tc = tcase_create("shapes");
    tcase_add_test(tc, test_conv_1d_pads_and_bias);
    tcase_add_test(tc, test_conv_2d_no_padding);
    tcase_add_test(tc, test_conv_2d_kernel_shape_and_pads);
    tcase_add_test(tc, test_conv_2d_strides);
    tcase_add_test(tc, test_conv_2d_asymmetric_pads);
    tcase_add_test(tc, test_conv_3d_box);
    tcase_add_test(tc, test_conv_3d_strides_end_pads);
    tcase_add_test(tc, test_conv_4d_spatial);
    tcase_add_test(tc, test_conv_two_output_channels_3d);
    tcase_add_test(tc, test_conv_empty_inputs_give_bias);
    tcase_add_test(tc, test_conv_absent_bias_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("groups");
    tcase_add_test(tc, test_conv_groups_with_bias);
    tcase_add_test(tc, test_conv_depthwise);
    tcase_add_test(tc, test_conv_depthwise_multiplier);
    suite_add_tcase(s, tc);

    tc = tcase_create("dilations");
    tcase_add_test(tc, test_conv_dilations);
    suite_add_tcase(s, tc);

    tc = tcase_create("auto_pad");
    tcase_add_test(tc, test_conv_autopad_notset_and_valid);
    tcase_add_test(tc, test_conv_autopad_same_upper);
    tcase_add_test(tc, test_conv_autopad_same_lower);
    tcase_add_test(tc, test_conv_autopad_same_2d_stride);
    tcase_add_test(tc, test_conv_opset1_same);
    tcase_add_test(tc, test_conv_zero_pads_with_auto_pad_are_tolerated);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, test_conv_kernel_shape_mismatch_is_shape_mismatch);
    tcase_add_test(tc, test_conv_channel_mismatch_is_shape_mismatch);
    tcase_add_test(tc, test_conv_bad_shapes_are_shape_mismatch);
    tcase_add_test(tc, test_conv_wrong_dtype_is_type_mismatch);
    tcase_add_test(tc, test_conv_bad_attribute_length_is_invalid_model);
    tcase_add_test(tc, test_conv_bad_attribute_values_are_invalid_model);
    suite_add_tcase(s, tc);

    tc = tcase_create("differential");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_conv_ref_and_dnnl_match_naive_random);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_conv_suite());
}
