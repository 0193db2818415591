/*
 * Graph and memory views built from the public introspection API (onyx_session_step_*,
 * onyx_session_plan_tensor, onyx_session_node_state). DOT and SVG are written by hand: no
 * Graphviz or plotting library is needed to produce them, only to look at the DOT.
 */
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "views.h"

void cli_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

void cli_json_shape(FILE *f, const onyx_tensor *t) {
    int rank = onyx_tensor_rank(t);
    if (rank < 0) {
        fputs("null", f);
        return;
    }
    fputc('[', f);
    for (int d = 0; d < rank; d++) fprintf(f, "%s%lld", d ? ", " : "", (long long)onyx_tensor_dim(t, d));
    fputc(']', f);
}

/* A DOT/XML-safe copy of s into buf: quotes, backslashes, angle brackets and ampersands
 * replaced (xml 1) or escaped (xml 0). */
static const char *esc(const char *s, int xml, char *buf, size_t len) {
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && o + 7 < len; p++) {
        const char *rep = NULL;
        if (xml) {
            if (*p == '&') rep = "&amp;";
            else if (*p == '<') rep = "&lt;";
            else if (*p == '>') rep = "&gt;";
            else if (*p == '"') rep = "&quot;";
        } else if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
        }
        if (rep) {
            memcpy(buf + o, rep, strlen(rep));
            o += strlen(rep);
        } else {
            buf[o++] = *p < 0x20 ? '?' : (char)*p;
        }
    }
    buf[o] = '\0';
    return buf;
}

static const char *node_label(const onyx_model *m, int node, char *buf, size_t len) {
    const char *name = onyx_model_node_name(m, node);
    if (name && name[0]) snprintf(buf, len, "%s", name);
    else snprintf(buf, len, "%s #%d", onyx_model_node_op_type(m, node), node);
    return buf;
}

/* "float32 [1, 3, 24, 32]" for a value of the plan. */
static const char *value_type(const onyx_tensor *t, char *buf, size_t len) {
    char shape[256];
    if (!t) {
        snprintf(buf, len, "?");
        return buf;
    }
    cli_format_shape(t, shape, sizeof shape);
    snprintf(buf, len, "%s %s", onyx_dtype_name(onyx_tensor_dtype(t)), shape);
    return buf;
}

/* The execution-order index of the node producing value name, or -1. */
static int producer_of(const onyx_model *m, const char *name) {
    int n = onyx_model_node_count(m);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < onyx_model_node_output_count(m, i); k++)
            if (strcmp(onyx_model_node_output_name(m, i, k), name) == 0) return i;
    return -1;
}

static int is_graph_input(const onyx_model *m, const char *name) {
    return onyx_model_input_index(m, name) >= 0;
}

void view_dot(FILE *f, const onyx_model *m, const onyx_session *s) {
    char a[512], b[512], c[512];
    const char *gname = onyx_model_graph_name(m);
    fprintf(f, "digraph \"%s\" {\n", esc(gname[0] ? gname : "graph", 0, a, sizeof a));
    fprintf(f, "  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#dbe9f6\", "
               "fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (int i = 0; i < onyx_model_input_count(m); i++) {
        const onyx_tensor *t = onyx_model_input(m, i);
        fprintf(f, "  \"input:%s\" [shape=oval, fillcolor=\"#c7e9c0\", label=\"%s\"];\n",
                esc(onyx_tensor_name(t), 0, a, sizeof a), a);
    }
    for (int i = 0; i < onyx_model_output_count(m); i++) {
        const onyx_tensor *t = onyx_model_output(m, i);
        fprintf(f, "  \"output:%s\" [shape=oval, fillcolor=\"#fdd0a2\", label=\"%s\"];\n",
                esc(onyx_tensor_name(t), 0, a, sizeof a), a);
    }
    /* which step runs each node, for its implementation */
    int n_nodes = onyx_model_node_count(m), n_steps = onyx_session_step_count(s);
    for (int i = 0; i < n_nodes; i++) {
        onyx_node_state st = onyx_session_node_state(s, i);
        const char *impl = NULL;
        for (int k = 0; k < n_steps && !impl; k++)
            if (onyx_session_step_node(s, k) == i) impl = onyx_session_step_impl(s, k);
        esc(node_label(m, i, b, sizeof b), 0, a, sizeof a);
        esc(onyx_model_node_op_type(m, i), 0, c, sizeof c);
        if (st == ONYX_NODE_FOLDED)
            fprintf(f, "  n%d [label=\"%s\\n%s (folded)\", style=\"rounded,dashed,filled\", "
                       "fillcolor=\"#eeeeee\", color=\"#888888\"];\n", i, a, c);
        else if (st == ONYX_NODE_FUSED)
            fprintf(f, "  n%d [label=\"%s\\n%s (fused)\", style=\"rounded,bold,filled\", "
                       "fillcolor=\"#fff2ae\", color=\"#d95f02\"];\n", i, a, c);
        else
            fprintf(f, "  n%d [label=\"%s\\n%s [%s]\"];\n", i, a, c, impl ? impl : "not planned");
    }
    /* edges: every non-empty input of every node, from its producer or graph input */
    for (int i = 0; i < n_nodes; i++) {
        for (int k = 0; k < onyx_model_node_input_count(m, i); k++) {
            const char *v = onyx_model_node_input_name(m, i, k);
            if (!v || !v[0]) continue;
            int p = producer_of(m, v);
            if (p < 0 && !is_graph_input(m, v)) continue; /* an initializer: not drawn */
            value_type(onyx_session_value(s, v), b, sizeof b);
            if (p >= 0) fprintf(f, "  n%d -> n%d", p, i);
            else fprintf(f, "  \"input:%s\" -> n%d", esc(v, 0, a, sizeof a), i);
            fprintf(f, " [label=\"%s\"%s];\n", esc(b, 0, c, sizeof c),
                    p >= 0 && onyx_session_node_state(s, p) == ONYX_NODE_FOLDED ? ", style=dashed"
                                                                                : "");
        }
    }
    for (int i = 0; i < onyx_model_output_count(m); i++) {
        const char *v = onyx_tensor_name(onyx_model_output(m, i));
        int p = producer_of(m, v);
        value_type(onyx_session_value(s, v), b, sizeof b);
        if (p >= 0) fprintf(f, "  n%d", p);
        else fprintf(f, "  \"input:%s\"", esc(v, 0, a, sizeof a));
        fprintf(f, " -> \"output:%s\" [label=\"%s\"];\n", esc(v, 0, a, sizeof a),
                esc(b, 0, c, sizeof c));
    }
    fprintf(f, "}\n");
}

/* Tensor i's placement; name "" on failure. */
typedef struct placed {
    const char *name;
    size_t offset, size;
    int first, last;
} placed;

static placed *get_placement(const onyx_session *s, int *n) {
    *n = onyx_session_plan_tensor_count(s);
    if (*n <= 0) {
        *n = 0;
        return NULL;
    }
    placed *p = calloc((size_t)*n, sizeof *p);
    for (int i = 0; p && i < *n; i++)
        if (onyx_session_plan_tensor(s, i, &p[i].name, &p[i].offset, &p[i].size, &p[i].first,
                                     &p[i].last) != ONYX_OK)
            p[i].name = "";
    if (!p) *n = 0;
    return p;
}

static int shares(const placed *a, const placed *b) {
    return a->size && b->size && a->offset < b->offset + b->size && b->offset < a->offset + a->size;
}

static void step_sides(FILE *f, const onyx_session *s, int i, int out) {
    int n = out ? onyx_session_step_output_count(s, i) : onyx_session_step_input_count(s, i);
    for (int k = 0; k < n; k++) {
        const onyx_tensor *t = out ? onyx_session_step_output(s, i, k) : onyx_session_step_input(s, i, k);
        char shape[256];
        if (!t) {
            fprintf(f, "%s(absent)", k ? ", " : "");
            continue;
        }
        cli_format_shape(t, shape, sizeof shape);
        fprintf(f, "%s%s %s", k ? ", " : "", onyx_tensor_name(t), shape);
    }
}

void view_plan_text(FILE *f, const onyx_model *m, const onyx_session *s) {
    int n_steps = onyx_session_step_count(s), n = 0;
    size_t arena = onyx_session_arena_bytes(s), sum = onyx_session_intermediate_bytes(s);
    int folded = 0;
    for (int i = 0; i < onyx_model_node_count(m); i++)
        folded += onyx_session_node_state(s, i) == ONYX_NODE_FOLDED;
    fprintf(f, "plan: %d steps, %d nodes folded into constants\n", n_steps, folded);
    fprintf(f, "arena: %zu bytes for %zu bytes of intermediates", arena, sum);
    if (sum) fprintf(f, " (%.1f%% saved by sharing)", 100.0 * (1.0 - (double)arena / (double)sum));
    fprintf(f, "\nsteps:\n");
    for (int i = 0; i < n_steps; i++) {
        char label[256];
        int node = onyx_session_step_node(s, i);
        const char *kernel = onyx_session_step_kernel(s, i);
        fprintf(f, "  %3d %s (%s) %s/%s%s%s%s: ", i, node_label(m, node, label, sizeof label),
                onyx_model_node_op_type(m, node), onyx_session_step_impl(s, i),
                onyx_session_step_layout(s, i), kernel ? " [" : "", kernel ? kernel : "",
                kernel ? "]" : "");
        step_sides(f, s, i, 0);
        fprintf(f, " -> ");
        step_sides(f, s, i, 1);
        fprintf(f, "\n");
    }
    placed *p = get_placement(s, &n);
    fprintf(f, "tensors (%d in the arena; steps are when each is alive):\n", n);
    fprintf(f, "  %-24s %10s %10s %9s  %s\n", "name", "offset", "bytes", "steps", "shares memory with");
    for (int i = 0; i < n; i++) {
        char steps[32];
        snprintf(steps, sizeof steps, "%d..%d", p[i].first, p[i].last);
        fprintf(f, "  %-24s %10zu %10zu %9s ", p[i].name, p[i].offset, p[i].size, steps);
        int any = 0;
        for (int j = 0; j < n; j++)
            if (j != i && shares(&p[i], &p[j])) fprintf(f, "%s%s", any++ ? ", " : " ", p[j].name);
        fprintf(f, "%s\n", any ? "" : " -");
    }
    free(p);
}

void view_plan_json(FILE *f, const onyx_model *m, const onyx_session *s) {
    int n_steps = onyx_session_step_count(s), n = 0;
    fprintf(f, "{\"arena_bytes\": %zu, \"intermediate_bytes\": %zu, \"steps\": [",
            onyx_session_arena_bytes(s), onyx_session_intermediate_bytes(s));
    for (int i = 0; i < n_steps; i++) {
        int node = onyx_session_step_node(s, i);
        fprintf(f, "%s{\"node\": ", i ? ", " : "");
        cli_json_string(f, onyx_model_node_name(m, node));
        fprintf(f, ", \"op\": ");
        cli_json_string(f, onyx_model_node_op_type(m, node));
        fprintf(f, ", \"impl\": ");
        cli_json_string(f, onyx_session_step_impl(s, i));
        fprintf(f, ", \"layout\": ");
        cli_json_string(f, onyx_session_step_layout(s, i));
        if (onyx_session_step_kernel(s, i)) { /* when the implementation names one */
            fprintf(f, ", \"kernel\": ");
            cli_json_string(f, onyx_session_step_kernel(s, i));
        }
        fprintf(f, ", \"flops\": %.0f}", onyx_session_step_flops(s, i));
    }
    fprintf(f, "], \"tensors\": [");
    placed *p = get_placement(s, &n);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s{\"name\": ", i ? ", " : "");
        cli_json_string(f, p[i].name);
        fprintf(f, ", \"offset\": %zu, \"bytes\": %zu, \"first_step\": %d, \"last_step\": %d, "
                   "\"shares_with\": [", p[i].offset, p[i].size, p[i].first, p[i].last);
        int any = 0;
        for (int j = 0; j < n; j++)
            if (j != i && shares(&p[i], &p[j])) {
                fprintf(f, "%s", any++ ? ", " : "");
                cli_json_string(f, p[j].name);
            }
        fprintf(f, "]}");
    }
    fprintf(f, "]}");
    free(p);
}

int view_plan_svg(const char *path, const onyx_model *m, const onyx_session *s) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int n_steps = onyx_session_step_count(s), n = 0;
    placed *p = get_placement(s, &n);
    size_t arena = onyx_session_arena_bytes(s);
    const double W = 800, H = 400, L = 90, T = 40, R = 20, B = 50;
    int cols = n_steps > 0 ? n_steps + 1 : 1; /* outputs live to step n_steps */
    double xs = W / cols, ys = arena ? H / (double)arena : 0;
    char a[512], b[300];
    const char *gname = onyx_model_graph_name(m);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n",
            L + W + R, T + H + B);
    fprintf(f, "<title>onyx memory plan of %s</title>\n", esc(gname, 1, a, sizeof a));
    fprintf(f, "<text x=\"%.0f\" y=\"20\" font-size=\"14\">arena of %s: %zu bytes, %zu bytes of "
               "intermediates</text>\n", L, a, arena, onyx_session_intermediate_bytes(s));
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" "
               "stroke=\"#999999\"/>\n", L, T, W, H);
    /* one rectangle per tensor: alive from its first to its last step, over its bytes */
    for (int i = 0; i < n; i++) {
        if (!p[i].size) continue;
        unsigned hue = 0;
        for (const char *c = p[i].name; *c; c++) hue = hue * 31 + (unsigned char)*c;
        double x = L + p[i].first * xs, w = (p[i].last - p[i].first + 1) * xs;
        double y = T + H - (double)(p[i].offset + p[i].size) * ys, h = (double)p[i].size * ys;
        snprintf(b, sizeof b, "%s: offset %zu, %zu bytes, steps %d..%d", p[i].name, p[i].offset,
                 p[i].size, p[i].first, p[i].last);
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                   "fill=\"hsl(%u, 60%%, 70%%)\" stroke=\"#333333\" stroke-width=\"0.5\">"
                   "<title>%s</title></rect>\n", x, y, w, h, hue % 360, esc(b, 1, a, sizeof a));
    }
    /* live bytes per step: what the arena would need at that point of the run */
    fprintf(f, "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" points=\"");
    for (int st = 0; st < cols; st++) {
        size_t live = 0;
        for (int i = 0; i < n; i++)
            if (p[i].first <= st && st <= p[i].last) live += p[i].size;
        fprintf(f, "%.2f,%.2f %.2f,%.2f ", L + st * xs, T + H - (double)live * ys, L + (st + 1) * xs,
                T + H - (double)live * ys);
    }
    fprintf(f, "\"><title>bytes alive at each step</title></polyline>\n");
    for (int st = 0; st < cols; st += cols > 40 ? cols / 20 : 1)
        fprintf(f, "<text x=\"%.2f\" y=\"%.0f\" text-anchor=\"middle\">%d</text>\n",
                L + (st + 0.5) * xs, T + H + 15, st);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">step (execution order)</text>\n",
            L + W / 2, T + H + 38);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0</text>\n", L - 5, T + H);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%zu B</text>\n", L - 5, T + 10, arena);
    fprintf(f, "</svg>\n");
    free(p);
    int bad = ferror(f);
    return fclose(f) != 0 || bad ? -1 : 0;
}
