/*
 * Graph passes run at load (runtime/passes.c): drop_identity, fold_constants, fold_bn and the
 * post-op fusions fuse_act (Conv, MatMul, Gemm) / fuse_add (Conv), each on small hand-built
 * models; the fused chains in the reference kernel (same bits as the unfused nodes) and in
 * oneDNN (within the node-test tolerance), the switches (options and ONYX_DISABLE_PASSES) and what
 * introspection reports.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modelrun.h"
#include "pbbuild.h"
#include "testutil.h"

#define FLOAT ONYX_DTYPE_FLOAT32
#define ATTR_FLOAT ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT

/* ---- building and running models ---- */

/* Attribute `name` of n: count copies of v. */
static void attr_repeat(mb *b, Onnx__NodeProto *n, const char *name, int count, int64_t v) {
    int64_t vals[8];
    ck_assert_int_le(count, 8);
    for (int i = 0; i < count; i++)
        vals[i] = v;
    mb_attr_ints(b, n, name, count, vals);
}

/* A model with input x [N, C, H, W] (N symbolic "batch" when sym) and Conv "conv" (weights
 * W [M, C/group, k, k], bias B, same padding) writing `out`; seeded random weights. */
static mb *conv_model(int opset, const int64_t *xd, int64_t m, int k, int group, int sym,
                      unsigned seed, const char *out) {
    mb *b = mb_new(opset);
    static const char *const params[4] = {"batch", NULL, NULL, NULL};
    int64_t d[4] = {sym ? -1 : xd[0], xd[1], xd[2], xd[3]};
    mb_value(b, 0, "x", FLOAT, 4, d, sym ? params : NULL);
    int64_t wd[4] = {m, xd[1] / group, k, k};
    mb_init_floats(b, "W", 4, wd,
                   mb_random_floats(b, (size_t)(m * wd[1] * k * k), seed, -0.5f, 0.5f));
    mb_init_floats(b, "B", 1, &m, mb_random_floats(b, (size_t)m, seed + 1, -0.5f, 0.5f));
    Onnx__NodeProto *c = mb_node(b, "Conv", "conv", "x,W,B", out);
    attr_repeat(b, c, "kernel_shape", 2, k);
    attr_repeat(b, c, "pads", 4, k / 2);
    if (group > 1) {
        mb_attr_int(b, c, "group", group);
    }
    return b;
}

/* Declares output y of shape [N, m, H, W] like conv_model's input. */
static void conv_output(mb *b, const char *name, const int64_t *xd, int64_t m, int sym) {
    static const char *const params[4] = {"batch", NULL, NULL, NULL};
    int64_t d[4] = {sym ? -1 : xd[0], m, xd[2], xd[3]};
    mb_value(b, 1, name, FLOAT, 4, d, sym ? params : NULL);
}

/* Runs m on x (shape xd of the given rank) with backend be; copies output 0 into y (n floats)
 * and returns the session (free it). oneDNN's kernels first (static selection), as these tests
 * check its post-ops (measured selection may pick an own kernel; those have tests of their own). */
static onyx_session *run_rank(onyx_model *m, onyx_backend be, const float *x, int rank,
                              const int64_t *xd, float *y, size_t n) {
    onyx_session *s = tu_session(m, be, 0, 1);
    tu_run_floats(s, x, rank, xd, y, n);
    return s;
}

static onyx_session *run(onyx_model *m, onyx_backend be, const float *x, const int64_t *xd,
                         float *y, size_t n) {
    return run_rank(m, be, x, 4, xd, y, n);
}

/* Steps whose implementation is impl. */
static int steps_with(const onyx_session *s, const char *impl) {
    int n = 0;
    for (int i = 0; i < onyx_session_step_count(s); i++)
        n += strcmp(onyx_session_step_impl(s, i), impl) == 0;
    return n;
}

/* Runs the model of b with every pass and with none, under the reference and the default
 * backend: the fused reference run must give exactly the unfused reference bits (exact = 1)
 * or agree within the node-test tolerance; oneDNN within that tolerance. Returns the number
 * of steps of the fused reference plan; *dnnl_steps counts dnnl steps of the fused default
 * plan. The fused model is left in *fused (free it). */
static int compare_fused_rank(mb *b_on, mb *b_off, int rank, const int64_t *xd, size_t n_out,
                              int exact, onyx_model **fused, int *dnnl_steps) {
    onyx_model *on = tu_load_built(b_on, ONYX_PASS_ALL), *off = tu_load_built(b_off, 0);
    size_t nx = 1;
    for (int d = 0; d < rank; d++)
        nx *= (size_t)xd[d];
    float *x = malloc(nx * sizeof *x), *want = malloc(n_out * sizeof *want);
    float *got = malloc(n_out * sizeof *got);
    unsigned s = 7;
    for (size_t i = 0; i < nx; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = -2.0f + 4.0f * (float)(s >> 8) / (float)(1u << 24);
    }
    onyx_session_free(run_rank(off, ONYX_BACKEND_REFERENCE, x, rank, xd, want, n_out));
    onyx_session *sr = run_rank(on, ONYX_BACKEND_REFERENCE, x, rank, xd, got, n_out);
    int steps = onyx_session_step_count(sr);
    onyx_session_free(sr);
    for (size_t i = 0; i < n_out; i++) {
        if (exact)
            ck_assert_msg(memcmp(&got[i], &want[i], sizeof(float)) == 0,
                          "ref element %zu: fused %.9g, unfused %.9g", i, got[i], want[i]);
        else
            ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-6f + 1e-4f * fabsf(want[i]),
                          "ref element %zu: fused %.9g, unfused %.9g", i, got[i], want[i]);
    }
    onyx_session *sd = run_rank(on, ONYX_BACKEND_AUTO, x, rank, xd, got, n_out);
    *dnnl_steps = steps_with(sd, "dnnl");
    onyx_session_free(sd);
    /* tolerance of the ONNX node tests */
    for (size_t i = 0; i < n_out; i++)
        ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-7f + 1e-3f * fabsf(want[i]) + 1e-5f,
                      "dnnl element %zu: fused %.9g, unfused ref %.9g", i, got[i], want[i]);
    free(x);
    free(want);
    free(got);
    onyx_model_free(off);
    *fused = on;
    return steps;
}

static int compare_fused(mb *b_on, mb *b_off, const int64_t *xd, size_t n_out, int exact,
                         onyx_model **fused, int *dnnl_steps) {
    return compare_fused_rank(b_on, b_off, 4, xd, n_out, exact, fused, dnnl_steps);
}

/* ---- a 1x1 convolution small enough to compute by hand ---- */

/* x [1,1,1,4] -> Conv(W = 2, B = -1) -> "c"; x = [-1, 0, 1, 2] gives c = [-3, -1, 1, 3]. */
static const float HAND_X[4] = {-1, 0, 1, 2};
static const int64_t HAND_XD[4] = {1, 1, 1, 4};

static mb *hand_conv(int opset) {
    mb *b = mb_new(opset);
    mb_value(b, 0, "x", FLOAT, 4, HAND_XD, NULL);
    static const int64_t wd[4] = {1, 1, 1, 1}, one = 1;
    mb_init_floats(b, "W", 4, wd, (const float[]){2});
    mb_init_floats(b, "B", 1, &one, (const float[]){-1});
    mb_node(b, "Conv", "conv", "x,W,B", "c");
    return b;
}

static void hand_run(onyx_model *m, onyx_backend be, const float *want) {
    float y[4];
    onyx_session_free(run(m, be, HAND_X, HAND_XD, y, 4));
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(y[i], want[i], 1e-6);
}

/* ---- drop_identity ---- */

START_TEST(test_drop_identity_readers_take_input) {
    mb *b = hand_conv(13);
    mb_node(b, "Identity", "id", "c", "i");
    mb_node(b, "Dropout", "drop", "i", "d");
    mb_node(b, "Identity", "id_out", "d", "y2");
    mb_node(b, "Sigmoid", "sig", "d", "y");
    mb_value(b, 1, "y", FLOAT, 4, HAND_XD, NULL);
    mb_value(b, 1, "y2", FLOAT, 4, HAND_XD, NULL);
    onyx_model *m = tu_load_built(b, ONYX_PASS_DROP_IDENTITY);
    ck_assert_int_eq(onyx_model_node_count(m), 5); /* the public node list keeps every node */
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    float y[4], y2[4];
    ck_assert_int_eq(onyx_session_bind_input(s, 0, FLOAT, HAND_XD, 4, HAND_X, sizeof HAND_X),
                     ONYX_OK);
    ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
    memcpy(y, onyx_tensor_data(onyx_session_output(s, 0)), sizeof y);
    memcpy(y2, onyx_tensor_data(onyx_session_output(s, 1)), sizeof y2);
    static const float c[4] = {-3, -1, 1, 3};
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq_tol(y[i], 1.0f / (1.0f + expf(-c[i])), 1e-6);
        ck_assert_float_eq(y2[i], c[i]);
    }
    tu_assert_node_state(s, m, "id", ONYX_NODE_FUSED);
    tu_assert_node_state(s, m, "drop", ONYX_NODE_FUSED);
    /* an Identity writing a graph output keeps its name alive: it stays */
    tu_assert_node_state(s, m, "id_out", ONYX_NODE_EXECUTED);
    tu_assert_node_state(s, m, "sig", ONYX_NODE_EXECUTED);
    ck_assert_int_eq(onyx_session_step_count(s), 3);
    /* a dropped node still shows its wiring from the file; its reader now takes the input */
    ck_assert_str_eq(onyx_model_node_input_name(m, tu_node_index(m, "id"), 0), "c");
    ck_assert_str_eq(onyx_model_node_input_name(m, tu_node_index(m, "sig"), 0), "c");
    ck_assert_str_eq(onyx_tensor_name(onyx_model_output(m, 1)), "y2");
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_drop_identity_keeps_used_mask) {
    mb *b = hand_conv(13);
    mb_node(b, "Dropout", "drop", "c", "d,mask");
    mb_node(b, "Not", "not", "mask", "y2");
    mb_node(b, "Relu", "relu", "d", "y");
    mb_value(b, 1, "y", FLOAT, 4, HAND_XD, NULL);
    mb_value(b, 1, "y2", ONYX_DTYPE_BOOL, 4, HAND_XD, NULL);
    onyx_model *m = tu_load_built(b, ONYX_PASS_DROP_IDENTITY);
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    tu_assert_node_state(s, m, "drop", ONYX_NODE_EXECUTED);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

/* ---- fold_constants ---- */

START_TEST(test_fold_constants_at_load) {
    /* y = x * (Constant 3 + w) with w = 0.5: Constant and Add fold into one initializer */
    mb *b = mb_new(13);
    static const int64_t one = 1;
    mb_value(b, 0, "x", FLOAT, 4, HAND_XD, NULL);
    mb_init_floats(b, "w", 1, &one, (const float[]){0.5f});
    Onnx__NodeProto *k = mb_node(b, "Constant", "k", NULL, "kv");
    Onnx__AttributeProto *a = mb_attr(b, k, "value_float", ATTR_FLOAT);
    a->has_f = 1;
    a->f = 3.0f;
    mb_node(b, "Add", "add", "kv,w", "s");
    mb_node(b, "Mul", "mul", "x,s", "y");
    k = mb_node(b, "Constant", "kout", NULL, "y2"); /* a graph output: stays a node */
    a = mb_attr(b, k, "value_float", ATTR_FLOAT);
    a->has_f = 1;
    a->f = 7.0f;
    mb_value(b, 1, "y", FLOAT, 4, HAND_XD, NULL);
    mb_value(b, 1, "y2", FLOAT, 0, NULL, NULL);
    onyx_model *m = tu_load_built(b, ONYX_PASS_FOLD_CONSTANTS);
    /* w went unread (its memory is given back); s is the folded initializer */
    ck_assert_int_eq(onyx_model_initializer_count(m), 1);
    const onyx_tensor *init = onyx_model_initializer(m, 0);
    ck_assert_str_eq(onyx_tensor_name(init), "s");
    ck_assert_float_eq(((const float *)onyx_tensor_data(init))[0], 3.5f);
    hand_run(m, ONYX_BACKEND_AUTO, (const float[]){-3.5f, 0, 3.5f, 7});
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    tu_assert_node_state(s, m, "k", ONYX_NODE_FOLDED);
    tu_assert_node_state(s, m, "add", ONYX_NODE_FOLDED);
    tu_assert_node_state(s, m, "mul", ONYX_NODE_EXECUTED);
    ck_assert_str_eq(onyx_model_node_output_name(m, tu_node_index(m, "add"), 0), "s");
    ck_assert_int_eq(onyx_session_step_count(s), 1);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

/* ---- fold_bn ---- */

static mb *bn_model(void) {
    mb *b = hand_conv(13);
    static const int64_t one = 1;
    /* a = scale / sqrt(var + eps) = 2 / sqrt(3 + 1) = 1: y = (c - mean) * a + bias = c - 0.5 */
    mb_init_floats(b, "scale", 1, &one, (const float[]){2});
    mb_init_floats(b, "bias", 1, &one, (const float[]){0.5f});
    mb_init_floats(b, "mean", 1, &one, (const float[]){1});
    mb_init_floats(b, "var", 1, &one, (const float[]){3});
    Onnx__NodeProto *n = mb_node(b, "BatchNormalization", "bn", "c,scale,bias,mean,var", "y");
    mb_attr_float(b, n, "epsilon", 1.0f);
    mb_value(b, 1, "y", FLOAT, 4, HAND_XD, NULL);
    return b;
}

START_TEST(test_fold_bn_hand_values) {
    onyx_model *m = tu_load_built(bn_model(), ONYX_PASS_FOLD_BN);
    static const float want[4] = {-3.5f, -1.5f, 0.5f, 2.5f};
    hand_run(m, ONYX_BACKEND_REFERENCE, want);
    hand_run(m, ONYX_BACKEND_AUTO, want);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")),
                     "Conv+BatchNormalization");
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    tu_assert_node_state(s, m, "bn", ONYX_NODE_FUSED);
    ck_assert_int_eq(onyx_session_step_count(s), 1);
    /* the folded weights replace the originals */
    ck_assert_int_eq(onyx_model_initializer_count(m), 2);
    onyx_session_free(s);
    onyx_model_free(m);
    /* off: two steps */
    m = tu_load_built(bn_model(), 0);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv");
    hand_run(m, ONYX_BACKEND_REFERENCE, want);
    onyx_model_free(m);
}
END_TEST

static mb *bn_random(int sym, unsigned seed) {
    static const int64_t xd[4] = {2, 6, 7, 9};
    mb *b = conv_model(13, xd, 10, 3, 2, sym, seed, "c");
    int64_t m = 10;
    mb_init_floats(b, "scale", 1, &m, mb_random_floats(b, 10, seed + 2, 0.5f, 1.5f));
    mb_init_floats(b, "bias", 1, &m, mb_random_floats(b, 10, seed + 3, -1, 1));
    mb_init_floats(b, "mean", 1, &m, mb_random_floats(b, 10, seed + 4, -0.5f, 0.5f));
    mb_init_floats(b, "var", 1, &m, mb_random_floats(b, 10, seed + 5, 0.2f, 2));
    mb_node(b, "BatchNormalization", "bn", "c,scale,bias,mean,var", "r");
    mb_node(b, "Relu", "relu", "r", "y");
    conv_output(b, "y", xd, 10, sym);
    return b;
}

START_TEST(test_fold_bn_then_relu_random) {
    static const int64_t xd[4] = {2, 6, 7, 9};
    onyx_model *m = NULL;
    int dnnl = 0;
    int steps = compare_fused(bn_random(1, 3), bn_random(1, 3), xd, 2 * 10 * 7 * 9, 0, &m, &dnnl);
    ck_assert_int_eq(steps, 1);
    ck_assert_int_eq(dnnl, 1);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")),
                     "Conv+BatchNormalization+Relu");
    onyx_model_free(m);
}
END_TEST

START_TEST(test_fold_bn_declines_shared_conv_output) {
    mb *b = bn_model();
    mb_node(b, "Relu", "relu", "c", "y2"); /* c read twice: the Conv must keep computing it */
    mb_value(b, 1, "y2", FLOAT, 4, HAND_XD, NULL);
    onyx_model *m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv");
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    tu_assert_node_state(s, m, "bn", ONYX_NODE_EXECUTED);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

/* ---- fuse_act ---- */

START_TEST(test_fuse_act_relu_hand_values) {
    mb *b = hand_conv(13);
    mb_node(b, "Relu", "relu", "c", "y");
    mb_value(b, 1, "y", FLOAT, 4, HAND_XD, NULL);
    onyx_model *m = tu_load_built(b, ONYX_PASS_FUSE_ACT);
    static const float want[4] = {0, 0, 1, 3};
    hand_run(m, ONYX_BACKEND_REFERENCE, want);
    hand_run(m, ONYX_BACKEND_AUTO, want);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv+Relu");
    /* the absorbed node follows its host in the public order; the host writes its output */
    ck_assert_int_eq(tu_node_index(m, "relu"), tu_node_index(m, "conv") + 1);
    ck_assert_str_eq(onyx_model_node_input_name(m, tu_node_index(m, "relu"), 0), "c");
    ck_assert_str_eq(onyx_model_node_output_name(m, tu_node_index(m, "conv"), 0), "y");
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    tu_assert_node_state(s, m, "relu", ONYX_NODE_FUSED);
    tu_assert_node_state(s, m, "conv", ONYX_NODE_EXECUTED);
    ck_assert_int_eq(onyx_session_step_count(s), 1);
    /* c is never computed any more */
    ck_assert_int_eq(onyx_tensor_rank(onyx_session_value(s, "c")), -1);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

/* Conv -> one activation (or the SiLU pair) -> y, on odd sizes; returns the builder. */
static mb *act_model(const char *act, int opset, int sym, unsigned seed) {
    static const int64_t xd[4] = {2, 5, 9, 11};
    mb *b = conv_model(opset, xd, 7, 3, 1, sym, seed, "c");
    if (strcmp(act, "SiLU") == 0) {
        mb_node(b, "Sigmoid", "act", "c", "s");
        mb_node(b, "Mul", "mul", seed & 1 ? "s,c" : "c,s", "y");
    } else if (strcmp(act, "Clip") == 0 && opset >= 11) {
        static const int64_t scalar = 1;
        mb_init_floats(b, "lo", 0, &scalar, (const float[]){-0.25f});
        mb_init_floats(b, "hi", 0, &scalar, (const float[]){0.4f});
        mb_node(b, "Clip", "act", seed & 1 ? "c,lo,hi" : "c,,hi", "y");
    } else {
        Onnx__NodeProto *n = mb_node(b, act, "act", "c", "y");
        if (strcmp(act, "Clip") == 0) { /* opset 6: attributes */
            mb_attr_float(b, n, "min", 0.0f);
            mb_attr_float(b, n, "max", 0.3f);
        } else if (strcmp(act, "LeakyRelu") == 0) {
            mb_attr_float(b, n, "alpha", 0.13f);
        } else if (strcmp(act, "HardSigmoid") == 0) {
            mb_attr_float(b, n, "alpha", 0.3f);
            mb_attr_float(b, n, "beta", 0.45f);
        }
    }
    conv_output(b, "y", xd, 7, sym);
    return b;
}

START_TEST(test_fuse_act_each_kind) {
    static const struct {
        const char *act;
        int opset;
        const char *label;
    } cases[] = {{"Relu", 13, "Conv+Relu"},
                 {"Relu", 6, "Conv+Relu"},
                 {"LeakyRelu", 13, "Conv+LeakyRelu"},
                 {"Sigmoid", 13, "Conv+Sigmoid"},
                 {"HardSigmoid", 13, "Conv+HardSigmoid"},
                 {"Clip", 6, "Conv+Clip"},
                 {"Clip", 13, "Conv+Clip"},
                 {"SiLU", 13, "Conv+SiLU"}};
    static const int64_t xd[4] = {2, 5, 9, 11};
    int dnnl_total = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (unsigned seed = 1; seed <= 2; seed++) {
            onyx_model *m = NULL;
            int dnnl = 0;
            int steps = compare_fused(act_model(cases[i].act, cases[i].opset, (int)seed - 1, seed),
                                      act_model(cases[i].act, cases[i].opset, (int)seed - 1, seed),
                                      xd, 2 * 7 * 9 * 11, 1, &m, &dnnl);
            ck_assert_msg(steps == 1, "%s-%d: %d steps", cases[i].act, cases[i].opset, steps);
            ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), cases[i].label);
            dnnl_total += dnnl;
            onyx_model_free(m);
        }
    }
    /* every fused chain ran on oneDNN (each plan has one step) */
    ck_assert_int_eq(dnnl_total, 16);
}
END_TEST

START_TEST(test_fuse_act_declines) {
    /* the conv output is also a graph output: it must still be written unactivated */
    static const int64_t xd[4] = {1, 3, 5, 5};
    mb *b = conv_model(13, xd, 4, 3, 1, 0, 1, "c");
    mb_node(b, "Relu", "act", "c", "y");
    conv_output(b, "y", xd, 4, 0);
    conv_output(b, "c", xd, 4, 0);
    onyx_model *m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv");
    onyx_model_free(m);
    /* two readers */
    b = conv_model(13, xd, 4, 3, 1, 0, 1, "c");
    mb_node(b, "Relu", "act", "c", "y");
    mb_node(b, "Sigmoid", "act2", "c", "y2");
    conv_output(b, "y", xd, 4, 0);
    conv_output(b, "y2", xd, 4, 0);
    m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv");
    onyx_model_free(m);
    /* Clip whose bound is computed at run time */
    b = conv_model(13, xd, 4, 3, 1, 0, 1, "c");
    mb_node(b, "ReduceMin", "lo", "x", "lo");
    mb_node(b, "Clip", "act", "c,lo", "y");
    conv_output(b, "y", xd, 4, 0);
    m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv");
    onyx_model_free(m);
}
END_TEST

/* ---- fuse_act on MatMul and Gemm ---- */

/* The default plan of fused model m has one step, run by impl, for a node shown as op. */
static void assert_one_step(onyx_model *m, const char *impl, const char *op) {
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    ck_assert_int_eq(onyx_session_step_count(s), 1);
    ck_assert_str_eq(onyx_session_step_impl(s, 0), impl);
    ck_assert_str_eq(onyx_model_node_op_type(m, onyx_session_step_node(s, 0)), op);
    onyx_session_free(s);
}

START_TEST(test_fuse_act_matmul_hand_values) {
    /* x [1,1,1,4] times W = 2 I with W[3][0] = -1: y = [-4, 0, 2, 4] */
    mb *b = mb_new(13);
    mb_value(b, 0, "x", FLOAT, 4, HAND_XD, NULL);
    static const int64_t wd[2] = {4, 4};
    mb_init_floats(b, "W", 2, wd, (const float[]){2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, -1, 0, 0, 2});
    mb_node(b, "MatMul", "mm", "x,W", "c");
    mb_node(b, "Relu", "relu", "c", "y");
    mb_value(b, 1, "y", FLOAT, 4, HAND_XD, NULL);
    onyx_model *m = tu_load_built(b, ONYX_PASS_FUSE_ACT);
    static const float want[4] = {0, 0, 2, 4};
    hand_run(m, ONYX_BACKEND_REFERENCE, want);
    hand_run(m, ONYX_BACKEND_AUTO, want);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "mm")), "MatMul+Relu");
    assert_one_step(m, "dnnl", "MatMul+Relu");
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    tu_assert_node_state(s, m, "relu", ONYX_NODE_FUSED);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

/* x [2, 3, 5, 7] -> MatMul(W [7, 9]) -> "mm" -> Relu or SiLU (Sigmoid and Mul) -> y */
static const int64_t MM_XD[4] = {2, 3, 5, 7};

static mb *matmul_model(const char *act, unsigned seed) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", FLOAT, 4, MM_XD, NULL);
    static const int64_t wd[2] = {7, 9}, yd[4] = {2, 3, 5, 9};
    mb_init_floats(b, "W", 2, wd, mb_random_floats(b, 7 * 9, seed, -0.6f, 0.6f));
    mb_node(b, "MatMul", "mm", "x,W", "mm");
    if (strcmp(act, "SiLU") == 0) {
        mb_node(b, "Sigmoid", "act", "mm", "s");
        mb_node(b, "Mul", "mul", seed & 1 ? "s,mm" : "mm,s", "y");
    } else {
        mb_node(b, act, "act", "mm", "y");
    }
    mb_value(b, 1, "y", FLOAT, 4, yd, NULL);
    return b;
}

START_TEST(test_fuse_act_matmul_random) {
    static const char *const acts[2] = {"Relu", "SiLU"};
    for (int i = 0; i < 2; i++) {
        for (unsigned seed = 1; seed <= 2; seed++) {
            onyx_model *m = NULL;
            int dnnl = 0;
            int steps = compare_fused(matmul_model(acts[i], seed), matmul_model(acts[i], seed),
                                      MM_XD, 2 * 3 * 5 * 9, 1, &m, &dnnl);
            char op[32];
            snprintf(op, sizeof op, "MatMul+%s", acts[i]);
            ck_assert_msg(steps == 1, "%s: %d steps", op, steps);
            ck_assert_int_eq(dnnl, 1);
            ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "mm")), op);
            assert_one_step(m, "dnnl", op);
            onyx_model_free(m);
        }
    }
}
END_TEST

/* x -> Gemm -> "g" -> activation -> y [5, 9]. kind 0: x [5, 7], transB = 1 (W [9, 7]), C a
 * bias row [9], Clip(-0.3, 0.5) by inputs; kind 1: alpha 0.7, beta 1.3, W [7, 9], C [5, 9],
 * Sigmoid (alpha, then C, then the chain); kind 2: as 1 with transA (x [7, 5]) and Relu. */
static const int64_t GEMM_XD[2][2] = {{5, 7}, {7, 5}};

static mb *gemm_model(int kind, unsigned seed) {
    mb *b = mb_new(13);
    const int64_t *xd = GEMM_XD[kind == 2];
    mb_value(b, 0, "x", FLOAT, 2, xd, NULL);
    static const int64_t wt[2] = {9, 7}, w[2] = {7, 9}, row = 9, full[2] = {5, 9};
    Onnx__NodeProto *g;
    if (kind == 0) {
        mb_init_floats(b, "W", 2, wt, mb_random_floats(b, 63, seed, -0.6f, 0.6f));
        mb_init_floats(b, "C", 1, &row, mb_random_floats(b, 9, seed + 1, -0.5f, 0.5f));
        g = mb_node(b, "Gemm", "gemm", "x,W,C", "g");
        mb_attr_int(b, g, "transB", 1);
        static const int64_t scalar = 1;
        mb_init_floats(b, "lo", 0, &scalar, (const float[]){-0.3f});
        mb_init_floats(b, "hi", 0, &scalar, (const float[]){0.5f});
        mb_node(b, "Clip", "act", "g,lo,hi", "y");
    } else {
        mb_init_floats(b, "W", 2, w, mb_random_floats(b, 63, seed, -0.6f, 0.6f));
        mb_init_floats(b, "C", 2, full, mb_random_floats(b, 45, seed + 1, -0.5f, 0.5f));
        g = mb_node(b, "Gemm", "gemm", "x,W,C", "g");
        mb_attr_float(b, g, "alpha", 0.7f);
        mb_attr_float(b, g, "beta", 1.3f);
        if (kind == 2) {
            mb_attr_int(b, g, "transA", 1);
        }
        mb_node(b, kind == 1 ? "Sigmoid" : "Relu", "act", "g", "y");
    }
    mb_value(b, 1, "y", FLOAT, 2, full, NULL);
    return b;
}

START_TEST(test_fuse_act_gemm_random) {
    static const char *const ops[3] = {"Gemm+Clip", "Gemm+Sigmoid", "Gemm+Relu"};
    for (int kind = 0; kind < 3; kind++) {
        for (unsigned seed = 1; seed <= 2; seed++) {
            onyx_model *m = NULL;
            int dnnl = 0;
            int steps = compare_fused_rank(gemm_model(kind, seed), gemm_model(kind, seed), 2,
                                           GEMM_XD[kind == 2], 5 * 9, 1, &m, &dnnl);
            ck_assert_msg(steps == 1, "%s: %d steps", ops[kind], steps);
            ck_assert_int_eq(dnnl, 1);
            ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "gemm")), ops[kind]);
            assert_one_step(m, "dnnl", ops[kind]);
            onyx_model_free(m);
        }
    }
}
END_TEST

START_TEST(test_fuse_act_matmul_declines) {
    static const int64_t yd[4] = {2, 3, 5, 9};
    /* the MatMul output is read twice: it must still be computed unactivated */
    mb *b = matmul_model("Relu", 1);
    mb_node(b, "Sigmoid", "act2", "mm", "y2");
    mb_value(b, 1, "y2", FLOAT, 4, yd, NULL);
    onyx_model *m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "mm")), "MatMul");
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    tu_assert_node_state(s, m, "act", ONYX_NODE_EXECUTED);
    tu_assert_node_state(s, m, "act2", ONYX_NODE_EXECUTED);
    ck_assert_int_eq(onyx_session_step_count(s), 3);
    onyx_session_free(s);
    onyx_model_free(m);
    /* ... or is a graph output */
    b = matmul_model("Relu", 1);
    mb_value(b, 1, "mm", FLOAT, 4, yd, NULL);
    m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "mm")), "MatMul");
    onyx_model_free(m);
    /* an integer MatMul: the post-ops are float only (Relu takes int32 since opset 14) */
    b = mb_new(14);
    static const int64_t xd[2] = {2, 3}, wd[2] = {3, 2};
    static const int32_t wi[6] = {1, -2, 3, -4, 5, -6};
    mb_value(b, 0, "x", ONYX_DTYPE_INT32, 2, xd, NULL);
    mb_raw(mb_tensor(b, 1, "W", ONYX_DTYPE_INT32, 2, wd), wi, sizeof wi);
    mb_node(b, "MatMul", "mm", "x,W", "mm");
    mb_node(b, "Relu", "act", "mm", "y");
    mb_value(b, 1, "y", ONYX_DTYPE_INT32, 2, xd, NULL);
    m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "mm")), "MatMul");
    onyx_model_free(m);
}
END_TEST

/* ---- fuse_add ---- */

START_TEST(test_fuse_add_hand_values) {
    mb *b = hand_conv(13);
    mb_node(b, "Add", "add", "x,c", "a"); /* the residual first: either order fuses */
    mb_node(b, "Relu", "relu", "a", "y");
    mb_value(b, 1, "y", FLOAT, 4, HAND_XD, NULL);
    onyx_model *m = tu_load_built(b, ONYX_PASS_FUSE_ADD | ONYX_PASS_FUSE_ACT);
    /* c + x = [-4, -1, 2, 5] */
    static const float want[4] = {0, 0, 2, 5};
    hand_run(m, ONYX_BACKEND_REFERENCE, want);
    hand_run(m, ONYX_BACKEND_AUTO, want);
    int conv = tu_node_index(m, "conv");
    ck_assert_str_eq(onyx_model_node_op_type(m, conv), "Conv+Add+Relu");
    ck_assert_int_eq(onyx_model_node_input_count(m, conv), 4);
    ck_assert_str_eq(onyx_model_node_input_name(m, conv, 3), "x");
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    tu_assert_node_state(s, m, "add", ONYX_NODE_FUSED);
    tu_assert_node_state(s, m, "relu", ONYX_NODE_FUSED);
    ck_assert_int_eq(onyx_session_step_count(s), 1);
    onyx_session_free(s);
    onyx_model_free(m);
    /* fuse_act off: the Add fuses, the Relu stays */
    b = hand_conv(13);
    mb_node(b, "Add", "add", "c,x", "a");
    mb_node(b, "Relu", "relu", "a", "y");
    mb_value(b, 1, "y", FLOAT, 4, HAND_XD, NULL);
    m = tu_load_built(b, ONYX_PASS_FUSE_ADD);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv+Add");
    hand_run(m, ONYX_BACKEND_REFERENCE, want);
    onyx_model_free(m);
}
END_TEST

/* ResNet-style: conv1 -> relu -> conv2 -> Add(residual) -> Relu, with the residual a second
 * convolution of x (as a downsample branch) or x itself; conv2's bias omitted when nobias. */
static mb *residual_model(int sym, int residual_conv, int relu_first, unsigned seed) {
    static const int64_t xd[4] = {2, 8, 7, 9};
    mb *b = conv_model(13, xd, 8, 3, 1, sym, seed, "c");
    int64_t m = 8, wd[4] = {8, 8, 3, 3}, w1[4] = {8, 8, 1, 1};
    mb_node(b, "Relu", "relu1", "c", "h");
    mb_init_floats(b, "W2", 4, wd, mb_random_floats(b, 8 * 8 * 9, seed + 7, -0.3f, 0.3f));
    mb_init_floats(b, "B2", 1, &m, mb_random_floats(b, 8, seed + 8, -0.3f, 0.3f));
    Onnx__NodeProto *c2 = mb_node(b, "Conv", "conv2", "h,W2,B2", "c2");
    attr_repeat(b, c2, "kernel_shape", 2, 3);
    attr_repeat(b, c2, "pads", 4, 1);
    const char *res = "x";
    if (residual_conv) {
        mb_init_floats(b, "W3", 4, w1, mb_random_floats(b, 8 * 8, seed + 9, -0.5f, 0.5f));
        mb_node(b, "Conv", "conv3", "x,W3", "r");
        res = "r";
    }
    char ins[32];
    if (relu_first) {
        mb_node(b, "Relu", "relu2", "c2", "a");
        snprintf(ins, sizeof ins, "a,%s", res);
        mb_node(b, "Add", "add", ins, "y");
    } else {
        snprintf(ins, sizeof ins, "c2,%s", res);
        mb_node(b, "Add", "add", ins, "a");
        mb_node(b, "Relu", "relu2", "a", "y");
    }
    conv_output(b, "y", xd, 8, sym);
    return b;
}

START_TEST(test_fuse_add_residual_blocks) {
    static const int64_t xd[4] = {2, 8, 7, 9};
    for (int sym = 0; sym <= 1; sym++)
        for (int rc = 0; rc <= 1; rc++)
            for (int rf = 0; rf <= 1; rf++) {
                onyx_model *m = NULL;
                int dnnl = 0;
                unsigned seed = (unsigned)(sym * 4 + rc * 2 + rf + 1);
                int steps = compare_fused(residual_model(sym, rc, rf, seed),
                                          residual_model(sym, rc, rf, seed), xd, 2 * 8 * 7 * 9, 1,
                                          &m, &dnnl);
                ck_assert_int_eq(steps, 2 + rc);
                ck_assert_int_eq(dnnl, 2 + rc);
                ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv2")),
                                 rf ? "Conv+Relu+Add" : "Conv+Add+Relu");
                onyx_model_free(m);
            }
}
END_TEST

/* MobileNet-style: depthwise Conv -> Clip(0, 6) -> Add(x), odd sizes (binary add after an
 * eltwise post-op on the oneDNN side) */
static mb *depthwise_model(unsigned seed) {
    static const int64_t xd[4] = {1, 12, 13, 11}, scalar = 1;
    mb *b = conv_model(13, xd, 12, 3, 12, 1, seed, "c");
    mb_init_floats(b, "lo", 0, &scalar, (const float[]){0});
    mb_init_floats(b, "hi", 0, &scalar, (const float[]){0.6f});
    mb_node(b, "Clip", "clip", "c,lo,hi", "r");
    mb_node(b, "Add", "add", "r,x", "y");
    conv_output(b, "y", xd, 12, 1);
    return b;
}

START_TEST(test_fuse_add_after_activation_depthwise) {
    static const int64_t xd[4] = {1, 12, 13, 11};
    onyx_model *m = NULL;
    int dnnl = 0;
    int steps =
        compare_fused(depthwise_model(5), depthwise_model(5), xd, 12 * 13 * 11, 1, &m, &dnnl);
    ck_assert_int_eq(steps, 1);
    ck_assert_int_eq(dnnl, 1);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv+Clip+Add");
    onyx_model_free(m);
}
END_TEST

START_TEST(test_fuse_add_declines_broadcast) {
    /* Add of a per-channel [1, M, 1, 1] tensor broadcasts: not a residual */
    static const int64_t xd[4] = {1, 3, 5, 5}, bd[4] = {1, 4, 1, 1};
    mb *b = conv_model(13, xd, 4, 3, 1, 0, 1, "c");
    mb_init_floats(b, "bias2", 4, bd, mb_random_floats(b, 4, 9, -1, 1));
    mb_node(b, "Add", "add", "c,bias2", "y");
    conv_output(b, "y", xd, 4, 0);
    onyx_model *m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv");
    onyx_model_free(m);
    /* symbolic batch on one side only: [batch, ...] + [1, ...] may broadcast */
    static const int64_t xd4[4] = {1, 4, 5, 5};
    b = conv_model(13, xd4, 4, 3, 1, 1, 1, "c");
    int64_t rd[4] = {1, 4, 5, 5};
    mb_init_floats(b, "res", 4, rd, mb_random_floats(b, 100, 10, -1, 1));
    mb_node(b, "Add", "add", "c,res", "y");
    conv_output(b, "y", xd4, 4, 1);
    m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv");
    onyx_model_free(m);
}
END_TEST

/* ---- switches ---- */

START_TEST(test_switches_options_and_environment) {
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_passes(o, 1u << 20), ONYX_INVALID_ARG);
    ck_assert_int_eq(onyx_options_set_passes(NULL, 0), ONYX_MISUSE);
    onyx_options_free(o);
    /* none */
    onyx_model *m = tu_load_built(bn_model(), 0);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv");
    onyx_model_free(m);
    /* the environment turns passes off whatever the options say */
    setenv("ONYX_DISABLE_PASSES", "fuse_act, fold_bn", 1);
    m = tu_load_built(bn_model(), ONYX_PASS_ALL);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv");
    onyx_model_free(m);
    setenv("ONYX_DISABLE_PASSES", "fuse_act,nonsense", 1);
    m = tu_load_built(bn_model(), ONYX_PASS_ALL);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")),
                     "Conv+BatchNormalization");
    onyx_model_free(m);
    setenv("ONYX_DISABLE_PASSES", "all", 1);
    m = tu_load_built(bn_model(), ONYX_PASS_ALL);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")), "Conv");
    onyx_model_free(m);
    unsetenv("ONYX_DISABLE_PASSES");
    /* the default (no options) runs everything */
    size_t len = 0;
    uint8_t *bytes = mb_pack(bn_model(), &len);
    ck_assert_int_eq(onyx_model_load_memory(bytes, len, &m), ONYX_OK);
    free(bytes);
    ck_assert_str_eq(onyx_model_node_op_type(m, tu_node_index(m, "conv")),
                     "Conv+BatchNormalization");
    onyx_model_free(m);
}
END_TEST

START_TEST(test_switches_no_leaks) {
    long before = onyxi_alloc_live_blocks();
    for (int p = 0; p <= (int)ONYX_PASS_ALL; p += 7) {
        onyx_model *m = tu_load_built(residual_model(1, 1, 0, 3), (unsigned)p);
        onyx_model_free(m);
        m = tu_load_built(bn_random(0, 2), (unsigned)p);
        onyx_model_free(m);
    }
    ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
}
END_TEST

static Suite *passes_suite(void) {
    Suite *s = suite_create("passes");
    TCase *tc = tcase_create("drop_identity");
    tcase_add_test(tc, test_drop_identity_readers_take_input);
    tcase_add_test(tc, test_drop_identity_keeps_used_mask);
    suite_add_tcase(s, tc);
    tc = tcase_create("fold_constants");
    tcase_add_test(tc, test_fold_constants_at_load);
    suite_add_tcase(s, tc);
    tc = tcase_create("fold_bn");
    tcase_add_test(tc, test_fold_bn_hand_values);
    tcase_add_test(tc, test_fold_bn_then_relu_random);
    tcase_add_test(tc, test_fold_bn_declines_shared_conv_output);
    suite_add_tcase(s, tc);
    tc = tcase_create("fuse_act");
    tcase_add_test(tc, test_fuse_act_relu_hand_values);
    tcase_add_test(tc, test_fuse_act_each_kind);
    tcase_add_test(tc, test_fuse_act_declines);
    tcase_add_test(tc, test_fuse_act_matmul_hand_values);
    tcase_add_test(tc, test_fuse_act_matmul_random);
    tcase_add_test(tc, test_fuse_act_gemm_random);
    tcase_add_test(tc, test_fuse_act_matmul_declines);
    suite_add_tcase(s, tc);
    tc = tcase_create("fuse_add");
    tcase_add_test(tc, test_fuse_add_hand_values);
    tcase_add_test(tc, test_fuse_add_residual_blocks);
    tcase_add_test(tc, test_fuse_add_after_activation_depthwise);
    tcase_add_test(tc, test_fuse_add_declines_broadcast);
    suite_add_tcase(s, tc);
    tc = tcase_create("switches");
    tcase_add_test(tc, test_switches_options_and_environment);
    tcase_add_test(tc, test_switches_no_leaks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    /* the tests choose passes themselves: a debugging setting must not change them */
    unsetenv("ONYX_DISABLE_PASSES");
    return tu_run_suite(passes_suite());
}
