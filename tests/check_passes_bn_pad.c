/*
 * Graph passes for pre-activation networks (runtime/passes.c): fuse_act making a
 * BatchNormalization that fold_bn left standing host the Relu it feeds (DenseNet's
 * norm -> relu -> conv), and drop_identity dropping a Pad whose pads are all zero (PyTorch's
 * Pad before a count_include_pad AveragePool). Each on small hand-built models: the pass
 * fires, results equal the run without it (bit for bit on the reference kernels, within the
 * node-test tolerance on oneDNN), it declines where it must, and its switch turns it off.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modelrun.h"
#include "pbbuild.h"
#include "testutil.h"

#define FLOAT ONYX_DTYPE_FLOAT32
#define INT64 ONYX_DTYPE_INT64
#define ATTR_TENSOR ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR

/* ---- building and running models ---- */

/* Conv `name` of in [.., c, ..] to out with m channels, k x k, same padding, random weights. */
static void conv(mb *b, const char *name, const char *in, const char *out, int64_t c, int64_t m,
                 int k, unsigned seed) {
    char w[32], bias[32], io[96];
    snprintf(w, sizeof w, "%s_W", name);
    snprintf(bias, sizeof bias, "%s_B", name);
    int64_t wd[4] = {m, c, k, k};
    mb_init_floats(b, w, 4, wd, mb_random_floats(b, (size_t)(m * c * k * k), seed, -0.4f, 0.4f));
    mb_init_floats(b, bias, 1, &m, mb_random_floats(b, (size_t)m, seed + 1, -0.3f, 0.3f));
    snprintf(io, sizeof io, "%s,%s,%s", in, w, bias);
    Onnx__NodeProto *n = mb_node(b, "Conv", name, io, out);
    int64_t ks[2] = {k, k}, pads[4] = {k / 2, k / 2, k / 2, k / 2};
    mb_attr_ints(b, n, "kernel_shape", 2, ks);
    mb_attr_ints(b, n, "pads", 4, pads);
}

/* BatchNormalization `name` of in (c channels) to out, random parameters (one shared
 * tensor per role: the BN nodes of a model have distinct channel counts). */
static void bn(mb *b, const char *name, const char *in, const char *out, int64_t c, unsigned seed) {
    static const char *const roles[4] = {"scale", "bias", "mean", "var"};
    static const float lo[4] = {0.5f, -1, -0.5f, 0.2f}, hi[4] = {1.5f, 1, 0.5f, 2};
    char names[4][32], io[160];
    for (int r = 0; r < 4; r++) {
        snprintf(names[r], sizeof names[r], "%s_%s", name, roles[r]);
        mb_init_floats(b, names[r], 1, &c,
                       mb_random_floats(b, (size_t)c, seed + (unsigned)r, lo[r], hi[r]));
    }
    snprintf(io, sizeof io, "%s,%s,%s,%s,%s", in, names[0], names[1], names[2], names[3]);
    mb_node(b, "BatchNormalization", name, io, out);
}

/* Runs m on x [xd] with backend be; copies output 0 (n floats) into y; returns the session. */
static onyx_session *run(onyx_model *m, onyx_backend be, const float *x, const int64_t *xd,
                         float *y, size_t n) {
    onyx_session *s = tu_session(m, be, 0, 0);
    tu_run_floats(s, x, 4, xd, y, n);
    return s;
}

/* Runs on (passes on) and off (passes `off_passes`) under both backends on seeded input x:
 * the reference runs agree bit for bit; oneDNN within the node-test tolerance. Returns the
 * fused model (free it); *steps_on / *steps_off count the reference plans' steps. */
static onyx_model *compare(mb *b_on, unsigned on_passes, mb *b_off, unsigned off_passes,
                           const int64_t *xd, size_t n_out, int *steps_on, int *steps_off) {
    onyx_model *on = tu_load_built(b_on, on_passes), *off = tu_load_built(b_off, off_passes);
    size_t nx = (size_t)(xd[0] * xd[1] * xd[2] * xd[3]);
    float *x = malloc(nx * sizeof *x), *want = malloc(n_out * sizeof *want);
    float *got = malloc(n_out * sizeof *got);
    unsigned s = 11;
    for (size_t i = 0; i < nx; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = -2.0f + 4.0f * (float)(s >> 8) / (float)(1u << 24);
    }
    onyx_session *so = run(off, ONYX_BACKEND_REFERENCE, x, xd, want, n_out);
    *steps_off = onyx_session_step_count(so);
    onyx_session_free(so);
    onyx_session *sr = run(on, ONYX_BACKEND_REFERENCE, x, xd, got, n_out);
    *steps_on = onyx_session_step_count(sr);
    onyx_session_free(sr);
    for (size_t i = 0; i < n_out; i++)
        ck_assert_msg(memcmp(&got[i], &want[i], sizeof(float)) == 0,
                      "ref element %zu: with the pass %.9g, without %.9g", i, got[i], want[i]);
    onyx_session_free(run(on, ONYX_BACKEND_AUTO, x, xd, got, n_out));
    for (size_t i = 0; i < n_out; i++)
        ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-7f + 1e-3f * fabsf(want[i]) + 1e-5f,
                      "dnnl element %zu: with the pass %.9g, reference %.9g", i, got[i], want[i]);
    free(x);
    free(want);
    free(got);
    onyx_model_free(off);
    return on;
}

/* ---- BatchNormalization + Relu ---- */

/* A dense block: c0 = conv0(x); c1 = conv1(relu(bn1(c0))); y = conv2(relu(bn2(concat(c0,
 * c1)))). c0 has two readers, so fold_bn leaves both normalizations standing. */
static const int64_t DENSE_XD[4] = {2, 3, 7, 9};
#define DENSE_OUT (2 * 6 * 7 * 9)

static mb *dense_model(const char *act2) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", FLOAT, 4, DENSE_XD, NULL);
    conv(b, "conv0", "x", "c0", 3, 8, 3, 1);
    bn(b, "bn1", "c0", "b1", 8, 10);
    mb_node(b, "Relu", "relu1", "b1", "a1");
    conv(b, "conv1", "a1", "c1", 8, 5, 3, 20);
    Onnx__NodeProto *cat = mb_node(b, "Concat", "cat", "c0,c1", "cat");
    mb_attr_int(b, cat, "axis", 1);
    bn(b, "bn2", "cat", "b2", 13, 30);
    mb_node(b, act2, "relu2", "b2", "a2");
    conv(b, "conv2", "a2", "y", 13, 6, 1, 40);
    int64_t yd[4] = {2, 6, 7, 9};
    mb_value(b, 1, "y", FLOAT, 4, yd, NULL);
    return b;
}

START_TEST(test_bn_relu_fused_in_dense_block) {
    int on = 0, off = 0;
    onyx_model *m = compare(dense_model("Relu"), ONYX_PASS_ALL, dense_model("Relu"), 0, DENSE_XD,
                            DENSE_OUT, &on, &off);
    ck_assert_int_eq(off, 8);
    ck_assert_int_eq(on, 6);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "bn1")),
                     "BatchNormalization+Relu");
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "bn2")),
                     "BatchNormalization+Relu");
    onyx_session *s = tu_session(m, ONYX_BACKEND_AUTO, 0, 0);
    tu_assert_node_state(s, m, "relu1", ONYX_NODE_FUSED);
    tu_assert_node_state(s, m, "relu2", ONYX_NODE_FUSED);
    /* which kernel runs each step is the session's choice (it may time them); whichever,
     * compare() checked its results, and check_ops_norm covers fuse_norm_relu itself */
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_bn_relu_switch_and_declines) {
    /* fuse_act off: the Relu runs on its own */
    onyx_model *m = tu_load_built(dense_model("Relu"), ONYX_PASS_ALL & ~ONYX_PASS_FUSE_ACT);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "bn1")), "BatchNormalization");
    onyx_session *s = tu_session(m, ONYX_BACKEND_AUTO, 0, 0);
    tu_assert_node_state(s, m, "relu1", ONYX_NODE_EXECUTED);
    onyx_session_free(s);
    onyx_model_free(m);
    /* only Relu: oneDNN's normalization fuses nothing else */
    int on = 0, off = 0;
    m = compare(dense_model("Sigmoid"), ONYX_PASS_ALL, dense_model("Sigmoid"), 0, DENSE_XD,
                DENSE_OUT, &on, &off);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "bn2")), "BatchNormalization");
    ck_assert_int_eq(on, 7);
    onyx_model_free(m);
    /* the normalized tensor is also a graph output, or read twice */
    for (int variant = 0; variant < 2; variant++) {
        mb *b = dense_model("Relu");
        int64_t bd[4] = {2, 8, 7, 9};
        if (variant == 0) {
            mb_value(b, 1, "b1", FLOAT, 4, bd, NULL);
        } else {
            mb_node(b, "Sigmoid", "extra", "b1", "e");
            mb_value(b, 1, "e", FLOAT, 4, bd, NULL);
        }
        m = tu_load_built(b, ONYX_PASS_ALL);
        ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "bn1")), "BatchNormalization");
        ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "bn2")),
                         "BatchNormalization+Relu");
        onyx_model_free(m);
    }
}
END_TEST

/* ---- all-zero Pad ---- */

/* x [1,4,6,8] -> conv -> Pad -> AveragePool 2x2/2 -> y [1,5,3,4]. `pads` selects how the pad
 * amounts are given: "init" (an initializer), "const" (a Constant node, as PyTorch exports),
 * "attr" (opset < 11) or "axes" (opset 18: pads for axes 2 and 3 only); nonzero puts a 1
 * into them (the Pad then pads the end of W and the pooling sees a zero column). */
static const int64_t PAD_XD[4] = {1, 4, 6, 8};
#define PAD_OUT (1 * 5 * 3 * 4)

static mb *pad_model(int opset, const char *pads, const char *mode, int nonzero, int n_pads) {
    mb *b = mb_new(opset);
    mb_value(b, 0, "x", FLOAT, 4, PAD_XD, NULL);
    conv(b, "conv", "x", "c", 4, 5, 3, 3);
    int64_t p[8] = {0};
    int axes = strcmp(pads, "axes") == 0;
    if (n_pads == 0) n_pads = axes ? 4 : 8;
    if (nonzero) p[n_pads - 1] = 1; /* the end of the last axis (W) */
    Onnx__NodeProto *n;
    if (strcmp(pads, "attr") == 0) {
        n = mb_node(b, "Pad", "pad", "c", "p");
        mb_attr_ints(b, n, "pads", n_pads, p);
    } else if (strcmp(pads, "const") == 0) {
        Onnx__NodeProto *k = mb_node(b, "Constant", "pads_const", NULL, "pads");
        Onnx__AttributeProto *a = mb_attr(b, k, "value", ATTR_TENSOR);
        int64_t d = n_pads;
        a->t = mb_tensor(b, 0, "pads_value", INT64, 1, &d);
        int64_t *v = mb_alloc(b, (size_t)n_pads * sizeof *v);
        memcpy(v, p, (size_t)n_pads * sizeof *v);
        mb_raw(a->t, v, (size_t)n_pads * sizeof *v);
        n = mb_node(b, "Pad", "pad", "c,pads", "p");
    } else {
        mb_init_ints(b, "pads", 1, (const int64_t[]){n_pads}, p);
        if (axes) mb_init_ints(b, "axes", 1, (const int64_t[]){2}, (const int64_t[]){2, -1});
        n = mb_node(b, "Pad", "pad", axes ? "c,pads,,axes" : "c,pads", "p");
    }
    if (mode) mb_attr_string(b, n, "mode", mode);
    Onnx__NodeProto *pool = mb_node(b, "AveragePool", "pool", "p", "y");
    int64_t two[2] = {2, 2};
    mb_attr_ints(b, pool, "kernel_shape", 2, two);
    mb_attr_ints(b, pool, "strides", 2, two);
    int64_t yd[4] = {1, 5, 3, 4};
    mb_value(b, 1, "y", FLOAT, 4, yd, NULL);
    return b;
}

/* The pass drops pad_model(...)'s Pad; same results as without it. */
static void assert_pad_dropped(int opset, const char *pads, const char *mode) {
    int on = 0, off = 0;
    onyx_model *m = compare(pad_model(opset, pads, mode, 0, 0), ONYX_PASS_ALL,
                            pad_model(opset, pads, mode, 0, 0),
                            ONYX_PASS_ALL & ~ONYX_PASS_DROP_IDENTITY, PAD_XD, PAD_OUT, &on, &off);
    ck_assert_msg(on == 2 && off == 3, "%s/%d: steps %d with the pass, %d without", pads, opset, on,
                  off);
    onyx_session *s = tu_session(m, ONYX_BACKEND_AUTO, 0, 0);
    tu_assert_node_state(s, m, "pad", ONYX_NODE_FUSED);
    tu_assert_node_state(s, m, "pool", ONYX_NODE_EXECUTED);
    /* the pooling now reads the convolution's output */
    ck_assert_str_eq(onyx_model_node_input_name(m, tu_node_index(m, "pool"), 0), "c");
    onyx_session_free(s);
    onyx_model_free(m);
}

START_TEST(test_zero_pad_dropped_every_form) {
    assert_pad_dropped(13, "const", NULL);
    assert_pad_dropped(13, "init", "reflect");
    assert_pad_dropped(13, "init", "edge");
    assert_pad_dropped(10, "attr", NULL); /* Pad-2: pads is an attribute */
    assert_pad_dropped(18, "axes", NULL); /* Pad-18: pads cover the listed axes only */
    assert_pad_dropped(19, "init", "wrap");
}
END_TEST

/* pad_model's Pad stays (loaded with passes `passes`); the session runs it. */
static void assert_pad_kept(mb *b, unsigned passes) {
    onyx_model *m = tu_load_built(b, passes);
    onyx_session *s = tu_session(m, ONYX_BACKEND_AUTO, 0, 0);
    tu_assert_node_state(s, m, "pad", ONYX_NODE_EXECUTED);
    onyx_session_free(s);
    onyx_model_free(m);
}

START_TEST(test_zero_pad_kept) {
    /* a real pad, in each form */
    assert_pad_kept(pad_model(13, "const", NULL, 1, 0), ONYX_PASS_ALL);
    assert_pad_kept(pad_model(13, "init", NULL, 1, 0), ONYX_PASS_ALL);
    assert_pad_kept(pad_model(10, "attr", NULL, 1, 0), ONYX_PASS_ALL);
    assert_pad_kept(pad_model(18, "axes", NULL, 1, 0), ONYX_PASS_ALL);
    /* the switch */
    assert_pad_kept(pad_model(13, "init", NULL, 0, 0), ONYX_PASS_ALL & ~ONYX_PASS_DROP_IDENTITY);
    /* pads from a Constant node that fold_constants did not fold */
    assert_pad_kept(pad_model(13, "const", NULL, 0, 0), ONYX_PASS_ALL & ~ONYX_PASS_FOLD_CONSTANTS);
    /* the padded tensor is a graph output: its name stays produced */
    mb *b = pad_model(13, "init", NULL, 0, 0);
    int64_t pd[4] = {1, 5, 6, 8};
    mb_value(b, 1, "p", FLOAT, 4, pd, NULL);
    assert_pad_kept(b, ONYX_PASS_ALL);
}
END_TEST

START_TEST(test_zero_pad_malformed_still_fails) {
    /* six zeros for a rank-4 input: not a valid Pad, so not an identity either */
    static const struct {
        int opset;
        const char *pads;
    } cases[] = {{13, "init"}, {13, "const"}, {10, "attr"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        onyx_model *m =
            tu_load_built(pad_model(cases[i].opset, cases[i].pads, NULL, 0, 6), ONYX_PASS_ALL);
        onyx_session *s = NULL;
        onyx_status rc = onyx_session_create(m, NULL, &s);
        ck_assert_msg(rc != ONYX_OK, "%s: a Pad with 6 pads on rank 4 ran", cases[i].pads);
        ck_assert_msg(strstr(onyx_session_errmsg(s), "pad") != NULL, "%s: %s", cases[i].pads,
                      onyx_session_errmsg(s));
        onyx_session_free(s);
        onyx_model_free(m);
    }
}
END_TEST

START_TEST(test_passes_no_leaks) {
    long before = onyxi_alloc_live_blocks();
    for (int p = 0; p <= (int)ONYX_PASS_ALL; p += 3) {
        onyx_model_free(tu_load_built(dense_model("Relu"), (unsigned)p));
        onyx_model_free(tu_load_built(pad_model(13, "const", NULL, 0, 0), (unsigned)p));
    }
    ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
}
END_TEST

static Suite *passes_bn_pad_suite(void) {
    Suite *s = suite_create("passes_bn_pad");
    TCase *tc = tcase_create("bn_relu");
    tcase_add_test(tc, test_bn_relu_fused_in_dense_block);
    tcase_add_test(tc, test_bn_relu_switch_and_declines);
    suite_add_tcase(s, tc);
    tc = tcase_create("zero_pad");
    tcase_add_test(tc, test_zero_pad_dropped_every_form);
    tcase_add_test(tc, test_zero_pad_kept);
    tcase_add_test(tc, test_zero_pad_malformed_still_fails);
    tcase_add_test(tc, test_passes_no_leaks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(passes_bn_pad_suite());
}
