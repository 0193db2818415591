/*
 * Allocation-failure tests: make the Nth allocation fail for N = 1, 2, ... across load,
 * session creation and run, until the whole sequence succeeds. Every failure must surface
 * as ONYX_NOMEM (never a crash or another code) and leave no live allocation behind.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Runs load + create + bind + run with the Nth allocation failing; returns the first
 * non-OK status (ONYX_OK when all succeeded). Frees everything either way. */
static onyx_status sequence(const void *bytes, size_t n, const char *input_name, int rank,
                            const int64_t *dims, const float *x, size_t xbytes) {
    onyx_model *m = NULL;
    onyx_session *s = NULL;
    onyx_status rc = onyx_model_load_memory(bytes, n, &m);
    if (rc == ONYX_OK) rc = onyx_session_create(m, NULL, &s);
    if (rc == ONYX_OK) {
        int i = onyx_model_input_index(m, input_name);
        rc = onyx_session_bind_input(s, i, ONYX_DTYPE_FLOAT32, dims, rank, x, xbytes);
    }
    if (rc == ONYX_OK) rc = onyx_session_run(s);
    if (rc == ONYX_OK) {
        const onyx_tensor *y = onyx_session_output(s, 0);
        ck_assert_ptr_nonnull(onyx_tensor_data(y));
    }
    onyx_session_free(s);
    onyx_model_free(m);
    return rc;
}

static void fail_every_allocation(const char *path, const char *input, int rank,
                                  const int64_t *dims) {
    size_t n = 0;
    void *bytes = tu_read_file(path, &n);
    ck_assert_ptr_nonnull(bytes);
    int64_t count = onyxi_shape_count(rank, dims);
    float *x = calloc((size_t)count, sizeof(float));
    for (int64_t i = 0; i < count; i++) x[i] = (float)(i % 7) * 0.25f;
    long base = onyxi_alloc_live_blocks();
    int succeeded = 0;
    for (long nth = 1; nth < 100000 && !succeeded; nth++) {
        onyxi_alloc_fail_after(nth);
        onyx_status rc = sequence(bytes, n, input, rank, dims, x, (size_t)count * sizeof(float));
        long attempted = onyxi_alloc_fail_after(0);
        ck_assert_msg(onyxi_alloc_live_blocks() == base, "%s: allocation %ld failing leaked %ld blocks",
                      path, nth, onyxi_alloc_live_blocks() - base);
        if (rc == ONYX_OK) {
            ck_assert_msg(attempted < nth, "sequence succeeded although allocation %ld failed", nth);
            succeeded = 1;
        } else {
            ck_assert_msg(rc == ONYX_NOMEM, "%s: allocation %ld failing gave status %d, not NOMEM",
                          path, nth, rc);
        }
    }
    ck_assert(succeeded);
    free(x);
    free(bytes);
}

START_TEST(test_fault_fusion_model_every_allocation) {
    const int64_t dims[4] = {1, 2, 5, 5};
    fail_every_allocation(ONYX_TEST_DATA_DIR "/fusion_small.onnx", "x", 4, dims);
}
END_TEST

START_TEST(test_fault_symbolic_model_every_allocation) {
    const int64_t dims[2] = {4, 3};
    fail_every_allocation(ONYX_TEST_DATA_DIR "/dyn_sigmoid.onnx", "x", 2, dims);
}
END_TEST

START_TEST(test_fault_node_test_model_every_allocation) {
    const int64_t dims[3] = {3, 4, 5};
    fail_every_allocation(ONYX_TEST_NODE_DIR "/test_sigmoid/model.onnx", "x", 3, dims);
}
END_TEST

int main(void) {
    Suite *s = suite_create("fault");
    TCase *tc = tcase_create("nomem");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_fault_fusion_model_every_allocation);
    tcase_add_test(tc, test_fault_symbolic_model_every_allocation);
    tcase_add_test(tc, test_fault_node_test_model_every_allocation);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
