/*
 * Profiler storage and the Chrome trace event writer (JSON "X" complete events, one
 * process per session, see https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU).
 * Timestamps are the monotonic clock in microseconds, so traces of several sessions of one
 * process line up when merged.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "profile.h"
#include "session.h"

int64_t onyxi_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

onyxi_profile *onyxi_profile_create(int n_steps) {
    /* totals + steps*2 per ring slot + 3 per ring slot, in int64 words */
    size_t steps = (size_t)(n_steps > 0 ? n_steps : 0), words;
    if (!onyxi_mul_size(steps, 2 * ONYX_PROFILE_MAX_RUNS, &words) ||
        !onyxi_add_size(words, steps + 3 * ONYX_PROFILE_MAX_RUNS, &words) ||
        !onyxi_mul_size(words, sizeof(int64_t), &words) ||
        !onyxi_add_size(words, sizeof(onyxi_profile), &words))
        return NULL;
    onyxi_profile *p = onyxi_calloc(1, words);
    if (!p) return NULL;
    p->n_steps = (int)steps;
    p->total_ns = (int64_t *)(p + 1); /* sizeof(onyxi_profile) keeps int64 alignment */
    p->step_ev = p->total_ns + steps;
    p->run_ev = p->step_ev + steps * 2 * ONYX_PROFILE_MAX_RUNS;
    return p;
}

void onyxi_profile_free(onyxi_profile *p) { onyxi_free(p); }

void onyxi_profile_reset(onyxi_profile *p) {
    p->runs = 0;
    p->slot = 0;
    memset(p->total_ns, 0, (size_t)p->n_steps * sizeof *p->total_ns);
}

void onyxi_profile_run_end(onyxi_profile *p, int64_t t0, int64_t t1) {
    int64_t *r = p->run_ev + (size_t)p->slot * 3;
    r[0] = p->runs;
    r[1] = t0;
    r[2] = t1 - t0;
    /* totals only count complete runs: a failed run's partial timings are dropped */
    const int64_t *e = p->step_ev + (size_t)p->slot * (size_t)p->n_steps * 2;
    for (int i = 0; i < p->n_steps; i++) p->total_ns[i] += e[2 * i + 1];
    p->runs++;
}

/* ---- the trace writer ---- */

static void put_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(f, "\\%c", *c);
        else if (*c < 0x20) fprintf(f, "\\u%04x", *c);
        else fputc(*c, f);
    }
    fputc('"', f);
}

/* ["x float32[1,3,24,32]", ...] for the tensors of one side of a step. */
static void put_tensors(FILE *f, const onyx_tensor *const *t, int n) {
    fputc('[', f);
    for (int k = 0; k < n; k++) {
        char shape[160], buf[400];
        if (!t[k]) snprintf(buf, sizeof buf, "(absent)");
        else
            snprintf(buf, sizeof buf, "%s %s%s", t[k]->name ? t[k]->name : "?",
                     onyx_dtype_name(t[k]->dtype),
                     onyxi_shape_str(t[k]->rank, t[k]->dims, shape, sizeof shape));
        if (k) fputc(',', f);
        put_json_string(f, buf);
    }
    fputc(']', f);
}

static void put_us(FILE *f, int64_t ns) { fprintf(f, "%lld.%03lld", (long long)(ns / 1000), (long long)(ns % 1000)); }

onyx_status onyxi_profile_write(onyx_session *s, const char *path) {
    const onyxi_profile *p = s->prof;
    FILE *f = fopen(path, "w");
    if (!f) return onyxi_fail(&s->err, ONYX_IO, "cannot create '%s': %s", path, strerror(errno));
    const onyxi_graph *g = s->g;
    const char *gname = g->graph_name && g->graph_name[0] ? g->graph_name : "graph";
    fprintf(f, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"onyx_version\":\"%s\",\"graph\":",
            ONYX_VERSION);
    put_json_string(f, gname);
    fprintf(f, "},\"traceEvents\":[\n");
    char pname[300];
    snprintf(pname, sizeof pname, "onyx session %d (%s)", s->trace_pid, gname);
    fprintf(f, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":1,\"args\":{\"name\":",
            s->trace_pid);
    put_json_string(f, pname);
    fprintf(f, "}},\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":1,"
               "\"args\":{\"name\":\"onyx_session_run\"}}",
            s->trace_pid);
    int64_t kept = p && p->runs < ONYX_PROFILE_MAX_RUNS ? p->runs : ONYX_PROFILE_MAX_RUNS;
    if (!p) kept = 0;
    for (int64_t r = 0; r < kept; r++) {
        /* oldest run first: the ring's next slot holds the oldest once it has wrapped */
        int64_t slot = p->runs <= ONYX_PROFILE_MAX_RUNS ? r : (p->runs + r) % ONYX_PROFILE_MAX_RUNS;
        const int64_t *re = p->run_ev + slot * 3;
        fprintf(f, ",\n{\"name\":\"run %lld\",\"cat\":\"run\",\"ph\":\"X\",\"pid\":%d,\"tid\":1,\"ts\":",
                (long long)re[0], s->trace_pid);
        put_us(f, re[1]);
        fprintf(f, ",\"dur\":");
        put_us(f, re[2]);
        fprintf(f, ",\"args\":{\"run\":%lld,\"steps\":%d}}", (long long)re[0], p->n_steps);
        for (int i = 0; i < p->n_steps && i < s->n_steps; i++) {
            const onyxi_step *st = &s->steps[i];
            const onyxi_node *nd = &g->nodes[st->node];
            const int64_t *e = p->step_ev + ((size_t)slot * (size_t)p->n_steps + (size_t)i) * 2;
            char label[256];
            if (nd->name[0]) snprintf(label, sizeof label, "%s", nd->name);
            else snprintf(label, sizeof label, "%s #%d", nd->op_type, st->node);
            fprintf(f, ",\n{\"name\":");
            put_json_string(f, label);
            fprintf(f, ",\"cat\":");
            put_json_string(f, nd->op_type);
            fprintf(f, ",\"ph\":\"X\",\"pid\":%d,\"tid\":1,\"ts\":", s->trace_pid);
            put_us(f, e[0]);
            fprintf(f, ",\"dur\":");
            put_us(f, e[1]);
            fprintf(f, ",\"args\":{\"op\":");
            put_json_string(f, nd->op_type);
            fprintf(f, ",\"impl\":");
            put_json_string(f, st->impl ? st->impl->name : "?");
            if (st->x.detail) { /* the kernel, when the implementation names it */
                fprintf(f, ",\"kernel\":");
                put_json_string(f, st->x.detail);
            }
            fprintf(f, ",\"layout\":\"%s\",\"step\":%d,\"run\":%lld,\"inputs\":",
                    onyxi_step_layout(st), i, (long long)re[0]);
            put_tensors(f, st->x.in, st->x.n_in);
            fprintf(f, ",\"outputs\":");
            put_tensors(f, (const onyx_tensor *const *)st->x.out, st->x.n_out);
            fprintf(f, "}}");
        }
    }
    fprintf(f, "\n]}\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return onyxi_fail(&s->err, ONYX_IO, "cannot write '%s': %s", path, strerror(errno));
    return ONYX_OK;
}
