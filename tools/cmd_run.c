/*
 * `onyx run MODEL`: runs a model once on inputs read from TensorProto or NumPy files
 * (--input NAME=FILE.pb or NAME=FILE.npy) or made up from a seed, prints a summary of every
 * output and optionally writes them as output_K.pb or output_K.npy files. Also home of
 * cli_bind_inputs, which bench shares.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "npy.h"

static void usage(FILE *f) {
    fprintf(f, "usage: onyx run [options] MODEL\n"
               "\n"
               "Runs MODEL once and prints each output's name, dtype, shape and min/max/mean.\n"
               "Inputs not given with --input get seeded random data (float: uniform [-1,1);\n"
               "integers: 0..3; bool: 0/1); symbolic dims are taken as 1.\n"
               "\n"
               "options:\n"
               "  --input NAME=FILE      read input NAME from FILE: a TensorProto .pb or a NumPy\n"
               "                         .npy file, told apart by content (repeatable)\n"
               "  --output-dir DIR       write output K to DIR/output_K.pb (DIR is created)\n"
               "  --output-format pb|npy file format of --output-dir (default pb)\n"
               "  --threads N            kernel threads (0 = default)\n"
               "  --backend auto|ref     kernel selection (ref = plain C reference kernels)\n"
               "  --select static|measure\n"
               "                         per-node kernel choice: the first that accepts, or the\n"
               "                         fastest when timed at session creation (default: env\n"
               "                         ONYX_KERNEL_SELECTION, else measure)\n"
               "  --seed S               seed of the random inputs (default 1)\n"
               "  -h, --help             show this help\n");
}

void cli_inputs_free(cli_inputs *in) {
    for (int i = 0; i < in->n; i++) {
        if (in->bufs) free(in->bufs[i].data);
        if (in->files) onyx_tensor_free(in->files[i]);
    }
    free(in->bufs);
    free(in->files);
    memset(in, 0, sizeof *in);
}

int cli_bind_inputs(const char *cmd, onyx_model *m, onyx_session *s, const char *const *specs,
                    int n_specs, uint64_t seed, cli_inputs *in) {
    memset(in, 0, sizeof *in);
    int n = onyx_model_input_count(m);
    if (n < 0) {
        cli_error(cmd, "the model reports no inputs: %s", onyx_model_errmsg(m));
        return -1;
    }
    in->n = n;
    in->bufs = calloc((size_t)(n ? n : 1), sizeof *in->bufs);
    in->files = calloc((size_t)(n ? n : 1), sizeof *in->files);
    if (!in->bufs || !in->files) {
        cli_error(cmd, "out of memory");
        return -1;
    }

    for (int k = 0; k < n_specs; k++) {
        const char *eq = strchr(specs[k], '=');
        if (!eq || eq == specs[k] || eq[1] == '\0') {
            cli_error(cmd, "--input '%s': expected NAME=FILE.pb or NAME=FILE.npy", specs[k]);
            return -1;
        }
        size_t len = (size_t)(eq - specs[k]);
        char *name = malloc(len + 1);
        if (!name) {
            cli_error(cmd, "out of memory");
            return -1;
        }
        memcpy(name, specs[k], len);
        name[len] = '\0';
        int idx = onyx_model_input_index(m, name);
        if (idx < 0 || idx >= n) {
            cli_error(cmd, "--input: the model has no input named '%s'", name);
            free(name);
            return -1;
        }
        if (in->files[idx]) {
            cli_error(cmd, "--input: input '%s' given twice", name);
            free(name);
            return -1;
        }
        char err[512] = "";
        onyx_status st = cli_tensor_load(eq + 1, &in->files[idx], err, sizeof err);
        if (st != ONYX_OK) {
            cli_error(cmd, "--input %s: cannot read %s: %s", name, eq + 1,
                      err[0] ? err : onyx_status_str(st));
            free(name);
            return -1;
        }
        free(name);
    }

    uint64_t rng = seed;
    for (int i = 0; i < n; i++) {
        const onyx_tensor *decl = onyx_model_input(m, i);
        const char *name = onyx_tensor_name(decl) ? onyx_tensor_name(decl) : "?";
        onyx_status st;
        if (in->files[i]) {
            st = cli_bind_tensor(s, i, in->files[i]);
        } else {
            char err[512];
            if (cli_make_input(decl, &rng, &in->bufs[i], &in->symbolic, err, sizeof err) != 0) {
                cli_error(cmd, "%s", err);
                return -1;
            }
            cli_buffer *b = &in->bufs[i];
            st = onyx_session_bind_input(s, i, b->dtype, b->dims, b->rank, b->data, b->nbytes);
        }
        if (st != ONYX_OK) {
            cli_error(cmd, "cannot bind input '%s': %s", name,
                      onyx_session_errmsg(s)[0] ? onyx_session_errmsg(s) : onyx_status_str(st));
            return -1;
        }
    }
    return 0;
}

/* Prints "  name: dtype [shape]  min .. max .. mean" for one output. */
static void print_output(int k, const onyx_tensor *t) {
    char shape[256];
    cli_format_shape(t, shape, sizeof shape);
    const char *name = onyx_tensor_name(t);
    onyx_dtype dt = onyx_tensor_dtype(t);
    printf("output %d '%s': %s %s", k, name ? name : "?", onyx_dtype_name(dt), shape);
    int64_t count = onyx_tensor_count(t);
    const void *data = onyx_tensor_data(t);
    if (!cli_dtype_is_numeric(dt) || count < 0 || (count > 0 && !data)) {
        printf("\n");
        return;
    }
    if (count == 0) {
        printf(" (empty)\n");
        return;
    }
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    int64_t nans = 0;
    for (int64_t i = 0; i < count; i++) {
        double v = cli_get_double(dt, data, (size_t)i);
        if (isnan(v)) {
            nans++;
            continue;
        }
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += v;
    }
    if (nans == count) {
        printf(" all NaN\n");
        return;
    }
    printf(" min %.6g max %.6g mean %.6g", lo, hi, sum / (double)(count - nans));
    if (nans) printf(" (%lld NaN)", (long long)nans);
    printf("\n");
}

/* Writes every output as DIR/output_K.<ext>. Returns 0 or -1 after an error. */
static int write_outputs(onyx_session *s, int n_out, const char *dir, const char *ext) {
    if (cli_mkdirs(dir) != 0) {
        cli_error("run", "cannot create folder %s: %s", dir, strerror(errno));
        return -1;
    }
    for (int k = 0; k < n_out; k++) {
        char file[64];
        snprintf(file, sizeof file, "output_%d.%s", k, ext);
        char *path = cli_path_join(dir, file);
        if (!path) {
            cli_error("run", "out of memory");
            return -1;
        }
        char err[512] = "";
        onyx_status st = cli_tensor_save(onyx_session_output(s, k), path, err, sizeof err);
        if (st != ONYX_OK) {
            cli_error("run", "cannot write %s: %s", path, err[0] ? err : onyx_status_str(st));
            free(path);
            return -1;
        }
        printf("wrote %s\n", path);
        free(path);
    }
    return 0;
}

int cmd_run(int argc, char **argv) {
    const char *out_dir = NULL, *out_ext = "pb";
    int rc = CLI_EXIT_USAGE;
    cli_model_args a;
    onyx_model *m = NULL;
    onyx_options *o = NULL;
    onyx_session *s = NULL;
    cli_inputs in = {0};

    if (cli_model_args_init("run", argc, &a) != 0) return CLI_EXIT_FAIL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) {
            usage(stdout);
            rc = CLI_EXIT_OK;
            goto out;
        }
        if ((r = cli_opt_value("run", argc, argv, &i, "--output-dir", &v)) != 0) {
            if (r < 0) goto out;
            if (v[0] == '\0') {
                cli_error("run", "--output-dir: empty folder name");
                goto out;
            }
            out_dir = v;
        } else if ((r = cli_opt_value("run", argc, argv, &i, "--output-format", &v)) != 0) {
            if (r < 0) goto out;
            if (strcmp(v, "pb") != 0 && strcmp(v, "npy") != 0) {
                cli_error("run", "--output-format: expected pb or npy, got '%s'", v);
                goto out;
            }
            out_ext = v;
        } else if (cli_model_arg("run", argc, argv, &i, &a, usage) != 0) {
            goto out;
        }
    }
    if (cli_model_args_done("run", &a, usage) != 0) goto out;

    rc = CLI_EXIT_FAIL;
    m = cli_load_model("run", a.path, 0);
    if (!m) goto out;
    if (cli_make_options("run", (int)a.threads, a.backend, &o) != 0 ||
        cli_set_selection("run", o, a.select) != 0)
        goto out;
    if (onyx_session_create(m, o, &s) != ONYX_OK) {
        cli_error("run", "cannot create a session: %s",
                  s ? onyx_session_errmsg(s) : "out of memory");
        goto out;
    }
    if (cli_bind_inputs("run", m, s, a.specs, a.n_specs, a.seed, &in) != 0) goto out;
    if (in.symbolic) printf("note: symbolic input dims taken as 1\n");

    double t0 = cli_now();
    onyx_status st = onyx_session_run(s);
    double t1 = cli_now();
    if (st != ONYX_OK) {
        cli_error("run", "run failed: %s (%s)", onyx_session_errmsg(s), onyx_status_str(st));
        goto out;
    }
    int n_out = onyx_model_output_count(m);
    for (int k = 0; k < n_out; k++)
        print_output(k, onyx_session_output(s, k));
    printf("run time: %.3f ms\n", (t1 - t0) * 1e3);
    if (out_dir && write_outputs(s, n_out, out_dir, out_ext) != 0) goto out;
    rc = CLI_EXIT_OK;

out:
    cli_inputs_free(&in);
    onyx_session_free(s);
    onyx_options_free(o);
    onyx_model_free(m);
    free(a.specs);
    return rc;
}
