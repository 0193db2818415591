/*
 * `onyx bench MODEL`: times model loading, session creation, the first run (which pays
 * for planning and kernel preparation) and then steady-state runs after warm-up, and
 * reports min/median/mean/p90, peak RSS and the arena size, as text or one JSON object,
 * with the model's FLOPs per run and the throughput they give at the median time.
 * With --profile or --top the timed runs are profiled per step: a Chrome trace file and/or
 * the N costliest steps with their share of the time and GFLOP/s.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli_util.h"
#include "views.h"

static void usage(FILE *f) {
    fprintf(f, "usage: onyx bench [options] MODEL\n"
               "\n"
               "Measures load time, session creation time, first-run time, then the time of\n"
               "each of --iters runs after --warmup runs (min/median/mean/p90), peak RSS and\n"
               "arena bytes. Inputs are seeded random data as in `onyx run`. FLOPs per run\n"
               "are 2 x the multiply-adds of Conv, ConvTranspose, MatMul and Gemm (other ops\n"
               "not counted); GFLOP/s divides them by the median run time.\n"
               "\n"
               "options:\n"
               "  --iters N            timed runs (default 10, at least 1)\n"
               "  --warmup N           untimed runs before them (default 2)\n"
               "  --threads N          kernel threads (0 = default)\n"
               "  --backend auto|ref   kernel selection (ref = plain C reference kernels)\n"
               "  --select static|measure\n"
               "                       per-node kernel choice: the first that accepts, or the\n"
               "                       fastest when timed at session creation (default: env\n"
               "                       ONYX_KERNEL_SELECTION, else measure)\n"
               "  --input NAME=FILE    read input NAME from a .pb or .npy file (repeatable)\n"
               "  --seed S             seed of the random inputs (default 1)\n"
               "  --json               print one JSON object instead of text\n"
               "  --profile FILE.json  profile the timed runs; write a Chrome trace (open it in\n"
               "                       https://ui.perfetto.dev or chrome://tracing)\n"
               "  --top N              print the N costliest steps of the timed runs: time,\n"
               "                       share of the total and GFLOP/s\n"
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

static void json_string(const char *s) {
    cli_json_string(stdout, s);
}

/* FLOPs of one run as commonly quoted for a model: 2 x the multiply-adds of its Conv,
 * ConvTranspose, MatMul and Gemm steps, also when such a node hosts a fused chain.
 * onyx_session_step_flops also estimates element-wise ops, which would make the figure
 * incomparable with published ones, so only those four op types are summed. A reorder step
 * is attributed to the node that consumes its output but does no arithmetic, so it is
 * skipped whatever its node. Nodes folded at plan time cost nothing per run. */
static double model_flops(const onyx_model *m, const onyx_session *s) {
    static const char *const counted[] = {"Conv", "ConvTranspose", "MatMul", "Gemm"};
    double total = 0;
    int n_steps = onyx_session_step_count(s);
    for (int i = 0; i < n_steps; i++) {
        const char *impl = onyx_session_step_impl(s, i);
        const char *op = onyx_model_node_op_type(m, onyx_session_step_node(s, i));
        if (!op || (impl && strcmp(impl, "reorder") == 0)) continue;
        /* a fused step is named after its chain, host first ("Conv+Relu"); the host is
         * what the estimate is of */
        size_t len = strcspn(op, "+");
        for (size_t k = 0; k < sizeof counted / sizeof counted[0]; k++) {
            if (strlen(counted[k]) != len || strncmp(op, counted[k], len) != 0) continue;
            double f = onyx_session_step_flops(s, i);
            if (f > 0) total += f;
        }
    }
    return total;
}

typedef struct step_cost {
    int step;
    int64_t ns; /* summed over the profiled runs */
} step_cost;

static int by_cost_desc(const void *a, const void *b) {
    const step_cost *x = a, *y = b;
    if (x->ns != y->ns) return x->ns > y->ns ? -1 : 1;
    return x->step - y->step;
}

/* Prints (text or JSON "top" array) the n costliest steps of the profiled runs. */
static int print_top(onyx_model *m, onyx_session *s, long n, int json) {
    int n_steps = onyx_session_step_count(s);
    int64_t runs = onyx_session_profile_runs(s);
    step_cost *c = calloc((size_t)(n_steps > 0 ? n_steps : 1), sizeof *c);
    if (!c) return -1;
    int64_t total = 0;
    for (int i = 0; i < n_steps; i++) {
        c[i].step = i;
        c[i].ns = onyx_session_step_time_ns(s, i);
        total += c[i].ns > 0 ? c[i].ns : 0;
    }
    qsort(c, (size_t)n_steps, sizeof *c, by_cost_desc);
    if (n > n_steps) n = n_steps;
    if (!json)
        printf("top %ld of %d steps (%lld profiled runs):\n"
               "  %-24s %-18s %-5s %10s %7s %9s  %s\n",
               n, n_steps, (long long)runs, "node", "op", "impl", "ms/run", "share", "GFLOP/s",
               "kernel");
    for (long k = 0; k < n; k++) {
        int i = c[k].step, node = onyx_session_step_node(s, i);
        double per_run = runs > 0 ? (double)c[k].ns / (double)runs : 0; /* ns */
        double share = total > 0 ? 100.0 * (double)c[k].ns / (double)total : 0;
        double flops = onyx_session_step_flops(s, i);
        double gflops = per_run > 0 && flops > 0 ? flops / per_run : 0; /* flop/ns = GFLOP/s */
        const char *name = onyx_model_node_name(m, node);
        char label[256];
        if (name && name[0])
            snprintf(label, sizeof label, "%s", name);
        else
            snprintf(label, sizeof label, "#%d", node);
        if (json) {
            printf("%s{\"node\": ", k ? ", " : "");
            json_string(label);
            printf(", \"op\": ");
            json_string(onyx_model_node_op_type(m, node));
            printf(", \"impl\": ");
            json_string(onyx_session_step_impl(s, i));
            if (onyx_session_step_kernel(s, i)) { /* when the implementation names one */
                printf(", \"kernel\": ");
                json_string(onyx_session_step_kernel(s, i));
            }
            printf(", \"ms_per_run\": %.6f, \"share_percent\": %.3f, \"flops\": %.0f, "
                   "\"gflops_per_s\": %.4f}",
                   per_run / 1e6, share, flops, gflops);
        } else {
            printf("  %-24s %-18s %-5s %10.4f %6.1f%% ", label, onyx_model_node_op_type(m, node),
                   onyx_session_step_impl(s, i), per_run / 1e6, share);
            const char *kernel = onyx_session_step_kernel(s, i);
            if (flops > 0)
                printf("%9.3f", gflops);
            else
                printf("%9s", "-");
            printf("  %s\n", kernel ? kernel : "");
        }
    }
    free(c);
    return 0;
}

int cmd_bench(int argc, char **argv) {
    long iters = 10, warmup = 2, top = 0;
    const char *profile = NULL;
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
        } else if ((r = cli_opt_value("bench", argc, argv, &i, "--profile", &v)) != 0) {
            if (r < 0) goto out;
            if (!v[0]) {
                cli_error("bench", "--profile: empty file name");
                goto out;
            }
            profile = v;
        } else if ((r = cli_opt_value("bench", argc, argv, &i, "--top", &v)) != 0) {
            if (r < 0 || cli_parse_long("bench", "--top", v, 1, 1000000, &top) != 0) goto out;
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
    if (cli_make_options("bench", (int)a.threads, a.backend, &o) != 0 ||
        cli_set_selection("bench", o, a.select) != 0)
        goto out;
    if ((profile || top) && onyx_options_set_profiling(o, 1) != ONYX_OK) {
        cli_error("bench", "cannot turn profiling on");
        goto out;
    }
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
    if (st == ONYX_OK && (profile || top)) onyx_session_profile_reset(s); /* timed runs only */
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
    size_t arena = onyx_session_arena_bytes(s), intermediates = onyx_session_intermediate_bytes(s);
    /* the selection in force: --select, else ONYX_KERNEL_SELECTION, else measure */
    const char *env_sel = getenv("ONYX_KERNEL_SELECTION");
    int is_static = a.select >= 0 ? a.select == ONYX_SELECT_STATIC
                                  : env_sel && strcmp(env_sel, "static") == 0;
    const char *sname = is_static ? "static" : "measure";
    double flops = model_flops(m, s);
    double gflops = t_med > 0 ? flops / t_med / 1e9 : 0;
    const char *bname = a.backend == ONYX_BACKEND_REFERENCE ? "ref" : "auto";

    if (json) {
        printf("{\"model\": ");
        json_string(a.path);
        printf(", \"backend\": \"%s\", \"threads\": %ld, \"iters\": %ld, \"warmup\": %ld, "
               "\"load_ms\": %.6f, \"create_ms\": %.6f, \"first_run_ms\": %.6f, "
               "\"min_ms\": %.6f, \"median_ms\": %.6f, \"mean_ms\": %.6f, \"p90_ms\": %.6f, "
               "\"peak_rss_kb\": %ld, \"arena_bytes\": %zu, \"intermediate_bytes\": %zu, "
               "\"select\": \"%s\", \"symbolic_dims_as_1\": %s, "
               "\"flops\": %.0f, \"gflop\": %.6f, \"gflops_per_s\": %.4f",
               bname, a.threads, iters, warmup, t_load * 1e3, t_create * 1e3, t_first * 1e3,
               t_min * 1e3, t_med * 1e3, t_mean * 1e3, t_p90 * 1e3, rss, arena, intermediates,
               sname, in.symbolic ? "true" : "false", flops, flops / 1e9, gflops);
        if (profile) {
            printf(", \"profile\": ");
            json_string(profile);
        }
        if (top) {
            printf(", \"top\": [");
            if (print_top(m, s, top, 1) != 0) goto oom;
            printf("]");
        }
        printf("}\n");
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
        printf("arena:         %12zu bytes (intermediates %zu bytes; kernel selection %s)\n",
               arena, intermediates, sname);
        printf("FLOPs:         %12.0f per run (%.4f GFLOP in Conv/ConvTranspose/MatMul/Gemm)\n",
               flops, flops / 1e9);
        printf("throughput:    %12.4f GFLOP/s (at the median)\n", gflops);
        if (top && print_top(m, s, top, 0) != 0) goto oom;
    }
    if (profile) {
        if (onyx_session_profile_write(s, profile) != ONYX_OK) {
            cli_error("bench", "--profile: %s", onyx_session_errmsg(s));
            goto out;
        }
        if (!json)
            printf("profile:       %s (%lld runs, Chrome trace format)\n", profile,
                   (long long)onyx_session_profile_runs(s));
    }
    rc = CLI_EXIT_OK;
    goto out;
oom:
    cli_error("bench", "out of memory");

out:
    free(times);
    cli_inputs_free(&in);
    onyx_session_free(s);
    onyx_options_free(o);
    onyx_model_free(m);
    free(a.specs);
    return rc;
}
