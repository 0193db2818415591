/*
 * Tests of the AVX2+FMA depthwise Conv kernel (ops/conv_depthwise.c, implementation "dw"):
 * differential against the reference kernel on seeded random shapes (odd sizes, channel counts
 * that are not multiples of 8, asymmetric pads, strides 1 and 2, 3x3 and 5x5, every fused
 * activation, plain / nhwc / nChw8c inputs, plain and nhwc outputs, 1 and 2 threads, which must
 * agree bit for bit), and the cases it must decline.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "dnnl_blocked.h"
#include "dnnl_util.h"
#include "testutil.h"
#include "weights.h"

static int have_avx2(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* A copy of t in plain row-major layout (t stored as md). */
static onyx_tensor *to_plain(const onyx_tensor *t, const dnnl_memory_desc_t *md) {
    onyx_tensor *p = tu_tensor(ONYX_DTYPE_FLOAT32, t->rank, t->dims, NULL);
    dnnl_dims_t d = {0};
    for (int i = 0; i < t->rank; i++) d[i] = t->dims[i];
    dnnl_memory_desc_t plain;
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&plain, t->rank, d, dnnl_f32,
                                                  tu_plain_tag(t->rank)),
                     dnnl_success);
    dnnl_engine_t eng;
    onyxi_err err;
    ck_assert_int_eq(onyxi_dnnl_engine(&eng, &err), ONYX_OK);
    dnnl_stream_t st;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t mf, mt;
    ck_assert_int_eq(dnnl_stream_create(&st, eng, dnnl_stream_default_flags), dnnl_success);
    ck_assert_int_eq(dnnl_reorder_primitive_desc_create(&pd, md, eng, &plain, eng, NULL),
                     dnnl_success);
    ck_assert_int_eq(dnnl_primitive_create(&prim, pd), dnnl_success);
    ck_assert_int_eq(dnnl_memory_create(&mf, md, eng, t->data), dnnl_success);
    ck_assert_int_eq(dnnl_memory_create(&mt, &plain, eng, p->data), dnnl_success);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, mf}, {DNNL_ARG_TO, mt}};
    ck_assert_int_eq(dnnl_primitive_execute(prim, st, 2, args), dnnl_success);
    ck_assert_int_eq(dnnl_stream_wait(st), dnnl_success);
    dnnl_memory_destroy(mf);
    dnnl_memory_destroy(mt);
    dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
    dnnl_stream_destroy(st);
    return p;
}

/* Runs the dw implementation on node n as a session would: engine, stream, weight cache,
 * scratch, `threads` threads, and output 0 allowed to be nhwc when blocked_ok. The output has
 * the dims of `like` (the reference's output) and comes back plain. The node's attributes
 * were checked by a reference run before. */
static onyx_status run_dw(onyxi_node *n, onyx_tensor *const *in, const onyx_tensor *like,
                          unsigned blocked_ok, int threads, int *out_blocked, onyx_tensor **out,
                          onyxi_err *err) {
    onyxi_err_clear(err);
    n->op = onyxi_op_find(n->domain, n->op_type, n->opset, err);
    ck_assert_ptr_nonnull(n->op);
    const onyx_tensor *ins[8] = {0};
    for (int k = 0; k < n->n_inputs; k++) ins[k] = n->inputs[k] < 0 ? NULL : in[k];
    onyx_tensor *y = tu_tensor(ONYX_DTYPE_FLOAT32, like->rank, like->dims, NULL);
    memset(y->data, 0xA5, y->nbytes); /* poison: every element must be written */
    onyx_tensor *outs[1] = {y};
    onyxi_backend be = {0};
    ck_assert_int_eq(onyxi_dnnl_engine(&be.engine, err), ONYX_OK);
    ck_assert_int_eq(dnnl_stream_create(&be.stream, be.engine, dnnl_stream_default_flags),
                     dnnl_success);
    be.threads = threads;
    onyxi_weight_cache *cache = onyxi_weights_create();
    onyxi_exec x = {.node = n, .n_in = n->n_inputs, .in = ins, .n_out = 1, .out = outs,
                    .num_threads = threads, .err = err, .backend = &be, .weights = cache,
                    .const_inputs = tu_const_inputs, .blocked_ok = blocked_ok};
    onyx_status rc = onyxi_conv_dw.init(&x);
    void *scratch = NULL;
    if (rc == ONYX_OK && x.scratch_bytes) x.scratch = scratch = malloc(x.scratch_bytes);
    if (rc == ONYX_OK) rc = onyxi_conv_dw.run(&x);
    *out_blocked = y->layout != NULL;
    *out = NULL;
    if (rc == ONYX_OK) *out = y->layout ? to_plain(y, y->layout) : y;
    if (onyxi_conv_dw.fini) onyxi_conv_dw.fini(&x);
    free(scratch);
    onyxi_weights_free(cache);
    dnnl_stream_destroy(be.stream);
    if (*out != y) tu_tensor_free(y);
    return rc;
}

/* ---- the differential test ---- */

typedef struct dw_case {
    int64_t N, C, H, W;
    int K, S;
    int64_t pads[4]; /* top, left, bottom, right */
    const char *auto_pad; /* NULL: explicit pads */
    int bias;
    int n_post;
    onyxi_post_op post[3];
    int layout;      /* 0 plain, 1 nhwc, 2 nChw8c */
    unsigned blocked_ok;
    int threads;     /* 0: 1 and 2, which must agree bit for bit */
    float lo, hi;    /* input range */
    int nan;         /* one input element is NaN: the outputs reading it must be NaN */
} dw_case;

static onyxi_node *dw_node(const dw_case *c, onyxi_fusion *f) {
    onyxi_node *n = tu_node_new("Conv", 11, c->bias ? 3 : 2, 1);
    tu_attr_int(n, "group", c->C);
    int64_t k[2] = {c->K, c->K}, s[2] = {c->S, c->S};
    tu_attr_ints(n, "kernel_shape", 2, k);
    tu_attr_ints(n, "strides", 2, s);
    if (c->auto_pad)
        tu_attr_string(n, "auto_pad", c->auto_pad);
    else
        tu_attr_ints(n, "pads", 4, c->pads);
    if (c->n_post) {
        memset(f, 0, sizeof *f);
        f->role = ONYXI_FUSION_HOST;
        f->n_post = c->n_post;
        for (int i = 0; i < c->n_post; i++) f->post[i] = c->post[i];
        n->fusion = f;
    }
    return n;
}

static void free_node(onyxi_node *n) {
    n->fusion = NULL; /* the test's own */
    tu_node_free(n);
}

/* Runs case c with dw and ref; compares, and checks the output layout that was chosen. */
static void check_case(const dw_case *c, unsigned seed) {
    onyxi_fusion f;
    onyxi_node *n = dw_node(c, &f);
    int64_t xd[4] = {c->N, c->C, c->H, c->W}, wd[4] = {c->C, 1, c->K, c->K}, bd[1] = {c->C};
    onyx_tensor *X = tu_tensor_random(4, xd, seed, c->lo, c->hi);
    if (c->nan) ((float *)X->data)[c->W + 3] = NAN; /* row 1, column 3 of channel 0 */
    onyx_tensor *Wt = tu_tensor_random(4, wd, seed + 1, -1.0f, 1.0f);
    onyx_tensor *B = c->bias ? tu_tensor_random(1, bd, seed + 2, -1.0f, 1.0f) : NULL;
    onyx_tensor *in[3] = {X, Wt, B}, *want = NULL;
    onyxi_err err;
    ck_assert_msg(tu_run_op(n, in, &want, "ref", &err) == ONYX_OK, "ref: %s", err.msg);
    onyx_tensor *Xl = X;
    if (c->layout == 1) Xl = tu_blocked(X, dnnl_acdb);
    if (c->layout == 2) Xl = tu_blocked(X, dnnl_aBcd8b);
    onyx_tensor *din[3] = {Xl, Wt, B}, *got[2] = {NULL, NULL};
    for (int k = 0; k < (c->threads ? 1 : 2); k++) {
        int blocked = 0;
        onyx_status rc = run_dw(n, din, want, c->blocked_ok, c->threads ? c->threads : k + 1,
                                &blocked, &got[k], &err);
        ck_assert_msg(rc == ONYX_OK,
                      "dw declined N%lld C%lld %lldx%lld K%d S%d pads %lld,%lld,%lld,%lld: %d %s",
                      (long long)c->N, (long long)c->C, (long long)c->H, (long long)c->W, c->K,
                      c->S, (long long)c->pads[0], (long long)c->pads[1], (long long)c->pads[2],
                      (long long)c->pads[3], rc, err.msg);
        /* nhwc output exactly when allowed (C == 1 or a 1x1 output may equal plain) */
        if (!(c->blocked_ok & 1u)) ck_assert_int_eq(blocked, 0);
        if ((c->blocked_ok & 1u) && c->C > 1 && want->dims[2] * want->dims[3] > 1)
            ck_assert_int_eq(blocked, 1);
        tu_assert_close(got[k], want, 2e-5, 1e-4);
    }
    if (got[1]) ck_assert_int_eq(memcmp(got[0]->data, got[1]->data, got[0]->nbytes), 0);
    tu_tensor_free(got[0]);
    tu_tensor_free(got[1]);
    tu_tensor_free(want);
    if (Xl != X) tu_tensor_free(Xl);
    tu_tensor_free(X);
    tu_tensor_free(Wt);
    tu_tensor_free(B);
    free_node(n);
}

static onyxi_post_op post_of(int kind) {
    switch (kind) {
    case ONYXI_POST_LEAKY_RELU: return (onyxi_post_op){ONYXI_POST_LEAKY_RELU, 0.1f, 0.0f, 0};
    case ONYXI_POST_CLIP: return (onyxi_post_op){ONYXI_POST_CLIP, 0.0f, 6.0f, 0};
    case ONYXI_POST_HARD_SIGMOID: return (onyxi_post_op){ONYXI_POST_HARD_SIGMOID, 0.2f, 0.5f, 0};
    default: return (onyxi_post_op){(onyxi_post_kind)kind, 0.0f, 0.0f, 0};
    }
}

static unsigned rnd(unsigned *s, unsigned n) {
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) % n;
}

START_TEST(test_dw_random_vs_ref) {
    if (!have_avx2()) return;
    static const int64_t chans[] = {1, 3, 8, 13, 16, 67, 96};
    unsigned s = 20240601u;
    for (int it = 0; it < 160; it++) {
        dw_case c = {0};
        c.N = 1 + rnd(&s, 4) / 3; /* mostly 1 */
        c.C = chans[rnd(&s, 7)];
        c.K = rnd(&s, 2) ? 5 : 3;
        c.S = 1 + (int)rnd(&s, 2);
        c.H = 1 + rnd(&s, 23);
        c.W = 1 + rnd(&s, 31);
        for (int i = 0; i < 4; i++) c.pads[i] = rnd(&s, (unsigned)c.K);
        /* the padded input must hold one window */
        if (c.H + c.pads[0] + c.pads[2] < c.K) c.pads[2] = c.K - c.H - c.pads[0];
        if (c.W + c.pads[1] + c.pads[3] < c.K) c.pads[3] = c.K - c.W - c.pads[1];
        if (rnd(&s, 8) == 0) c.auto_pad = rnd(&s, 2) ? "SAME_UPPER" : "SAME_LOWER";
        c.bias = rnd(&s, 4) != 0;
        c.n_post = (int)rnd(&s, 3);
        for (int i = 0; i < c.n_post; i++)
            c.post[i] = post_of(ONYXI_POST_RELU + (int)rnd(&s, ONYXI_POST_SILU));
        c.layout = (int)rnd(&s, 3);
        c.blocked_ok = rnd(&s, 2);
        c.threads = (int)rnd(&s, 3);
        c.lo = -2.0f;
        c.hi = 2.0f;
        check_case(&c, 1000u + (unsigned)it);
    }
}
END_TEST

/* Every activation alone, on a shape with interior tiles, borders and a channel tail, with
 * inputs large enough to reach the flat ends of Sigmoid and SiLU, and a NaN that every
 * activation must pass on as the unfused kernels do. */
START_TEST(test_dw_each_post_op) {
    if (!have_avx2()) return;
    for (int kind = ONYXI_POST_RELU; kind <= ONYXI_POST_SILU; kind++) {
        for (int k = 3; k <= 5; k += 2) {
            dw_case c = {.N = 1, .C = 21, .H = 17, .W = 29, .K = k, .S = 1,
                         .pads = {k / 2, k / 2, k / 2, k / 2}, .bias = 1, .n_post = 1,
                         .layout = 1, .blocked_ok = 1, .threads = 1, .lo = -40.0f, .hi = 40.0f,
                         .nan = 1};
            c.post[0] = post_of(kind);
            check_case(&c, 77u + (unsigned)kind);
        }
    }
    /* a chain of three, and HardSigmoid's own alpha / beta, and Clip with one open end */
    dw_case c = {.N = 2, .C = 19, .H = 9, .W = 12, .K = 3, .S = 2, .pads = {1, 0, 2, 1},
                 .bias = 1, .n_post = 3, .layout = 0, .blocked_ok = 0, .threads = 2,
                 .lo = -5.0f, .hi = 5.0f};
    c.post[0] = (onyxi_post_op){ONYXI_POST_HARD_SIGMOID, 0.3f, 0.1f, 0};
    c.post[1] = (onyxi_post_op){ONYXI_POST_CLIP, -INFINITY, 0.7f, 0};
    c.post[2] = post_of(ONYXI_POST_SILU);
    check_case(&c, 5);
}
END_TEST

/* The real shapes of mobilenet_v2 and efficientnet_b0 (stride 2 with pads 1/2, 7x7 planes with
 * many channels), whose tiles and thread split the random cases rarely reach; 1 and 2 threads
 * agree bit for bit. */
START_TEST(test_dw_model_shapes) {
    if (!have_avx2()) return;
    static const struct { int64_t C, H; int K, S; } shapes[] = {
        {32, 112, 3, 1}, {96, 112, 3, 2}, {144, 56, 5, 2}, {240, 28, 5, 1}, {1152, 7, 5, 1},
        {576, 14, 3, 2}, {960, 7, 3, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int p = shapes[i].K / 2;
        dw_case c = {.N = 1, .C = shapes[i].C, .H = shapes[i].H, .W = shapes[i].H,
                     .K = shapes[i].K, .S = shapes[i].S, .pads = {p, p, p, p}, .bias = 1,
                     .n_post = 1, .layout = 1, .blocked_ok = 1, .threads = 0,
                     .lo = -3.0f, .hi = 3.0f};
        c.post[0] = post_of(i % 2 ? ONYXI_POST_SILU : ONYXI_POST_CLIP);
        check_case(&c, 300u + (unsigned)i);
    }
}
END_TEST

/* ---- declines ---- */

/* Expects dw to decline node n on X [N,C,H,W] and weights wdims with ONYX_UNSUPPORTED. */
static void expect_decline(onyxi_node *n, const int64_t *xdims, const int64_t *wdims, int wrank,
                           const char *what) {
    int64_t bd[1] = {wdims[0]};
    int rank = wrank;
    onyx_tensor *X = tu_tensor_random(rank, xdims, 1, -1, 1);
    onyx_tensor *Wt = tu_tensor_random(wrank, wdims, 2, -1, 1);
    onyx_tensor *B = n->n_inputs > 2 ? tu_tensor_random(1, bd, 3, -1, 1) : NULL;
    onyx_tensor *in[3] = {X, Wt, B}, *want = NULL, *got = NULL;
    onyxi_err err;
    ck_assert_msg(tu_run_op(n, in, &want, "ref", &err) == ONYX_OK, "%s: ref: %s", what, err.msg);
    int blocked;
    onyx_status rc = run_dw(n, in, want, 1, 1, &blocked, &got, &err);
    ck_assert_msg(rc == ONYX_UNSUPPORTED, "%s: got status %d (%s), expected a decline", what, rc,
                  err.msg);
    ck_assert_ptr_null(got);
    tu_tensor_free(want);
    tu_tensor_free(X);
    tu_tensor_free(Wt);
    tu_tensor_free(B);
    free_node(n);
}

static onyxi_node *node_with(int64_t group, int64_t k0, int64_t k1, int64_t s0, int64_t s1,
                             int64_t dil) {
    onyxi_node *n = tu_node_new("Conv", 11, 3, 1);
    tu_attr_int(n, "group", group);
    int64_t k[2] = {k0, k1}, s[2] = {s0, s1}, d[2] = {dil, dil}, p[4] = {1, 1, 1, 1};
    tu_attr_ints(n, "kernel_shape", 2, k);
    tu_attr_ints(n, "strides", 2, s);
    tu_attr_ints(n, "dilations", 2, d);
    tu_attr_ints(n, "pads", 4, p);
    return n;
}

START_TEST(test_dw_declines) {
    if (!have_avx2()) return;
    int64_t x[4] = {1, 16, 11, 11};
    int64_t w3[4] = {16, 1, 3, 3}, w7[4] = {16, 1, 7, 7}, w35[4] = {16, 1, 3, 5};
    int64_t wm2[4] = {32, 1, 3, 3}, wg[4] = {16, 2, 3, 3}, w1[4] = {16, 1, 1, 1};
    expect_decline(node_with(1, 3, 3, 1, 1, 1), x, (int64_t[]){16, 16, 3, 3}, 4, "group 1");
    expect_decline(node_with(8, 3, 3, 1, 1, 1), x, wg, 4, "group C/2");
    expect_decline(node_with(16, 3, 3, 1, 1, 1), x, wm2, 4, "multiplier 2");
    expect_decline(node_with(16, 7, 7, 1, 1, 1), x, w7, 4, "7x7");
    expect_decline(node_with(16, 1, 1, 1, 1, 1), x, w1, 4, "1x1");
    expect_decline(node_with(16, 3, 5, 1, 1, 1), x, w35, 4, "3x5");
    expect_decline(node_with(16, 3, 3, 3, 3, 1), x, w3, 4, "stride 3");
    expect_decline(node_with(16, 3, 3, 1, 2, 1), x, w3, 4, "strides 1, 2");
    expect_decline(node_with(16, 3, 3, 1, 1, 2), x, w3, 4, "dilation 2");
    /* non-constant weights */
    tu_const_inputs = ~3u;
    expect_decline(node_with(16, 3, 3, 1, 1, 1), x, w3, 4, "weights not constant");
    tu_const_inputs = ~1u;
    /* a fused Add, and a Clip with min > max */
    static onyxi_fusion fadd, fclip;
    /* (the graph pass appends the addend as a 4th input after the load-time checks) */
    onyxi_node *n = tu_node_new("Conv", 11, 3, 1);
    tu_attr_int(n, "group", 16);
    tu_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
    n->n_inputs = 4;
    n->inputs[3] = 3;
    fadd = (onyxi_fusion){.role = ONYXI_FUSION_HOST, .n_post = 1};
    fadd.post[0] = (onyxi_post_op){ONYXI_POST_ADD, 0, 0, 3};
    n->fusion = &fadd;
    {
        onyx_tensor *X = tu_tensor_random(4, x, 1, -1, 1), *Wt = tu_tensor_random(4, w3, 2, -1, 1);
        onyx_tensor *B = tu_tensor_random(1, (int64_t[]){16}, 3, -1, 1);
        onyx_tensor *R = tu_tensor_random(4, x, 4, -1, 1);
        onyx_tensor *in[4] = {X, Wt, B, R}, *got = NULL;
        onyxi_err err;
        int blocked;
        onyx_status rc = run_dw(n, in, X, 1, 1, &blocked, &got, &err);
        ck_assert_msg(rc == ONYX_UNSUPPORTED, "fused Add: status %d (%s)", rc, err.msg);
        tu_tensor_free(X);
        tu_tensor_free(Wt);
        tu_tensor_free(B);
        tu_tensor_free(R);
        free_node(n);
    }
    n = node_with(16, 3, 3, 1, 1, 1);
    fclip = (onyxi_fusion){.role = ONYXI_FUSION_HOST, .n_post = 1};
    fclip.post[0] = (onyxi_post_op){ONYXI_POST_CLIP, 2.0f, 1.0f, 0};
    n->fusion = &fclip;
    expect_decline(n, x, w3, 4, "Clip min > max");
    /* a post-op kind it does not know (GELU) */
    static onyxi_fusion fgelu;
    n = node_with(16, 3, 3, 1, 1, 1);
    fgelu = (onyxi_fusion){.role = ONYXI_FUSION_HOST, .n_post = 1};
    fgelu.post[0] = (onyxi_post_op){.kind = ONYXI_POST_GELU};
    n->fusion = &fgelu;
    expect_decline(n, x, w3, 4, "GELU");
    /* 1-D and 3-D convolutions */
    onyxi_node *n1 = tu_node_new("Conv", 11, 2, 1);
    tu_attr_int(n1, "group", 16);
    expect_decline(n1, (int64_t[]){1, 16, 11}, (int64_t[]){16, 1, 3}, 3, "1-D");
    onyxi_node *n3 = tu_node_new("Conv", 11, 2, 1);
    tu_attr_int(n3, "group", 16);
    expect_decline(n3, (int64_t[]){1, 16, 5, 5, 5}, (int64_t[]){16, 1, 3, 3, 3}, 5, "3-D");
}
END_TEST

/* dw is registered for Conv after dnnl and before ref, and reads blocked layouts. */
START_TEST(test_dw_registered) {
    onyxi_err err;
    const onyxi_op *op = onyxi_op_find("", "Conv", 11, &err);
    ck_assert_ptr_nonnull(op);
    int dnnl = -1, dw = -1, ref = -1;
    for (int i = 0; op->impls[i]; i++) {
        if (op->impls[i] == &onyxi_conv_dw) dw = i;
        if (strcmp(op->impls[i]->name, "dnnl") == 0) dnnl = i;
        if (strcmp(op->impls[i]->name, "ref") == 0) ref = i;
    }
    ck_assert_int_ge(dw, 0);
    ck_assert_int_lt(dnnl, dw);
    ck_assert_int_lt(dw, ref);
    ck_assert(onyxi_impl_takes_blocked(&onyxi_conv_dw));
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("conv_depthwise");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_dw_random_vs_ref);
    tcase_add_test(tc, test_dw_each_post_op);
    tcase_add_test(tc, test_dw_model_shapes);
    tcase_add_test(tc, test_dw_declines);
    tcase_add_test(tc, test_dw_registered);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run_suite(suite()); }
