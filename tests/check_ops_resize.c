/*
 * Check tests of the Resize op (ops/resize.c), opsets 10 to 19, through the op harness:
 * hand-computed cases per mode, coordinate mode and nearest mode; opset-18/19 features with
 * values from the ONNX Python reference formulas; invalid models; and the 22 ONNX 1.12
 * backend node tests test_resize_* with their data pasted in (tolerance as `onyx test`).
 * The oneDNN implementation against the reference on the cases ONEDNN.md lists as exact
 * (seeded random sizes), and its declines everywhere else.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* The conformance tolerance (|got - want| <= atol + rtol * |want|) and a tight one for
 * values computed here by hand. */
#define NODE_ATOL 1e-7
#define NODE_RTOL 1e-3
#define ATOL 1e-6
#define RTOL 1e-6

/* Runs node n (and frees it and the inputs); asserts success and the output values. */
static void expect_resize(onyxi_node *n, onyx_tensor **in, int rank, const int64_t *dims,
                          const float *want, double atol, double rtol) {
    onyx_tensor *out[1] = {NULL};
    onyxi_err err;
    onyx_status rc = tu_run_op(n, in, out, NULL, &err);
    ck_assert_msg(rc == ONYX_OK, "status %d: %s", (int)rc, err.msg);
    tu_assert_floats(out[0], rank, dims, want, atol, rtol);
    tu_tensor_free(out[0]);
    for (int k = 0; k < 4; k++)
        tu_tensor_free(in[k]);
    tu_node_free(n);
}

/* Runs node n expecting failure with code; the message must contain needle. Frees all. */
static void expect_fail(onyxi_node *n, onyx_tensor **in, onyx_status code, const char *needle) {
    onyx_tensor *out[1] = {NULL};
    onyxi_err err;
    onyx_status rc = tu_run_op(n, in, out, NULL, &err);
    ck_assert_msg(rc == code, "status %d, expected %d: %s", (int)rc, (int)code, err.msg);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
    ck_assert_ptr_null(out[0]);
    for (int k = 0; k < 4; k++)
        tu_tensor_free(in[k]);
    tu_node_free(n);
}

static onyx_tensor *f32(int rank, const int64_t *dims, const float *v) {
    return tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, v);
}

static onyx_tensor *f32_vec(int count, const float *v) {
    int64_t d[1] = {count};
    return tu_tensor(ONYX_DTYPE_FLOAT32, 1, d, v);
}

static onyx_tensor *i64_vec(int count, const int64_t *v) {
    int64_t d[1] = {count};
    return tu_tensor(ONYX_DTYPE_INT64, 1, d, v);
}

/* A Resize node of opset >= 11 with inputs X, roi, scales, sizes where roi/scales/sizes are
 * absent unless given (in[1..3] non-NULL). */
static onyxi_node *resize_node(int64_t opset, onyx_tensor **in) {
    onyxi_node *n = tu_node_new("Resize", opset, 4, 1);
    for (int k = 1; k < 4; k++)
        if (!in[k]) tu_node_absent_input(n, k);
    return n;
}

static const float X4[] = {1, 2, 4, 8}; /* the 1-D input of the per-mode cases */
static const int64_t D4[] = {4};

/* 1-D linear resize of X4 to `size` under coordinate mode ctm. */
static void check_linear_1d(const char *ctm, int64_t size, const float *want) {
    onyx_tensor *in[4] = {f32(1, D4, X4), NULL, NULL, i64_vec(1, &size)};
    onyxi_node *n = resize_node(13, in);
    tu_attr_string(n, "mode", "linear");
    tu_attr_string(n, "coordinate_transformation_mode", ctm);
    expect_resize(n, in, 1, &size, want, ATOL, RTOL);
}

/* 1-D nearest resize of X4 (values 1 2 4 8) to `size` under ctm and nearest_mode nm. */
static void check_nearest_1d(const char *ctm, const char *nm, int64_t size, const float *want) {
    onyx_tensor *in[4] = {f32(1, D4, X4), NULL, NULL, i64_vec(1, &size)};
    onyxi_node *n = resize_node(13, in);
    tu_attr_string(n, "coordinate_transformation_mode", ctm);
    tu_attr_string(n, "nearest_mode", nm);
    expect_resize(n, in, 1, &size, want, 0, 0);
}

/* lin_half_pixel_up: shape [6] */
static const float lin_half_pixel_up[] = {1.0f, 1.5f, 2.33333325f, 3.66666675f, 6.0f, 8.0f};
/* lin_half_pixel_down: shape [3] */
static const float lin_half_pixel_down[] = {1.16666663f, 3.0f, 7.33333349f};
/* lin_pytorch_half_pixel_up: shape [6] */
static const float lin_pytorch_half_pixel_up[] = {1.0f, 1.5f, 2.33333325f, 3.66666675f, 6.0f, 8.0f};
/* lin_pytorch_half_pixel_down: shape [3] */
static const float lin_pytorch_half_pixel_down[] = {1.16666663f, 3.0f, 7.33333349f};
/* lin_align_corners_up: shape [6] */
static const float lin_align_corners_up[] = {1.0f,       1.60000002f, 2.4000001f,
                                             3.5999999f, 5.5999999f,  8.0f};
/* lin_align_corners_down: shape [3] */
static const float lin_align_corners_down[] = {1.0f, 3.0f, 8.0f};
/* lin_asymmetric_up: shape [6] */
static const float lin_asymmetric_up[] = {1.0f, 1.66666663f, 2.66666675f, 4.0f, 6.66666651f, 8.0f};
/* lin_asymmetric_down: shape [3] */
static const float lin_asymmetric_down[] = {1.0f, 2.66666675f, 6.66666651f};
/* lin_tf_half_pixel_for_nn_up: shape [6] */
static const float lin_tf_half_pixel_for_nn_up[] = {1.33333337f, 2.0f, 3.33333325f,
                                                    5.33333349f, 8.0f, 8.0f};
/* lin_tf_half_pixel_for_nn_down: shape [3] */
static const float lin_tf_half_pixel_for_nn_down[] = {1.66666663f, 4.0f, 8.0f};
/* cubic_asym_a05: shape [6] */
static const float cubic_asym_a05[] = {1.0f, 1.55555558f, 2.51851845f,
                                       4.0f, 6.88888884f, 8.29629612f};
/* cubic_hp_excl: shape [6] */
static const float cubic_hp_excl[] = {0.89864862f, 1.28571427f, 2.30439806f,
                                      3.38310194f, 6.34285736f, 8.40540504f};
/* axes_nearest: shape [1, 1, 3, 3] */
static const float axes_nearest[] = {1.0f, 2.0f, 4.0f, 1.0f, 2.0f, 4.0f, 5.0f, 6.0f, 8.0f};
/* keep_not_larger: shape [1, 1, 2, 3] */
static const float keep_not_larger[] = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
/* keep_not_smaller: shape [1, 1, 3, 5] */
static const float keep_not_smaller[] = {1.0f, 1.5f, 2.16666675f, 2.83333325f, 3.0f,
                                         2.5f, 3.0f, 3.66666675f, 4.33333349f, 4.5f,
                                         4.0f, 4.5f, 5.16666651f, 5.83333349f, 6.0f};
/* aa_linear: shape [1, 1, 2, 2] */
static const float aa_linear[] = {2.875f, 4.5f, 9.375f, 11.0f};
/* aa_cubic: shape [1, 1, 3, 3] */
static const float aa_cubic[] = {1.91611481f, 3.2328918f,  4.54966879f, 7.18322277f, 8.5f,
                                 9.81677723f, 12.4503307f, 13.767108f,  15.0838852f};
/* aa_linear_1d: shape [2] */
static const float aa_linear_1d[] = {4.28000021f, 17.7199993f};
/* hps_up: shape [1, 1, 4, 5] */
static const float hps_up[] = {1.0f,        1.15986395f, 1.5f,        1.84013605f, 2.0f,
                               1.56521738f, 1.72508132f, 2.06521749f, 2.40535355f, 2.56521749f,
                               2.43478251f, 2.59464645f, 2.93478251f, 3.27491856f, 3.43478251f,
                               3.0f,        3.15986395f, 3.5f,        3.84013605f, 4.0f};
/* hps_down: shape [1, 1, 1, 2] */
static const float hps_down[] = {1.66666675f, 3.33333325f};
/* crop_axes: shape [1, 1, 3, 3] */
static const float crop_axes[] = {7.60000038f, 7.9000001f, 8.19999981f, 8.80000019f, 9.10000038f,
                                  9.40000057f, 10.0f,      10.3000002f, 10.6000004f};

/* ---- nearest ---- */

START_TEST(test_resize_nearest_modes) {
    /* asymmetric 4 -> 8: x_original = j / 2 = 0 .5 1 1.5 2 2.5 3 3.5 */
    static const float rpf[] = {1, 1, 2, 2, 4, 4, 8, 8};
    static const float rpc[] = {1, 2, 2, 4, 4, 8, 8, 8}; /* 3.5 rounds up to 4, clamped */
    check_nearest_1d("asymmetric", "round_prefer_floor", 8, rpf);
    check_nearest_1d("asymmetric", "round_prefer_ceil", 8, rpc);
    /* half_pixel 4 -> 8: x_original = -.25 .25 .75 1.25 1.75 2.25 2.75 3.25 */
    static const float fl[] = {1, 1, 1, 2, 2, 4, 4, 8};
    static const float ce[] = {1, 2, 2, 4, 4, 8, 8, 8};
    check_nearest_1d("half_pixel", "floor", 8, fl);
    check_nearest_1d("half_pixel", "ceil", 8, ce);
    /* align_corners 4 -> 3: x_original = 0 1.5 3, the tie decides */
    static const float ac_f[] = {1, 2, 8}, ac_c[] = {1, 4, 8};
    check_nearest_1d("align_corners", "round_prefer_floor", 3, ac_f);
    check_nearest_1d("align_corners", "round_prefer_ceil", 3, ac_c);
    /* tf_half_pixel_for_nn 4 -> 8: x_original = (j + .5) / 2 */
    static const float tf[] = {1, 2, 2, 4, 4, 8, 8, 8};
    check_nearest_1d("tf_half_pixel_for_nn", "round_prefer_floor", 8, tf);
}
END_TEST

START_TEST(test_resize_nearest_scales_equal_sizes) {
    /* scales 2x3 and sizes 4x6 give the same plan: (x + .5) / s - .5 rounded */
    static const float x[] = {1, 2, 3, 4};
    static const int64_t dx[] = {1, 1, 2, 2}, dy[] = {1, 1, 4, 6}, sizes[] = {1, 1, 4, 6};
    static const float scales[] = {1, 1, 2, 3};
    static const float want[] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
    onyx_tensor *a[4] = {f32(4, dx, x), NULL, f32_vec(4, scales), NULL};
    expect_resize(resize_node(13, a), a, 4, dy, want, 0, 0);
    onyx_tensor *b[4] = {f32(4, dx, x), NULL, NULL, i64_vec(4, sizes)};
    expect_resize(resize_node(13, b), b, 4, dy, want, 0, 0);
}
END_TEST

/* ---- linear and cubic, per coordinate mode ---- */

START_TEST(test_resize_linear_coordinate_modes) {
    /* e.g. half_pixel 4 -> 6: x_original = -1/6 .5 7/6 11/6 2.5 19/6 */
    check_linear_1d("half_pixel", 6, lin_half_pixel_up);
    check_linear_1d("half_pixel", 3, lin_half_pixel_down);
    check_linear_1d("pytorch_half_pixel", 6, lin_pytorch_half_pixel_up);
    check_linear_1d("pytorch_half_pixel", 3, lin_pytorch_half_pixel_down);
    check_linear_1d("align_corners", 6, lin_align_corners_up);
    check_linear_1d("align_corners", 3, lin_align_corners_down);
    check_linear_1d("asymmetric", 6, lin_asymmetric_up);
    check_linear_1d("asymmetric", 3, lin_asymmetric_down);
    check_linear_1d("tf_half_pixel_for_nn", 6, lin_tf_half_pixel_for_nn_up);
    check_linear_1d("tf_half_pixel_for_nn", 3, lin_tf_half_pixel_for_nn_down);
}
END_TEST

START_TEST(test_resize_cubic_coeff_a_and_exclude_outside) {
    int64_t six = 6;
    onyx_tensor *a[4] = {f32(1, D4, X4), NULL, NULL, i64_vec(1, &six)};
    onyxi_node *n = resize_node(13, a);
    tu_attr_string(n, "mode", "cubic");
    tu_attr_string(n, "coordinate_transformation_mode", "asymmetric");
    tu_attr_float(n, "cubic_coeff_a", -0.5f);
    expect_resize(n, a, 1, &six, cubic_asym_a05, ATOL, RTOL);

    onyx_tensor *b[4] = {f32(1, D4, X4), NULL, NULL, i64_vec(1, &six)};
    n = resize_node(13, b);
    tu_attr_string(n, "mode", "cubic");
    tu_attr_int(n, "exclude_outside", 1);
    expect_resize(n, b, 1, &six, cubic_hp_excl, ATOL, RTOL);
}
END_TEST

START_TEST(test_resize_pytorch_half_pixel_single_output) {
    /* length_resized 1 samples x_original = 0 (spec and ONNX Runtime), so cubic gives X[0] */
    int64_t one = 1;
    static const float want[] = {1};
    onyx_tensor *a[4] = {f32(1, D4, X4), NULL, NULL, i64_vec(1, &one)};
    onyxi_node *n = resize_node(13, a);
    tu_attr_string(n, "mode", "cubic");
    tu_attr_string(n, "coordinate_transformation_mode", "pytorch_half_pixel");
    expect_resize(n, a, 1, &one, want, ATOL, RTOL);
}
END_TEST

START_TEST(test_resize_trilinear_align_corners) {
    /* X = 1 + 4z + 2y + x is linear, so trilinear sampling at (z, y, x) / 2 is exact */
    static const float x[] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const int64_t dx[] = {1, 1, 2, 2, 2}, dy[] = {1, 1, 3, 3, 3}, sizes[] = {1, 1, 3, 3, 3};
    float want[27];
    for (int z = 0; z < 3; z++)
        for (int y = 0; y < 3; y++)
            for (int i = 0; i < 3; i++)
                want[z * 9 + y * 3 + i] = 1 + 2.0f * z + y + 0.5f * i;
    onyx_tensor *in[4] = {f32(5, dx, x), NULL, NULL, i64_vec(5, sizes)};
    onyxi_node *n = resize_node(13, in);
    tu_attr_string(n, "mode", "linear");
    tu_attr_string(n, "coordinate_transformation_mode", "align_corners");
    expect_resize(n, in, 5, dy, want, ATOL, RTOL);
}
END_TEST

START_TEST(test_resize_bilinear_29_to_57_matches_pytorch) {
    /* nn.Upsample(size=57, mode='bilinear', align_corners=False) exports half_pixel (ONNX 13
     * also pytorch_half_pixel); PyTorch: src = (dst + .5) * in / out - .5, clamped at 0. */
    static const int64_t dx[] = {1, 2, 29, 29}, dy[] = {1, 2, 57, 57}, sizes[] = {1, 2, 57, 57};
    const char *modes[] = {"half_pixel", "pytorch_half_pixel"};
    for (int m = 0; m < 2; m++) {
        onyx_tensor *X = tu_tensor_random(4, dx, 29, -3.0f, 3.0f);
        const float *xv = X->data;
        float *want = malloc(2 * 57 * 57 * sizeof(float));
        ck_assert_ptr_nonnull(want);
        for (int c = 0; c < 2; c++)
            for (int oy = 0; oy < 57; oy++)
                for (int ox = 0; ox < 57; ox++) {
                    double sy = fmax((oy + 0.5) * 29.0 / 57.0 - 0.5, 0.0);
                    double sx = fmax((ox + 0.5) * 29.0 / 57.0 - 0.5, 0.0);
                    int y0 = (int)sy, x0 = (int)sx;
                    int y1 = y0 < 28 ? y0 + 1 : 28, x1 = x0 < 28 ? x0 + 1 : 28;
                    double ly = sy - y0, lx = sx - x0;
                    const float *p = xv + c * 29 * 29;
                    want[(c * 57 + oy) * 57 + ox] =
                        (float)((1 - ly) * ((1 - lx) * p[y0 * 29 + x0] + lx * p[y0 * 29 + x1]) +
                                ly * ((1 - lx) * p[y1 * 29 + x0] + lx * p[y1 * 29 + x1]));
                }
        onyx_tensor *in[4] = {X, NULL, NULL, i64_vec(4, sizes)};
        onyxi_node *n = resize_node(13, in);
        tu_attr_string(n, "mode", "linear");
        tu_attr_string(n, "coordinate_transformation_mode", modes[m]);
        expect_resize(n, in, 4, dy, want, 1e-5, 1e-5);
        free(want);
    }
}
END_TEST

START_TEST(test_resize_identity_copies) {
    static const int64_t dx[] = {2, 3};
    static const float x[] = {1, -2, 3, NAN, 5, 6}, scales[] = {1, 1};
    onyx_tensor *in[4] = {f32(2, dx, x), NULL, f32_vec(2, scales), NULL};
    onyxi_node *n = resize_node(13, in);
    tu_attr_string(n, "mode", "cubic");
    expect_resize(n, in, 2, dx, x, 0, 0);
}
END_TEST

/* ---- tf_crop_and_resize ---- */

START_TEST(test_resize_crop_extrapolation_float64_roi) {
    /* roi [-.5, 1.5] of length 4: x_original = -1.5 0 1.5 3 4.5; outside -> -1 */
    int64_t five = 5, one = 1, two = 2;
    static const double roi[] = {-0.5, 1.5};
    static const float want[] = {-1, 1, 3, 8, -1};
    onyx_tensor *in[4] = {f32(1, D4, X4), tu_tensor(ONYX_DTYPE_FLOAT64, 1, &two, roi), NULL,
                          i64_vec(1, &five)};
    onyxi_node *n = resize_node(13, in);
    tu_attr_string(n, "mode", "linear");
    tu_attr_string(n, "coordinate_transformation_mode", "tf_crop_and_resize");
    tu_attr_float(n, "extrapolation_value", -1.0f);
    expect_resize(n, in, 1, &five, want, ATOL, RTOL);

    /* one output samples the roi centre: .5 * (0 + 1) * 3 = 1.5 */
    static const float roi01[] = {0, 1}, centre[] = {3};
    onyx_tensor *b[4] = {f32(1, D4, X4), f32_vec(2, roi01), NULL, i64_vec(1, &one)};
    n = resize_node(13, b);
    tu_attr_string(n, "mode", "linear");
    tu_attr_string(n, "coordinate_transformation_mode", "tf_crop_and_resize");
    expect_resize(n, b, 1, &one, centre, ATOL, RTOL);
}
END_TEST

START_TEST(test_resize_crop_axes_opset18) {
    /* ONNX's test_resize_tf_crop_and_resize_axes_3_2: roi given per `axes` entry */
    static const int64_t dx[] = {1, 1, 4, 4}, dy[] = {1, 1, 3, 3}, axes[] = {3, 2},
                         sizes[] = {3, 3};
    static const float roi[] = {0.6f, 0.4f, 0.8f, 0.6f};
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i + 1);
    onyx_tensor *in[4] = {f32(4, dx, x), f32_vec(4, roi), NULL, i64_vec(2, sizes)};
    onyxi_node *n = resize_node(18, in);
    tu_attr_string(n, "mode", "linear");
    tu_attr_string(n, "coordinate_transformation_mode", "tf_crop_and_resize");
    tu_attr_ints(n, "axes", 2, axes);
    expect_resize(n, in, 4, dy, crop_axes, ATOL, RTOL);
}
END_TEST

/* ---- opset 18/19 features ---- */

START_TEST(test_resize_axes_subset) {
    /* axes [3], scales [.5], half_pixel linear: x_original = .5 2.5 */
    static const int64_t dx[] = {1, 1, 2, 4}, dy[] = {1, 1, 2, 2}, ax[] = {3};
    static const float x[] = {1, 2, 3, 4, 5, 6, 7, 8}, half[] = {0.5f};
    static const float want[] = {1.5f, 3.5f, 5.5f, 7.5f};
    onyx_tensor *a[4] = {f32(4, dx, x), NULL, f32_vec(1, half), NULL};
    onyxi_node *n = resize_node(18, a);
    tu_attr_string(n, "mode", "linear");
    tu_attr_ints(n, "axes", 1, ax);
    expect_resize(n, a, 4, dy, want, ATOL, RTOL);

    /* negative axes, in the order (-1, 2): sizes 3 for W, 3 for H */
    static const int64_t ax2[] = {-1, 2}, sizes[] = {3, 3}, dy2[] = {1, 1, 3, 3};
    onyx_tensor *b[4] = {f32(4, dx, x), NULL, NULL, i64_vec(2, sizes)};
    n = resize_node(18, b);
    tu_attr_ints(n, "axes", 2, ax2);
    expect_resize(n, b, 4, dy2, axes_nearest, 0, 0);
}
END_TEST

START_TEST(test_resize_keep_aspect_ratio_policy) {
    /* 2x3 to sizes 3x3: not_larger scale min(1.5, 1) = 1 -> 2x3; not_smaller 1.5 -> 3x5 */
    static const int64_t dx[] = {1, 1, 2, 3}, ax[] = {2, 3}, sizes[] = {3, 3};
    static const int64_t d_nl[] = {1, 1, 2, 3}, d_ns[] = {1, 1, 3, 5};
    static const float x[] = {1, 2, 3, 4, 5, 6};
    onyx_tensor *a[4] = {f32(4, dx, x), NULL, NULL, i64_vec(2, sizes)};
    onyxi_node *n = resize_node(18, a);
    tu_attr_string(n, "mode", "linear");
    tu_attr_ints(n, "axes", 2, ax);
    tu_attr_string(n, "keep_aspect_ratio_policy", "not_larger");
    expect_resize(n, a, 4, d_nl, keep_not_larger, ATOL, RTOL);

    onyx_tensor *b[4] = {f32(4, dx, x), NULL, NULL, i64_vec(2, sizes)};
    n = resize_node(18, b);
    tu_attr_string(n, "mode", "linear");
    tu_attr_ints(n, "axes", 2, ax);
    tu_attr_string(n, "keep_aspect_ratio_policy", "not_smaller");
    expect_resize(n, b, 4, d_ns, keep_not_smaller, ATOL, RTOL);
}
END_TEST

START_TEST(test_resize_antialias) {
    static const int64_t dx[] = {1, 1, 4, 4}, dy2[] = {1, 1, 2, 2}, dy3[] = {1, 1, 3, 3};
    static const float scales[] = {1, 1, 0.6f, 0.6f};
    static const int64_t sizes[] = {1, 1, 3, 3};
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i + 1);
    /* ONNX's test_resize_downsample_scales_linear_antialias: 4-tap triangle of width 1/.6 */
    onyx_tensor *a[4] = {f32(4, dx, x), NULL, f32_vec(4, scales), NULL};
    onyxi_node *n = resize_node(18, a);
    tu_attr_string(n, "mode", "linear");
    tu_attr_int(n, "antialias", 1);
    expect_resize(n, a, 4, dy2, aa_linear, ATOL, RTOL);

    onyx_tensor *b[4] = {f32(4, dx, x), NULL, NULL, i64_vec(4, sizes)};
    n = resize_node(18, b);
    tu_attr_string(n, "mode", "cubic");
    tu_attr_float(n, "cubic_coeff_a", -0.5f);
    tu_attr_int(n, "antialias", 1);
    expect_resize(n, b, 4, dy3, aa_cubic, ATOL, RTOL);

    /* 1-D, 5 -> 2 of squares: scale .4, 6 taps, edge taps clamp */
    static const float sq[] = {1, 4, 9, 16, 25};
    int64_t five = 5, two = 2;
    onyx_tensor *c[4] = {f32(1, &five, sq), NULL, NULL, i64_vec(1, &two)};
    n = resize_node(19, c);
    tu_attr_string(n, "mode", "linear");
    tu_attr_int(n, "antialias", 1);
    expect_resize(n, c, 1, &two, aa_linear_1d, ATOL, RTOL);
}
END_TEST

START_TEST(test_resize_half_pixel_symmetric) {
    /* ONNX's test_resize_{up,down}sample_scales_linear_half_pixel_symmetric (opset 19) */
    static const int64_t dx[] = {1, 1, 2, 2}, dy[] = {1, 1, 4, 5};
    static const float x[] = {1, 2, 3, 4}, up[] = {1, 1, 2.3f, 2.94f};
    onyx_tensor *a[4] = {f32(4, dx, x), NULL, f32_vec(4, up), NULL};
    onyxi_node *n = resize_node(19, a);
    tu_attr_string(n, "mode", "linear");
    tu_attr_string(n, "coordinate_transformation_mode", "half_pixel_symmetric");
    expect_resize(n, a, 4, dy, hps_up, ATOL, RTOL);

    static const int64_t dx2[] = {1, 1, 1, 4}, dy2[] = {1, 1, 1, 2};
    static const float down[] = {1, 1, 1, 0.6f};
    onyx_tensor *b[4] = {f32(4, dx2, x), NULL, f32_vec(4, down), NULL};
    n = resize_node(19, b);
    tu_attr_string(n, "mode", "linear");
    tu_attr_string(n, "coordinate_transformation_mode", "half_pixel_symmetric");
    expect_resize(n, b, 4, dy2, hps_down, ATOL, RTOL);
}
END_TEST

/* ---- opset 10 ---- */

START_TEST(test_resize_opset10_nearest) {
    /* upsampling floors like Upsample; downsampling ceils (ONNX Runtime's Resize-10) */
    static const int64_t dx[] = {1, 1, 2, 2}, dy[] = {1, 1, 4, 6};
    static const float x[] = {1, 2, 3, 4}, up[] = {1, 1, 2, 3};
    static const float want[] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
    onyx_tensor *a[4] = {f32(4, dx, x), f32_vec(4, up), NULL, NULL};
    expect_resize(tu_node_new("Resize", 10, 2, 1), a, 4, dy, want, 0, 0);

    static const int64_t dx2[] = {1, 1, 2, 4}, dy2[] = {1, 1, 1, 2};
    static const float x2[] = {1, 2, 3, 4, 5, 6, 7, 8}, down[] = {1, 1, 0.6f, 0.6f};
    static const float want2[] = {1, 3}; /* x = 1 / .6 = 1.67 -> ceil 2 */
    onyx_tensor *b[4] = {f32(4, dx2, x2), f32_vec(4, down), NULL, NULL};
    expect_resize(tu_node_new("Resize", 10, 2, 1), b, 4, dy2, want2, 0, 0);
}
END_TEST

START_TEST(test_resize_opset10_linear_asymmetric) {
    /* x_original = j / 2 = 0 .5 1 1.5, clamped at the last pixel */
    static const int64_t dx[] = {1, 1, 2, 2}, dy[] = {1, 1, 4, 4};
    static const float x[] = {1, 2, 3, 4}, up[] = {1, 1, 2, 2};
    static const float want[] = {1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 3, 3.5f, 4, 4, 3, 3.5f, 4, 4};
    onyx_tensor *a[4] = {f32(4, dx, x), f32_vec(4, up), NULL, NULL};
    onyxi_node *n = tu_node_new("Resize", 10, 2, 1);
    tu_attr_string(n, "mode", "linear");
    expect_resize(n, a, 4, dy, want, ATOL, RTOL);
}
END_TEST

/* ---- shapes ---- */

START_TEST(test_resize_output_shape_float32_floor) {
    /* floor(float(10) * 0.7f) = 7 in float32 (ONNX shape inference, ONNX Runtime);
     * float64 would give 6.9999999 -> 6 */
    static const int64_t dx[] = {1, 1, 10, 5};
    static const float scales[] = {1, 1, 0.7f, 0.5f};
    onyx_tensor *in[4] = {f32(4, dx, NULL), NULL, f32_vec(4, scales), NULL};
    onyxi_node *n = resize_node(13, in);
    onyx_tensor *out[1] = {NULL};
    onyxi_err err;
    ck_assert_int_eq(tu_infer_op(n, in, out, &err), ONYX_OK);
    ck_assert_int_eq(out[0]->rank, 4);
    ck_assert_int_eq(out[0]->dims[2], 7);
    ck_assert_int_eq(out[0]->dims[3], 2);
    tu_tensor_free(out[0]);
    for (int k = 0; k < 4; k++)
        tu_tensor_free(in[k]);
    tu_node_free(n);
}
END_TEST

START_TEST(test_resize_empty_output) {
    static const int64_t dx[] = {1, 3}, sizes[] = {0, 3}, dy[] = {0, 3};
    onyx_tensor *in[4] = {f32(2, dx, NULL), NULL, NULL, i64_vec(2, sizes)};
    expect_resize(resize_node(13, in), in, 2, dy, NULL, 0, 0);
}
END_TEST

/* ---- invalid models and inputs ---- */

static onyxi_node *scaled_node(int64_t opset, onyx_tensor **in) {
    static const int64_t dx[] = {1, 1, 2, 2};
    static const float x[] = {1, 2, 3, 4}, scales[] = {1, 1, 2, 2};
    in[0] = f32(4, dx, x);
    in[1] = NULL;
    in[2] = f32_vec(4, scales);
    in[3] = NULL;
    return resize_node(opset, in);
}

START_TEST(test_resize_bad_attributes) {
    onyx_tensor *in[4];
    onyxi_node *n = scaled_node(13, in);
    tu_attr_string(n, "mode", "bilinear");
    expect_fail(n, in, ONYX_INVALID_MODEL, "'mode'");

    n = scaled_node(13, in);
    tu_attr_string(n, "coordinate_transformation_mode", "center");
    expect_fail(n, in, ONYX_INVALID_MODEL, "coordinate_transformation_mode");

    n = scaled_node(18, in);
    tu_attr_string(n, "coordinate_transformation_mode", "half_pixel_symmetric");
    expect_fail(n, in, ONYX_INVALID_MODEL, "Resize-19");

    n = scaled_node(13, in);
    tu_attr_string(n, "nearest_mode", "round");
    expect_fail(n, in, ONYX_INVALID_MODEL, "nearest_mode");

    n = scaled_node(13, in);
    tu_attr_int(n, "antialias", 1);
    expect_fail(n, in, ONYX_INVALID_MODEL, "Resize-18");

    n = scaled_node(18, in);
    tu_attr_int(n, "antialias", 2);
    expect_fail(n, in, ONYX_INVALID_MODEL, "antialias");

    n = scaled_node(13, in);
    tu_attr_int(n, "exclude_outside", -1);
    expect_fail(n, in, ONYX_INVALID_MODEL, "exclude_outside");

    n = scaled_node(18, in);
    tu_attr_string(n, "keep_aspect_ratio_policy", "fit");
    expect_fail(n, in, ONYX_INVALID_MODEL, "keep_aspect_ratio_policy");

    n = scaled_node(13, in);
    tu_attr_float(n, "cubic_coeff_a", NAN);
    expect_fail(n, in, ONYX_INVALID_MODEL, "cubic_coeff_a");

    n = scaled_node(13, in);
    tu_attr_int(n, "mode", 1); /* wrong attribute type: the generic check */
    expect_fail(n, in, ONYX_INVALID_MODEL, "'mode'");

    /* Resize-10 knows only `mode`, and no cubic */
    static const int64_t dx[] = {1, 1, 2, 2};
    static const float scales[] = {1, 1, 2, 2};
    onyx_tensor *a[4] = {f32(4, dx, NULL), f32_vec(4, scales), NULL, NULL};
    n = tu_node_new("Resize", 10, 2, 1);
    tu_attr_string(n, "mode", "cubic");
    expect_fail(n, a, ONYX_INVALID_MODEL, "'mode'");
    onyx_tensor *b[4] = {f32(4, dx, NULL), f32_vec(4, scales), NULL, NULL};
    n = tu_node_new("Resize", 10, 2, 1);
    tu_attr_string(n, "coordinate_transformation_mode", "asymmetric");
    expect_fail(n, b, ONYX_INVALID_MODEL, "Resize-11");
}
END_TEST

START_TEST(test_resize_bad_axes) {
    static const int64_t dup[] = {2, -2}, far[] = {4}, sizes[] = {3, 3};
    onyx_tensor *in[4];
    onyxi_node *n = scaled_node(18, in);
    tu_attr_ints(n, "axes", 2, dup);
    expect_fail(n, in, ONYX_INVALID_MODEL, "axes");

    n = scaled_node(18, in);
    tu_attr_ints(n, "axes", 1, far);
    expect_fail(n, in, ONYX_INVALID_MODEL, "axes");

    /* scales has 4 values, axes names 1 */
    static const int64_t one[] = {3};
    n = scaled_node(18, in);
    tu_attr_ints(n, "axes", 1, one);
    expect_fail(n, in, ONYX_SHAPE_MISMATCH, "length of 'axes'");

    /* axes at opset 13 */
    static const int64_t dx[] = {1, 1, 2, 2}, ax[] = {2, 3};
    onyx_tensor *b[4] = {f32(4, dx, NULL), NULL, NULL, i64_vec(2, sizes)};
    n = resize_node(13, b);
    tu_attr_ints(n, "axes", 2, ax);
    expect_fail(n, b, ONYX_INVALID_MODEL, "Resize-18");
}
END_TEST

START_TEST(test_resize_bad_scales_and_sizes) {
    static const int64_t dx[] = {1, 1, 2, 2}, sizes[] = {1, 1, 4, 4}, neg[] = {1, 1, -1, 4};
    static const float three[] = {1, 2, 2}, zero[] = {1, 1, 0, 2}, ok[] = {1, 1, 2, 2};
    onyx_tensor *a[4] = {f32(4, dx, NULL), NULL, f32_vec(3, three), NULL};
    expect_fail(resize_node(13, a), a, ONYX_SHAPE_MISMATCH, "rank of 'X'");

    onyx_tensor *b[4] = {f32(4, dx, NULL), NULL, f32_vec(4, zero), NULL};
    expect_fail(resize_node(13, b), b, ONYX_INVALID_MODEL, "'scales'");

    onyx_tensor *c[4] = {f32(4, dx, NULL), NULL, NULL, i64_vec(4, neg)};
    expect_fail(resize_node(13, c), c, ONYX_INVALID_MODEL, "'sizes'");

    onyx_tensor *d[4] = {f32(4, dx, NULL), NULL, f32_vec(4, ok), i64_vec(4, sizes)};
    expect_fail(resize_node(13, d), d, ONYX_INVALID_MODEL, "both");

    onyx_tensor *e[4] = {f32(4, dx, NULL), NULL, NULL, NULL};
    expect_fail(resize_node(13, e), e, ONYX_INVALID_MODEL, "neither");

    /* an empty scales tensor is absent, so this has neither */
    int64_t z = 0;
    onyx_tensor *f[4] = {f32(4, dx, NULL), NULL, tu_tensor(ONYX_DTYPE_FLOAT32, 1, &z, NULL), NULL};
    expect_fail(resize_node(11, f), f, ONYX_INVALID_MODEL, "neither");
}
END_TEST

START_TEST(test_resize_bad_dtypes) {
    static const int64_t dx[] = {1, 1, 2, 2}, sizes[] = {1, 1, 4, 4};
    static const float ok[] = {1, 1, 2, 2};
    onyx_tensor *a[4] = {tu_tensor(ONYX_DTYPE_INT64, 4, dx, NULL), NULL, f32_vec(4, ok), NULL};
    expect_fail(resize_node(13, a), a, ONYX_TYPE_MISMATCH, "'X'");

    int64_t four = 4;
    onyx_tensor *b[4] = {f32(4, dx, NULL), NULL, tu_tensor(ONYX_DTYPE_INT64, 1, &four, sizes),
                         NULL};
    expect_fail(resize_node(13, b), b, ONYX_TYPE_MISMATCH, "'scales'");

    onyx_tensor *c[4] = {f32(4, dx, NULL), NULL, NULL, tu_tensor(ONYX_DTYPE_FLOAT32, 1, &four, ok)};
    expect_fail(resize_node(13, c), c, ONYX_TYPE_MISMATCH, "'sizes'");

    /* roi of the wrong length in tf_crop_and_resize */
    static const float roi[] = {0, 0, 1};
    onyx_tensor *d[4] = {f32(4, dx, NULL), f32_vec(3, roi), NULL, i64_vec(4, sizes)};
    onyxi_node *n = resize_node(13, d);
    tu_attr_string(n, "coordinate_transformation_mode", "tf_crop_and_resize");
    expect_fail(n, d, ONYX_SHAPE_MISMATCH, "'roi'");
}
END_TEST

START_TEST(test_resize_runtime_sizes_unsupported) {
    /* sizes computed at run time (no data at planning) cannot give an output shape */
    static const int64_t dx[] = {1, 1, 2, 2}, sizes[] = {1, 1, 4, 4};
    onyx_tensor *in[4] = {f32(4, dx, NULL), NULL, NULL, i64_vec(4, sizes)};
    free(in[3]->data);
    in[3]->data = NULL;
    expect_fail(resize_node(13, in), in, ONYX_UNSUPPORTED, "run-time data of input 'sizes'");
}
END_TEST

/* ---- ONNX backend node tests (ONNX 1.12, test_data_set_0), data pasted ---- */

/* One node test as its model.onnx has it. X is always 1, 2, 3, ... in row-major order. The
 * node has the inputs X, roi, scales (and sizes when given); absent ones are marked absent,
 * except that the opset-11 model passes roi and scales as empty tensors. */
typedef struct node_case {
    int64_t opset;                         /* 0: 13 */
    const char *ctm, *mode, *nearest_mode; /* attributes; NULL: not set */
    float cubic_coeff_a;                   /* 0: not set (no node test uses a = 0) */
    int64_t exclude_outside;               /* 0: not set */
    float extrapolation_value;             /* 0: not set */
    int64_t xdims[4];
    const float *roi;     /* 8 values; NULL: absent */
    float scales[4];      /* all 0: absent */
    int64_t sizes[4];     /* all 0: no sizes input (the node has 3 inputs) */
    int empty_roi_scales; /* roi and scales are empty tensors instead */
    int64_t ydims[4];
    const float *want;
} node_case;

static void run_node_case(const node_case *c) {
    static const float x[] = {1.0f, 2.0f,  3.0f,  4.0f,  5.0f,  6.0f,  7.0f,  8.0f,
                              9.0f, 10.0f, 11.0f, 12.0f, 13.0f, 14.0f, 15.0f, 16.0f};
    static const int64_t d_empty[] = {0}, d_roi[] = {8}, d4[] = {4};
    int has_sizes = c->sizes[0] != 0;
    onyxi_node *n = tu_node_new("Resize", c->opset ? c->opset : 13, has_sizes ? 4 : 3, 1);
    if (c->ctm) tu_attr_string(n, "coordinate_transformation_mode", c->ctm);
    if (c->cubic_coeff_a != 0) tu_attr_float(n, "cubic_coeff_a", c->cubic_coeff_a);
    if (c->exclude_outside) tu_attr_int(n, "exclude_outside", c->exclude_outside);
    if (c->extrapolation_value != 0)
        tu_attr_float(n, "extrapolation_value", c->extrapolation_value);
    tu_attr_string(n, "mode", c->mode);
    if (c->nearest_mode) tu_attr_string(n, "nearest_mode", c->nearest_mode);
    ck_assert_int_le(onyxi_shape_count(4, c->xdims), (int64_t)(sizeof x / sizeof x[0]));
    onyx_tensor *in[4] = {tu_tensor(ONYX_DTYPE_FLOAT32, 4, c->xdims, x), NULL, NULL, NULL};
    if (c->empty_roi_scales) {
        in[1] = tu_tensor(ONYX_DTYPE_FLOAT32, 1, d_empty, NULL);
        in[2] = tu_tensor(ONYX_DTYPE_FLOAT32, 1, d_empty, NULL);
    }
    if (c->roi) in[1] = tu_tensor(ONYX_DTYPE_FLOAT32, 1, d_roi, c->roi);
    if (c->scales[0] != 0) in[2] = tu_tensor(ONYX_DTYPE_FLOAT32, 1, d4, c->scales);
    if (has_sizes) in[3] = tu_tensor(ONYX_DTYPE_INT64, 1, d4, c->sizes);
    for (int k = 1; k < n->n_inputs; k++)
        if (!in[k]) tu_node_absent_input(n, k);
    expect_resize(n, in, 4, c->ydims, c->want, NODE_ATOL, NODE_RTOL);
}

START_TEST(test_resize_node_downsample_scales_cubic) {
    /* test_resize_downsample_scales_cubic (opset 13) */
    static const float want[] = {1.47119141f, 2.78125f,    4.08251953f, 6.71142578f, 8.02148438f,
                                 9.32275391f, 11.9165039f, 13.2265625f, 14.527832f};
    const node_case c = {.mode = "cubic",
                         .xdims = {1, 1, 4, 4},
                         .scales = {1.0f, 1.0f, 0.800000012f, 0.800000012f},
                         .ydims = {1, 1, 3, 3},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_downsample_scales_cubic_A_n0p5_exclude_outside) {
    /* test_resize_downsample_scales_cubic_A_n0p5_exclude_outside (opset 13) */
    static const float want[] = {1.36812675f, 2.6695013f, 4.01333666f, 6.57362509f, 7.875f,
                                 9.21883488f, 11.948966f, 13.2503414f, 14.5941763f};
    const node_case c = {.cubic_coeff_a = -0.5f,
                         .exclude_outside = 1,
                         .mode = "cubic",
                         .xdims = {1, 1, 4, 4},
                         .scales = {1.0f, 1.0f, 0.800000012f, 0.800000012f},
                         .ydims = {1, 1, 3, 3},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_downsample_scales_cubic_align_corners) {
    /* test_resize_downsample_scales_cubic_align_corners (opset 13) */
    static const float want[] = {1.0f,        2.39519167f, 3.7903831f,  6.5807662f, 7.97595787f,
                                 9.37114906f, 12.1615324f, 13.5567236f, 14.9519157f};
    const node_case c = {.ctm = "align_corners",
                         .mode = "cubic",
                         .xdims = {1, 1, 4, 4},
                         .scales = {1.0f, 1.0f, 0.800000012f, 0.800000012f},
                         .ydims = {1, 1, 3, 3},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_downsample_scales_linear) {
    /* test_resize_downsample_scales_linear (opset 13) */
    static const float want[] = {2.66666651f, 4.33333302f};
    const node_case c = {.mode = "linear",
                         .xdims = {1, 1, 2, 4},
                         .scales = {1.0f, 1.0f, 0.600000024f, 0.600000024f},
                         .ydims = {1, 1, 1, 2},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_downsample_scales_linear_align_corners) {
    /* test_resize_downsample_scales_linear_align_corners (opset 13) */
    static const float want[] = {1.0f, 3.14285707f};
    const node_case c = {.ctm = "align_corners",
                         .mode = "linear",
                         .xdims = {1, 1, 2, 4},
                         .scales = {1.0f, 1.0f, 0.600000024f, 0.600000024f},
                         .ydims = {1, 1, 1, 2},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_downsample_scales_nearest) {
    /* test_resize_downsample_scales_nearest (opset 13) */
    static const float want[] = {1.0f, 3.0f};
    const node_case c = {.mode = "nearest",
                         .xdims = {1, 1, 2, 4},
                         .scales = {1.0f, 1.0f, 0.600000024f, 0.600000024f},
                         .ydims = {1, 1, 1, 2},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_downsample_sizes_cubic) {
    /* test_resize_downsample_sizes_cubic (opset 13) */
    static const float want[] = {1.63078701f, 3.00462961f, 4.37847233f, 7.12615728f, 8.5f,
                                 9.87384224f, 12.6215277f, 13.9953699f, 15.3692131f};
    const node_case c = {.mode = "cubic",
                         .xdims = {1, 1, 4, 4},
                         .sizes = {1, 1, 3, 3},
                         .ydims = {1, 1, 3, 3},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_downsample_sizes_linear_pytorch_half_pixel) {
    /* test_resize_downsample_sizes_linear_pytorch_half_pixel (opset 13) */
    static const float want[] = {1.66666663f, 7.0f, 12.333333f};
    const node_case c = {.ctm = "pytorch_half_pixel",
                         .mode = "linear",
                         .xdims = {1, 1, 4, 4},
                         .sizes = {1, 1, 3, 1},
                         .ydims = {1, 1, 3, 1},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_downsample_sizes_nearest) {
    /* test_resize_downsample_sizes_nearest (opset 13) */
    static const float want[] = {1.0f, 2.0f, 4.0f};
    const node_case c = {.mode = "nearest",
                         .xdims = {1, 1, 2, 4},
                         .sizes = {1, 1, 1, 3},
                         .ydims = {1, 1, 1, 3},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_downsample_sizes_nearest_tf_half_pixel_for_nn) {
    /* test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn (opset 11) */
    static const float want[] = {6.0f, 8.0f, 10.0f, 12.0f, 14.0f, 16.0f};
    const node_case c = {.opset = 11,
                         .ctm = "tf_half_pixel_for_nn",
                         .mode = "nearest",
                         .xdims = {1, 1, 4, 4},
                         .empty_roi_scales = 1,
                         .sizes = {1, 1, 3, 2},
                         .ydims = {1, 1, 3, 2},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_tf_crop_and_resize) {
    /* test_resize_tf_crop_and_resize (opset 13) */
    static const float roi[] = {0.0f, 0.0f, 0.400000006f, 0.600000024f,
                                1.0f, 1.0f, 1.20000005f,  1.70000005f};
    static const float want[] = {7.60000038f, 10.0f, 10.0f, 12.4000006f, 10.0f,
                                 10.0f,       10.0f, 10.0f, 10.0f};
    const node_case c = {.ctm = "tf_crop_and_resize",
                         .extrapolation_value = 10.0f,
                         .mode = "linear",
                         .xdims = {1, 1, 4, 4},
                         .roi = roi,
                         .sizes = {1, 1, 3, 3},
                         .ydims = {1, 1, 3, 3},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_upsample_scales_cubic) {
    /* test_resize_upsample_scales_cubic (opset 13) */
    static const float want[] = {
        0.47265625f, 0.76953125f, 1.24609375f, 1.875f,      2.28125f,    2.91015625f, 3.38671875f,
        3.68359375f, 1.66015625f, 1.95703125f, 2.43359375f, 3.0625f,     3.46875f,    4.09765625f,
        4.57421875f, 4.87109375f, 3.56640625f, 3.86328125f, 4.33984375f, 4.96875f,    5.375f,
        6.00390625f, 6.48046875f, 6.77734375f, 6.08203125f, 6.37890625f, 6.85546875f, 7.484375f,
        7.890625f,   8.51953125f, 8.99609375f, 9.29296875f, 7.70703125f, 8.00390625f, 8.48046875f,
        9.109375f,   9.515625f,   10.1445312f, 10.6210938f, 10.9179688f, 10.2226562f, 10.5195312f,
        10.9960938f, 11.625f,     12.03125f,   12.6601562f, 13.1367188f, 13.4335938f, 12.1289062f,
        12.4257812f, 12.9023438f, 13.53125f,   13.9375f,    14.5664062f, 15.0429688f, 15.3398438f,
        13.3164062f, 13.6132812f, 14.0898438f, 14.71875f,   15.125f,     15.7539062f, 16.2304688f,
        16.5273438f};
    const node_case c = {.mode = "cubic",
                         .xdims = {1, 1, 4, 4},
                         .scales = {1.0f, 1.0f, 2.0f, 2.0f},
                         .ydims = {1, 1, 8, 8},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_upsample_scales_cubic_A_n0p5_exclude_outside) {
    /* test_resize_upsample_scales_cubic_A_n0p5_exclude_outside (opset 13) */
    static const float want[] = {
        0.558823526f, 0.814942062f, 1.35698247f, 1.89705884f, 2.39705873f, 2.93713522f, 3.47917557f,
        3.7352941f,   1.58329761f,  1.83941603f, 2.38145661f, 2.92153287f, 3.42153287f, 3.96160913f,
        4.50364971f,  4.75976801f,  3.75145936f, 4.0075779f,  4.54961824f, 5.0896945f,  5.5896945f,
        6.12977076f,  6.67181158f,  6.92792988f, 5.91176462f, 6.1678834f,  6.70992374f, 7.25f,
        7.75f,        8.29007626f,  8.83211708f, 9.0882349f,  7.91176462f, 8.16788292f, 8.70992374f,
        9.25f,        9.75f,        10.2900763f, 10.8321171f, 11.0882349f, 10.0720701f, 10.3281889f,
        10.8702288f,  11.410305f,   11.910305f,  12.4503813f, 12.9924221f, 13.2485409f, 12.2402315f,
        12.4963503f,  13.0383911f,  13.5784674f, 14.0784674f, 14.6185436f, 15.1605835f, 15.4167023f,
        13.2647057f,  13.5208244f,  14.0628653f, 14.6029415f, 15.1029415f, 15.6430178f, 16.1850586f,
        16.4411774f};
    const node_case c = {.cubic_coeff_a = -0.5f,
                         .exclude_outside = 1,
                         .mode = "cubic",
                         .xdims = {1, 1, 4, 4},
                         .scales = {1.0f, 1.0f, 2.0f, 2.0f},
                         .ydims = {1, 1, 8, 8},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_upsample_scales_cubic_align_corners) {
    /* test_resize_upsample_scales_cubic_align_corners (opset 13) */
    static const float want[] = {
        1.0f,        1.34110785f, 1.80029154f, 2.32944608f, 2.67055392f, 3.19970846f, 3.65889215f,
        4.0f,        2.36443138f, 2.70553946f, 3.16472292f, 3.69387746f, 4.03498554f, 4.56413984f,
        5.02332354f, 5.36443138f, 4.20116615f, 4.542274f,   5.00145769f, 5.53061247f, 5.87172031f,
        6.40087461f, 6.86005831f, 7.20116615f, 6.31778431f, 6.65889215f, 7.11807585f, 7.64723015f,
        7.98833799f, 8.51749229f, 8.97667599f, 9.31778431f, 7.68221569f, 8.02332401f, 8.48250771f,
        9.01166153f, 9.35276985f, 9.88192463f, 10.3411083f, 10.6822157f, 9.79883385f, 10.1399412f,
        10.5991249f, 11.1282797f, 11.469388f,  11.9985418f, 12.4577255f, 12.7988338f, 11.6355686f,
        11.976676f,  12.4358597f, 12.9650145f, 13.3061228f, 13.8352766f, 14.2944603f, 14.6355686f,
        13.0f,       13.3411083f, 13.800292f,  14.3294458f, 14.6705542f, 15.199708f,  15.6588917f,
        16.0f};
    const node_case c = {.ctm = "align_corners",
                         .mode = "cubic",
                         .xdims = {1, 1, 4, 4},
                         .scales = {1.0f, 1.0f, 2.0f, 2.0f},
                         .ydims = {1, 1, 8, 8},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_upsample_scales_cubic_asymmetric) {
    /* test_resize_upsample_scales_cubic_asymmetric (opset 13) */
    static const float want[] = {
        1.0f,    1.40625f,  2.0f,    2.5f,    3.0f,    3.59375f,  4.0f,    4.09375f,
        2.625f,  3.03125f,  3.625f,  4.125f,  4.625f,  5.21875f,  5.625f,  5.71875f,
        5.0f,    5.40625f,  6.0f,    6.5f,    7.0f,    7.59375f,  8.0f,    8.09375f,
        7.0f,    7.40625f,  8.0f,    8.5f,    9.0f,    9.59375f,  10.0f,   10.09375f,
        9.0f,    9.40625f,  10.0f,   10.5f,   11.0f,   11.59375f, 12.0f,   12.09375f,
        11.375f, 11.78125f, 12.375f, 12.875f, 13.375f, 13.96875f, 14.375f, 14.46875f,
        13.0f,   13.40625f, 14.0f,   14.5f,   15.0f,   15.59375f, 16.0f,   16.09375f,
        13.375f, 13.78125f, 14.375f, 14.875f, 15.375f, 15.96875f, 16.375f, 16.46875f};
    const node_case c = {.ctm = "asymmetric",
                         .mode = "cubic",
                         .xdims = {1, 1, 4, 4},
                         .scales = {1.0f, 1.0f, 2.0f, 2.0f},
                         .ydims = {1, 1, 8, 8},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_upsample_scales_linear) {
    /* test_resize_upsample_scales_linear (opset 13) */
    static const float want[] = {1.0f, 1.25f, 1.75f, 2.0f, 1.5f, 1.75f, 2.25f, 2.5f,
                                 2.5f, 2.75f, 3.25f, 3.5f, 3.0f, 3.25f, 3.75f, 4.0f};
    const node_case c = {.mode = "linear",
                         .xdims = {1, 1, 2, 2},
                         .scales = {1.0f, 1.0f, 2.0f, 2.0f},
                         .ydims = {1, 1, 4, 4},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_upsample_scales_linear_align_corners) {
    /* test_resize_upsample_scales_linear_align_corners (opset 13) */
    static const float want[] = {1.0f,        1.33333337f, 1.66666663f, 2.0f,
                                 1.66666663f, 2.0f,        2.33333325f, 2.66666675f,
                                 2.33333325f, 2.66666675f, 3.0f,        3.33333325f,
                                 3.0f,        3.33333325f, 3.66666675f, 4.0f};
    const node_case c = {.ctm = "align_corners",
                         .mode = "linear",
                         .xdims = {1, 1, 2, 2},
                         .scales = {1.0f, 1.0f, 2.0f, 2.0f},
                         .ydims = {1, 1, 4, 4},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_upsample_scales_nearest) {
    /* test_resize_upsample_scales_nearest (opset 13) */
    static const float want[] = {1.0f, 1.0f, 1.0f, 2.0f, 2.0f, 2.0f, 1.0f, 1.0f,
                                 1.0f, 2.0f, 2.0f, 2.0f, 3.0f, 3.0f, 3.0f, 4.0f,
                                 4.0f, 4.0f, 3.0f, 3.0f, 3.0f, 4.0f, 4.0f, 4.0f};
    const node_case c = {.mode = "nearest",
                         .xdims = {1, 1, 2, 2},
                         .scales = {1.0f, 1.0f, 2.0f, 3.0f},
                         .ydims = {1, 1, 4, 6},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_upsample_sizes_cubic) {
    /* test_resize_upsample_sizes_cubic (opset 13) */
    static const float want[] = {
        0.455079228f, 0.640579224f, 0.971579194f, 1.42257917f, 1.9073292f,  2.22332931f,
        2.7080791f,   3.15907931f,  3.49007916f,  3.67557931f, 1.39437962f, 1.57987964f,
        1.91087961f,  2.36187959f,  2.84662962f,  3.1626296f,  3.64737964f, 4.09837961f,
        4.42937946f,  4.61487961f,  2.95130682f,  3.13680696f, 3.46780682f, 3.91880703f,
        4.40355682f,  4.71955681f,  5.20430708f,  5.65530682f, 5.98630714f, 6.17180681f,
        5.20525074f,  5.39075089f,  5.72175074f,  6.17275047f, 6.65750074f, 6.97350073f,
        7.45825052f,  7.90925074f,  8.24025059f,  8.42575073f, 6.88975f,    7.07525015f,
        7.40625f,     7.85725021f,  8.34200001f,  8.65799999f, 9.14274979f, 9.59375f,
        9.92475033f,  10.1102505f,  8.57424927f,  8.75974941f, 9.09074974f, 9.541749f,
        10.0264997f,  10.3424997f,  10.8272495f,  11.2782497f, 11.6092491f, 11.7947493f,
        10.8281927f,  11.0136929f,  11.3446932f,  11.7956934f, 12.2804432f, 12.5964432f,
        13.081193f,   13.5321932f,  13.8631935f,  14.0486927f, 12.3851204f, 12.5706205f,
        12.9016199f,  13.3526201f,  13.8373699f,  14.1533699f, 14.6381207f, 15.0891199f,
        15.4201202f,  15.6056204f,  13.3244209f,  13.5099211f, 13.8409204f, 14.2919207f,
        14.7766705f,  15.0926704f,  15.5774212f,  16.0284214f, 16.3594208f, 16.54492f};
    const node_case c = {.mode = "cubic",
                         .xdims = {1, 1, 4, 4},
                         .sizes = {1, 1, 9, 10},
                         .ydims = {1, 1, 9, 10},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_upsample_sizes_nearest) {
    /* test_resize_upsample_sizes_nearest (opset 13) */
    static const float want[] = {
        1.0f, 1.0f, 1.0f, 1.0f, 2.0f, 2.0f, 2.0f, 2.0f, 1.0f, 1.0f, 1.0f, 1.0f, 2.0f, 2.0f,
        2.0f, 2.0f, 1.0f, 1.0f, 1.0f, 1.0f, 2.0f, 2.0f, 2.0f, 2.0f, 1.0f, 1.0f, 1.0f, 1.0f,
        2.0f, 2.0f, 2.0f, 2.0f, 3.0f, 3.0f, 3.0f, 3.0f, 4.0f, 4.0f, 4.0f, 4.0f, 3.0f, 3.0f,
        3.0f, 3.0f, 4.0f, 4.0f, 4.0f, 4.0f, 3.0f, 3.0f, 3.0f, 3.0f, 4.0f, 4.0f, 4.0f, 4.0f};
    const node_case c = {.mode = "nearest",
                         .xdims = {1, 1, 2, 2},
                         .sizes = {1, 1, 7, 8},
                         .ydims = {1, 1, 7, 8},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_upsample_sizes_nearest_ceil_half_pixel) {
    /* test_resize_upsample_sizes_nearest_ceil_half_pixel (opset 13) */
    static const float want[] = {
        1.0f,  2.0f,  2.0f,  3.0f,  3.0f,  4.0f,  4.0f,  4.0f,  5.0f,  6.0f,  6.0f,  7.0f,  7.0f,
        8.0f,  8.0f,  8.0f,  5.0f,  6.0f,  6.0f,  7.0f,  7.0f,  8.0f,  8.0f,  8.0f,  9.0f,  10.0f,
        10.0f, 11.0f, 11.0f, 12.0f, 12.0f, 12.0f, 9.0f,  10.0f, 10.0f, 11.0f, 11.0f, 12.0f, 12.0f,
        12.0f, 13.0f, 14.0f, 14.0f, 15.0f, 15.0f, 16.0f, 16.0f, 16.0f, 13.0f, 14.0f, 14.0f, 15.0f,
        15.0f, 16.0f, 16.0f, 16.0f, 13.0f, 14.0f, 14.0f, 15.0f, 15.0f, 16.0f, 16.0f, 16.0f};
    const node_case c = {.ctm = "half_pixel",
                         .mode = "nearest",
                         .nearest_mode = "ceil",
                         .xdims = {1, 1, 4, 4},
                         .sizes = {1, 1, 8, 8},
                         .ydims = {1, 1, 8, 8},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_upsample_sizes_nearest_floor_align_corners) {
    /* test_resize_upsample_sizes_nearest_floor_align_corners (opset 13) */
    static const float want[] = {
        1.0f,  1.0f,  1.0f,  2.0f,  2.0f,  3.0f,  3.0f,  4.0f,  1.0f,  1.0f,  1.0f,  2.0f, 2.0f,
        3.0f,  3.0f,  4.0f,  1.0f,  1.0f,  1.0f,  2.0f,  2.0f,  3.0f,  3.0f,  4.0f,  5.0f, 5.0f,
        5.0f,  6.0f,  6.0f,  7.0f,  7.0f,  8.0f,  5.0f,  5.0f,  5.0f,  6.0f,  6.0f,  7.0f, 7.0f,
        8.0f,  9.0f,  9.0f,  9.0f,  10.0f, 10.0f, 11.0f, 11.0f, 12.0f, 9.0f,  9.0f,  9.0f, 10.0f,
        10.0f, 11.0f, 11.0f, 12.0f, 13.0f, 13.0f, 13.0f, 14.0f, 14.0f, 15.0f, 15.0f, 16.0f};
    const node_case c = {.ctm = "align_corners",
                         .mode = "nearest",
                         .nearest_mode = "floor",
                         .xdims = {1, 1, 4, 4},
                         .sizes = {1, 1, 8, 8},
                         .ydims = {1, 1, 8, 8},
                         .want = want};
    run_node_case(&c);
}
END_TEST

START_TEST(test_resize_node_upsample_sizes_nearest_round_prefer_ceil_asymmetric) {
    /* test_resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric (opset 13) */
    static const float want[] = {
        1.0f,  2.0f,  2.0f,  3.0f,  3.0f,  4.0f,  4.0f,  4.0f,  5.0f,  6.0f,  6.0f,  7.0f,  7.0f,
        8.0f,  8.0f,  8.0f,  5.0f,  6.0f,  6.0f,  7.0f,  7.0f,  8.0f,  8.0f,  8.0f,  9.0f,  10.0f,
        10.0f, 11.0f, 11.0f, 12.0f, 12.0f, 12.0f, 9.0f,  10.0f, 10.0f, 11.0f, 11.0f, 12.0f, 12.0f,
        12.0f, 13.0f, 14.0f, 14.0f, 15.0f, 15.0f, 16.0f, 16.0f, 16.0f, 13.0f, 14.0f, 14.0f, 15.0f,
        15.0f, 16.0f, 16.0f, 16.0f, 13.0f, 14.0f, 14.0f, 15.0f, 15.0f, 16.0f, 16.0f, 16.0f};
    const node_case c = {.ctm = "asymmetric",
                         .mode = "nearest",
                         .nearest_mode = "round_prefer_ceil",
                         .xdims = {1, 1, 4, 4},
                         .sizes = {1, 1, 8, 8},
                         .ydims = {1, 1, 8, 8},
                         .want = want};
    run_node_case(&c);
}
END_TEST

static void add_node_tests(TCase *tc) {
    tcase_add_test(tc, test_resize_node_downsample_scales_cubic);
    tcase_add_test(tc, test_resize_node_downsample_scales_cubic_A_n0p5_exclude_outside);
    tcase_add_test(tc, test_resize_node_downsample_scales_cubic_align_corners);
    tcase_add_test(tc, test_resize_node_downsample_scales_linear);
    tcase_add_test(tc, test_resize_node_downsample_scales_linear_align_corners);
    tcase_add_test(tc, test_resize_node_downsample_scales_nearest);
    tcase_add_test(tc, test_resize_node_downsample_sizes_cubic);
    tcase_add_test(tc, test_resize_node_downsample_sizes_linear_pytorch_half_pixel);
    tcase_add_test(tc, test_resize_node_downsample_sizes_nearest);
    tcase_add_test(tc, test_resize_node_downsample_sizes_nearest_tf_half_pixel_for_nn);
    tcase_add_test(tc, test_resize_node_tf_crop_and_resize);
    tcase_add_test(tc, test_resize_node_upsample_scales_cubic);
    tcase_add_test(tc, test_resize_node_upsample_scales_cubic_A_n0p5_exclude_outside);
    tcase_add_test(tc, test_resize_node_upsample_scales_cubic_align_corners);
    tcase_add_test(tc, test_resize_node_upsample_scales_cubic_asymmetric);
    tcase_add_test(tc, test_resize_node_upsample_scales_linear);
    tcase_add_test(tc, test_resize_node_upsample_scales_linear_align_corners);
    tcase_add_test(tc, test_resize_node_upsample_scales_nearest);
    tcase_add_test(tc, test_resize_node_upsample_sizes_cubic);
    tcase_add_test(tc, test_resize_node_upsample_sizes_nearest);
    tcase_add_test(tc, test_resize_node_upsample_sizes_nearest_ceil_half_pixel);
    tcase_add_test(tc, test_resize_node_upsample_sizes_nearest_floor_align_corners);
    tcase_add_test(tc, test_resize_node_upsample_sizes_nearest_round_prefer_ceil_asymmetric);
}

/* Seeded generator for the dnnl-vs-ref test. */
static unsigned dnnl_rng = 1;
static int64_t rnd(int64_t lo, int64_t hi) { /* uniform in [lo, hi] */
    dnnl_rng = dnnl_rng * 1103515245u + 12345u;
    return lo + (int64_t)((dnnl_rng >> 8) % (unsigned)(hi - lo + 1));
}

/* Runs Resize-13 on a random [2, 3, spatial...] input with the given spatial output sizes
 * (scales when use_scales: out/in as float) through "ref" and "dnnl". Returns 1 when dnnl
 * took the case (and then asserts it matches within atol), 0 when it declined. */
static int resize_dnnl_case(int S, const int64_t *in_sp, const int64_t *out_sp, int use_scales,
                            const char *mode, const char *ctm, const char *nm, double atol,
                            unsigned seed) {
    int64_t xd[5] = {2, 3}, sizes[5] = {2, 3};
    float scales[5] = {1, 1};
    for (int i = 0; i < S; i++) {
        xd[2 + i] = in_sp[i];
        sizes[2 + i] = out_sp[i];
        scales[2 + i] = (float)out_sp[i] / (float)in_sp[i];
    }
    onyx_tensor *x = tu_tensor_random(S + 2, xd, seed, -1, 1);
    int64_t cnt = S + 2;
    onyx_tensor *sz = use_scales ? tu_tensor(ONYX_DTYPE_FLOAT32, 1, &cnt, scales)
                                 : tu_tensor(ONYX_DTYPE_INT64, 1, &cnt, sizes);
    onyx_tensor *in[4] = {x, NULL, use_scales ? sz : NULL, use_scales ? NULL : sz};
    onyxi_node *n = resize_node(13, in);
    tu_attr_string(n, "mode", mode);
    tu_attr_string(n, "coordinate_transformation_mode", ctm);
    if (nm) tu_attr_string(n, "nearest_mode", nm);
    onyx_tensor *want = NULL, *got = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, in, &want, "ref", &err), ONYX_OK);
    onyx_status rc = tu_run_op(n, in, &got, "dnnl", &err);
    int took = rc == ONYX_OK;
    if (took)
        tu_assert_close(got, want, atol, 0);
    else
        ck_assert_msg(rc == ONYX_UNSUPPORTED, "%s/%s: %s", mode, ctm, err.msg);
    tu_tensor_free(want);
    tu_tensor_free(got);
    tu_tensor_free(x);
    tu_tensor_free(sz);
    tu_node_free(n);
    return took;
}

START_TEST(test_resize_dnnl_exact_cases_match_ref) {
    /* nearest is bit-exact where oneDNN takes it; linear samples with float32 coordinates,
     * within 1e-5 of the float64 reference on data in [-1, 1) */
    dnnl_rng = 20241126u;
    int took = 0;
    for (int iter = 0; iter < 60; iter++) {
        int S = (int)rnd(1, 3), kind = iter % 4;
        int64_t in[3], out[3];
        for (int i = 0; i < S; i++) {
            in[i] = rnd(1, S == 3 ? 6 : 13);
            out[i] = rnd(1, S == 3 ? 9 : 29);
        }
        int scales = 0;
        const char *mode = "nearest", *ctm = "half_pixel", *nm = "round_prefer_ceil";
        double atol = 0;
        if (kind == 1) { /* ties impossible: in odd, so in / gcd(in, out) is odd */
            ctm = "pytorch_half_pixel";
            nm = "round_prefer_floor";
            for (int i = 0; i < S; i++) {
                in[i] |= 1;
                if (out[i] == 1) out[i] = 2; /* pytorch_half_pixel differs at size 1 */
            }
        } else if (kind == 2) { /* asymmetric floor at integer upscales, given as scales */
            ctm = "asymmetric";
            nm = "floor";
            scales = 1;
            for (int i = 0; i < S; i++)
                out[i] = in[i] * rnd(1, 3);
        } else if (kind == 3) {
            mode = "linear";
            nm = NULL;
            atol = 1e-5;
        }
        took += resize_dnnl_case(S, in, out, scales, mode, ctm, nm, atol, (unsigned)iter + 1);
    }
    ck_assert_int_eq(took, 60);
}
END_TEST

START_TEST(test_resize_dnnl_declines_inexact_cases) {
    const int64_t in16[2] = {16, 16}, out8[2] = {8, 7}, in29[2] = {29, 5}, out57[2] = {57, 10};
    const int64_t in5[2] = {5, 5}, out3[2] = {3, 3}, in4[2] = {4, 4}, out1[2] = {1, 1};
    /* round_prefer_floor with .5 ties (16 -> 8) */
    ck_assert_int_eq(
        resize_dnnl_case(2, in16, out8, 0, "nearest", "half_pixel", "round_prefer_floor", 0, 1), 0);
    /* but round_prefer_ceil there is exact */
    ck_assert_int_eq(
        resize_dnnl_case(2, in16, out8, 0, "nearest", "half_pixel", "round_prefer_ceil", 0, 2),
        1);
    /* asymmetric floor at a non-integer factor */
    ck_assert_int_eq(
        resize_dnnl_case(2, in29, out57, 0, "nearest", "asymmetric", "floor", 0, 3), 0);
    /* other nearest modes, align_corners, cubic */
    ck_assert_int_eq(resize_dnnl_case(2, in5, out3, 0, "nearest", "half_pixel", "floor", 0, 4),
                     0);
    ck_assert_int_eq(resize_dnnl_case(2, in5, out3, 0, "linear", "align_corners", NULL, 0, 5),
                     0);
    ck_assert_int_eq(resize_dnnl_case(2, in5, out3, 0, "cubic", "half_pixel", NULL, 0, 6), 0);
    /* pytorch_half_pixel to a single sample */
    ck_assert_int_eq(
        resize_dnnl_case(2, in4, out1, 0, "linear", "pytorch_half_pixel", NULL, 0, 7), 0);
    /* a scale that is not out / in: 29 * 0.6 floors to 17; the reference samples with 0.6,
     * oneDNN would with 17/29 */
    onyx_tensor *x = tu_tensor_random(4, (int64_t[]){1, 1, 29, 3}, 9, -1, 1);
    int64_t four = 4;
    onyx_tensor *sc = tu_tensor(ONYX_DTYPE_FLOAT32, 1, &four, (float[]){1, 1, 0.6f, 1});
    onyx_tensor *in[4] = {x, NULL, sc, NULL}, *y = NULL;
    onyxi_node *n = resize_node(13, in);
    tu_attr_string(n, "mode", "linear");
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, in, &y, "dnnl", &err), ONYX_UNSUPPORTED);
    tu_node_free(n);
    /* resizing the channel axis */
    sc->dims[0] = 4;
    ((float *)sc->data)[1] = 2.0f;
    ((float *)sc->data)[2] = 1.0f;
    n = resize_node(13, in);
    ck_assert_int_eq(tu_run_op(n, in, &y, "dnnl", &err), ONYX_UNSUPPORTED);
    tu_node_free(n);
    tu_tensor_free(x);
    tu_tensor_free(sc);
}
END_TEST

static Suite *ops_resize_suite(void) {
    Suite *s = suite_create("ops_resize");
    TCase *tc = tcase_create("nearest");
    tcase_add_test(tc, test_resize_nearest_modes);
    tcase_add_test(tc, test_resize_nearest_scales_equal_sizes);
    suite_add_tcase(s, tc);
    tc = tcase_create("interpolation");
    tcase_add_test(tc, test_resize_linear_coordinate_modes);
    tcase_add_test(tc, test_resize_cubic_coeff_a_and_exclude_outside);
    tcase_add_test(tc, test_resize_pytorch_half_pixel_single_output);
    tcase_add_test(tc, test_resize_trilinear_align_corners);
    tcase_add_test(tc, test_resize_bilinear_29_to_57_matches_pytorch);
    tcase_add_test(tc, test_resize_identity_copies);
    suite_add_tcase(s, tc);
    tc = tcase_create("crop_and_resize");
    tcase_add_test(tc, test_resize_crop_extrapolation_float64_roi);
    tcase_add_test(tc, test_resize_crop_axes_opset18);
    suite_add_tcase(s, tc);
    tc = tcase_create("opset18_19");
    tcase_add_test(tc, test_resize_axes_subset);
    tcase_add_test(tc, test_resize_keep_aspect_ratio_policy);
    tcase_add_test(tc, test_resize_antialias);
    tcase_add_test(tc, test_resize_half_pixel_symmetric);
    suite_add_tcase(s, tc);
    tc = tcase_create("opset10");
    tcase_add_test(tc, test_resize_opset10_nearest);
    tcase_add_test(tc, test_resize_opset10_linear_asymmetric);
    suite_add_tcase(s, tc);
    tc = tcase_create("shapes");
    tcase_add_test(tc, test_resize_output_shape_float32_floor);
    tcase_add_test(tc, test_resize_empty_output);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_resize_bad_attributes);
    tcase_add_test(tc, test_resize_bad_axes);
    tcase_add_test(tc, test_resize_bad_scales_and_sizes);
    tcase_add_test(tc, test_resize_bad_dtypes);
    tcase_add_test(tc, test_resize_runtime_sizes_unsupported);
    suite_add_tcase(s, tc);
    tc = tcase_create("node_tests");
    add_node_tests(tc);
    suite_add_tcase(s, tc);
    tc = tcase_create("dnnl");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_resize_dnnl_exact_cases_match_ref);
    tcase_add_test(tc, test_resize_dnnl_declines_inexact_cases);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_resize_suite());
}
