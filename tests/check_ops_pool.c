/*
 * Tests of the pooling ops (ops/pool.c): GlobalAveragePool on ranks 3, 4 and 5 with
 * hand-computed means, accuracy over a large plane, an empty plane, and the input checks;
 * MaxPool (pads, ceil_mode, dilations, auto_pad, Indices with both storage orders, int8/uint8),
 * AveragePool (count_include_pad, ceil_mode, dilations-19), GlobalMaxPool, version rules,
 * attribute and shape errors, and thread-count independence; the oneDNN implementation
 * against the reference on random plain and blocked (nChw8c) inputs, hand values and declines.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_blocked.h"
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

/* ---- MaxPool / AveragePool / GlobalMaxPool ---- */

/* A pooling node of op at opset over 1-D to 3-D kernels; attributes added by the caller. */
static onyxi_node *pool_node(const char *op, int64_t opset, int n_out, int S, const int64_t *k) {
    onyxi_node *n = tu_node_new(op, opset, 1, n_out);
    if (S > 0) tu_attr_ints(n, "kernel_shape", S, k);
    return n;
}

/* Runs n on x (both freed here); asserts success and output 0 == want (shape ydims). */
static void expect_pool(onyxi_node *n, onyx_tensor *x, int rank, const int64_t *ydims,
                        const float *want) {
    onyx_tensor *in[1] = {x}, *y[2] = {NULL, NULL};
    onyxi_err err;
    onyx_status rc = tu_run_op(n, in, y, NULL, &err);
    ck_assert_msg(rc == ONYX_OK, "%s failed: %s", n->op_type, err.msg);
    tu_assert_floats(y[0], rank, ydims, want, 1e-6, 1e-6);
    for (int k = 0; k < n->n_outputs; k++)
        tu_tensor_free(y[k]);
    tu_tensor_free(x);
    tu_node_free(n);
}

/* Runs n on x (both freed here) and returns the status; err receives the message. */
static onyx_status pool_status(onyxi_node *n, onyx_tensor *x, onyxi_err *err) {
    onyx_tensor *in[1] = {x}, *y[2] = {NULL, NULL};
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    for (int k = 0; k < n->n_outputs; k++)
        tu_tensor_free(y[k]);
    tu_tensor_free(x);
    tu_node_free(n);
    return rc;
}

static onyx_tensor *f32(int rank, const int64_t *dims, const float *v) {
    return tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, v);
}

START_TEST(test_maxpool_2d_strides) {
    int64_t k[2] = {2, 2}, s[2] = {2, 2}, xd[4] = {1, 1, 4, 4}, yd[4] = {1, 1, 2, 2};
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i + 1);
    onyxi_node *n = pool_node("MaxPool", 12, 1, 2, k);
    tu_attr_ints(n, "strides", 2, s);
    float want[4] = {6, 8, 14, 16};
    expect_pool(n, f32(4, xd, x), 4, yd, want);
}
END_TEST

START_TEST(test_maxpool_asymmetric_pads_ignore_padding) {
    /* padding only at the top and left: values are negative, so a zero pad would win */
    int64_t k[2] = {2, 2}, p[4] = {1, 1, 0, 0}, xd[4] = {1, 1, 3, 3}, yd[4] = {1, 1, 3, 3};
    float x[9] = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
    onyxi_node *n = pool_node("MaxPool", 11, 1, 2, k);
    tu_attr_ints(n, "pads", 4, p);
    float want[9] = {-1, -1, -2, -1, -1, -2, -4, -4, -5};
    expect_pool(n, f32(4, xd, x), 4, yd, want);
}
END_TEST

START_TEST(test_maxpool_ceil_mode_adds_partial_window) {
    /* 5 inputs, kernel 2, stride 2: floor gives 2 windows, ceil a third over x[4] alone */
    int64_t k[1] = {2}, s[1] = {2}, xd[3] = {1, 1, 5}, yd[3] = {1, 1, 3};
    float x[5] = {1, 5, 2, 4, 3}, want[3] = {5, 4, 3};
    onyxi_node *n = pool_node("MaxPool", 10, 1, 1, k);
    tu_attr_ints(n, "strides", 1, s);
    tu_attr_int(n, "ceil_mode", 1);
    expect_pool(n, f32(3, xd, x), 3, yd, want);
}
END_TEST

START_TEST(test_maxpool_ceil_mode_last_window_starts_inside) {
    /* 4 inputs + end pad 1, kernel 2, stride 2: ceil((5 - 2) / 2) + 1 = 3, but the third
     * window would start at 4, on the end padding, so it is dropped */
    int64_t k[1] = {2}, s[1] = {2}, p[2] = {0, 1}, xd[3] = {1, 1, 4}, yd[3] = {1, 1, 2};
    float x[4] = {1, 2, 3, 4}, want[2] = {2, 4};
    onyxi_node *n = pool_node("MaxPool", 12, 1, 1, k);
    tu_attr_ints(n, "strides", 1, s);
    tu_attr_ints(n, "pads", 2, p);
    tu_attr_int(n, "ceil_mode", 1);
    expect_pool(n, f32(3, xd, x), 3, yd, want);
}
END_TEST

START_TEST(test_maxpool_dilations) {
    int64_t k[1] = {2}, d[1] = {2}, xd[3] = {1, 1, 6}, yd[3] = {1, 1, 4};
    float x[6] = {1, 9, 2, 8, 3, 7}, want[4] = {2, 9, 3, 8};
    onyxi_node *n = pool_node("MaxPool", 10, 1, 1, k);
    tu_attr_ints(n, "dilations", 1, d);
    expect_pool(n, f32(3, xd, x), 3, yd, want);
}
END_TEST

START_TEST(test_maxpool_auto_pad_modes) {
    int64_t k[1] = {2}, s[1] = {2}, xd[3] = {1, 1, 5}, yd5[3] = {1, 1, 5}, yd2[3] = {1, 1, 2};
    float x[5] = {-1, -2, -3, -4, -5};
    /* SAME: one pad element, at the end (UPPER) or the beginning (LOWER) */
    float upper[5] = {-1, -2, -3, -4, -5}, lower[5] = {-1, -1, -2, -3, -4}, valid[2] = {-1, -3};
    onyxi_node *n = pool_node("MaxPool", 12, 1, 1, k);
    tu_attr_string(n, "auto_pad", "SAME_UPPER");
    expect_pool(n, f32(3, xd, x), 3, yd5, upper);
    n = pool_node("MaxPool", 12, 1, 1, k);
    tu_attr_string(n, "auto_pad", "SAME_LOWER");
    expect_pool(n, f32(3, xd, x), 3, yd5, lower);
    n = pool_node("MaxPool", 12, 1, 1, k);
    tu_attr_string(n, "auto_pad", "VALID");
    tu_attr_ints(n, "strides", 1, s);
    expect_pool(n, f32(3, xd, x), 3, yd2, valid);
}
END_TEST

/* MaxPool with Indices on 1x2x2x3, kernel 2x2: the indices count the channel offset. */
static void expect_indices(int64_t storage_order, const int64_t *want_idx) {
    int64_t k[2] = {2, 2}, xd[4] = {1, 2, 2, 3}, yd[4] = {1, 2, 1, 2};
    float x[12] = {1, 6, 2, 3, 4, 5, 9, 0, 0, 0, 0, 8};
    onyxi_node *n = pool_node("MaxPool", 12, 2, 2, k);
    tu_attr_int(n, "storage_order", storage_order);
    onyx_tensor *in[1] = {f32(4, xd, x)}, *y[2] = {NULL, NULL};
    onyxi_err err;
    ck_assert_msg(tu_run_op(n, in, y, NULL, &err) == ONYX_OK, "%s", err.msg);
    float want[4] = {6, 6, 9, 8};
    tu_assert_floats(y[0], 4, yd, want, 0, 0);
    ck_assert_int_eq(y[1]->dtype, ONYX_DTYPE_INT64);
    ck_assert_int_eq(y[1]->rank, 4);
    const int64_t *got = y[1]->data;
    for (int i = 0; i < 4; i++)
        ck_assert_msg(got[i] == want_idx[i], "index %d: got %lld, want %lld", i, (long long)got[i],
                      (long long)want_idx[i]);
    tu_tensor_free(y[0]);
    tu_tensor_free(y[1]);
    tu_tensor_free(in[0]);
    tu_node_free(n);
}

START_TEST(test_maxpool_indices_row_major) {
    /* channel 0: 6 at (0,1) -> 1 for both windows (the first maximum wins); channel 1:
     * 9 at (0,0) and 8 at (1,2), plus the plane offset 6 */
    int64_t want[4] = {1, 1, 6, 11};
    expect_indices(0, want);
}
END_TEST

START_TEST(test_maxpool_indices_column_major) {
    /* storage_order 1: h + w * H, so (0,1) -> 2 and (1,2) -> 5 */
    int64_t want[4] = {2, 2, 6, 11};
    expect_indices(1, want);
}
END_TEST

START_TEST(test_maxpool_int8_and_uint8) {
    int64_t k[1] = {2}, p[2] = {1, 1}, xd[3] = {1, 1, 3}, yd[3] = {1, 1, 4}, yd2[3] = {1, 1, 2};
    int8_t xi[3] = {-5, -3, -7}, wi[4] = {-5, -3, -3, -7};
    onyxi_node *n = pool_node("MaxPool", 12, 1, 1, k);
    tu_attr_ints(n, "pads", 2, p);
    onyx_tensor *in[1] = {tu_tensor(ONYX_DTYPE_INT8, 3, xd, xi)}, *y[1] = {NULL};
    onyxi_err err;
    ck_assert_msg(tu_run_op(n, in, y, NULL, &err) == ONYX_OK, "%s", err.msg);
    ck_assert_int_eq(y[0]->dtype, ONYX_DTYPE_INT8);
    ck_assert_int_eq(y[0]->dims[2], yd[2]);
    ck_assert_mem_eq(y[0]->data, wi, sizeof wi);
    tu_tensor_free(y[0]);
    tu_tensor_free(in[0]);
    tu_node_free(n);

    uint8_t xu[3] = {200, 100, 250}, wu[2] = {200, 250};
    n = pool_node("MaxPool", 12, 1, 1, k);
    in[0] = tu_tensor(ONYX_DTYPE_UINT8, 3, xd, xu);
    ck_assert_msg(tu_run_op(n, in, y, NULL, &err) == ONYX_OK, "%s", err.msg);
    ck_assert_int_eq(y[0]->dtype, ONYX_DTYPE_UINT8);
    ck_assert_int_eq(y[0]->dims[2], yd2[2]);
    ck_assert_mem_eq(y[0]->data, wu, sizeof wu);
    tu_tensor_free(y[0]);
    tu_tensor_free(in[0]);
    tu_node_free(n);
}
END_TEST

START_TEST(test_maxpool_3d) {
    int64_t k[3] = {2, 2, 1}, xd[5] = {1, 1, 2, 2, 2}, yd[5] = {1, 1, 1, 1, 2};
    float x[8] = {1, 8, 3, 6, 5, 4, 7, 2}, want[2] = {7, 8};
    expect_pool(pool_node("MaxPool", 8, 1, 3, k), f32(5, xd, x), 5, yd, want);
}
END_TEST

START_TEST(test_avgpool_count_include_pad) {
    int64_t k[2] = {2, 2}, p[4] = {1, 1, 1, 1}, xd[4] = {1, 1, 2, 2}, yd[4] = {1, 1, 3, 3};
    float x[4] = {1, 2, 3, 4};
    float excl[9] = {1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4};
    float incl[9] = {0.25f, 0.75f, 0.5f, 1, 2.5f, 1.5f, 0.75f, 1.75f, 1};
    onyxi_node *n = pool_node("AveragePool", 11, 1, 2, k);
    tu_attr_ints(n, "pads", 4, p);
    expect_pool(n, f32(4, xd, x), 4, yd, excl);
    n = pool_node("AveragePool", 7, 1, 2, k);
    tu_attr_ints(n, "pads", 4, p);
    tu_attr_int(n, "count_include_pad", 1);
    expect_pool(n, f32(4, xd, x), 4, yd, incl);
}
END_TEST

START_TEST(test_avgpool_ceil_mode_partial_window) {
    /* the window ceil_mode adds holds only x[4]; with count_include_pad its divisor is
     * still 1, since it lies past the (zero) end padding */
    int64_t k[1] = {2}, s[1] = {2}, xd[3] = {1, 1, 5}, yd[3] = {1, 1, 3};
    float x[5] = {1, 2, 3, 4, 5}, want[3] = {1.5f, 3.5f, 5};
    onyxi_node *n = pool_node("AveragePool", 10, 1, 1, k);
    tu_attr_ints(n, "strides", 1, s);
    tu_attr_int(n, "ceil_mode", 1);
    tu_attr_int(n, "count_include_pad", 1);
    expect_pool(n, f32(3, xd, x), 3, yd, want);
}
END_TEST

START_TEST(test_avgpool_dilations_opset19) {
    int64_t k[1] = {2}, d[1] = {2}, p[2] = {1, 1}, xd[3] = {1, 1, 5}, yd[3] = {1, 1, 5};
    float x[5] = {1, 2, 3, 4, 5};
    /* windows read x at (-1,1), (0,2), (1,3), (2,4), (3,5) */
    float excl[5] = {2, 2, 3, 4, 4}, incl[5] = {1, 2, 3, 4, 2};
    onyxi_node *n = pool_node("AveragePool", 19, 1, 1, k);
    tu_attr_ints(n, "dilations", 1, d);
    tu_attr_ints(n, "pads", 2, p);
    expect_pool(n, f32(3, xd, x), 3, yd, excl);
    n = pool_node("AveragePool", 19, 1, 1, k);
    tu_attr_ints(n, "dilations", 1, d);
    tu_attr_ints(n, "pads", 2, p);
    tu_attr_int(n, "count_include_pad", 1);
    expect_pool(n, f32(3, xd, x), 3, yd, incl);
}
END_TEST

START_TEST(test_avgpool_3d) {
    int64_t k[3] = {2, 2, 2}, xd[5] = {1, 1, 2, 2, 2}, yd[5] = {1, 1, 1, 1, 1};
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, want[1] = {4.5f};
    expect_pool(pool_node("AveragePool", 11, 1, 3, k), f32(5, xd, x), 5, yd, want);
}
END_TEST

START_TEST(test_globalmaxpool_planes) {
    int64_t xd[4] = {2, 2, 1, 3}, yd[4] = {2, 2, 1, 1};
    float x[12] = {1, 3, 2, -1, -5, -2, 0, 0, 0, 7, NAN, 1};
    float want[4] = {3, -1, 0, NAN}; /* NaN propagates, as np.max */
    expect_pool(tu_node_new("GlobalMaxPool", 13, 1, 1), f32(4, xd, x), 4, yd, want);
}
END_TEST

/* Runs op n's ref impl directly on x with the given thread count into a fresh y. */
static onyx_tensor *run_with_threads(onyxi_node *n, onyx_tensor *x, int threads) {
    onyxi_err err;
    onyx_tensor *in[1] = {x}, *y[1] = {NULL};
    ck_assert_msg(tu_infer_op(n, in, y, &err) == ONYX_OK, "%s", err.msg);
    y[0]->data = calloc(1, y[0]->nbytes + 1);
    const onyx_tensor *ins[1] = {x};
    onyxi_exec ex = {.node = n, .n_in = 1, .in = ins, .n_out = 1, .out = y,
                     .num_threads = threads, .err = &err};
    const onyxi_impl *impl = tu_ref_impl(n->op);
    ck_assert_int_eq(impl->init ? impl->init(&ex) : ONYX_OK, ONYX_OK);
    ck_assert_msg(impl->run(&ex) == ONYX_OK, "%s", err.msg);
    if (impl->fini) impl->fini(&ex);
    return y[0];
}

START_TEST(test_pool_threads_do_not_change_results) {
    int64_t k[2] = {3, 3}, s[2] = {2, 2}, p[4] = {1, 0, 1, 2}, xd[4] = {3, 5, 17, 13};
    onyx_tensor *x = tu_tensor_random(4, xd, 7, -1, 1);
    const char *ops[2] = {"MaxPool", "AveragePool"};
    for (int i = 0; i < 2; i++) {
        onyxi_node *n = pool_node(ops[i], 11, 1, 2, k);
        tu_attr_ints(n, "strides", 2, s);
        tu_attr_ints(n, "pads", 4, p);
        onyx_tensor *y1 = run_with_threads(n, x, 1), *y4 = run_with_threads(n, x, 4);
        tu_assert_close(y4, y1, 0, 0);
        tu_tensor_free(y1);
        tu_tensor_free(y4);
        tu_node_free(n);
    }
    tu_tensor_free(x);
}
END_TEST

START_TEST(test_maxpool_2d_fast_path_matches_generic) {
    /* 2-D float MaxPool without Indices takes a written-out path; with Indices the generic
     * N-D one. Both must give the same maxima on random data with dilations, pads, ceil. */
    int64_t k[2] = {3, 2}, s[2] = {2, 3}, d[2] = {2, 1}, p[4] = {2, 0, 1, 1},
            xd[4] = {2, 3, 15, 16};
    onyx_tensor *x = tu_tensor_random(4, xd, 11, -2, 2);
    onyx_tensor *in[1] = {x}, *y1[1] = {NULL}, *y2[2] = {NULL, NULL};
    onyxi_err err;
    for (int with_idx = 0; with_idx < 2; with_idx++) {
        onyxi_node *n = pool_node("MaxPool", 12, 1 + with_idx, 2, k);
        tu_attr_ints(n, "strides", 2, s);
        tu_attr_ints(n, "dilations", 2, d);
        tu_attr_ints(n, "pads", 4, p);
        tu_attr_int(n, "ceil_mode", 1);
        ck_assert_msg(tu_run_op(n, in, with_idx ? y2 : y1, NULL, &err) == ONYX_OK, "%s", err.msg);
        tu_node_free(n);
    }
    tu_assert_close(y2[0], y1[0], 0, 0);
    /* every index points at an input element holding the maximum */
    const int64_t *idx = y2[1]->data;
    const float *xv = x->data, *yv = y1[0]->data;
    int64_t count = onyxi_shape_count(4, y1[0]->dims);
    for (int64_t i = 0; i < count; i++)
        ck_assert(idx[i] >= 0 && xv[idx[i]] == yv[i]);
    tu_tensor_free(y1[0]);
    tu_tensor_free(y2[0]);
    tu_tensor_free(y2[1]);
    tu_tensor_free(x);
}
END_TEST

START_TEST(test_pool_attribute_errors) {
    int64_t k[2] = {2, 2}, d[2] = {2, 2}, xd[4] = {1, 1, 4, 4}, p[4] = {1, 1, 1, 1};
    onyxi_err err;
    onyxi_node *n = pool_node("MaxPool", 8, 1, 2, k);
    tu_attr_ints(n, "dilations", 2, d);
    ck_assert_int_eq(pool_status(n, f32(4, xd, NULL), &err), ONYX_INVALID_MODEL);
    ck_assert_msg(strstr(err.msg, "'dilations' needs opset 10"), "%s", err.msg);

    n = pool_node("AveragePool", 18, 1, 2, k);
    tu_attr_ints(n, "dilations", 2, d);
    ck_assert_int_eq(pool_status(n, f32(4, xd, NULL), &err), ONYX_INVALID_MODEL);
    ck_assert_msg(strstr(err.msg, "needs opset 19"), "%s", err.msg);

    n = pool_node("AveragePool", 1, 1, 2, k);
    tu_attr_int(n, "count_include_pad", 1);
    ck_assert_int_eq(pool_status(n, f32(4, xd, NULL), &err), ONYX_INVALID_MODEL);

    n = pool_node("MaxPool", 12, 1, 0, NULL);
    ck_assert_int_eq(pool_status(n, f32(4, xd, NULL), &err), ONYX_INVALID_MODEL);
    ck_assert_msg(strstr(err.msg, "'kernel_shape' is required"), "%s", err.msg);

    n = pool_node("MaxPool", 12, 1, 2, k);
    tu_attr_int(n, "storage_order", 2);
    ck_assert_int_eq(pool_status(n, f32(4, xd, NULL), &err), ONYX_INVALID_MODEL);
    ck_assert_msg(strstr(err.msg, "'storage_order' is 2"), "%s", err.msg);

    n = pool_node("MaxPool", 12, 1, 2, k);
    tu_attr_string(n, "auto_pad", "SAME_UPPER");
    tu_attr_ints(n, "pads", 4, p);
    ck_assert_int_eq(pool_status(n, f32(4, xd, NULL), &err), ONYX_INVALID_MODEL);
    ck_assert_msg(strstr(err.msg, "'pads' cannot be used"), "%s", err.msg);

    n = pool_node("MaxPool", 12, 1, 2, k);
    tu_attr_ints(n, "pads", 2, p);
    ck_assert_int_eq(pool_status(n, f32(4, xd, NULL), &err), ONYX_INVALID_MODEL);
    ck_assert_msg(strstr(err.msg, "'pads' has 2 values, expected 4"), "%s", err.msg);
}
END_TEST

START_TEST(test_pool_shape_and_type_errors) {
    int64_t k[2] = {2, 2}, k5[2] = {5, 1}, xd[4] = {1, 1, 4, 4}, x3[3] = {1, 1, 4};
    onyxi_err err;
    ck_assert_int_eq(pool_status(pool_node("MaxPool", 12, 1, 2, k), f32(3, x3, NULL), &err),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_msg(strstr(err.msg, "input 'X' has rank 3, expected 4"), "%s", err.msg);
    ck_assert_int_eq(pool_status(pool_node("MaxPool", 12, 1, 2, k5), f32(4, xd, NULL), &err),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_msg(strstr(err.msg, "smaller than the (dilated) kernel size 5"), "%s", err.msg);
    ck_assert_int_eq(pool_status(pool_node("MaxPool", 11, 1, 2, k),
                                 tu_tensor(ONYX_DTYPE_INT8, 4, xd, NULL), &err),
                     ONYX_TYPE_MISMATCH);
    ck_assert_int_eq(pool_status(pool_node("AveragePool", 11, 1, 2, k),
                                 tu_tensor(ONYX_DTYPE_UINT8, 4, xd, NULL), &err),
                     ONYX_TYPE_MISMATCH);
    ck_assert_int_eq(pool_status(pool_node("MaxPool", 12, 1, 2, k),
                                 tu_tensor(ONYX_DTYPE_FLOAT64, 4, xd, NULL), &err),
                     ONYX_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "only float32"), "%s", err.msg);
    ck_assert_int_eq(pool_status(tu_node_new("GlobalMaxPool", 1, 1, 1), f32(2, xd, NULL), &err),
                     ONYX_SHAPE_MISMATCH);
}
END_TEST

/* ---- oneDNN implementation (ops/pool_dnnl.c) against the reference kernel ---- */

static unsigned rng_state;
static int64_t rnd(int64_t lo, int64_t hi) { /* uniform in [lo, hi] */
    rng_state = rng_state * 1103515245u + 12345u;
    return lo + (int64_t)((rng_state >> 8) % (unsigned)(hi - lo + 1));
}

/* Runs n on x with "ref" and with "dnnl" (x, or xb when not NULL: the same values in a
 * blocked layout) and compares. Returns 1 when dnnl ran, 0 when it declined. */
static int pool_dnnl_vs_ref(onyxi_node *n, onyx_tensor *x, onyx_tensor *xb, double atol,
                            double rtol, const char *what) {
    onyx_tensor *want = NULL, *got = NULL;
    onyxi_err err;
    onyx_status rc = tu_run_op(n, &x, &want, "ref", &err);
    ck_assert_msg(rc == ONYX_OK, "%s: ref: %s", what, err.msg);
    onyx_tensor *in = xb ? xb : x;
    rc = tu_run_op(n, &in, &got, "dnnl", &err);
    int ran = rc == ONYX_OK;
    ck_assert_msg(ran || rc == ONYX_UNSUPPORTED, "%s: dnnl: %s", what, err.msg);
    if (ran) {
        ck_assert_ptr_null(got->layout); /* the harness allows no blocked output */
        tu_assert_close(got, want, atol, rtol);
    }
    tu_tensor_free(want);
    tu_tensor_free(got);
    return ran;
}

START_TEST(test_pool_dnnl_matches_ref_random) {
    /* Max pooling is exact; averages sum at most 4^3 values of [-1, 1) in another order, so
     * 1e-6 absolute is ~100 float32 ulps of the largest partial sum: only real bugs fail. */
    const double atol = 1e-6, rtol = 1e-5;
    rng_state = 777u;
    int cases = 0, ran = 0, ran_blocked = 0;
    for (int iter = 0; cases < 300 && iter < 3000; iter++) {
        int S = (int)rnd(1, 3), rank = S + 2;
        int avg = (int)rnd(0, 1), ceil_mode = (int)rnd(0, 1), incl = avg && rnd(0, 1);
        int64_t dims[5] = {rnd(1, 2), rnd(1, 19)}, k[3], s[3], p[6];
        for (int a = 0; a < S; a++) {
            dims[2 + a] = rnd(1, S == 3 ? 7 : 13);
            k[a] = rnd(1, 4);
            s[a] = rnd(1, 3);
            p[a] = rnd(0, k[a] - 1);
            p[S + a] = rnd(0, k[a] - 1);
            if (dims[2 + a] + p[a] + p[S + a] < k[a]) k[a] = 1;
        }
        onyxi_node *n = tu_node_new(avg ? "AveragePool" : "MaxPool", avg ? 11 : 12, 1, 1);
        tu_attr_ints(n, "kernel_shape", S, k);
        tu_attr_ints(n, "strides", S, s);
        tu_attr_ints(n, "pads", 2 * S, p);
        tu_attr_int(n, "ceil_mode", ceil_mode);
        if (avg) tu_attr_int(n, "count_include_pad", incl);
        onyx_tensor *x = tu_tensor_random(rank, dims, (unsigned)iter + 1, -1, 1);
        int blocked = (int)rnd(0, 1);
        onyx_tensor *xb = blocked ? tu_blocked(x, tu_blocked_c8(rank)) : NULL;
        char what[64];
        snprintf(what, sizeof what, "case %d", iter);
        int r = pool_dnnl_vs_ref(n, x, xb, atol, rtol, what);
        ran += r;
        ran_blocked += r && blocked;
        cases++;
        tu_tensor_free(x);
        tu_tensor_free(xb);
        tu_node_free(n);
    }
    ck_assert_int_eq(cases, 300);
    /* declined: avg count_include_pad where ceil_mode adds cells, all-padding windows */
    ck_assert_int_ge(ran, 240);
    ck_assert_int_ge(ran_blocked, 100);
}
END_TEST

START_TEST(test_global_pool_dnnl_matches_ref_random) {
    const double atol = 1e-6, rtol = 1e-5; /* planes of at most 11^3 values in [-1, 1) */
    rng_state = 4242u;
    int ran = 0;
    for (int iter = 0; iter < 120; iter++) {
        int rank = (int)rnd(3, 5);
        int64_t dims[5] = {rnd(1, 2), rnd(1, 21)};
        for (int a = 2; a < rank; a++)
            dims[a] = rnd(1, rank == 5 ? 7 : 11);
        onyxi_node *n = tu_node_new(iter % 2 ? "GlobalMaxPool" : "GlobalAveragePool", 1, 1, 1);
        onyx_tensor *x = tu_tensor_random(rank, dims, (unsigned)iter + 9, -1, 1);
        onyx_tensor *xb = iter % 4 >= 2 ? tu_blocked(x, tu_blocked_c8(rank)) : NULL;
        char what[64];
        snprintf(what, sizeof what, "case %d (%s)", iter, n->op_type);
        ran += pool_dnnl_vs_ref(n, x, xb, atol, rtol, what);
        tu_tensor_free(x);
        tu_tensor_free(xb);
        tu_node_free(n);
    }
    ck_assert_int_eq(ran, 120);
}
END_TEST

/* Hand-computed: 3x3 max windows, stride 2, pads 1, over a 5x5 ramp (v = 5h + w), and the
 * average of the same windows counting the padding (divisor 9). */
START_TEST(test_pool_dnnl_hand_values) {
    float v[25];
    for (int i = 0; i < 25; i++)
        v[i] = (float)i;
    int64_t xd[4] = {1, 1, 5, 5}, yd[4] = {1, 1, 3, 3}, k[2] = {3, 3}, s[2] = {2, 2};
    int64_t p[4] = {1, 1, 1, 1};
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 4, xd, v);
    static const float want_max[9] = {6, 8, 9, 16, 18, 19, 21, 23, 24};
    /* window sums / 9: e.g. top-left holds 0 1 5 6 */
    static const float want_avg[9] = {12.0f / 9, 27.0f / 9, 24.0f / 9,  63.0f / 9, 108.0f / 9,
                                      81.0f / 9,  72.0f / 9, 117.0f / 9, 84.0f / 9};
    for (int avg = 0; avg < 2; avg++) {
        onyxi_node *n = tu_node_new(avg ? "AveragePool" : "MaxPool", 11, 1, 1);
        tu_attr_ints(n, "kernel_shape", 2, k);
        tu_attr_ints(n, "strides", 2, s);
        tu_attr_ints(n, "pads", 4, p);
        if (avg) tu_attr_int(n, "count_include_pad", 1);
        onyx_tensor *y = NULL;
        onyxi_err err;
        ck_assert_msg(tu_run_op(n, &x, &y, "dnnl", &err) == ONYX_OK, "%s", err.msg);
        tu_assert_floats(y, 4, yd, avg ? want_avg : want_max, 1e-6, 1e-6);
        tu_tensor_free(y);
        tu_node_free(n);
    }
    tu_tensor_free(x);
}
END_TEST

/* Cases the oneDNN path must leave to the reference kernel. */
START_TEST(test_pool_dnnl_declines) {
    int64_t xd[4] = {1, 3, 6, 6}, k[2] = {2, 2}, s[2] = {2, 2}, dil[2] = {2, 2};
    onyx_tensor *x = tu_tensor_random(4, xd, 5, -1, 1);
    onyxi_err err;
    for (int c = 0; c < 3; c++) {
        onyxi_node *n = tu_node_new(c == 2 ? "AveragePool" : "MaxPool", c == 2 ? 11 : 12, 1,
                                    c == 0 ? 2 : 1);
        tu_attr_ints(n, "kernel_shape", 2, k);
        if (c == 1) tu_attr_ints(n, "dilations", 2, dil);
        if (c == 2) { /* 5 + 0 pads: ceil mode adds a partial window past the end */
            int64_t xs[4] = {1, 3, 5, 5};
            tu_tensor_free(x);
            x = tu_tensor_random(4, xs, 5, -1, 1);
            tu_attr_ints(n, "strides", 2, s);
            tu_attr_int(n, "ceil_mode", 1);
            tu_attr_int(n, "count_include_pad", 1);
        }
        onyx_tensor *y[2] = {NULL, NULL};
        /* 0: Indices requested; 1: dilated (oneDNN's ref loop); 2: include_pad + ceil_mode */
        ck_assert_int_eq(tu_run_op(n, &x, y, "dnnl", &err), ONYX_UNSUPPORTED);
        tu_node_free(n);
    }
    tu_tensor_free(x);
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
    tc = tcase_create("max_pool");
    tcase_add_test(tc, test_maxpool_2d_strides);
    tcase_add_test(tc, test_maxpool_asymmetric_pads_ignore_padding);
    tcase_add_test(tc, test_maxpool_ceil_mode_adds_partial_window);
    tcase_add_test(tc, test_maxpool_ceil_mode_last_window_starts_inside);
    tcase_add_test(tc, test_maxpool_dilations);
    tcase_add_test(tc, test_maxpool_auto_pad_modes);
    tcase_add_test(tc, test_maxpool_indices_row_major);
    tcase_add_test(tc, test_maxpool_indices_column_major);
    tcase_add_test(tc, test_maxpool_int8_and_uint8);
    tcase_add_test(tc, test_maxpool_3d);
    tcase_add_test(tc, test_maxpool_2d_fast_path_matches_generic);
    suite_add_tcase(s, tc);
    tc = tcase_create("average_pool");
    tcase_add_test(tc, test_avgpool_count_include_pad);
    tcase_add_test(tc, test_avgpool_ceil_mode_partial_window);
    tcase_add_test(tc, test_avgpool_dilations_opset19);
    tcase_add_test(tc, test_avgpool_3d);
    suite_add_tcase(s, tc);
    tc = tcase_create("global_max_pool");
    tcase_add_test(tc, test_globalmaxpool_planes);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_add_test(tc, test_pool_threads_do_not_change_results);
    suite_add_tcase(s, tc);
    tc = tcase_create("dnnl");
    tcase_add_test(tc, test_pool_dnnl_matches_ref_random);
    tcase_add_test(tc, test_global_pool_dnnl_matches_ref_random);
    tcase_add_test(tc, test_pool_dnnl_hand_values);
    tcase_add_test(tc, test_pool_dnnl_declines);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_pool_attribute_errors);
    tcase_add_test(tc, test_pool_shape_and_type_errors);
    tcase_add_test(tc, test_gap_rank2_is_shape_mismatch);
    tcase_add_test(tc, test_gap_wrong_dtype_is_type_mismatch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_pool_suite());
}
