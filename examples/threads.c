/* Run one model from several threads. An onyx_model is immutable once loaded, so all
 * threads share it (and its weights); each thread makes its own onyx_session, because a
 * session holds the memory of one run and is used by one thread at a time.
 * Build: cc threads.c -lonyx -lpthread    Run: ./threads MODEL.onnx [THREADS] [RUNS] */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onyx.h"

typedef struct job {
    onyx_model *model;     /* shared, read-only */
    const float *input;    /* shared, read-only: onyx never writes bound inputs */
    int64_t dims[8];
    int rank;
    size_t nbytes;
    const float *expected; /* output 0 of a single-threaded run */
    size_t expected_bytes;
    int runs;
    int ok; /* set by the thread */
} job;

/* One session per thread; 1 kernel thread each so that N threads use N cores. */
static void *worker(void *arg) {
    job *j = arg;
    onyx_options *opts = NULL;
    onyx_session *s = NULL;
    j->ok = 0;
    if (onyx_options_create(&opts) != ONYX_OK || onyx_options_set_num_threads(opts, 1) != ONYX_OK)
        goto out;
    if (onyx_session_create(j->model, opts, &s) != ONYX_OK) goto out;
    onyx_options_free(opts); /* the session copied the options */
    opts = NULL;
    if (onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, j->dims, j->rank, j->input, j->nbytes) !=
        ONYX_OK)
        goto out;
    for (int r = 0; r < j->runs; r++) {
        if (onyx_session_run(s) != ONYX_OK) goto out;
        const onyx_tensor *y = onyx_session_output(s, 0);
        if (onyx_tensor_nbytes(y) != j->expected_bytes ||
            memcmp(onyx_tensor_data(y), j->expected, j->expected_bytes) != 0)
            goto out;
    }
    j->ok = 1;
out:
    onyx_options_free(opts);
    onyx_session_free(s);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.onnx [THREADS] [RUNS]\n", argv[0]);
        return 2;
    }
    int n_threads = argc > 2 ? atoi(argv[2]) : 4, runs = argc > 3 ? atoi(argv[3]) : 8;
    if (n_threads < 1 || n_threads > 64 || runs < 1) {
        fprintf(stderr, "THREADS must be 1..64 and RUNS at least 1\n");
        return 2;
    }
    onyx_model *model = NULL;
    onyx_session *ref = NULL;
    float *input = NULL, *expected = NULL;
    int status = 1;
    if (onyx_model_load_file(argv[1], &model) != ONYX_OK) {
        fprintf(stderr, "load failed: %s\n", onyx_model_errmsg(model));
        goto out;
    }
    /* input 0 (float32; symbolic dims taken as 2), filled with a fixed pattern */
    const onyx_tensor *decl = onyx_model_input(model, 0);
    job proto = {.model = model, .rank = onyx_tensor_rank(decl), .runs = runs};
    size_t count = 1;
    for (int d = 0; d < proto.rank && d < 8; d++) {
        proto.dims[d] = onyx_tensor_dim(decl, d) < 0 ? 2 : onyx_tensor_dim(decl, d);
        count *= (size_t)proto.dims[d];
    }
    proto.nbytes = count * sizeof(float);
    input = malloc(proto.nbytes + 1);
    if (!input) goto out;
    for (size_t i = 0; i < count; i++) input[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    proto.input = input;

    /* the expected output: one run on this thread, with the workers' options (1 kernel
     * thread), so that it runs the same kernels as they do */
    onyx_options *ref_opts = NULL;
    if (onyx_options_create(&ref_opts) != ONYX_OK ||
        onyx_options_set_num_threads(ref_opts, 1) != ONYX_OK) {
        onyx_options_free(ref_opts);
        fprintf(stderr, "out of memory\n");
        goto out;
    }
    onyx_status made = onyx_session_create(model, ref_opts, &ref);
    onyx_options_free(ref_opts);
    if (made != ONYX_OK ||
        onyx_session_bind_input(ref, 0, ONYX_DTYPE_FLOAT32, proto.dims, proto.rank, input,
                                proto.nbytes) != ONYX_OK ||
        onyx_session_run(ref) != ONYX_OK) {
        fprintf(stderr, "reference run failed: %s\n", onyx_session_errmsg(ref));
        goto out;
    }
    const onyx_tensor *y = onyx_session_output(ref, 0);
    proto.expected_bytes = onyx_tensor_nbytes(y);
    expected = malloc(proto.expected_bytes + 1);
    if (!expected) goto out;
    memcpy(expected, onyx_tensor_data(y), proto.expected_bytes);
    proto.expected = expected;

    job jobs[64];
    pthread_t tids[64];
    for (int t = 0; t < n_threads; t++) {
        jobs[t] = proto;
        if (pthread_create(&tids[t], NULL, worker, &jobs[t]) != 0) {
            fprintf(stderr, "cannot start thread %d\n", t);
            n_threads = t;
            break;
        }
    }
    int good = 0;
    for (int t = 0; t < n_threads; t++) {
        pthread_join(tids[t], NULL);
        good += jobs[t].ok;
    }
    printf("%d threads x %d runs: %d of %d sessions matched the single-threaded output\n",
           n_threads, runs, good, n_threads);
    status = good == n_threads && n_threads > 0 ? 0 : 1;
out:
    onyx_session_free(ref);
    onyx_model_free(model); /* the sessions held their own references; all are gone now */
    free(input);
    free(expected);
    return status;
}
