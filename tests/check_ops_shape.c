/*
 * Shape ops (ops/shape_ops.c, shape_transpose.c, shape_generate.c): hand-computed cases for
 * each version rule of Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout, Shape, Size,
 * ConstantOfShape and Range; Transpose against a naive index loop for every permutation of
 * rank 3 and 4 at element sizes 1 to 8 (threaded too); and the error cases with their codes.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const float A24[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                            12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

static onyx_tensor *i64s(int rank, const int64_t *dims, const int64_t *vals) {
    return tu_tensor(ONYX_DTYPE_INT64, rank, dims, vals);
}

/* A 1-D int64 tensor of n values. */
static onyx_tensor *list(int n, const int64_t *vals) {
    return i64s(1, (int64_t[]){n}, vals);
}

static onyx_tensor *f32(int rank, const int64_t *dims, const float *vals) {
    return tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, vals);
}

/* Runs n on n_in inputs into *y (output 0 only), frees n and the inputs. */
static onyx_status run1(onyxi_node *n, int n_in, onyx_tensor **in, onyx_tensor **y,
                        onyxi_err *err) {
    onyx_tensor *outs[4] = {0};
    onyx_status rc = tu_run_op(n, in, outs, NULL, err);
    *y = outs[0];
    for (int k = 1; k < n->n_outputs; k++)
        tu_tensor_free(outs[k]);
    for (int k = 0; k < n_in; k++)
        tu_tensor_free(in[k]);
    tu_node_free(n);
    return rc;
}

static void assert_dims(const onyx_tensor *t, int rank, const int64_t *dims) {
    ck_assert_int_eq(t->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_int_eq(t->dims[i], dims[i]);
}

static void assert_i64(const onyx_tensor *t, int rank, const int64_t *dims, const int64_t *want) {
    ck_assert_int_eq(t->dtype, ONYX_DTYPE_INT64);
    assert_dims(t, rank, dims);
    int64_t n = onyxi_shape_count(rank, dims);
    for (int64_t i = 0; i < n; i++)
        ck_assert_int_eq(((const int64_t *)t->data)[i], want[i]);
}

/* Expects status code from n on the inputs (all freed), and msg_part in the message. */
static void expect_fail(onyxi_node *n, int n_in, onyx_tensor **in, onyx_status code,
                        const char *msg_part) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyx_status rc = run1(n, n_in, in, &y, &err);
    ck_assert_msg(rc == code, "status %d, expected %d (%s)", rc, code, err.msg);
    ck_assert_ptr_null(y);
    if (msg_part) ck_assert_msg(strstr(err.msg, msg_part), "'%s' lacks '%s'", err.msg, msg_part);
}

/* ---- Reshape ---- */

static onyx_status reshape(int64_t opset, int allowzero, onyx_tensor *x, int n,
                           const int64_t *shape, onyx_tensor **y, onyxi_err *err) {
    onyxi_node *nd = tu_node_new("Reshape", opset, 2, 1);
    if (allowzero >= 0) tu_attr_int(nd, "allowzero", allowzero);
    onyx_tensor *in[2] = {x, list(n, shape)};
    return run1(nd, 2, in, y, err);
}

START_TEST(test_reshape_zero_copies_input_dim) {
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(
        reshape(5, -1, f32(3, (int64_t[]){2, 3, 4}, A24), 2, (int64_t[]){0, -1}, &y, &err),
        ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){2, 12}, A24, 0, 0);
    tu_tensor_free(y);
    ck_assert_int_eq(
        reshape(13, -1, f32(3, (int64_t[]){2, 3, 4}, A24), 4, (int64_t[]){2, 0, 4, 1}, &y, &err),
        ONYX_OK);
    tu_assert_floats(y, 4, (int64_t[]){2, 3, 4, 1}, A24, 0, 0);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_reshape_infers_minus_one) {
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(
        reshape(14, 0, f32(3, (int64_t[]){2, 3, 4}, A24), 3, (int64_t[]){-1, 2, 3}, &y, &err),
        ONYX_OK);
    tu_assert_floats(y, 3, (int64_t[]){4, 2, 3}, A24, 0, 0);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_reshape_allowzero_keeps_zero) {
    onyx_tensor *y;
    onyxi_err err;
    /* allowzero: 0 is a real size, so [0,3] -> [3,0]; without it 0 would copy dim 0 (0) */
    ck_assert_int_eq(
        reshape(14, 1, f32(2, (int64_t[]){0, 3}, NULL), 2, (int64_t[]){3, 0}, &y, &err), ONYX_OK);
    assert_dims(y, 2, (int64_t[]){3, 0});
    tu_tensor_free(y);
    /* without allowzero the 0 at position 1 copies 3, giving 3*3 != 0 elements */
    ck_assert_int_eq(
        reshape(14, 0, f32(2, (int64_t[]){0, 3}, NULL), 2, (int64_t[]){3, 0}, &y, &err),
        ONYX_SHAPE_MISMATCH);
}
END_TEST

START_TEST(test_reshape_to_scalar_and_int64) {
    onyx_tensor *y;
    onyxi_err err;
    const int64_t v = INT64_MIN;
    ck_assert_int_eq(reshape(13, -1, i64s(2, (int64_t[]){1, 1}, &v), 0, NULL, &y, &err), ONYX_OK);
    assert_i64(y, 0, NULL, &v);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_reshape_errors) {
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(
        reshape(13, -1, f32(3, (int64_t[]){2, 3, 4}, A24), 2, (int64_t[]){-1, -1}, &y, &err),
        ONYX_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "-1"));
    ck_assert_int_eq(
        reshape(13, -1, f32(3, (int64_t[]){2, 3, 4}, A24), 2, (int64_t[]){5, 5}, &y, &err),
        ONYX_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "[2,3,4]"));
    ck_assert_ptr_nonnull(strstr(err.msg, "[5,5]"));
    ck_assert_int_eq(
        reshape(13, -1, f32(3, (int64_t[]){2, 3, 4}, A24), 2, (int64_t[]){-1, 5}, &y, &err),
        ONYX_SHAPE_MISMATCH);
    ck_assert_int_eq(reshape(13, -1, f32(1, (int64_t[]){4}, A24), 2, (int64_t[]){2, -2}, &y, &err),
                     ONYX_SHAPE_MISMATCH);
    /* 0 beyond the input's rank has no dim to copy */
    ck_assert_int_eq(reshape(13, -1, f32(1, (int64_t[]){4}, A24), 2, (int64_t[]){4, 0}, &y, &err),
                     ONYX_SHAPE_MISMATCH);
    /* allowzero: 0 and -1 together leave -1 undetermined */
    ck_assert_int_eq(reshape(14, 1, f32(1, (int64_t[]){0}, NULL), 2, (int64_t[]){0, -1}, &y, &err),
                     ONYX_SHAPE_MISMATCH);
    /* allowzero is an opset 14 attribute */
    ck_assert_int_eq(reshape(13, 1, f32(1, (int64_t[]){4}, A24), 1, (int64_t[]){4}, &y, &err),
                     ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "allowzero"));
    ck_assert_int_eq(reshape(13, -1, f32(1, (int64_t[]){4}, A24), 9,
                             (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 4}, &y, &err),
                     ONYX_UNSUPPORTED);

    onyxi_node *n = tu_node_new("Reshape", 13, 2, 1);
    const int32_t s32[] = {4};
    onyx_tensor *in[2] = {f32(1, (int64_t[]){4}, A24),
                          tu_tensor(ONYX_DTYPE_INT32, 1, (int64_t[]){1}, s32)};
    expect_fail(n, 2, in, ONYX_TYPE_MISMATCH, "int64");
}
END_TEST

START_TEST(test_reshape_shape_needs_data) {
    onyxi_node *n = tu_node_new("Reshape", 13, 2, 1);
    onyx_tensor *in[2] = {f32(1, (int64_t[]){4}, A24), list(2, (int64_t[]){2, 2})};
    free(in[1]->data);
    in[1]->data = NULL; /* computed at run time */
    expect_fail(n, 2, in, ONYX_UNSUPPORTED, "run time");
}
END_TEST

/* ---- Flatten ---- */

static onyx_status flatten(int64_t opset, int has_axis, int64_t axis, onyx_tensor **y,
                           onyxi_err *err) {
    onyxi_node *n = tu_node_new("Flatten", opset, 1, 1);
    if (has_axis) tu_attr_int(n, "axis", axis);
    onyx_tensor *in[1] = {f32(3, (int64_t[]){2, 3, 4}, A24)};
    return run1(n, 1, in, y, err);
}

START_TEST(test_flatten_axes) {
    static const struct {
        int64_t opset;
        int has_axis;
        int64_t axis, d0, d1;
    } cases[] = {{1, 0, 0, 2, 12},  {9, 1, 0, 1, 24},   {11, 1, 2, 6, 4},  {11, 1, 3, 24, 1},
                 {11, 1, -1, 6, 4}, {13, 1, -3, 1, 24}, {13, 1, -2, 2, 12}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        onyx_tensor *y;
        onyxi_err err;
        ck_assert_int_eq(flatten(cases[i].opset, cases[i].has_axis, cases[i].axis, &y, &err),
                         ONYX_OK);
        tu_assert_floats(y, 2, (int64_t[]){cases[i].d0, cases[i].d1}, A24, 0, 0);
        tu_tensor_free(y);
    }
}
END_TEST

START_TEST(test_flatten_errors) {
    onyx_tensor *y;
    onyxi_err err;
    /* negative axes arrived at opset 11 */
    ck_assert_int_eq(flatten(9, 1, -1, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "opset 11"));
    ck_assert_int_eq(flatten(13, 1, 4, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_int_eq(flatten(13, 1, -4, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "-4"));
}
END_TEST

/* ---- Transpose ---- */

/* out[i] = in[perm-mapped index]: the obvious per-element loop, the test's oracle. */
static void naive_transpose(const onyx_tensor *x, const int *perm, unsigned char *out) {
    int r = x->rank;
    size_t es = onyxi_dtype_size(x->dtype);
    int64_t count = onyxi_shape_count(r, x->dims), istr[8], odims[8], idx[8] = {0};
    for (int k = r - 1, s = 1; k >= 0; k--) {
        istr[k] = s;
        s *= (int)x->dims[k];
    }
    for (int i = 0; i < r; i++)
        odims[i] = x->dims[perm[i]];
    for (int64_t o = 0; o < count; o++) {
        int64_t off = 0;
        for (int i = 0; i < r; i++)
            off += idx[i] * istr[perm[i]];
        memcpy(out + (size_t)o * es, (const unsigned char *)x->data + (size_t)off * es, es);
        for (int i = r - 1; i >= 0 && ++idx[i] == odims[i]; i--)
            idx[i] = 0;
    }
}

/* Runs Transpose on x (not freed) with perm (NULL = default) at `threads` threads. */
static onyx_tensor *transpose(const onyx_tensor *x, const int *perm, int threads) {
    onyxi_node *n = tu_node_new("Transpose", 13, 1, 1);
    if (perm) {
        int64_t p[8];
        for (int i = 0; i < x->rank; i++)
            p[i] = perm[i];
        tu_attr_ints(n, "perm", x->rank, p);
    }
    onyx_tensor *in[1] = {(onyx_tensor *)x}, *y = NULL;
    onyxi_err err;
    ck_assert_msg(tu_infer_op(n, in, &y, &err) == ONYX_OK, "%s", err.msg);
    y->data = calloc(1, y->nbytes + 64);
    memset(y->data, 0xA5, y->nbytes);
    const onyxi_impl *impl = tu_ref_impl(n->op);
    const onyx_tensor *ins[1] = {x};
    onyxi_exec ex = {.node = n, .n_in = 1, .in = ins, .n_out = 1, .out = &y,
                     .num_threads = threads, .err = &err};
    ck_assert_int_eq(impl->init(&ex), ONYX_OK);
    ck_assert_msg(impl->run(&ex) == ONYX_OK, "%s", err.msg);
    impl->fini(&ex);
    tu_node_free(n);
    return y;
}

START_TEST(test_transpose_default_reverses) {
    onyx_tensor *x = f32(3, (int64_t[]){2, 3, 4}, A24);
    onyx_tensor *y = transpose(x, NULL, 1);
    float want[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                want[k * 6 + j * 2 + i] = A24[i * 12 + j * 4 + k];
    tu_assert_floats(y, 3, (int64_t[]){4, 3, 2}, want, 0, 0);
    tu_tensor_free(x);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_transpose_hand_computed) {
    /* [2,3] -> [3,2] */
    onyx_tensor *x = f32(2, (int64_t[]){2, 3}, A24);
    onyx_tensor *y = transpose(x, (int[]){1, 0}, 1);
    tu_assert_floats(y, 2, (int64_t[]){3, 2}, (float[]){0, 3, 1, 4, 2, 5}, 0, 0);
    tu_tensor_free(x);
    tu_tensor_free(y);
    /* NCHW [1,2,2,3] -> NHWC [1,2,3,2]: channel pairs (c0, c1) at each pixel */
    x = f32(4, (int64_t[]){1, 2, 2, 3}, A24);
    y = transpose(x, (int[]){0, 2, 3, 1}, 1);
    tu_assert_floats(y, 4, (int64_t[]){1, 2, 3, 2}, (float[]){0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11},
                     0, 0);
    tu_tensor_free(x);
    tu_tensor_free(y);
    /* [2,3,4] perm (1,0,2): contiguous rows of 4 swap places */
    x = f32(3, (int64_t[]){2, 3, 4}, A24);
    y = transpose(x, (int[]){1, 0, 2}, 1);
    tu_assert_floats(y, 3, (int64_t[]){3, 2, 4},
                     (float[]){0,  1,  2,  3,  12, 13, 14, 15, 4,  5,  6,  7,
                               16, 17, 18, 19, 8,  9,  10, 11, 20, 21, 22, 23},
                     0, 0);
    tu_tensor_free(x);
    tu_tensor_free(y);
}
END_TEST

/* Every permutation of `rank` axes of dims, at each element size, at 1 and 2 threads. */
static void transpose_all_perms(int rank, const int64_t *dims) {
    static const onyx_dtype dts[] = {ONYX_DTYPE_BOOL, ONYX_DTYPE_INT16, ONYX_DTYPE_FLOAT32,
                                     ONYX_DTYPE_INT64, ONYX_DTYPE_COMPLEX128};
    int perm[8], nperm = 1;
    for (int i = 2; i <= rank; i++)
        nperm *= i;
    for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++) {
        onyx_tensor *x = tu_tensor(dts[d], rank, dims, NULL);
        unsigned char *p = x->data;
        for (size_t i = 0; i < x->nbytes; i++)
            p[i] = (unsigned char)(i * 7 + i / 251);
        unsigned char *want = malloc(x->nbytes + 1);
        for (int q = 0; q < nperm; q++) {
            /* q-th permutation via the factorial number system */
            int used[8] = {0}, rem = q, f = nperm;
            for (int i = 0; i < rank; i++) {
                f /= rank - i;
                int pick = rem / f, c = -1;
                rem %= f;
                while (pick >= 0)
                    if (!used[++c]) pick--;
                used[c] = 1;
                perm[i] = c;
            }
            naive_transpose(x, perm, want);
            for (int threads = 1; threads <= 2; threads++) {
                onyx_tensor *y = transpose(x, perm, threads);
                ck_assert_msg(memcmp(y->data, want, x->nbytes) == 0,
                              "rank %d perm %d%d%d%d dtype %d threads %d differs", rank, perm[0],
                              perm[1], perm[2], rank > 3 ? perm[3] : 0, dts[d], threads);
                tu_tensor_free(y);
            }
        }
        free(want);
        tu_tensor_free(x);
    }
}

START_TEST(test_transpose_matches_naive_every_perm) {
    transpose_all_perms(3, (int64_t[]){5, 37, 70});
    transpose_all_perms(4, (int64_t[]){3, 1, 9, 13});
    transpose_all_perms(4, (int64_t[]){2, 33, 7, 65});
    transpose_all_perms(2, (int64_t[]){131, 67});
}
END_TEST

START_TEST(test_transpose_empty_and_errors) {
    onyx_tensor *x = f32(3, (int64_t[]){2, 0, 3}, NULL);
    onyx_tensor *y = transpose(x, (int[]){2, 0, 1}, 1);
    assert_dims(y, 3, (int64_t[]){3, 2, 0});
    tu_tensor_free(x);
    tu_tensor_free(y);

    onyxi_node *n = tu_node_new("Transpose", 13, 1, 1);
    tu_attr_ints(n, "perm", 3, (int64_t[]){0, 1, 1});
    onyx_tensor *in[1] = {f32(3, (int64_t[]){2, 3, 4}, A24)};
    expect_fail(n, 1, in, ONYX_INVALID_MODEL, "twice");
    n = tu_node_new("Transpose", 1, 1, 1);
    tu_attr_ints(n, "perm", 3, (int64_t[]){0, 3, 1});
    in[0] = f32(3, (int64_t[]){2, 3, 4}, A24);
    expect_fail(n, 1, in, ONYX_INVALID_MODEL, "3");
    n = tu_node_new("Transpose", 13, 1, 1);
    tu_attr_ints(n, "perm", 2, (int64_t[]){1, 0});
    in[0] = f32(3, (int64_t[]){2, 3, 4}, A24);
    expect_fail(n, 1, in, ONYX_INVALID_MODEL, "expected 3");
}
END_TEST

/* ---- Squeeze / Unsqueeze ---- */

START_TEST(test_squeeze_axes_attribute) {
    onyxi_node *n = tu_node_new("Squeeze", 1, 1, 1);
    tu_attr_ints(n, "axes", 2, (int64_t[]){0, 2});
    onyx_tensor *in[1] = {f32(4, (int64_t[]){1, 6, 1, 4}, A24)}, *y;
    onyxi_err err;
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){6, 4}, A24, 0, 0);
    tu_tensor_free(y);
    /* opset 11: negative axes */
    n = tu_node_new("Squeeze", 11, 1, 1);
    tu_attr_ints(n, "axes", 1, (int64_t[]){-2});
    in[0] = f32(4, (int64_t[]){1, 6, 1, 4}, A24);
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    tu_assert_floats(y, 3, (int64_t[]){1, 6, 4}, A24, 0, 0);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_squeeze_all_ones_and_axes_input) {
    onyxi_node *n = tu_node_new("Squeeze", 13, 1, 1);
    onyx_tensor *in[2] = {f32(5, (int64_t[]){1, 6, 1, 4, 1}, A24)}, *y;
    onyxi_err err;
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){6, 4}, A24, 0, 0);
    tu_tensor_free(y);
    /* opset 13: axes as input 1 */
    n = tu_node_new("Squeeze", 13, 2, 1);
    in[0] = f32(5, (int64_t[]){1, 6, 1, 4, 1}, A24);
    in[1] = list(2, (int64_t[]){-1, 0});
    ck_assert_int_eq(run1(n, 2, in, &y, &err), ONYX_OK);
    tu_assert_floats(y, 3, (int64_t[]){6, 1, 4}, A24, 0, 0);
    tu_tensor_free(y);
    /* an absent axes input squeezes every 1 */
    n = tu_node_new("Squeeze", 13, 2, 1);
    tu_node_absent_input(n, 1);
    in[0] = f32(3, (int64_t[]){1, 1, 1}, A24);
    in[1] = NULL;
    ck_assert_int_eq(run1(n, 2, in, &y, &err), ONYX_OK);
    tu_assert_floats(y, 0, NULL, A24, 0, 0);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_squeeze_errors) {
    onyxi_node *n = tu_node_new("Squeeze", 13, 2, 1);
    onyx_tensor *in[2] = {f32(3, (int64_t[]){1, 6, 4}, A24), list(1, (int64_t[]){1})};
    expect_fail(n, 2, in, ONYX_SHAPE_MISMATCH, "axis 1");
    n = tu_node_new("Squeeze", 1, 1, 1);
    tu_attr_ints(n, "axes", 1, (int64_t[]){-3});
    in[0] = f32(3, (int64_t[]){1, 6, 4}, A24);
    expect_fail(n, 1, in, ONYX_INVALID_MODEL, "opset 11");
    n = tu_node_new("Squeeze", 13, 1, 1);
    tu_attr_ints(n, "axes", 1, (int64_t[]){0});
    in[0] = f32(3, (int64_t[]){1, 6, 4}, A24);
    expect_fail(n, 1, in, ONYX_INVALID_MODEL, "input 1");
    n = tu_node_new("Squeeze", 11, 1, 1);
    tu_attr_ints(n, "axes", 2, (int64_t[]){0, -3});
    in[0] = f32(3, (int64_t[]){1, 6, 4}, A24);
    expect_fail(n, 1, in, ONYX_INVALID_MODEL, "twice");
    n = tu_node_new("Squeeze", 11, 1, 1);
    tu_attr_ints(n, "axes", 1, (int64_t[]){3});
    in[0] = f32(3, (int64_t[]){1, 6, 4}, A24);
    expect_fail(n, 1, in, ONYX_INVALID_MODEL, "out of range");
}
END_TEST

START_TEST(test_unsqueeze_versions) {
    onyxi_node *n = tu_node_new("Unsqueeze", 1, 1, 1);
    tu_attr_ints(n, "axes", 2, (int64_t[]){0, 3});
    onyx_tensor *in[2] = {f32(2, (int64_t[]){6, 4}, A24)}, *y;
    onyxi_err err;
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    tu_assert_floats(y, 4, (int64_t[]){1, 6, 4, 1}, A24, 0, 0);
    tu_tensor_free(y);
    /* opset 11: negative axes count from the OUTPUT rank */
    n = tu_node_new("Unsqueeze", 11, 1, 1);
    tu_attr_ints(n, "axes", 2, (int64_t[]){-1, 1});
    in[0] = f32(1, (int64_t[]){24}, A24);
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    tu_assert_floats(y, 3, (int64_t[]){24, 1, 1}, A24, 0, 0);
    tu_tensor_free(y);
    /* opset 13: unsorted axes as input; a scalar becomes [1,1] */
    n = tu_node_new("Unsqueeze", 13, 2, 1);
    const int64_t v = 42;
    in[0] = i64s(0, NULL, &v);
    in[1] = list(2, (int64_t[]){1, 0});
    ck_assert_int_eq(run1(n, 2, in, &y, &err), ONYX_OK);
    assert_i64(y, 2, (int64_t[]){1, 1}, &v);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_unsqueeze_errors) {
    onyxi_node *n = tu_node_new("Unsqueeze", 11, 1, 1);
    onyx_tensor *in[2] = {f32(1, (int64_t[]){24}, A24)};
    expect_fail(n, 1, in, ONYX_INVALID_MODEL, "axes");
    n = tu_node_new("Unsqueeze", 13, 2, 1);
    in[0] = f32(1, (int64_t[]){24}, A24);
    in[1] = list(2, (int64_t[]){0, -3});
    expect_fail(n, 2, in, ONYX_INVALID_MODEL, "twice");
    n = tu_node_new("Unsqueeze", 13, 2, 1);
    in[0] = f32(1, (int64_t[]){24}, A24);
    in[1] = list(1, (int64_t[]){2});
    expect_fail(n, 2, in, ONYX_INVALID_MODEL, "out of range");
    n = tu_node_new("Unsqueeze", 13, 2, 1);
    in[0] = f32(2, (int64_t[]){6, 4}, A24);
    in[1] = list(7, (int64_t[]){0, 1, 2, 3, 4, 5, 6});
    expect_fail(n, 2, in, ONYX_UNSUPPORTED, NULL);
}
END_TEST

/* ---- Shape / Size ---- */

/* Shape of a [2,3,4] input whose data is absent (shape-only ops must not read it). */
static onyx_status shape_of(int64_t opset, int has_start, int64_t start, int has_end, int64_t end,
                            onyx_tensor **y, onyxi_err *err) {
    onyxi_node *n = tu_node_new("Shape", opset, 1, 1);
    if (has_start) tu_attr_int(n, "start", start);
    if (has_end) tu_attr_int(n, "end", end);
    onyx_tensor *in[1] = {f32(3, (int64_t[]){2, 3, 4}, NULL)};
    free(in[0]->data);
    in[0]->data = NULL;
    return run1(n, 1, in, y, err);
}

START_TEST(test_shape_slices) {
    static const struct {
        int has_start;
        int64_t start;
        int has_end;
        int64_t end;
        int len;
        int64_t want[3];
    } cases[] = {{0, 0, 0, 0, 3, {2, 3, 4}},  {1, -1, 0, 0, 1, {4}}, {0, 0, 1, -1, 2, {2, 3}},
                 {1, 1, 1, 2, 1, {3}},        {1, 1, 1, -1, 1, {3}}, {1, -10, 0, 0, 3, {2, 3, 4}},
                 {0, 0, 1, 10, 3, {2, 3, 4}}, {1, 2, 1, 1, 0, {0}},  {1, 3, 0, 0, 0, {0}}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        onyx_tensor *y;
        onyxi_err err;
        ck_assert_msg(shape_of(15, cases[i].has_start, cases[i].start, cases[i].has_end,
                               cases[i].end, &y, &err) == ONYX_OK,
                      "%s", err.msg);
        assert_i64(y, 1, (int64_t[]){cases[i].len}, cases[i].want);
        tu_tensor_free(y);
    }
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(shape_of(1, 0, 0, 0, 0, &y, &err), ONYX_OK);
    assert_i64(y, 1, (int64_t[]){3}, (int64_t[]){2, 3, 4});
    tu_tensor_free(y);
    /* start/end are opset 15 attributes */
    ck_assert_int_eq(shape_of(13, 1, 1, 0, 0, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "opset 15"));
}
END_TEST

START_TEST(test_size_counts) {
    onyxi_node *n = tu_node_new("Size", 13, 1, 1);
    onyx_tensor *in[1] = {f32(3, (int64_t[]){2, 3, 4}, NULL)}, *y;
    free(in[0]->data);
    in[0]->data = NULL;
    onyxi_err err;
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    assert_i64(y, 0, NULL, (int64_t[]){24});
    tu_tensor_free(y);
    n = tu_node_new("Size", 1, 1, 1);
    in[0] = f32(0, NULL, A24);
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    assert_i64(y, 0, NULL, (int64_t[]){1});
    tu_tensor_free(y);
    n = tu_node_new("Size", 1, 1, 1);
    in[0] = f32(2, (int64_t[]){5, 0}, NULL);
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    assert_i64(y, 0, NULL, (int64_t[]){0});
    tu_tensor_free(y);
}
END_TEST

/* ---- Identity / Dropout ---- */

START_TEST(test_identity_copies_any_dtype) {
    const int32_t v[] = {-1, 2, INT32_MAX};
    onyxi_node *n = tu_node_new("Identity", 16, 1, 1);
    onyx_tensor *in[1] = {tu_tensor(ONYX_DTYPE_INT32, 1, (int64_t[]){3}, v)}, *y;
    onyxi_err err;
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_INT32);
    ck_assert_mem_eq(y->data, v, sizeof v);
    tu_tensor_free(y);
    /* sequences / optionals arrive without a tensor dtype */
    n = tu_node_new("Identity", 14, 1, 1);
    in[0] = tu_tensor(ONYX_DTYPE_FLOAT32, 1, (int64_t[]){3}, NULL);
    in[0]->dtype = ONYX_DTYPE_UNDEFINED;
    expect_fail(n, 1, in, ONYX_UNSUPPORTED, "Identity");
}
END_TEST

START_TEST(test_dropout_inference_masks) {
    onyxi_node *n = tu_node_new("Dropout", 13, 1, 2);
    onyx_tensor *in[3] = {f32(2, (int64_t[]){2, 3}, A24)}, *out[2];
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, in, out, NULL, &err), ONYX_OK);
    tu_assert_floats(out[0], 2, (int64_t[]){2, 3}, A24, 0, 0);
    ck_assert_int_eq(out[1]->dtype, ONYX_DTYPE_BOOL);
    ck_assert_mem_eq(out[1]->data, ((unsigned char[]){1, 1, 1, 1, 1, 1}), 6);
    tu_tensor_free(out[0]);
    tu_tensor_free(out[1]);
    tu_node_free(n);
    /* opset 7: the mask has the input's type (1.0 = kept) */
    n = tu_node_new("Dropout", 7, 1, 2);
    tu_attr_float(n, "ratio", 0.3f);
    ck_assert_int_eq(tu_run_op(n, in, out, NULL, &err), ONYX_OK);
    tu_assert_floats(out[0], 2, (int64_t[]){2, 3}, A24, 0, 0);
    tu_assert_floats(out[1], 2, (int64_t[]){2, 3}, (float[]){1, 1, 1, 1, 1, 1}, 0, 0);
    tu_tensor_free(out[0]);
    tu_tensor_free(out[1]);
    tu_node_free(n);
    /* opset 12: training with ratio 0 drops nothing; training_mode false ignores the ratio */
    const float r0 = 0.0f, r5 = 0.5f;
    const unsigned char yes = 1, no = 0;
    for (int c = 0; c < 2; c++) {
        n = tu_node_new("Dropout", 12, 3, 2);
        in[1] = f32(0, NULL, c ? &r5 : &r0);
        in[2] = tu_tensor(ONYX_DTYPE_BOOL, 0, NULL, c ? &no : &yes);
        ck_assert_msg(tu_run_op(n, in, out, NULL, &err) == ONYX_OK, "%s", err.msg);
        tu_assert_floats(out[0], 2, (int64_t[]){2, 3}, A24, 0, 0);
        ck_assert_mem_eq(out[1]->data, ((unsigned char[]){1, 1, 1, 1, 1, 1}), 6);
        tu_tensor_free(out[0]);
        tu_tensor_free(out[1]);
        tu_tensor_free(in[1]);
        tu_tensor_free(in[2]);
        tu_node_free(n);
    }
    tu_tensor_free(in[0]);
}
END_TEST

START_TEST(test_dropout_errors) {
    const float r5 = 0.5f;
    const unsigned char yes = 1;
    onyxi_node *n = tu_node_new("Dropout", 13, 3, 1);
    onyx_tensor *in[3] = {f32(1, (int64_t[]){3}, A24), f32(0, NULL, &r5),
                          tu_tensor(ONYX_DTYPE_BOOL, 0, NULL, &yes)};
    expect_fail(n, 3, in, ONYX_UNSUPPORTED, "training_mode");
    /* training without a ratio: the default 0.5 */
    n = tu_node_new("Dropout", 13, 3, 1);
    tu_node_absent_input(n, 1);
    in[0] = f32(1, (int64_t[]){3}, A24);
    in[1] = NULL;
    in[2] = tu_tensor(ONYX_DTYPE_BOOL, 0, NULL, &yes);
    expect_fail(n, 3, in, ONYX_UNSUPPORTED, "training_mode");
    n = tu_node_new("Dropout", 10, 1, 1);
    tu_attr_int(n, "seed", 3);
    in[0] = f32(1, (int64_t[]){3}, A24);
    expect_fail(n, 1, in, ONYX_INVALID_MODEL, "seed");
    n = tu_node_new("Dropout", 13, 1, 1);
    tu_attr_float(n, "ratio", 0.5f);
    in[0] = f32(1, (int64_t[]){3}, A24);
    expect_fail(n, 1, in, ONYX_INVALID_MODEL, "input 1");
    n = tu_node_new("Dropout", 13, 3, 1);
    in[0] = f32(1, (int64_t[]){3}, A24);
    in[1] = f32(0, NULL, &r5);
    in[2] = f32(0, NULL, &r5);
    expect_fail(n, 3, in, ONYX_TYPE_MISMATCH, "bool");
}
END_TEST

/* ---- ConstantOfShape ---- */

/* Adds a TENSOR attribute `value` holding t (the caller frees t after the node). */
static void attr_value(onyxi_node *n, onyx_tensor *t) {
    onyxi_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = onyxi_strdup("value");
    a->type = ONYXI_ATTR_TENSOR;
    a->t = t;
}

START_TEST(test_constant_of_shape_values) {
    onyxi_node *n = tu_node_new("ConstantOfShape", 9, 1, 1);
    onyx_tensor *in[1] = {list(2, (int64_t[]){2, 3})}, *y;
    onyxi_err err;
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){2, 3}, (float[]){0, 0, 0, 0, 0, 0}, 0, 0);
    tu_tensor_free(y);

    const int64_t seven = 7;
    onyx_tensor *v = i64s(1, (int64_t[]){1}, &seven);
    n = tu_node_new("ConstantOfShape", 9, 1, 1);
    attr_value(n, v);
    in[0] = list(3, (int64_t[]){1, 2, 2});
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    assert_i64(y, 3, (int64_t[]){1, 2, 2}, (int64_t[]){7, 7, 7, 7});
    tu_tensor_free(y);
    tu_tensor_free(v);

    /* an empty shape makes a scalar */
    const float half = 0.5f;
    v = f32(1, (int64_t[]){1}, &half);
    n = tu_node_new("ConstantOfShape", 9, 1, 1);
    attr_value(n, v);
    in[0] = list(0, NULL);
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    tu_assert_floats(y, 0, NULL, &half, 0, 0);
    tu_tensor_free(y);
    tu_tensor_free(v);

    const unsigned char t = 1;
    v = tu_tensor(ONYX_DTYPE_BOOL, 1, (int64_t[]){1}, &t);
    n = tu_node_new("ConstantOfShape", 9, 1, 1);
    attr_value(n, v);
    in[0] = list(1, (int64_t[]){3});
    ck_assert_int_eq(run1(n, 1, in, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_BOOL);
    ck_assert_mem_eq(y->data, ((unsigned char[]){1, 1, 1}), 3);
    tu_tensor_free(y);
    tu_tensor_free(v);
}
END_TEST

START_TEST(test_constant_of_shape_errors) {
    onyxi_node *n = tu_node_new("ConstantOfShape", 9, 1, 1);
    onyx_tensor *in[1] = {list(2, (int64_t[]){2, -3})};
    expect_fail(n, 1, in, ONYX_SHAPE_MISMATCH, "-3");
    onyx_tensor *v = f32(1, (int64_t[]){2}, A24);
    n = tu_node_new("ConstantOfShape", 9, 1, 1);
    attr_value(n, v);
    in[0] = list(1, (int64_t[]){2});
    expect_fail(n, 1, in, ONYX_INVALID_MODEL, "one element");
    tu_tensor_free(v);
    n = tu_node_new("ConstantOfShape", 9, 1, 1);
    in[0] = tu_tensor(ONYX_DTYPE_INT32, 1, (int64_t[]){1}, (int32_t[]){2});
    expect_fail(n, 1, in, ONYX_TYPE_MISMATCH, "int64");
    n = tu_node_new("ConstantOfShape", 9, 1, 1);
    in[0] = list(2, (int64_t[]){INT64_MAX, 4});
    expect_fail(n, 1, in, ONYX_INVALID_MODEL, NULL);
}
END_TEST

/* ---- Range ---- */

static onyx_status range(onyx_dtype dt, const void *s, const void *l, const void *d,
                         onyx_tensor **y, onyxi_err *err) {
    onyxi_node *n = tu_node_new("Range", 11, 3, 1);
    onyx_tensor *in[3] = {tu_tensor(dt, 0, NULL, s), tu_tensor(dt, 0, NULL, l),
                          tu_tensor(dt, 0, NULL, d)};
    return run1(n, 3, in, y, err);
}

START_TEST(test_range_types) {
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(range(ONYX_DTYPE_FLOAT32, (float[]){1}, (float[]){5}, (float[]){2}, &y, &err),
                     ONYX_OK);
    tu_assert_floats(y, 1, (int64_t[]){2}, (float[]){1, 3}, 0, 0);
    tu_tensor_free(y);
    ck_assert_int_eq(
        range(ONYX_DTYPE_FLOAT32, (float[]){0}, (float[]){1}, (float[]){0.3f}, &y, &err), ONYX_OK);
    tu_assert_floats(y, 1, (int64_t[]){4}, (float[]){0, 0.3f, 0.6f, 0.9f}, 1e-6, 1e-6);
    tu_tensor_free(y);
    ck_assert_int_eq(
        range(ONYX_DTYPE_INT32, (int32_t[]){10}, (int32_t[]){4}, (int32_t[]){-3}, &y, &err),
        ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_INT32);
    assert_dims(y, 1, (int64_t[]){2});
    ck_assert_mem_eq(y->data, ((int32_t[]){10, 7}), 8);
    tu_tensor_free(y);
    /* the wrong direction is empty */
    ck_assert_int_eq(
        range(ONYX_DTYPE_INT64, (int64_t[]){5}, (int64_t[]){1}, (int64_t[]){1}, &y, &err), ONYX_OK);
    assert_dims(y, 1, (int64_t[]){0});
    tu_tensor_free(y);
    /* the whole int64 line in 3 steps: exact counts and values without overflow */
    ck_assert_int_eq(range(ONYX_DTYPE_INT64, (int64_t[]){INT64_MIN}, (int64_t[]){INT64_MAX},
                           (int64_t[]){INT64_MAX}, &y, &err),
                     ONYX_OK);
    assert_i64(y, 1, (int64_t[]){3}, (int64_t[]){INT64_MIN, -1, INT64_MAX - 1});
    tu_tensor_free(y);
    ck_assert_int_eq(
        range(ONYX_DTYPE_FLOAT64, (double[]){2}, (double[]){-1}, (double[]){-1.5}, &y, &err),
        ONYX_OK);
    ck_assert_mem_eq(y->data, ((double[]){2, 0.5}), 16);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_range_errors) {
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(
        range(ONYX_DTYPE_INT64, (int64_t[]){1}, (int64_t[]){5}, (int64_t[]){0}, &y, &err),
        ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "delta"));
    ck_assert_int_eq(
        range(ONYX_DTYPE_FLOAT32, (float[]){0}, (float[]){1e30f}, (float[]){1e-30f}, &y, &err),
        ONYX_SHAPE_MISMATCH);
    ck_assert_int_eq(
        range(ONYX_DTYPE_UINT8, (uint8_t[]){0}, (uint8_t[]){1}, (uint8_t[]){1}, &y, &err),
        ONYX_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "uint8"));

    onyxi_node *n = tu_node_new("Range", 11, 3, 1);
    onyx_tensor *in[3] = {tu_tensor(ONYX_DTYPE_INT64, 0, NULL, (int64_t[]){0}),
                          tu_tensor(ONYX_DTYPE_INT32, 0, NULL, (int32_t[]){4}),
                          tu_tensor(ONYX_DTYPE_INT64, 0, NULL, (int64_t[]){1})};
    expect_fail(n, 3, in, ONYX_TYPE_MISMATCH, "input 1");
    n = tu_node_new("Range", 11, 3, 1);
    in[0] = list(2, (int64_t[]){0, 1});
    in[1] = list(1, (int64_t[]){4});
    in[2] = list(1, (int64_t[]){1});
    expect_fail(n, 3, in, ONYX_SHAPE_MISMATCH, "scalar");
    n = tu_node_new("Range", 11, 3, 1);
    in[0] = list(1, (int64_t[]){0});
    in[1] = list(1, (int64_t[]){4});
    in[2] = list(1, (int64_t[]){1});
    free(in[1]->data);
    in[1]->data = NULL;
    expect_fail(n, 3, in, ONYX_UNSUPPORTED, "input 1");
}
END_TEST

static Suite *ops_shape_suite(void) {
    Suite *s = suite_create("ops_shape");
    TCase *tc = tcase_create("reshape");
    tcase_add_test(tc, test_reshape_zero_copies_input_dim);
    tcase_add_test(tc, test_reshape_infers_minus_one);
    tcase_add_test(tc, test_reshape_allowzero_keeps_zero);
    tcase_add_test(tc, test_reshape_to_scalar_and_int64);
    tcase_add_test(tc, test_reshape_errors);
    tcase_add_test(tc, test_reshape_shape_needs_data);
    suite_add_tcase(s, tc);
    tc = tcase_create("flatten");
    tcase_add_test(tc, test_flatten_axes);
    tcase_add_test(tc, test_flatten_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("transpose");
    tcase_add_test(tc, test_transpose_default_reverses);
    tcase_add_test(tc, test_transpose_hand_computed);
    tcase_add_test(tc, test_transpose_matches_naive_every_perm);
    tcase_add_test(tc, test_transpose_empty_and_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("squeeze");
    tcase_add_test(tc, test_squeeze_axes_attribute);
    tcase_add_test(tc, test_squeeze_all_ones_and_axes_input);
    tcase_add_test(tc, test_squeeze_errors);
    tcase_add_test(tc, test_unsqueeze_versions);
    tcase_add_test(tc, test_unsqueeze_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("shape");
    tcase_add_test(tc, test_shape_slices);
    tcase_add_test(tc, test_size_counts);
    suite_add_tcase(s, tc);
    tc = tcase_create("copy");
    tcase_add_test(tc, test_identity_copies_any_dtype);
    tcase_add_test(tc, test_dropout_inference_masks);
    tcase_add_test(tc, test_dropout_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("generate");
    tcase_add_test(tc, test_constant_of_shape_values);
    tcase_add_test(tc, test_constant_of_shape_errors);
    tcase_add_test(tc, test_range_types);
    tcase_add_test(tc, test_range_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_shape_suite());
}
