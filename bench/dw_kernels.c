/*
 * Micro-benchmark of onyx's own depthwise Conv kernel ("dw", ops/conv_depthwise.c) against the
 * oneDNN implementation ("dnnl") on the real depthwise shapes of mobilenet_v2 and
 * efficientnet_b0, and of oneDNN's max pooling against the C reference on the real pooling
 * shapes of resnet18, googlenet and squeezenet1_1 against a plain AVX2 nhwc loop written here
 * (the yardstick that decided against an own pooling kernel), at 1 and 2 threads. Each kernel is prepared as a session would prepare it (nhwc input as the models'
 * 1x1 convolutions leave it, output allowed to stay nhwc, constant weights, the node's fused
 * activation) and the candidates run interleaved; it prints the median time per call.
 *   ./build/dw_kernels [--reps N] [--only SUBSTRING] [--threads 1,2] [--no-post] [--scale S]
 * --no-post drops the fused activation (to see the convolution alone); --scale S draws the input
 * from [-S, S] instead of [-1, 1] (large negative values send SiLU towards denormals).
 */
#define _POSIX_C_SOURCE 200809L
#include <dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conv.h"
#include "dnnl_util.h"
#include "op.h"
#include "pool.h"
#include "weights.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

/* ---- a node and its tensors, as the session would hand them to a kernel ---- */

static void die(const char *what, const onyxi_err *e) {
    fprintf(stderr, "dw_kernels: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

static onyxi_attr *add_attr(onyxi_node *n, const char *name, onyxi_attr_type type) {
    onyxi_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = (char *)name;
    a->type = type;
    return a;
}

static void attr_ints(onyxi_node *n, const char *name, int count, const int64_t *v) {
    onyxi_attr *a = add_attr(n, name, ONYXI_ATTR_INTS);
    a->count = count;
    a->ints = (int64_t *)v;
}

static float in_scale = 1.0f;

static onyx_tensor *tensor(int rank, const int64_t *dims, unsigned seed, float scale) {
    onyx_tensor *t = calloc(1, sizeof *t);
    t->name = "";
    t->dtype = ONYX_DTYPE_FLOAT32;
    t->rank = rank;
    size_t count = 1;
    for (int i = 0; i < rank; i++) count *= (size_t)(t->dims[i] = dims[i]);
    t->nbytes = count * sizeof(float);
    t->data = aligned_alloc(64, (t->nbytes + 63) / 64 * 64);
    float *p = t->data;
    unsigned s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < count; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = ((float)((s >> 8) / 16777216.0) * 2.0f - 1.0f) * scale;
    }
    return t;
}

static void tensor_free(onyx_tensor *t) {
    if (!t) return;
    free(t->data);
    free(t);
}

/* One prepared kernel. */
typedef struct cand {
    const onyxi_impl *impl;
    onyxi_exec x;
    onyx_tensor *y;
    void *scratch;
    double *times;
    int ok;
    const char *detail;
} cand;

typedef struct bench_case {
    const char *model, *label;
    const char *op; /* "Conv", "MaxPool", "AveragePool" */
    int64_t C, H, K, S, P;
    int post;       /* ONYXI_POST_* or 0 */
    int count;      /* how many times the model runs this shape */
} bench_case;

static const bench_case CASES[] = {
    /* mobilenet_v2: depthwise 3x3 + ReLU6 (Clip) */
    {"mobilenet_v2", "dw3 s1", "Conv", 32, 112, 3, 1, 1, ONYXI_POST_CLIP, 1},
    {"mobilenet_v2", "dw3 s2", "Conv", 96, 112, 3, 2, 1, ONYXI_POST_CLIP, 1},
    {"mobilenet_v2", "dw3 s1", "Conv", 144, 56, 3, 1, 1, ONYXI_POST_CLIP, 1},
    {"mobilenet_v2", "dw3 s2", "Conv", 144, 56, 3, 2, 1, ONYXI_POST_CLIP, 1},
    {"mobilenet_v2", "dw3 s1", "Conv", 192, 28, 3, 1, 1, ONYXI_POST_CLIP, 2},
    {"mobilenet_v2", "dw3 s2", "Conv", 192, 28, 3, 2, 1, ONYXI_POST_CLIP, 1},
    {"mobilenet_v2", "dw3 s1", "Conv", 384, 14, 3, 1, 1, ONYXI_POST_CLIP, 4},
    {"mobilenet_v2", "dw3 s1", "Conv", 576, 14, 3, 1, 1, ONYXI_POST_CLIP, 2},
    {"mobilenet_v2", "dw3 s2", "Conv", 576, 14, 3, 2, 1, ONYXI_POST_CLIP, 1},
    {"mobilenet_v2", "dw3 s1", "Conv", 960, 7, 3, 1, 1, ONYXI_POST_CLIP, 3},
    /* efficientnet_b0: depthwise 3x3 / 5x5 + SiLU */
    {"efficientnet_b0", "dw3 s1", "Conv", 32, 112, 3, 1, 1, ONYXI_POST_SILU, 1},
    {"efficientnet_b0", "dw3 s2", "Conv", 96, 112, 3, 2, 1, ONYXI_POST_SILU, 1},
    {"efficientnet_b0", "dw3 s1", "Conv", 144, 56, 3, 1, 1, ONYXI_POST_SILU, 1},
    {"efficientnet_b0", "dw5 s2", "Conv", 144, 56, 5, 2, 2, ONYXI_POST_SILU, 1},
    {"efficientnet_b0", "dw5 s1", "Conv", 240, 28, 5, 1, 2, ONYXI_POST_SILU, 1},
    {"efficientnet_b0", "dw3 s2", "Conv", 240, 28, 3, 2, 1, ONYXI_POST_SILU, 1},
    {"efficientnet_b0", "dw3 s1", "Conv", 480, 14, 3, 1, 1, ONYXI_POST_SILU, 2},
    {"efficientnet_b0", "dw5 s1", "Conv", 480, 14, 5, 1, 2, ONYXI_POST_SILU, 1},
    {"efficientnet_b0", "dw5 s1", "Conv", 672, 14, 5, 1, 2, ONYXI_POST_SILU, 2},
    {"efficientnet_b0", "dw5 s2", "Conv", 672, 14, 5, 2, 2, ONYXI_POST_SILU, 1},
    {"efficientnet_b0", "dw5 s1", "Conv", 1152, 7, 5, 1, 2, ONYXI_POST_SILU, 3},
    {"efficientnet_b0", "dw3 s1", "Conv", 1152, 7, 3, 1, 1, ONYXI_POST_SILU, 1},
    /* max pooling as the CNNs run it (nhwc input) */
    {"resnet18", "max3 s2 p1", "MaxPool", 64, 112, 3, 2, 1, 0, 1},
    {"googlenet", "max3 s2 ceil", "MaxPool", 64, 112, 3, 2, 0, 0, 1},
    {"googlenet", "max3 s2 ceil", "MaxPool", 192, 56, 3, 2, 0, 0, 1},
    {"googlenet", "max3 s1 p1", "MaxPool", 192, 28, 3, 1, 1, 0, 1},
    {"googlenet", "max3 s1 p1", "MaxPool", 256, 28, 3, 1, 1, 0, 1},
    {"googlenet", "max3 s2 ceil", "MaxPool", 480, 28, 3, 2, 0, 0, 1},
    {"googlenet", "max3 s1 p1", "MaxPool", 480, 14, 3, 1, 1, 0, 1},
    {"googlenet", "max3 s1 p1", "MaxPool", 512, 14, 3, 1, 1, 0, 3},
    {"googlenet", "max3 s1 p1", "MaxPool", 528, 14, 3, 1, 1, 0, 1},
    {"googlenet", "max2 s2 ceil", "MaxPool", 832, 14, 2, 2, 0, 0, 1},
    {"googlenet", "max3 s1 p1", "MaxPool", 832, 7, 3, 1, 1, 0, 2},
    {"squeezenet1_1", "max3 s2 ceil", "MaxPool", 64, 111, 3, 2, 0, 0, 1},
    {"squeezenet1_1", "max3 s2 ceil", "MaxPool", 128, 55, 3, 2, 0, 0, 1},
    {"squeezenet1_1", "max3 s2 ceil", "MaxPool", 256, 27, 3, 2, 0, 0, 1},
};

typedef struct prepared {
    onyxi_node node;
    onyxi_attr attrs[8];
    int64_t k[2], s[2], p[4], group;
    onyxi_fusion fusion;
    onyx_tensor *in[3];
    const onyx_tensor *ins[3];
    dnnl_memory_desc_t in_md;
} prepared;

static int no_post;

static void prepare(prepared *p, const bench_case *c) {
    memset(p, 0, sizeof *p);
    onyxi_node *n = &p->node;
    n->name = "bench";
    n->op_type = (char *)c->op;
    n->domain = "";
    n->opset = 13;
    n->attrs = p->attrs;
    static int io[4] = {0, 1, 2, 3};
    n->inputs = io;
    n->outputs = io + 3;
    n->n_outputs = 1;
    p->k[0] = p->k[1] = c->K;
    p->s[0] = p->s[1] = c->S;
    for (int i = 0; i < 4; i++) p->p[i] = c->P;
    attr_ints(n, "kernel_shape", 2, p->k);
    attr_ints(n, "strides", 2, p->s);
    attr_ints(n, "pads", 4, p->p);
    int64_t xd[4] = {1, c->C, c->H, c->H};
    p->in[0] = tensor(4, xd, 1, in_scale);
    if (strcmp(c->op, "Conv") == 0) {
        add_attr(n, "group", ONYXI_ATTR_INT)->i = c->C;
        int64_t wd[4] = {c->C, 1, c->K, c->K}, bd[1] = {c->C};
        p->in[1] = tensor(4, wd, 2, 1.0f);
        p->in[2] = tensor(1, bd, 3, 1.0f);
        n->n_inputs = 3;
        if (c->post && !no_post) {
            p->fusion.role = ONYXI_FUSION_HOST;
            p->fusion.n_post = 1;
            /* ReLU6 is Clip(0, 6); SiLU has no parameters */
            p->fusion.post[0] = (onyxi_post_op){(onyxi_post_kind)c->post, 0.0f,
                                                c->post == ONYXI_POST_CLIP ? 6.0f : 0.0f, 0};
            n->fusion = &p->fusion;
        }
    } else {
        n->n_inputs = 1;
        /* the real models' "ceil" pools have ceil_mode=1 and no pads */
        if (strstr(c->label, "ceil")) add_attr(n, "ceil_mode", ONYXI_ATTR_INT)->i = 1;
    }
    /* the input in nhwc, as the models' convolutions leave it */
    dnnl_dims_t d = {1, c->C, c->H, c->H};
    dnnl_memory_desc_init_by_tag(&p->in_md, 4, d, dnnl_f32, dnnl_acdb);
    p->in[0]->layout = &p->in_md;
    for (int k = 0; k < 3; k++) p->ins[k] = p->in[k];
    onyxi_err e;
    n->op = onyxi_op_find("", c->op, 13, &e);
    if (!n->op) die("op lookup", &e);
    if (onyxi_op_check_node(n->op, n, &e) != ONYX_OK) die("node check", &e);
}

static int cand_init(cand *cd, prepared *p, const onyxi_impl *impl, int threads, onyxi_backend *be,
                     onyxi_weight_cache *wc, int reps, onyxi_err *e) {
    memset(cd, 0, sizeof *cd);
    cd->impl = impl;
    cd->y = calloc(1, sizeof *cd->y);
    cd->y->name = "";
    onyx_tensor *outs[1] = {cd->y};
    onyxi_infer ic = {.node = &p->node, .n_in = p->node.n_inputs, .in = p->ins, .n_out = 1,
                      .out = outs, .err = e};
    if (p->node.op->infer(&ic) != ONYX_OK) die("infer", e);
    size_t count = 1;
    for (int i = 0; i < cd->y->rank; i++) count *= (size_t)cd->y->dims[i];
    cd->y->nbytes = count * sizeof(float);
    cd->y->data = aligned_alloc(64, (cd->y->nbytes + 63) / 64 * 64 + 64);
    onyxi_exec *x = &cd->x;
    *x = (onyxi_exec){.node = &p->node, .n_in = p->node.n_inputs, .in = p->ins, .n_out = 1,
                      .num_threads = threads, .err = e, .backend = be, .weights = wc,
                      .const_inputs = ~1u, .blocked_ok = 1u};
    x->out = malloc(sizeof(onyx_tensor *));
    ((onyx_tensor **)x->out)[0] = cd->y;
    onyx_status rc = impl->init ? impl->init(x) : ONYX_OK;
    if (rc != ONYX_OK) return 0;
    if (x->scratch_bytes) x->scratch = cd->scratch = aligned_alloc(64, (x->scratch_bytes + 63) / 64 * 64);
    cd->times = calloc((size_t)reps, sizeof(double));
    cd->detail = x->detail;
    cd->ok = 1;
    return 1;
}

static void cand_fini(cand *cd) {
    if (cd->ok && cd->impl->fini) cd->impl->fini(&cd->x);
    free(cd->scratch);
    free(cd->times);
    if (cd->y) free(cd->y->data);
    free(cd->y);
    free((void *)cd->x.out);
}

/* ---- the yardstick for max pooling: the straightforward AVX2 loop over an nhwc input (C a
 * multiple of 8, as in the models), 8 channels per vector, rows split over the threads ---- */

#if defined(__x86_64__)
typedef struct loop_pool {
    pool_geom g;
} loop_pool;

static onyx_status loop_pool_init(onyxi_exec *x) {
    loop_pool *lp = calloc(1, sizeof *lp);
    x->state = lp;
    if (onyxi_pool_geometry(x->node, x->in[0], &lp->g, x->err) != ONYX_OK) return ONYX_ERROR;
    if (lp->g.kind != KIND_MAX || lp->g.S != 2 || lp->g.C % 16 ||
        !(__builtin_cpu_supports("avx2")))
        return ONYX_UNSUPPORTED;
    return ONYX_OK;
}

__attribute__((target("avx2"))) static void loop_pool_row(const pool_geom *g, const float *x,
                                                           float *y, int64_t oh) {
    int64_t C = g->C, H = g->in[0], W = g->in[1], OW = g->out[1];
    int64_t ih0 = oh * g->stride[0] - g->pad[0];
    int64_t kh0 = ih0 < 0 ? -ih0 : 0, kh1 = H - ih0 < g->k[0] ? H - ih0 : g->k[0];
    for (int64_t ow = 0; ow < OW; ow++) {
        int64_t iw0 = ow * g->stride[1] - g->pad[1];
        int64_t kw0 = iw0 < 0 ? -iw0 : 0, kw1 = W - iw0 < g->k[1] ? W - iw0 : g->k[1];
        float *yp = y + (oh * OW + ow) * C;
        const float *xp = x + (ih0 * W + iw0) * C;
        for (int64_t c = 0; c < C; c += 16) { /* two vectors: C % 16 == 0 in these models */
            __m256 m0 = _mm256_set1_ps(-__builtin_inff()), m1 = m0;
            for (int64_t kh = kh0; kh < kh1; kh++) {
                const float *r = xp + kh * W * C + c;
                for (int64_t kw = kw0; kw < kw1; kw++) {
                    m0 = _mm256_max_ps(m0, _mm256_loadu_ps(r + kw * C));
                    m1 = _mm256_max_ps(m1, _mm256_loadu_ps(r + kw * C + 8));
                }
            }
            _mm256_storeu_ps(yp + c, m0);
            _mm256_storeu_ps(yp + c + 8, m1);
        }
    }
}

static onyx_status loop_pool_run(onyxi_exec *x) {
    const loop_pool *lp = x->state;
    const float *xd = x->in[0]->data;
    float *yd = x->out[0]->data;
#pragma omp parallel for num_threads(x->num_threads)
    for (int64_t oh = 0; oh < lp->g.out[0]; oh++) loop_pool_row(&lp->g, xd, yd, oh);
    return ONYX_OK;
}

static void loop_pool_fini(onyxi_exec *x) {
    free(x->state);
    x->state = NULL;
}

static const onyxi_impl loop_pool_impl = {"avx2 loop", loop_pool_init, loop_pool_run,
                                          loop_pool_fini};
#endif

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static const onyxi_impl *impl_named(const onyxi_op *op, const char *name) {
    for (int i = 0; op->impls[i]; i++)
        if (strcmp(op->impls[i]->name, name) == 0) return op->impls[i];
    return NULL;
}

int main(int argc, char **argv) {
    int reps = 200, tlist[4] = {1, 2}, nt = 2;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            in_scale = (float)atof(argv[++i]);
        else if (strcmp(argv[i], "--no-post") == 0)
            no_post = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            nt = 0;
            for (char *t = strtok(argv[++i], ","); t && nt < 4; t = strtok(NULL, ","))
                tlist[nt++] = atoi(t);
        } else {
            fprintf(stderr, "usage: dw_kernels [--reps N] [--only SUBSTRING] [--threads 1,2] "
                            "[--no-post] [--scale S]\n");
            return 2;
        }
    }
    if (reps < 3) reps = 3;
    onyxi_err e;
    onyxi_backend be = {0};
    if (onyxi_dnnl_engine(&be.engine, &e) != ONYX_OK) die("engine", &e);
    if (dnnl_stream_create(&be.stream, be.engine, dnnl_stream_default_flags) != dnnl_success)
        die("stream", NULL);
    printf("median us per call over %d interleaved calls (own = dw for Conv, a plain AVX2 "
           "loop for the pools); x = count in the model\n\n",
           reps);
    printf("| model | op | C x H (K s p) | thr | dnnl us | own us | dnnl/own | GFLOP/s own | "
           "x |\n|---|---|---|---|---|---|---|---|---|\n");
    double tot[8][2][2] = {{{0}}}; /* model index x thread index x (dnnl, own) */
    const char *models[8] = {0};
    int nm = 0;
    for (size_t ci = 0; ci < sizeof CASES / sizeof CASES[0]; ci++) {
        const bench_case *c = &CASES[ci];
        char label[160];
        snprintf(label, sizeof label, "%s %s %s %lldx%lld", c->model, c->op, c->label,
                 (long long)c->C, (long long)c->H);
        if (only && !strstr(label, only)) continue;
        int mi = 0;
        while (mi < nm && strcmp(models[mi], c->model) != 0) mi++;
        if (mi == nm) models[nm++] = c->model;
        for (int ti = 0; ti < nt; ti++) {
            int threads = tlist[ti];
            omp_set_num_threads(threads); /* oneDNN fixes its threads at creation */
            be.threads = threads;
            prepared p;
            prepare(&p, c);
            onyxi_weight_cache *wc = onyxi_weights_create();
            const onyxi_impl *own = strcmp(c->op, "Conv") == 0 ? impl_named(p.node.op, "dw") : NULL;
#if defined(__x86_64__)
            if (!own) own = &loop_pool_impl;
#endif
            cand cd[2];
            int ok0 = cand_init(&cd[0], &p, impl_named(p.node.op, "dnnl"), threads, &be, wc,
                                reps, &e);
            int ok1 = own && cand_init(&cd[1], &p, own, threads, &be, wc, reps, &e);
            if (!own) memset(&cd[1], 0, sizeof cd[1]);
            for (int w = 0; w < 10; w++)
                for (int k = 0; k < 2; k++)
                    if (cd[k].ok && cd[k].impl->run(&cd[k].x) != ONYX_OK) die("run", &e);
            for (int r = 0; r < reps; r++)
                for (int k = 0; k < 2; k++) {
                    if (!cd[k].ok) continue;
                    double t0 = now_ms();
                    if (cd[k].impl->run(&cd[k].x) != ONYX_OK) die("run", &e);
                    cd[k].times[r] = now_ms() - t0;
                }
            /* both pools write nhwc (oneDNN keeps its input's layout): the same bytes */
            if (ok0 && ok1 && strcmp(c->op, "Conv") != 0 &&
                memcmp(cd[0].y->data, cd[1].y->data, cd[1].y->nbytes) != 0)
                fprintf(stderr, "dw_kernels: %s: the AVX2 loop differs from oneDNN\n", label);
            double m0 = ok0 ? median(cd[0].times, reps) * 1e3 : 0;
            double m1 = ok1 ? median(cd[1].times, reps) * 1e3 : 0;
            double oh = (double)cd[0].y->dims[2], flops = 0;
            if (strcmp(c->op, "Conv") == 0) flops = 2.0 * (double)c->C * oh * oh * (double)(c->K * c->K);
            char sh[64];
            snprintf(sh, sizeof sh, "%lldx%lld (%lld s%lld p%lld)", (long long)c->C,
                     (long long)c->H, (long long)c->K, (long long)c->S, (long long)c->P);
            char own_s[32] = "-", ratio[32] = "-", gf[32] = "-";
            if (ok1) {
                snprintf(own_s, sizeof own_s, "%.1f", m1);
                if (ok0) snprintf(ratio, sizeof ratio, "%.2f", m0 / m1);
                if (flops > 0) snprintf(gf, sizeof gf, "%.1f", flops / (m1 * 1e3));
            }
            printf("| %s | %s%s | %s | %d | %.1f | %s | %s | %s | %d |\n", c->model, c->op,
                   c->post == ONYXI_POST_SILU ? "+SiLU" : c->post == ONYXI_POST_CLIP ? "+Clip" : "",
                   sh, threads, m0, own_s, ratio, gf, c->count);
            fflush(stdout);
            if (ok0 && ok1) {
                tot[mi][ti][0] += m0 * c->count;
                tot[mi][ti][1] += m1 * c->count;
            }
            for (int k = 0; k < 2; k++) cand_fini(&cd[k]);
            onyxi_weights_free(wc);
            for (int k = 0; k < 3; k++) tensor_free(p.in[k]);
        }
    }
    printf("\nper model (sum over its shapes x count), us:\n\n| model | thr | dnnl | own |\n"
           "|---|---|---|---|\n");
    for (int mi = 0; mi < nm; mi++)
        for (int ti = 0; ti < nt; ti++)
            printf("| %s | %d | %.0f | %.0f |\n", models[mi], tlist[ti], tot[mi][ti][0],
                   tot[mi][ti][1]);
    dnnl_stream_destroy(be.stream);
    return 0;
}
