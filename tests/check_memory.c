/*
 * Memory of a loaded model (runtime/consts.h): weights read from a file are in memory once
 * after loading, and the plain bytes of the ones every kernel packed into the weight cache
 * are released once a session is prepared; whatever needs them later (the reference backend,
 * another input shape or thread count, a view of the initializer, sessions on several
 * threads) gets them read back and computes bit for bit what a model that never released
 * anything computes. The counters are the model's own (onyxi_consts_get_stats), not RSS.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "consts.h"
#include "model.h"
#include "pbbuild.h"
#include "testutil.h"

#define RESNET ONYX_TEST_MODELS_DIR "/zoo/resnet_op13"

static onyxi_consts_stats stats(onyx_model *m) {
    onyxi_consts_stats st;
    onyxi_consts_get_stats(m->consts, &st);
    return st;
}

static onyx_tensor *load_pb(const char *path) {
    onyx_tensor *t = NULL;
    char err[256] = "";
    ck_assert_msg(onyx_tensor_load_pb(path, &t, err, sizeof err) == ONYX_OK, "%s: %s", path, err);
    return t;
}

static onyx_model *load_memory(const char *path) {
    size_t n = 0;
    void *bytes = tu_read_file(path, &n);
    ck_assert_ptr_nonnull(bytes);
    onyx_model *m = NULL;
    ck_assert_int_eq(onyx_model_load_memory(bytes, n, &m), ONYX_OK);
    free(bytes);
    return m;
}

/* A session of m with backend, static kernel choice (so two models choose alike) and
 * threads, its input bound and prepared; *rc_out gets prepare's status. */
static onyx_session *session(onyx_model *m, onyx_backend backend, int threads, const onyx_tensor *x,
                             onyx_status *rc_out) {
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_backend(o, backend), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_num_threads(o, threads), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_kernel_selection(o, ONYX_SELECT_STATIC), ONYX_OK);
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, o, &s), ONYX_OK);
    onyx_options_free(o);
    int64_t dims[8];
    for (int d = 0; d < onyx_tensor_rank(x); d++)
        dims[d] = onyx_tensor_dim(x, d);
    ck_assert_int_eq(onyx_session_bind_input(s, 0, onyx_tensor_dtype(x), dims, onyx_tensor_rank(x),
                                             onyx_tensor_data(x), onyx_tensor_nbytes(x)),
                     ONYX_OK);
    *rc_out = onyx_session_prepare(s);
    return s;
}

/* Runs a prepared session; returns a malloc'd copy of output 0 (*n bytes). */
static void *run_copy(onyx_session *s, size_t *n) {
    ck_assert_msg(onyx_session_run(s) == ONYX_OK, "%s", onyx_session_errmsg(s));
    const onyx_tensor *y = onyx_session_output(s, 0);
    *n = onyx_tensor_nbytes(y);
    void *copy = malloc(*n ? *n : 1);
    memcpy(copy, onyx_tensor_data(y), *n);
    return copy;
}

/* Output 0 of a fresh session of m: created, run, freed. */
static void *output_of(onyx_model *m, onyx_backend backend, int threads, const onyx_tensor *x,
                       size_t *n) {
    onyx_status rc;
    onyx_session *s = session(m, backend, threads, x, &rc);
    ck_assert_msg(rc == ONYX_OK, "%s", onyx_session_errmsg(s));
    void *y = run_copy(s, n);
    onyx_session_free(s);
    return y;
}

static void assert_same(const void *a, size_t na, const void *b, size_t nb) {
    ck_assert_uint_eq(na, nb);
    ck_assert_int_eq(memcmp(a, b, na), 0);
}

START_TEST(test_memory_packed_weights_released) {
    onyx_model *m = tu_load_model(RESNET "/model.onnx");
    onyx_model *ref = load_memory(RESNET "/model.onnx"); /* releases nothing: the oracle */
    ck_assert_ptr_null(ref->consts);
    onyxi_consts_stats st = stats(m);
    ck_assert_int_ge(st.linked, 2); /* the two 3x3 convs of the widest block */
    ck_assert_int_eq(st.released, 0);
    onyx_tensor *x = load_pb(RESNET "/test_data_set_0/input_0.pb");
    onyx_status rc;
    onyx_session *s = session(m, ONYX_BACKEND_AUTO, 1, x, &rc);
    ck_assert_msg(rc == ONYX_OK, "%s", onyx_session_errmsg(s));
    /* oneDNN packed every conv weight: the plain copies are gone, nothing was read back */
    st = stats(m);
    ck_assert_int_eq(st.released, st.linked);
    ck_assert_uint_eq(st.released_bytes, st.linked_bytes);
    ck_assert_int_eq(st.rereads, 0);
    size_t na, nb;
    void *a = run_copy(s, &na), *b = output_of(ref, ONYX_BACKEND_AUTO, 1, x, &nb);
    assert_same(a, na, b, nb);
    /* a second session of the same kind reuses the packed weights: still nothing read */
    free(a);
    a = output_of(m, ONYX_BACKEND_AUTO, 1, x, &na);
    assert_same(a, na, b, nb);
    ck_assert_int_eq(stats(m).rereads, 0);
    onyx_session_free(s);
    free(a);
    free(b);
    onyx_tensor_free(x);
    onyx_model_free(ref);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_memory_reference_backend_reads_back) {
    onyx_model *m = tu_load_model(RESNET "/model.onnx");
    onyx_model *ref = load_memory(RESNET "/model.onnx");
    onyx_tensor *x = load_pb(RESNET "/test_data_set_0/input_0.pb");
    size_t na, nb;
    free(output_of(m, ONYX_BACKEND_AUTO, 1, x, &na)); /* packs and releases */
    onyxi_consts_stats st = stats(m);
    ck_assert_int_gt(st.released, 0);
    /* the reference kernels read plain weights: the plan brings them back and holds them */
    onyx_status rc;
    onyx_session *s = session(m, ONYX_BACKEND_REFERENCE, 1, x, &rc);
    ck_assert_msg(rc == ONYX_OK, "%s", onyx_session_errmsg(s));
    ck_assert_int_eq(stats(m).released, 0);
    ck_assert_int_eq(stats(m).rereads, st.released);
    void *a = run_copy(s, &na), *b = output_of(ref, ONYX_BACKEND_REFERENCE, 1, x, &nb);
    assert_same(a, na, b, nb);
    onyx_session_free(s);
    /* nothing holds them any more */
    ck_assert_int_eq(stats(m).released, st.released);
    free(a);
    free(b);
    onyx_tensor_free(x);
    onyx_model_free(ref);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_memory_other_shape_and_threads) {
    onyx_model *m = tu_load_model(RESNET "/model.onnx");
    onyx_model *ref = load_memory(RESNET "/model.onnx");
    onyx_tensor *x1 = load_pb(RESNET "/test_data_set_0/input_0.pb");
    onyx_tensor *x3 = load_pb(RESNET "/test_data_set_1/input_0.pb"); /* batch 3 */
    onyx_tensor *want = load_pb(RESNET "/test_data_set_1/output_0.pb");
    size_t na, nb;
    free(output_of(m, ONYX_BACKEND_AUTO, 1, x1, &na));
    ck_assert_int_gt(stats(m).released, 0);
    for (int threads = 1; threads <= 2; threads++) {
        void *a = output_of(m, ONYX_BACKEND_AUTO, threads, x3, &na);
        void *b = output_of(ref, ONYX_BACKEND_AUTO, threads, x3, &nb);
        assert_same(a, na, b, nb);
        ck_assert_uint_eq(na, onyx_tensor_nbytes(want));
        const float *got = a, *w = onyx_tensor_data(want);
        for (size_t i = 0; i < na / sizeof(float); i++)
            ck_assert_float_eq_tol(got[i], w[i], 1e-4 + 1e-3 * fabsf(w[i]));
        free(a);
        free(b);
    }
    /* whatever was read back for new packings is released again */
    ck_assert_int_eq(stats(m).released, stats(m).linked);
    onyx_tensor_free(want);
    onyx_tensor_free(x3);
    onyx_tensor_free(x1);
    onyx_model_free(ref);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_memory_views_read_back) {
    onyx_model *m = tu_load_model(RESNET "/model.onnx");
    onyx_model *ref = load_memory(RESNET "/model.onnx");
    onyx_tensor *x = load_pb(RESNET "/test_data_set_0/input_0.pb");
    size_t n;
    free(output_of(m, ONYX_BACKEND_AUTO, 1, x, &n));
    int released = stats(m).released;
    ck_assert_int_eq(onyx_model_initializer_count(m), onyx_model_initializer_count(ref));
    for (int i = 0; i < onyx_model_initializer_count(m); i++) {
        const onyx_tensor *a = onyx_model_initializer(m, i), *b = onyx_model_initializer(ref, i);
        ck_assert_str_eq(onyx_tensor_name(a), onyx_tensor_name(b));
        ck_assert_ptr_nonnull(onyx_tensor_data(a));
        assert_same(onyx_tensor_data(a), onyx_tensor_nbytes(a), onyx_tensor_data(b),
                    onyx_tensor_nbytes(b));
    }
    /* a view handed out keeps its bytes: no session releases them again */
    ck_assert_int_eq(stats(m).released, 0);
    ck_assert_int_eq(stats(m).rereads, released);
    free(output_of(m, ONYX_BACKEND_AUTO, 1, x, &n));
    ck_assert_int_eq(stats(m).released, 0);
    onyx_tensor_free(x);
    onyx_model_free(ref);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_memory_changed_file_is_io_error) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/memory_changed", ONYX_TEST_TMP_DIR);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    size_t len;
    void *bytes = tu_read_file(RESNET "/model.onnx", &len);
    tu_write_file(dir, "model.onnx", bytes, len);
    onyx_model *m = tu_load_model(path);
    onyx_tensor *x = load_pb(RESNET "/test_data_set_0/input_0.pb");
    size_t n;
    free(output_of(m, ONYX_BACKEND_AUTO, 1, x, &n));
    ck_assert_int_gt(stats(m).released, 0);
    /* rewritten in place (same bytes, new times): released weights cannot come back */
    tu_write_file(dir, "model.onnx", bytes, len);
    onyx_status rc;
    onyx_session *s = session(m, ONYX_BACKEND_REFERENCE, 1, x, &rc);
    ck_assert_int_eq(rc, ONYX_IO);
    ck_assert_ptr_nonnull(strstr(onyx_session_errmsg(s), "changed after loading"));
    onyx_session_free(s);
    /* packed weights need no plain bytes: a session like the first still works */
    free(output_of(m, ONYX_BACKEND_AUTO, 1, x, &n));
    onyx_tensor_free(x);
    onyx_model_free(m);
    free(bytes);
}
END_TEST

/* A Conv (W: 32x16x3x3, 18 KiB) whose weights are external data at an odd offset, or
 * raw_data; *len is the packed model's size. */
static uint8_t *conv_model(int external, const float *w, size_t *len) {
    static const int64_t xd[4] = {1, 16, 8, 8}, wd[4] = {32, 16, 3, 3}, yd[4] = {1, 32, 6, 6};
    mb *b = mb_new(13);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 4, xd, NULL);
    mb_node(b, "Conv", "conv", "x,W", "y");
    Onnx__TensorProto *t = mb_tensor(b, 1, "W", ONYX_DTYPE_FLOAT32, 4, wd);
    if (external)
        mb_external(b, t, "w.bin", "3", "18432");
    else
        mb_raw(t, w, 18432);
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 4, yd, NULL);
    return mb_pack(b, len);
}

START_TEST(test_memory_external_data_reads_back) {
    static float w[32 * 16 * 9];
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        w[i] = (float)((i * 7919) % 97) / 97.0f - 0.5f;
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/memory_external", ONYX_TEST_TMP_DIR);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    static unsigned char file[3 + sizeof w];
    memset(file, 0xee, 3);
    memcpy(file + 3, w, sizeof w);
    tu_write_file(dir, "w.bin", file, sizeof file);
    size_t len;
    uint8_t *buf = conv_model(1, w, &len);
    tu_write_file(dir, "model.onnx", buf, len);
    free(buf);
    buf = conv_model(0, w, &len);
    onyx_model *m = tu_load_model(path), *ref = NULL;
    ck_assert_int_eq(onyx_model_load_memory(buf, len, &ref), ONYX_OK);
    free(buf);
    ck_assert_int_eq(stats(m).linked, 1);

    static const int64_t xd[4] = {1, 16, 8, 8};
    static float xv[16 * 64];
    for (int i = 0; i < 16 * 64; i++)
        xv[i] = (float)(i % 13) - 6.0f;
    onyx_tensor *x = NULL;
    ck_assert_int_eq(onyx_tensor_create("x", ONYX_DTYPE_FLOAT32, xd, 4, xv, &x), ONYX_OK);
    size_t na, nb;
    void *a = output_of(m, ONYX_BACKEND_AUTO, 1, x, &na);
    void *b = output_of(ref, ONYX_BACKEND_AUTO, 1, x, &nb);
    assert_same(a, na, b, nb);
    free(a);
    free(b);
    ck_assert_int_eq(stats(m).released, 1);
    a = output_of(m, ONYX_BACKEND_REFERENCE, 1, x, &na);
    b = output_of(ref, ONYX_BACKEND_REFERENCE, 1, x, &nb);
    assert_same(a, na, b, nb);
    ck_assert_int_eq(stats(m).rereads, 1);
    free(a);
    free(b);
    onyx_tensor_free(x);
    onyx_model_free(ref);
    onyx_model_free(m);
}
END_TEST

/* ---- allocation failures ---- */

/* Open file descriptors of this process. */
static int open_fds(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Load from the file, an oneDNN session (releases), a reference one (reads back), a view. */
static onyx_status fault_sequence(const onyx_tensor *x) {
    onyx_model *m = NULL;
    onyx_status rc = onyx_model_load_file(RESNET "/model.onnx", &m);
    onyx_backend kinds[2] = {ONYX_BACKEND_AUTO, ONYX_BACKEND_REFERENCE};
    int64_t dims[4];
    for (int d = 0; d < 4; d++)
        dims[d] = onyx_tensor_dim(x, d);
    for (int k = 0; k < 2 && rc == ONYX_OK; k++) {
        onyx_options *o = NULL;
        onyx_session *s = NULL;
        rc = onyx_options_create(&o);
        if (rc == ONYX_OK) rc = onyx_options_set_backend(o, kinds[k]);
        if (rc == ONYX_OK) rc = onyx_options_set_kernel_selection(o, ONYX_SELECT_STATIC);
        if (rc == ONYX_OK) rc = onyx_session_create(m, o, &s);
        if (rc == ONYX_OK)
            rc = onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 4, onyx_tensor_data(x),
                                         onyx_tensor_nbytes(x));
        if (rc == ONYX_OK) rc = onyx_session_run(s);
        onyx_session_free(s);
        onyx_options_free(o);
    }
    if (rc == ONYX_OK) ck_assert_ptr_nonnull(onyx_tensor_data(onyx_model_initializer(m, 0)));
    onyx_model_free(m);
    return rc;
}

START_TEST(test_memory_fault_every_allocation) {
    onyx_tensor *x = load_pb(RESNET "/test_data_set_0/input_0.pb");
    long blocks = onyxi_alloc_live_blocks();
    int fds = open_fds();
    int succeeded = 0;
    for (long nth = 1; nth < 100000 && !succeeded; nth++) {
        onyxi_alloc_fail_after(nth);
        onyx_status rc = fault_sequence(x);
        long attempted = onyxi_alloc_fail_after(0);
        ck_assert_msg(onyxi_alloc_live_blocks() == blocks,
                      "allocation %ld failing leaked %ld blocks", nth,
                      onyxi_alloc_live_blocks() - blocks);
        ck_assert_msg(open_fds() == fds, "allocation %ld failing leaked a file descriptor", nth);
        if (rc == ONYX_OK) {
            ck_assert_msg(attempted < nth, "succeeded although allocation %ld failed", nth);
            succeeded = 1;
        } else {
            ck_assert_msg(rc == ONYX_NOMEM, "allocation %ld failing gave status %d", nth, rc);
        }
    }
    ck_assert(succeeded);
    onyx_tensor_free(x);
}
END_TEST

/* ---- sessions of one model on several threads ---- */

#define THREADS 4
#define ROUNDS 6

typedef struct job {
    onyx_model *m;
    const onyx_tensor *x[2];
    void *want[3]; /* per kind: auto batch 1, reference batch 1, auto batch 3 on 2 threads */
    size_t want_n[3];
    int id, bad;
} job;

static void *worker(void *arg) {
    job *j = arg;
    for (int r = 0; r < ROUNDS; r++) {
        int kind = (j->id + r) % 3;
        onyx_status rc;
        onyx_session *s = session(j->m, kind == 1 ? ONYX_BACKEND_REFERENCE : ONYX_BACKEND_AUTO,
                                  kind == 2 ? 2 : 1, j->x[kind == 2], &rc);
        size_t n = 0;
        void *y = rc == ONYX_OK ? run_copy(s, &n) : NULL;
        if (!y || n != j->want_n[kind] || memcmp(y, j->want[kind], n) != 0) j->bad++;
        free(y);
        onyx_session_free(s);
    }
    return NULL;
}

START_TEST(test_memory_sessions_on_threads) {
    onyx_model *m = tu_load_model(RESNET "/model.onnx");
    onyx_model *ref = load_memory(RESNET "/model.onnx");
    onyx_tensor *x1 = load_pb(RESNET "/test_data_set_0/input_0.pb");
    onyx_tensor *x3 = load_pb(RESNET "/test_data_set_1/input_0.pb");
    job jobs[THREADS];
    pthread_t th[THREADS];
    job base = {.m = m, .x = {x1, x3}};
    base.want[0] = output_of(ref, ONYX_BACKEND_AUTO, 1, x1, &base.want_n[0]);
    base.want[1] = output_of(ref, ONYX_BACKEND_REFERENCE, 1, x1, &base.want_n[1]);
    base.want[2] = output_of(ref, ONYX_BACKEND_AUTO, 2, x3, &base.want_n[2]);
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = base;
        jobs[i].id = i;
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(jobs[i].bad, 0);
    }
    /* with every session gone, every packed weight is released */
    ck_assert_int_eq(stats(m).released, stats(m).linked);
    for (int k = 0; k < 3; k++)
        free(base.want[k]);
    onyx_tensor_free(x3);
    onyx_tensor_free(x1);
    onyx_model_free(ref);
    onyx_model_free(m);
}
END_TEST

int main(void) {
    mkdir(ONYX_TEST_TMP_DIR, 0755);
    Suite *s = suite_create("memory");
    TCase *tc = tcase_create("release");
    tcase_add_test(tc, test_memory_packed_weights_released);
    tcase_add_test(tc, test_memory_reference_backend_reads_back);
    tcase_add_test(tc, test_memory_other_shape_and_threads);
    tcase_add_test(tc, test_memory_views_read_back);
    tcase_add_test(tc, test_memory_changed_file_is_io_error);
    tcase_add_test(tc, test_memory_external_data_reads_back);
    suite_add_tcase(s, tc);
    tc = tcase_create("faults");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_memory_fault_every_allocation);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_memory_sessions_on_threads);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
