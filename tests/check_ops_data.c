/*
 * The data-movement ops (ops/gather.c, slice.c, split.c, expand_tile.c, pad.c): hand-computed
 * cases for each version's rules (attributes versus inputs, negative axes and indices, clamped
 * and reversed slices, the opset-18 Split and Pad rules, every Pad mode, cropping), int64,
 * bool and float16 data, and the error codes of bad attributes, shapes and run-time indices.
 */
#include <stdlib.h>
#include <string.h>

#include "pbbuild.h"
#include "testutil.h"

#define DIMS(...) ((int64_t[]){__VA_ARGS__})
#define F32(rank, dims, ...) tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, (float[]){__VA_ARGS__})
#define I64(rank, dims, ...) tu_tensor(ONYX_DTYPE_INT64, rank, dims, (int64_t[]){__VA_ARGS__})
#define I32(rank, dims, ...) tu_tensor(ONYX_DTYPE_INT32, rank, dims, (int32_t[]){__VA_ARGS__})

/* Runs n on in (n->n_inputs tensors) into y; frees n and the inputs; returns the status. */
static onyx_status run(onyxi_node *n, onyx_tensor **in, onyx_tensor **y, onyxi_err *err) {
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    for (int k = 0; k < n->n_inputs; k++)
        tu_tensor_free(in[k]);
    tu_node_free(n);
    return rc;
}

/* Like run, asserting success with a single output. */
static onyx_tensor *run1(onyxi_node *n, onyx_tensor **in) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyx_status rc = run(n, in, &y, &err);
    ck_assert_msg(rc == ONYX_OK, "status %d: %s", rc, err.msg);
    return y;
}

/* Asserts y's dtype, shape and bytes, then frees it. */
static void expect(onyx_tensor *y, onyx_dtype dt, int rank, const int64_t *dims, const void *want) {
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(y->dtype, dt);
    ck_assert_int_eq(y->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_msg(y->dims[i] == dims[i], "dim %d: got %lld, want %lld", i,
                      (long long)y->dims[i], (long long)dims[i]);
    size_t nb = (size_t)onyxi_shape_count(rank, dims) * onyxi_dtype_size(dt);
    ck_assert_uint_eq(y->nbytes, nb);
    if (nb) ck_assert_mem_eq(y->data, want, nb);
    tu_tensor_free(y);
}

static void expect_f(onyx_tensor *y, int rank, const int64_t *dims, const float *want) {
    expect(y, ONYX_DTYPE_FLOAT32, rank, dims, want);
}

/* Asserts the status and that the message contains part (NULL: any). */
static void expect_err(onyx_status rc, onyx_status want, const onyxi_err *err, const char *part) {
    ck_assert_msg(rc == want, "status %d, want %d: %s", rc, want, err->msg);
    if (part) ck_assert_msg(strstr(err->msg, part), "message '%s' lacks '%s'", err->msg, part);
}

/* ---- Gather ---- */

START_TEST(test_gather_axis0_matrix_indices) {
    onyxi_node *n = tu_node_new("Gather", 13, 2, 1);
    onyx_tensor *in[2] = {F32(2, DIMS(3, 2), 1, 2, 3, 4, 5, 6), I64(2, DIMS(2, 2), 0, 1, 1, 2)};
    expect_f(run1(n, in), 3, DIMS(2, 2, 2), (float[]){1, 2, 3, 4, 3, 4, 5, 6});
}
END_TEST

START_TEST(test_gather_negative_axis_and_indices) {
    onyxi_node *n = tu_node_new("Gather", 11, 2, 1);
    tu_attr_int(n, "axis", -1);
    onyx_tensor *in[2] = {F32(2, DIMS(2, 3), 0, 1, 2, 3, 4, 5), I32(1, DIMS(2), -1, 0)};
    expect_f(run1(n, in), 2, DIMS(2, 2), (float[]){2, 0, 5, 3});
}
END_TEST

START_TEST(test_gather_scalar_index_int64_data) {
    onyxi_node *n = tu_node_new("Gather", 1, 2, 1);
    onyx_tensor *in[2] = {I64(2, DIMS(3, 2), 10, 20, 30, 40, 50, 60), I64(0, NULL, 2)};
    expect(run1(n, in), ONYX_DTYPE_INT64, 1, DIMS(2), (int64_t[]){50, 60});
    /* Shape -> Gather(axis 0, scalar) is how exports read one dim */
    n = tu_node_new("Gather", 13, 2, 1);
    onyx_tensor *in2[2] = {I64(1, DIMS(4), 1, 3, 224, 225), I64(0, NULL, -1)};
    expect(run1(n, in2), ONYX_DTYPE_INT64, 0, NULL, (int64_t[]){225});
}
END_TEST

START_TEST(test_gather_empty_indices) {
    onyxi_node *n = tu_node_new("Gather", 13, 2, 1);
    tu_attr_int(n, "axis", 1);
    onyx_tensor *in[2] = {F32(2, DIMS(2, 3), 0, 1, 2, 3, 4, 5),
                          tu_tensor(ONYX_DTYPE_INT64, 1, DIMS(0), NULL)};
    expect_f(run1(n, in), 2, DIMS(2, 0), NULL);
}
END_TEST

START_TEST(test_gather_out_of_range_index_is_invalid_arg) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyxi_node *n = tu_node_new("Gather", 13, 2, 1);
    onyx_tensor *in[2] = {F32(1, DIMS(3), 1, 2, 3), I64(1, DIMS(3), 0, 2, 3)};
    expect_err(run(n, in, &y, &err), ONYX_INVALID_ARG, &err, "holds 3 at position 2");
    ck_assert_ptr_nonnull(strstr(err.msg, "size 3"));
    n = tu_node_new("Gather", 13, 2, 1);
    onyx_tensor *in2[2] = {F32(1, DIMS(3), 1, 2, 3), I32(1, DIMS(1), -4)};
    expect_err(run(n, in2, &y, &err), ONYX_INVALID_ARG, &err, "-4");
    /* an empty axis has no valid index at all */
    n = tu_node_new("Gather", 13, 2, 1);
    onyx_tensor *in3[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 1, DIMS(0), NULL), I64(0, NULL, 0)};
    expect_err(run(n, in3, &y, &err), ONYX_INVALID_ARG, &err, "size 0");
}
END_TEST

START_TEST(test_gather_bad_inputs) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyxi_node *n = tu_node_new("Gather", 13, 2, 1);
    onyx_tensor *in[2] = {F32(1, DIMS(3), 1, 2, 3), F32(1, DIMS(1), 0)};
    expect_err(run(n, in, &y, &err), ONYX_TYPE_MISMATCH, &err, "'indices'");
    n = tu_node_new("Gather", 13, 2, 1);
    tu_attr_int(n, "axis", 1);
    onyx_tensor *in2[2] = {F32(1, DIMS(3), 1, 2, 3), I64(1, DIMS(1), 0)};
    expect_err(run(n, in2, &y, &err), ONYX_INVALID_MODEL, &err, "axis 1");
    n = tu_node_new("Gather", 13, 2, 1);
    onyx_tensor *in3[2] = {F32(0, NULL, 1), I64(1, DIMS(1), 0)};
    expect_err(run(n, in3, &y, &err), ONYX_SHAPE_MISMATCH, &err, "scalar");
}
END_TEST

START_TEST(test_gather_elements_axes) {
    onyxi_node *n = tu_node_new("GatherElements", 13, 2, 1);
    tu_attr_int(n, "axis", 1);
    onyx_tensor *in[2] = {F32(2, DIMS(2, 2), 1, 2, 3, 4), I64(2, DIMS(2, 2), 0, 0, 1, 0)};
    expect_f(run1(n, in), 2, DIMS(2, 2), (float[]){1, 1, 4, 3});
    n = tu_node_new("GatherElements", 11, 2, 1);
    onyx_tensor *in2[2] = {F32(2, DIMS(3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9),
                           I32(2, DIMS(2, 3), 1, 2, 0, 2, 0, -3)};
    expect_f(run1(n, in2), 2, DIMS(2, 3), (float[]){4, 8, 3, 7, 2, 3});
    onyx_tensor *y = NULL;
    onyxi_err err;
    n = tu_node_new("GatherElements", 13, 2, 1);
    onyx_tensor *in3[2] = {F32(2, DIMS(2, 2), 1, 2, 3, 4), I64(2, DIMS(1, 1), 2)};
    expect_err(run(n, in3, &y, &err), ONYX_INVALID_ARG, &err, "holds 2");
}
END_TEST

/* ---- Slice ---- */

/* [2,4] = 1..8 */
#define M24() F32(2, DIMS(2, 4), 1, 2, 3, 4, 5, 6, 7, 8)

START_TEST(test_slice_v1_attributes) {
    onyxi_node *n = tu_node_new("Slice", 9, 1, 1);
    tu_attr_ints(n, "starts", 2, DIMS(1, 0));
    tu_attr_ints(n, "ends", 2, DIMS(2, 3));
    tu_attr_ints(n, "axes", 2, DIMS(0, 1));
    onyx_tensor *in[1] = {M24()};
    expect_f(run1(n, in), 2, DIMS(1, 3), (float[]){5, 6, 7});
    /* axes default to 0..len-1; ends past the axis clamp */
    n = tu_node_new("Slice", 1, 1, 1);
    tu_attr_ints(n, "starts", 1, DIMS(-1));
    tu_attr_ints(n, "ends", 1, DIMS(1000));
    onyx_tensor *in2[1] = {M24()};
    expect_f(run1(n, in2), 2, DIMS(1, 4), (float[]){5, 6, 7, 8});
}
END_TEST

START_TEST(test_slice_inputs_with_steps) {
    onyxi_node *n = tu_node_new("Slice", 13, 5, 1);
    onyx_tensor *in[5] = {M24(), I64(1, DIMS(2), 1, 0), I64(1, DIMS(2), 2, 3),
                          I64(1, DIMS(2), 0, 1), I64(1, DIMS(2), 1, 2)};
    expect_f(run1(n, in), 2, DIMS(1, 2), (float[]){5, 7});
    /* int32 lists, axes absent, steps absent (opset 10) */
    n = tu_node_new("Slice", 10, 3, 1);
    onyx_tensor *in2[3] = {M24(), I32(1, DIMS(2), 0, 1), I32(1, DIMS(2), 2, 3)};
    expect_f(run1(n, in2), 2, DIMS(2, 2), (float[]){2, 3, 6, 7});
}
END_TEST

START_TEST(test_slice_negative_steps) {
    /* axis 0: [0, -1) -> row 0; axis 1: 3 down to (not incl.) 0 by 2 -> cols 3, 1 */
    onyxi_node *n = tu_node_new("Slice", 11, 5, 1);
    onyx_tensor *in[5] = {M24(), I64(1, DIMS(2), 0, 3), I64(1, DIMS(2), -1, 0),
                          I64(1, DIMS(2), 0, -1), I64(1, DIMS(2), 1, -2)};
    expect_f(run1(n, in), 2, DIMS(1, 2), (float[]){4, 2});
}
END_TEST

START_TEST(test_slice_pytorch_int64_limits) {
    /* x[1:] exports as ends INT64_MAX; x.flip(0) as starts -1, ends INT64_MIN, steps -1 */
    onyxi_node *n = tu_node_new("Slice", 13, 4, 1);
    onyx_tensor *in[4] = {I64(1, DIMS(5), 0, 1, 2, 3, 4), I64(1, DIMS(1), 1),
                          I64(1, DIMS(1), INT64_MAX), I64(1, DIMS(1), 0)};
    expect(run1(n, in), ONYX_DTYPE_INT64, 1, DIMS(4), (int64_t[]){1, 2, 3, 4});
    n = tu_node_new("Slice", 13, 5, 1);
    onyx_tensor *in2[5] = {I64(1, DIMS(5), 0, 1, 2, 3, 4), I64(1, DIMS(1), -1),
                           I64(1, DIMS(1), INT64_MIN), I64(1, DIMS(1), 0), I64(1, DIMS(1), -1)};
    expect(run1(n, in2), ONYX_DTYPE_INT64, 1, DIMS(5), (int64_t[]){4, 3, 2, 1, 0});
    /* huge steps take only the first element */
    n = tu_node_new("Slice", 13, 5, 1);
    onyx_tensor *in3[5] = {I64(1, DIMS(5), 0, 1, 2, 3, 4), I64(1, DIMS(1), INT64_MAX),
                           I64(1, DIMS(1), INT64_MIN), I64(1, DIMS(1), 0),
                           I64(1, DIMS(1), INT64_MIN)};
    expect(run1(n, in3), ONYX_DTYPE_INT64, 1, DIMS(1), (int64_t[]){4});
}
END_TEST

START_TEST(test_slice_out_of_bounds_is_empty) {
    onyxi_node *n = tu_node_new("Slice", 13, 3, 1);
    onyx_tensor *in[3] = {M24(), I64(1, DIMS(1), 10), I64(1, DIMS(1), 20)};
    expect_f(run1(n, in), 2, DIMS(0, 4), NULL);
    /* negative axes count from the back */
    n = tu_node_new("Slice", 13, 4, 1);
    onyx_tensor *in2[4] = {M24(), I64(1, DIMS(1), 3), I64(1, DIMS(1), 1), I64(1, DIMS(1), -1)};
    expect_f(run1(n, in2), 2, DIMS(2, 0), NULL);
}
END_TEST

START_TEST(test_slice_errors) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyxi_node *n = tu_node_new("Slice", 13, 5, 1);
    onyx_tensor *in[5] = {M24(), I64(1, DIMS(1), 0), I64(1, DIMS(1), 1), I64(1, DIMS(1), 0),
                          I64(1, DIMS(1), 0)};
    expect_err(run(n, in, &y, &err), ONYX_INVALID_MODEL, &err, "'steps'");
    n = tu_node_new("Slice", 13, 4, 1);
    onyx_tensor *in2[4] = {M24(), I64(1, DIMS(2), 0, 0), I64(1, DIMS(2), 1, 1),
                           I64(1, DIMS(2), 1, -1)};
    expect_err(run(n, in2, &y, &err), ONYX_INVALID_MODEL, &err, "twice");
    n = tu_node_new("Slice", 13, 3, 1);
    onyx_tensor *in3[3] = {M24(), I64(1, DIMS(2), 0, 0), I64(1, DIMS(1), 1)};
    expect_err(run(n, in3, &y, &err), ONYX_SHAPE_MISMATCH, &err, "'ends'");
    n = tu_node_new("Slice", 13, 3, 1);
    onyx_tensor *in4[3] = {M24(), F32(1, DIMS(1), 0), I64(1, DIMS(1), 1)};
    expect_err(run(n, in4, &y, &err), ONYX_TYPE_MISMATCH, &err, "'starts'");
    /* attributes belong to opset 1 only */
    n = tu_node_new("Slice", 13, 3, 1);
    tu_attr_ints(n, "starts", 1, DIMS(0));
    onyx_tensor *in5[3] = {M24(), I64(1, DIMS(1), 0), I64(1, DIMS(1), 1)};
    expect_err(run(n, in5, &y, &err), ONYX_INVALID_MODEL, &err, "opset 10");
}
END_TEST

START_TEST(test_slice_needs_starts_data) {
    onyxi_node *n = tu_node_new("Slice", 13, 3, 1);
    onyx_tensor *in[3] = {M24(), I64(1, DIMS(1), 0), I64(1, DIMS(1), 1)};
    void *keep = in[1]->data;
    in[1]->data = NULL; /* computed at run time */
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyx_status rc = tu_infer_op(n, in, &y, &err);
    in[1]->data = keep;
    expect_err(rc, ONYX_UNSUPPORTED, &err, "input 1");
    for (int k = 0; k < 3; k++)
        tu_tensor_free(in[k]);
    tu_node_free(n);
}
END_TEST

/* ---- Split ---- */

/* Runs Split n on in, asserting success, into y[n_out]. */
static void run_split(onyxi_node *n, onyx_tensor **in, onyx_tensor **y) {
    onyxi_err err;
    onyx_status rc = run(n, in, y, &err);
    ck_assert_msg(rc == ONYX_OK, "%s", err.msg);
}

START_TEST(test_split_attribute_v2) {
    onyxi_node *n = tu_node_new("Split", 2, 1, 2);
    tu_attr_ints(n, "split", 2, DIMS(2, 4));
    onyx_tensor *in[1] = {F32(1, DIMS(6), 1, 2, 3, 4, 5, 6)}, *y[2];
    run_split(n, in, y);
    expect_f(y[0], 1, DIMS(2), (float[]){1, 2});
    expect_f(y[1], 1, DIMS(4), (float[]){3, 4, 5, 6});
}
END_TEST

START_TEST(test_split_equal_parts_axis1) {
    onyxi_node *n = tu_node_new("Split", 11, 1, 2);
    tu_attr_int(n, "axis", -1);
    onyx_tensor *in[1] = {M24()}, *y[2];
    run_split(n, in, y);
    expect_f(y[0], 2, DIMS(2, 2), (float[]){1, 2, 5, 6});
    expect_f(y[1], 2, DIMS(2, 2), (float[]){3, 4, 7, 8});
}
END_TEST

START_TEST(test_split_input_v13_with_empty_part) {
    onyxi_node *n = tu_node_new("Split", 13, 2, 3);
    tu_attr_int(n, "axis", 1);
    onyx_tensor *in[2] = {M24(), I64(1, DIMS(3), 1, 0, 3)}, *y[3];
    run_split(n, in, y);
    expect_f(y[0], 2, DIMS(2, 1), (float[]){1, 5});
    expect_f(y[1], 2, DIMS(2, 0), NULL);
    expect_f(y[2], 2, DIMS(2, 3), (float[]){2, 3, 4, 6, 7, 8});
}
END_TEST

START_TEST(test_split_num_outputs_v18) {
    onyxi_node *n = tu_node_new("Split", 18, 1, 3);
    tu_attr_int(n, "num_outputs", 3);
    onyx_tensor *in[1] = {I64(1, DIMS(7), 1, 2, 3, 4, 5, 6, 7)}, *y[3];
    run_split(n, in, y);
    expect(y[0], ONYX_DTYPE_INT64, 1, DIMS(3), (int64_t[]){1, 2, 3});
    expect(y[1], ONYX_DTYPE_INT64, 1, DIMS(3), (int64_t[]){4, 5, 6});
    expect(y[2], ONYX_DTYPE_INT64, 1, DIMS(1), (int64_t[]){7});
}
END_TEST

START_TEST(test_split_errors) {
    onyx_tensor *y[4];
    onyxi_err err;
    onyxi_node *n = tu_node_new("Split", 18, 1, 4);
    tu_attr_int(n, "num_outputs", 4);
    onyx_tensor *in[1] = {F32(1, DIMS(5), 1, 2, 3, 4, 5)};
    expect_err(run(n, in, y, &err), ONYX_SHAPE_MISMATCH, &err, "4 parts");
    n = tu_node_new("Split", 13, 2, 2);
    onyx_tensor *in2[2] = {F32(1, DIMS(5), 1, 2, 3, 4, 5), I64(1, DIMS(2), 2, 2)};
    expect_err(run(n, in2, y, &err), ONYX_SHAPE_MISMATCH, &err, "sum to 4");
    n = tu_node_new("Split", 13, 1, 2);
    onyx_tensor *in3[1] = {F32(1, DIMS(5), 1, 2, 3, 4, 5)};
    expect_err(run(n, in3, y, &err), ONYX_SHAPE_MISMATCH, &err, "equal parts");
    n = tu_node_new("Split", 13, 1, 2);
    tu_attr_ints(n, "split", 2, DIMS(2, 3));
    onyx_tensor *in4[1] = {F32(1, DIMS(5), 1, 2, 3, 4, 5)};
    expect_err(run(n, in4, y, &err), ONYX_INVALID_MODEL, &err, "opset 13");
    n = tu_node_new("Split", 17, 1, 2);
    tu_attr_int(n, "num_outputs", 2);
    onyx_tensor *in5[1] = {F32(1, DIMS(4), 1, 2, 3, 4)};
    expect_err(run(n, in5, y, &err), ONYX_INVALID_MODEL, &err, "opset 18");
}
END_TEST

/* ---- Expand, Tile ---- */

START_TEST(test_expand_broadcasts_both_ways) {
    onyxi_node *n = tu_node_new("Expand", 8, 2, 1);
    onyx_tensor *in[2] = {F32(2, DIMS(3, 1), 1, 2, 3), I64(1, DIMS(3), 2, 1, 2)};
    expect_f(run1(n, in), 3, DIMS(2, 3, 2), (float[]){1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
    /* [1,3] with shape [3,1] -> [3,3]; shape shorter than the input rank */
    n = tu_node_new("Expand", 13, 2, 1);
    onyx_tensor *in2[2] = {I64(2, DIMS(1, 3), 7, 8, 9), I64(1, DIMS(2), 3, 1)};
    expect(run1(n, in2), ONYX_DTYPE_INT64, 2, DIMS(3, 3), (int64_t[]){7, 8, 9, 7, 8, 9, 7, 8, 9});
    n = tu_node_new("Expand", 13, 2, 1);
    onyx_tensor *in3[2] = {F32(2, DIMS(2, 1), 1, 2), I64(1, DIMS(1), 3)};
    expect_f(run1(n, in3), 2, DIMS(2, 3), (float[]){1, 1, 1, 2, 2, 2});
}
END_TEST

START_TEST(test_expand_errors) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyxi_node *n = tu_node_new("Expand", 13, 2, 1);
    onyx_tensor *in[2] = {F32(2, DIMS(2, 3), 1, 2, 3, 4, 5, 6), I64(1, DIMS(1), 4)};
    expect_err(run(n, in, &y, &err), ONYX_SHAPE_MISMATCH, &err, "[2,3]");
    n = tu_node_new("Expand", 13, 2, 1);
    onyx_tensor *in2[2] = {F32(1, DIMS(1), 1), I64(1, DIMS(1), -2)};
    expect_err(run(n, in2, &y, &err), ONYX_INVALID_MODEL, &err, "-2");
}
END_TEST

START_TEST(test_tile_repeats) {
    onyxi_node *n = tu_node_new("Tile", 6, 2, 1);
    onyx_tensor *in[2] = {F32(2, DIMS(2, 2), 1, 2, 3, 4), I64(1, DIMS(2), 2, 3)};
    expect_f(run1(n, in), 2, DIMS(4, 6),
             (float[]){1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
    n = tu_node_new("Tile", 13, 2, 1);
    unsigned char b[] = {1, 0, 0};
    onyx_tensor *in2[2] = {tu_tensor(ONYX_DTYPE_BOOL, 1, DIMS(3), b), I64(1, DIMS(1), 2)};
    expect(run1(n, in2), ONYX_DTYPE_BOOL, 1, DIMS(6), (unsigned char[]){1, 0, 0, 1, 0, 0});
    n = tu_node_new("Tile", 13, 2, 1);
    onyx_tensor *in3[2] = {F32(2, DIMS(2, 2), 1, 2, 3, 4), I64(1, DIMS(2), 0, 3)};
    expect_f(run1(n, in3), 2, DIMS(0, 6), NULL);
}
END_TEST

START_TEST(test_tile_errors) {
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyxi_node *n = tu_node_new("Tile", 13, 2, 1);
    onyx_tensor *in[2] = {F32(2, DIMS(2, 2), 1, 2, 3, 4), I64(1, DIMS(1), 2)};
    expect_err(run(n, in, &y, &err), ONYX_SHAPE_MISMATCH, &err, "expected 2");
    n = tu_node_new("Tile", 13, 2, 1);
    onyx_tensor *in2[2] = {F32(1, DIMS(2), 1, 2), I64(1, DIMS(1), -1)};
    expect_err(run(n, in2, &y, &err), ONYX_INVALID_MODEL, &err, "'repeats'");
    n = tu_node_new("Tile", 13, 2, 1);
    onyx_tensor *in3[2] = {F32(1, DIMS(4), 1, 2, 3, 4), I64(1, DIMS(1), INT64_MAX / 2)};
    expect_err(run(n, in3, &y, &err), ONYX_SHAPE_MISMATCH, &err, "overflows");
}
END_TEST

/* ---- Pad ---- */

/* Pad at opset with pads (and constant_value cv, axes when given) on data in, mode m. */
static onyx_tensor *pad(int64_t opset, const char *m, onyx_tensor *data, onyx_tensor *pads,
                        onyx_tensor *cv, onyx_tensor *axes, onyx_status want, const char *part) {
    int n_in = axes ? 4 : cv ? 3 : 2;
    onyxi_node *n = tu_node_new("Pad", opset, n_in, 1);
    if (m) tu_attr_string(n, "mode", m);
    onyx_tensor *in[4] = {data, pads, cv, axes};
    if (n_in >= 3 && !cv) tu_node_absent_input(n, 2);
    onyx_tensor *y = NULL;
    onyxi_err err;
    onyx_status rc = run(n, in, &y, &err);
    expect_err(rc, want, &err, part);
    return y;
}

START_TEST(test_pad_constant_value_input) {
    onyx_tensor *y = pad(11, NULL, F32(2, DIMS(2, 2), 1, 2, 3, 4), I64(1, DIMS(4), 1, 0, 0, 2),
                         F32(0, NULL, 9), NULL, ONYX_OK, NULL);
    expect_f(y, 2, DIMS(3, 4), (float[]){9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9});
    /* no constant_value: zeros */
    y = pad(13, "constant", F32(1, DIMS(2), 1, 2), I64(1, DIMS(2), 1, 1), NULL, NULL, ONYX_OK,
            NULL);
    expect_f(y, 1, DIMS(4), (float[]){0, 1, 2, 0});
}
END_TEST

START_TEST(test_pad_v2_attributes_convert_value) {
    onyxi_node *n = tu_node_new("Pad", 2, 1, 1);
    tu_attr_ints(n, "pads", 4, DIMS(0, 1, 0, 1));
    tu_attr_float(n, "value", 7.0f);
    onyx_tensor *in[1] = {I64(2, DIMS(2, 2), 1, 2, 3, 4)};
    expect(run1(n, in), ONYX_DTYPE_INT64, 2, DIMS(2, 4), (int64_t[]){7, 1, 2, 7, 7, 3, 4, 7});
    /* float16 data: 1.5 is 0x3E00, 1.0 is 0x3C00 */
    n = tu_node_new("Pad", 2, 1, 1);
    tu_attr_ints(n, "pads", 2, DIMS(1, 0));
    tu_attr_float(n, "value", 1.5f);
    onyx_tensor *in2[1] = {tu_tensor(ONYX_DTYPE_FLOAT16, 1, DIMS(1), (uint16_t[]){0x3C00})};
    expect(run1(n, in2), ONYX_DTYPE_FLOAT16, 1, DIMS(2), (uint16_t[]){0x3E00, 0x3C00});
}
END_TEST

START_TEST(test_pad_reflect_edge_wrap) {
    onyx_tensor *y = pad(11, "reflect", F32(1, DIMS(4), 1, 2, 3, 4), I64(1, DIMS(2), 2, 3), NULL,
                         NULL, ONYX_OK, NULL);
    expect_f(y, 1, DIMS(9), (float[]){3, 2, 1, 2, 3, 4, 3, 2, 1});
    y = pad(13, "edge", F32(1, DIMS(3), 1, 2, 3), I64(1, DIMS(2), 2, 1), NULL, NULL, ONYX_OK, NULL);
    expect_f(y, 1, DIMS(6), (float[]){1, 1, 1, 2, 3, 3});
    y = pad(19, "wrap", F32(1, DIMS(3), 1, 2, 3), I64(1, DIMS(2), 2, 4), NULL, NULL, ONYX_OK, NULL);
    expect_f(y, 1, DIMS(9), (float[]){2, 3, 1, 2, 3, 1, 2, 3, 1});
    /* 2-D reflect on both axes: numpy.pad([[1,2,3],[4,5,6]], 1, 'reflect') */
    y = pad(18, "reflect", F32(2, DIMS(2, 3), 1, 2, 3, 4, 5, 6), I64(1, DIMS(4), 1, 1, 1, 1), NULL,
            NULL, ONYX_OK, NULL);
    expect_f(y, 2, DIMS(4, 5),
             (float[]){5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 2, 1, 2, 3, 2});
    /* pads wider than the axis repeat the pattern (values from numpy.pad) */
    y = pad(11, "reflect", F32(1, DIMS(3), 1, 2, 3), I64(1, DIMS(2), 5, 6), NULL, NULL, ONYX_OK,
            NULL);
    expect_f(y, 1, DIMS(14), (float[]){2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1});
    y = pad(19, "wrap", F32(1, DIMS(3), 1, 2, 3), I64(1, DIMS(2), 5, 6), NULL, NULL, ONYX_OK, NULL);
    expect_f(y, 1, DIMS(14), (float[]){2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3});
    y = pad(11, "edge", F32(1, DIMS(3), 1, 2, 3), I64(1, DIMS(2), 5, 6), NULL, NULL, ONYX_OK, NULL);
    expect_f(y, 1, DIMS(14), (float[]){1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 3, 3, 3});
    /* numpy.pad([[1,2],[3,4]], ((3,2),(1,3)), 'reflect'), int32 data */
    y = pad(13, "reflect", tu_tensor(ONYX_DTYPE_INT32, 2, DIMS(2, 2), (int32_t[]){1, 2, 3, 4}),
            I64(1, DIMS(4), 3, 1, 2, 3), NULL, NULL, ONYX_OK, NULL);
    expect(y, ONYX_DTYPE_INT32, 2, DIMS(7, 6),
           (int32_t[]){4, 3, 4, 3, 4, 3, 2, 1, 2, 1, 2, 1, 4, 3, 4, 3, 4, 3, 2, 1, 2,
                       1, 2, 1, 4, 3, 4, 3, 4, 3, 2, 1, 2, 1, 2, 1, 4, 3, 4, 3, 4, 3});
}
END_TEST

START_TEST(test_pad_negative_pads_crop) {
    onyx_tensor *y = pad(13, NULL, F32(1, DIMS(5), 1, 2, 3, 4, 5), I64(1, DIMS(2), -1, 2), NULL,
                         NULL, ONYX_OK, NULL);
    expect_f(y, 1, DIMS(6), (float[]){2, 3, 4, 5, 0, 0});
    /* crop first, then wrap the kept [2,3,4,5] */
    y = pad(19, "wrap", F32(1, DIMS(5), 1, 2, 3, 4, 5), I64(1, DIMS(2), -1, 2), NULL, NULL, ONYX_OK,
            NULL);
    expect_f(y, 1, DIMS(6), (float[]){2, 3, 4, 5, 2, 3});
    y = pad(11, "edge", F32(2, DIMS(2, 3), 1, 2, 3, 4, 5, 6), I64(1, DIMS(4), 0, -2, 0, 1), NULL,
            NULL, ONYX_OK, NULL);
    expect_f(y, 2, DIMS(2, 2), (float[]){3, 3, 6, 6});
}
END_TEST

START_TEST(test_pad_axes_v18) {
    onyx_tensor *y = pad(18, NULL, F32(2, DIMS(2, 3), 1, 2, 3, 4, 5, 6), I64(1, DIMS(2), 1, 1),
                         F32(0, NULL, -1), I64(1, DIMS(1), -1), ONYX_OK, NULL);
    expect_f(y, 2, DIMS(2, 5), (float[]){-1, 1, 2, 3, -1, -1, 4, 5, 6, -1});
}
END_TEST

START_TEST(test_pad_errors) {
    pad(18, "wrap", F32(1, DIMS(2), 1, 2), I64(1, DIMS(2), 1, 1), NULL, NULL, ONYX_INVALID_MODEL,
        "opset 19");
    pad(19, "mirror", F32(1, DIMS(2), 1, 2), I64(1, DIMS(2), 1, 1), NULL, NULL, ONYX_INVALID_MODEL,
        "'mirror'");
    pad(13, NULL, F32(2, DIMS(1, 2), 1, 2), I64(1, DIMS(2), 1, 1), NULL, NULL, ONYX_SHAPE_MISMATCH,
        "expected 4");
    pad(13, NULL, F32(1, DIMS(2), 1, 2), I64(1, DIMS(2), -2, -1), NULL, NULL, ONYX_INVALID_MODEL,
        "negative");
    pad(13, "reflect", F32(1, DIMS(2), 1, 2), I64(1, DIMS(2), -2, 1), NULL, NULL,
        ONYX_INVALID_MODEL, "nothing to pad");
    pad(13, NULL, F32(1, DIMS(2), 1, 2), I64(1, DIMS(2), 1, 1), F32(1, DIMS(2), 1, 2), NULL,
        ONYX_SHAPE_MISMATCH, "'constant_value'");
    onyxi_node *n = tu_node_new("Pad", 2, 1, 1);
    onyx_tensor *in[1] = {F32(1, DIMS(2), 1, 2)}, *y = NULL;
    onyxi_err err;
    expect_err(run(n, in, &y, &err), ONYX_INVALID_MODEL, &err, "'pads'");
}
END_TEST

/* ---- through a session ---- */

/* A model: Gather "emb" of a [3,2] initializer by indices "i" (int64 [2]) -> "g", then Slice
 * "cut" of g with starts "s" (int64 [1], a graph input: the output shape waits for its data),
 * ends INT64_MAX, axes [1] -> "y". */
static onyx_model *gather_slice_model(void) {
    static const float table[6] = {1, 2, 3, 4, 5, 6};
    static const int64_t ends[1] = {INT64_MAX}, axes[1] = {1};
    mb *b = mb_new(13);
    mb_node(b, "Gather", "emb", "table,i", "g");
    mb_node(b, "Slice", "cut", "g,s,e,a", "y");
    mb_raw(mb_tensor(b, 1, "table", ONYX_DTYPE_FLOAT32, 2, DIMS(3, 2)), table, sizeof table);
    mb_raw(mb_tensor(b, 1, "e", ONYX_DTYPE_INT64, 1, DIMS(1)), ends, sizeof ends);
    mb_raw(mb_tensor(b, 1, "a", ONYX_DTYPE_INT64, 1, DIMS(1)), axes, sizeof axes);
    mb_value(b, 0, "i", ONYX_DTYPE_INT64, 1, DIMS(2), NULL);
    mb_value(b, 0, "s", ONYX_DTYPE_INT64, 1, DIMS(1), NULL);
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, -1, NULL, NULL);
    size_t len = 0;
    uint8_t *bytes = mb_pack(b, &len);
    onyx_model *m = NULL;
    onyx_status rc = onyx_model_load_memory(bytes, len, &m);
    free(bytes);
    ck_assert_msg(rc == ONYX_OK, "%s", onyx_model_errmsg(m));
    return m;
}

START_TEST(test_session_gather_slice_runtime_data) {
    onyx_model *m = gather_slice_model();
    onyx_session *s = NULL;
    ck_assert_msg(onyx_session_create(m, NULL, &s) == ONYX_OK, "%s", onyx_session_errmsg(s));
    int64_t idx[2] = {2, -3}, start[1] = {1};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_INT64, DIMS(2), 1, idx, sizeof idx),
                     ONYX_OK);
    ck_assert_int_eq(
        onyx_session_bind_input(s, 1, ONYX_DTYPE_INT64, DIMS(1), 1, start, sizeof start), ONYX_OK);
    ck_assert_msg(onyx_session_run(s) == ONYX_OK, "%s", onyx_session_errmsg(s));
    const onyx_tensor *y = onyx_session_output(s, 0);
    ck_assert_int_eq(onyx_tensor_rank(y), 2);
    ck_assert_int_eq(onyx_tensor_dim(y, 0), 2);
    ck_assert_int_eq(onyx_tensor_dim(y, 1), 1);
    const float *v = onyx_tensor_data(y);
    ck_assert_float_eq(v[0], 6);
    ck_assert_float_eq(v[1], 2);
    /* new starts data: the output shape changes */
    start[0] = 0;
    ck_assert_int_eq(
        onyx_session_bind_input(s, 1, ONYX_DTYPE_INT64, DIMS(1), 1, start, sizeof start), ONYX_OK);
    ck_assert_msg(onyx_session_run(s) == ONYX_OK, "%s", onyx_session_errmsg(s));
    y = onyx_session_output(s, 0);
    ck_assert_int_eq(onyx_tensor_dim(y, 1), 2);
    v = onyx_tensor_data(y);
    ck_assert_float_eq(v[0], 5);
    ck_assert_float_eq(v[3], 2);
    /* an index past the table: the run fails naming the node, the index and the axis size */
    idx[0] = 3;
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_INT64, DIMS(2), 1, idx, sizeof idx),
                     ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_INVALID_ARG);
    const char *msg = onyx_session_errmsg(s);
    ck_assert_msg(strstr(msg, "'emb'") && strstr(msg, "holds 3") && strstr(msg, "size 3"), "%s",
                  msg);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

static Suite *ops_data_suite(void) {
    Suite *s = suite_create("ops_data");
    TCase *tc = tcase_create("gather");
    tcase_add_test(tc, test_gather_axis0_matrix_indices);
    tcase_add_test(tc, test_gather_negative_axis_and_indices);
    tcase_add_test(tc, test_gather_scalar_index_int64_data);
    tcase_add_test(tc, test_gather_empty_indices);
    tcase_add_test(tc, test_gather_out_of_range_index_is_invalid_arg);
    tcase_add_test(tc, test_gather_bad_inputs);
    tcase_add_test(tc, test_gather_elements_axes);
    suite_add_tcase(s, tc);
    tc = tcase_create("slice");
    tcase_add_test(tc, test_slice_v1_attributes);
    tcase_add_test(tc, test_slice_inputs_with_steps);
    tcase_add_test(tc, test_slice_negative_steps);
    tcase_add_test(tc, test_slice_pytorch_int64_limits);
    tcase_add_test(tc, test_slice_out_of_bounds_is_empty);
    tcase_add_test(tc, test_slice_errors);
    tcase_add_test(tc, test_slice_needs_starts_data);
    suite_add_tcase(s, tc);
    tc = tcase_create("split");
    tcase_add_test(tc, test_split_attribute_v2);
    tcase_add_test(tc, test_split_equal_parts_axis1);
    tcase_add_test(tc, test_split_input_v13_with_empty_part);
    tcase_add_test(tc, test_split_num_outputs_v18);
    tcase_add_test(tc, test_split_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("expand_tile");
    tcase_add_test(tc, test_expand_broadcasts_both_ways);
    tcase_add_test(tc, test_expand_errors);
    tcase_add_test(tc, test_tile_repeats);
    tcase_add_test(tc, test_tile_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("pad");
    tcase_add_test(tc, test_pad_constant_value_input);
    tcase_add_test(tc, test_pad_v2_attributes_convert_value);
    tcase_add_test(tc, test_pad_reflect_edge_wrap);
    tcase_add_test(tc, test_pad_negative_pads_crop);
    tcase_add_test(tc, test_pad_axes_v18);
    tcase_add_test(tc, test_pad_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("session");
    tcase_add_test(tc, test_session_gather_slice_runtime_data);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_data_suite());
}
