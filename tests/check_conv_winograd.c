/*
 * Tests of the AVX2 Winograd F(4x4, 3x3) Conv kernel "wino" (ops/conv_winograd.c) against the
 * reference kernel on seeded random shapes: odd and tiny planes, channel counts that are not
 * multiples of 8, symmetric / asymmetric / auto pads, batch, bias, every fused post-op,
 * plain / nhwc / nChw8c / nChw16c inputs and addends, plain and nhwc outputs, 1 to 3 threads;
 * and the cases it must decline. Skipped (with a note) on CPUs without AVX2+FMA.
 *
 * Error bound: a dot product's rounding error scales with the sum of its terms' magnitudes,
 * S = sum |x| |w| over the window (+ |b|), so the tests bound |wino - ref| / (1 + S). For the
 * direct reference that ratio is about 1e-7; Winograd's transforms (entries up to 5 in B^T and
 * 8 in A^T) multiply it: over these shapes (uniform [-1, 1) data and weights) the largest
 * measured is 3.2e-6, and the tests allow 1e-5. Relative to the output (|err| / (1 + |ref|))
 * that is about 1e-5 at 16 channels growing to 7e-4 at 512 with such unscaled weights.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "dnnl_blocked.h"
#include "dnnl_util.h"
#include "testutil.h"
#include "weights.h"

#define WINO_TOL 1e-5

static int have_avx2(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* ---- a harness like tu_run_op's, with the knobs a session has: threads, blocked_ok, inputs
 * beyond Conv's three (the addends of a fused Add) ---- */

/* out (a blocked tensor of the state's layout) reordered into a new plain tensor. */
static onyx_tensor *to_plain(const onyx_tensor *t) {
    onyx_tensor *p = tu_tensor(ONYX_DTYPE_FLOAT32, t->rank, t->dims, NULL);
    if (!t->layout) {
        memcpy(p->data, t->data, p->nbytes);
        return p;
    }
    dnnl_engine_t eng;
    onyxi_err err;
    ck_assert_int_eq(onyxi_dnnl_engine(&eng, &err), ONYX_OK);
    dnnl_stream_t stream;
    ck_assert_int_eq(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags), dnnl_success);
    dnnl_memory_desc_t to;
    ck_assert_int_eq(onyxi_dnnl_md_plain(&to, p, &err), ONYX_OK);
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t mf, mt;
    ck_assert_int_eq(dnnl_reorder_primitive_desc_create(&pd, t->layout, eng, &to, eng, NULL),
                     dnnl_success);
    ck_assert_int_eq(dnnl_primitive_create(&prim, pd), dnnl_success);
    ck_assert_int_eq(dnnl_memory_create(&mf, t->layout, eng, t->data), dnnl_success);
    ck_assert_int_eq(dnnl_memory_create(&mt, &to, eng, p->data), dnnl_success);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, mf}, {DNNL_ARG_TO, mt}};
    ck_assert_int_eq(dnnl_primitive_execute(prim, stream, 2, args), dnnl_success);
    ck_assert_int_eq(dnnl_stream_wait(stream), dnnl_success);
    dnnl_memory_destroy(mf);
    dnnl_memory_destroy(mt);
    dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
    dnnl_stream_destroy(stream);
    return p;
}

/* Runs Conv node n with implementation impl on in[0..n_in) (W and B constant); *y receives
 * the output as a plain tensor. blocked_ok as a session sets it (bit 0: the output may be
 * blocked; *out_nhwc tells whether it was); variant as the session's measured selection asks
 * for one. */
static onyx_status run_impl(const onyxi_impl *impl, int variant, onyxi_node *n, int n_in,
                            onyx_tensor **in, int threads, unsigned blocked_ok, onyx_tensor **y,
                            int *out_nhwc, onyxi_err *err) {
    onyxi_err_clear(err);
    const onyxi_op *op = onyxi_op_find("", "Conv", n->opset, err);
    ck_assert_ptr_nonnull(op);
    n->op = op;
    const onyx_tensor *ins[8] = {0};
    for (int k = 0; k < n_in; k++)
        ins[k] = in[k];
    onyx_tensor *out = calloc(1, sizeof *out);
    out->name = "";
    out->rank = -1;
    onyx_tensor *outs[1] = {out};
    onyxi_infer ic = {.node = n, .n_in = n_in, .in = ins, .n_out = 1, .out = outs, .err = err};
    onyx_status rc = op->infer(&ic);
    *y = NULL;
    if (rc != ONYX_OK) {
        free(out);
        return rc;
    }
    out->nbytes = (size_t)onyxi_shape_count(out->rank, out->dims) * sizeof(float);
    onyxi_backend be = {0};
    ck_assert_int_eq(onyxi_dnnl_engine(&be.engine, err), ONYX_OK);
    ck_assert_int_eq(dnnl_stream_create(&be.stream, be.engine, dnnl_stream_default_flags),
                     dnnl_success);
    be.threads = threads;
    onyxi_weight_cache *cache = onyxi_weights_create();
    onyxi_exec x = {.node = n,
                    .n_in = n_in,
                    .in = ins,
                    .n_out = 1,
                    .out = outs,
                    .num_threads = threads,
                    .err = err,
                    .backend = &be,
                    .weights = cache,
                    .const_inputs = 6u,
                    .blocked_ok = blocked_ok,
                    .variant = variant};
    void *scratch = NULL;
    rc = impl->init ? impl->init(&x) : ONYX_OK;
    if (rc == ONYX_OK) {
        out->data = malloc(out->nbytes + 64);
        memset(out->data, 0xA5, out->nbytes); /* poison: every element must be written */
        if (x.scratch_bytes) x.scratch = scratch = malloc(x.scratch_bytes);
        rc = impl->run(&x);
    }
    if (rc == ONYX_OK) {
        if (out_nhwc) *out_nhwc = out->layout != NULL;
        *y = to_plain(out); /* while the state that owns the layout lives */
    }
    if (impl->fini) impl->fini(&x);
    free(scratch);
    free(out->data);
    free(out);
    onyxi_weights_free(cache);
    dnnl_stream_destroy(be.stream);
    return rc;
}

static const onyxi_impl *ref_impl(void) {
    onyxi_err err;
    return tu_ref_impl(onyxi_op_find("", "Conv", 11, &err));
}

/* A copy of t with every element's absolute value. */
static onyx_tensor *abs_copy(const onyx_tensor *t) {
    if (!t) return NULL;
    onyx_tensor *a = tu_tensor(ONYX_DTYPE_FLOAT32, t->rank, t->dims, t->data);
    float *p = a->data;
    for (size_t i = 0; i < a->nbytes / sizeof(float); i++)
        p[i] = fabsf(p[i]);
    return a;
}

/* The scale of each output's rounding error: sum |x| |w| over its window, plus |b| (the
 * reference Conv node n, unfused, on absolute values). */
static onyx_tensor *magnitude(onyxi_node *n, int n_in, onyx_tensor *const *in) {
    onyx_tensor *a[3] = {abs_copy(in[0]), abs_copy(in[1]), n_in > 2 ? abs_copy(in[2]) : NULL};
    const onyxi_fusion *f = n->fusion;
    int saved = n->n_inputs;
    n->fusion = NULL;
    n->n_inputs = n_in > 3 ? 3 : n_in;
    onyx_tensor *mag = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, a, &mag, "ref", &err), ONYX_OK);
    n->fusion = (onyxi_fusion *)f;
    n->n_inputs = saved;
    for (int k = 0; k < 3; k++)
        tu_tensor_free(a[k]);
    return mag;
}

/* Largest |got - want| / (1 + mag): 0 for exact results, about 1e-7 x the number of terms for
 * a direct convolution's rounding. NaN only matches NaN. */
static double scaled_err(const onyx_tensor *got, const onyx_tensor *want, const onyx_tensor *mag) {
    ck_assert_int_eq(got->rank, want->rank);
    for (int i = 0; i < got->rank; i++)
        ck_assert_int_eq(got->dims[i], want->dims[i]);
    const float *g = got->data, *w = want->data, *m = mag->data;
    double worst = 0;
    for (size_t i = 0; i < want->nbytes / sizeof(float); i++) {
        if (isnan(w[i])) {
            ck_assert_msg(isnan(g[i]), "element %zu: got %g, want NaN", i, (double)g[i]);
            continue;
        }
        double d = fabs((double)g[i] - w[i]) / (1 + m[i]);
        ck_assert_msg(d == d, "element %zu: got %g, want %g", i, (double)g[i], (double)w[i]);
        if (d > worst) worst = d;
    }
    return worst;
}

/* ---- one differential case ---- */

typedef struct wcase {
    int64_t N, C, M, H, W;
    int64_t pads[4];      /* top, left, bottom, right */
    const char *auto_pad; /* NULL: explicit pads */
    int bias, threads, blocked_out;
    dnnl_format_tag_t in_tag, add_tag; /* dnnl_format_tag_undef: plain */
    int n_post;
    onyxi_post_op post[4];
    unsigned seed;
} wcase;

static onyxi_node *case_node(const wcase *c, int n_in) {
    /* a fused Add's addends are extra inputs (3..), as the graph passes add them */
    onyxi_node *n = tu_node_new("Conv", 11, n_in, 1);
    int64_t ks[2] = {3, 3};
    tu_attr_ints(n, "kernel_shape", 2, ks);
    if (c->auto_pad)
        tu_attr_string(n, "auto_pad", c->auto_pad);
    else {
        int64_t p[4] = {c->pads[0], c->pads[1], c->pads[2], c->pads[3]};
        tu_attr_ints(n, "pads", 4, p);
    }
    return n;
}

/* Runs case c with wino and ref; returns the relative error (asserting it is in bounds). */
static double check_case(const wcase *c) {
    int64_t xd[4] = {c->N, c->C, c->H, c->W}, wd[4] = {c->M, c->C, 3, 3}, bd[1] = {c->M};
    onyx_tensor *x = tu_tensor_random(4, xd, c->seed, -1, 1);
    onyx_tensor *w = tu_tensor_random(4, wd, c->seed + 1, -1, 1);
    onyx_tensor *b = c->bias ? tu_tensor_random(1, bd, c->seed + 2, -1, 1) : NULL;
    int n_in = c->bias ? 3 : 2;
    onyxi_fusion f = {.role = ONYXI_FUSION_HOST, .n_post = c->n_post};
    onyx_tensor *plain_in[8] = {x, w, b}, *wino_in[8] = {x, w, b};
    onyx_tensor *extra[8] = {0};
    int n_extra = 0;
    /* the output shape, for the addends */
    onyxi_node *probe = case_node(c, n_in);
    onyx_tensor *shape = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_infer_op(probe, plain_in, &shape, &err), ONYX_OK);
    tu_node_free(probe);
    if (!c->bias && c->n_post > 0) n_in = 3; /* addends go at 3..: B is absent */
    for (int i = 0; i < c->n_post; i++) {
        f.post[i] = c->post[i];
        if (c->post[i].kind != ONYXI_POST_ADD) continue;
        onyx_tensor *r = tu_tensor_random(4, shape->dims, c->seed + 10 + (unsigned)i, -1, 1);
        f.post[i].input = n_in;
        plain_in[n_in] = r;
        wino_in[n_in] = c->add_tag != dnnl_format_tag_undef ? tu_blocked(r, c->add_tag) : r;
        extra[n_extra++] = r;
        if (wino_in[n_in] != r) extra[n_extra++] = wino_in[n_in];
        n_in++;
    }
    tu_tensor_free(shape);
    if (c->in_tag != dnnl_format_tag_undef) wino_in[0] = tu_blocked(x, c->in_tag);

    onyx_tensor *want = NULL, *got = NULL;
    onyxi_node *n = case_node(c, n_in);
    if (!c->bias && n_in > 2) tu_node_absent_input(n, 2);
    n->fusion = &f;
    onyx_status rc = run_impl(ref_impl(), 0, n, n_in, plain_in, 1, 0, &want, NULL, &err);
    ck_assert_msg(rc == ONYX_OK, "ref: %s", err.msg);
    int nhwc = 0;
    rc = run_impl(&onyxi_conv_winograd, 0, n, n_in, wino_in, c->threads, c->blocked_out, &got,
                  &nhwc, &err);
    ck_assert_msg(rc == ONYX_OK, "wino: %d %s", rc, err.msg);
    /* nhwc when allowed, unless that is the plain layout too (one channel or one pixel) */
    ck_assert_msg(nhwc == c->blocked_out ||
                      (c->blocked_out && (c->M == 1 || got->dims[2] * got->dims[3] == 1)),
                  "output layout %s, blocked_ok %d, M %lld, %lldx%lld", nhwc ? "nhwc" : "plain",
                  c->blocked_out, (long long)c->M, (long long)c->H, (long long)c->W);
    onyx_tensor *mag = magnitude(n, n_in, plain_in);
    double e = scaled_err(got, want, mag);
    tu_tensor_free(mag);
    if (getenv("WINO_SHOW_ERR")) printf("C%lld M%lld: %.3g\n", (long long)c->C, (long long)c->M, e);
    ck_assert_msg(e <= WINO_TOL,
                  "N%lld C%lld M%lld %lldx%lld pads %lld,%lld,%lld,%lld threads %d posts %d: "
                  "relative error %g > %g",
                  (long long)c->N, (long long)c->C, (long long)c->M, (long long)c->H,
                  (long long)c->W, (long long)c->pads[0], (long long)c->pads[1],
                  (long long)c->pads[2], (long long)c->pads[3], c->threads, c->n_post, e, WINO_TOL);
    n->fusion = NULL;
    tu_node_free(n);
    if (wino_in[0] != x) tu_tensor_free(wino_in[0]);
    for (int i = 0; i < n_extra; i++)
        tu_tensor_free(extra[i]);
    tu_tensor_free(x);
    tu_tensor_free(w);
    tu_tensor_free(b);
    tu_tensor_free(want);
    tu_tensor_free(got);
    return e;
}

static unsigned rnd(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static onyxi_post_op random_post(unsigned *s) {
    onyxi_post_op p = {.kind = (onyxi_post_kind)(ONYXI_POST_RELU + rnd(s) % 7)};
    switch (p.kind) {
    case ONYXI_POST_LEAKY_RELU:
        p.alpha = 0.1f;
        break;
    case ONYXI_POST_CLIP: /* sometimes lo > hi: Clip then gives hi everywhere */
        p.alpha = rnd(s) % 4 ? -0.5f : 0.75f;
        p.beta = 0.6f;
        break;
    case ONYXI_POST_HARD_SIGMOID:
        p.alpha = 0.2f, p.beta = 0.5f;
        break;
    default:
        break;
    }
    return p;
}

/* ---- tests ---- */

#define SKIP_WITHOUT_AVX2()                                                                        \
    do {                                                                                           \
        if (!have_avx2()) {                                                                        \
            fprintf(stderr, "note: no AVX2+FMA, the Winograd kernel is not tested\n");             \
            return;                                                                                \
        }                                                                                          \
    } while (0)

START_TEST(test_wino_matches_ref_random) {
    SKIP_WITHOUT_AVX2();
    static const int64_t chans[] = {1, 3, 13, 67, 8, 16};
    static const dnnl_format_tag_t tags[] = {dnnl_format_tag_undef, dnnl_acdb, dnnl_aBcd8b,
                                             dnnl_aBcd16b};
    unsigned s = 2024;
    double worst = 0;
    for (int iter = 0; iter < 72; iter++) {
        wcase c = {.N = 1 + (rnd(&s) % 4 == 0),
                   .C = chans[rnd(&s) % 6],
                   .M = chans[rnd(&s) % 6],
                   .H = 1 + rnd(&s) % 17,
                   .W = 1 + rnd(&s) % 17,
                   .bias = (int)(rnd(&s) % 2),
                   .threads = 1 + (int)(rnd(&s) % 3),
                   .blocked_out = (int)(rnd(&s) % 2),
                   .in_tag = tags[rnd(&s) % 4],
                   .add_tag = tags[rnd(&s) % 4],
                   .seed = 100 + (unsigned)iter};
        switch (rnd(&s) % 3) {
        case 0:
            break; /* no pads */
        case 1:
            for (int i = 0; i < 4; i++)
                c.pads[i] = 1;
            break;
        default:
            for (int i = 0; i < 4; i++)
                c.pads[i] = rnd(&s) % 3;
        }
        /* the output must not be empty: in + pads >= 3 */
        if (c.H + c.pads[0] + c.pads[2] < 3) c.pads[2] = 3 - c.H - c.pads[0];
        if (c.W + c.pads[1] + c.pads[3] < 3) c.pads[3] = 3 - c.W - c.pads[1];
        c.n_post = (int)(rnd(&s) % 3);
        for (int i = 0; i < c.n_post; i++)
            c.post[i] = random_post(&s);
        double e = check_case(&c);
        if (e > worst) worst = e;
    }
    ck_assert(worst > 0); /* Winograd is not bit-exact: a zero would mean ref ran twice */
}
END_TEST

START_TEST(test_wino_each_post_op) {
    SKIP_WITHOUT_AVX2();
    for (int kind = ONYXI_POST_RELU; kind <= ONYXI_POST_ADD; kind++)
        for (int out = 0; out < 2; out++) {
            unsigned s = (unsigned)(kind * 7 + out);
            wcase c = {.N = 1,
                       .C = 13,
                       .M = 13,
                       .H = 9,
                       .W = 11,
                       .pads = {1, 1, 1, 1},
                       .bias = 1,
                       .threads = 1,
                       .blocked_out = out,
                       .in_tag = out ? dnnl_acdb : dnnl_format_tag_undef,
                       .add_tag = out ? dnnl_aBcd8b : dnnl_format_tag_undef,
                       .n_post = 2,
                       .seed = 7 + (unsigned)kind};
            c.post[0] = random_post(&s);
            c.post[0].kind = (onyxi_post_kind)kind;
            if (kind == ONYXI_POST_LEAKY_RELU) c.post[0].alpha = 0.1f;
            if (kind == ONYXI_POST_CLIP) c.post[0].alpha = -0.5f, c.post[0].beta = 0.5f;
            if (kind == ONYXI_POST_HARD_SIGMOID) c.post[0].alpha = 0.2f, c.post[0].beta = 0.5f;
            c.post[1].kind = ONYXI_POST_ADD; /* a residual after every activation */
            check_case(&c);
        }
}
END_TEST

/* Blocks of tiles and output-channel chunks split across threads (the shapes of resnet18's
 * and densenet121's 3x3 layers, smaller planes), each input layout. */
START_TEST(test_wino_network_shapes) {
    SKIP_WITHOUT_AVX2();
    static const int64_t shapes[][3] = {
        {64, 64, 30}, {128, 32, 28}, {256, 192, 7}, {128, 128, 14}, {96, 40, 17}};
    for (int i = 0; i < 5; i++)
        for (int threads = 1; threads <= 2; threads++) {
            wcase c = {.N = 1,
                       .C = shapes[i][0],
                       .M = shapes[i][1],
                       .H = shapes[i][2],
                       .W = shapes[i][2],
                       .pads = {1, 1, 1, 1},
                       .bias = 1,
                       .threads = threads,
                       .blocked_out = threads == 2,
                       .in_tag = threads == 2 ? dnnl_acdb : dnnl_aBcd8b,
                       .add_tag = dnnl_acdb,
                       .n_post = 2,
                       .seed = 50 + (unsigned)i};
            c.post[0].kind = ONYXI_POST_ADD;
            c.post[1].kind = ONYXI_POST_RELU;
            check_case(&c);
        }
}
END_TEST

/* The convolutions of models/zoo/resnet at batch 3, in the layouts their producers chose. */
START_TEST(test_wino_batch_layouts) {
    SKIP_WITHOUT_AVX2();
    for (int threads = 1; threads <= 2; threads++) {
        wcase stem = {.N = 3,
                      .C = 3,
                      .M = 8,
                      .H = 32,
                      .W = 32,
                      .pads = {1, 1, 1, 1},
                      .bias = 1,
                      .threads = threads,
                      .blocked_out = 1,
                      .n_post = 1,
                      .seed = 31};
        stem.post[0].kind = ONYXI_POST_RELU;
        check_case(&stem);
        wcase block = {.N = 3,
                       .C = 8,
                       .M = 8,
                       .H = 16,
                       .W = 16,
                       .pads = {1, 1, 1, 1},
                       .bias = 1,
                       .threads = threads,
                       .blocked_out = 1,
                       .in_tag = dnnl_aBcd16b,
                       .add_tag = dnnl_acdb,
                       .n_post = 2,
                       .seed = 32};
        block.post[0].kind = ONYXI_POST_ADD;
        block.post[1].kind = ONYXI_POST_RELU;
        check_case(&block);
        block.in_tag = dnnl_acdb;
        block.add_tag = dnnl_aBcd16b;
        check_case(&block);
    }
}
END_TEST

START_TEST(test_wino_auto_pad_and_batch) {
    SKIP_WITHOUT_AVX2();
    static const char *modes[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    for (int i = 0; i < 3; i++) {
        wcase c = {.N = 3,
                   .C = 5,
                   .M = 9,
                   .H = 10,
                   .W = 7,
                   .auto_pad = modes[i],
                   .bias = 1,
                   .threads = 2,
                   .blocked_out = i % 2,
                   .seed = 90 + (unsigned)i};
        check_case(&c);
    }
}
END_TEST

/* Through the common op harness (tu_run_op): plain in, plain out, one thread. */
START_TEST(test_wino_through_tu_run_op) {
    SKIP_WITHOUT_AVX2();
    int64_t xd[4] = {1, 67, 13, 15}, wd[4] = {13, 67, 3, 3}, bd[1] = {13};
    onyx_tensor *in[3] = {tu_tensor_random(4, xd, 1, -1, 1), tu_tensor_random(4, wd, 2, -1, 1),
                          tu_tensor_random(1, bd, 3, -1, 1)};
    onyxi_node *n = tu_node_new("Conv", 11, 3, 1);
    int64_t pads[4] = {0, 1, 2, 1};
    tu_attr_ints(n, "pads", 4, pads);
    onyx_tensor *want = NULL, *got = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, in, &want, "ref", &err), ONYX_OK);
    onyx_status rc = tu_run_op(n, in, &got, "wino", &err);
    ck_assert_msg(rc == ONYX_OK, "wino: %s", err.msg);
    onyx_tensor *mag = magnitude(n, 3, in);
    ck_assert_double_le(scaled_err(got, want, mag), WINO_TOL);
    tu_tensor_free(mag);
    tu_tensor_free(want);
    tu_tensor_free(got);
    for (int k = 0; k < 3; k++)
        tu_tensor_free(in[k]);
    tu_node_free(n);
}
END_TEST

/* Hand-computed: a 4x4 image of ones, all-ones 3x3 kernel, pads 1: each output counts the
 * input pixels under the window (4 at corners, 6 on edges, 9 inside), plus bias 0.5. */
START_TEST(test_wino_hand_values) {
    SKIP_WITHOUT_AVX2();
    int64_t xd[4] = {1, 1, 4, 4}, wd[4] = {1, 1, 3, 3}, bd[1] = {1};
    float ones[16], b = 0.5f;
    for (int i = 0; i < 16; i++)
        ones[i] = 1;
    onyx_tensor *in[3] = {tu_tensor(ONYX_DTYPE_FLOAT32, 4, xd, ones),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 4, wd, ones),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 1, bd, &b)};
    onyxi_node *n = tu_node_new("Conv", 11, 3, 1);
    int64_t pads[4] = {1, 1, 1, 1};
    tu_attr_ints(n, "pads", 4, pads);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(tu_run_op(n, in, &y, "wino", &err), ONYX_OK);
    const float want[16] = {4.5f, 6.5f, 6.5f, 4.5f, 6.5f, 9.5f, 9.5f, 6.5f,
                            6.5f, 9.5f, 9.5f, 6.5f, 4.5f, 6.5f, 6.5f, 4.5f};
    tu_assert_floats(y, 4, xd, want, 1e-5, 1e-6);
    tu_tensor_free(y);
    for (int k = 0; k < 3; k++)
        tu_tensor_free(in[k]);
    tu_node_free(n);
}
END_TEST

/* Everything but 2-D 3x3 stride-1 undilated ungrouped float32 with constant weights goes to
 * the next implementation. */
START_TEST(test_wino_declines) {
    SKIP_WITHOUT_AVX2();
    /* 6: 256x256 channels on 7x7 (4 tiles): oneDNN's direct kernel is the faster one */
    for (int which = 0; which < 7; which++) {
        int64_t C = which == 2 ? 4 : which == 6 ? 256 : 3;
        int64_t hw = which == 6 ? 7 : 9;
        int64_t xd[4] = {1, C, hw, hw},
                wd[4] = {which == 6 ? 256 : 4, which == 2 ? 2 : C, which == 3 ? 5 : 3,
                         which == 3 ? 5 : 3};
        int64_t xd1[3] = {1, 3, 9}, wd1[3] = {4, 3, 3};
        int rank = which == 4 ? 3 : 4;
        onyx_tensor *in[2] = {tu_tensor_random(rank, rank == 3 ? xd1 : xd, 1, -1, 1),
                              tu_tensor_random(rank, rank == 3 ? wd1 : wd, 2, -1, 1)};
        onyxi_node *n = tu_node_new("Conv", 11, 2, 1);
        int64_t two[2] = {2, 2};
        if (which == 0) tu_attr_ints(n, "strides", 2, two);
        if (which == 1) tu_attr_ints(n, "dilations", 2, two);
        if (which == 2) tu_attr_int(n, "group", 2);
        unsigned saved = tu_const_inputs;
        if (which == 5) tu_const_inputs = 0; /* weights computed at run time */
        onyx_tensor *y = NULL;
        onyxi_err err;
        onyx_status rc = tu_run_op(n, in, &y, "wino", &err);
        tu_const_inputs = saved;
        ck_assert_msg(rc == ONYX_UNSUPPORTED, "case %d: status %d (%s)", which, rc, err.msg);
        ck_assert_ptr_null(y);
        /* and the reference kernel takes it */
        ck_assert_int_eq(tu_run_op(n, in, &y, "ref", &err), ONYX_OK);
        tu_tensor_free(y);
        tu_tensor_free(in[0]);
        tu_tensor_free(in[1]);
        tu_node_free(n);
    }
}
END_TEST

/* A chain with a post-op the kernel does not write (GELU) goes to the next implementation. */
START_TEST(test_wino_declines_other_post_ops) {
    SKIP_WITHOUT_AVX2();
    int64_t xd[4] = {1, 8, 6, 6}, wd[4] = {8, 8, 3, 3};
    onyx_tensor *in[2] = {tu_tensor_random(4, xd, 1, -1, 1), tu_tensor_random(4, wd, 2, -1, 1)};
    onyxi_node *n = tu_node_new("Conv", 11, 2, 1);
    onyxi_fusion f = {.role = ONYXI_FUSION_HOST, .n_post = 2};
    f.post[0].kind = ONYXI_POST_RELU;
    f.post[1].kind = ONYXI_POST_GELU;
    f.post[1].alpha = 1.41421356f;
    n->fusion = &f;
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_impl(&onyxi_conv_winograd, 0, n, 2, in, 1, 1u, &y, NULL, &err),
                     ONYX_UNSUPPORTED);
    ck_assert_ptr_null(y);
    n->fusion = NULL;
    tu_node_free(n);
    tu_tensor_free(in[0]);
    tu_tensor_free(in[1]);
}
END_TEST

/* One kernel: it offers no variants, and declines any the session asks for. */
START_TEST(test_wino_has_no_variants) {
    SKIP_WITHOUT_AVX2();
    int64_t xd[4] = {1, 16, 8, 8}, wd[4] = {16, 16, 3, 3};
    onyx_tensor *in[2] = {tu_tensor_random(4, xd, 1, -1, 1), tu_tensor_random(4, wd, 2, -1, 1)};
    onyxi_node *n = tu_node_new("Conv", 11, 2, 1);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_int_eq(run_impl(&onyxi_conv_winograd, 1, n, 2, in, 1, 0, &y, NULL, &err),
                     ONYX_UNSUPPORTED);
    ck_assert_int_eq(run_impl(&onyxi_conv_winograd, 0, n, 2, in, 1, 0, &y, NULL, &err), ONYX_OK);
    tu_tensor_free(y);
    tu_node_free(n);
    tu_tensor_free(in[0]);
    tu_tensor_free(in[1]);
}
END_TEST

/* The registry lists wino after dnnl and before ref, and it takes blocked layouts. */
START_TEST(test_wino_registered) {
    onyxi_err err;
    const onyxi_op *op = onyxi_op_find("", "Conv", 11, &err);
    ck_assert_ptr_nonnull(op);
    int dnnl = -1, wino = -1, ref = -1;
    for (int i = 0; op->impls[i]; i++) {
        if (strcmp(op->impls[i]->name, "dnnl") == 0) dnnl = i;
        if (op->impls[i] == &onyxi_conv_winograd) wino = i;
        if (strcmp(op->impls[i]->name, "ref") == 0) ref = i;
    }
    ck_assert_int_ge(dnnl, 0);
    ck_assert_int_gt(wino, dnnl);
    ck_assert_int_gt(ref, wino);
    ck_assert(onyxi_impl_takes_blocked(&onyxi_conv_winograd));
}
END_TEST

static Suite *wino_suite(void) {
    Suite *s = suite_create("conv_winograd");
    TCase *tc = tcase_create("differential");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_wino_matches_ref_random);
    tcase_add_test(tc, test_wino_each_post_op);
    tcase_add_test(tc, test_wino_network_shapes);
    tcase_add_test(tc, test_wino_auto_pad_and_batch);
    tcase_add_test(tc, test_wino_batch_layouts);
    tcase_add_test(tc, test_wino_through_tu_run_op);
    suite_add_tcase(s, tc);
    tc = tcase_create("contract");
    tcase_add_test(tc, test_wino_hand_values);
    tcase_add_test(tc, test_wino_declines);
    tcase_add_test(tc, test_wino_declines_other_post_ops);
    tcase_add_test(tc, test_wino_has_no_variants);
    tcase_add_test(tc, test_wino_registered);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(wino_suite());
}
