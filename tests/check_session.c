/*
 * Session behaviour: shape inference from bound inputs (symbolic dims), automatic re-plan on
 * new shapes and on new shape-determining input data, constant folding, no allocation inside
 * a run with known shapes, and sessions of one model running on several threads at once.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "testutil.h"
#include "weights.h"

START_TEST(test_session_symbolic_dims_follow_bound_shape) {
    onyx_model *m = tu_load_model(ONYX_TEST_DATA_DIR "/dyn_sigmoid.onnx");
    ck_assert_int_eq(onyx_tensor_dim(onyx_model_input(m, 0), 0), -1);
    ck_assert_int_eq(onyx_tensor_dim(onyx_model_input(m, 0), 1), 3);
    ck_assert_str_eq(onyx_tensor_dim_param(onyx_model_input(m, 0), 0), "N");
    ck_assert_str_eq(onyx_tensor_dim_param(onyx_model_input(m, 0), 1), "");
    ck_assert_ptr_null(onyx_tensor_dim_param(onyx_model_input(m, 0), 2));
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    ck_assert_uint_eq(onyx_session_arena_bytes(s), 0); /* not planned: N unknown */
    float x[15];
    for (int i = 0; i < 15; i++) x[i] = (float)i - 7.0f;
    for (int n = 1; n <= 5; n += 2) {
        int64_t dims[2] = {n, 3};
        ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 2, x,
                                                 (size_t)n * 3 * sizeof(float)),
                         ONYX_OK);
        ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
        const onyx_tensor *y = onyx_session_output(s, 0);
        ck_assert_int_eq(onyx_tensor_dim(y, 0), n);
        ck_assert_int_eq(onyx_tensor_dim(y, 1), 3);
        const float *yd = onyx_tensor_data(y);
        for (int i = 0; i < n * 3; i++)
            ck_assert_float_eq_tol(yd[i], 1.0f / (1.0f + expf(-x[i])), 1e-6);
    }
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_session_symbolic_dim_conflict_is_shape_mismatch) {
    onyx_model *m = tu_load_model(ONYX_TEST_DATA_DIR "/sym_concat.onnx");
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    float a[6] = {0}, b[9] = {0};
    int64_t da[2] = {3, 2}, db[2] = {2, 3};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, da, 2, a, sizeof a), ONYX_OK);
    ck_assert_int_eq(onyx_session_bind_input(s, 1, ONYX_DTYPE_FLOAT32, db, 2, b, 6 * sizeof(float)),
                     ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_SHAPE_MISMATCH);
    ck_assert_msg(strstr(onyx_session_errmsg(s), "'N'") != NULL, "%s", onyx_session_errmsg(s));
    /* fixing the binding makes it run */
    int64_t db3[2] = {3, 3};
    ck_assert_int_eq(onyx_session_bind_input(s, 1, ONYX_DTYPE_FLOAT32, db3, 2, b, sizeof b), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    ck_assert_int_eq(onyx_tensor_dim(onyx_session_output(s, 0), 1), 5);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_session_folds_constants_and_runs_fusion) {
    onyx_model *m = tu_load_model(ONYX_TEST_DATA_DIR "/fusion_small.onnx");
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    ck_assert_uint_gt(onyx_session_arena_bytes(s), 0); /* planned at create: fixed shapes */
    float x[50];
    for (int i = 0; i < 50; i++) x[i] = sinf((float)i);
    int64_t dims[4] = {1, 2, 5, 5};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 4, x, sizeof x), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    const onyx_tensor *fused = onyx_session_output(s, 0), *pooled = onyx_session_output(s, 1);
    ck_assert_int_eq(onyx_tensor_dim(fused, 1), 6);
    ck_assert_int_eq(onyx_tensor_dim(fused, 2), 10);
    const float *f = onyx_tensor_data(fused), *p = onyx_tensor_data(pooled);
    /* channels 4,5 are x upsampled by nearest x2: element (2i, 2j) = x(i, j) */
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++) {
                float want = x[c * 25 + i * 5 + j];
                ck_assert_float_eq(f[(4 + c) * 100 + (2 * i) * 10 + 2 * j], want);
                ck_assert_float_eq(f[(4 + c) * 100 + (2 * i + 1) * 10 + 2 * j + 1], want);
            }
    /* the pool of an x2 nearest upsample is the mean of the original channel */
    for (int c = 0; c < 2; c++) {
        double mean = 0;
        for (int i = 0; i < 25; i++) mean += x[c * 25 + i];
        ck_assert_float_eq_tol(p[4 + c], mean / 25, 1e-5);
    }
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_session_replans_when_shape_data_changes) {
    onyx_model *m = tu_load_model(ONYX_TEST_DATA_DIR "/resize_sizes_input.onnx");
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK); /* waits for the sizes */
    float x[4] = {1, 2, 3, 4};
    int64_t xd[4] = {1, 1, 2, 2}, sd[1] = {4};
    int64_t sizes[4] = {1, 1, 4, 6};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, xd, 4, x, sizeof x), ONYX_OK);
    ck_assert_int_eq(onyx_session_bind_input(s, 1, ONYX_DTYPE_INT64, sd, 1, sizes, sizeof sizes),
                     ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    const onyx_tensor *y = onyx_session_output(s, 0);
    ck_assert_int_eq(onyx_tensor_dim(y, 2), 4);
    ck_assert_int_eq(onyx_tensor_dim(y, 3), 6);
    /* same shapes, new data in the sizes input: the output shape follows */
    sizes[2] = 2;
    sizes[3] = 2;
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    y = onyx_session_output(s, 0);
    ck_assert_int_eq(onyx_tensor_dim(y, 2), 2);
    ck_assert_int_eq(onyx_tensor_dim(y, 3), 2);
    const float *yd = onyx_tensor_data(y);
    for (int i = 0; i < 4; i++) ck_assert_float_eq(yd[i], x[i]);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_session_run_allocates_nothing) {
    onyx_model *m = tu_load_model(ONYX_TEST_DATA_DIR "/fusion_small.onnx");
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    float x[50] = {0};
    int64_t dims[4] = {1, 2, 5, 5};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 4, x, sizeof x), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    onyxi_alloc_fail_after(1); /* any allocation from here on fails */
    for (int i = 0; i < 3; i++) {
        x[i] = (float)i;
        ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 4, x, sizeof x),
                         ONYX_OK);
        ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    }
    ck_assert_int_eq(onyxi_alloc_fail_after(0), 0); /* and none was attempted */
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_session_free_releases_everything) {
    long before = onyxi_alloc_live_blocks();
    onyx_model *m = tu_load_model(ONYX_TEST_DATA_DIR "/fusion_small.onnx");
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    onyx_model_free(m);
    float x[50] = {0};
    int64_t dims[4] = {1, 2, 5, 5};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 4, x, sizeof x), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    onyx_session_free(s);
    ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
}
END_TEST

typedef struct worker {
    onyx_model *model;
    int seed;
    int ok;
    float out[600];
} worker;

static void fill(float *x, int n, int seed) {
    for (int i = 0; i < n; i++) x[i] = sinf((float)(i * 7 + seed));
}

static void *run_worker(void *arg) {
    worker *w = arg;
    onyx_session *s = NULL;
    w->ok = 0;
    if (onyx_session_create(w->model, NULL, &s) != ONYX_OK) goto out;
    float x[50];
    int64_t dims[4] = {1, 2, 5, 5};
    for (int r = 0; r < 50; r++) {
        fill(x, 50, w->seed + r % 3);
        if (onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 4, x, sizeof x) != ONYX_OK ||
            onyx_session_run(s) != ONYX_OK)
            goto out;
    }
    memcpy(w->out, onyx_tensor_data(onyx_session_output(s, 0)), sizeof w->out);
    w->ok = 1;
out:
    onyx_session_free(s);
    return NULL;
}

START_TEST(test_session_threads_share_a_model) {
    onyx_model *m = tu_load_model(ONYX_TEST_DATA_DIR "/fusion_small.onnx");
    worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i].model = m;
        w[i].seed = i;
        ck_assert_int_eq(pthread_create(&t[i], NULL, run_worker, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    /* each thread's last run used seed + 49 % 3 = seed + 1; compare with a single-threaded run */
    for (int i = 0; i < 4; i++) {
        ck_assert(w[i].ok);
        worker solo = {m, i, 0, {0}};
        run_worker(&solo);
        ck_assert(solo.ok);
        ck_assert_mem_eq(w[i].out, solo.out, sizeof solo.out);
    }
    onyx_model_free(m);
}
END_TEST

/* Output 0 of a model run with `threads` kernel threads on a fixed input. */
static void run_with_threads(onyx_model *m, int threads, float *out, size_t nbytes) {
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_num_threads(o, threads), ONYX_OK);
    /* the same kernels at every thread count: measured selection may pick others per count */
    ck_assert_int_eq(onyx_options_set_kernel_selection(o, ONYX_SELECT_STATIC), ONYX_OK);
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, o, &s), ONYX_OK);
    onyx_options_free(o);
    float *x[4] = {0};
    ck_assert_int_le(onyx_model_input_count(m), 4);
    for (int i = 0; i < onyx_model_input_count(m); i++) {
        const onyx_tensor *decl = onyx_model_input(m, i);
        int64_t dims[8], count = onyx_tensor_count(decl);
        for (int d = 0; d < onyx_tensor_rank(decl); d++) dims[d] = onyx_tensor_dim(decl, d);
        x[i] = malloc((size_t)count * sizeof(float));
        for (int64_t e = 0; e < count; e++) x[i][e] = sinf((float)(e + 13 * i) * 0.37f);
        ck_assert_int_eq(onyx_session_bind_input(s, i, ONYX_DTYPE_FLOAT32, dims,
                                                 onyx_tensor_rank(decl), x[i],
                                                 (size_t)count * sizeof(float)),
                         ONYX_OK);
    }
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    const onyx_tensor *y = onyx_session_output(s, 0);
    ck_assert_uint_eq(onyx_tensor_nbytes(y), nbytes);
    memcpy(out, onyx_tensor_data(y), nbytes);
    for (int i = 0; i < 4; i++) free(x[i]);
    onyx_session_free(s);
}

START_TEST(test_session_results_do_not_depend_on_threads) {
    /* grouped, dilated and strided convs (threads split output channels) and attention
     * matmuls (threads split rows): 1, 2 and 3 threads give bit-identical outputs */
    const char *models[] = {ONYX_TEST_MODELS_DIR "/dilated_groups_op17/model.onnx",
                            ONYX_TEST_MODELS_DIR "/fusion_op17/model.onnx",
                            ONYX_TEST_MODELS_DIR "/attention_op17/model.onnx"};
    for (int k = 0; k < 3; k++) {
        onyx_model *m = tu_load_model(models[k]);
        onyx_session *probe = NULL;
        ck_assert_int_eq(onyx_session_create(m, NULL, &probe), ONYX_OK);
        size_t nbytes = onyx_tensor_nbytes(onyx_session_output(probe, 0));
        onyx_session_free(probe);
        ck_assert_uint_gt(nbytes, 0);
        float *one = malloc(nbytes), *many = malloc(nbytes);
        run_with_threads(m, 1, one, nbytes);
        for (int t = 2; t <= 3; t++) {
            run_with_threads(m, t, many, nbytes);
            ck_assert_mem_eq(one, many, nbytes);
        }
        free(one);
        free(many);
        onyx_model_free(m);
    }
}
END_TEST

/* Runs concat_branches.onnx on a fixed input; returns the Concat step's implementation and
 * the output, and whether the second Sigmoid's output shares its input's bytes. */
static const char *run_branches(onyx_backend backend, float *y, int *sigmoid_in_place) {
    onyx_model *m = tu_load_model(ONYX_TEST_DATA_DIR "/concat_branches.onnx");
    onyx_session *s = NULL;
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_backend(o, backend), ONYX_OK);
    ck_assert_int_eq(onyx_session_create(m, o, &s), ONYX_OK);
    onyx_options_free(o);
    float x[84];
    for (int i = 0; i < 84; i++) x[i] = sinf((float)i * 0.7f);
    int64_t dims[4] = {1, 2, 6, 7};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 4, x, sizeof x), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    memcpy(y, onyx_tensor_data(onyx_session_output(s, 0)), 5 * sizeof(float));
    const char *cat = NULL;
    for (int i = 0; i < onyx_session_step_count(s); i++) {
        const char *name = onyx_model_node_name(m, onyx_session_step_node(s, i));
        if (name && strcmp(name, "cat") == 0) cat = onyx_session_step_impl(s, i); /* static */
    }
    ck_assert_ptr_nonnull(cat);
    size_t off_c = 1, off_d = 2;
    for (int i = 0; i < onyx_session_plan_tensor_count(s); i++) {
        const char *name;
        size_t off;
        ck_assert_int_eq(onyx_session_plan_tensor(s, i, &name, &off, NULL, NULL, NULL), ONYX_OK);
        if (strcmp(name, "c") == 0) off_c = off;
        if (strcmp(name, "d") == 0) off_d = off;
    }
    *sigmoid_in_place = off_c == off_d;
    onyx_session_free(s);
    onyx_model_free(m);
    return cat;
}

START_TEST(test_session_zero_copy_concat_and_in_place) {
    /* plain layouts (reference kernels): both producers write into the Concat's output and
     * the second Sigmoid overwrites its input */
    float shared[5], separate[5], fast[5];
    int in_place = 0;
    unsetenv("ONYX_DISABLE_PASSES"); /* sharing is on by default */
    ck_assert_str_eq(run_branches(ONYX_BACKEND_REFERENCE, shared, &in_place), "zero-copy");
    ck_assert(in_place);
    /* the same results with memory sharing turned off */
    setenv("ONYX_DISABLE_PASSES", "alias", 1);
    const char *impl = run_branches(ONYX_BACKEND_REFERENCE, separate, &in_place);
    unsetenv("ONYX_DISABLE_PASSES");
    ck_assert_str_ne(impl, "zero-copy");
    ck_assert(!in_place);
    ck_assert_mem_eq(shared, separate, sizeof shared);
    /* and the default backend (oneDNN where it applies) agrees within rounding */
    run_branches(ONYX_BACKEND_AUTO, fast, &in_place);
    for (int i = 0; i < 5; i++) ck_assert_float_eq_tol(fast[i], shared[i], 1e-5);
}
END_TEST

START_TEST(test_session_sessions_share_packed_weights) {
    /* oneDNN wants the conv weights in a blocked layout: the first session packs them into
     * the model's cache, a second session of the same model reuses every buffer */
    onyx_model *m = tu_load_model(ONYX_TEST_MODELS_DIR "/zoo/resnet_op13/model.onnx");
    onyx_session *a = NULL, *b = NULL;
    int n1 = 0, n2 = 0;
    size_t bytes1 = 0, bytes2 = 0;
    int64_t dims[4] = {1, 3, 32, 32};
    static float x[3 * 32 * 32];
    ck_assert_int_eq(onyx_session_create(m, NULL, &a), ONYX_OK);
    ck_assert_int_eq(onyx_session_bind_input(a, 0, ONYX_DTYPE_FLOAT32, dims, 4, x, sizeof x), ONYX_OK);
    ck_assert_int_eq(onyx_session_prepare(a), ONYX_OK);
    onyxi_weights_stats(m->weights, &n1, &bytes1);
    ck_assert_int_gt(n1, 0);
    ck_assert_int_eq(onyx_session_create(m, NULL, &b), ONYX_OK);
    ck_assert_int_eq(onyx_session_bind_input(b, 0, ONYX_DTYPE_FLOAT32, dims, 4, x, sizeof x), ONYX_OK);
    ck_assert_int_eq(onyx_session_prepare(b), ONYX_OK);
    onyxi_weights_stats(m->weights, &n2, &bytes2);
    ck_assert_int_eq(n2, n1);
    ck_assert_uint_eq(bytes2, bytes1);
    onyx_session_free(a);
    onyx_session_free(b);
    onyx_model_free(m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("shapes");
    tcase_add_test(tc, test_session_symbolic_dims_follow_bound_shape);
    tcase_add_test(tc, test_session_symbolic_dim_conflict_is_shape_mismatch);
    tcase_add_test(tc, test_session_folds_constants_and_runs_fusion);
    tcase_add_test(tc, test_session_replans_when_shape_data_changes);
    suite_add_tcase(s, tc);
    TCase *tc2 = tcase_create("memory");
    tcase_add_test(tc2, test_session_run_allocates_nothing);
    tcase_add_test(tc2, test_session_free_releases_everything);
    tcase_add_test(tc2, test_session_threads_share_a_model);
    tcase_add_test(tc2, test_session_results_do_not_depend_on_threads);
    tcase_add_test(tc2, test_session_zero_copy_concat_and_in_place);
    tcase_add_test(tc2, test_session_sessions_share_packed_weights);
    suite_add_tcase(s, tc2);
    return tu_run_suite(s);
}
