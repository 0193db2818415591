/*
 * Per-node kernel choice by measurement (runtime/session.c, runtime/select.c): with a real Conv
 * (oneDNN's kernel variants, its Winograd convolution) the measured choice is one of the
 * candidates, is reported by onyx_session_step_kernel and computes what the reference kernel
 * does; static selection keeps the first accepting kernel; the model's choice cache spares
 * later sessions and re-plans on a seen shape the timing; and with a fake op whose own kernels
 * are slow or fast by construction, the fastest own kernel / variant wins, static takes the
 * first, and ONYX_OWN_KERNELS=0 leaves own kernels out.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, clock_gettime */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "model.h"
#include "pbbuild.h"
#include "select.h"
#include "testutil.h"

#define FLOAT ONYX_DTYPE_FLOAT32
#define ATTR_INTS ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS

/* ---- models ---- */

static float weights[16 * 16 * 9], bias[16];

static void fill(float *p, size_t n, unsigned seed) {
    unsigned s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = -0.5f + (float)(s >> 8) / (float)(1u << 24);
    }
}

static void conv_node(mb *b, const char *name, const char *ins, const char *out) {
    Onnx__NodeProto *c = mb_node(b, "Conv", name, ins, out);
    static int64_t k[2] = {3, 3}, pads[4] = {1, 1, 1, 1};
    Onnx__AttributeProto *a = mb_attr(b, c, "kernel_shape", ATTR_INTS);
    a->n_ints = 2;
    a->ints = k;
    a = mb_attr(b, c, "pads", ATTR_INTS);
    a->n_ints = 4;
    a->ints = pads;
}

/* x [batch, 16, 20, 20] (batch symbolic when sym) -> 3x3 Conv 16->16, same padding -> y; with
 * chain, a second such Conv after it (the first one's output may then take a blocked layout,
 * where oneDNN has more kernels). With file, the model is also written to a temp file whose
 * path (512 bytes of room) file receives. */
static onyx_model *conv_model_file(int sym, int chain, char *file) {
    mb *b = mb_new(13);
    static const char *const params[4] = {"batch", NULL, NULL, NULL};
    int64_t xd[4] = {sym ? -1 : 1, 16, 20, 20}, wd[4] = {16, 16, 3, 3}, bd = 16;
    mb_value(b, 0, "x", FLOAT, 4, xd, sym ? params : NULL);
    mb_value(b, 1, "y", FLOAT, 4, xd, sym ? params : NULL);
    fill(weights, sizeof weights / sizeof weights[0], 7);
    fill(bias, 16, 8);
    mb_raw(mb_tensor(b, 1, "W", FLOAT, 4, wd), weights, sizeof weights);
    mb_raw(mb_tensor(b, 1, "B", FLOAT, 1, &bd), bias, sizeof bias);
    conv_node(b, "conv", "x,W,B", chain ? "h" : "y");
    if (chain) conv_node(b, "conv2", "h,W,B", "y");
    size_t len = 0;
    uint8_t *bytes = mb_pack(b, &len);
    onyx_model *m = NULL;
    ck_assert_int_eq(onyx_model_load_memory(bytes, len, &m), ONYX_OK);
    if (file) snprintf(file, 512, "%s", tu_write_temp("select_conv.onnx", bytes, len));
    free(bytes);
    return m;
}

static onyx_model *conv_model_chain(int sym, int chain) {
    return conv_model_file(sym, chain, NULL);
}
static onyx_model *conv_model(int sym) {
    return conv_model_chain(sym, 0);
}

/* x [1, 64] -> Relu -> y. */
static onyx_model *relu_model(void) {
    mb *b = mb_new(13);
    int64_t d[2] = {1, 64};
    mb_value(b, 0, "x", FLOAT, 2, d, NULL);
    mb_value(b, 1, "y", FLOAT, 2, d, NULL);
    mb_node(b, "Relu", "relu", "x", "y");
    size_t len = 0;
    uint8_t *bytes = mb_pack(b, &len);
    onyx_model *m = NULL;
    ck_assert_int_eq(onyx_model_load_memory(bytes, len, &m), ONYX_OK);
    free(bytes);
    return m;
}

/* A session with `threads` kernel threads and selection sel (-1: not set in the options). */
static onyx_session *session(onyx_model *m, int sel, int threads) {
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    if (sel >= 0)
        ck_assert_int_eq(onyx_options_set_kernel_selection(o, (onyx_kernel_selection)sel), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_num_threads(o, threads), ONYX_OK);
    onyx_session *s = NULL;
    onyx_status rc = onyx_session_create(m, o, &s);
    ck_assert_msg(rc == ONYX_OK, "create: %s", onyx_session_errmsg(s));
    onyx_options_free(o);
    return s;
}

/* Runs s on x of batch n; y (n*16*20*20 floats) receives the output. */
static void run_conv(onyx_session *s, int64_t n, const float *x, float *y) {
    int64_t d[4] = {n, 16, 20, 20};
    size_t bytes = (size_t)n * 16 * 20 * 20 * sizeof(float);
    ck_assert_int_eq(onyx_session_bind_input(s, 0, FLOAT, d, 4, x, bytes), ONYX_OK);
    ck_assert_int_eq(onyx_session_bind_output(s, 0, y, bytes), ONYX_OK);
    onyx_status rc = onyx_session_run(s);
    ck_assert_msg(rc == ONYX_OK, "run: %s", onyx_session_errmsg(s));
}

static long measured(const onyx_model *m) {
    return onyxi_select_measure_count(m->select);
}

/* The step running node "conv"/"relu" (a plain-input kernel may have a reorder before it). */
static int last_step(const onyx_session *s) {
    int n = onyx_session_step_count(s);
    ck_assert_int_gt(n, 0);
    return n - 1;
}

/* ---- log capture: the candidates the session built ---- */

static char log_buf[1 << 16];
static size_t log_used;

static void capture(void *user, onyx_log_level level, const char *msg) {
    (void)user;
    (void)level;
    size_t n = strlen(msg);
    if (log_used + n + 2 >= sizeof log_buf) return;
    memcpy(log_buf + log_used, msg, n);
    log_used += n;
    log_buf[log_used++] = '\n';
    log_buf[log_used] = '\0';
}

static void log_start(void) {
    log_used = 0;
    log_buf[0] = '\0';
    onyx_set_log_callback(capture, NULL, ONYX_LOG_DEBUG);
}

static void log_stop(void) {
    onyx_set_log_callback(NULL, NULL, ONYX_LOG_ERROR);
}

/* How the log names a built candidate: "implementation 'IMPL' (KERNEL) (candidate)". */
static void cand_line(char *buf, size_t n, const char *impl, const char *kernel) {
    snprintf(buf, n, "implementation '%s'%s%s%s (candidate)", impl, kernel ? " (" : "",
             kernel ? kernel : "", kernel ? ")" : "");
}

static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- real Conv ---- */

START_TEST(test_select_conv_measured_is_a_candidate_and_reported) {
    onyx_model *m = conv_model(0);
    log_start();
    onyx_session *s = session(m, ONYX_SELECT_MEASURE, 1);
    log_stop();
    int st = last_step(s);
    const char *impl = onyx_session_step_impl(s, st), *kernel = onyx_session_step_kernel(s, st);
    if (strcmp(impl, "dnnl") == 0) ck_assert_ptr_nonnull(kernel); /* oneDNN names its kernel */
    char want[160];
    cand_line(want, sizeof want, impl, kernel);
    ck_assert_msg(strstr(log_buf, want), "chosen %s is not among:\n%s", want, log_buf);
    int cands = count_of(log_buf, "(candidate)");
    ck_assert_int_ge(cands, 1);
    /* timed (and counted) only when there was a choice */
    ck_assert_int_eq(measured(m), cands > 1);
    ck_assert_int_eq(count_of(log_buf, "(fastest measured)"), cands > 1);
    /* the reference kernel is never timed against faster kinds, and the log says so */
    ck_assert_int_eq(count_of(log_buf, "implementation 'ref'"), 0);
    ck_assert_ptr_nonnull(strstr(log_buf, "reference kernel not timed"));
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

/* oneDNN's variants of one node are distinct kernels, and each is reported by name. */
START_TEST(test_select_conv_dnnl_variants_distinct) {
    onyx_model *m = conv_model_chain(0, 1);
    setenv("ONYX_OWN_KERNELS", "0", 1);
    log_start();
    onyx_session *s = session(m, ONYX_SELECT_MEASURE, 1);
    log_stop();
    unsetenv("ONYX_OWN_KERNELS");
    char names[16][128];
    int n = 0;
    const char *tag = "node 'conv' (Conv-13): implementation 'dnnl' (";
    for (const char *p = strstr(log_buf, tag); p && n < 16; p = strstr(p + 1, tag)) {
        p += strlen(tag);
        size_t len = strcspn(p, ")");
        ck_assert_uint_lt(len, sizeof names[0]);
        ck_assert_ptr_nonnull(strstr(p, ") (candidate)") ? p : NULL);
        if (strncmp(p + len, ") (candidate)", 13) != 0) continue; /* the choice line */
        memcpy(names[n], p, len);
        names[n][len] = '\0';
        for (int i = 0; i < n; i++)
            ck_assert_str_ne(names[i], names[n]);
        n++;
    }
    ck_assert_int_ge(n, 1);
    ck_assert_int_eq(measured(m) >= 1, n > 1);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_select_conv_static_is_first_choice) {
    onyx_model *m = conv_model(0);
    log_start();
    onyx_session *s = session(m, ONYX_SELECT_MEASURE, 1);
    log_stop();
    /* the first candidate built is variant 0 of the first implementation: static's choice */
    const char *first = strstr(log_buf, "(candidate)");
    ck_assert_ptr_nonnull(first);
    while (first > log_buf && first[-1] != '\n')
        first--;
    first = strstr(first, "implementation '");
    ck_assert_ptr_nonnull(first);
    char want[160], got[160];
    size_t n = strcspn(first, "\n");
    ck_assert_uint_lt(n, sizeof want);
    memcpy(want, first, n);
    want[n] = '\0';
    onyx_session_free(s);
    long before = measured(m);
    s = session(m, ONYX_SELECT_STATIC, 1);
    int st = last_step(s);
    cand_line(got, sizeof got, onyx_session_step_impl(s, st), onyx_session_step_kernel(s, st));
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(measured(m), before); /* static never times */
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_select_conv_matches_reference) {
    onyx_model *m = conv_model(0);
    static float x[16 * 20 * 20], got[16 * 20 * 20], want[16 * 20 * 20];
    fill(x, sizeof x / sizeof x[0], 3);
    onyx_session *s = session(m, ONYX_SELECT_MEASURE, 0);
    run_conv(s, 1, x, got);
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_backend(o, ONYX_BACKEND_REFERENCE), ONYX_OK);
    onyx_session *r = NULL;
    ck_assert_int_eq(onyx_session_create(m, o, &r), ONYX_OK);
    run_conv(r, 1, x, want);
    /* the model-test tolerance: a Winograd kernel rounds differently from a direct one */
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-4f + 1e-3f * fabsf(want[i]),
                      "element %zu: %s %.9g, ref %.9g", i,
                      onyx_session_step_kernel(s, last_step(s)), got[i], want[i]);
    onyx_options_free(o);
    onyx_session_free(r);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_select_cache_spares_second_session) {
    onyx_model *m = conv_model(0);
    onyx_session *a = session(m, ONYX_SELECT_MEASURE, 1);
    long after_first = measured(m);
    ck_assert_int_eq(after_first, 1);
    onyx_session *b = session(m, ONYX_SELECT_MEASURE, 1);
    ck_assert_int_eq(measured(m), after_first);
    ck_assert_str_eq(onyx_session_step_kernel(b, last_step(b)),
                     onyx_session_step_kernel(a, last_step(a)));
    onyx_session_free(a);
    onyx_session_free(b);
    /* a different thread count is a different problem: timed again, then cached too */
    a = session(m, ONYX_SELECT_MEASURE, 2);
    ck_assert_int_eq(measured(m), after_first + 1);
    b = session(m, ONYX_SELECT_MEASURE, 2);
    ck_assert_int_eq(measured(m), after_first + 1);
    onyx_session_free(a);
    onyx_session_free(b);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_select_cache_spares_replan_on_seen_shape) {
    onyx_model *m = conv_model(1);
    static float x[2 * 16 * 20 * 20], y[2 * 16 * 20 * 20];
    fill(x, sizeof x / sizeof x[0], 5);
    onyx_session *s = session(m, ONYX_SELECT_MEASURE, 1);
    ck_assert_int_eq(measured(m), 0); /* symbolic batch: planned at the first run */
    run_conv(s, 1, x, y);
    ck_assert_int_eq(measured(m), 1);
    run_conv(s, 2, x, y);
    ck_assert_int_eq(measured(m), 2);
    run_conv(s, 1, x, y); /* re-plan for a seen shape */
    ck_assert_int_eq(measured(m), 2);
    onyx_session *t = session(m, ONYX_SELECT_MEASURE, 1);
    run_conv(t, 2, x, y);
    ck_assert_int_eq(measured(m), 2);
    onyx_session_free(t);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

/* ---- a fake op whose own kernels are slow or fast by construction ---- */

static void spin_ms(int ms) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < ms * 1000000L);
}

static onyx_status relu(onyxi_exec *x) {
    const float *a = x->in[0]->data;
    float *y = x->out[0]->data;
    for (int i = 0; i < 64; i++)
        y[i] = a[i] > 0 ? a[i] : 0;
    return ONYX_OK;
}

static onyx_status slow_init(onyxi_exec *x) {
    x->detail = "slow";
    return ONYX_OK;
}

static onyx_status slow_run(onyxi_exec *x) {
    spin_ms(1);
    return relu(x);
}

/* Three variants; only variant 1 is fast. */
static onyx_status multi_init(onyxi_exec *x) {
    static const char *const names[3] = {"multi-v0", "multi-v1", "multi-v2"};
    if (x->variant < 0 || x->variant > 2) return ONYX_UNSUPPORTED;
    x->more_variants = 1;
    x->detail = names[x->variant];
    return ONYX_OK;
}

static onyx_status multi_run(onyxi_exec *x) {
    if (x->variant != 1) spin_ms(1);
    return relu(x);
}

static const onyxi_impl slow_impl = {"slow", slow_init, slow_run, NULL};
static const onyxi_impl multi_impl = {"multi", multi_init, multi_run, NULL};
static const onyxi_impl *fake_impls[4];
static onyxi_op fake_op;

/* Points the Relu node of m at the fake op: the slow own kernel, the multi-variant one, and
 * Relu's reference kernel last. */
static void use_fake_op(onyx_model *m) {
    onyxi_node *nd = &m->graph->nodes[0];
    ck_assert_str_eq(nd->op_type, "Relu");
    fake_op = *nd->op;
    fake_impls[0] = &slow_impl;
    fake_impls[1] = &multi_impl;
    fake_impls[2] = tu_ref_impl(nd->op);
    fake_impls[3] = NULL;
    fake_op.impls = fake_impls;
    nd->op = &fake_op;
}

static const char *fake_choice(int sel, const char **kernel) {
    onyx_model *m = relu_model();
    use_fake_op(m);
    onyx_session *s = session(m, sel, 1);
    static float x[64], y[64];
    for (int i = 0; i < 64; i++)
        x[i] = (float)(i - 32);
    int64_t d[2] = {1, 64};
    ck_assert_int_eq(onyx_session_bind_input(s, 0, FLOAT, d, 2, x, sizeof x), ONYX_OK);
    ck_assert_int_eq(onyx_session_bind_output(s, 0, y, sizeof y), ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    for (int i = 0; i < 64; i++)
        ck_assert_float_eq(y[i], x[i] > 0 ? x[i] : 0);
    int st = last_step(s);
    const char *impl = onyx_session_step_impl(s, st); /* static storage */
    *kernel = onyx_session_step_kernel(s, st);
    onyx_session_free(s);
    onyx_model_free(m);
    return impl;
}

START_TEST(test_select_fake_fastest_own_variant_wins) {
    const char *kernel = NULL;
    ck_assert_str_eq(fake_choice(ONYX_SELECT_MEASURE, &kernel), "multi");
    ck_assert_str_eq(kernel, "multi-v1");
}
END_TEST

START_TEST(test_select_fake_static_takes_first) {
    const char *kernel = NULL;
    ck_assert_str_eq(fake_choice(ONYX_SELECT_STATIC, &kernel), "slow");
    ck_assert_str_eq(kernel, "slow");
}
END_TEST

START_TEST(test_select_fake_own_kernels_off) {
    const char *kernel = NULL;
    setenv("ONYX_OWN_KERNELS", "0", 1);
    const char *measure = fake_choice(ONYX_SELECT_MEASURE, &kernel);
    const char *stat = fake_choice(ONYX_SELECT_STATIC, &kernel);
    unsetenv("ONYX_OWN_KERNELS");
    ck_assert_str_eq(measure, "ref");
    ck_assert_str_eq(stat, "ref");
    /* on again: own kernels take part */
    ck_assert_str_eq(fake_choice(ONYX_SELECT_STATIC, &kernel), "slow");
}
END_TEST

/* ONYX_KERNEL_SELECTION sets the default; options that set the selection win. */
START_TEST(test_select_env_sets_default) {
    const char *kernel = NULL;
    ck_assert_str_eq(fake_choice(-1, &kernel), "multi"); /* measure by default */
    setenv("ONYX_KERNEL_SELECTION", "static", 1);
    const char *a = fake_choice(-1, &kernel);
    const char *b = fake_choice(ONYX_SELECT_MEASURE, &kernel);
    setenv("ONYX_KERNEL_SELECTION", "measure", 1);
    const char *c = fake_choice(-1, &kernel);
    const char *d = fake_choice(ONYX_SELECT_STATIC, &kernel);
    unsetenv("ONYX_KERNEL_SELECTION");
    ck_assert_str_eq(a, "slow");
    ck_assert_str_eq(b, "multi");
    ck_assert_str_eq(c, "multi");
    ck_assert_str_eq(d, "slow");
}
END_TEST

/* Output of `onyx ARGS` (the CLI), with its exit status. */
static char *run_cli(const char *args, int *status) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", ONYX_TEST_CLI, args);
    fflush(stdout);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t cap = 1 << 16, used = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    size_t got;
    while ((got = fread(out + used, 1, cap - 1 - used, f)) > 0)
        used += got;
    out[used] = '\0';
    int ws = pclose(f);
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    return out;
}

START_TEST(test_select_cli_shows_kernel) {
    char file[512], args[700];
    onyx_model *m = conv_model_file(0, 1, file);
    onyx_session *s = session(m, ONYX_SELECT_STATIC, 0);
    char want[200];
    /* the plan prints impl/layout [kernel] for the first conv, as the API reports it */
    snprintf(want, sizeof want, "(Conv) %s/%s [%s]: x", onyx_session_step_impl(s, 0),
             onyx_session_step_layout(s, 0), onyx_session_step_kernel(s, 0));
    ck_assert_ptr_nonnull(onyx_session_step_kernel(s, 0));
    onyx_session_free(s);
    onyx_model_free(m);
    int status = -1;
    snprintf(args, sizeof args, "info --plan --select static %s", file);
    char *out = run_cli(args, &status);
    ck_assert_msg(status == 0 && strstr(out, want), "want '%s' in:\n%s", want, out);
    free(out);
    snprintf(args, sizeof args, "info --plan --json --select measure %s", file);
    out = run_cli(args, &status);
    ck_assert_msg(status == 0 && strstr(out, "\"kernel\": \""), "%s", out);
    free(out);
    snprintf(args, sizeof args, "bench --iters 1 --select fastest %s", file);
    out = run_cli(args, &status);
    ck_assert_msg(status != 0 && strstr(out, "--select: unknown kernel selection 'fastest'"), "%s",
                  out);
    free(out);
    snprintf(args, sizeof args, "bench --iters 1 --json --select static %s", file);
    out = run_cli(args, &status);
    ck_assert_msg(status == 0 && strstr(out, "\"select\": \"static\"") &&
                      strstr(out, "\"intermediate_bytes\": "),
                  "%s", out);
    free(out);
}
END_TEST

/* Sessions of one model created at the same time time each problem once and agree. */
typedef struct racer {
    onyx_model *m;
    const char *impl, *kernel;
} racer;

static void *race(void *arg) {
    racer *r = arg;
    onyx_options *o = NULL;
    onyx_session *s = NULL;
    if (onyx_options_create(&o) == ONYX_OK && onyx_options_set_num_threads(o, 1) == ONYX_OK &&
        onyx_session_create(r->m, o, &s) == ONYX_OK) {
        int n = onyx_session_step_count(s);
        r->impl = onyx_session_step_impl(s, n - 1);
        r->kernel = onyx_session_step_kernel(s, n - 1);
    }
    onyx_session_free(s);
    onyx_options_free(o);
    return NULL;
}

START_TEST(test_select_concurrent_sessions_agree) {
    onyx_model *m = conv_model(0);
    racer r[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (racer){m, NULL, NULL};
        ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) {
        ck_assert_ptr_nonnull(r[i].impl);
        ck_assert_str_eq(r[i].impl, r[0].impl);
        if (r[0].kernel) ck_assert_str_eq(r[i].kernel, r[0].kernel);
    }
    ck_assert_int_le(measured(m), 1); /* one problem, timed once at most */
    onyx_model_free(m);
}
END_TEST

START_TEST(test_select_options_checks) {
    ck_assert_int_eq(onyx_options_set_kernel_selection(NULL, ONYX_SELECT_STATIC), ONYX_MISUSE);
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_kernel_selection(o, (onyx_kernel_selection)7),
                     ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_options_set_kernel_selection(o, ONYX_SELECT_STATIC), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_kernel_selection(o, ONYX_SELECT_MEASURE), ONYX_OK);
    onyx_options_free(o);
}
END_TEST

int main(void) {
    /* the suite sets these itself: a whole-suite run may have them in the environment */
    unsetenv("ONYX_KERNEL_SELECTION");
    unsetenv("ONYX_OWN_KERNELS");
    unsetenv("ONYX_BACKEND");
    Suite *s = suite_create("select");
    TCase *tc = tcase_create("conv");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_select_conv_measured_is_a_candidate_and_reported);
    tcase_add_test(tc, test_select_conv_dnnl_variants_distinct);
    tcase_add_test(tc, test_select_conv_static_is_first_choice);
    tcase_add_test(tc, test_select_conv_matches_reference);
    tcase_add_test(tc, test_select_cache_spares_second_session);
    tcase_add_test(tc, test_select_cache_spares_replan_on_seen_shape);
    suite_add_tcase(s, tc);
    tc = tcase_create("fake_op");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_select_fake_fastest_own_variant_wins);
    tcase_add_test(tc, test_select_fake_static_takes_first);
    tcase_add_test(tc, test_select_fake_own_kernels_off);
    tcase_add_test(tc, test_select_env_sets_default);
    tcase_add_test(tc, test_select_options_checks);
    tcase_add_test(tc, test_select_cli_shows_kernel);
    tcase_add_test(tc, test_select_concurrent_sessions_agree);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
