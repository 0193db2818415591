/*
 * `onyx bench MODEL`: times model loading, session creation, the first run (which pays
 * for planning and kernel preparation) and then steady-state runs after warm-up, and
 * reports min/median/mean/p90, peak RSS and the arena size, as text or one JSON object.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli_util.h"

static void usage(FILE *f) {
    fprintf(f, "usage: onyx bench [options] MODEL\n"
               "\n"
               "Measures load time, session creation time, first-run time, then the time of\n"
               "each of --iters runs after --warmup runs (min/median/mean/p90), peak RSS and\n"
               "arena bytes. Inputs are seeded random data as in `onyx run`.\n"
               "\n"
               "options:\n"
               "  --iters N            timed runs (default 10, at least 1)\n"
               "  --warmup N           untimed runs before them (default 2)\n"
               "  --threads N          kernel threads (0 = default)\n"
               "  --backend auto|ref   kernel selection (ref = plain C reference kernels)\n"
               "  --input NAME=FILE.pb read input NAME from a TensorProto file (repeatable)\n"
               "  --seed S             seed of the random inputs (default 1)\n"
               "  --json               print one JSON object instead of text\n"
               "  -h, --help           show this help\n");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Peak resident set size in KiB: ru_maxrss is KiB on Linux. */
static long peak_rss_kib(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_maxrss > 0) return ru.ru_maxrss;
    FILE *f = fopen("/proc/self/status", "r");
    long kib = -1;
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "VmHWM:", 6) == 0) kib = strtol(line + 6, NULL, 10);
        fclose(f);
    }
    return kib;
}

/* Prints s as a JSON string literal. */
static void json_string(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

int cmd_bench(int argc, char **argv) {
    long iters = 10, warmup = 2;
    int json = 0, rc = CLI_EXIT_USAGE;
    cli_model_args a;
    onyx_model *m = NULL;
    onyx_options *o = NULL;
    onyx_session *s = NULL;
    cli_inputs in = {0};
    double *times = NULL;

    if (cli_model_args_init("bench", argc, &a) != 0) return CLI_EXIT_FAIL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) {
            usage(stdout);
            rc = CLI_EXIT_OK;
            goto out;
        }
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if ((r = cli_opt_value("bench", argc, argv, &i, "--iters", &v)) != 0) {
            if (r < 0 || cli_parse_long("bench", "--iters", v, 1, 100000000, &iters) != 0) goto out;
        } else if ((r = cli_opt_value("bench", argc, argv, &i, "--warmup", &v)) != 0) {
            if (r < 0 || cli_parse_long("bench", "--warmup", v, 0, 100000000, &warmup) != 0)
                goto out;
        } else if (cli_model_arg("bench", argc, argv, &i, &a, usage) != 0) {
            goto out;
        }
    }
    if (cli_model_args_done("bench", &a, usage) != 0) goto out;

    rc = CLI_EXIT_FAIL;
    times = malloc((size_t)iters * sizeof *times);
    if (!times) {
        cli_error("bench", "out of memory for %ld timings", iters);
        goto out;
    }
    double t0 = cli_now();
    m = cli_load_model("bench", a.path, 0);
    double t_load = cli_now() - t0;
    if (!m) goto out;
    if (cli_make_options("bench", (int)a.threads, a.backend, &o) != 0) goto out;
    t0 = cli_now();
    onyx_status st = onyx_session_create(m, o, &s);
    double t_create = cli_now() - t0;
    if (st != ONYX_OK) {
        cli_error("bench", "cannot create a session: %s",
                  s ? onyx_session_errmsg(s) : "out of memory");
        goto out;
    }
    if (cli_bind_inputs("bench", m, s, a.specs, a.n_specs, a.seed, &in) != 0) goto out;

    t0 = cli_now();
    st = onyx_session_run(s);
    double t_first = cli_now() - t0;
    for (long i = 0; st == ONYX_OK && i < warmup; i++)
        st = onyx_session_run(s);
    for (long i = 0; st == ONYX_OK && i < iters; i++) {
        t0 = cli_now();
        st = onyx_session_run(s);
        times[i] = cli_now() - t0;
    }
    if (st != ONYX_OK) {
        cli_error("bench", "run failed: %s (%s)", onyx_session_errmsg(s), onyx_status_str(st));
        goto out;
    }

    double sum = 0;
    for (long i = 0; i < iters; i++)
        sum += times[i];
    qsort(times, (size_t)iters, sizeof *times, cmp_double);
    double t_min = times[0], t_mean = sum / (double)iters;
    double t_med = iters % 2 ? times[iters / 2] : 0.5 * (times[iters / 2 - 1] + times[iters / 2]);
    /* p90 by nearest rank: the smallest time at or above 90% of the runs */
    long r90 = (iters * 90 + 99) / 100;
    double t_p90 = times[(r90 > 0 ? r90 : 1) - 1];
    long rss = peak_rss_kib();
    size_t arena = onyx_session_arena_bytes(s);
    const char *bname = a.backend == ONYX_BACKEND_REFERENCE ? "ref" : "auto";

    if (json) {
        printf("{\"model\": ");
        json_string(a.path);
        printf(", \"backend\": \"%s\", \"threads\": %ld, \"iters\": %ld, \"warmup\": %ld, "
               "\"load_ms\": %.6f, \"create_ms\": %.6f, \"first_run_ms\": %.6f, "
               "\"min_ms\": %.6f, \"median_ms\": %.6f, \"mean_ms\": %.6f, \"p90_ms\": %.6f, "
               "\"peak_rss_kb\": %ld, \"arena_bytes\": %zu, \"symbolic_dims_as_1\": %s}\n",
               bname, a.threads, iters, warmup, t_load * 1e3, t_create * 1e3, t_first * 1e3,
               t_min * 1e3, t_med * 1e3, t_mean * 1e3, t_p90 * 1e3, rss, arena,
               in.symbolic ? "true" : "false");
    } else {
        printf("model: %s\n", a.path);
        printf("backend: %s, threads: %ld%s\n", bname, a.threads, a.threads ? "" : " (default)");
        if (in.symbolic) printf("note: symbolic input dims taken as 1\n");
        printf("load:          %12.4f ms\n", t_load * 1e3);
        printf("session:       %12.4f ms\n", t_create * 1e3);
        printf("first run:     %12.4f ms\n", t_first * 1e3);
        printf("runs (%ld after %ld warm-up):\n", iters, warmup);
        printf("  min:         %12.4f ms\n", t_min * 1e3);
        printf("  median:      %12.4f ms\n", t_med * 1e3);
        printf("  mean:        %12.4f ms\n", t_mean * 1e3);
        printf("  p90:         %12.4f ms\n", t_p90 * 1e3);
        printf("peak RSS:      %12ld KiB\n", rss);
        printf("arena:         %12zu bytes\n", arena);
    }
    rc = CLI_EXIT_OK;

out:
    free(times);
    cli_inputs_free(&in);
    onyx_session_free(s);
    onyx_options_free(o);
    onyx_model_free(m);
    free(a.specs);
    return rc;
}
