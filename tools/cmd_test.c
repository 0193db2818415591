/*
 * `onyx test PATH...`: the conformance driver. Runs ONNX backend test folders (model.onnx
 * plus test_data_set_N/input_K.pb and output_K.pb) and compares every output with
 * |got - want| <= atol + rtol*|want| (NaN matches only NaN, infinities must match exactly,
 * integers and bools exactly). Prints one PASS/FAIL line per case and a summary line.
 * Data sets may hold NumPy files (input_K.npy, output_K.npy) instead of .pb files; a JUnit
 * XML report (--junit) lets CI dashboards show each case.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "npy.h"

static void usage(FILE *f) {
    fprintf(f, "usage: onyx test [options] PATH...\n"
               "\n"
               "Runs ONNX backend test cases. Each PATH is a case folder (model.onnx and\n"
               "test_data_set_N/{input_K,output_K}.pb, or .npy files) or a folder of case\n"
               "folders. Prints\n"
               "'PASS name' or 'FAIL name: reason' per case, then 'N passed, M failed'.\n"
               "Exit status 0 only when every case passed.\n"
               "\n"
               "options:\n"
               "  --atol A             absolute tolerance (default 1e-7)\n"
               "  --rtol R             relative tolerance (default 1e-3)\n"
               "  --backend auto|ref   kernel selection (ref = plain C reference kernels)\n"
               "  --threads N          kernel threads (0 = default)\n"
               "  --junit FILE.xml     also write a JUnit XML report: one testcase per case,\n"
               "                       failures with their reason\n"
               "  --output-dir DIR     write each case's actual outputs to\n"
               "                       DIR/CASE/test_data_set_N/output_K.pb (or .npy)\n"
               "  --output-format pb|npy  file format of --output-dir (default pb)\n"
               "  -h, --help           show this help\n");
}

typedef struct test_case {
    char *name;    /* owned: the folder's base name */
    char *dir;     /* owned */
    char *failure; /* owned: the reason after a FAIL, NULL after a PASS */
    double seconds;
} test_case;

typedef struct case_list {
    test_case *v;
    int n, cap;
} case_list;

typedef struct test_config {
    double atol, rtol;
    onyx_options *opts;  /* borrowed: cmd_test */
    const char *out_dir; /* --output-dir, or NULL */
    const char *out_ext; /* "pb" or "npy" */
} test_config;

/* ---- collecting cases ---- */

static int add_case(case_list *l, const char *dir) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        test_case *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    size_t len = strlen(dir);
    char *d = malloc(len + 1);
    if (!d) return -1;
    memcpy(d, dir, len + 1);
    while (len > 1 && d[len - 1] == '/') /* "case/" names the same case as "case" */
        d[--len] = '\0';
    const char *base = strrchr(d, '/');
    base = base ? base + 1 : d;
    size_t bl = strlen(base);
    char *name = malloc(bl + 1);
    if (!name) {
        free(d);
        return -1;
    }
    memcpy(name, base, bl + 1);
    l->v[l->n].name = name;
    l->v[l->n].dir = d;
    l->v[l->n].failure = NULL;
    l->v[l->n].seconds = 0;
    l->n++;
    return 0;
}

static int has_model(const char *dir) {
    char *p = cli_path_join(dir, "model.onnx");
    int r = p && cli_is_file(p);
    free(p);
    return r;
}

/* Adds the case at path, or the cases one level below it. Returns the number added, or
 * -1 after printing an error. */
static int collect(case_list *l, const char *path) {
    if (!cli_is_dir(path)) {
        if (cli_is_file(path))
            cli_error("test", "%s: not a test folder (expected a folder with model.onnx)", path);
        else
            cli_error("test", "%s: no such folder", path);
        return -1;
    }
    if (has_model(path)) return add_case(l, path) == 0 ? 1 : -1;
    DIR *d = opendir(path);
    if (!d) {
        cli_error("test", "%s: cannot open folder", path);
        return -1;
    }
    int added = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char *sub = cli_path_join(path, e->d_name);
        if (!sub) {
            closedir(d);
            cli_error("test", "out of memory");
            return -1;
        }
        if (cli_is_dir(sub) && has_model(sub)) {
            if (add_case(l, sub) != 0) {
                free(sub);
                closedir(d);
                cli_error("test", "out of memory");
                return -1;
            }
            added++;
        }
        free(sub);
    }
    closedir(d);
    if (added == 0) {
        cli_error("test", "%s: no test case (no model.onnx in it or in its subfolders)", path);
        return -1;
    }
    return added;
}

static int cmp_case(const void *a, const void *b) {
    const test_case *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->dir, y->dir);
}

/* test_data_set_2 before test_data_set_10: compare the numeric suffix first. */
static int cmp_data_set(const void *a, const void *b) {
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t pre = strlen("test_data_set_");
    char *ex = NULL, *ey = NULL;
    long nx = strtol(x + pre, &ex, 10), ny = strtol(y + pre, &ey, 10);
    if (*ex == '\0' && *ey == '\0' && nx != ny) return nx < ny ? -1 : 1;
    return strcmp(x, y);
}

/* Lists the test_data_set_* folders of dir (sorted, malloc'd names). Returns the count or
 * -1 (out of memory or unreadable folder). */
static int list_data_sets(const char *dir, char ***out) {
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **v = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "test_data_set_", 14) != 0) continue;
        char *sub = cli_path_join(dir, e->d_name);
        int ok = sub && cli_is_dir(sub);
        free(sub);
        if (!ok) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            char **nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) goto oom;
            v = nv;
        }
        size_t len = strlen(e->d_name);
        v[n] = malloc(len + 1);
        if (!v[n]) goto oom;
        memcpy(v[n++], e->d_name, len + 1);
    }
    closedir(d);
    if (n > 1) qsort(v, (size_t)n, sizeof *v, cmp_data_set);
    *out = v;
    return n;
oom:
    closedir(d);
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return -1;
}

/* ---- comparing ---- */

/* Writes element i of t exactly: integers without a detour through double. */
static void format_elem(const onyx_tensor *t, size_t i, char *buf, size_t len) {
    onyx_dtype dt = onyx_tensor_dtype(t);
    const unsigned char *p = onyx_tensor_data(t);
    if (dt == ONYX_DTYPE_INT64) {
        int64_t v;
        memcpy(&v, p + i * 8, 8);
        snprintf(buf, len, "%lld", (long long)v);
    } else if (dt == ONYX_DTYPE_UINT64) {
        uint64_t v;
        memcpy(&v, p + i * 8, 8);
        snprintf(buf, len, "%llu", (unsigned long long)v);
    } else if (dt == ONYX_DTYPE_FLOAT64) {
        snprintf(buf, len, "%.17g", cli_get_double(dt, p, i));
    } else if (cli_dtype_is_numeric(dt)) {
        snprintf(buf, len, "%.9g", cli_get_double(dt, p, i));
    } else {
        size_t esz = onyx_dtype_size(dt);
        size_t used = (size_t)snprintf(buf, len, "0x");
        for (size_t k = 0; k < esz && used + 2 < len; k++)
            used += (size_t)snprintf(buf + used, len - used, "%02x", p[i * esz + k]);
    }
}

/* Writes the multi-index of flat element i of t ("[0, 2, 1]"). */
static void format_index(const onyx_tensor *t, size_t i, char *buf, size_t len) {
    int rank = onyx_tensor_rank(t);
    size_t idx[16] = {0};
    for (int k = rank - 1; k >= 0 && k < 16; k--) {
        size_t d = (size_t)onyx_tensor_dim(t, k);
        idx[k] = d ? i % d : 0;
        i = d ? i / d : 0;
    }
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int k = 0; k < rank && k < 16 && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%zu", k ? ", " : "", idx[k]);
    if (used < len) snprintf(buf + used, len - used, "]");
}

static int same_shape(const onyx_tensor *a, const onyx_tensor *b) {
    int rank = onyx_tensor_rank(a);
    if (rank != onyx_tensor_rank(b)) return 0;
    for (int k = 0; k < rank; k++)
        if (onyx_tensor_dim(a, k) != onyx_tensor_dim(b, k)) return 0;
    return 1;
}

/* Compares output got with expected want. Returns 0 when they match, else 1 with the
 * reason (without the data set and output prefix) in msg. */
static int compare(const onyx_tensor *got, const onyx_tensor *want, const test_config *cfg,
                   char *msg, size_t len) {
    if (!got) {
        snprintf(msg, len, "no such output");
        return 1;
    }
    onyx_dtype dt = onyx_tensor_dtype(want);
    if (onyx_tensor_dtype(got) != dt) {
        snprintf(msg, len, "dtype %s, expected %s", onyx_dtype_name(onyx_tensor_dtype(got)),
                 onyx_dtype_name(dt));
        return 1;
    }
    if (!same_shape(got, want)) {
        char sg[256], sw[256];
        cli_format_shape(got, sg, sizeof sg);
        cli_format_shape(want, sw, sizeof sw);
        snprintf(msg, len, "shape %s, expected %s", sg, sw);
        return 1;
    }
    int64_t count = onyx_tensor_count(want);
    if (count <= 0) return 0;
    const void *g = onyx_tensor_data(got), *w = onyx_tensor_data(want);
    size_t esz = onyx_dtype_size(dt);
    if (!g || !w || esz == 0 || onyx_tensor_nbytes(got) < (size_t)count * esz ||
        onyx_tensor_nbytes(want) < (size_t)count * esz) {
        snprintf(msg, len, "no data to compare (dtype %s)", onyx_dtype_name(dt));
        return 1;
    }

    int64_t bad = 0, worst = -1;
    double worst_excess = -1.0, worst_tol = 0.0;
    if (cli_dtype_is_float(dt)) {
        for (int64_t i = 0; i < count; i++) {
            double a = cli_get_double(dt, g, (size_t)i), b = cli_get_double(dt, w, (size_t)i);
            double tol = cfg->atol + cfg->rtol * fabs(b), excess;
            if (isnan(b) || isinf(b) || isnan(a) || isinf(a)) {
                /* NaN only matches NaN; an infinity only the same infinity */
                int ok = (isnan(a) && isnan(b)) || (!isnan(a) && !isnan(b) && a == b);
                excess = ok ? -1.0 : INFINITY;
            } else {
                double diff = fabs(a - b); /* may overflow to inf: still a mismatch */
                excess = diff <= tol ? -1.0 : diff - tol;
            }
            if (excess >= 0) {
                bad++;
                if (excess > worst_excess) {
                    worst_excess = excess;
                    worst = i;
                    worst_tol = tol;
                }
            }
        }
    } else {
        /* integers, bools (and anything else): bit-exact */
        const unsigned char *pg = g, *pw = w;
        for (int64_t i = 0; i < count; i++) {
            if (memcmp(pg + (size_t)i * esz, pw + (size_t)i * esz, esz) != 0) {
                if (worst < 0) worst = i;
                bad++;
            }
        }
    }
    if (bad == 0) return 0;

    char vg[64], vw[64], idx[160];
    format_elem(got, (size_t)worst, vg, sizeof vg);
    format_elem(want, (size_t)worst, vw, sizeof vw);
    format_index(want, (size_t)worst, idx, sizeof idx);
    if (cli_dtype_is_float(dt)) {
        double a = cli_get_double(dt, g, (size_t)worst), b = cli_get_double(dt, w, (size_t)worst);
        snprintf(msg, len,
                 "%lld of %lld elements differ; worst at %s (element %lld): got %s, want %s, "
                 "|diff| %.3g > tolerance %.3g (atol %g + rtol %g * |want|)",
                 (long long)bad, (long long)count, idx, (long long)worst, vg, vw, fabs(a - b),
                 worst_tol, cfg->atol, cfg->rtol);
    } else {
        snprintf(msg, len,
                 "%lld of %lld elements differ (%s, compared exactly); first at %s "
                 "(element %lld): got %s, want %s",
                 (long long)bad, (long long)count, onyx_dtype_name(dt), idx, (long long)worst, vg,
                 vw);
    }
    return 1;
}

/* ---- running one case ---- */

/* Loads dir/prefix_K.pb for K = 0.. until a file is missing. Returns the count (tensors in
 * *out, malloc'd) or -1 with a message in msg. */
static int load_pbs(const char *dir, const char *prefix, onyx_tensor ***out, char *msg,
                    size_t len) {
    onyx_tensor **v = NULL;
    int n = 0;
    *out = NULL;
    for (;;) {
        char file[64];
        snprintf(file, sizeof file, "%s_%d.pb", prefix, n);
        char *path = cli_path_join(dir, file);
        if (!path) {
            snprintf(msg, len, "out of memory");
            goto fail;
        }
        if (!cli_is_file(path)) { /* the NumPy form of the same file */
            free(path);
            snprintf(file, sizeof file, "%s_%d.npy", prefix, n);
            path = cli_path_join(dir, file);
            if (!path) {
                snprintf(msg, len, "out of memory");
                goto fail;
            }
        }
        if (!cli_is_file(path)) {
            free(path);
            break;
        }
        onyx_tensor **nv = realloc(v, (size_t)(n + 1) * sizeof *nv);
        if (!nv) {
            free(path);
            snprintf(msg, len, "out of memory");
            goto fail;
        }
        v = nv;
        v[n] = NULL;
        char err[512] = "";
        onyx_status st = cli_tensor_load(path, &v[n], err, sizeof err);
        if (st != ONYX_OK) {
            snprintf(msg, len, "cannot read %s: %s", file, err[0] ? err : onyx_status_str(st));
            free(path);
            goto fail;
        }
        free(path);
        n++;
    }
    *out = v;
    return n;
fail:
    for (int i = 0; i < n; i++)
        onyx_tensor_free(v[i]);
    free(v);
    return -1;
}

static void free_pbs(onyx_tensor **v, int n) {
    for (int i = 0; i < n; i++)
        onyx_tensor_free(v[i]);
    free(v);
}

/* Runs one data set on session s. Returns 0 on a match, else 1 with the reason in msg. */
/* Writes the outputs of the run just made to out_dir/case/ds/output_K.<ext>. Returns 0, or
 * -1 with the reason in err. */
static int save_outputs(onyx_session *s, int n_out, const test_config *cfg, const char *case_name,
                        const char *ds, char *err, size_t len) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s/%s", cfg->out_dir, case_name, ds);
    if (cli_mkdirs(dir) != 0) {
        snprintf(err, len, "cannot create folder %.400s", dir);
        return -1;
    }
    for (int k = 0; k < n_out; k++) {
        char path[4200], why[512] = "";
        snprintf(path, sizeof path, "%s/output_%d.%s", dir, k, cfg->out_ext);
        onyx_status st = cli_tensor_save(onyx_session_output(s, k), path, why, sizeof why);
        if (st != ONYX_OK) {
            snprintf(err, len, "cannot write %.400s: %.400s", path,
                     why[0] ? why : onyx_status_str(st));
            return -1;
        }
    }
    return 0;
}

static int run_data_set(onyx_model *m, onyx_session *s, const char *case_dir,
                        const char *case_name, const char *ds, const test_config *cfg, char *msg,
                        size_t len) {
    char *dir = cli_path_join(case_dir, ds);
    onyx_tensor **ins = NULL, **outs = NULL;
    int n_ins = -1, n_outs = -1, rc = 1;
    int n_model_in = onyx_model_input_count(m), n_model_out = onyx_model_output_count(m);
    char *bound = NULL;
    char err[1024] = "";

    if (!dir) {
        snprintf(msg, len, "out of memory");
        return 1;
    }
    n_ins = load_pbs(dir, "input", &ins, err, sizeof err);
    if (n_ins < 0) goto done;
    n_outs = load_pbs(dir, "output", &outs, err, sizeof err);
    if (n_outs < 0) goto done;
    if (n_ins > n_model_in) {
        snprintf(err, sizeof err, "%d input files, but the model has %d inputs", n_ins, n_model_in);
        goto done;
    }
    if (n_outs == 0) {
        snprintf(err, sizeof err, "no output_K.pb files");
        goto done;
    }
    if (n_outs > n_model_out) {
        snprintf(err, sizeof err, "%d output files, but the model has %d outputs", n_outs,
                 n_model_out);
        goto done;
    }
    bound = calloc((size_t)(n_model_in > 0 ? n_model_in : 1), 1);
    if (!bound) {
        snprintf(err, sizeof err, "out of memory");
        goto done;
    }
    for (int k = 0; k < n_ins; k++) {
        /* a file that names a model input goes there; otherwise its position decides */
        const char *name = onyx_tensor_name(ins[k]);
        int idx = name && name[0] ? onyx_model_input_index(m, name) : -1;
        if (idx < 0) idx = k;
        if (bound[idx]) {
            snprintf(err, sizeof err, "input_%d.pb binds input %d, which is already bound", k, idx);
            goto done;
        }
        bound[idx] = 1;
        onyx_status st = cli_bind_tensor(s, idx, ins[k]);
        if (st != ONYX_OK) {
            const char *in_name = onyx_tensor_name(onyx_model_input(m, idx));
            snprintf(err, sizeof err, "binding input_%d.pb to input '%s' failed: %s", k,
                     in_name ? in_name : "?",
                     onyx_session_errmsg(s)[0] ? onyx_session_errmsg(s) : onyx_status_str(st));
            goto done;
        }
    }
    onyx_status st = onyx_session_run(s);
    if (st != ONYX_OK) {
        snprintf(err, sizeof err, "run failed: %s (%s)", onyx_session_errmsg(s),
                 onyx_status_str(st));
        goto done;
    }
    if (cfg->out_dir && save_outputs(s, n_model_out, cfg, case_name, ds, err, sizeof err) != 0)
        goto done;
    for (int k = 0; k < n_outs; k++) {
        const onyx_tensor *got = onyx_session_output(s, k);
        char why[768];
        if (compare(got, outs[k], cfg, why, sizeof why) != 0) {
            const char *oname = onyx_tensor_name(onyx_model_output(m, k));
            snprintf(err, sizeof err, "output %d '%s': %s", k, oname ? oname : "?", why);
            goto done;
        }
    }
    rc = 0;
done:
    if (rc) snprintf(msg, len, "%s: %s", ds, err);
    free(bound);
    if (n_ins > 0) free_pbs(ins, n_ins);
    if (n_outs > 0) free_pbs(outs, n_outs);
    free(dir);
    return rc;
}

/* Runs every data set of case c. Returns 0 on PASS, 1 on FAIL with the reason in msg. */
static int run_case(const test_case *c, const test_config *cfg, char *msg, size_t len) {
    char *model_path = cli_path_join(c->dir, "model.onnx");
    onyx_model *m = NULL;
    onyx_session *s = NULL;
    char **sets = NULL;
    int n_sets = 0, rc = 1;

    if (!model_path) {
        snprintf(msg, len, "out of memory");
        return 1;
    }
    onyx_status st = onyx_model_load_file(model_path, &m);
    if (st != ONYX_OK) {
        snprintf(msg, len, "load failed: %s (%s)", m ? onyx_model_errmsg(m) : "out of memory",
                 onyx_status_str(st));
        goto done;
    }
    st = onyx_session_create(m, cfg->opts, &s);
    if (st != ONYX_OK) {
        snprintf(msg, len, "session creation failed: %s (%s)",
                 s ? onyx_session_errmsg(s) : "out of memory", onyx_status_str(st));
        goto done;
    }
    n_sets = list_data_sets(c->dir, &sets);
    if (n_sets < 0) {
        snprintf(msg, len, "cannot list the data sets of %s", c->dir);
        n_sets = 0;
        goto done;
    }
    if (n_sets == 0) {
        snprintf(msg, len, "no test_data_set_* folder");
        goto done;
    }
    for (int i = 0; i < n_sets; i++)
        if (run_data_set(m, s, c->dir, c->name, sets[i], cfg, msg, len) != 0) goto done;
    rc = 0;
done:
    for (int i = 0; i < n_sets; i++)
        free(sets[i]);
    free(sets);
    onyx_session_free(s);
    onyx_model_free(m);
    free(model_path);
    return rc;
}

/* Writes s with the five XML entities escaped; control characters XML 1.0 forbids become
 * '?'. */
static void xml_escaped(FILE *f, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(*p < 0x20 && *p != '\t' && *p != '\n' ? '?' : *p, f);
        }
    }
}

/* The JUnit XML report: one <testcase> per case (classname: the folder that holds it),
 * a <failure> with the reason for each failed one. Returns 0, or -1 after an error. */
static int write_junit(const char *path, const case_list *cases, int failed, double seconds) {
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_error("test", "--junit: cannot create %s", path);
        return -1;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<testsuites name=\"onyx test\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
               "time=\"%.3f\">\n"
               "  <testsuite name=\"onyx test\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
               "skipped=\"0\" time=\"%.3f\">\n",
            cases->n, failed, seconds, cases->n, failed, seconds);
    for (int i = 0; i < cases->n; i++) {
        const test_case *c = &cases->v[i];
        /* classname: the parent folder's name ("node" for .../data/node/test_x) */
        const char *end = c->dir + strlen(c->dir) - strlen(c->name);
        if (end > c->dir) end--; /* the '/' before the name */
        const char *start = end;
        while (start > c->dir && start[-1] != '/') start--;
        fprintf(f, "    <testcase classname=\"onyx.");
        if (end > start) {
            char parent[256];
            snprintf(parent, sizeof parent, "%.*s", (int)(end - start), start);
            xml_escaped(f, parent);
        } else {
            fputs("cases", f);
        }
        fprintf(f, "\" name=\"");
        xml_escaped(f, c->name);
        fprintf(f, "\" time=\"%.6f\"", c->seconds);
        if (!c->failure) {
            fprintf(f, "/>\n");
            continue;
        }
        fprintf(f, ">\n      <failure message=\"");
        xml_escaped(f, c->failure);
        fprintf(f, "\" type=\"failure\">");
        xml_escaped(f, c->failure);
        fprintf(f, "</failure>\n    </testcase>\n");
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        cli_error("test", "--junit: cannot write %s", path);
        return -1;
    }
    return 0;
}

int cmd_test(int argc, char **argv) {
    test_config cfg = {1e-7, 1e-3, NULL, NULL, "pb"};
    const char *junit = NULL;
    long threads = 0;
    onyx_backend backend = ONYX_BACKEND_AUTO;
    const char **paths = calloc((size_t)argc, sizeof *paths);
    int n_paths = 0, rc = CLI_EXIT_USAGE, path_errors = 0;
    case_list cases = {0};

    if (!paths) {
        cli_error("test", "out of memory");
        return CLI_EXIT_FAIL;
    }
    int only_paths = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (only_paths) {
            paths[n_paths++] = argv[i];
            continue;
        }
        if (cli_is_help(argv[i])) {
            usage(stdout);
            rc = CLI_EXIT_OK;
            goto out;
        }
        if (strcmp(argv[i], "--") == 0) {
            only_paths = 1;
        } else if ((r = cli_opt_value("test", argc, argv, &i, "--atol", &v)) != 0) {
            if (r < 0 || cli_parse_tolerance("test", "--atol", v, &cfg.atol) != 0) goto out;
        } else if ((r = cli_opt_value("test", argc, argv, &i, "--rtol", &v)) != 0) {
            if (r < 0 || cli_parse_tolerance("test", "--rtol", v, &cfg.rtol) != 0) goto out;
        } else if ((r = cli_opt_value("test", argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || cli_parse_long("test", "--threads", v, 0, 4096, &threads) != 0) goto out;
        } else if ((r = cli_opt_value("test", argc, argv, &i, "--backend", &v)) != 0) {
            if (r < 0 || cli_parse_backend("test", v, &backend) != 0) goto out;
        } else if ((r = cli_opt_value("test", argc, argv, &i, "--junit", &v)) != 0) {
            if (r < 0) goto out;
            if (!v[0]) {
                cli_error("test", "--junit: empty file name");
                goto out;
            }
            junit = v;
        } else if ((r = cli_opt_value("test", argc, argv, &i, "--output-dir", &v)) != 0) {
            if (r < 0) goto out;
            if (!v[0]) {
                cli_error("test", "--output-dir: empty folder name");
                goto out;
            }
            cfg.out_dir = v;
        } else if ((r = cli_opt_value("test", argc, argv, &i, "--output-format", &v)) != 0) {
            if (r < 0) goto out;
            if (strcmp(v, "pb") != 0 && strcmp(v, "npy") != 0) {
                cli_error("test", "--output-format: expected pb or npy, got '%s'", v);
                goto out;
            }
            cfg.out_ext = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_error("test", "unknown option '%s'", argv[i]);
            usage(stderr);
            goto out;
        } else {
            paths[n_paths++] = argv[i];
        }
    }
    if (n_paths == 0) {
        cli_error("test", "missing PATH");
        usage(stderr);
        goto out;
    }
    rc = CLI_EXIT_FAIL;
    if (cli_make_options("test", (int)threads, backend, &cfg.opts) != 0) goto out;

    for (int i = 0; i < n_paths; i++)
        if (collect(&cases, paths[i]) < 0) path_errors++;
    if (cases.n == 0) {
        cli_error("test", "no test cases found");
        goto out;
    }
    qsort(cases.v, (size_t)cases.n, sizeof *cases.v, cmp_case);

    int passed = 0, failed = 0;
    double t_all = cli_now();
    for (int i = 0; i < cases.n; i++) {
        char msg[2048] = "";
        double t0 = cli_now();
        int bad = run_case(&cases.v[i], &cfg, msg, sizeof msg);
        cases.v[i].seconds = cli_now() - t0;
        if (!bad) {
            printf("PASS %s\n", cases.v[i].name);
            passed++;
        } else {
            printf("FAIL %s: %s\n", cases.v[i].name, msg);
            failed++;
            size_t len = strlen(msg);
            cases.v[i].failure = malloc(len + 1);
            if (cases.v[i].failure) memcpy(cases.v[i].failure, msg, len + 1);
        }
        fflush(stdout); /* progress shows up even when a long suite is piped */
    }
    printf("%d passed, %d failed\n", passed, failed);
    int junit_failed = junit && write_junit(junit, &cases, failed, cli_now() - t_all) != 0;
    if (path_errors)
        cli_error("test", "%d path%s could not be used (see above)", path_errors,
                  path_errors == 1 ? "" : "s");
    rc = failed == 0 && path_errors == 0 && !junit_failed ? CLI_EXIT_OK : CLI_EXIT_FAIL;

out:
    for (int i = 0; i < cases.n; i++) {
        free(cases.v[i].name);
        free(cases.v[i].dir);
        free(cases.v[i].failure);
    }
    free(cases.v);
    onyx_options_free(cfg.opts);
    free(paths);
    return rc;
}
