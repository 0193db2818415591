/*
 * Concat (ops/concat.c): every axis of a 3-D input, positive and negative, with an empty
 * input in the middle; int64 and bool data; and the shape, rank, dtype, axis and
 * missing-attribute errors. The oneDNN implementation against the reference on seeded
 * random shapes, axes and input counts (bit-exact), and its declines; and with inputs in mixed
 * layouts (plain, channels-last, nChw8c) as oneDNN producers leave them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_blocked.h"
#include "testutil.h"

/* A = 0..7 as [2,2,2]; B = 10..13 with size 1 on the concat axis */
static const float A[] = {0, 1, 2, 3, 4, 5, 6, 7};
static const float B[] = {10, 11, 12, 13};

/* Runs Concat at opset with axis (has_axis 0 = attribute absent) on n_in inputs. */
static onyx_status run_concat(int64_t opset, int has_axis, int64_t axis, int n_in, onyx_tensor **in,
                              onyx_tensor **y, onyxi_err *err) {
    onyxi_node *n = tu_node_new("Concat", opset, n_in, 1);
    if (has_axis) tu_attr_int(n, "axis", axis);
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    tu_node_free(n);
    return rc;
}

/* Concats A, an empty input and B along axis ax (given as `axis`, maybe negative). */
static void check_axis(int64_t opset, int ax, int64_t axis, const float *want) {
    int64_t bd[3] = {2, 2, 2}, ed[3] = {2, 2, 2}, yd[3] = {2, 2, 2};
    bd[ax] = 1;
    ed[ax] = 0;
    yd[ax] = 3;
    onyx_tensor *in[3] = {tu_tensor(ONYX_DTYPE_FLOAT32, 3, (int64_t[]){2, 2, 2}, A),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 3, ed, NULL),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 3, bd, B)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_msg(run_concat(opset, 1, axis, 3, in, &y, &err) == ONYX_OK, "%s", err.msg);
    tu_assert_floats(y, 3, yd, want, 0, 0);
    for (int k = 0; k < 3; k++)
        tu_tensor_free(in[k]);
    tu_tensor_free(y);
}

START_TEST(test_concat_axis_0) {
    const float want[] = {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13};
    check_axis(4, 0, 0, want);
    check_axis(13, 0, -3, want);
}
END_TEST

START_TEST(test_concat_axis_1) {
    const float want[] = {0, 1, 2, 3, 10, 11, 4, 5, 6, 7, 12, 13};
    check_axis(11, 1, 1, want);
    check_axis(11, 1, -2, want);
}
END_TEST

START_TEST(test_concat_axis_2) {
    const float want[] = {0, 1, 10, 2, 3, 11, 4, 5, 12, 6, 7, 13};
    check_axis(13, 2, 2, want);
    check_axis(13, 2, -1, want);
}
END_TEST

START_TEST(test_concat_single_input_copies) {
    onyx_tensor *x = tu_tensor(ONYX_DTYPE_FLOAT32, 3, (int64_t[]){2, 2, 2}, A);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 1, 1, &x, &y, &err), ONYX_OK);
    tu_assert_floats(y, 3, (int64_t[]){2, 2, 2}, A, 0, 0);
    tu_tensor_free(x);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_concat_int64) {
    const int64_t a[] = {1, 2, 3, 4}, b[] = {INT64_MAX, INT64_MIN};
    const int64_t want[] = {1, 2, INT64_MAX, 3, 4, INT64_MIN};
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){2, 2}, a),
                          tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){2, 1}, b)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, -1, 2, in, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_INT64);
    ck_assert_int_eq(y->rank, 2);
    ck_assert_int_eq(y->dims[0], 2);
    ck_assert_int_eq(y->dims[1], 3);
    ck_assert_mem_eq(y->data, want, sizeof want);
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_concat_bool_1d) {
    const unsigned char a[] = {1, 0, 1}, b[] = {0, 1};
    const unsigned char want[] = {1, 0, 1, 0, 1};
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_BOOL, 1, (int64_t[]){3}, a),
                          tu_tensor(ONYX_DTYPE_BOOL, 1, (int64_t[]){2}, b)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 0, 2, in, &y, &err), ONYX_OK);
    ck_assert_int_eq(y->dtype, ONYX_DTYPE_BOOL);
    ck_assert_int_eq(y->dims[0], 5);
    ck_assert_mem_eq(y->data, want, sizeof want);
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_concat_all_empty) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){0, 2}, NULL),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){0, 3}, NULL)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 1, 2, in, &y, &err), ONYX_OK);
    tu_assert_floats(y, 2, (int64_t[]){0, 5}, NULL, 0, 0);
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
    tu_tensor_free(y);
}
END_TEST

START_TEST(test_concat_mismatched_dims) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){3, 4}, NULL)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 1, 2, in, &y, &err), ONYX_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "input 1"));
    ck_assert_ptr_nonnull(strstr(err.msg, "[3,4]"));
    ck_assert_ptr_nonnull(strstr(err.msg, "[2,3]"));
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
}
END_TEST

START_TEST(test_concat_mismatched_rank) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 3, (int64_t[]){2, 3, 1}, NULL)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 0, 2, in, &y, &err), ONYX_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "rank 3"));
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
}
END_TEST

START_TEST(test_concat_mismatched_dtype) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 1, (int64_t[]){2}, NULL),
                          tu_tensor(ONYX_DTYPE_INT64, 1, (int64_t[]){2}, NULL)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 0, 2, in, &y, &err), ONYX_TYPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "int64"));
    ck_assert_ptr_nonnull(strstr(err.msg, "float32"));
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
}
END_TEST

START_TEST(test_concat_axis_out_of_range) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_concat(13, 1, 2, 2, in, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "axis 2"));
    ck_assert_int_eq(run_concat(13, 1, -3, 2, in, &y, &err), ONYX_INVALID_MODEL);
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
}
END_TEST

START_TEST(test_concat_axis_attribute_rules) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL)};
    onyx_tensor *y = NULL;
    onyxi_err err;
    /* axis is required in every version */
    ck_assert_int_eq(run_concat(4, 0, 0, 2, in, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'axis'"));
    ck_assert_int_eq(run_concat(13, 0, 0, 2, in, &y, &err), ONYX_INVALID_MODEL);
    /* negative axes only from opset 11 */
    ck_assert_int_eq(run_concat(4, 1, -1, 2, in, &y, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "opset 11"));
    for (int k = 0; k < 2; k++)
        tu_tensor_free(in[k]);
}
END_TEST

START_TEST(test_concat_absent_input_is_invalid) {
    onyx_tensor *in[2] = {tu_tensor(ONYX_DTYPE_FLOAT32, 1, (int64_t[]){2}, NULL), NULL};
    onyxi_node *n = tu_node_new("Concat", 13, 2, 1);
    tu_attr_int(n, "axis", 0);
    tu_node_absent_input(n, 1);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, in, &y, NULL, &err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "input 1"));
    tu_node_free(n);
    tu_tensor_free(in[0]);
}
END_TEST

/* Seeded generator for the dnnl-vs-ref test. */
static unsigned dnnl_rng = 1;
static int64_t rnd(int64_t lo, int64_t hi) { /* uniform in [lo, hi] */
    dnnl_rng = dnnl_rng * 1103515245u + 12345u;
    return lo + (int64_t)((dnnl_rng >> 8) % (unsigned)(hi - lo + 1));
}

START_TEST(test_concat_dnnl_matches_ref_random) {
    /* a copy: bit-exact */
    dnnl_rng = 20241125u;
    int dnnl_cases = 0;
    const int cases = 100;
    for (int iter = 0; iter < cases; iter++) {
        int rank = (int)rnd(1, 5), n_in = (int)rnd(1, 4);
        int64_t axis = rnd(-rank, rank - 1), dims[5];
        int ax = (int)(axis < 0 ? axis + rank : axis);
        for (int i = 0; i < rank; i++)
            dims[i] = rnd(1, rank > 3 ? 5 : 13);
        onyx_tensor *in[4];
        for (int k = 0; k < n_in; k++) {
            dims[ax] = rnd(1, 9);
            in[k] = tu_tensor_random(rank, dims, (unsigned)(iter * 4 + k + 1), -1, 1);
        }
        onyxi_node *n = tu_node_new("Concat", 13, n_in, 1);
        tu_attr_int(n, "axis", axis);
        onyx_tensor *want = NULL, *got = NULL;
        onyxi_err err;
        ck_assert_int_eq(tu_run_op(n, in, &want, "ref", &err), ONYX_OK);
        onyx_status rc = tu_run_op(n, in, &got, "dnnl", &err);
        ck_assert_msg(rc == ONYX_OK, "case %d: %s", iter, err.msg);
        tu_assert_close(got, want, 0, 0);
        dnnl_cases++;
        tu_tensor_free(want);
        tu_tensor_free(got);
        for (int k = 0; k < n_in; k++)
            tu_tensor_free(in[k]);
        tu_node_free(n);
    }
    ck_assert_int_eq(dnnl_cases, cases);
}
END_TEST

START_TEST(test_concat_dnnl_declines_empty_and_ints) {
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, NULL);
    onyx_tensor *e = tu_tensor(ONYX_DTYPE_FLOAT32, 2, (int64_t[]){2, 0}, NULL);
    onyx_tensor *i = tu_tensor(ONYX_DTYPE_INT64, 2, (int64_t[]){2, 3}, NULL);
    onyx_tensor *in_e[2] = {a, e}, *in_i[2] = {i, i}, *y = NULL;
    onyxi_node *n = tu_node_new("Concat", 13, 2, 1);
    tu_attr_int(n, "axis", 1);
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, in_e, &y, "dnnl", &err), ONYX_UNSUPPORTED);
    ck_assert_int_eq(tu_run_op(n, in_i, &y, "dnnl", &err), ONYX_UNSUPPORTED);
    tu_tensor_free(a);
    tu_tensor_free(e);
    tu_tensor_free(i);
    tu_node_free(n);
}
END_TEST

/* Layouts of the mixed-layout tests, for a rank-3..5 tensor. */
enum { LAY_PLAIN, LAY_CLAST, LAY_C8, LAY_COUNT };

static onyx_tensor *in_layout(const onyx_tensor *plain, int lay) {
    static const dnnl_format_tag_t clast[3] = {dnnl_acb, dnnl_acdb, dnnl_acdeb};
    if (lay == LAY_PLAIN) return NULL;
    return tu_blocked(plain,
                      lay == LAY_CLAST ? clast[plain->rank - 3] : tu_blocked_c8(plain->rank));
}

/* Concat of in (plain) on `axis`, with dnnl reading din (the same values, some blocked) and
 * allowed (blocked_ok) or not to give a blocked output: bit-exact against the reference when
 * it runs. Returns the dnnl status; *blocked_out = 1 when the output came out blocked. */
static onyx_status mixed_case(int n_in, onyx_tensor **in, onyx_tensor **din, int64_t axis,
                              unsigned blocked_ok, int *blocked_out, const char *what) {
    onyxi_node *n = tu_node_new("Concat", 13, n_in, 1);
    tu_attr_int(n, "axis", axis);
    onyx_tensor *want = NULL, *got = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, in, &want, "ref", &err), ONYX_OK);
    tu_blocked_ok = blocked_ok;
    onyx_status rc = tu_run_op(n, din, &got, "dnnl", &err);
    tu_blocked_ok = 0;
    ck_assert_msg(rc == ONYX_OK || rc == ONYX_UNSUPPORTED, "%s: %s", what, err.msg);
    *blocked_out = rc == ONYX_OK && tu_last_blocked_out > 0;
    if (rc == ONYX_OK) tu_assert_close(got, want, 0, 0);
    tu_tensor_free(want);
    tu_tensor_free(got);
    tu_node_free(n);
    return rc;
}

/* 1 when blocked tensor b is stored exactly as its plain form (size-1 dims can make a
 * channels-last layout coincide with row-major): its output may then come out plain. */
static int same_as_plain(const onyx_tensor *b) {
    dnnl_memory_desc_t plain;
    dnnl_dims_t d = {0};
    for (int i = 0; i < b->rank; i++)
        d[i] = b->dims[i];
    ck_assert_int_eq(
        dnnl_memory_desc_init_by_tag(&plain, b->rank, d, dnnl_f32, tu_plain_tag(b->rank)),
        dnnl_success);
    return dnnl_memory_desc_equal(&plain, b->layout);
}

START_TEST(test_concat_dnnl_mixed_layouts_random) {
    dnnl_rng = 777u;
    int ran_blocked = 0, mixed = 0;
    for (int iter = 0; iter < 160; iter++) {
        int rank = (int)rnd(3, 5), n_in = (int)rnd(1, 5);
        /* mostly the channel axis, as in DenseNet and Inception blocks */
        int64_t axis = iter % 3 ? 1 : rnd(-rank, rank - 1);
        int ax = (int)(axis < 0 ? axis + rank : axis), lays = 0, real_clast = 0;
        int64_t dims[5];
        for (int i = 0; i < rank; i++)
            dims[i] = rnd(1, i == 1 ? 19 : 6);
        onyx_tensor *in[5], *blk[5] = {0}, *din[5];
        for (int k = 0; k < n_in; k++) {
            dims[ax] = rnd(1, 19);
            if (iter % 4 == 0 && ax == 1) dims[1] = 8 * rnd(1, 3); /* nChw8c stays jit */
            in[k] = tu_tensor_random(rank, dims, (unsigned)(iter * 8 + k + 1), -1, 1);
            int lay = (int)rnd(0, LAY_COUNT - 1);
            lays |= 1 << lay;
            blk[k] = in_layout(in[k], lay);
            din[k] = blk[k] ? blk[k] : in[k];
            real_clast += lay == LAY_CLAST && !same_as_plain(blk[k]);
        }
        /* by layout pointer: plain inputs have none */
        int any_plain = lays & 1 << LAY_PLAIN, any_blocked = lays != 1 << LAY_PLAIN;
        int is_mixed = any_blocked && lays != 1 << LAY_CLAST && lays != 1 << LAY_C8;
        tu_const_inputs = iter % 2 ? ~1u : 0u; /* plain constants are packed once, not per run */
        char what[64];
        snprintf(what, sizeof what, "case %d (layouts %d, axis %d)", iter, lays, ax);
        int bo = 0;
        onyx_status rc = mixed_case(n_in, in, din, axis, 1u, &bo, what);
        /* any mix of plain and channels-last runs in one blocked layout */
        if (!(lays & 1 << LAY_C8) && real_clast)
            ck_assert_msg(rc == ONYX_OK && bo, "%s: status %d, blocked %d", what, (int)rc, bo);
        if (!any_blocked) ck_assert_msg(rc == ONYX_OK && !bo, "%s", what);
        ran_blocked += bo;
        mixed += is_mixed;
        /* a plain output from mixed layouts is left to the session (reorders, zero copy) */
        rc = mixed_case(n_in, in, din, axis, 0u, &bo, what);
        ck_assert(!bo);
        if (any_plain && any_blocked) ck_assert_int_eq(rc, ONYX_UNSUPPORTED);
        if (!any_blocked) ck_assert_int_eq(rc, ONYX_OK);
        for (int k = 0; k < n_in; k++) {
            tu_tensor_free(in[k]);
            tu_tensor_free(blk[k]);
        }
    }
    tu_const_inputs = ~1u;
    ck_assert_int_ge(mixed, 40);
    ck_assert_int_ge(ran_blocked, 60);
}
END_TEST

/* DenseNet's layer input: the block's first tensor plain (from a pooling), the rest
 * channels-last from convolutions. */
START_TEST(test_concat_dnnl_densenet_mix_stays_blocked) {
    int64_t d0[4] = {1, 128, 7, 5}, d1[4] = {1, 32, 7, 5};
    onyx_tensor *in[4], *blk[4] = {0}, *din[4];
    for (int k = 0; k < 4; k++) {
        in[k] = tu_tensor_random(4, k ? d1 : d0, (unsigned)k + 90, -2, 2);
        blk[k] = k ? tu_blocked(in[k], dnnl_acdb) : NULL;
        din[k] = blk[k] ? blk[k] : in[k];
    }
    tu_const_inputs = 0;
    int bo = 0;
    ck_assert_int_eq(mixed_case(4, in, din, 1, 1u, &bo, "densenet"), ONYX_OK);
    ck_assert(bo);
    /* more bytes plain than blocked: still the blocked layout (the consumers want it) */
    ck_assert_int_eq(mixed_case(2, in, din, 1, 1u, &bo, "densenet first layer"), ONYX_OK);
    ck_assert(bo);
    tu_const_inputs = ~1u;
    for (int k = 0; k < 4; k++) {
        tu_tensor_free(in[k]);
        tu_tensor_free(blk[k]);
    }
}
END_TEST

static Suite *ops_concat_suite(void) {
    Suite *s = suite_create("ops_concat");
    TCase *tc = tcase_create("axes");
    tcase_add_test(tc, test_concat_axis_0);
    tcase_add_test(tc, test_concat_axis_1);
    tcase_add_test(tc, test_concat_axis_2);
    tcase_add_test(tc, test_concat_single_input_copies);
    suite_add_tcase(s, tc);
    tc = tcase_create("dtypes");
    tcase_add_test(tc, test_concat_int64);
    tcase_add_test(tc, test_concat_bool_1d);
    tcase_add_test(tc, test_concat_all_empty);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_concat_mismatched_dims);
    tcase_add_test(tc, test_concat_mismatched_rank);
    tcase_add_test(tc, test_concat_mismatched_dtype);
    tcase_add_test(tc, test_concat_axis_out_of_range);
    tcase_add_test(tc, test_concat_axis_attribute_rules);
    tcase_add_test(tc, test_concat_absent_input_is_invalid);
    suite_add_tcase(s, tc);
    tc = tcase_create("dnnl");
    tcase_add_test(tc, test_concat_dnnl_matches_ref_random);
    tcase_add_test(tc, test_concat_dnnl_declines_empty_and_ints);
    tcase_add_test(tc, test_concat_dnnl_mixed_layouts_random);
    tcase_add_test(tc, test_concat_dnnl_densenet_mix_stays_blocked);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_concat_suite());
}
