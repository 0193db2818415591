/*
 * Reductions and ArgMax/ArgMin (ops/reduce.c): hand-computed values of every Reduce* kind on
 * the fast [outer, reduced, inner] layouts and on non-contiguous axes, int32/int64 data, empty
 * reduction sets, the axes-attribute versus axes-input versions with noop_with_empty_axes,
 * attribute/shape/dtype errors, and a differential run of random shapes and axis sets against
 * a naive loop, which also checks that the result does not depend on the thread count. The
 * oneDNN implementation (Mean/Max/Min/Sum over trailing dims) against the reference.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const int64_t D23[] = {2, 3};
static const float A23[] = {1, 2, 3, 4, 5, 6};
static const float B23[] = {1, -2, 3, -4, 5, -6};
/* the ONNX reduce examples' [3,2,2] data */
static const int64_t D322[] = {3, 2, 2};
static const float E322[] = {5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2};

/* A reduction node; axes NULL = no axes attribute; keepdims < 0 = attribute absent. */
static onyxi_node *red_node(const char *op, int64_t opset, int n_axes, const int64_t *axes,
                            int keepdims) {
    onyxi_node *n = tu_node_new(op, opset, 1, 1);
    if (axes) tu_attr_ints(n, "axes", n_axes, axes);
    if (keepdims >= 0) tu_attr_int(n, "keepdims", keepdims);
    return n;
}

/* Runs n on one float32 input and checks the float output (atol 1e-6, rtol 1e-6; infinities
 * and NaN must match exactly). */
static void expect_f(onyxi_node *n, int rank, const int64_t *dims, const float *xv, int out_rank,
                     const int64_t *out_dims, const float *want) {
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, xv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyx_status rc = tu_run_op(n, &x, &y, NULL, &err);
    ck_assert_msg(rc == ONYX_OK, "%s-%lld: %s", n->op_type, (long long)n->opset, err.msg);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_FLOAT32);
    ck_assert_int_eq(y->rank, out_rank);
    int64_t count = 1;
    for (int i = 0; i < out_rank; i++) {
        ck_assert_int_eq(y->dims[i], out_dims[i]);
        count *= out_dims[i];
    }
    const float *got = y->data;
    for (int64_t i = 0; i < count; i++) {
        int ok = isnan(want[i])   ? isnan(got[i])
                 : isinf(want[i]) ? got[i] == want[i]
                                  : fabs(got[i] - want[i]) <= 1e-6 + 1e-6 * fabs(want[i]);
        ck_assert_msg(ok, "%s element %lld: got %.9g, want %.9g", n->op_type, (long long)i, got[i],
                      want[i]);
    }
    tu_tensor_free(x);
    tu_tensor_free(y);
    tu_node_free(n);
}

/* Runs n on an integer input and checks dtype, shape and values exactly. */
static void expect_i(onyxi_node *n, onyx_dtype dt, int rank, const int64_t *dims, const void *xv,
                     int out_rank, const int64_t *out_dims, onyx_dtype out_dt,
                     const int64_t *want) {
    onyx_tensor *x = tu_tensor(dt, rank, dims, xv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyx_status rc = tu_run_op(n, &x, &y, NULL, &err);
    ck_assert_msg(rc == ONYX_OK, "%s: %s", n->op_type, err.msg);
    ck_assert_int_eq(y->dtype, out_dt);
    ck_assert_int_eq(y->rank, out_rank);
    for (int i = 0; i < out_rank; i++)
        ck_assert_int_eq(y->dims[i], out_dims[i]);
    int64_t count = 1;
    for (int i = 0; i < out_rank; i++)
        count *= out_dims[i];
    for (int64_t i = 0; i < count; i++) {
        int64_t got = out_dt == ONYX_DTYPE_INT32 ? ((const int32_t *)y->data)[i]
                                                 : ((const int64_t *)y->data)[i];
        ck_assert_msg(got == want[i], "element %lld: got %lld, want %lld", (long long)i,
                      (long long)got, (long long)want[i]);
    }
    tu_tensor_free(x);
    tu_tensor_free(y);
    tu_node_free(n);
}

/* Runs n on a float32 input and returns the status; err receives the message. */
static onyx_status run_status(onyxi_node *n, onyx_dtype dt, int rank, const int64_t *dims,
                              onyxi_err *err) {
    onyx_tensor *x = tu_tensor(dt, rank, dims, NULL);
    onyx_tensor *y = NULL;
    onyx_status rc = tu_run_op(n, &x, &y, NULL, err);
    tu_tensor_free(x);
    tu_tensor_free(y);
    tu_node_free(n);
    return rc;
}

/* ArgMax-13 along axis 1 without keepdims (used by the float64 test). */
static onyxi_node *arg_node_f64(void) {
    onyxi_node *n = tu_node_new("ArgMax", 13, 1, 1);
    tu_attr_int(n, "axis", 1);
    tu_attr_int(n, "keepdims", 0);
    return n;
}

/* ---- values ---- */

START_TEST(test_reduce_sum_examples) {
    /* ONNX example: axes [1] keepdims 1 (outputs side by side: the inner layout) */
    const float want[] = {25, 3, 70, 3, 115, 3};
    expect_f(red_node("ReduceSum", 11, 1, (int64_t[]){1}, 1), 3, D322, E322, 3,
             (int64_t[]){3, 1, 2}, want);
    /* last axis (the tail layout), keepdims 0 */
    expect_f(red_node("ReduceSum", 11, 1, (int64_t[]){1}, 0), 2, D23, A23, 1, (int64_t[]){2},
             (const float[]){6, 15});
    /* default: every axis, keepdims 1 */
    expect_f(red_node("ReduceSum", 11, 0, NULL, -1), 2, D23, A23, 2, (int64_t[]){1, 1},
             (const float[]){21});
}
END_TEST

START_TEST(test_reduce_noncontiguous_axes) {
    /* axes 0 and 2 of [3,2,2]: (5+1)+(30+1)+(55+1) and (20+2)+(40+2)+(60+2) */
    expect_f(red_node("ReduceSum", 11, 2, (int64_t[]){0, 2}, 0), 3, D322, E322, 1, (int64_t[]){2},
             (const float[]){93, 126});
    expect_f(red_node("ReduceMax", 11, 2, (int64_t[]){2, 0}, 1), 3, D322, E322, 3,
             (int64_t[]){1, 2, 1}, (const float[]){55, 60});
    expect_f(red_node("ReduceMean", 11, 2, (int64_t[]){0, 2}, 0), 3, D322, E322, 1, (int64_t[]){2},
             (const float[]){15.5f, 21});
}
END_TEST

START_TEST(test_reduce_every_kind) {
    const int64_t o2[] = {2}, o3[] = {3};
    const int64_t ax1[] = {1}, ax0[] = {0};
    expect_f(red_node("ReduceMean", 13, 1, ax0, 0), 2, D23, A23, 1, o3,
             (const float[]){2.5f, 3.5f, 4.5f});
    expect_f(red_node("ReduceMax", 13, 1, ax1, 0), 2, D23, B23, 1, o2, (const float[]){3, 5});
    expect_f(red_node("ReduceMin", 13, 1, (int64_t[]){-1}, 0), 2, D23, B23, 1, o2,
             (const float[]){-2, -6});
    expect_f(red_node("ReduceProd", 13, 1, ax1, 0), 2, D23, B23, 1, o2, (const float[]){-6, 120});
    expect_f(red_node("ReduceL1", 13, 1, ax1, 0), 2, D23, B23, 1, o2, (const float[]){6, 15});
    expect_f(red_node("ReduceL2", 13, 1, ax1, 0), 2, D23, B23, 1, o2,
             (const float[]){3.7416574f, 8.7749644f});
    expect_f(red_node("ReduceLogSum", 13, 1, ax1, 0), 2, D23, A23, 1, o2,
             (const float[]){1.7917595f, 2.7080503f});
    expect_f(red_node("ReduceLogSumExp", 13, 1, ax1, 0), 2, D23, A23, 1, o2,
             (const float[]){3.4076059f, 6.4076061f});
    expect_f(red_node("ReduceSumSquare", 13, 1, ax0, 0), 2, D23, B23, 1, o3,
             (const float[]){17, 29, 45});
}
END_TEST

START_TEST(test_reduce_logsumexp_extremes) {
    /* exp(1000) overflows even in double; -inf rows stay -inf; NaN propagates */
    const float xv[] = {1000, 1000, -INFINITY, -INFINITY, INFINITY, 1, NAN, 1};
    onyxi_node *n = red_node("ReduceLogSumExp", 13, 1, (int64_t[]){1}, 0);
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){4, 2}, xv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, &x, &y, NULL, &err), ONYX_OK);
    const float *yv = y->data;
    ck_assert_float_eq_tol(yv[0], 1000.6931f, 1e-3f);
    ck_assert(isinf(yv[1]) && yv[1] < 0);
    ck_assert(isinf(yv[2]) && yv[2] > 0);
    ck_assert(isnan(yv[3]));
    tu_tensor_free(x);
    tu_tensor_free(y);
    tu_node_free(n);
}
END_TEST

START_TEST(test_reduce_max_min_propagate_nan) {
    const float xv[] = {1, NAN, 3, 4, 5, 6};
    onyxi_node *n = red_node("ReduceMax", 13, 1, (int64_t[]){1}, 0);
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 2, D23, xv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, &x, &y, NULL, &err), ONYX_OK);
    ck_assert(isnan(((const float *)y->data)[0]));
    ck_assert_float_eq(((const float *)y->data)[1], 6.0f);
    tu_tensor_free(y);
    tu_node_free(n);
    n = red_node("ReduceMin", 13, 1, (int64_t[]){0}, 0);
    ck_assert_int_eq(tu_run_op(n, &x, &y, NULL, &err), ONYX_OK);
    ck_assert_float_eq(((const float *)y->data)[0], 1.0f);
    ck_assert(isnan(((const float *)y->data)[1]));
    tu_tensor_free(x);
    tu_tensor_free(y);
    tu_node_free(n);
}
END_TEST

START_TEST(test_reduce_integers) {
    const int64_t v64[] = {1, -2, 3, 4, 5, -6};
    const int32_t v32[] = {1, -2, 3, 4, 5, -6};
    const int64_t ax0[] = {0}, ax1[] = {1};
    expect_i(red_node("ReduceSum", 11, 1, ax1, 0), ONYX_DTYPE_INT64, 2, D23, v64, 1, (int64_t[]){2},
             ONYX_DTYPE_INT64, (const int64_t[]){2, 3});
    /* every axis without keepdims: a scalar */
    expect_i(red_node("ReduceMax", 11, 0, NULL, 0), ONYX_DTYPE_INT64, 2, D23, v64, 0, NULL,
             ONYX_DTYPE_INT64, (const int64_t[]){5});
    /* 2.5, 1.5, -1.5 truncated toward zero like numpy's mean().astype(int) */
    expect_i(red_node("ReduceMean", 11, 1, ax0, 0), ONYX_DTYPE_INT64, 2, D23, v64, 1,
             (int64_t[]){3}, ONYX_DTYPE_INT64, (const int64_t[]){2, 1, -1});
    expect_i(red_node("ReduceMin", 11, 1, ax1, 1), ONYX_DTYPE_INT32, 2, D23, v32, 2,
             (int64_t[]){2, 1}, ONYX_DTYPE_INT32, (const int64_t[]){-2, -6});
    expect_i(red_node("ReduceProd", 11, 1, ax1, 0), ONYX_DTYPE_INT32, 2, D23, v32, 1,
             (int64_t[]){2}, ONYX_DTYPE_INT32, (const int64_t[]){-6, -120});
    expect_i(red_node("ReduceL1", 11, 1, ax1, 0), ONYX_DTYPE_INT32, 2, D23, v32, 1, (int64_t[]){2},
             ONYX_DTYPE_INT32, (const int64_t[]){6, 15});
    expect_i(red_node("ReduceSumSquare", 11, 1, ax0, 0), ONYX_DTYPE_INT64, 2, D23, v64, 1,
             (int64_t[]){3}, ONYX_DTYPE_INT64, (const int64_t[]){17, 29, 45});
}
END_TEST

START_TEST(test_reduce_float64) {
    /* the ONNX LogSumExp node tests use double data */
    const double xv[] = {1, 2, 3, 4, 5, 6};
    onyxi_node *n = red_node("ReduceLogSumExp", 13, 1, (int64_t[]){1}, 0);
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT64, 2, D23, xv);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, &x, &y, NULL, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_FLOAT64);
    ck_assert_double_eq_tol(((const double *)y->data)[0], 3.40760596444438, 1e-12);
    ck_assert_double_eq_tol(((const double *)y->data)[1], 6.40760596444438, 1e-12);
    tu_tensor_free(y);
    tu_node_free(n);
    n = arg_node_f64();
    ck_assert_int_eq(tu_run_op(n, &x, &y, NULL, &err), ONYX_OK);
    ck_assert_int_eq(((const int64_t *)y->data)[0], 2);
    ck_assert_int_eq(((const int64_t *)y->data)[1], 2);
    tu_tensor_free(x);
    tu_tensor_free(y);
    tu_node_free(n);
}
END_TEST

START_TEST(test_reduce_size_one_axes_and_scalars) {
    /* reducing size-1 axes still applies the final step: L2 of one value is |x| */
    const int64_t d[] = {2, 1, 3};
    expect_f(red_node("ReduceL2", 13, 1, (int64_t[]){1}, 0), 3, d, B23, 2, D23,
             (const float[]){1, 2, 3, 4, 5, 6});
    /* a scalar reduces over no axes */
    expect_f(red_node("ReduceLogSum", 13, 0, NULL, 1), 0, NULL, (const float[]){1.0f}, 0, NULL,
             (const float[]){0.0f});
}
END_TEST

START_TEST(test_reduce_empty_set_gives_identity) {
    const int64_t d[] = {2, 0};
    const int64_t o[] = {2};
    const int64_t ax[] = {1};
    expect_f(red_node("ReduceMax", 13, 1, ax, 0), 2, d, NULL, 1, o,
             (const float[]){-INFINITY, -INFINITY});
    expect_f(red_node("ReduceMin", 13, 1, ax, 0), 2, d, NULL, 1, o,
             (const float[]){INFINITY, INFINITY});
    expect_f(red_node("ReduceSum", 11, 1, ax, 0), 2, d, NULL, 1, o, (const float[]){0, 0});
    expect_f(red_node("ReduceProd", 13, 1, ax, 0), 2, d, NULL, 1, o, (const float[]){1, 1});
    expect_f(red_node("ReduceMean", 13, 1, ax, 0), 2, d, NULL, 1, o, (const float[]){NAN, NAN});
    expect_f(red_node("ReduceLogSumExp", 13, 1, ax, 0), 2, d, NULL, 1, o,
             (const float[]){-INFINITY, -INFINITY});
    expect_f(red_node("ReduceL2", 13, 1, ax, 0), 2, d, NULL, 1, o, (const float[]){0, 0});
    expect_i(red_node("ReduceMax", 13, 1, ax, 0), ONYX_DTYPE_INT64, 2, d, NULL, 1, o,
             ONYX_DTYPE_INT64, (const int64_t[]){INT64_MIN, INT64_MIN});
    expect_i(red_node("ReduceMin", 13, 1, ax, 0), ONYX_DTYPE_INT32, 2, d, NULL, 1, o,
             ONYX_DTYPE_INT32, (const int64_t[]){INT32_MAX, INT32_MAX});
    /* an empty output: nothing to compute */
    expect_f(red_node("ReduceSum", 11, 1, ax, 1), 2, (int64_t[]){0, 3}, NULL, 2, (int64_t[]){0, 1},
             NULL);
}
END_TEST

/* ---- versions ---- */

/* ReduceSum-13 (or op at opset) with the axes input (n_axes < 0: input absent). */
static onyx_status run_axes_input(const char *op, int64_t opset, int n_axes, const int64_t *axes,
                                  int noop, onyx_tensor **y, onyxi_err *err) {
    onyxi_node *n = tu_node_new(op, opset, n_axes >= 0 ? 2 : 1, 1);
    if (noop >= 0) tu_attr_int(n, "noop_with_empty_axes", noop);
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 2, D23, A23);
    onyx_tensor *a = n_axes >= 0 ? tu_tensor(ONYX_DTYPE_INT64, 1, (int64_t[]){n_axes}, axes) : NULL;
    onyx_tensor *in[2] = {x, a};
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    tu_tensor_free(x);
    tu_tensor_free(a);
    tu_node_free(n);
    return rc;
}

START_TEST(test_reduce_axes_input_versions) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_axes_input("ReduceSum", 13, 1, (int64_t[]){1}, -1, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){2, 1}, (const float[]){6, 15}, 0, 0);
    tu_tensor_free(y);
    ck_assert_int_eq(run_axes_input("ReduceMean", 18, 1, (int64_t[]){-2}, -1, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){1, 3}, (const float[]){2.5f, 3.5f, 4.5f}, 0, 0);
    tu_tensor_free(y);
    ck_assert_int_eq(run_axes_input("ReduceMax", 18, 2, (int64_t[]){0, 1}, 0, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){1, 1}, (const float[]){6}, 0, 0);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_reduce_noop_with_empty_axes) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    /* empty axes input and noop 1: the identity (not even L2's sqrt(x*x)) */
    ck_assert_int_eq(run_axes_input("ReduceSum", 13, 0, NULL, 1, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, D23, A23, 0, 0);
    tu_tensor_free(y);
    ck_assert_int_eq(run_axes_input("ReduceL2", 18, -1, NULL, 1, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, D23, A23, 0, 0);
    tu_tensor_free(y);
    /* noop 0 (the default): empty or absent axes reduce everything */
    ck_assert_int_eq(run_axes_input("ReduceSum", 13, 0, NULL, 0, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){1, 1}, (const float[]){21}, 0, 0);
    tu_tensor_free(y);
    ck_assert_int_eq(run_axes_input("ReduceProd", 18, -1, NULL, -1, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){1, 1}, (const float[]){720}, 0, 0);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_reduce_axes_input_absent_slot) {
    /* ReduceSum-13 with input 1 named "" (absent): reduce all */
    onyxi_node *n = tu_node_new("ReduceSum", 13, 2, 1);
    tu_node_absent_input(n, 1);
    tu_attr_int(n, "keepdims", 0);
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 2, D23, A23);
    onyx_tensor *in[2] = {x, NULL};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_msg(tu_run_op(n, in, &y, NULL, &err) == ONYX_OK, "%s", err.msg);
    tu_assert_floats(y, 0, NULL, (const float[]){21}, 0, 0);
    tu_tensor_free(x);
    tu_tensor_free(y);
    tu_node_free(n);
}
END_TEST

START_TEST(test_reduce_axes_data_unknown_at_infer) {
    onyxi_node *n = tu_node_new("ReduceSum", 13, 2, 1);
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 2, D23, A23);
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_INT64, 1, (int64_t[]){1}, (int64_t[]){0});
    void *data = a->data;
    a->data = NULL; /* computed at run time */
    onyx_tensor *in[2] = {x, a};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_infer_op(n, in, &y, &err), ONYX_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "run time"));
    a->data = data;
    tu_tensor_free(x);
    tu_tensor_free(a);
    tu_node_free(n);
}
END_TEST

START_TEST(test_reduce_version_specific_attributes) {
    onyxi_err err;
    /* from ReduceSum-13 axes are an input */
    ck_assert_int_eq(run_status(red_node("ReduceSum", 13, 1, (int64_t[]){0}, 1), ONYX_DTYPE_FLOAT32,
                                2, D23, &err),
                     ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'axes'"));
    ck_assert_int_eq(run_status(red_node("ReduceMean", 18, 1, (int64_t[]){0}, 1),
                                ONYX_DTYPE_FLOAT32, 2, D23, &err),
                     ONYX_INVALID_MODEL);
    /* but ReduceMean-13 still takes the attribute and has no noop_with_empty_axes */
    ck_assert_int_eq(run_status(red_node("ReduceMean", 13, 1, (int64_t[]){0}, 1),
                                ONYX_DTYPE_FLOAT32, 2, D23, &err),
                     ONYX_OK);
    onyxi_node *n = red_node("ReduceMean", 13, 0, NULL, 1);
    tu_attr_int(n, "noop_with_empty_axes", 1);
    ck_assert_int_eq(run_status(n, ONYX_DTYPE_FLOAT32, 2, D23, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "opset 18"));
    /* a second input is refused where axes are an attribute */
    n = tu_node_new("ReduceMax", 13, 2, 1);
    ck_assert_int_eq(run_status(n, ONYX_DTYPE_FLOAT32, 2, D23, &err), ONYX_INVALID_MODEL);
    /* negative axes are official from opset 11; older PyTorch exports use them too */
    expect_f(red_node("ReduceSum", 1, 1, (int64_t[]){-1}, 0), 2, D23, A23, 1, (int64_t[]){2},
             (const float[]){6, 15});
    expect_f(red_node("ReduceSum", 11, 1, (int64_t[]){-1}, 0), 2, D23, A23, 1, (int64_t[]){2},
             (const float[]){6, 15});
}
END_TEST

/* ---- errors ---- */

START_TEST(test_reduce_bad_axes) {
    onyxi_err err;
    ck_assert_int_eq(run_status(red_node("ReduceSum", 11, 2, (int64_t[]){1, -1}, 1),
                                ONYX_DTYPE_FLOAT32, 2, D23, &err),
                     ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "repeats axis 1"));
    ck_assert_int_eq(run_status(red_node("ReduceMax", 11, 1, (int64_t[]){2}, 1), ONYX_DTYPE_FLOAT32,
                                2, D23, &err),
                     ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "axis 2"));
    ck_assert_int_eq(run_status(red_node("ReduceMax", 11, 1, (int64_t[]){-3}, 1),
                                ONYX_DTYPE_FLOAT32, 2, D23, &err),
                     ONYX_INVALID_MODEL);
    onyxi_node *n = red_node("ReduceMax", 11, 1, (int64_t[]){0}, 2);
    ck_assert_int_eq(run_status(n, ONYX_DTYPE_FLOAT32, 2, D23, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'keepdims' is 2"));
}
END_TEST

START_TEST(test_reduce_axes_input_must_be_int64_vector) {
    onyxi_node *n = tu_node_new("ReduceSum", 13, 2, 1);
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 2, D23, A23);
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_INT32, 1, (int64_t[]){1}, (int32_t[]){0});
    onyx_tensor *in[2] = {x, a};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, in, &y, NULL, &err), ONYX_TYPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "int32"));
    tu_tensor_free(a);
    a = tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){1, 1}, (int64_t[]){0});
    in[1] = a;
    ck_assert_int_eq(tu_run_op(n, in, &y, NULL, &err), ONYX_SHAPE_MISMATCH);
    tu_tensor_free(a);
    tu_tensor_free(x);
    tu_node_free(n);
}
END_TEST

START_TEST(test_reduce_unsupported_dtypes) {
    onyxi_err err;
    ck_assert_int_eq(
        run_status(red_node("ReduceL2", 13, 0, NULL, 1), ONYX_DTYPE_INT64, 2, D23, &err),
        ONYX_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "int64"));
    ck_assert_ptr_nonnull(strstr(err.msg, "ReduceL2"));
    ck_assert_int_eq(
        run_status(red_node("ReduceSum", 11, 0, NULL, 1), ONYX_DTYPE_FLOAT16, 2, D23, &err),
        ONYX_UNSUPPORTED);
    ck_assert_int_eq(
        run_status(red_node("ReduceMax", 13, 0, NULL, 1), ONYX_DTYPE_UINT8, 2, D23, &err),
        ONYX_UNSUPPORTED);
}
END_TEST

/* ---- ArgMax / ArgMin ---- */

static onyxi_node *arg_node(const char *op, int64_t opset, int64_t axis, int keepdims, int last) {
    onyxi_node *n = tu_node_new(op, opset, 1, 1);
    tu_attr_int(n, "axis", axis);
    if (keepdims >= 0) tu_attr_int(n, "keepdims", keepdims);
    if (last >= 0) tu_attr_int(n, "select_last_index", last);
    return n;
}

START_TEST(test_argmax_examples) {
    const float xv[] = {2, 1, 3, 10};
    const int64_t d[] = {2, 2};
    expect_i(arg_node("ArgMax", 13, 0, -1, -1), ONYX_DTYPE_FLOAT32, 2, d, xv, 2, (int64_t[]){1, 2},
             ONYX_DTYPE_INT64, (const int64_t[]){1, 1});
    expect_i(arg_node("ArgMax", 13, 1, 0, -1), ONYX_DTYPE_FLOAT32, 2, d, xv, 1, (int64_t[]){2},
             ONYX_DTYPE_INT64, (const int64_t[]){0, 1});
    expect_i(arg_node("ArgMin", 11, -1, 1, -1), ONYX_DTYPE_FLOAT32, 2, d, xv, 2, (int64_t[]){2, 1},
             ONYX_DTYPE_INT64, (const int64_t[]){1, 0});
    /* [3,2,2] along the middle axis: the column-at-a-time inner layout */
    expect_i(arg_node("ArgMin", 13, 1, 0, -1), ONYX_DTYPE_FLOAT32, 3, D322, E322, 2,
             (int64_t[]){3, 2}, ONYX_DTYPE_INT64, (const int64_t[]){0, 0, 0, 0, 0, 0});
    expect_i(arg_node("ArgMax", 13, 0, 0, -1), ONYX_DTYPE_FLOAT32, 3, D322, E322, 2,
             (int64_t[]){2, 2}, ONYX_DTYPE_INT64, (const int64_t[]){2, 0, 2, 0});
}
END_TEST

START_TEST(test_argmax_select_last_index) {
    const float xv[] = {2, 2, 3, 10};
    const int64_t d[] = {2, 2};
    expect_i(arg_node("ArgMax", 12, 1, 1, 1), ONYX_DTYPE_FLOAT32, 2, d, xv, 2, (int64_t[]){2, 1},
             ONYX_DTYPE_INT64, (const int64_t[]){1, 1});
    expect_i(arg_node("ArgMax", 12, 1, 1, 0), ONYX_DTYPE_FLOAT32, 2, d, xv, 2, (int64_t[]){2, 1},
             ONYX_DTYPE_INT64, (const int64_t[]){0, 1});
    const int32_t iv[] = {3, 7, 7, 1, 1};
    const int64_t d5[] = {5};
    expect_i(arg_node("ArgMax", 13, 0, 0, 0), ONYX_DTYPE_INT32, 1, d5, iv, 0, NULL,
             ONYX_DTYPE_INT64, (const int64_t[]){1});
    expect_i(arg_node("ArgMax", 13, 0, 0, 1), ONYX_DTYPE_INT32, 1, d5, iv, 0, NULL,
             ONYX_DTYPE_INT64, (const int64_t[]){2});
    expect_i(arg_node("ArgMin", 13, 0, 1, 1), ONYX_DTYPE_INT32, 1, d5, iv, 1, (int64_t[]){1},
             ONYX_DTYPE_INT64, (const int64_t[]){4});
    const int64_t lv[] = {-5, 9, -5};
    expect_i(arg_node("ArgMin", 13, 0, 1, 1), ONYX_DTYPE_INT64, 1, (int64_t[]){3}, lv, 1,
             (int64_t[]){1}, ONYX_DTYPE_INT64, (const int64_t[]){2});
}
END_TEST

START_TEST(test_argmax_nan_is_extreme) {
    /* np.argmax / np.argmin return the first NaN; the reversed search finds the last one */
    const float xv[] = {1, NAN, 3, NAN};
    const int64_t d[] = {4};
    expect_i(arg_node("ArgMax", 13, 0, 0, 0), ONYX_DTYPE_FLOAT32, 1, d, xv, 0, NULL,
             ONYX_DTYPE_INT64, (const int64_t[]){1});
    expect_i(arg_node("ArgMax", 13, 0, 0, 1), ONYX_DTYPE_FLOAT32, 1, d, xv, 0, NULL,
             ONYX_DTYPE_INT64, (const int64_t[]){3});
    expect_i(arg_node("ArgMin", 13, 0, 0, 0), ONYX_DTYPE_FLOAT32, 1, d, xv, 0, NULL,
             ONYX_DTYPE_INT64, (const int64_t[]){1});
}
END_TEST

START_TEST(test_argmax_errors) {
    onyxi_err err;
    const int64_t d[] = {2, 2};
    ck_assert_int_eq(run_status(arg_node("ArgMax", 11, 0, 1, 1), ONYX_DTYPE_FLOAT32, 2, d, &err),
                     ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "opset 12"));
    ck_assert_int_eq(run_status(arg_node("ArgMax", 1, -3, 1, -1), ONYX_DTYPE_FLOAT32, 2, d, &err),
                     ONYX_INVALID_MODEL);
    ck_assert_int_eq(run_status(arg_node("ArgMin", 13, 2, 1, -1), ONYX_DTYPE_FLOAT32, 2, d, &err),
                     ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "axis 2"));
    ck_assert_int_eq(run_status(arg_node("ArgMin", 13, 0, 1, -1), ONYX_DTYPE_UINT8, 2, d, &err),
                     ONYX_UNSUPPORTED);
    ck_assert_int_eq(run_status(arg_node("ArgMax", 13, 1, 1, -1), ONYX_DTYPE_FLOAT32, 2,
                                (int64_t[]){2, 0}, &err),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "size 0"));
    ck_assert_int_eq(
        run_status(arg_node("ArgMax", 13, 0, 1, -1), ONYX_DTYPE_FLOAT32, 0, NULL, &err),
        ONYX_SHAPE_MISMATCH);
}
END_TEST

/* ---- differential ---- */

/* Runs n on x like tu_run_op but with `threads` threads; returns the output. */
static onyx_tensor *run_threads(onyxi_node *n, onyx_tensor *x, int threads) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_msg(tu_infer_op(n, &x, &y, &err) == ONYX_OK, "%s", err.msg);
    y->data = calloc(1, y->nbytes + 64);
    const onyxi_op *op = onyxi_op_find("", n->op_type, n->opset, &err);
    ck_assert_ptr_nonnull(op);
    const onyx_tensor *ins[1] = {x};
    onyx_tensor *outs[1] = {y};
    onyxi_exec ex = {.node = n, .n_in = 1, .in = ins, .n_out = 1, .out = outs,
                     .num_threads = threads, .err = &err};
    const onyxi_impl *impl = tu_ref_impl(op);
    ck_assert_msg(impl->init(&ex) == ONYX_OK, "%s", err.msg);
    ck_assert_msg(impl->run(&ex) == ONYX_OK, "%s", err.msg);
    impl->fini(&ex);
    return y;
}

/* The naive reference: every input element added to its output, in double. */
static void naive(const char *op, const onyx_tensor *x, unsigned mask, double *out, int64_t n_out) {
    const float *xv = x->data;
    int64_t count = 1, n_in = 1;
    for (int i = 0; i < x->rank; i++) {
        n_in *= x->dims[i];
        if (mask & (1u << i)) count *= x->dims[i];
    }
    int is_max = strcmp(op, "ReduceMax") == 0, is_lse = strcmp(op, "ReduceLogSumExp") == 0;
    double *mx = calloc((size_t)n_out, sizeof *mx);
    for (int64_t o = 0; o < n_out; o++) {
        out[o] = is_max ? -INFINITY : 0.0;
        mx[o] = -INFINITY;
    }
    for (int pass = is_lse ? 0 : 1; pass < 2; pass++) {
        for (int64_t e = 0; e < n_in; e++) {
            int64_t rem = e, o = 0, scale = 1;
            for (int i = x->rank - 1; i >= 0; i--) {
                int64_t idx = rem % x->dims[i];
                rem /= x->dims[i];
                if (!(mask & (1u << i))) {
                    o += idx * scale;
                    scale *= x->dims[i];
                }
            }
            double v = xv[e];
            if (pass == 0)
                mx[o] = v > mx[o] ? v : mx[o];
            else if (is_max)
                out[o] = v > out[o] ? v : out[o];
            else if (is_lse)
                out[o] += exp(v - mx[o]);
            else if (strcmp(op, "ReduceL2") == 0)
                out[o] += v * v;
            else
                out[o] += v;
        }
    }
    for (int64_t o = 0; o < n_out; o++) {
        if (strcmp(op, "ReduceMean") == 0) out[o] /= (double)count;
        if (strcmp(op, "ReduceL2") == 0) out[o] = sqrt(out[o]);
        if (is_lse) out[o] = mx[o] + log(out[o]);
    }
    free(mx);
}

/* Every axis subset of x for each kind: the ref kernel against the naive loop (rtol 1e-5,
 * float32 output rounding of different summation orders), and 1 thread against 3 bitwise. */
static void differential(int rank, const int64_t *dims, unsigned seed) {
    static const char *ops[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceL2",
                                "ReduceLogSumExp"};
    onyx_tensor *x = tu_tensor_random(rank, dims, seed, -2.0f, 2.0f);
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
        for (unsigned mask = 1; mask < (1u << rank); mask++) {
            int64_t axes[ONYXI_MAX_RANK];
            int na = 0;
            for (int i = 0; i < rank; i++)
                if (mask & (1u << i)) axes[na++] = (i + mask) % 2 ? i - rank : i;
            onyxi_node *n = red_node(ops[k], 11, na, axes, (int)(mask % 2));
            onyx_tensor *y1 = run_threads(n, x, 1), *y3 = run_threads(n, x, 3);
            ck_assert_uint_eq(y1->nbytes, y3->nbytes);
            ck_assert_msg(memcmp(y1->data, y3->data, y1->nbytes) == 0,
                          "%s mask %u: 1 and 3 threads differ", ops[k], mask);
            int64_t n_out = (int64_t)(y1->nbytes / sizeof(float));
            double *want = calloc((size_t)n_out, sizeof *want);
            naive(ops[k], x, mask, want, n_out);
            const float *got = y1->data;
            for (int64_t o = 0; o < n_out; o++)
                ck_assert_msg(fabs(got[o] - want[o]) <= 1e-5 + 1e-5 * fabs(want[o]),
                              "%s mask %u output %lld: got %.9g want %.9g", ops[k], mask,
                              (long long)o, got[o], want[o]);
            free(want);
            tu_tensor_free(y1);
            tu_tensor_free(y3);
            tu_node_free(n);
        }
    tu_tensor_free(x);
}

START_TEST(test_reduce_ref_matches_naive_small) {
    differential(3, (int64_t[]){3, 1, 5}, 1);
    differential(4, (int64_t[]){2, 3, 4, 5}, 2);
    differential(5, (int64_t[]){2, 1, 3, 2, 3}, 3);
    differential(2, (int64_t[]){7, 130}, 4); /* inner rows longer than one block */
}
END_TEST

START_TEST(test_reduce_ref_threads_large) {
    /* above the size where threads start */
    differential(4, (int64_t[]){8, 33, 17, 9}, 5);
}
END_TEST

/* Seeded generator for the dnnl-vs-ref test. */
static unsigned dnnl_rng = 1;
static int64_t rnd(int64_t lo, int64_t hi) { /* uniform in [lo, hi] */
    dnnl_rng = dnnl_rng * 1103515245u + 12345u;
    return lo + (int64_t)((dnnl_rng >> 8) % (unsigned)(hi - lo + 1));
}

START_TEST(test_reduce_dnnl_matches_ref_random) {
    /* Max/Min are exact; Sum/Mean accumulate in float32 (the reference in double): with
     * values in [0.5, 1.5) sums of <= 4000 terms stay within 1e-5 relative. */
    static const char *ops[] = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum"};
    dnnl_rng = 20241127u;
    int dnnl_cases = 0, expected = 0;
    for (int iter = 0; iter < 120; iter++) {
        int rank = (int)rnd(1, 4), op = (int)rnd(0, 3), keep = (int)rnd(0, 1);
        int64_t dims[4], axes[4];
        for (int i = 0; i < rank; i++)
            dims[i] = rnd(1, 3) == 1 ? 1 : rnd(2, 15);
        /* two out of three cases reduce a trailing block of dims, the rest a random set */
        int trailing = rnd(0, 2) != 0, n_axes = 0;
        int first = (int)rnd(0, rank - 1);
        for (int i = 0; i < rank; i++)
            if (trailing ? i >= first : rnd(0, 1) == 1) axes[n_axes++] = i;
        if (n_axes == 0) axes[n_axes++] = rank - 1;
        /* what oneDNN takes: a real reduced dim, and no real kept dim after one */
        int seen = 0, takes = 1, reduces = 0;
        for (int i = 0; i < rank; i++) {
            int red = 0;
            for (int j = 0; j < n_axes; j++)
                red |= axes[j] == i;
            if (red && dims[i] > 1) seen = reduces = 1;
            if (!red && dims[i] > 1 && seen) takes = 0;
        }
        takes &= reduces;
        onyx_tensor *x = tu_tensor_random(rank, dims, (unsigned)iter + 1, 0.5f, 1.5f);
        onyx_tensor *in[1] = {x};
        onyxi_node *n = tu_node_new(ops[op], 13, 1, 1);
        if (op == 3) { /* ReduceSum-13 takes axes as an input */
            tu_node_free(n);
            n = tu_node_new(ops[op], 11, 1, 1);
        }
        tu_attr_ints(n, "axes", n_axes, axes);
        tu_attr_int(n, "keepdims", keep);
        onyx_tensor *want = NULL, *got = NULL;
        onyxi_err err;
        ck_assert_int_eq(tu_run_op(n, in, &want, "ref", &err), ONYX_OK);
        onyx_status rc = tu_run_op(n, in, &got, "dnnl", &err);
        if (takes) {
            ck_assert_msg(rc == ONYX_OK, "case %d (%s, rank %d): %s", iter, ops[op], rank,
                          err.msg);
            tu_assert_close(got, want, 0, op < 1 || op > 2 ? 1e-5 : 0);
            dnnl_cases++;
        } else {
            ck_assert_int_eq(rc, ONYX_UNSUPPORTED);
        }
        expected += takes;
        tu_tensor_free(want);
        tu_tensor_free(got);
        tu_tensor_free(x);
        tu_node_free(n);
    }
    ck_assert_int_eq(dnnl_cases, expected);
    ck_assert_int_ge(dnnl_cases, 60);
}
END_TEST

START_TEST(test_reduce_dnnl_declines_other_kinds) {
    onyx_tensor *x = tu_tensor_random(2, (int64_t[]){3, 4}, 5, -1, 1);
    onyx_tensor *in[1] = {x}, *y = NULL;
    onyxi_err err;
    static const char *others[] = {"ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSumExp",
                                   "ReduceSumSquare"};
    for (int i = 0; i < 5; i++) {
        onyxi_node *n = tu_node_new(others[i], 13, 1, 1);
        tu_attr_ints(n, "axes", 1, (int64_t[]){1});
        ck_assert_int_eq(tu_run_op(n, in, &y, "dnnl", &err), ONYX_UNSUPPORTED);
        tu_node_free(n);
    }
    tu_tensor_free(x);
}
END_TEST

static Suite *ops_reduce_suite(void) {
    Suite *s = suite_create("ops_reduce");
    TCase *tc = tcase_create("values");
    tcase_add_test(tc, test_reduce_sum_examples);
    tcase_add_test(tc, test_reduce_noncontiguous_axes);
    tcase_add_test(tc, test_reduce_every_kind);
    tcase_add_test(tc, test_reduce_logsumexp_extremes);
    tcase_add_test(tc, test_reduce_max_min_propagate_nan);
    tcase_add_test(tc, test_reduce_integers);
    tcase_add_test(tc, test_reduce_float64);
    tcase_add_test(tc, test_reduce_size_one_axes_and_scalars);
    tcase_add_test(tc, test_reduce_empty_set_gives_identity);
    suite_add_tcase(s, tc);
    tc = tcase_create("versions");
    tcase_add_test(tc, test_reduce_axes_input_versions);
    tcase_add_test(tc, test_reduce_noop_with_empty_axes);
    tcase_add_test(tc, test_reduce_axes_input_absent_slot);
    tcase_add_test(tc, test_reduce_axes_data_unknown_at_infer);
    tcase_add_test(tc, test_reduce_version_specific_attributes);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_reduce_bad_axes);
    tcase_add_test(tc, test_reduce_axes_input_must_be_int64_vector);
    tcase_add_test(tc, test_reduce_unsupported_dtypes);
    suite_add_tcase(s, tc);
    tc = tcase_create("argmax");
    tcase_add_test(tc, test_argmax_examples);
    tcase_add_test(tc, test_argmax_select_last_index);
    tcase_add_test(tc, test_argmax_nan_is_extreme);
    tcase_add_test(tc, test_argmax_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("differential");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_reduce_ref_matches_naive_small);
    tcase_add_test(tc, test_reduce_ref_threads_large);
    suite_add_tcase(s, tc);
    tc = tcase_create("dnnl");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_reduce_dnnl_matches_ref_random);
    tcase_add_test(tc, test_reduce_dnnl_declines_other_kinds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_reduce_suite());
}
