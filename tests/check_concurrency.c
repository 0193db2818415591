/*
 * Concurrency: one model shared by 8 sessions on 8 threads (200 runs each, different inputs,
 * every output checked bit-for-bit against a single-threaded run), and sessions created and
 * freed from several threads at once. Meant to run under ThreadSanitizer and ASan too.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define THREADS 8
#define RUNS 200
#define MODEL ONYX_TEST_MODELS_DIR "/fusion_op13/model.onnx"

typedef struct expected {
    int n_outputs;
    size_t nbytes[4];
    float *data[4][4]; /* [input variant][output] */
} expected;

enum { VARIANTS = 4 };

static float *make_input(const onyx_model *m, int variant, int64_t *dims, int *rank,
                         size_t *nbytes) {
    const onyx_tensor *decl = onyx_model_input(m, 0);
    *rank = onyx_tensor_rank(decl);
    int64_t count = onyx_tensor_count(decl);
    for (int d = 0; d < *rank; d++) dims[d] = onyx_tensor_dim(decl, d);
    float *x = malloc((size_t)count * sizeof(float));
    for (int64_t i = 0; i < count; i++) x[i] = sinf((float)(i * (variant + 1)) * 0.1f + variant);
    *nbytes = (size_t)count * sizeof(float);
    return x;
}

/* Runs variant v on session s and returns 1 when every output equals want bit for bit. */
static int run_and_compare(onyx_session *s, const onyx_model *m, int v, const expected *want) {
    int64_t dims[8];
    int rank;
    size_t nbytes;
    float *x = make_input(m, v, dims, &rank, &nbytes);
    int ok = onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, rank, x, nbytes) == ONYX_OK &&
             onyx_session_run(s) == ONYX_OK;
    for (int o = 0; ok && want && o < want->n_outputs; o++) {
        const onyx_tensor *y = onyx_session_output(s, o);
        ok = onyx_tensor_nbytes(y) == want->nbytes[o] &&
             memcmp(onyx_tensor_data(y), want->data[v][o], want->nbytes[o]) == 0;
    }
    free(x);
    return ok;
}

typedef struct worker {
    onyx_model *model;
    const expected *want;
    int id;
    int mismatches;
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    onyx_options *o = NULL;
    onyx_session *s = NULL;
    onyx_options_create(&o);
    onyx_options_set_num_threads(o, 1);
    if (onyx_session_create(w->model, o, &s) != ONYX_OK) {
        w->mismatches = RUNS;
    } else {
        for (int r = 0; r < RUNS; r++)
            if (!run_and_compare(s, w->model, (w->id + r) % VARIANTS, w->want)) w->mismatches++;
    }
    onyx_session_free(s);
    onyx_options_free(o);
    return NULL;
}

START_TEST(test_concurrency_eight_sessions_bit_exact) {
    onyx_model *m = tu_load_model(MODEL);
    expected want = {0};
    want.n_outputs = onyx_model_output_count(m);
    ck_assert_int_le(want.n_outputs, 4);
    /* the single-threaded reference results, one per input variant (configured like the
     * workers' sessions, so that measured kernel selection gives them the same kernels) */
    onyx_session *s = NULL;
    onyx_options *ro = NULL;
    ck_assert_int_eq(onyx_options_create(&ro), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_num_threads(ro, 1), ONYX_OK);
    ck_assert_int_eq(onyx_session_create(m, ro, &s), ONYX_OK);
    onyx_options_free(ro);
    for (int v = 0; v < VARIANTS; v++) {
        ck_assert(run_and_compare(s, m, v, NULL));
        for (int o = 0; o < want.n_outputs; o++) {
            const onyx_tensor *y = onyx_session_output(s, o);
            want.nbytes[o] = onyx_tensor_nbytes(y);
            want.data[v][o] = malloc(want.nbytes[o]);
            memcpy(want.data[v][o], onyx_tensor_data(y), want.nbytes[o]);
        }
    }
    onyx_session_free(s);
    /* different variants really give different outputs, so a mix-up would be caught */
    ck_assert(memcmp(want.data[0][0], want.data[1][0], want.nbytes[0]) != 0);

    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){m, &want, i, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    onyx_model_free(m);
    for (int i = 0; i < THREADS; i++)
        ck_assert_msg(w[i].mismatches == 0, "thread %d: %d of %d runs differ", i, w[i].mismatches,
                      RUNS);
    for (int v = 0; v < VARIANTS; v++)
        for (int o = 0; o < want.n_outputs; o++) free(want.data[v][o]);
}
END_TEST

typedef struct churn {
    onyx_model *model;
    int failures;
} churn;

static void *churn_main(void *arg) {
    churn *c = arg;
    for (int i = 0; i < 50; i++) {
        onyx_session *s = NULL;
        if (onyx_session_create(c->model, NULL, &s) != ONYX_OK) c->failures++;
        else if (i % 5 == 0 && !run_and_compare(s, c->model, i % VARIANTS, NULL)) c->failures++;
        onyx_session_free(s);
    }
    return NULL;
}

START_TEST(test_concurrency_create_and_free_from_threads) {
    onyx_model *m = tu_load_model(MODEL);
    /* a first session packs the model's shared weights; they live as long as the model */
    onyx_session *first = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &first), ONYX_OK);
    onyx_session_free(first);
    long before = onyxi_alloc_live_blocks();
    pthread_t t[THREADS];
    churn c[THREADS];
    for (int i = 0; i < THREADS; i++) {
        c[i] = (churn){m, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, churn_main, &c[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) ck_assert_int_eq(c[i].failures, 0);
    ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
    onyx_model_free(m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("concurrency");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_concurrency_eight_sessions_bit_exact);
    tcase_add_test(tc, test_concurrency_create_and_free_from_threads);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
