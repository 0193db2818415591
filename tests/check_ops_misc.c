/*
 * Tests of ops/misc.c and ops/scatter.c: Trilu, CumSum, Hardmax, OneHot, TopK, DepthToSpace,
 * SpaceToDepth, Compress, MeanVarianceNormalization, ScatterElements, ScatterND, GatherND —
 * hand-computed values for each attribute and version rule, out-of-range indices and the
 * shape/attribute error codes.
 */
#include <math.h>
#include <string.h>

#include "testutil.h"

#define F32(rank, dims, ...) tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, (const float[]){__VA_ARGS__})
#define I64(rank, dims, ...) tu_tensor(ONYX_DTYPE_INT64, rank, dims, (const int64_t[]){__VA_ARGS__})

static void assert_f32(onyx_tensor *y, int rank, const int64_t *dims, const float *want) {
    tu_assert_floats(y, rank, dims, want, 1e-7, 1e-5);
    tu_tensor_free(y);
}

static void assert_i64(onyx_tensor *y, int rank, const int64_t *dims, const int64_t *want) {
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_INT64);
    ck_assert_int_eq(y->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_int_eq(y->dims[i], dims[i]);
    const int64_t *g = y->data;
    for (int64_t i = 0; i < onyxi_shape_count(rank, dims); i++)
        ck_assert_msg(g[i] == want[i], "element %lld: %lld, want %lld", (long long)i,
                      (long long)g[i], (long long)want[i]);
    tu_tensor_free(y);
}

/* ---- Trilu ---- */

static onyx_status run_trilu(int upper, onyx_tensor *x, onyx_tensor *k, onyx_tensor **y,
                             onyxi_err *err) {
    onyxi_node *n = tu_node_new("Trilu", 14, k ? 2 : 1, 1);
    if (upper >= 0) tu_attr_int(n, "upper", upper);
    onyx_tensor *in[2] = {x, k};
    return tu_run_node(n, k ? 2 : 1, in, y, err);
}

START_TEST(test_trilu_upper_lower) {
    int64_t d[2] = {3, 4}, s[1] = {1};
    onyx_tensor *y;
    onyxi_err err;
#define M34 F32(2, d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
    ck_assert_int_eq(run_trilu(-1, M34, I64(0, s, 1), &y, &err), ONYX_OK);
    assert_f32(y, 2, d, (const float[]){0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12});
    ck_assert_int_eq(run_trilu(0, M34, I64(0, s, -1), &y, &err), ONYX_OK);
    assert_f32(y, 2, d, (const float[]){0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0});
    ck_assert_int_eq(run_trilu(0, M34, NULL, &y, &err), ONYX_OK);
    assert_f32(y, 2, d, (const float[]){1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0});
    /* k far outside the matrix: all zero (upper) / all kept (lower), no overflow */
    ck_assert_int_eq(run_trilu(1, M34, I64(0, s, INT64_MAX), &y, &err), ONYX_OK);
    assert_f32(y, 2, d, (const float[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    ck_assert_int_eq(run_trilu(0, M34, I64(0, s, INT64_MAX), &y, &err), ONYX_OK);
    assert_f32(y, 2, d, (const float[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    ck_assert_int_eq(run_trilu(1, M34, I64(0, s, INT64_MIN), &y, &err), ONYX_OK);
    assert_f32(y, 2, d, (const float[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    ck_assert_int_eq(run_trilu(2, M34, NULL, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_int_eq(run_trilu(1, F32(1, s, 1), NULL, &y, &err), ONYX_SHAPE_MISMATCH);
#undef M34
}
END_TEST

/* ---- CumSum ---- */

static onyx_status run_cumsum(int excl, int rev, onyx_tensor *x, int64_t axis, onyx_tensor **y,
                              onyxi_err *err) {
    onyxi_node *n = tu_node_new("CumSum", 14, 2, 1);
    if (excl) tu_attr_int(n, "exclusive", 1);
    if (rev) tu_attr_int(n, "reverse", 1);
    int64_t s[1] = {1};
    onyx_tensor *in[2] = {x, I64(0, s, axis)};
    return tu_run_node(n, 2, in, y, err);
}

START_TEST(test_cumsum_modes) {
    int64_t d[2] = {2, 3};
    onyx_tensor *y;
    onyxi_err err;
#define X23 F32(2, d, 1, 2, 3, 4, 5, 6)
    ck_assert_int_eq(run_cumsum(0, 0, X23, 1, &y, &err), ONYX_OK);
    assert_f32(y, 2, d, (const float[]){1, 3, 6, 4, 9, 15});
    ck_assert_int_eq(run_cumsum(1, 0, X23, -1, &y, &err), ONYX_OK);
    assert_f32(y, 2, d, (const float[]){0, 1, 3, 0, 4, 9});
    ck_assert_int_eq(run_cumsum(0, 1, X23, 1, &y, &err), ONYX_OK);
    assert_f32(y, 2, d, (const float[]){6, 5, 3, 15, 11, 6});
    ck_assert_int_eq(run_cumsum(1, 1, X23, 1, &y, &err), ONYX_OK);
    assert_f32(y, 2, d, (const float[]){5, 3, 0, 11, 6, 0});
    ck_assert_int_eq(run_cumsum(0, 0, X23, 0, &y, &err), ONYX_OK);
    assert_f32(y, 2, d, (const float[]){1, 2, 3, 5, 7, 9});
    ck_assert_int_eq(run_cumsum(0, 0, I64(2, d, 1, 2, 3, INT64_MAX, 1, 0), 0, &y, &err), ONYX_OK);
    assert_i64(y, 2, d, (const int64_t[]){1, 2, 3, INT64_MIN, 3, 3}); /* wraps */
    ck_assert_int_eq(run_cumsum(0, 0, X23, 2, &y, &err), ONYX_INVALID_MODEL);
#undef X23
}
END_TEST

/* ---- Hardmax ---- */

START_TEST(test_hardmax_versions) {
    int64_t d[3] = {2, 1, 3};
    onyx_tensor *y;
    onyxi_err err;
    /* opset 13: last axis; ties pick the first maximum */
    onyx_tensor *in[1] = {F32(3, d, 1, 3, 3, -1, -2, -5)};
    ck_assert_int_eq(tu_run_node(tu_node_new("Hardmax", 13, 1, 1), 1, in, &y, &err), ONYX_OK);
    assert_f32(y, 3, d, (const float[]){0, 1, 0, 1, 0, 0});
    /* opset 11, axis 0: coerced to [1, 6], one 1 over all six values */
    onyxi_node *n = tu_node_new("Hardmax", 11, 1, 1);
    tu_attr_int(n, "axis", 0);
    in[0] = F32(3, d, 1, 3, 3, -1, 7, -5);
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_OK);
    assert_f32(y, 3, d, (const float[]){0, 0, 0, 0, 1, 0});
    /* opset 13, axis 0: per column */
    n = tu_node_new("Hardmax", 13, 1, 1);
    tu_attr_int(n, "axis", 0);
    in[0] = F32(3, d, 1, 3, 3, -1, 7, 3);
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_OK);
    assert_f32(y, 3, d, (const float[]){1, 0, 1, 0, 1, 0});
    n = tu_node_new("Hardmax", 13, 1, 1);
    tu_attr_int(n, "axis", 3);
    in[0] = F32(3, d, 1, 3, 3, -1, 7, 3);
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_INVALID_MODEL);
}
END_TEST

/* ---- OneHot ---- */

START_TEST(test_onehot_axes) {
    int64_t d3[1] = {3}, s[1] = {1}, d2[1] = {2}, o33[2] = {3, 3};
    onyx_tensor *y;
    onyxi_err err;
    /* -1 means depth - 1 (opset 11); 5 is out of range: all off */
    onyx_tensor *in[3] = {I64(1, d3, -1, 1, 5), F32(0, s, 3), F32(1, d2, 0, 9)};
    ck_assert_int_eq(tu_run_node(tu_node_new("OneHot", 11, 3, 1), 3, in, &y, &err), ONYX_OK);
    assert_f32(y, 2, o33, (const float[]){0, 0, 9, 0, 9, 0, 0, 0, 0});
    onyxi_node *n = tu_node_new("OneHot", 11, 3, 1);
    tu_attr_int(n, "axis", 0);
    in[0] = F32(1, d3, 0, 1, 2); /* float indices */
    in[1] = I64(1, s, 3);
    in[2] = I64(1, d2, 1, 2);
    ck_assert_int_eq(tu_run_node(n, 3, in, &y, &err), ONYX_OK);
    assert_i64(y, 2, o33, (const int64_t[]){2, 1, 1, 1, 2, 1, 1, 1, 2});
    in[0] = I64(1, d3, 0, 1, 2);
    in[1] = F32(0, s, -2);
    in[2] = F32(1, d2, 0, 1);
    ck_assert_int_eq(tu_run_node(tu_node_new("OneHot", 11, 3, 1), 3, in, &y, &err),
                     ONYX_INVALID_ARG);
    in[0] = I64(1, d3, 0, 1, 2);
    in[1] = F32(0, s, 2);
    in[2] = F32(1, d3, 0, 1, 2);
    ck_assert_int_eq(tu_run_node(tu_node_new("OneHot", 11, 3, 1), 3, in, &y, &err),
                     ONYX_SHAPE_MISMATCH);
}
END_TEST

/* ---- TopK ---- */

static onyx_status run_topk(int64_t opset, int largest, onyx_tensor *x, int64_t k, onyx_tensor **y,
                            onyxi_err *err) {
    int64_t s[1] = {1};
    onyxi_node *n = tu_node_new("TopK", opset, opset < 10 ? 1 : 2, 2);
    if (opset < 10) tu_attr_int(n, "k", k);
    if (largest >= 0) tu_attr_int(n, "largest", largest);
    onyx_tensor *in[2] = {x, opset < 10 ? NULL : I64(1, s, k)};
    return tu_run_node(n, opset < 10 ? 1 : 2, in, y, err);
}

START_TEST(test_topk_ties_and_order) {
    int64_t d[2] = {1, 5}, o[2] = {1, 3};
    onyx_tensor *y[2];
    onyxi_err err;
    ck_assert_int_eq(run_topk(11, -1, F32(2, d, 1, 3, 3, 2, 3), 3, y, &err), ONYX_OK);
    assert_f32(y[0], 2, o, (const float[]){3, 3, 3});
    assert_i64(y[1], 2, o, (const int64_t[]){1, 2, 4});
    ck_assert_int_eq(run_topk(11, 0, F32(2, d, 1, 3, 3, 1, NAN), 3, y, &err), ONYX_OK);
    assert_f32(y[0], 2, o, (const float[]){1, 1, 3});
    assert_i64(y[1], 2, o, (const int64_t[]){0, 3, 1});
    /* TopK-1: k attribute; NaN is the largest */
    ck_assert_int_eq(run_topk(1, -1, F32(2, d, 1, NAN, 3, 1, 5), 3, y, &err), ONYX_OK);
    assert_f32(y[0], 2, o, (const float[]){NAN, 5, 3});
    assert_i64(y[1], 2, o, (const int64_t[]){1, 4, 2});
    ck_assert_int_eq(run_topk(11, -1, I64(2, d, 5, -3, 9, 9, 0), 3, y, &err), ONYX_OK);
    assert_i64(y[0], 2, o, (const int64_t[]){9, 9, 5});
    assert_i64(y[1], 2, o, (const int64_t[]){2, 3, 0});
    ck_assert_int_eq(run_topk(11, -1, F32(2, d, 1, 2, 3, 4, 5), 6, y, &err), ONYX_INVALID_ARG);
    ck_assert_int_eq(run_topk(10, 1, F32(2, d, 1, 2, 3, 4, 5), 2, y, &err), ONYX_INVALID_MODEL);
}
END_TEST

START_TEST(test_topk_inner_axis) {
    int64_t d[2] = {3, 2}, o[2] = {2, 2}, s[1] = {1};
    onyx_tensor *y[2];
    onyxi_err err;
    onyxi_node *n = tu_node_new("TopK", 11, 2, 2);
    tu_attr_int(n, "axis", 0);
    onyx_tensor *in[2] = {F32(2, d, 1, 6, 4, 5, 2, 9), I64(1, s, 2)};
    ck_assert_int_eq(tu_run_node(n, 2, in, y, &err), ONYX_OK);
    assert_f32(y[0], 2, o, (const float[]){4, 9, 2, 6});
    assert_i64(y[1], 2, o, (const int64_t[]){1, 2, 2, 0});
}
END_TEST

/* ---- DepthToSpace, SpaceToDepth ---- */

START_TEST(test_depth_space_modes) {
    int64_t d8[4] = {1, 8, 1, 1}, o[4] = {1, 2, 2, 2};
    onyx_tensor *y;
    onyxi_err err;
    onyxi_node *n = tu_node_new("DepthToSpace", 13, 1, 1);
    tu_attr_int(n, "blocksize", 2);
    onyx_tensor *in[1] = {F32(4, d8, 0, 1, 2, 3, 4, 5, 6, 7)};
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_OK);
    /* DCR: y[c, i, j] = x[(i*2 + j)*2 + c] */
    assert_f32(y, 4, o, (const float[]){0, 2, 4, 6, 1, 3, 5, 7});
    n = tu_node_new("DepthToSpace", 11, 1, 1);
    tu_attr_int(n, "blocksize", 2);
    tu_attr_string(n, "mode", "CRD");
    in[0] = F32(4, d8, 0, 1, 2, 3, 4, 5, 6, 7);
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_OK);
    assert_f32(y, 4, o, (const float[]){0, 1, 2, 3, 4, 5, 6, 7});
    /* SpaceToDepth inverts DCR */
    n = tu_node_new("SpaceToDepth", 13, 1, 1);
    tu_attr_int(n, "blocksize", 2);
    in[0] = F32(4, o, 0, 2, 4, 6, 1, 3, 5, 7);
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_OK);
    assert_f32(y, 4, d8, (const float[]){0, 1, 2, 3, 4, 5, 6, 7});
    /* errors */
    n = tu_node_new("DepthToSpace", 1, 1, 1);
    tu_attr_int(n, "blocksize", 2);
    tu_attr_string(n, "mode", "CRD");
    in[0] = F32(4, d8, 0, 1, 2, 3, 4, 5, 6, 7);
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_INVALID_MODEL);
    n = tu_node_new("DepthToSpace", 13, 1, 1);
    tu_attr_int(n, "blocksize", 3);
    in[0] = F32(4, d8, 0, 1, 2, 3, 4, 5, 6, 7);
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_SHAPE_MISMATCH);
    n = tu_node_new("SpaceToDepth", 13, 1, 1);
    in[0] = F32(4, d8, 0, 1, 2, 3, 4, 5, 6, 7);
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_INVALID_MODEL); /* no blocksize */
}
END_TEST

/* ---- Compress ---- */

START_TEST(test_compress_axis_and_flat) {
    int64_t d[2] = {2, 3}, c3[1] = {3}, c2[1] = {2}, o[2] = {2, 2};
    onyx_tensor *y;
    onyxi_err err;
    onyxi_node *n = tu_node_new("Compress", 11, 2, 1);
    tu_attr_int(n, "axis", -1);
    onyx_tensor *in[2] = {F32(2, d, 1, 2, 3, 4, 5, 6),
                          tu_tensor(ONYX_DTYPE_BOOL, 1, c3, (const uint8_t[]){1, 0, 1})};
    ck_assert_int_eq(tu_run_node(n, 2, in, &y, &err), ONYX_OK);
    assert_f32(y, 2, o, (const float[]){1, 3, 4, 6});
    /* no axis: the flattened input; a shorter condition drops the rest */
    in[0] = F32(2, d, 1, 2, 3, 4, 5, 6);
    in[1] = tu_tensor(ONYX_DTYPE_BOOL, 1, c3, (const uint8_t[]){0, 1, 1});
    ck_assert_int_eq(tu_run_node(tu_node_new("Compress", 9, 2, 1), 2, in, &y, &err), ONYX_OK);
    assert_f32(y, 1, c2, (const float[]){2, 3});
    n = tu_node_new("Compress", 9, 2, 1);
    tu_attr_int(n, "axis", -1);
    in[0] = F32(2, d, 1, 2, 3, 4, 5, 6);
    in[1] = tu_tensor(ONYX_DTYPE_BOOL, 1, c3, (const uint8_t[]){0, 1, 1});
    ck_assert_int_eq(tu_run_node(n, 2, in, &y, &err), ONYX_INVALID_MODEL); /* negative before 11 */
    n = tu_node_new("Compress", 11, 2, 1);
    tu_attr_int(n, "axis", 0);
    in[0] = F32(2, d, 1, 2, 3, 4, 5, 6);
    in[1] = tu_tensor(ONYX_DTYPE_BOOL, 1, c3, (const uint8_t[]){0, 1, 1});
    ck_assert_int_eq(tu_run_node(n, 2, in, &y, &err), ONYX_SHAPE_MISMATCH); /* 3 > 2 rows */
}
END_TEST

/* ---- MeanVarianceNormalization ---- */

START_TEST(test_mvn_default_axes) {
    int64_t d[4] = {1, 2, 1, 2};
    onyx_tensor *y;
    onyxi_err err;
    /* channel 0: [1, 3] -> mean 2, std 1; channel 1: constant -> 0 */
    onyx_tensor *in[1] = {F32(4, d, 1, 3, 2, 2)};
    ck_assert_int_eq(
        tu_run_node(tu_node_new("MeanVarianceNormalization", 13, 1, 1), 1, in, &y, &err), ONYX_OK);
    assert_f32(y, 4, d, (const float[]){-1, 1, 0, 0});
    /* axes [1]: across the channels at each position: [1, 2] and [3, 2] */
    onyxi_node *n = tu_node_new("MeanVarianceNormalization", 9, 1, 1);
    tu_attr_ints(n, "axes", 1, (const int64_t[]){1});
    in[0] = F32(4, d, 1, 3, 2, 2);
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_OK);
    assert_f32(y, 4, d, (const float[]){-1, 1, 1, -1});
    n = tu_node_new("MeanVarianceNormalization", 13, 1, 1);
    tu_attr_ints(n, "axes", 2, (const int64_t[]){1, -3});
    in[0] = F32(4, d, 1, 3, 2, 2);
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_INVALID_MODEL);
}
END_TEST

/* ---- scatter / gather ---- */

static onyx_status run_scatter(const char *op, int64_t opset, const char *red, int64_t axis,
                               onyx_tensor *d, onyx_tensor *i, onyx_tensor *u, onyx_tensor **y,
                               onyxi_err *err) {
    onyxi_node *n = tu_node_new(op, opset, 3, 1);
    if (red) tu_attr_string(n, "reduction", red);
    if (axis) tu_attr_int(n, "axis", axis);
    onyx_tensor *in[3] = {d, i, u};
    return tu_run_node(n, 3, in, y, err);
}

START_TEST(test_scatter_elements_reductions) {
    int64_t d[2] = {2, 3}, id[2] = {2, 2};
    onyx_tensor *y;
    onyxi_err err;
#define DATA F32(2, d, 1, 2, 3, 4, 5, 6)
    /* axis 1; indices [[0, 0], [-1, 1]]: duplicates in row 0, -1 is the last column */
    ck_assert_int_eq(run_scatter("ScatterElements", 16, "add", 1, DATA, I64(2, id, 0, 0, -1, 1),
                                 F32(2, id, 10, 20, 30, 40), &y, &err),
                     ONYX_OK);
    assert_f32(y, 2, d, (const float[]){31, 2, 3, 4, 45, 36});
    ck_assert_int_eq(run_scatter("ScatterElements", 13, NULL, 1, DATA, I64(2, id, 0, 0, -1, 1),
                                 F32(2, id, 10, 20, 30, 40), &y, &err),
                     ONYX_OK);
    assert_f32(y, 2, d, (const float[]){20, 2, 3, 4, 40, 30}); /* last write wins */
    ck_assert_int_eq(run_scatter("ScatterElements", 18, "max", 0, DATA, I64(2, id, 1, 0, 0, 1),
                                 F32(2, id, 10, 0, 0, 9), &y, &err),
                     ONYX_OK);
    assert_f32(y, 2, d, (const float[]){1, 2, 3, 10, 9, 6});
    ck_assert_int_eq(run_scatter("ScatterElements", 16, "mul", 0, DATA, I64(2, id, 1, 0, 0, 1),
                                 F32(2, id, 10, 0, 0, 9), &y, &err),
                     ONYX_OK);
    assert_f32(y, 2, d, (const float[]){0, 0, 3, 40, 45, 6});
    /* Scatter-9 is ScatterElements without reduction, removed in 11 */
    ck_assert_int_eq(run_scatter("Scatter", 9, NULL, 0, DATA, I64(2, id, 1, 0, 0, 1),
                                 F32(2, id, 10, 0, 0, 9), &y, &err),
                     ONYX_OK);
    assert_f32(y, 2, d, (const float[]){0, 0, 3, 10, 9, 6});
    ck_assert_int_eq(run_scatter("Scatter", 11, NULL, 0, DATA, I64(2, id, 1, 0, 0, 1),
                                 F32(2, id, 10, 0, 0, 9), &y, &err),
                     ONYX_INVALID_MODEL);
    /* errors */
    ck_assert_int_eq(run_scatter("ScatterElements", 16, NULL, 1, DATA, I64(2, id, 0, 3, 0, 0),
                                 F32(2, id, 1, 1, 1, 1), &y, &err),
                     ONYX_INVALID_ARG);
    ck_assert(strstr(err.msg, "index 3") != NULL);
    ck_assert_int_eq(run_scatter("ScatterElements", 16, "max", 1, DATA, I64(2, id, 0, 0, 0, 0),
                                 F32(2, id, 1, 1, 1, 1), &y, &err),
                     ONYX_INVALID_MODEL); /* max needs 18 */
    ck_assert_int_eq(run_scatter("ScatterElements", 13, "add", 1, DATA, I64(2, id, 0, 0, 0, 0),
                                 F32(2, id, 1, 1, 1, 1), &y, &err),
                     ONYX_INVALID_MODEL); /* reduction needs 16 */
    ck_assert_int_eq(run_scatter("ScatterElements", 16, NULL, 1, DATA, I64(2, id, 0, 0, 0, 0),
                                 F32(1, id, 1, 1), &y, &err),
                     ONYX_SHAPE_MISMATCH);
#undef DATA
}
END_TEST

START_TEST(test_scatter_nd_slices) {
    int64_t d[2] = {3, 2}, id[2] = {2, 1}, ud[2] = {2, 2};
    onyx_tensor *y;
    onyxi_err err;
    /* rows 2 and 0 replaced / multiplied */
    ck_assert_int_eq(run_scatter("ScatterND", 13, NULL, 0, F32(2, d, 1, 2, 3, 4, 5, 6),
                                 I64(2, id, 2, 0), F32(2, ud, 7, 8, 9, 10), &y, &err),
                     ONYX_OK);
    assert_f32(y, 2, d, (const float[]){9, 10, 3, 4, 7, 8});
    ck_assert_int_eq(run_scatter("ScatterND", 16, "mul", 0, F32(2, d, 1, 2, 3, 4, 5, 6),
                                 I64(2, id, -1, -1), F32(2, ud, 2, 3, 4, 5), &y, &err),
                     ONYX_OK);
    assert_f32(y, 2, d, (const float[]){1, 2, 3, 4, 40, 90});
    int64_t i2[2] = {1, 2}, u1[1] = {1};
    ck_assert_int_eq(run_scatter("ScatterND", 18, "min", 0, F32(2, d, 1, 2, 3, 4, 5, 6),
                                 I64(2, i2, 1, 1), F32(1, u1, -1), &y, &err),
                     ONYX_OK);
    assert_f32(y, 2, d, (const float[]){1, 2, 3, -1, 5, 6});
    ck_assert_int_eq(run_scatter("ScatterND", 13, NULL, 0, F32(2, d, 1, 2, 3, 4, 5, 6),
                                 I64(2, id, 3, 0), F32(2, ud, 7, 8, 9, 10), &y, &err),
                     ONYX_INVALID_ARG);
    ck_assert_int_eq(run_scatter("ScatterND", 13, NULL, 0, F32(2, d, 1, 2, 3, 4, 5, 6),
                                 I64(2, id, 1, 0), F32(2, id, 7, 8), &y, &err),
                     ONYX_SHAPE_MISMATCH);
}
END_TEST

START_TEST(test_gather_nd_batch_dims) {
    int64_t d[2] = {2, 2}, i22[2] = {2, 2}, o2[1] = {2};
    onyx_tensor *y;
    onyxi_err err;
    onyx_tensor *in[2] = {F32(2, d, 0, 1, 2, 3), I64(2, i22, 0, 0, 1, -1)};
    ck_assert_int_eq(tu_run_node(tu_node_new("GatherND", 11, 2, 1), 2, in, &y, &err), ONYX_OK);
    assert_f32(y, 1, o2, (const float[]){0, 3});
    /* batch_dims 1: data [2, 2, 2], indices [2, 1] -> [2, 2] */
    int64_t d3[3] = {2, 2, 2}, i21[2] = {2, 1};
    onyxi_node *n = tu_node_new("GatherND", 12, 2, 1);
    tu_attr_int(n, "batch_dims", 1);
    in[0] = F32(3, d3, 0, 1, 2, 3, 4, 5, 6, 7);
    in[1] = I64(2, i21, 1, 0);
    ck_assert_int_eq(tu_run_node(n, 2, in, &y, &err), ONYX_OK);
    assert_f32(y, 2, d, (const float[]){2, 3, 4, 5});
    n = tu_node_new("GatherND", 11, 2, 1);
    tu_attr_int(n, "batch_dims", 1);
    in[0] = F32(3, d3, 0, 1, 2, 3, 4, 5, 6, 7);
    in[1] = I64(2, i21, 1, 0);
    ck_assert_int_eq(tu_run_node(n, 2, in, &y, &err), ONYX_INVALID_MODEL);
    in[0] = F32(2, d, 0, 1, 2, 3);
    in[1] = I64(2, i22, 0, 2, 1, 1);
    ck_assert_int_eq(tu_run_node(tu_node_new("GatherND", 13, 2, 1), 2, in, &y, &err),
                     ONYX_INVALID_ARG);
    int64_t i13[2] = {1, 3};
    in[0] = F32(2, d, 0, 1, 2, 3);
    in[1] = I64(2, i13, 0, 0, 0);
    ck_assert_int_eq(tu_run_node(tu_node_new("GatherND", 13, 2, 1), 2, in, &y, &err),
                     ONYX_SHAPE_MISMATCH);
}
END_TEST

int main(void) {
    Suite *s = suite_create("ops_misc");
    TCase *tc = tcase_create("trilu_cumsum");
    tcase_add_test(tc, test_trilu_upper_lower);
    tcase_add_test(tc, test_cumsum_modes);
    suite_add_tcase(s, tc);
    tc = tcase_create("hardmax_onehot_topk");
    tcase_add_test(tc, test_hardmax_versions);
    tcase_add_test(tc, test_onehot_axes);
    tcase_add_test(tc, test_topk_ties_and_order);
    tcase_add_test(tc, test_topk_inner_axis);
    suite_add_tcase(s, tc);
    tc = tcase_create("layout");
    tcase_add_test(tc, test_depth_space_modes);
    tcase_add_test(tc, test_compress_axis_and_flat);
    tcase_add_test(tc, test_mvn_default_axes);
    suite_add_tcase(s, tc);
    tc = tcase_create("scatter_gather");
    tcase_add_test(tc, test_scatter_elements_reductions);
    tcase_add_test(tc, test_scatter_nd_slices);
    tcase_add_test(tc, test_gather_nd_batch_dims);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
