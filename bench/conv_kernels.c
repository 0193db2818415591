/*
 * conv_kernels: times onyx's own Conv kernels against oneDNN's on the 3x3 stride-1 shapes of
 * real networks (resnet18, densenet121), at 1 and 2 threads, the way a session runs them
 * (nhwc input as oneDNN's convolutions leave it, output allowed to stay blocked, bias and a
 * fused Relu). Candidates: oneDNN's first choice (a direct kernel), oneDNN's Winograd kernels
 * where it has them (avx512_core only; onyx offers them up to 64x64x3x3 weights, as their
 * weight packing is slow) and onyx's AVX2 Winograd "wino". GFLOP/s count direct-convolution
 * FLOPs (2 x N x M x OH x OW x C x 9), so a Winograd kernel's gain shows as a higher rate.
 * Rounds of the kernels are interleaved and the median per-run time of each is reported; the
 * wino / dnnl column is wino's rate over the best oneDNN one (the session's measured
 * selection makes the same comparison); init ms is the time to prepare
 * the kernel (weights packed into a fresh cache: session creation pays it once per model).
 * Not a test: run it by hand,
 *   ./build/conv_kernels [rounds [C M HW [threads]]]
 * (a shape given on the command line replaces the list; threads: only that count).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "conv.h"
#include "dnnl_util.h"
#include "weights.h"

typedef struct shape {
    const char *net;
    int64_t C, M, HW;
} shape;

static const shape SHAPES[] = {
    {"resnet18", 64, 64, 56},     {"resnet18", 128, 128, 28},   {"resnet18", 256, 256, 14},
    {"resnet18", 512, 512, 7},    {"densenet121", 128, 32, 56}, {"densenet121", 128, 32, 28},
    {"densenet121", 128, 32, 14}, {"densenet121", 128, 32, 7},
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One prepared kernel: its exec context and the tensors it reads and writes. */
typedef struct bench_kernel {
    onyxi_exec x;
    onyx_tensor out;
    const onyx_tensor *ins[3];
    onyx_tensor *outs[1];
    void *scratch;
    double init_ms; /* init: weights packed (into a fresh cache), primitives made */
    int ok;
} bench_kernel;

static void fill(float *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)((seed >> 8) / 16777216.0) * 2 - 1;
    }
}

static int prepare(bench_kernel *k, const onyxi_impl *impl, int variant, onyxi_node *n,
                   onyx_tensor *const *in, onyxi_backend *be, onyxi_weight_cache *cache,
                   int threads, onyxi_err *err) {
    memset(k, 0, sizeof *k);
    for (int i = 0; i < 3; i++)
        k->ins[i] = in[i];
    k->out.name = "y";
    k->outs[0] = &k->out;
    onyxi_infer ic = {.node = n, .n_in = 3, .in = k->ins, .n_out = 1, .out = k->outs, .err = err};
    if (n->op->infer(&ic) != ONYX_OK) return 0;
    k->out.nbytes = (size_t)onyxi_shape_count(k->out.rank, k->out.dims) * sizeof(float);
    k->x = (onyxi_exec){.node = n,
                        .n_in = 3,
                        .in = k->ins,
                        .n_out = 1,
                        .out = k->outs,
                        .num_threads = threads,
                        .err = err,
                        .backend = be,
                        .weights = cache,
                        .const_inputs = 6u,
                        .blocked_ok = 1u,
                        .variant = variant};
    double t0 = now();
    onyx_status rc = impl->init(&k->x);
    k->init_ms = (now() - t0) * 1e3;
    if (rc != ONYX_OK) {
        if (impl->fini) impl->fini(&k->x);
        return 0;
    }
    k->out.data = aligned_alloc(64, (k->out.nbytes + 63) / 64 * 64);
    if (k->x.scratch_bytes)
        k->x.scratch = k->scratch = aligned_alloc(64, (k->x.scratch_bytes + 63) / 64 * 64);
    k->ok = impl->run(&k->x) == ONYX_OK; /* warm-up */
    return k->ok;
}

static void release(bench_kernel *k, const onyxi_impl *impl) {
    if (impl->fini) impl->fini(&k->x);
    free(k->out.data);
    free(k->scratch);
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 7;
    if (rounds < 1) rounds = 1;
    shape one = {"(argv)", 0, 0, 0};
    const shape *list = SHAPES;
    size_t count = sizeof SHAPES / sizeof SHAPES[0];
    if (argc > 4) {
        one.C = atoll(argv[2]);
        one.M = atoll(argv[3]);
        one.HW = atoll(argv[4]);
        if (one.C < 1 || one.M < 1 || one.HW < 1) {
            fprintf(stderr, "usage: conv_kernels [rounds [C M HW [threads]]]\n");
            return 2;
        }
        list = &one;
        count = 1;
    }
    int t_lo = argc > 5 ? atoi(argv[5]) : 1, t_hi = argc > 5 ? atoi(argv[5]) : 2;
    if (t_lo < 1) t_lo = t_hi = 1;
    onyxi_err err;
    dnnl_engine_t eng;
    if (onyxi_dnnl_engine(&eng, &err) != ONYX_OK) {
        fprintf(stderr, "no oneDNN engine: %s\n", err.msg);
        return 1;
    }
    const onyxi_op *op = onyxi_op_find("", "Conv", 11, &err);
    printf("%-12s %4s %4s %5s %3s | %8s %8s %8s | %7s | %13s\n", "net", "C", "M", "HxW", "thr",
           "dnnl", "dnnl", "wino", "wino /", "init ms");
    printf("%-12s %4s %4s %5s %3s | %8s %8s %8s | %7s | %6s %6s\n", "", "", "", "", "", "direct",
           "wino", "(ours)", "dnnl", "dnnl", "wino");
    printf("%-12s %4s %4s %5s %3s | %26s |\n", "", "", "", "", "", "GFLOP/s (direct FLOPs)");
    for (size_t si = 0; si < count; si++) {
        const shape *s = &list[si];
        int64_t xd[4] = {1, s->C, s->HW, s->HW}, wd[4] = {s->M, s->C, 3, 3}, bd[1] = {s->M};
        onyx_tensor X = {.name = "x", .dtype = ONYX_DTYPE_FLOAT32, .rank = 4},
                    Wt = {.name = "w", .dtype = ONYX_DTYPE_FLOAT32, .rank = 4},
                    B = {.name = "b", .dtype = ONYX_DTYPE_FLOAT32, .rank = 1};
        memcpy(X.dims, xd, sizeof xd);
        memcpy(Wt.dims, wd, sizeof wd);
        memcpy(B.dims, bd, sizeof bd);
        X.nbytes = (size_t)onyxi_shape_count(4, xd) * 4;
        Wt.nbytes = (size_t)onyxi_shape_count(4, wd) * 4;
        B.nbytes = (size_t)s->M * 4;
        X.data = malloc(X.nbytes);
        Wt.data = malloc(Wt.nbytes);
        B.data = malloc(B.nbytes);
        fill(X.data, X.nbytes / 4, 1);
        fill(Wt.data, Wt.nbytes / 4, 2);
        fill(B.data, B.nbytes / 4, 3);
        /* the input as a oneDNN convolution leaves it here: nhwc */
        dnnl_memory_desc_t nhwc;
        onyxi_dnnl_md_dims(&nhwc, 4, xd, dnnl_acdb, &err);
        X.layout = &nhwc;
        onyx_tensor *in[3] = {&X, &Wt, &B};

        onyxi_node node = {.name = "conv",
                           .op_type = "Conv",
                           .domain = "",
                           .opset = 11,
                           .n_inputs = 3,
                           .n_outputs = 1,
                           .op = op};
        onyxi_attr attrs[2] = {{.name = "pads", .type = ONYXI_ATTR_INTS, .count = 4},
                               {.name = "kernel_shape", .type = ONYXI_ATTR_INTS, .count = 2}};
        int64_t pads[4] = {1, 1, 1, 1}, ks[2] = {3, 3};
        attrs[0].ints = pads;
        attrs[1].ints = ks;
        node.attrs = attrs;
        node.n_attrs = 2;
        onyxi_fusion fusion = {.role = ONYXI_FUSION_HOST, .n_post = 1};
        fusion.post[0].kind = ONYXI_POST_RELU;
        node.fusion = &fusion;
        int inputs[3] = {0, 1, 2}, outputs[1] = {3};
        node.inputs = inputs;
        node.outputs = outputs;
        double flops = 2.0 * (double)s->M * (double)(s->HW * s->HW) * (double)s->C * 9;

        for (int threads = t_lo; threads <= t_hi; threads++) {
#ifdef _OPENMP
            omp_set_num_threads(threads); /* oneDNN fixes its threads at primitive creation */
#endif
            onyxi_backend be = {.engine = eng, .threads = threads};
            dnnl_stream_create(&be.stream, eng, dnnl_stream_default_flags);
            onyxi_weight_cache *cache = onyxi_weights_create();
            /* oneDNN's first choice (a direct kernel), its Winograd kernels (avx512_core only,
             * and offered by onyx up to 64x64x3x3 weights), ours */
            enum { NK = 4 };
            const onyxi_impl *impls[NK] = {&onyxi_conv_dnnl, &onyxi_conv_dnnl, &onyxi_conv_dnnl,
                                           &onyxi_conv_winograd};
            const int variants[NK] = {0, 1, 2, 0};
            bench_kernel k[NK];
            int ok[NK];
            for (int i = 0; i < NK; i++)
                ok[i] = prepare(&k[i], impls[i], variants[i], &node, in, &be, cache, threads, &err);
            for (int i = 1; i < 3; i++) /* a direct kernel is not a Winograd variant */
                if (ok[i] && !strstr(k[i].x.detail ? k[i].x.detail : "", "wino")) ok[i] = 0;
            /* runs per timed sample: about 20 ms of work at 100 GFLOP/s */
            int reps = (int)(2e9 / flops) + 1;
            double *t[NK];
            for (int i = 0; i < NK; i++)
                t[i] = calloc((size_t)rounds, sizeof(double));
            for (int r = 0; r < rounds; r++)
                for (int i = 0; i < NK; i++) {
                    if (!ok[i]) continue;
                    double t0 = now();
                    for (int j = 0; j < reps; j++)
                        impls[i]->run(&k[i].x);
                    t[i][r] = (now() - t0) / reps;
                }
            double rate[NK] = {0};
            for (int i = 0; i < NK; i++) {
                if (!ok[i]) continue;
                qsort(t[i], (size_t)rounds, sizeof(double), cmp_double);
                rate[i] = flops / t[i][rounds / 2] * 1e-9;
            }
            double dwino = rate[1] > rate[2] ? rate[1] : rate[2];
            double best = rate[0] > dwino ? rate[0] : dwino;
            char dw[16] = "       -";
            if (dwino > 0) snprintf(dw, sizeof dw, "%8.1f", dwino);
            printf("%-12s %4lld %4lld %2lldx%-2lld %3d | %8.1f %s %8.1f | %6.2fx | %6.1f %6.1f\n",
                   s->net, (long long)s->C, (long long)s->M, (long long)s->HW, (long long)s->HW,
                   threads, rate[0], dw, rate[3], best > 0 ? rate[3] / best : NAN, k[0].init_ms,
                   k[3].init_ms);
            fflush(stdout);
            for (int i = 0; i < NK; i++) {
                release(&k[i], impls[i]);
                free(t[i]);
            }
            onyxi_weights_free(cache);
            dnnl_stream_destroy(be.stream);
        }
        free(X.data);
        free(Wt.data);
        free(B.data);
    }
    return 0;
}
