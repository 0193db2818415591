/*
 * Public API contract: version macros, NULL and foreign handles, failed-state handles,
 * freeing order (model and options freed right after session creation), binding errors,
 * caller-owned output buffers, and a session staying usable after a failed call.
 */
#include <math.h>
#include <string.h>

#include "testutil.h"

#define SIGMOID_MODEL ONYX_TEST_NODE_DIR "/test_sigmoid/model.onnx"

START_TEST(test_api_version_matches_macros) {
    ck_assert_str_eq(onyx_version(), ONYX_VERSION);
    ck_assert_int_eq(onyx_version_number(), ONYX_VERSION_NUMBER);
    ck_assert_int_eq(ONYX_VERSION_NUMBER,
                     ONYX_VERSION_MAJOR * 1000000 + ONYX_VERSION_MINOR * 1000 + ONYX_VERSION_PATCH);
    ck_assert_str_eq(onyx_status_str(ONYX_OK), "ok");
    ck_assert_str_eq(onyx_status_str(ONYX_NOMEM), "out of memory");
    ck_assert_str_eq(onyx_status_str((onyx_status)999), "unknown status");
    ck_assert_int_eq(ONYX_DTYPE_FLOAT32, 1);
    ck_assert_int_eq(ONYX_DTYPE_INT64, 7);
    ck_assert_int_eq(ONYX_DTYPE_BOOL, 9);
}
END_TEST

START_TEST(test_api_null_handles_are_safe) {
    ck_assert_str_eq(onyx_model_errmsg(NULL), "out of memory or NULL handle");
    ck_assert_str_eq(onyx_session_errmsg(NULL), "out of memory or NULL handle");
    ck_assert_int_eq(onyx_model_errcode(NULL), ONYX_MISUSE);
    ck_assert_int_eq(onyx_session_errcode(NULL), ONYX_MISUSE);
    ck_assert_int_eq(onyx_model_input_count(NULL), -1);
    ck_assert_int_eq(onyx_model_output_count(NULL), -1);
    ck_assert_ptr_null(onyx_model_input(NULL, 0));
    ck_assert_int_eq(onyx_model_input_index(NULL, "x"), -1);
    ck_assert_int_eq(onyx_session_run(NULL), ONYX_MISUSE);
    ck_assert_int_eq(onyx_session_bind_input(NULL, 0, ONYX_DTYPE_FLOAT32, NULL, 0, NULL, 0),
                     ONYX_MISUSE);
    ck_assert_int_eq(onyx_session_bind_output(NULL, 0, NULL, 0), ONYX_MISUSE);
    ck_assert_ptr_null(onyx_session_output(NULL, 0));
    ck_assert_int_eq(onyx_options_set_num_threads(NULL, 1), ONYX_MISUSE);
    ck_assert_int_eq(onyx_options_set_backend(NULL, ONYX_BACKEND_AUTO), ONYX_MISUSE);
    ck_assert_ptr_null(onyx_tensor_name(NULL));
    ck_assert_int_eq(onyx_tensor_rank(NULL), -1);
    ck_assert_int_eq(onyx_tensor_dim(NULL, 0), -1);
    ck_assert_uint_eq(onyx_tensor_nbytes(NULL), 0);
    ck_assert_ptr_null(onyx_tensor_data(NULL));
    ck_assert_int_eq(onyx_model_load_file(NULL, NULL), ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_model_load_memory("x", 1, NULL), ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_session_create(NULL, NULL, NULL), ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_options_create(NULL), ONYX_INVALID_ARG);
    onyx_model_free(NULL);
    onyx_session_free(NULL);
    onyx_options_free(NULL);
    onyx_tensor_free(NULL);
}
END_TEST

START_TEST(test_api_foreign_handles_are_misuse) {
    /* zeroed memory of the right size has no magic: every call refuses it */
    static unsigned char junk[4096];
    onyx_model *m = (onyx_model *)junk;
    onyx_session *s = (onyx_session *)junk;
    onyx_options *o = (onyx_options *)junk;
    ck_assert_int_eq(onyx_model_errcode(m), ONYX_MISUSE);
    ck_assert_int_eq(onyx_model_input_count(m), -1);
    ck_assert_int_eq(onyx_session_run(s), ONYX_MISUSE);
    ck_assert_int_eq(onyx_options_set_num_threads(o, 2), ONYX_MISUSE);
    onyx_session *out = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &out), ONYX_MISUSE);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(strstr(onyx_session_errmsg(out), "model"));
    onyx_session_free(out);
    onyx_model_free(m); /* ignored: not ours */
}
END_TEST

START_TEST(test_api_missing_file_gives_failed_handle) {
    onyx_model *m = NULL;
    ck_assert_int_eq(onyx_model_load_file("/nonexistent/dir/m.onnx", &m), ONYX_IO);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(onyx_model_errcode(m), ONYX_IO);
    ck_assert_ptr_nonnull(strstr(onyx_model_errmsg(m), "/nonexistent/dir/m.onnx"));
    ck_assert_int_eq(onyx_model_input_count(m), -1);
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_MISUSE);
    ck_assert_ptr_nonnull(strstr(onyx_session_errmsg(s), "failed to load"));
    /* every other call on the failed session is misuse */
    ck_assert_int_eq(onyx_session_run(s), ONYX_MISUSE);
    ck_assert_int_eq(onyx_session_bind_output(s, 0, NULL, 0), ONYX_MISUSE);
    ck_assert_ptr_null(onyx_session_output(s, 0));
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_api_garbage_memory_is_invalid_model) {
    onyx_model *m = NULL;
    const char junk[] = "\xff\xff\xff\xff this is not a protobuf";
    ck_assert_int_eq(onyx_model_load_memory(junk, sizeof junk, &m), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_ne(onyx_model_errmsg(m), "");
    onyx_model_free(m);
}
END_TEST

static float sigmoid_ref(float x) { return 1.0f / (1.0f + expf(-x)); }

START_TEST(test_api_model_and_options_freed_after_create) {
    onyx_model *m = tu_load_model(SIGMOID_MODEL);
    ck_assert_int_eq(onyx_model_input_count(m), 1);
    ck_assert_int_eq(onyx_model_output_count(m), 1);
    const onyx_tensor *in = onyx_model_input(m, 0);
    ck_assert_str_eq(onyx_tensor_name(in), "x");
    ck_assert_int_eq(onyx_tensor_dtype(in), ONYX_DTYPE_FLOAT32);
    ck_assert_int_eq(onyx_tensor_rank(in), 3);
    ck_assert_int_eq(onyx_tensor_dim(in, 2), 5);
    ck_assert_int_eq(onyx_tensor_dim(in, 3), -1);
    ck_assert_ptr_null(onyx_tensor_data(in));
    ck_assert_int_eq(onyx_model_input_index(m, "x"), 0);
    ck_assert_int_eq(onyx_model_input_index(m, "nope"), -1);
    ck_assert_int_eq(onyx_model_output_index(m, "y"), 0);
    ck_assert_ptr_null(onyx_model_input(m, 1));
    ck_assert_ptr_null(onyx_model_input(m, -1));

    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_num_threads(o, -1), ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_options_set_backend(o, (onyx_backend)42), ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_options_set_num_threads(o, 1), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_backend(o, ONYX_BACKEND_REFERENCE), ONYX_OK);
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, o, &s), ONYX_OK);
    onyx_options_free(o);
    onyx_model_free(m); /* the session keeps it alive */

    float x[60], y[60];
    for (int i = 0; i < 60; i++) x[i] = (float)(i - 30) / 7.0f;
    int64_t dims[3] = {3, 4, 5};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 3, x, sizeof x),
                     ONYX_OK);
    ck_assert_int_eq(onyx_session_bind_output(s, 0, y, sizeof y), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    const onyx_tensor *out = onyx_session_output(s, 0);
    ck_assert_int_eq(onyx_tensor_rank(out), 3);
    ck_assert_uint_eq(onyx_tensor_nbytes(out), sizeof y);
    for (int i = 0; i < 60; i++) ck_assert_float_eq_tol(y[i], sigmoid_ref(x[i]), 1e-6);
    onyx_session_free(s);
}
END_TEST

START_TEST(test_api_bind_errors_name_the_problem) {
    onyx_model *m = tu_load_model(SIGMOID_MODEL);
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    float x[60] = {0};
    int64_t dims[3] = {3, 4, 5}, bad[3] = {3, 4, 6}, neg[3] = {3, -4, 5};
    ck_assert_int_eq(onyx_session_run(s), ONYX_MISUSE);
    ck_assert_ptr_nonnull(strstr(onyx_session_errmsg(s), "('x') is not bound"));
    ck_assert_int_eq(onyx_session_bind_input(s, 1, ONYX_DTYPE_FLOAT32, dims, 3, x, sizeof x),
                     ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_INT64, dims, 3, x, sizeof x),
                     ONYX_TYPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(onyx_session_errmsg(s), "float32"));
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 2, x, sizeof x),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, bad, 3, x, sizeof x),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(onyx_session_errmsg(s), "dim 2"));
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, neg, 3, x, sizeof x),
                     ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 3, x, sizeof x - 4),
                     ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 3, NULL, sizeof x),
                     ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, NULL, 3, x, sizeof x),
                     ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_session_bind_output(s, 5, x, sizeof x), ONYX_INVALID_ARG);
    /* after all these errors the session still works */
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 3, x, sizeof x),
                     ONYX_OK);
    float small[10];
    ck_assert_int_eq(onyx_session_bind_output(s, 0, small, sizeof small), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(onyx_session_errmsg(s), "240 bytes"));
    ck_assert_int_eq(onyx_session_bind_output(s, 0, NULL, 0), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    ck_assert_int_eq(onyx_session_errcode(s), ONYX_OK);
    ck_assert_str_eq(onyx_session_errmsg(s), "");
    const float *y = onyx_tensor_data(onyx_session_output(s, 0));
    ck_assert_float_eq_tol(y[0], 0.5f, 1e-7);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_api_session_outlives_model_and_sessions_are_independent) {
    onyx_model *m = tu_load_model(SIGMOID_MODEL);
    onyx_session *a = NULL, *b = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &a), ONYX_OK);
    ck_assert_int_eq(onyx_session_create(m, NULL, &b), ONYX_OK);
    onyx_model_free(m);
    float xa[60], xb[60];
    for (int i = 0; i < 60; i++) {
        xa[i] = 1.0f;
        xb[i] = -1.0f;
    }
    int64_t dims[3] = {3, 4, 5};
    ck_assert_int_eq(onyx_session_bind_input(a, 0, ONYX_DTYPE_FLOAT32, dims, 3, xa, sizeof xa),
                     ONYX_OK);
    ck_assert_int_eq(onyx_session_bind_input(b, 0, ONYX_DTYPE_FLOAT32, dims, 3, xb, sizeof xb),
                     ONYX_OK);
    ck_assert_int_eq(onyx_session_run(a), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(b), ONYX_OK);
    const float *ya = onyx_tensor_data(onyx_session_output(a, 0));
    const float *yb = onyx_tensor_data(onyx_session_output(b, 0));
    ck_assert_float_eq_tol(ya[7], sigmoid_ref(1.0f), 1e-7);
    ck_assert_float_eq_tol(yb[7], sigmoid_ref(-1.0f), 1e-7);
    onyx_session_free(a);
    onyx_session_free(b); /* the last owner frees the model */
}
END_TEST

int main(void) {
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("handles");
    tcase_add_test(tc, test_api_version_matches_macros);
    tcase_add_test(tc, test_api_null_handles_are_safe);
    tcase_add_test(tc, test_api_foreign_handles_are_misuse);
    tcase_add_test(tc, test_api_missing_file_gives_failed_handle);
    tcase_add_test(tc, test_api_garbage_memory_is_invalid_model);
    suite_add_tcase(s, tc);
    TCase *tc2 = tcase_create("sessions");
    tcase_add_test(tc2, test_api_model_and_options_freed_after_create);
    tcase_add_test(tc2, test_api_bind_errors_name_the_problem);
    tcase_add_test(tc2, test_api_session_outlives_model_and_sessions_are_independent);
    suite_add_tcase(s, tc2);
    return tu_run_suite(s);
}
