/*
 * Hostile models that are valid protobuf but ask for absurd resources or bad indices: shapes
 * of terabytes through Reshape / Expand / Tile / ConstantOfShape, plans above the session's
 * memory limit, out-of-range Gather indices at run time, and models above the configurable
 * node and nesting limits. Each must fail with a specific status and a message naming the
 * problem, allocate nothing big, and leak nothing.
 */
#define _POSIX_C_SOURCE 200809L /* dirent */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbbuild.h"
#include "testutil.h"

static const int64_t D1[1] = {1};

/* Packs b, loads it, creates a session (options o), binds x (float [1]) if the model has an
 * input, runs, and expects `code` from whichever step fails first, with `needle` in the
 * message. Checks that nothing leaked. */
static void expect_failure(mb *b, const onyx_options *o, onyx_status code, const char *needle) {
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    long before = onyxi_alloc_live_blocks();
    onyx_model *m = NULL;
    onyx_session *s = NULL;
    const char *msg = "";
    onyx_status rc = onyx_model_load_memory_opts(buf, len, o, 0, &m);
    if (rc != ONYX_OK) msg = onyx_model_errmsg(m);
    if (rc == ONYX_OK) {
        rc = onyx_session_create(m, o, &s);
        msg = onyx_session_errmsg(s);
    }
    float x = 1.0f;
    if (rc == ONYX_OK && onyx_model_input_count(m) > 0) {
        rc = onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, D1, 1, &x, sizeof x);
        msg = onyx_session_errmsg(s);
    }
    if (rc == ONYX_OK) {
        rc = onyx_session_run(s);
        msg = onyx_session_errmsg(s);
    }
    ck_assert_msg(rc == code, "got %s (%s), expected %s", onyx_status_str(rc), msg,
                  onyx_status_str(code));
    ck_assert_msg(strstr(msg, needle) != NULL, "message '%s' lacks '%s'", msg, needle);
    onyx_session_free(s);
    onyx_model_free(m);
    ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
    free(buf);
}

/* A model y = op(x, shape) with the int64 initializer `shape` of n values. */
static mb *shape_model(const char *op, const int64_t *shape, int n, int64_t opset) {
    mb *b = mb_new(opset);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D1, NULL);
    mb_node(b, op, "big", "x,shape", "y");
    int64_t dims[1] = {n};
    Onnx__TensorProto *t = mb_tensor(b, 1, "shape", ONYX_DTYPE_INT64, 1, dims);
    mb_raw(t, shape, (size_t)n * sizeof(int64_t));
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, -1, NULL, NULL);
    return b;
}

static const int64_t TERA[3] = {1 << 20, 1 << 20, 1 << 10}; /* 2^50 elements = 4 PiB */

START_TEST(test_corrupt_expand_to_petabytes_fails_cleanly) {
    expect_failure(shape_model("Expand", TERA, 3, 13), NULL, ONYX_NOMEM, "memory limit");
}
END_TEST

START_TEST(test_corrupt_tile_to_petabytes_fails_cleanly) {
    static const int64_t reps[1] = {(int64_t)1 << 52};
    expect_failure(shape_model("Tile", reps, 1, 13), NULL, ONYX_NOMEM, "memory limit");
}
END_TEST

START_TEST(test_corrupt_reshape_cannot_grow) {
    expect_failure(shape_model("Reshape", TERA, 3, 13), NULL, ONYX_SHAPE_MISMATCH, "node 'big'");
}
END_TEST

START_TEST(test_corrupt_constant_of_shape_petabytes_fails_cleanly) {
    mb *b = mb_new(13);
    mb_node(b, "ConstantOfShape", "cos", "shape", "y");
    int64_t dims[1] = {3};
    mb_raw(mb_tensor(b, 1, "shape", ONYX_DTYPE_INT64, 1, dims), TERA, sizeof TERA);
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, -1, NULL, NULL);
    expect_failure(b, NULL, ONYX_NOMEM, "constant 'y'");
}
END_TEST

START_TEST(test_corrupt_overflowing_shape_is_rejected) {
    static const int64_t huge[3] = {(int64_t)1 << 40, (int64_t)1 << 40, 16};
    expect_failure(shape_model("Expand", huge, 3, 13), NULL, ONYX_INVALID_MODEL, "too many");
}
END_TEST

START_TEST(test_corrupt_plan_above_memory_limit) {
    /* an Expand to 1 MiB is fine by default, but not under a 64 KiB limit */
    static const int64_t mib[2] = {512, 512};
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_memory_limit(o, 65536), ONYX_OK);
    expect_failure(shape_model("Expand", mib, 2, 13), o, ONYX_NOMEM, "limit of 65536 bytes");
    onyx_options_free(o);
}
END_TEST

START_TEST(test_corrupt_gather_index_out_of_range_at_run_time) {
    /* indices come from an initializer with 7 on an axis of size 1 */
    static const int64_t idx[1] = {7};
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D1, NULL);
    mb_node(b, "Gather", "g", "x,idx", "y");
    mb_raw(mb_tensor(b, 1, "idx", ONYX_DTYPE_INT64, 1, D1), idx, sizeof idx);
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D1, NULL);
    expect_failure(b, NULL, ONYX_INVALID_ARG, "node 'g' (Gather-13)");
}
END_TEST

START_TEST(test_corrupt_more_nodes_than_the_limit) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D1, NULL);
    mb_node(b, "Relu", "r1", "x", "a");
    mb_node(b, "Relu", "r2", "a", "c");
    mb_node(b, "Relu", "r3", "c", "y");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D1, NULL);
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_load_limits(o, -1, 0), ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_options_set_load_limits(o, 2, 0), ONYX_OK);
    expect_failure(b, o, ONYX_UNSUPPORTED, "limit of 2");
    onyx_options_free(o);
}
END_TEST

START_TEST(test_corrupt_nesting_deeper_than_the_limit) {
    /* a graph is 3 messages deep (model > graph > node/value_info > type > tensor > shape...) */
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 1, D1, NULL);
    mb_node(b, "Relu", "r1", "x", "y");
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 1, D1, NULL);
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_load_limits(o, 0, 3), ONYX_OK);
    expect_failure(b, o, ONYX_INVALID_MODEL, "more than 3 levels deep");
    onyx_options_free(o);
}
END_TEST

/* Every input a fuzzer ever flagged (tests/data/fuzz_regressions/<target>/) goes through the
 * fuzz_run pipeline again: load, plan under the fuzzers' 16 MiB limit, run on small inputs.
 * Each must end in a status (any) within the test's time limit, leaking nothing. */
START_TEST(test_corrupt_fuzz_regressions) {
    const char *dir = ONYX_TEST_DATA_DIR "/fuzz_regressions/run";
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int files = 0;
    for (struct dirent *ent; (ent = readdir(d));) {
        if (ent->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        size_t n = 0;
        void *bytes = tu_read_file(path, &n);
        ck_assert_ptr_nonnull(bytes);
        long before = onyxi_alloc_live_blocks();
        onyx_options *o = NULL;
        ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
        onyx_options_set_memory_limit(o, 16u << 20);
        onyx_model *m = NULL;
        onyx_session *s = NULL;
        if (onyx_model_load_memory(bytes, n, &m) == ONYX_OK &&
            onyx_session_create(m, o, &s) == ONYX_OK) {
            float x[1024] = {0};
            for (int i = 0; i < onyx_model_input_count(m); i++) {
                const onyx_tensor *t = onyx_model_input(m, i);
                int64_t dims[8];
                for (int k = 0; k < onyx_tensor_rank(t); k++)
                    dims[k] = onyx_tensor_dim(t, k) < 0 ? 1 : onyx_tensor_dim(t, k);
                int64_t count = onyx_tensor_count(t);
                if (count < 0 || count > 1024 || onyx_tensor_dtype(t) != ONYX_DTYPE_FLOAT32) break;
                onyx_session_bind_input(s, i, ONYX_DTYPE_FLOAT32, dims, onyx_tensor_rank(t), x,
                                        (size_t)count * sizeof(float));
            }
            (void)onyx_session_run(s);
        }
        onyx_session_free(s);
        onyx_model_free(m);
        onyx_options_free(o);
        /* the model's packed weights went with it: nothing may stay behind */
        ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
        free(bytes);
        files++;
    }
    closedir(d);
    ck_assert_int_gt(files, 0);
}
END_TEST

/* TensorProto files a fuzzer flagged: each loads cleanly or fails with a status. */
START_TEST(test_corrupt_fuzz_tensor_regressions) {
    const char *dir = ONYX_TEST_DATA_DIR "/fuzz_regressions/tensor";
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int files = 0;
    for (struct dirent *ent; (ent = readdir(d));) {
        if (ent->d_name[0] == '.') continue;
        char path[1024], err[256];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        onyx_tensor *t = NULL;
        if (onyx_tensor_load_pb(path, &t, err, sizeof err) == ONYX_OK) {
            ck_assert_uint_eq(onyx_tensor_nbytes(t), (size_t)onyx_tensor_count(t) *
                                                         onyx_dtype_size(onyx_tensor_dtype(t)));
        }
        onyx_tensor_free(t);
        files++;
    }
    closedir(d);
    ck_assert_int_gt(files, 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("corrupt");
    TCase *tc = tcase_create("resources");
    tcase_add_test(tc, test_corrupt_expand_to_petabytes_fails_cleanly);
    tcase_add_test(tc, test_corrupt_tile_to_petabytes_fails_cleanly);
    tcase_add_test(tc, test_corrupt_reshape_cannot_grow);
    tcase_add_test(tc, test_corrupt_constant_of_shape_petabytes_fails_cleanly);
    tcase_add_test(tc, test_corrupt_overflowing_shape_is_rejected);
    tcase_add_test(tc, test_corrupt_plan_above_memory_limit);
    tcase_add_test(tc, test_corrupt_gather_index_out_of_range_at_run_time);
    suite_add_tcase(s, tc);
    TCase *lim = tcase_create("limits");
    tcase_add_test(lim, test_corrupt_more_nodes_than_the_limit);
    tcase_add_test(lim, test_corrupt_nesting_deeper_than_the_limit);
    tcase_add_test(lim, test_corrupt_fuzz_regressions);
    tcase_add_test(lim, test_corrupt_fuzz_tensor_regressions);
    suite_add_tcase(s, lim);
    return tu_run_suite(s);
}
