/*
 * Tests of the embedding and tooling features: the log callback, the profiler (API and
 * Chrome trace), plan introspection, and the CLI views built on them: `onyx info --dot /
 * --plan / --svg / --json`, `onyx bench --profile / --top / --json`, .npy in `onyx run` and
 * `onyx test`, and `onyx test --junit`. Generated XML and JSON are checked for
 * well-formedness with tests/xmljson.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "npy.h"
#include "onyx.h"
#include "testutil.h"
#include "xmljson.h"

#define MLP ONYX_TEST_EXAMPLE_MODEL /* x [batch, 4] -> MatMul, Sigmoid, MatMul, Softmax */
#define CONV1D ONYX_TEST_MODELS_DIR "/conv1d_op17/model.onnx" /* has a folded Constant */

/* ---- helpers ---- */

static char *slurp(const char *path) {
    size_t n = 0;
    char *data = tu_read_file(path, &n);
    ck_assert_msg(data != NULL, "cannot read %s", path);
    char *s = malloc(n + 1);
    memcpy(s, data, n);
    s[n] = '\0';
    free(data);
    return s;
}

static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

#define ASSERT_HAS(text, needle)                                                                   \
    ck_assert_msg(strstr((text), (needle)) != NULL, "expected '%s' in:\n%s", (needle), (text))

static void assert_json(const char *text) {
    size_t at = 0;
    ck_assert_msg(tu_json_valid(text, &at), "invalid JSON at byte %zu: ...%.60s", at, text + at);
}

static void assert_xml(const char *text) {
    size_t at = 0;
    ck_assert_msg(tu_xml_well_formed(text, &at), "malformed XML at byte %zu: ...%.60s", at,
                  text + at);
}

/* A session of the MLP bound to batch rows of x (static storage, values by row). */
static float mlp_x[16][4];
static onyx_session *mlp_session(onyx_model **m, int profiling, int batch) {
    ck_assert_int_eq(onyx_model_load_file(MLP, m), ONYX_OK);
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_profiling(o, profiling), ONYX_OK);
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(*m, o, &s), ONYX_OK);
    onyx_options_free(o);
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < 4; c++) mlp_x[r][c] = 0.1f * (float)(r - c);
    int64_t dims[2] = {batch, 4};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 2, mlp_x,
                                            (size_t)batch * 4 * sizeof(float)),
                     ONYX_OK);
    return s;
}

/* ---- logging ---- */

typedef struct log_sink {
    char text[16384];
    atomic_int calls;
    pthread_mutex_t lock;
} log_sink;

static void sink_fn(void *user, onyx_log_level level, const char *msg) {
    log_sink *k = user;
    pthread_mutex_lock(&k->lock);
    size_t used = strlen(k->text);
    snprintf(k->text + used, sizeof k->text - used, "%s: %s\n", onyx_log_level_name(level), msg);
    pthread_mutex_unlock(&k->lock);
    atomic_fetch_add(&k->calls, 1);
}

static log_sink sink;

static void sink_reset(void) {
    memset(sink.text, 0, sizeof sink.text);
    atomic_store(&sink.calls, 0);
    pthread_mutex_init(&sink.lock, NULL);
}

START_TEST(test_log_is_silent_by_default_and_after_removal) {
    sink_reset();
    onyx_model *m = NULL;
    onyx_session *s = mlp_session(&m, 0, 2);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    ck_assert_int_eq(atomic_load(&sink.calls), 0);
    onyx_set_log_callback(sink_fn, &sink, ONYX_LOG_DEBUG);
    onyx_set_log_callback(NULL, &sink, ONYX_LOG_DEBUG); /* NULL fn: off */
    int64_t dims[2] = {3, 4};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 2, mlp_x, 48), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    ck_assert_int_eq(atomic_load(&sink.calls), 0);
    onyx_session_free(s);
    onyx_model_free(m);
    ck_assert_str_eq(onyx_log_level_name(ONYX_LOG_WARN), "warn");
    ck_assert_str_eq(onyx_log_level_name((onyx_log_level)42), "unknown");
}
END_TEST

START_TEST(test_log_reports_load_plan_impl_and_replan) {
    sink_reset();
    onyx_set_log_callback(sink_fn, &sink, ONYX_LOG_DEBUG);
    onyx_model *m = NULL;
    onyx_session *s = mlp_session(&m, 0, 2);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    int64_t dims[2] = {5, 4};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 2, mlp_x, 80), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    onyx_session_free(s);
    onyx_model_free(m);
    /* a folded constant (conv1d's Resize scales) */
    ck_assert_int_eq(onyx_model_load_file(CONV1D, &m), ONYX_OK);
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    onyx_session_free(s);
    onyx_model_free(m);
    /* a failure is reported at error level */
    ck_assert_int_ne(onyx_model_load_file(ONYX_TEST_TMP_DIR "/no_such.onnx", &m), ONYX_OK);
    onyx_model_free(m);
    onyx_set_log_callback(NULL, NULL, ONYX_LOG_OFF);
    ASSERT_HAS(sink.text, "info: loaded " MLP ": graph 'tiny_mlp', 4 nodes, 1 inputs, 1 outputs, "
                          "2 initializers");
    ASSERT_HAS(sink.text, "debug: node 'dense1' (MatMul-13): implementation 'ref'");
    ASSERT_HAS(sink.text, "debug: node 'softmax' (Softmax-13): implementation 'ref'");
    /* batch 2: h, a [2,8] (64 B each), logits, probabilities [2,3] (24 B): 176 B in all */
    ASSERT_HAS(sink.text, "info: plan for graph 'tiny_mlp': 4 steps, 0 nodes folded, 4 arena "
                          "tensors, arena 128 bytes (176 bytes without sharing)");
    ASSERT_HAS(sink.text, "info: re-planning: input 'x' changed from [2,4] to [5,4]");
    ASSERT_HAS(sink.text, "debug: node '/Constant' (Constant-17): folded into a constant (12 bytes)");
    ASSERT_HAS(sink.text, "error: cannot load " ONYX_TEST_TMP_DIR "/no_such.onnx: cannot open");
}
END_TEST

START_TEST(test_log_min_level_filters) {
    sink_reset();
    onyx_set_log_callback(sink_fn, &sink, ONYX_LOG_INFO);
    onyx_model *m = NULL;
    onyx_session *s = mlp_session(&m, 0, 2);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    onyx_set_log_callback(sink_fn, &sink, ONYX_LOG_ERROR);
    int64_t dims[2] = {4, 4};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 2, mlp_x, 64), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK); /* re-plan: info, filtered out */
    onyx_set_log_callback(NULL, NULL, ONYX_LOG_OFF);
    ck_assert_ptr_null(strstr(sink.text, "debug:"));
    ck_assert_ptr_null(strstr(sink.text, "re-planning"));
    ASSERT_HAS(sink.text, "info: plan for graph 'tiny_mlp'");
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

/* Sessions planning on several threads deliver every message once, whole. */
static void *plan_thread(void *arg) {
    onyx_model *m = arg;
    for (int i = 0; i < 5; i++) {
        onyx_session *s = NULL;
        onyx_options *o = NULL;
        onyx_options_create(&o);
        onyx_options_set_num_threads(o, 1);
        if (onyx_session_create(m, o, &s) == ONYX_OK) {
            int64_t dims[2] = {1 + i, 4};
            onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 2, mlp_x,
                                    (size_t)(1 + i) * 16);
            onyx_session_run(s);
        }
        onyx_session_free(s);
        onyx_options_free(o);
    }
    return NULL;
}

START_TEST(test_log_from_several_threads) {
    sink_reset();
    onyx_model *m = NULL;
    ck_assert_int_eq(onyx_model_load_file(MLP, &m), ONYX_OK);
    onyx_set_log_callback(sink_fn, &sink, ONYX_LOG_INFO);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, plan_thread, m), 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    onyx_set_log_callback(NULL, NULL, ONYX_LOG_OFF);
    /* one plan message per session run (4 threads x 5 sessions) */
    ck_assert_int_eq(count_of(sink.text, "info: plan for graph 'tiny_mlp': 4 steps"), 20);
    ck_assert_int_eq(atomic_load(&sink.calls), 20);
    onyx_model_free(m);
}
END_TEST

/* ---- profiler ---- */

START_TEST(test_profile_off_by_default) {
    onyx_model *m = NULL;
    onyx_session *s = mlp_session(&m, 0, 2);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    ck_assert_int_eq(onyx_session_profile_runs(s), 0);
    ck_assert_int_eq(onyx_session_step_time_ns(s, 0), -1);
    ck_assert_int_eq(onyx_session_profile_reset(s), ONYX_MISUSE);
    ck_assert_int_eq(onyx_session_profile_write(s, ONYX_TEST_TMP_DIR "/p.json"), ONYX_MISUSE);
    ASSERT_HAS(onyx_session_errmsg(s), "onyx_options_set_profiling");
    ck_assert_int_eq(onyx_options_set_profiling(NULL, 1), ONYX_MISUSE);
    ck_assert_int_eq(onyx_session_profile_runs(NULL), -1);
    ck_assert_int_eq(onyx_session_profile_write(NULL, "x"), ONYX_MISUSE);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_profile_counts_runs_and_steps) {
    onyx_model *m = NULL;
    onyx_session *s = mlp_session(&m, 1, 2);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    ck_assert_int_eq(onyx_session_profile_runs(s), 3);
    int64_t sum = 0;
    for (int i = 0; i < 4; i++) {
        ck_assert_int_ge(onyx_session_step_time_ns(s, i), 0);
        sum += onyx_session_step_time_ns(s, i);
    }
    ck_assert_int_gt(sum, 0);
    ck_assert_int_eq(onyx_session_step_time_ns(s, 4), -1);
    ck_assert_int_eq(onyx_session_profile_reset(s), ONYX_OK);
    ck_assert_int_eq(onyx_session_profile_runs(s), 0);
    ck_assert_int_eq(onyx_session_step_time_ns(s, 2), 0);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    ck_assert_int_eq(onyx_session_profile_runs(s), 1);
    /* a new input shape re-plans and starts the profile afresh */
    int64_t dims[2] = {7, 4};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 2, mlp_x, 112), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    ck_assert_int_eq(onyx_session_profile_runs(s), 1);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_profile_trace_is_chrome_json) {
    onyx_model *m = NULL;
    onyx_session *s = mlp_session(&m, 1, 2);
    for (int i = 0; i < 2; i++) ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    const char *path = ONYX_TEST_TMP_DIR "/tooling_trace.json";
    ck_assert_int_eq(onyx_session_profile_write(s, path), ONYX_OK);
    char *t = slurp(path);
    assert_json(t);
    ASSERT_HAS(t, "\"traceEvents\":[");
    ASSERT_HAS(t, "\"name\":\"process_name\",\"ph\":\"M\"");
    /* 2 runs x (1 run event + 4 steps) complete events */
    ck_assert_int_eq(count_of(t, "\"ph\":\"X\""), 10);
    ck_assert_int_eq(count_of(t, "\"name\":\"dense1\",\"cat\":\"MatMul\",\"ph\":\"X\""), 2);
    ASSERT_HAS(t, "\"args\":{\"op\":\"MatMul\",\"impl\":\"ref\",\"layout\":\"plain\",\"step\":0,"
                  "\"run\":1,\"inputs\":[\"x float32[2,4]\",\"W1 float32[4,8]\"],\"outputs\":"
                  "[\"h float32[2,8]\"]}");
    ASSERT_HAS(t, "\"name\":\"run 1\",\"cat\":\"run\"");
    free(t);
    ck_assert_int_eq(onyx_session_profile_write(s, ONYX_TEST_TMP_DIR "/no/such/dir/t.json"), ONYX_IO);
    ck_assert_int_eq(onyx_session_errcode(s), ONYX_IO);
    ck_assert_int_eq(onyx_session_profile_write(s, NULL), ONYX_INVALID_ARG);
    /* the ring keeps the last ONYX_PROFILE_MAX_RUNS runs */
    for (int i = 0; i < ONYX_PROFILE_MAX_RUNS + 6; i++) ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    ck_assert_int_eq(onyx_session_profile_runs(s), ONYX_PROFILE_MAX_RUNS + 8);
    ck_assert_int_eq(onyx_session_profile_write(s, path), ONYX_OK);
    t = slurp(path);
    assert_json(t);
    ck_assert_int_eq(count_of(t, "\"cat\":\"run\""), ONYX_PROFILE_MAX_RUNS);
    ASSERT_HAS(t, "\"name\":\"run 8\",");                 /* the oldest kept */
    ck_assert_ptr_null(strstr(t, "\"name\":\"run 7\",")); /* dropped */
    free(t);
    remove(path);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

/* ---- introspection ---- */

static void assert_shape(const onyx_tensor *t, const char *name, int64_t d0, int64_t d1) {
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(onyx_tensor_name(t), name);
    ck_assert_int_eq(onyx_tensor_rank(t), 2);
    ck_assert_int_eq(onyx_tensor_dim(t, 0), d0);
    ck_assert_int_eq(onyx_tensor_dim(t, 1), d1);
}

START_TEST(test_introspect_steps_shapes_and_flops) {
    onyx_model *m = NULL;
    onyx_session *s = mlp_session(&m, 0, 2);
    /* batch is symbolic: nothing is planned before the first prepare/run */
    ck_assert_int_eq(onyx_session_step_count(s), 0);
    ck_assert_int_eq(onyx_session_node_state(s, 0), ONYX_NODE_NOT_PLANNED);
    ck_assert_int_eq(onyx_session_plan_tensor_count(s), 0);
    ck_assert_ptr_null(onyx_session_value(s, "h"));
    ck_assert_int_eq(onyx_session_prepare(s), ONYX_OK);
    ck_assert_int_eq(onyx_session_step_count(s), 4);
    static const char *const names[4] = {"dense1", "act1", "dense2", "softmax"};
    /* MatMul: 2*K per output element; Sigmoid and Softmax: one per element */
    static const double flops[4] = {2 * 4 * 16, 16, 2 * 8 * 6, 6};
    for (int i = 0; i < 4; i++) {
        int node = onyx_session_step_node(s, i);
        ck_assert_str_eq(onyx_model_node_name(m, node), names[i]);
        ck_assert_str_eq(onyx_session_step_impl(s, i), "ref");
        ck_assert_str_eq(onyx_session_step_layout(s, i), "plain");
        ck_assert_int_eq(onyx_session_node_state(s, node), ONYX_NODE_EXECUTED);
        ck_assert(onyx_session_step_flops(s, i) == flops[i]);
    }
    ck_assert_int_eq(onyx_session_step_input_count(s, 0), 2);
    ck_assert_int_eq(onyx_session_step_output_count(s, 0), 1);
    assert_shape(onyx_session_step_input(s, 0, 0), "x", 2, 4);
    assert_shape(onyx_session_step_input(s, 0, 1), "W1", 4, 8);
    assert_shape(onyx_session_step_output(s, 0, 0), "h", 2, 8);
    assert_shape(onyx_session_step_output(s, 3, 0), "probabilities", 2, 3);
    assert_shape(onyx_session_value(s, "logits"), "logits", 2, 3);
    assert_shape(onyx_session_value(s, "W2"), "W2", 8, 3);
    ck_assert_ptr_null(onyx_session_value(s, "nope"));
    /* out of range and NULL */
    ck_assert_ptr_null(onyx_session_step_input(s, 0, 2));
    ck_assert_ptr_null(onyx_session_step_output(s, 4, 0));
    ck_assert_ptr_null(onyx_session_step_impl(s, -1));
    ck_assert_int_eq(onyx_session_step_node(s, 4), -1);
    ck_assert(onyx_session_step_flops(s, 9) == -1);
    ck_assert_int_eq(onyx_session_step_count(NULL), -1);
    ck_assert_int_eq(onyx_session_step_input_count(NULL, 0), -1);
    ck_assert_int_eq(onyx_session_node_state(s, 99), ONYX_NODE_NOT_PLANNED);
    /* the model's wiring */
    ck_assert_int_eq(onyx_model_node_input_count(m, 0), 2);
    ck_assert_str_eq(onyx_model_node_input_name(m, 0, 1), "W1");
    ck_assert_int_eq(onyx_model_node_output_count(m, 3), 1);
    ck_assert_str_eq(onyx_model_node_output_name(m, 3, 0), "probabilities");
    ck_assert_ptr_null(onyx_model_node_input_name(m, 0, 2));
    ck_assert_ptr_null(onyx_model_node_output_name(m, 4, 0));
    ck_assert_int_eq(onyx_model_node_input_count(NULL, 0), -1);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_introspect_plan_tensors) {
    onyx_model *m = NULL;
    onyx_session *s = mlp_session(&m, 0, 2);
    ck_assert_int_eq(onyx_session_prepare(s), ONYX_OK);
    int n = onyx_session_plan_tensor_count(s);
    ck_assert_int_eq(n, 4);
    static const struct {
        const char *name;
        size_t bytes;
        int first, last;
    } want[4] = {{"h", 64, 0, 1}, {"a", 64, 1, 2}, {"logits", 24, 2, 3}, {"probabilities", 24, 3, 4}};
    const char *name[4];
    size_t off[4], bytes[4];
    int first[4], last[4];
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(onyx_session_plan_tensor(s, i, &name[i], &off[i], &bytes[i], &first[i],
                                                  &last[i]),
                         ONYX_OK);
    for (int w = 0; w < 4; w++) {
        int i = 0;
        while (i < n && strcmp(name[i], want[w].name) != 0) i++;
        ck_assert_msg(i < n, "no arena tensor %s", want[w].name);
        ck_assert_uint_eq(bytes[i], want[w].bytes);
        ck_assert_int_eq(first[i], want[w].first);
        ck_assert_int_eq(last[i], want[w].last);
        ck_assert_uint_eq(off[i] % 64, 0);
        ck_assert_uint_le(off[i] + bytes[i], onyx_session_arena_bytes(s));
    }
    /* tensors alive together never share bytes, except an in-place output taking over its
     * input at the one step where the input dies (Sigmoid writes a over h at step 1) */
    int handovers = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            if (!(first[i] <= last[j] && first[j] <= last[i])) continue;
            int disjoint = off[i] + bytes[i] <= off[j] || off[j] + bytes[j] <= off[i];
            int handover = off[i] == off[j] && (last[i] == first[j] || last[j] == first[i]);
            ck_assert(disjoint || handover);
            handovers += !disjoint;
        }
    ck_assert_int_le(handovers, 1); /* 0 when ONYX_DISABLE_PASSES turns sharing off */
    ck_assert_uint_eq(onyx_session_arena_bytes(s), 128);
    ck_assert_int_eq(onyx_session_plan_tensor(s, 4, NULL, NULL, NULL, NULL, NULL), ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_session_plan_tensor(s, 0, NULL, NULL, NULL, NULL, NULL), ONYX_OK);
    ck_assert_int_eq(onyx_session_plan_tensor(NULL, 0, NULL, NULL, NULL, NULL, NULL), ONYX_MISUSE);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_introspect_folded_node_state) {
    onyx_model *m = NULL;
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_model_load_file(CONV1D, &m), ONYX_OK);
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK); /* fixed shapes: planned */
    int folded = 0, executed = 0;
    for (int i = 0; i < onyx_model_node_count(m); i++) {
        onyx_node_state st = onyx_session_node_state(s, i);
        if (st == ONYX_NODE_FOLDED) {
            folded++;
            ck_assert_str_eq(onyx_model_node_op_type(m, i), "Constant");
        }
        executed += st == ONYX_NODE_EXECUTED;
    }
    ck_assert_int_eq(folded, 1);
    ck_assert_int_eq(executed, onyx_session_step_count(s));
    ck_assert_int_eq(executed, 9);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

/* ---- the CLI ---- */

typedef struct cli_result {
    int status;
    char *out, *err;
} cli_result;

static cli_result run_cli(const char *const *args) {
    char out_path[512], err_path[512];
    snprintf(out_path, sizeof out_path, "%s/tooling_out_%ld.txt", ONYX_TEST_TMP_DIR, (long)getpid());
    snprintf(err_path, sizeof err_path, "%s/tooling_err_%ld.txt", ONYX_TEST_TMP_DIR, (long)getpid());
    const char *argv[32];
    int n = 0;
    argv[n++] = ONYX_TEST_CLI;
    for (int i = 0; args[i] && n < 31; i++) argv[n++] = args[i];
    argv[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (!freopen(out_path, "w", stdout) || !freopen(err_path, "w", stderr)) _exit(126);
        execv(ONYX_TEST_CLI, (char *const *)argv);
        _exit(127);
    }
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0) ck_assert_int_eq(errno, EINTR);
    ck_assert_msg(WIFEXITED(ws), "onyx died by a signal");
    cli_result r = {WEXITSTATUS(ws), slurp(out_path), slurp(err_path)};
    remove(out_path);
    remove(err_path);
    return r;
}

static void result_free(cli_result *r) {
    free(r->out);
    free(r->err);
}

#define ASSERT_STATUS(r, want)                                                                     \
    ck_assert_msg((r).status == (want), "exit %d, expected %d\nstdout:\n%s\nstderr:\n%s",          \
                  (r).status, (want), (r).out, (r).err)

START_TEST(test_cli_help_lists_new_options) {
    static const struct {
        const char *cmd;
        const char *opts[5];
    } cmds[] = {
        {"info", {"--dot", "--plan", "--svg FILE", "--json", NULL}},
        {"bench", {"--profile FILE.json", "--top N", "--json", "Chrome trace", NULL}},
        {"run", {"--input NAME=FILE", ".npy", "--output-format pb|npy", NULL}},
        {"test", {"--junit FILE.xml", "--output-dir DIR", "--output-format", ".npy", NULL}},
    };
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
        const char *args[] = {cmds[c].cmd, "--help", NULL};
        cli_result r = run_cli(args);
        ASSERT_STATUS(r, 0);
        for (int k = 0; cmds[c].opts[k]; k++) ASSERT_HAS(r.out, cmds[c].opts[k]);
        result_free(&r);
    }
}
END_TEST

START_TEST(test_cli_info_dot) {
    const char *args[] = {"info", "--dot", CONV1D, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ck_assert_int_eq(strncmp(r.out, "digraph \"torch_jit\" {\n", 22), 0);
    ck_assert_int_eq(strcmp(r.out + strlen(r.out) - 2, "}\n"), 0);
    ASSERT_HAS(r.out, "\"input:x\" [shape=oval");
    ASSERT_HAS(r.out, "\"output:pooled\" [shape=oval");
    ASSERT_HAS(r.out, "n0 [label=\"/c1/Conv\\nConv [ref]\"];");
    ASSERT_HAS(r.out, "\\nConstant (folded)\", style=\"rounded,dashed,filled\"");
    ASSERT_HAS(r.out, "\"input:x\" -> n0 [label=\"float32 [1, 4, 50]\"];");
    ASSERT_HAS(r.out, "n0 -> n1 [label=\"float32 [1, 8, 25]\"];");
    ASSERT_HAS(r.out, "[label=\"float32 [3]\", style=dashed];"); /* from the folded node */
    ASSERT_HAS(r.out, "-> \"output:y\" [label=\"float32 [1, 8, 50]\"];");
    ck_assert_int_eq(count_of(r.out, "{"), count_of(r.out, "}"));
    ck_assert_int_eq(count_of(r.out, " -> "), 13); /* 11 drawn node inputs + 2 graph outputs */
    result_free(&r);
    const char *bad[] = {"info", "--dot", "--json", CONV1D, NULL};
    r = run_cli(bad);
    ASSERT_STATUS(r, 2);
    result_free(&r);
}
END_TEST

START_TEST(test_cli_info_plan_and_svg) {
    const char *svg = ONYX_TEST_TMP_DIR "/tooling_plan.svg";
    const char *args[] = {"info", "--plan", "--svg", svg, CONV1D, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "plan: 9 steps, 1 nodes folded into constants\n");
    ASSERT_HAS(r.out, "arena: 2880 bytes for 6032 bytes of intermediates (52.3% saved by sharing)");
    ASSERT_HAS(r.out, "    0 /c1/Conv (Conv) ref/plain: x [1, 4, 50], c1.weight [8, 4, 5], c1.bias [8] "
                      "-> /c1/Conv_output_0 [1, 8, 25]\n");
    ASSERT_HAS(r.out, "tensors (9 in the arena; steps are when each is alive):");
    /* y is written at step 6 and lives to the end (step 9), over c1's old bytes */
    ASSERT_HAS(r.out, "  y                                 0       1600      6..9  /c1/Conv_output_0");
    ASSERT_HAS(r.out, "  /c3/Conv_output_0              2432        400      4..7  -\n");
    result_free(&r);
    char *t = slurp(svg);
    assert_xml(t);
    ASSERT_HAS(t, "<svg xmlns=\"http://www.w3.org/2000/svg\"");
    ck_assert_int_eq(count_of(t, "<rect "), 10); /* the frame + one per tensor */
    ck_assert_int_eq(count_of(t, "<polyline "), 1);
    ASSERT_HAS(t, "<title>y: offset 0, 1600 bytes, steps 6..9</title>");
    free(t);
    remove(svg);
}
END_TEST

START_TEST(test_cli_info_json) {
    const char *args[] = {"info", "--json", "--plan", MLP, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    assert_json(r.out);
    ASSERT_HAS(r.out, "\"inputs\": [{\"name\": \"x\", \"dtype\": \"float32\", \"shape\": [-1, 4]}]");
    ASSERT_HAS(r.out, "\"ops\": {\"MatMul\": 2, \"Sigmoid\": 1, \"Softmax\": 1}");
    ASSERT_HAS(r.out, "\"symbolic_dims_as_1\": true");
    ASSERT_HAS(r.out, "\"plan\": {\"arena_bytes\": ");
    ASSERT_HAS(r.out, "{\"node\": \"dense1\", \"op\": \"MatMul\", \"impl\": \"ref\", \"layout\": "
                      "\"plain\", \"flops\": 64}");
    ASSERT_HAS(r.out, "{\"name\": \"h\", \"offset\": ");
    result_free(&r);
}
END_TEST

START_TEST(test_cli_bench_profile_and_top) {
    const char *trace = ONYX_TEST_TMP_DIR "/tooling_bench.json";
    const char *args[] = {"bench", "--iters", "3", "--warmup", "1", "--top", "2", "--profile",
                          trace, MLP, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "top 2 of 4 steps (3 profiled runs):");
    ASSERT_HAS(r.out, "GFLOP/s");
    ASSERT_HAS(r.out, " ref ");
    ASSERT_HAS(r.out, "(3 runs, Chrome trace format)");
    result_free(&r);
    char *t = slurp(trace);
    assert_json(t);
    ck_assert_int_eq(count_of(t, "\"cat\":\"run\""), 3); /* the timed runs only */
    ck_assert_int_eq(count_of(t, "\"ph\":\"X\""), 15);
    free(t);
    remove(trace);
    const char *jargs[] = {"bench", "--iters", "2", "--top", "9", "--json", MLP, NULL};
    r = run_cli(jargs);
    ASSERT_STATUS(r, 0);
    assert_json(r.out);
    ck_assert_int_eq(count_of(r.out, "\"share_percent\": "), 4); /* --top beyond the count */
    ASSERT_HAS(r.out, "\"op\": \"MatMul\", \"impl\": \"ref\", \"ms_per_run\": ");
    result_free(&r);
    const char *bad[] = {"bench", "--top", "0", MLP, NULL};
    r = run_cli(bad);
    ASSERT_STATUS(r, 2);
    result_free(&r);
}
END_TEST

/* The bench's FLOPs are the MatMuls' only: dense1 [1,4]x[4,8] is 2*4*8 = 64 and dense2
 * [1,8]x[8,3] is 2*8*3 = 48, 112 in all. The Sigmoid (8) and Softmax (3) that
 * onyx_session_step_flops also estimates are left out, or it would be 123. */
START_TEST(test_cli_bench_flops_exclude_elementwise) {
    const char *jargs[] = {"bench", "--iters", "2", "--warmup", "0", "--json", MLP, NULL};
    cli_result r = run_cli(jargs);
    ASSERT_STATUS(r, 0);
    assert_json(r.out);
    ASSERT_HAS(r.out, "\"flops\": 112, \"gflop\": 0.000000, \"gflops_per_s\": ");
    result_free(&r);
    const char *args[] = {"bench", "--iters", "1", "--top", "4", MLP, NULL};
    r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "FLOPs:                  112 per run");
    ASSERT_HAS(r.out, "GFLOP/s (at the median)");
    result_free(&r);
}
END_TEST

/* Six Convs, most of them hosting a fused Sigmoid ("Conv+Sigmoid" steps), each counted as
 * 2 x C_in*kh*kw x output elements: hi 27 x 8*24*32 (331776 FLOPs), lo 27 x 8*12*16
 * (82944), lo2 72 x 1536 (221184), reduce 16 x 6144 (196608), gate 8 x 768 (12288), chan
 * 8 x 8 (128); 844928 in all whether or not the Sigmoids are fused. */
START_TEST(test_cli_bench_flops_of_fused_convs) {
    const char *model = ONYX_TEST_MODELS_DIR "/fusion_op13/model.onnx";
    const char *args[] = {"bench", "--iters", "1", "--warmup", "0", "--json", model, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    assert_json(r.out);
    ASSERT_HAS(r.out, "\"flops\": 844928, \"gflop\": 0.000845, ");
    result_free(&r);
}
END_TEST

/* The MLP's output for batch rows of mlp_x, through the API. */
static onyx_tensor *mlp_expected(int batch) {
    onyx_model *m = NULL;
    onyx_session *s = mlp_session(&m, 0, batch);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    const onyx_tensor *y = onyx_session_output(s, 0);
    onyx_tensor *copy = NULL;
    int64_t dims[2] = {batch, 3};
    ck_assert_int_eq(onyx_tensor_create("probabilities", ONYX_DTYPE_FLOAT32, dims, 2,
                                        onyx_tensor_data(y), &copy), ONYX_OK);
    onyx_session_free(s);
    onyx_model_free(m);
    return copy;
}

static void save_npy(const onyx_tensor *t, const char *path) {
    char err[256] = "";
    ck_assert_msg(npy_save(t, path, err, sizeof err) == ONYX_OK, "%s", err);
}

START_TEST(test_cli_run_reads_and_writes_npy) {
    onyx_tensor *want = mlp_expected(3), *x = NULL, *got = NULL;
    int64_t dims[2] = {3, 4};
    ck_assert_int_eq(onyx_tensor_create("x", ONYX_DTYPE_FLOAT32, dims, 2, mlp_x, &x), ONYX_OK);
    const char *xin = ONYX_TEST_TMP_DIR "/tooling_x.npy", *dir = ONYX_TEST_TMP_DIR "/tooling_run";
    save_npy(x, xin);
    const char *args[] = {"run", "--input", "x=" ONYX_TEST_TMP_DIR "/tooling_x.npy", "--output-dir",
                          dir, "--output-format", "npy", MLP, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "output 0 'probabilities': float32 [3, 3]");
    ASSERT_HAS(r.out, "/tooling_run/output_0.npy");
    result_free(&r);
    char err[256];
    ck_assert_msg(npy_load(ONYX_TEST_TMP_DIR "/tooling_run/output_0.npy", &got, err, sizeof err) == ONYX_OK, "%s", err);
    ck_assert_uint_eq(onyx_tensor_nbytes(got), 36);
    ck_assert_int_eq(memcmp(onyx_tensor_data(got), onyx_tensor_data(want), 36), 0);
    onyx_tensor_free(got);
    remove(ONYX_TEST_TMP_DIR "/tooling_run/output_0.npy");
    rmdir(dir);
    const char *bad[] = {"run", "--output-format", "csv", MLP, NULL};
    r = run_cli(bad);
    ASSERT_STATUS(r, 2);
    ASSERT_HAS(r.err, "expected pb or npy");
    result_free(&r);
    remove(xin);
    onyx_tensor_free(x);
    onyx_tensor_free(want);
}
END_TEST

static void make_case(const char *dir, const onyx_tensor *x, const onyx_tensor *y) {
    char p[512];
    mkdir(dir, 0777);
    snprintf(p, sizeof p, "%s/model.onnx", dir);
    size_t n = 0;
    void *model = tu_read_file(MLP, &n);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(model, 1, n, f), n);
    fclose(f);
    free(model);
    snprintf(p, sizeof p, "%s/test_data_set_0", dir);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/test_data_set_0/input_0.npy", dir);
    save_npy(x, p);
    snprintf(p, sizeof p, "%s/test_data_set_0/output_0.npy", dir);
    save_npy(y, p);
}

START_TEST(test_cli_test_npy_cases_and_junit) {
    onyx_tensor *want = mlp_expected(2), *x = NULL, *wrong = NULL;
    int64_t dims[2] = {2, 4}, ydims[2] = {2, 3};
    ck_assert_int_eq(onyx_tensor_create("x", ONYX_DTYPE_FLOAT32, dims, 2, mlp_x, &x), ONYX_OK);
    float w[6] = {1, 0, 0, 1, 0, 0};
    ck_assert_int_eq(onyx_tensor_create("y", ONYX_DTYPE_FLOAT32, ydims, 2, w, &wrong), ONYX_OK);
    const char *root = ONYX_TEST_TMP_DIR "/tooling_cases";
    mkdir(root, 0777);
    make_case(ONYX_TEST_TMP_DIR "/tooling_cases/mlp_good", x, want);
    make_case(ONYX_TEST_TMP_DIR "/tooling_cases/mlp_<bad>", x, wrong);
    const char *xml = ONYX_TEST_TMP_DIR "/tooling_junit.xml";
    const char *args[] = {"test", "--junit", xml, "--output-dir", ONYX_TEST_TMP_DIR "/tooling_actual",
                          "--output-format", "npy", root, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 1);
    ASSERT_HAS(r.out, "PASS mlp_good\n");
    ASSERT_HAS(r.out, "FAIL mlp_<bad>: test_data_set_0: output 0 'probabilities': ");
    ASSERT_HAS(r.out, "1 passed, 1 failed\n");
    result_free(&r);
    char *t = slurp(xml);
    assert_xml(t);
    ASSERT_HAS(t, "<testsuite name=\"onyx test\" tests=\"2\" failures=\"1\" errors=\"0\"");
    ASSERT_HAS(t, "<testcase classname=\"onyx.tooling_cases\" name=\"mlp_good\" time=\"");
    ASSERT_HAS(t, "name=\"mlp_&lt;bad&gt;\"");
    ASSERT_HAS(t, "<failure message=\"test_data_set_0: output 0 &apos;probabilities&apos;: ");
    ck_assert_int_eq(count_of(t, "<testcase "), 2);
    ck_assert_int_eq(count_of(t, "<failure "), 1);
    free(t);
    /* the actual outputs were written, also for the failing case */
    onyx_tensor *got = NULL;
    char err[256];
    ck_assert_int_eq(npy_load(ONYX_TEST_TMP_DIR "/tooling_actual/mlp_<bad>/test_data_set_0/output_0.npy",
                              &got, err, sizeof err), ONYX_OK);
    ck_assert_int_eq(memcmp(onyx_tensor_data(got), onyx_tensor_data(want), 24), 0);
    onyx_tensor_free(got);
    remove(xml);
    onyx_tensor_free(x);
    onyx_tensor_free(wrong);
    onyx_tensor_free(want);
}
END_TEST

static Suite *tooling_suite(void) {
    Suite *s = suite_create("tooling");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, test_log_is_silent_by_default_and_after_removal);
    tcase_add_test(tc, test_log_reports_load_plan_impl_and_replan);
    tcase_add_test(tc, test_log_min_level_filters);
    tcase_add_test(tc, test_log_from_several_threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("profile");
    tcase_add_test(tc, test_profile_off_by_default);
    tcase_add_test(tc, test_profile_counts_runs_and_steps);
    tcase_add_test(tc, test_profile_trace_is_chrome_json);
    suite_add_tcase(s, tc);
    tc = tcase_create("introspect");
    tcase_add_test(tc, test_introspect_steps_shapes_and_flops);
    tcase_add_test(tc, test_introspect_plan_tensors);
    tcase_add_test(tc, test_introspect_folded_node_state);
    suite_add_tcase(s, tc);
    tc = tcase_create("cli");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_cli_help_lists_new_options);
    tcase_add_test(tc, test_cli_info_dot);
    tcase_add_test(tc, test_cli_info_plan_and_svg);
    tcase_add_test(tc, test_cli_info_json);
    tcase_add_test(tc, test_cli_bench_profile_and_top);
    tcase_add_test(tc, test_cli_bench_flops_exclude_elementwise);
    tcase_add_test(tc, test_cli_bench_flops_of_fused_convs);
    tcase_add_test(tc, test_cli_run_reads_and_writes_npy);
    tcase_add_test(tc, test_cli_test_npy_cases_and_junit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    /* The expected plans, traces and graph views below are those of the reference kernels:
     * they pin what the tools print, not which implementation a build prefers. */
    setenv("ONYX_BACKEND", "ref", 1);
    /* ...and of the Convs unfused (check_passes covers the passes) */
    setenv("ONYX_DISABLE_PASSES", "fuse_act", 1);
    return tu_run_suite(tooling_suite());
}
