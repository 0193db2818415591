/*
 * Tests of the `onyx` command-line program (tools/): runs the built binary (ONYX_TEST_CLI)
 * with fork/exec, captures stdout, stderr and the exit status, and checks the output of
 * help, info, run, test and bench on ONNX node test folders, on small models built here
 * with pbbuild.h (symbolic dims, an op onyx does not have), and on malformed input.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "onyx.h"
#include "pbbuild.h"
#include "testutil.h"

#define SIGMOID_DIR ONYX_TEST_NODE_DIR "/test_sigmoid"

/* ---- running the CLI ---- */

typedef struct cli_result {
    int exited; /* WIFEXITED: the program ended by exit status, not by a signal */
    int status; /* its exit status */
    char *out;  /* captured stdout, NUL-terminated */
    char *err;  /* captured stderr, NUL-terminated */
} cli_result;

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Runs ONYX_TEST_CLI with args (NULL-terminated, without argv[0]). Output goes to files
 * rather than pipes so that a chatty program cannot dead-lock against the test. */
static cli_result run_cli(const char *const *args) {
    char out_path[512], err_path[512];
    snprintf(out_path, sizeof out_path, "%s/cli_stdout_%ld.txt", ONYX_TEST_TMP_DIR, (long)getpid());
    snprintf(err_path, sizeof err_path, "%s/cli_stderr_%ld.txt", ONYX_TEST_TMP_DIR, (long)getpid());
    const char *argv[64];
    int n = 0;
    argv[n++] = ONYX_TEST_CLI;
    for (; args[n - 1] && n < 63; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;

    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *o = freopen(out_path, "w", stdout);
        FILE *e = freopen(err_path, "w", stderr);
        if (!o || !e) _exit(126);
        execv(ONYX_TEST_CLI, (char *const *)argv);
        _exit(127);
    }
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    cli_result r;
    r.exited = WIFEXITED(wstatus);
    r.status = r.exited ? WEXITSTATUS(wstatus) : -1;
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    remove(out_path);
    remove(err_path);
    ck_assert_msg(r.exited, "onyx was killed by signal %d\nstdout:\n%s\nstderr:\n%s",
                  WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0, r.out, r.err);
    ck_assert_msg(r.status != 127 && r.status != 126, "cannot exec %s", ONYX_TEST_CLI);
    return r;
}

static void result_free(cli_result *r) {
    free(r->out);
    free(r->err);
}

#define ASSERT_HAS(text, needle)                                                                   \
    ck_assert_msg(strstr((text), (needle)) != NULL, "expected '%s' in:\n%s", (needle), (text))

/* Asserts the exit status, printing both streams when it is wrong. */
#define ASSERT_STATUS(r, want)                                                                     \
    ck_assert_msg((r).status == (want), "exit status %d, expected %d\nstdout:\n%s\nstderr:\n%s",   \
                  (r).status, (want), (r).out, (r).err)

/* ---- files ---- */

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static void copy_file(const char *src, const char *dst) {
    size_t n = 0;
    void *data = tu_read_file(src, &n);
    ck_assert_msg(data != NULL, "cannot read %s", src);
    write_bytes(dst, data, n);
    free(data);
}

static void make_dir(const char *path) {
    ck_assert_msg(mkdir(path, 0777) == 0 || errno == EEXIST, "cannot create %s", path);
}

/* Copies a node test folder with one data set (model.onnx, input_0.pb, output_0.pb) to
 * dst; skip_output leaves output_0.pb out so that the caller can write its own. */
static void copy_case(const char *src, const char *dst, int skip_output) {
    char a[512], b[512];
    make_dir(dst);
    snprintf(a, sizeof a, "%s/model.onnx", src);
    snprintf(b, sizeof b, "%s/model.onnx", dst);
    copy_file(a, b);
    snprintf(b, sizeof b, "%s/test_data_set_0", dst);
    make_dir(b);
    snprintf(a, sizeof a, "%s/test_data_set_0/input_0.pb", src);
    snprintf(b, sizeof b, "%s/test_data_set_0/input_0.pb", dst);
    copy_file(a, b);
    if (!skip_output) {
        snprintf(a, sizeof a, "%s/test_data_set_0/output_0.pb", src);
        snprintf(b, sizeof b, "%s/test_data_set_0/output_0.pb", dst);
        copy_file(a, b);
    }
}

static onyx_tensor *load_pb(const char *path) {
    onyx_tensor *t = NULL;
    char err[256] = "";
    ck_assert_msg(onyx_tensor_load_pb(path, &t, err, sizeof err) == ONYX_OK, "%s: %s", path, err);
    return t;
}

/* ---- a hand-made model ---- */

/* Writes the model y = Last(Sigmoid(Sigmoid(Concat(x, w, axis=1)))) with x float [2, N],
 * y float [2, M] and the initializer w = [[0.5], [-0.5]], opset 13, to path. Last is
 * Sigmoid, or when bad_op is not NULL that op type (which onyx has no kernel for). Only
 * ops of the core set are used so that the model runs in every build. */
static void write_model(const char *path, const char *bad_op) {
    static const float wv[2] = {0.5f, -0.5f};
    static const int64_t w_dims[2] = {2, 1}, io_dims[2] = {2, -1};
    static const char *const x_params[2] = {NULL, "N"}, *const y_params[2] = {NULL, "M"};
    mb *b = mb_new(13);
    b->model.producer_name = mb_str(b, "cli-test");
    b->model.producer_version = mb_str(b, "4.5");
    b->graph.name = mb_str(b, "cli_graph");
    Onnx__NodeProto *concat = mb_node(b, "Concat", "a", "x,w", "a");
    Onnx__AttributeProto *axis =
        mb_attr(b, concat, "axis", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    axis->has_i = 1;
    axis->i = 1;
    mb_node(b, "Sigmoid", "b", "a", "b");
    mb_node(b, "Sigmoid", "c", "b", "c");
    mb_node(b, bad_op ? bad_op : "Sigmoid", "y", "c", "y");
    mb_raw(mb_tensor(b, 1, "w", ONYX_DTYPE_FLOAT32, 2, w_dims), wv, sizeof wv);
    mb_value(b, 0, "x", ONYX_DTYPE_FLOAT32, 2, io_dims, x_params);
    mb_value(b, 1, "y", ONYX_DTYPE_FLOAT32, 2, io_dims, y_params);
    size_t len = 0;
    uint8_t *bytes = mb_pack(b, &len);
    write_bytes(path, bytes, len);
    free(bytes);
}

static const char *tmp_path(char *buf, size_t len, const char *name) {
    snprintf(buf, len, "%s/cli_%s", ONYX_TEST_TMP_DIR, name);
    return buf;
}

/* ---- help and dispatch ---- */

START_TEST(test_cli_help_each_command) {
    static const struct {
        const char *cmd;
        const char *opts[6];
    } cmds[] = {
        {"info", {"usage: onyx info", "MODEL", NULL}},
        {"run", {"usage: onyx run", "--input", "--output-dir", "--threads", "--backend", "--seed"}},
        {"test", {"usage: onyx test", "--atol", "--rtol", "--backend", "--threads", NULL}},
        {"bench", {"usage: onyx bench", "--iters", "--warmup", "--json", "--threads", "--backend"}},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        for (int form = 0; form < 2; form++) {
            const char *args[] = {cmds[i].cmd, form ? "-h" : "--help", NULL};
            cli_result r = run_cli(args);
            ASSERT_STATUS(r, 0);
            for (int k = 0; k < 6 && cmds[i].opts[k]; k++)
                ASSERT_HAS(r.out, cmds[i].opts[k]);
            result_free(&r);
        }
    }
    const char *top[] = {"--help", NULL};
    cli_result r = run_cli(top);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "info");
    ASSERT_HAS(r.out, "bench");
    result_free(&r);
}
END_TEST

START_TEST(test_cli_version_prints_library_version) {
    const char *args[] = {"--version", NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, ONYX_VERSION);
    result_free(&r);
}
END_TEST

START_TEST(test_cli_unknown_command_exits_2) {
    const char *args[] = {"frobnicate", NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 2);
    ASSERT_HAS(r.err, "frobnicate");
    ASSERT_HAS(r.err, "usage");
    ck_assert_str_eq(r.out, "");
    result_free(&r);

    const char *none[] = {NULL};
    r = run_cli(none);
    ASSERT_STATUS(r, 2);
    ASSERT_HAS(r.err, "usage");
    result_free(&r);
}
END_TEST

START_TEST(test_cli_unknown_option_exits_2) {
    const char *args[] = {"run", "--frob", SIGMOID_DIR "/model.onnx", NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 2);
    ASSERT_HAS(r.err, "--frob");
    result_free(&r);
}
END_TEST

/* ---- onyx test ---- */

START_TEST(test_test_passing_case) {
    const char *args[] = {"test", SIGMOID_DIR, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "PASS test_sigmoid\n");
    /* the summary is the last line */
    size_t n = strlen(r.out);
    ck_assert_uint_ge(n, strlen("1 passed, 0 failed\n"));
    ck_assert_str_eq(r.out + n - strlen("1 passed, 0 failed\n"), "1 passed, 0 failed\n");
    result_free(&r);

    /* the reference backend and a trailing slash give the same verdict */
    const char *ref[] = {"test", "--backend", "ref", "--threads", "1", SIGMOID_DIR "/", NULL};
    r = run_cli(ref);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "PASS test_sigmoid\n1 passed, 0 failed\n");
    result_free(&r);
}
END_TEST

START_TEST(test_test_corrupted_output_fails) {
    char dir[512], path[600];
    tmp_path(dir, sizeof dir, "corrupt");
    make_dir(dir);
    strcat(dir, "/test_sigmoid");
    copy_case(SIGMOID_DIR, dir, 1);

    /* expected output = the real one with element 7 ([0, 1, 2]) moved by 0.25 */
    onyx_tensor *want = load_pb(SIGMOID_DIR "/test_data_set_0/output_0.pb");
    ck_assert_int_eq(onyx_tensor_count(want), 60);
    float vals[60];
    memcpy(vals, onyx_tensor_data(want), sizeof vals);
    float orig = vals[7];
    vals[7] += 0.25f;
    int64_t dims[3] = {3, 4, 5};
    onyx_tensor *bad = NULL;
    ck_assert_int_eq(onyx_tensor_create("y", ONYX_DTYPE_FLOAT32, dims, 3, vals, &bad), ONYX_OK);
    snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", dir);
    char err[256] = "";
    ck_assert_int_eq(onyx_tensor_save_pb(bad, path, err, sizeof err), ONYX_OK);
    onyx_tensor_free(bad);
    onyx_tensor_free(want);

    const char *args[] = {"test", dir, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 1);
    ASSERT_HAS(r.out, "FAIL test_sigmoid: test_data_set_0: output 0 'y'");
    ASSERT_HAS(r.out, "1 of 60 elements differ");
    ASSERT_HAS(r.out, "[0, 1, 2] (element 7)");
    char want_vals[128];
    /* the computed value may differ from the file's in the last bits: check only "want" */
    snprintf(want_vals, sizeof want_vals, ", want %.9g, |diff| 0.25 > tolerance",
             (double)(orig + 0.25f));
    ASSERT_HAS(r.out, want_vals);
    ASSERT_HAS(r.out, "\n0 passed, 1 failed\n");
    result_free(&r);

    /* a looser tolerance accepts the difference */
    const char *loose[] = {"test", "--atol", "0.3", dir, NULL};
    r = run_cli(loose);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "PASS test_sigmoid\n1 passed, 0 failed\n");
    result_free(&r);
}
END_TEST

START_TEST(test_test_wrong_shape_fails) {
    char dir[512], path[600];
    tmp_path(dir, sizeof dir, "shape");
    make_dir(dir);
    strcat(dir, "/test_sigmoid");
    copy_case(SIGMOID_DIR, dir, 1);
    float vals[60] = {0};
    int64_t dims[2] = {12, 5};
    onyx_tensor *bad = NULL;
    ck_assert_int_eq(onyx_tensor_create("y", ONYX_DTYPE_FLOAT32, dims, 2, vals, &bad), ONYX_OK);
    snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", dir);
    ck_assert_int_eq(onyx_tensor_save_pb(bad, path, NULL, 0), ONYX_OK);
    onyx_tensor_free(bad);

    const char *args[] = {"test", dir, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 1);
    ASSERT_HAS(r.out, "FAIL test_sigmoid: test_data_set_0: output 0 'y': shape [3, 4, 5], "
                      "expected [12, 5]");
    result_free(&r);
}
END_TEST

START_TEST(test_test_directory_of_cases) {
    char suite[512], sub[600];
    tmp_path(suite, sizeof suite, "suite");
    make_dir(suite);
    /* created in reverse order: the output must still be sorted by name */
    snprintf(sub, sizeof sub, "%s/b_case", suite);
    copy_case(ONYX_TEST_NODE_DIR "/test_sigmoid_example", sub, 0);
    snprintf(sub, sizeof sub, "%s/a_case", suite);
    copy_case(SIGMOID_DIR, sub, 0);
    snprintf(sub, sizeof sub, "%s/notes", suite); /* no model.onnx: not a case */
    make_dir(sub);

    const char *args[] = {"test", suite, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ck_assert_str_eq(r.out, "PASS a_case\nPASS b_case\n2 passed, 0 failed\n");
    result_free(&r);
}
END_TEST

START_TEST(test_test_missing_path_is_error) {
    const char *args[] = {"test", ONYX_TEST_TMP_DIR "/cli_no_such_folder", NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 1);
    ASSERT_HAS(r.err, "cli_no_such_folder");
    result_free(&r);

    /* with a good case next to it, the good case still runs but the status says error */
    const char *mixed[] = {"test", SIGMOID_DIR, ONYX_TEST_TMP_DIR "/cli_no_such_folder", NULL};
    r = run_cli(mixed);
    ASSERT_STATUS(r, 1);
    ASSERT_HAS(r.out, "PASS test_sigmoid\n1 passed, 0 failed\n");
    ASSERT_HAS(r.err, "cli_no_such_folder");
    result_free(&r);

    /* a folder with no case anywhere below it */
    char empty[512];
    tmp_path(empty, sizeof empty, "empty");
    make_dir(empty);
    const char *none[] = {"test", empty, NULL};
    r = run_cli(none);
    ASSERT_STATUS(r, 1);
    ASSERT_HAS(r.err, "no test case");
    result_free(&r);

    const char *nopath[] = {"test", NULL};
    r = run_cli(nopath);
    ASSERT_STATUS(r, 2);
    ASSERT_HAS(r.err, "PATH");
    result_free(&r);
}
END_TEST

/* ---- onyx info ---- */

START_TEST(test_info_node_model) {
    const char *args[] = {"info", SIGMOID_DIR "/model.onnx", NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "ir version: 7\n");
    ASSERT_HAS(r.out, "producer: backend-test");
    ASSERT_HAS(r.out, "opsets: ai.onnx 13\n");
    ASSERT_HAS(r.out, "inputs (1):\n  x: float32 [3, 4, 5]\n");
    ASSERT_HAS(r.out, "outputs (1):\n  y: float32 [3, 4, 5]\n");
    ASSERT_HAS(r.out, "ops (1 nodes, 1 distinct):\n  Sigmoid: 1\n");
    ASSERT_HAS(r.out, "parameters: 0 (0 bytes) in 0 initializers\n");
    ASSERT_HAS(r.out, "unsupported ops: none\n");
    ASSERT_HAS(r.out, "arena:");
    result_free(&r);

    /* a case folder stands for its model.onnx; another folder is an error */
    const char *folder[] = {"info", SIGMOID_DIR, NULL};
    r = run_cli(folder);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "  Sigmoid: 1\n");
    result_free(&r);
    const char *not_case[] = {"info", ONYX_TEST_NODE_DIR, NULL};
    r = run_cli(not_case);
    ASSERT_STATUS(r, 1);
    ASSERT_HAS(r.err, "folder without a model.onnx");
    result_free(&r);
}
END_TEST

START_TEST(test_info_symbolic_dims_and_histogram) {
    char model[512];
    tmp_path(model, sizeof model, "symbolic.onnx");
    write_model(model, NULL);
    const char *args[] = {"info", model, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "ir version: 8\n");
    ASSERT_HAS(r.out, "producer: cli-test 4.5\n");
    ASSERT_HAS(r.out, "graph: cli_graph\n");
    ASSERT_HAS(r.out, "inputs (1):\n  x: float32 [2, N]\n"); /* symbolic dims by name */
    /* by count, then by name */
    ASSERT_HAS(r.out, "ops (4 nodes, 2 distinct):\n  Sigmoid: 3\n  Concat: 1\n");
    ASSERT_HAS(r.out, "parameters: 2 (8 bytes) in 1 initializers\n");
    ASSERT_HAS(r.out, "memory (symbolic dims taken as 1):");
    result_free(&r);
}
END_TEST

START_TEST(test_info_lists_unsupported_op) {
    char model[512];
    tmp_path(model, sizeof model, "unsupported.onnx");
    write_model(model, "OnyxNoSuchOp");
    const char *args[] = {"info", model, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "  Sigmoid: 2\n  Concat: 1\n  OnyxNoSuchOp: 1\n");
    ASSERT_HAS(r.out, "unsupported ops (1):\n  OnyxNoSuchOp: 1 node\n");
    ASSERT_HAS(r.out, "memory: n/a (");
    result_free(&r);

    /* running it is refused at load, naming the op */
    const char *run[] = {"run", model, NULL};
    r = run_cli(run);
    ASSERT_STATUS(r, 1);
    ASSERT_HAS(r.err, "OnyxNoSuchOp");
    result_free(&r);
}
END_TEST

/* ---- onyx run ---- */

START_TEST(test_run_writes_outputs) {
    char dir[512], out0[600];
    tmp_path(dir, sizeof dir, "run_out/nested");
    snprintf(out0, sizeof out0, "%s/output_0.pb", dir);
    remove(out0);
    const char *args[] = {"run", SIGMOID_DIR "/model.onnx", "--output-dir", dir, "--seed", "7",
                          NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "output 0 'y': float32 [3, 4, 5] min ");
    result_free(&r);

    onyx_tensor *y = load_pb(out0);
    ck_assert_int_eq(onyx_tensor_dtype(y), ONYX_DTYPE_FLOAT32);
    ck_assert_int_eq(onyx_tensor_rank(y), 3);
    ck_assert_int_eq(onyx_tensor_dim(y, 0), 3);
    ck_assert_int_eq(onyx_tensor_dim(y, 1), 4);
    ck_assert_int_eq(onyx_tensor_dim(y, 2), 5);
    /* inputs in [-1, 1) give sigmoid values in (0.26, 0.74) */
    const float *v = onyx_tensor_data(y);
    for (int i = 0; i < 60; i++)
        ck_assert(v[i] > 0.26f && v[i] < 0.74f);
    onyx_tensor_free(y);
}
END_TEST

START_TEST(test_run_with_input_file) {
    char dir[512], out0[600];
    tmp_path(dir, sizeof dir, "run_input");
    snprintf(out0, sizeof out0, "%s/output_0.pb", dir);
    const char *args[] = {"run",
                          SIGMOID_DIR "/model.onnx",
                          "--input",
                          "x=" SIGMOID_DIR "/test_data_set_0/input_0.pb",
                          "--output-dir",
                          dir,
                          NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    result_free(&r);
    onyx_tensor *got = load_pb(out0);
    onyx_tensor *want = load_pb(SIGMOID_DIR "/test_data_set_0/output_0.pb");
    tu_assert_close(got, want, 1e-7, 1e-3);
    onyx_tensor_free(got);
    onyx_tensor_free(want);

    /* a symbolic dim takes the shape of the file: y = sig(sig(sig([x | w]))) */
    char model[512], xin[512];
    tmp_path(model, sizeof model, "run_symbolic.onnx");
    write_model(model, NULL);
    tmp_path(xin, sizeof xin, "run_x.pb");
    const float xs[6] = {-2.0f, -0.5f, 0.25f, 1.0f, -0.75f, 3.0f};
    int64_t dims[2] = {2, 3};
    onyx_tensor *x = NULL;
    ck_assert_int_eq(onyx_tensor_create("x", ONYX_DTYPE_FLOAT32, dims, 2, xs, &x), ONYX_OK);
    ck_assert_int_eq(onyx_tensor_save_pb(x, xin, NULL, 0), ONYX_OK);
    onyx_tensor_free(x);
    char spec[600];
    snprintf(spec, sizeof spec, "x=%s", xin);
    const char *sym[] = {"run", model, "--input", spec, "--output-dir", dir, NULL};
    r = run_cli(sym);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "output 0 'y': float32 [2, 4] min ");
    result_free(&r);
    got = load_pb(out0);
    const double cat[8] = {-2.0, -0.5, 0.25, 0.5, 1.0, -0.75, 3.0, -0.5};
    float ys[8];
    for (int i = 0; i < 8; i++) {
        double v = cat[i];
        for (int k = 0; k < 3; k++)
            v = 1.0 / (1.0 + exp(-v));
        ys[i] = (float)v;
    }
    const int64_t ydims[2] = {2, 4};
    tu_assert_floats(got, 2, ydims, ys, 1e-6, 1e-5);
    onyx_tensor_free(got);

    /* an unknown input name and a missing file are errors */
    const char *badname[] = {"run", model, "--input", "nope=x.pb", NULL};
    r = run_cli(badname);
    ASSERT_STATUS(r, 1);
    ASSERT_HAS(r.err, "no input named 'nope'");
    result_free(&r);
    const char *nofile[] = {"run", model, "--input", "x=" ONYX_TEST_TMP_DIR "/cli_nofile.pb", NULL};
    r = run_cli(nofile);
    ASSERT_STATUS(r, 1);
    ASSERT_HAS(r.err, "cli_nofile.pb");
    result_free(&r);
    const char *noeq[] = {"run", model, "--input", "x", NULL};
    r = run_cli(noeq);
    ck_assert_int_ne(r.status, 0);
    ASSERT_HAS(r.err, "NAME=FILE.pb");
    result_free(&r);
}
END_TEST

/* ---- onyx bench ---- */

static double json_number(const char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    ck_assert_msg(p != NULL, "no %s in %s", key, json);
    char *end = NULL;
    double v = strtod(p + strlen(pat), &end);
    ck_assert_msg(end != p + strlen(pat), "%s is not a number in %s", key, json);
    return v;
}

START_TEST(test_bench_json_fields) {
    const char *args[] = {
        "bench", SIGMOID_DIR "/model.onnx", "--iters", "3", "--warmup", "1", "--json", NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 0);
    ck_assert_msg(r.out[0] == '{', "not a JSON object: %s", r.out);
    ASSERT_HAS(r.out, "}\n");
    ck_assert_double_eq(json_number(r.out, "iters"), 3);
    ck_assert_double_eq(json_number(r.out, "warmup"), 1);
    double mn = json_number(r.out, "min_ms"), med = json_number(r.out, "median_ms");
    double mean = json_number(r.out, "mean_ms"), p90 = json_number(r.out, "p90_ms");
    ck_assert(mn >= 0 && mn <= med && med <= p90);
    ck_assert(mean >= mn && mean <= p90);
    ck_assert(json_number(r.out, "load_ms") >= 0);
    ck_assert(json_number(r.out, "create_ms") >= 0);
    ck_assert(json_number(r.out, "first_run_ms") >= 0);
    ck_assert(json_number(r.out, "peak_rss_kb") > 0);
    ck_assert(json_number(r.out, "arena_bytes") >= 0);
    ASSERT_HAS(r.out, "\"model\": \"" SIGMOID_DIR "/model.onnx\"");
    result_free(&r);

    const char *text[] = {"bench", SIGMOID_DIR "/model.onnx", "--iters=2", NULL};
    r = run_cli(text);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "median:");
    ASSERT_HAS(r.out, "p90:");
    ASSERT_HAS(r.out, "peak RSS:");
    result_free(&r);
}
END_TEST

/* FLOPs per run of one-node models, hand-computed as 2 x multiply-adds:
 *   conv_with_strides_padding: x [1,1,7,5], W [1,1,3,3], stride 2, pads 1 -> y [1,1,4,3];
 *     12 outputs x 9 taps = 108 MACs
 *   convtranspose: x [1,1,3,3], W [1,2,3,3]; each of 9 inputs scatters to 2 x 9 taps = 162
 *   gemm_transposeA: A [6,3] used as [3,6], B [6,4] -> [3,4]; 12 outputs x K 6 = 72
 *   matmul_3d: [2,3,4] x [2,4,3] -> [2,3,3]; 18 outputs x K 4 = 72
 *   sigmoid: not a counted op, 0 */
START_TEST(test_bench_flops_of_counted_ops) {
    static const struct {
        const char *dir;
        double flops;
    } cases[] = {
        {ONYX_TEST_NODE_DIR "/test_conv_with_strides_padding", 216},
        {ONYX_TEST_NODE_DIR "/test_convtranspose", 324},
        {ONYX_TEST_NODE_DIR "/test_gemm_transposeA", 144},
        {ONYX_TEST_NODE_DIR "/test_matmul_3d", 144},
        {SIGMOID_DIR, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[] = {"bench",    cases[i].dir, "--iters", "3",
                              "--warmup", "0",          "--json",  NULL};
        cli_result r = run_cli(args);
        ASSERT_STATUS(r, 0);
        double f = json_number(r.out, "flops"), gflop = json_number(r.out, "gflop");
        ck_assert_msg(f == cases[i].flops, "%s: flops %.0f, expected %.0f", cases[i].dir, f,
                      cases[i].flops);
        ck_assert_double_eq_tol(gflop, cases[i].flops / 1e9, 1e-6);
        /* GFLOP/s is FLOPs over the median time: flop/ms / 1e6 */
        double med = json_number(r.out, "median_ms"), g = json_number(r.out, "gflops_per_s");
        double want = med > 0 ? cases[i].flops / med / 1e6 : 0;
        ck_assert_msg(fabs(g - want) <= 1e-4 + 1e-3 * want, "%s: %g GFLOP/s, expected %g",
                      cases[i].dir, g, want);
        result_free(&r);
    }

    const char *text[] = {"bench", ONYX_TEST_NODE_DIR "/test_conv_with_strides_padding", "--iters",
                          "1", NULL};
    cli_result r = run_cli(text);
    ASSERT_STATUS(r, 0);
    ASSERT_HAS(r.out, "session:");
    ASSERT_HAS(r.out, "FLOPs:                  216 per run (0.0000 GFLOP in "
                      "Conv/ConvTranspose/MatMul/Gemm)\n");
    ASSERT_HAS(r.out, "throughput:");
    ASSERT_HAS(r.out, "GFLOP/s (at the median)\n");
    result_free(&r);
}
END_TEST

/* ---- bad input ---- */

/* Every command on path must fail cleanly: non-zero status, a message, no signal. */
static void assert_all_commands_reject(const char *model) {
    const char *cmds[][5] = {
        {"info", model, NULL},
        {"run", model, NULL},
        {"bench", model, "--iters", "1", NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        cli_result r = run_cli(cmds[i]);
        ck_assert_msg(r.status == 1, "%s: status %d", cmds[i][0], r.status);
        ck_assert_msg(strstr(r.err, "cannot load") != NULL, "%s: stderr '%s'", cmds[i][0], r.err);
        result_free(&r);
    }
}

START_TEST(test_cli_malformed_models) {
    char path[512];
    /* random bytes */
    unsigned char junk[300];
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        s = s * 1103515245u + 12345u;
        junk[i] = (unsigned char)(s >> 16);
    }
    tmp_path(path, sizeof path, "junk.onnx");
    write_bytes(path, junk, sizeof junk);
    assert_all_commands_reject(path);

    /* the sigmoid model cut in half */
    size_t n = 0;
    unsigned char *model = tu_read_file(SIGMOID_DIR "/model.onnx", &n);
    ck_assert_ptr_nonnull(model);
    tmp_path(path, sizeof path, "truncated.onnx");
    write_bytes(path, model, n / 2);
    assert_all_commands_reject(path);

    /* an empty file and a missing file */
    tmp_path(path, sizeof path, "empty.onnx");
    write_bytes(path, "", 0);
    assert_all_commands_reject(path);
    tmp_path(path, sizeof path, "missing.onnx");
    remove(path);
    assert_all_commands_reject(path);

    /* `onyx test` on a case whose model is truncated: a FAIL line with the load error */
    char dir[512], file[600];
    tmp_path(dir, sizeof dir, "truncated_case");
    copy_case(SIGMOID_DIR, dir, 0);
    snprintf(file, sizeof file, "%s/model.onnx", dir);
    write_bytes(file, model, n / 2);
    free(model);
    const char *args[] = {"test", dir, NULL};
    cli_result r = run_cli(args);
    ASSERT_STATUS(r, 1);
    ASSERT_HAS(r.out, "FAIL cli_truncated_case: load failed: ");
    ASSERT_HAS(r.out, "\n0 passed, 1 failed\n");
    result_free(&r);

    /* a corrupt expected-output file */
    snprintf(file, sizeof file, "%s/model.onnx", dir);
    copy_file(SIGMOID_DIR "/model.onnx", file);
    snprintf(file, sizeof file, "%s/test_data_set_0/output_0.pb", dir);
    /* raw_data (field 9) claiming more bytes than the file has */
    write_bytes(file, "\x4a\xff\x7f\x01\x02", 5);
    r = run_cli(args);
    ASSERT_STATUS(r, 1);
    ASSERT_HAS(r.out, "FAIL cli_truncated_case: test_data_set_0: cannot read output_0.pb");
    result_free(&r);
}
END_TEST

START_TEST(test_cli_bad_numbers_rejected) {
    const char *m = SIGMOID_DIR "/model.onnx";
    const char *cases[][6] = {
        {"run", m, "--threads", "-1", NULL},
        {"run", m, "--threads", "abc", NULL},
        {"run", m, "--threads", "4x", NULL},
        {"run", m, "--threads", "", NULL},
        {"run", m, "--seed", "-5", NULL},
        {"run", m, "--backend", "gpu", NULL},
        {"run", m, "--threads", NULL},
        {"bench", m, "--iters", "0", NULL},
        {"bench", m, "--iters", "1e3", NULL},
        {"bench", m, "--warmup", "-2", NULL},
        {"bench", m, "--threads", " 2", NULL},
        {"test", "--atol", "-1", m, NULL},
        {"test", "--rtol", "x", m, NULL},
        {"test", "--atol", "nan", m, NULL},
        {"test", "--threads", "99999999999999999999", m, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_result r = run_cli(cases[i]);
        ck_assert_msg(r.status == 2, "case %zu (%s %s %s): status %d", i, cases[i][0], cases[i][2],
                      cases[i][3] ? cases[i][3] : "", r.status);
        ck_assert_msg(r.err[0] != '\0', "case %zu: no message", i);
        ck_assert_msg(strstr(r.out, "output 0") == NULL, "case %zu ran anyway", i);
        result_free(&r);
    }
}
END_TEST

static Suite *cli_suite(void) {
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("dispatch");
    tcase_add_test(tc, test_cli_help_each_command);
    tcase_add_test(tc, test_cli_version_prints_library_version);
    tcase_add_test(tc, test_cli_unknown_command_exits_2);
    tcase_add_test(tc, test_cli_unknown_option_exits_2);
    suite_add_tcase(s, tc);

    tc = tcase_create("test");
    tcase_add_test(tc, test_test_passing_case);
    tcase_add_test(tc, test_test_corrupted_output_fails);
    tcase_add_test(tc, test_test_wrong_shape_fails);
    tcase_add_test(tc, test_test_directory_of_cases);
    tcase_add_test(tc, test_test_missing_path_is_error);
    suite_add_tcase(s, tc);

    tc = tcase_create("info");
    tcase_add_test(tc, test_info_node_model);
    tcase_add_test(tc, test_info_symbolic_dims_and_histogram);
    tcase_add_test(tc, test_info_lists_unsupported_op);
    suite_add_tcase(s, tc);

    tc = tcase_create("run");
    tcase_add_test(tc, test_run_writes_outputs);
    tcase_add_test(tc, test_run_with_input_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("bench");
    tcase_add_test(tc, test_bench_json_fields);
    tcase_add_test(tc, test_bench_flops_of_counted_ops);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, test_cli_malformed_models);
    tcase_add_test(tc, test_cli_bad_numbers_rejected);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(cli_suite());
}
