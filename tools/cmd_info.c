/*
 * `onyx info MODEL`: what a model is made of (metadata, opsets, inputs/outputs, op
 * histogram, weights), which of its ops this build cannot run, and how much memory a
 * session plans for it; with --plan the plan itself (steps, tensor placement, an SVG
 * chart with --svg), with --dot the planned graph as Graphviz DOT, with --json all of it as
 * JSON. The model is loaded with ONYX_LOAD_ALLOW_UNSUPPORTED so that a model onyx cannot
 * run can still be inspected.
 */
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "views.h"

static void usage(FILE *f) {
    fprintf(f, "usage: onyx info [options] MODEL\n"
               "\n"
               "Describes an ONNX model: IR version, producer, opset imports, inputs and\n"
               "outputs (dtype and shape, '?' for symbolic dims), an op histogram, the number\n"
               "and size of parameters, ops this build cannot run, and the planned memory\n"
               "arena next to the sum of all intermediate tensor sizes.\n"
               "\n"
               "Symbolic input dims are taken as 1 for planning.\n"
               "\n"
               "options:\n"
               "  --plan       also print the memory plan: each step (node, op, implementation,\n"
               "               layout, shapes) and each arena tensor (offset, size, the steps it\n"
               "               is alive, the tensors it shares memory with)\n"
               "  --svg FILE   write an SVG chart of arena use over the execution order\n"
               "  --dot        print only the planned graph as Graphviz DOT (folded nodes\n"
               "               dashed, fused nodes bold, shapes on edges): onyx info --dot M |\n"
               "               dot -Tsvg > graph.svg\n"
               "  --json       print the description (and the plan with --plan) as JSON\n"
               "  --select static|measure\n"
               "               how the planned session picks each node's kernel (default: env\n"
               "               ONYX_KERNEL_SELECTION, else measure: the fastest when timed)\n"
               "  -h, --help   show this help\n");
}

typedef struct op_count {
    const char *op; /* borrowed: model */
    int count;
    int unsupported; /* nodes of this op without an implementation */
} op_count;

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Histogram order: most frequent first, ties by name so the output is stable. */
static int cmp_op_count(const void *a, const void *b) {
    const op_count *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->op, y->op);
}

static void print_values(const char *title, const onyx_model *m, int n,
                         const onyx_tensor *(*get)(const onyx_model *, int)) {
    printf("%s (%d):\n", title, n);
    for (int i = 0; i < n; i++) {
        const onyx_tensor *t = get(m, i);
        char shape[256];
        cli_format_shape(t, shape, sizeof shape);
        const char *name = onyx_tensor_name(t);
        printf("  %s: %s %s\n", name ? name : "?", onyx_dtype_name(onyx_tensor_dtype(t)), shape);
    }
}

/* Builds the op histogram; returns the number of distinct ops or -1 when out of memory.
 * *out is malloc'd. */
static int op_histogram(const onyx_model *m, int n_nodes, op_count **out) {
    *out = NULL;
    if (n_nodes <= 0) return 0;
    const char **ops = malloc((size_t)n_nodes * sizeof *ops);
    op_count *hist = malloc((size_t)n_nodes * sizeof *hist);
    if (!ops || !hist) {
        free(ops);
        free(hist);
        return -1;
    }
    for (int i = 0; i < n_nodes; i++) {
        const char *op = onyx_model_node_op_type(m, i);
        ops[i] = op ? op : "?";
    }
    qsort(ops, (size_t)n_nodes, sizeof *ops, cmp_str_ptr);
    int n = 0;
    for (int i = 0; i < n_nodes; i++) {
        if (n == 0 || strcmp(hist[n - 1].op, ops[i]) != 0) {
            hist[n].op = ops[i];
            hist[n].count = 0;
            hist[n].unsupported = 0;
            n++;
        }
        hist[n - 1].count++;
    }
    /* unsupported counts: per node, find its entry (distinct ops are few) */
    for (int i = 0; i < n_nodes; i++) {
        if (onyx_model_node_supported(m, i) != 0) continue;
        const char *op = onyx_model_node_op_type(m, i);
        for (int k = 0; k < n; k++)
            if (strcmp(hist[k].op, op ? op : "?") == 0) hist[k].unsupported++;
    }
    free(ops);
    qsort(hist, (size_t)n, sizeof *hist, cmp_op_count);
    *out = hist;
    return n;
}

/* A session planned for zero-filled inputs (symbolic dims as 1). Returns the session (free
 * it; NULL only when out of memory) with err[0] != 0 when planning failed; *bufs holds the
 * bound inputs (free each data and the array). */
static onyx_session *plan_session(onyx_model *m, int select, cli_buffer **bufs_out, int *symbolic,
                                  char *err, size_t errlen) {
    onyx_session *s = NULL;
    int n_in = onyx_model_input_count(m);
    cli_buffer *bufs = NULL;
    *symbolic = 0;
    err[0] = '\0';
    onyx_options *o = NULL;
    onyx_status st = onyx_options_create(&o);
    if (st == ONYX_OK && select >= 0)
        st = onyx_options_set_kernel_selection(o, (onyx_kernel_selection)select);
    if (st == ONYX_OK) st = onyx_session_create(m, o, &s);
    onyx_options_free(o);
    if (st != ONYX_OK) {
        snprintf(err, errlen, "session creation failed: %s",
                 s ? onyx_session_errmsg(s) : "out of memory");
        goto done;
    }
    bufs = calloc((size_t)(n_in > 0 ? n_in : 1), sizeof *bufs);
    if (!bufs) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < n_in; i++) {
        if (cli_make_input(onyx_model_input(m, i), NULL, &bufs[i], symbolic, err, errlen) != 0)
            goto done;
        st = onyx_session_bind_input(s, i, bufs[i].dtype, bufs[i].dims, bufs[i].rank, bufs[i].data,
                                     bufs[i].nbytes);
        if (st != ONYX_OK) {
            snprintf(err, errlen, "binding input %d failed: %s", i, onyx_session_errmsg(s));
            goto done;
        }
    }
    st = onyx_session_prepare(s);
    if (st != ONYX_OK) snprintf(err, errlen, "planning failed: %s", onyx_session_errmsg(s));
done:
    *bufs_out = bufs;
    return s;
}

static void free_bufs(cli_buffer *bufs, int n) {
    for (int i = 0; bufs && i < n; i++) free(bufs[i].data);
    free(bufs);
}

static void print_memory(onyx_session *s, const char *err, int symbolic) {
    if (err[0]) {
        printf("memory: n/a (%s)\n", err);
        return;
    }
    printf("memory%s:\n", symbolic ? " (symbolic dims taken as 1)" : "");
    printf("  arena: %zu bytes\n", onyx_session_arena_bytes(s));
    printf("  intermediates: %zu bytes (sum of all intermediate tensors)\n",
           onyx_session_intermediate_bytes(s));
}

static void json_values(const onyx_model *m, int n, const onyx_tensor *(*get)(const onyx_model *, int)) {
    printf("[");
    for (int i = 0; i < n; i++) {
        const onyx_tensor *t = get(m, i);
        printf("%s{\"name\": ", i ? ", " : "");
        cli_json_string(stdout, onyx_tensor_name(t));
        printf(", \"dtype\": \"%s\", \"shape\": ", onyx_dtype_name(onyx_tensor_dtype(t)));
        cli_json_shape(stdout, t);
        printf("}");
    }
    printf("]");
}

/* The description as one JSON object (with the plan when with_plan). */
static void print_json(onyx_model *m, onyx_session *s, const char *path, const char *err,
                       int symbolic, int with_plan) {
    printf("{\"model\": ");
    cli_json_string(stdout, path);
    printf(", \"ir_version\": %lld, \"producer\": ", (long long)onyx_model_ir_version(m));
    cli_json_string(stdout, onyx_model_producer(m));
    printf(", \"producer_version\": ");
    cli_json_string(stdout, onyx_model_producer_version(m));
    printf(", \"graph\": ");
    cli_json_string(stdout, onyx_model_graph_name(m));
    printf(", \"opsets\": {");
    for (int i = 0; i < onyx_model_opset_count(m); i++) {
        const char *d = onyx_model_opset_domain(m, i);
        printf("%s", i ? ", " : "");
        cli_json_string(stdout, d && d[0] ? d : "ai.onnx");
        printf(": %lld", (long long)onyx_model_opset_version(m, i));
    }
    printf("}, \"inputs\": ");
    json_values(m, onyx_model_input_count(m), onyx_model_input);
    printf(", \"outputs\": ");
    json_values(m, onyx_model_output_count(m), onyx_model_output);
    int n_nodes = onyx_model_node_count(m);
    op_count *hist = NULL;
    int n_ops = op_histogram(m, n_nodes, &hist);
    printf(", \"nodes\": %d, \"ops\": {", n_nodes);
    for (int k = 0; k < n_ops; k++) {
        printf("%s", k ? ", " : "");
        cli_json_string(stdout, hist[k].op);
        printf(": %d", hist[k].count);
    }
    printf("}, \"unsupported_ops\": [");
    for (int k = 0, any = 0; k < n_ops; k++)
        if (hist[k].unsupported > 0) {
            printf("%s", any++ ? ", " : "");
            cli_json_string(stdout, hist[k].op);
        }
    free(hist);
    unsigned long long params = 0, param_bytes = 0;
    int n_init = onyx_model_initializer_count(m);
    for (int i = 0; i < n_init; i++) {
        const onyx_tensor *t = onyx_model_initializer(m, i);
        if (onyx_tensor_count(t) > 0) params += (unsigned long long)onyx_tensor_count(t);
        param_bytes += onyx_tensor_nbytes(t);
    }
    printf("], \"parameters\": %llu, \"parameter_bytes\": %llu, \"initializers\": %d, ", params,
           param_bytes, n_init < 0 ? 0 : n_init);
    printf("\"symbolic_dims_as_1\": %s, \"memory\": ", symbolic ? "true" : "false");
    if (err[0]) {
        printf("{\"error\": ");
        cli_json_string(stdout, err);
        printf("}");
    } else {
        printf("{\"arena_bytes\": %zu, \"intermediate_bytes\": %zu}", onyx_session_arena_bytes(s),
               onyx_session_intermediate_bytes(s));
    }
    if (with_plan && !err[0]) {
        printf(", \"plan\": ");
        view_plan_json(stdout, m, s);
    }
    printf("}\n");
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL, *svg = NULL;
    int want_plan = 0, want_dot = 0, want_json = 0, select = -1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--plan") == 0) {
            want_plan = 1;
            continue;
        }
        if (strcmp(argv[i], "--dot") == 0) {
            want_dot = 1;
            continue;
        }
        if (strcmp(argv[i], "--json") == 0) {
            want_json = 1;
            continue;
        }
        if ((r = cli_opt_value("info", argc, argv, &i, "--select", &v)) != 0) {
            if (r < 0 || cli_parse_selection("info", v, &select) != 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((r = cli_opt_value("info", argc, argv, &i, "--svg", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (!v[0]) {
                cli_error("info", "--svg: empty file name");
                return CLI_EXIT_USAGE;
            }
            svg = v;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_error("info", "unknown option '%s'", argv[i]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
        if (path) {
            cli_error("info", "expected one MODEL, got '%s' and '%s'", path, argv[i]);
            return CLI_EXIT_USAGE;
        }
        path = argv[i];
    }
    if (!path) {
        cli_error("info", "missing MODEL");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }

    if (want_dot && (want_json || want_plan)) {
        cli_error("info", "--dot prints only the graph: it cannot be combined with --json or "
                          "--plan");
        return CLI_EXIT_USAGE;
    }

    onyx_model *m = cli_load_model("info", path, ONYX_LOAD_ALLOW_UNSUPPORTED);
    if (!m) return CLI_EXIT_FAIL;
    cli_buffer *bufs = NULL;
    int symbolic = 0, rc = CLI_EXIT_OK;
    char err[512];
    onyx_session *s = plan_session(m, select, &bufs, &symbolic, err, sizeof err);
    if (!s) {
        cli_error("info", "out of memory");
        onyx_model_free(m);
        return CLI_EXIT_FAIL;
    }
    if (svg && (err[0] || view_plan_svg(svg, m, s) != 0)) {
        cli_error("info", "--svg: cannot write %s%s%s", svg, err[0] ? ": " : "", err);
        rc = CLI_EXIT_FAIL;
    }
    if (want_dot || want_json) {
        if (want_dot) {
            if (err[0]) fprintf(stderr, "onyx info: note: %s; the graph is shown unplanned\n", err);
            view_dot(stdout, m, s);
        } else {
            print_json(m, s, path, err, symbolic, want_plan);
        }
        goto out;
    }

    printf("model: %s\n", path);
    printf("ir version: %lld\n", (long long)onyx_model_ir_version(m));
    const char *prod = onyx_model_producer(m), *prod_ver = onyx_model_producer_version(m);
    printf("producer: %s%s%s\n", prod && prod[0] ? prod : "(none)",
           prod_ver && prod_ver[0] ? " " : "", prod_ver ? prod_ver : "");
    const char *gname = onyx_model_graph_name(m);
    printf("graph: %s\n", gname && gname[0] ? gname : "(unnamed)");

    int n_opsets = onyx_model_opset_count(m);
    printf("opsets:");
    for (int i = 0; i < n_opsets; i++) {
        const char *dom = onyx_model_opset_domain(m, i);
        printf("%s %s %lld", i ? "," : "", dom && dom[0] ? dom : "ai.onnx",
               (long long)onyx_model_opset_version(m, i));
    }
    printf("%s\n", n_opsets > 0 ? "" : " (none)");

    print_values("inputs", m, onyx_model_input_count(m), onyx_model_input);
    print_values("outputs", m, onyx_model_output_count(m), onyx_model_output);

    int n_nodes = onyx_model_node_count(m);
    op_count *hist = NULL;
    int n_ops = op_histogram(m, n_nodes, &hist);
    if (n_ops < 0) {
        cli_error("info", "out of memory");
        onyx_model_free(m);
        return CLI_EXIT_FAIL;
    }
    printf("ops (%d nodes, %d distinct):\n", n_nodes < 0 ? 0 : n_nodes, n_ops);
    for (int k = 0; k < n_ops; k++)
        printf("  %s: %d\n", hist[k].op, hist[k].count);

    /* weights: element count and bytes summed over initializers */
    int n_init = onyx_model_initializer_count(m);
    unsigned long long params = 0, param_bytes = 0;
    for (int i = 0; i < n_init; i++) {
        const onyx_tensor *t = onyx_model_initializer(m, i);
        int64_t c = onyx_tensor_count(t);
        if (c > 0) params += (unsigned long long)c;
        param_bytes += onyx_tensor_nbytes(t);
    }
    printf("parameters: %llu (%llu bytes) in %d initializers\n", params, param_bytes,
           n_init < 0 ? 0 : n_init);

    int n_unsup = 0;
    for (int k = 0; k < n_ops; k++)
        n_unsup += hist[k].unsupported > 0;
    if (n_unsup == 0) {
        printf("unsupported ops: none\n");
    } else {
        printf("unsupported ops (%d):\n", n_unsup);
        for (int k = 0; k < n_ops; k++)
            if (hist[k].unsupported > 0)
                printf("  %s: %d node%s\n", hist[k].op, hist[k].unsupported,
                       hist[k].unsupported == 1 ? "" : "s");
    }
    free(hist);

    print_memory(s, err, symbolic);
    if (want_plan && !err[0]) view_plan_text(stdout, m, s);
    if (want_plan && err[0]) rc = CLI_EXIT_FAIL;
out:
    free_bufs(bufs, onyx_model_input_count(m));
    onyx_session_free(s);
    onyx_model_free(m);
    return rc;
}
