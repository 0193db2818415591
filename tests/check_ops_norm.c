/*
 * Tests of the normalization ops (ops/norm.c): BatchNormalization per channel, on [N, C] and
 * with opset-7 per-activation parameters, the inference-only refusals; InstanceNormalization;
 * LayerNormalization with Mean/InvStdDev outputs, a broadcast Scale and the attribute checks.
 * Expected values are computed by hand (sqrt(2/3) = 0.8164966, 1/sqrt(8/3) = 0.6123724).
 * The oneDNN implementations against the reference on random inputs (BatchNorm also
 * nChw8c-blocked, and with a fused Relu), hand values and declines; the own BatchNormalization
 * kernel bit for bit against the reference on plain and channels-last data.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_blocked.h"
#include "testutil.h"

static onyx_tensor *f32(int rank, const int64_t *dims, const float *v) {
    return tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, v);
}

/* Runs n on in[0..n_in) (all freed here, n too); returns the status, outputs into y. */
static onyx_status run_node(onyxi_node *n, onyx_tensor **in, int n_in, onyx_tensor **y,
                            onyxi_err *err) {
    onyx_status rc = tu_run_op(n, in, y, NULL, err);
    for (int k = 0; k < n_in; k++)
        tu_tensor_free(in[k]);
    tu_node_free(n);
    return rc;
}

/* The five BatchNormalization inputs for X of shape xd: C = 2 channels with scale [1, 2],
 * B [0, 1], mean [1, 3], var [4, 0.25]. */
static void bn_inputs(onyx_tensor **in, int rank, const int64_t *xd, const float *x) {
    int64_t cd[1] = {2};
    float s[2] = {1, 2}, b[2] = {0, 1}, m[2] = {1, 3}, v[2] = {4, 0.25f};
    in[0] = f32(rank, xd, x);
    in[1] = f32(1, cd, s);
    in[2] = f32(1, cd, b);
    in[3] = f32(1, cd, m);
    in[4] = f32(1, cd, v);
}

START_TEST(test_batchnorm_per_channel) {
    int64_t xd[4] = {1, 2, 1, 2};
    float x[4] = {1, 2, 3, 4};
    /* ch0: (x - 1) / 2; ch1: (x - 3) / 0.5 * 2 + 1 */
    float want[4] = {0, 0.5f, 1, 5};
    int64_t versions[5] = {6, 7, 9, 14, 15};
    for (int i = 0; i < 5; i++) {
        onyx_tensor *in[5], *y[1] = {NULL};
        bn_inputs(in, 4, xd, x);
        onyxi_node *n = tu_node_new("BatchNormalization", versions[i], 5, 1);
        tu_attr_float(n, "epsilon", 0);
        if (versions[i] == 6) tu_attr_int(n, "is_test", 1);
        onyxi_err err;
        ck_assert_msg(run_node(n, in, 5, y, &err) == ONYX_OK, "%s", err.msg);
        tu_assert_floats(y[0], 4, xd, want, 1e-6, 1e-6);
        tu_tensor_free(y[0]);
    }
}
END_TEST

START_TEST(test_batchnorm_rank2_and_default_epsilon) {
    int64_t xd[2] = {2, 2};
    float x[4] = {1, 2, 3, 4};
    onyx_tensor *in[5], *y[1] = {NULL};
    bn_inputs(in, 2, xd, x);
    /* var 0 in channel 0: the default epsilon 1e-5 keeps it finite, 1 / sqrt(1e-5) */
    ((float *)in[4]->data)[0] = 0;
    float want[4] = {0, -3, 2 / sqrtf(1e-5f), 5};
    onyxi_err err;
    ck_assert_msg(run_node(tu_node_new("BatchNormalization", 9, 5, 1), in, 5, y, &err) == ONYX_OK,
                  "%s", err.msg);
    tu_assert_floats(y[0], 2, xd, want, 1e-6, 1e-4);
    tu_tensor_free(y[0]);
}
END_TEST

START_TEST(test_batchnorm_opset7_per_activation) {
    /* spatial=0: parameters [C, D1] = [2, 2], one per activation */
    int64_t xd[3] = {1, 2, 2}, pd[2] = {2, 2};
    float x[4] = {2, 2, 2, 2}, ones[4] = {1, 1, 1, 1}, zeros[4] = {0, 0, 0, 0};
    float mean[4] = {1, 2, 3, 4}, want[4] = {1, 0, -1, -2};
    onyx_tensor *in[5] = {f32(3, xd, x), f32(2, pd, ones), f32(2, pd, zeros), f32(2, pd, mean),
                          f32(2, pd, ones)},
                *y[1] = {NULL};
    onyxi_node *n = tu_node_new("BatchNormalization", 7, 5, 1);
    tu_attr_int(n, "spatial", 0);
    tu_attr_float(n, "epsilon", 0);
    onyxi_err err;
    ck_assert_msg(run_node(n, in, 5, y, &err) == ONYX_OK, "%s", err.msg);
    /* var 1: y = x - mean */
    tu_assert_floats(y[0], 3, xd, want, 1e-6, 1e-6);
    tu_tensor_free(y[0]);
}
END_TEST

START_TEST(test_batchnorm_training_is_unsupported) {
    int64_t xd[4] = {1, 2, 1, 2};
    onyx_tensor *in[5], *y[3] = {NULL, NULL, NULL};
    onyxi_err err;
    bn_inputs(in, 4, xd, NULL);
    onyxi_node *n = tu_node_new("BatchNormalization", 15, 5, 1);
    tu_attr_int(n, "training_mode", 1);
    ck_assert_int_eq(run_node(n, in, 5, y, &err), ONYX_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "'training_mode' is 1"), "%s", err.msg);

    bn_inputs(in, 4, xd, NULL);
    ck_assert_int_eq(run_node(tu_node_new("BatchNormalization", 9, 5, 3), in, 5, y, &err),
                     ONYX_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "training-mode statistic"), "%s", err.msg);

    /* opset 6 without is_test means training mode */
    bn_inputs(in, 4, xd, NULL);
    ck_assert_int_eq(run_node(tu_node_new("BatchNormalization", 6, 5, 1), in, 5, y, &err),
                     ONYX_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "'is_test' is 0"), "%s", err.msg);
}
END_TEST

START_TEST(test_batchnorm_errors) {
    int64_t xd[4] = {1, 2, 1, 2}, x3[4] = {1, 3, 1, 2};
    onyx_tensor *in[5], *y[1] = {NULL};
    onyxi_err err;
    bn_inputs(in, 4, x3, NULL);
    ck_assert_int_eq(run_node(tu_node_new("BatchNormalization", 15, 5, 1), in, 5, y, &err),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_msg(strstr(err.msg, "input 'scale' has shape [2], expected [3]"), "%s", err.msg);

    bn_inputs(in, 4, xd, NULL);
    onyxi_node *n = tu_node_new("BatchNormalization", 9, 5, 1);
    tu_attr_int(n, "spatial", 0);
    ck_assert_int_eq(run_node(n, in, 5, y, &err), ONYX_INVALID_MODEL);
    ck_assert_msg(strstr(err.msg, "'spatial' was removed in opset 9"), "%s", err.msg);

    bn_inputs(in, 4, xd, NULL);
    tu_tensor_free(in[3]);
    int64_t cd[1] = {2};
    in[3] = tu_tensor(ONYX_DTYPE_INT64, 1, cd, NULL);
    ck_assert_int_eq(run_node(tu_node_new("BatchNormalization", 15, 5, 1), in, 5, y, &err),
                     ONYX_TYPE_MISMATCH);
    ck_assert_msg(strstr(err.msg, "input 'input_mean' has dtype int64"), "%s", err.msg);
}
END_TEST

START_TEST(test_instancenorm_planes) {
    int64_t xd[4] = {1, 2, 1, 3}, cd[1] = {2};
    float x[6] = {-1, 0, 1, 2, 3, 4}, s[2] = {1, 1.5f}, b[2] = {0, 1};
    /* each plane has variance 2/3; ch1 = (x - 3) / sqrt(2/3) * 1.5 + 1 */
    float want[6] = {-1.2247449f, 0, 1.2247449f, -0.8371173f, 1, 2.8371173f};
    onyx_tensor *in[3] = {f32(4, xd, x), f32(1, cd, s), f32(1, cd, b)}, *y[1] = {NULL};
    onyxi_node *n = tu_node_new("InstanceNormalization", 6, 3, 1);
    tu_attr_float(n, "epsilon", 0);
    onyxi_err err;
    ck_assert_msg(run_node(n, in, 3, y, &err) == ONYX_OK, "%s", err.msg);
    tu_assert_floats(y[0], 4, xd, want, 1e-6, 1e-6);
    tu_tensor_free(y[0]);
}
END_TEST

START_TEST(test_instancenorm_errors) {
    int64_t xd[4] = {1, 2, 1, 3}, cd[1] = {3}, x2[2] = {2, 2}, c2[1] = {2};
    onyx_tensor *in[3] = {f32(4, xd, NULL), f32(1, cd, NULL), f32(1, cd, NULL)}, *y[1] = {NULL};
    onyxi_err err;
    ck_assert_int_eq(run_node(tu_node_new("InstanceNormalization", 6, 3, 1), in, 3, y, &err),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_msg(strstr(err.msg, "input 'scale' has shape [3], expected [2]"), "%s", err.msg);
    in[0] = f32(2, x2, NULL);
    in[1] = f32(1, c2, NULL);
    in[2] = f32(1, c2, NULL);
    ck_assert_int_eq(run_node(tu_node_new("InstanceNormalization", 6, 3, 1), in, 3, y, &err),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_msg(strstr(err.msg, "rank 2, expected at least 3"), "%s", err.msg);
}
END_TEST

START_TEST(test_layernorm_last_axis_with_stats) {
    int64_t xd[2] = {2, 3}, sd[1] = {3}, md[2] = {2, 1};
    float x[6] = {1, 2, 3, 2, 4, 6}, s[3] = {1, 1, 2}, b[3] = {0, 0, 1};
    /* both rows normalize to [-1.2247449, 0, 1.2247449] */
    float want[6] = {-1.2247449f, 0, 3.4494897f, -1.2247449f, 0, 3.4494897f};
    float mean[2] = {2, 4}, inv[2] = {1.2247449f, 0.6123724f};
    onyx_tensor *in[3] = {f32(2, xd, x), f32(1, sd, s), f32(1, sd, b)}, *y[3] = {NULL};
    onyxi_node *n = tu_node_new("LayerNormalization", 17, 3, 3);
    tu_attr_float(n, "epsilon", 0);
    onyxi_err err;
    ck_assert_msg(run_node(n, in, 3, y, &err) == ONYX_OK, "%s", err.msg);
    tu_assert_floats(y[0], 2, xd, want, 1e-6, 1e-6);
    tu_assert_floats(y[1], 2, md, mean, 1e-6, 1e-6);
    tu_assert_floats(y[2], 2, md, inv, 1e-6, 1e-6);
    for (int k = 0; k < 3; k++)
        tu_tensor_free(y[k]);
}
END_TEST

START_TEST(test_layernorm_axis0_broadcast_scale_no_bias) {
    /* axis 0 normalizes all 6 values (mean 3, variance 8/3); Scale [3] broadcasts over the
     * normalized shape [2, 3] and B is absent */
    int64_t xd[2] = {2, 3}, sd[1] = {3}, md[2] = {1, 1};
    float x[6] = {1, 2, 3, 2, 4, 6}, s[3] = {1, 2, 3};
    float want[6] = {-1.2247449f, -1.2247449f, 0, -0.6123724f, 1.2247449f, 5.5113519f};
    float mean[1] = {3}, inv[1] = {0.6123724f};
    onyx_tensor *in[2] = {f32(2, xd, x), f32(1, sd, s)}, *y[3] = {NULL};
    onyxi_node *n = tu_node_new("LayerNormalization", 17, 2, 3);
    tu_attr_int(n, "axis", 0);
    tu_attr_float(n, "epsilon", 0);
    onyxi_err err;
    ck_assert_msg(run_node(n, in, 2, y, &err) == ONYX_OK, "%s", err.msg);
    tu_assert_floats(y[0], 2, xd, want, 1e-6, 1e-6);
    tu_assert_floats(y[1], 2, md, mean, 1e-6, 1e-6);
    tu_assert_floats(y[2], 2, md, inv, 1e-6, 1e-6);
    for (int k = 0; k < 3; k++)
        tu_tensor_free(y[k]);
}
END_TEST

START_TEST(test_layernorm_default_epsilon) {
    /* a constant row has variance 0: y = B, and InvStdDev = 1 / sqrt(1e-5) */
    int64_t xd[2] = {1, 4}, sd[1] = {4}, md[2] = {1, 1};
    float x[4] = {5, 5, 5, 5}, s[4] = {1, 1, 1, 1}, b[4] = {1, 2, 3, 4};
    float inv[1] = {316.22776f}, mean[1] = {5};
    onyx_tensor *in[3] = {f32(2, xd, x), f32(1, sd, s), f32(1, sd, b)}, *y[3] = {NULL};
    onyxi_err err;
    ck_assert_msg(run_node(tu_node_new("LayerNormalization", 17, 3, 3), in, 3, y, &err) == ONYX_OK,
                  "%s", err.msg);
    tu_assert_floats(y[0], 2, xd, b, 1e-6, 1e-6);
    tu_assert_floats(y[1], 2, md, mean, 0, 1e-6);
    tu_assert_floats(y[2], 2, md, inv, 0, 1e-5);
    for (int k = 0; k < 3; k++)
        tu_tensor_free(y[k]);
}
END_TEST

START_TEST(test_layernorm_errors) {
    int64_t xd[2] = {2, 3}, sd[1] = {2};
    onyx_tensor *in[2] = {f32(2, xd, NULL), f32(1, sd, NULL)}, *y[1] = {NULL};
    onyxi_err err;
    ck_assert_int_eq(run_node(tu_node_new("LayerNormalization", 17, 2, 1), in, 2, y, &err),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_msg(strstr(err.msg, "input 'Scale' has shape [2]"), "%s", err.msg);

    int64_t s3[1] = {3};
    in[0] = f32(2, xd, NULL);
    in[1] = f32(1, s3, NULL);
    onyxi_node *n = tu_node_new("LayerNormalization", 17, 2, 1);
    tu_attr_int(n, "axis", 2);
    ck_assert_int_eq(run_node(n, in, 2, y, &err), ONYX_INVALID_MODEL);

    in[0] = f32(2, xd, NULL);
    in[1] = f32(1, s3, NULL);
    n = tu_node_new("LayerNormalization", 17, 2, 1);
    tu_attr_int(n, "stash_type", 11);
    ck_assert_int_eq(run_node(n, in, 2, y, &err), ONYX_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "'stash_type' is 11"), "%s", err.msg);
}
END_TEST

/* Runs n's ref impl with output 0 sharing input 0's memory (as the planner may, since the
 * ops are ONYXI_OP_INPLACE_OK) and compares with an ordinary run. Frees n and in[]. */
static void expect_inplace_same(onyxi_node *n, onyx_tensor **in, int n_in) {
    onyxi_err err;
    onyx_tensor *y[3] = {NULL, NULL, NULL};
    ck_assert_msg(tu_run_op(n, in, y, NULL, &err) == ONYX_OK, "%s", err.msg);
    onyx_tensor *alias[3] = {NULL, NULL, NULL};
    ck_assert_int_eq(tu_infer_op(n, in, alias, &err), ONYX_OK);
    alias[0]->data = in[0]->data; /* written over the input */
    const onyx_tensor *ins[5];
    for (int k = 0; k < n_in; k++)
        ins[k] = in[k];
    onyxi_exec x = {.node = n, .n_in = n_in, .in = ins, .n_out = 1, .out = alias,
                    .num_threads = 2, .err = &err};
    const onyxi_impl *impl = tu_ref_impl(n->op);
    ck_assert_int_eq(impl->init ? impl->init(&x) : ONYX_OK, ONYX_OK);
    ck_assert_msg(impl->run(&x) == ONYX_OK, "%s", err.msg);
    if (impl->fini) impl->fini(&x);
    alias[0]->data = NULL;
    tu_assert_close(in[0], y[0], 0, 0);
    for (int k = 0; k < n->n_outputs; k++) {
        tu_tensor_free(y[k]);
        tu_tensor_free(alias[k]);
    }
    for (int k = 0; k < n_in; k++)
        tu_tensor_free(in[k]);
    tu_node_free(n);
}

START_TEST(test_norm_inplace_matches) {
    int64_t xd[4] = {2, 3, 5, 7}, cd[1] = {3}, ld[2] = {5, 7};
    onyx_tensor *bn[5] = {tu_tensor_random(4, xd, 1, -2, 2), tu_tensor_random(1, cd, 2, 0.5f, 2),
                          tu_tensor_random(1, cd, 3, -1, 1), tu_tensor_random(1, cd, 4, -1, 1),
                          tu_tensor_random(1, cd, 5, 0.5f, 2)};
    expect_inplace_same(tu_node_new("BatchNormalization", 15, 5, 1), bn, 5);
    onyx_tensor *in[3] = {tu_tensor_random(4, xd, 6, -2, 2), tu_tensor_random(1, cd, 7, 0.5f, 2),
                          tu_tensor_random(1, cd, 8, -1, 1)};
    expect_inplace_same(tu_node_new("InstanceNormalization", 6, 3, 1), in, 3);
    onyx_tensor *ln[3] = {tu_tensor_random(4, xd, 9, -2, 2), tu_tensor_random(2, ld, 10, 0.5f, 2),
                          tu_tensor_random(2, ld, 11, -1, 1)};
    onyxi_node *n = tu_node_new("LayerNormalization", 17, 3, 1);
    tu_attr_int(n, "axis", 2);
    expect_inplace_same(n, ln, 3);
}
END_TEST

/* ---- oneDNN implementations (ops/norm_dnnl.c) against the reference kernels ---- */

static unsigned rng_state;
static int64_t rnd(int64_t lo, int64_t hi) { /* uniform in [lo, hi] */
    rng_state = rng_state * 1103515245u + 12345u;
    return lo + (int64_t)((rng_state >> 8) % (unsigned)(hi - lo + 1));
}

/* The four per-channel parameters of a BatchNormalization over x into in[1..4] (in[0] = x),
 * seeded from seed: scale in [0.5, 2], bias and mean in [-1, 1], variance in [0.1, 3]. */
static void random_bn_inputs(onyx_tensor *x, unsigned seed, onyx_tensor *in[5]) {
    int64_t cd[1] = {x->dims[1]};
    in[0] = x;
    in[1] = tu_tensor_random(1, cd, seed, 0.5f, 2);
    in[2] = tu_tensor_random(1, cd, seed + 1, -1, 1);
    in[3] = tu_tensor_random(1, cd, seed + 2, -1, 1);
    in[4] = tu_tensor_random(1, cd, seed + 3, 0.1f, 3);
}

/* Frees one random case: the five inputs, X's blocked copy (NULL ok) and the node. */
static void free_bn_case(onyx_tensor *in[5], onyx_tensor *xb, onyxi_node *n) {
    for (int k = 0; k < 5; k++)
        tu_tensor_free(in[k]);
    tu_tensor_free(xb);
    tu_node_free(n);
}

/* Runs n with "ref" on `in` and "dnnl" on `din` (the same values, X possibly blocked) and
 * compares. The statistics differ only in summation order and precision (float against
 * double): 1e-5 absolute on outputs of magnitude ~3 is ~40 ulps; a wrong channel, epsilon or
 * parameter is off by far more. Returns 1 when dnnl ran. */
static int norm_dnnl_vs_ref(onyxi_node *n, onyx_tensor **in, onyx_tensor **din, const char *what) {
    onyx_tensor *want = NULL, *got = NULL;
    onyxi_err err;
    onyx_status rc = tu_run_op(n, in, &want, "ref", &err);
    ck_assert_msg(rc == ONYX_OK, "%s: ref: %s", what, err.msg);
    rc = tu_run_op(n, din, &got, "dnnl", &err);
    int ran = rc == ONYX_OK;
    ck_assert_msg(ran || rc == ONYX_UNSUPPORTED, "%s: dnnl: %s", what, err.msg);
    if (ran) {
        ck_assert_ptr_null(got->layout);
        tu_assert_close(got, want, 1e-5, 1e-4);
    }
    tu_tensor_free(want);
    tu_tensor_free(got);
    return ran;
}

START_TEST(test_batchnorm_dnnl_matches_ref_random) {
    rng_state = 555u;
    int ran = 0, ran_blocked = 0, blocked_cases = 0;
    for (int iter = 0; iter < 120; iter++) {
        int rank = (int)rnd(2, 5);
        int64_t dims[5];
        for (int i = 0; i < rank; i++)
            dims[i] = rnd(1, i == 1 ? 21 : 6);
        onyx_tensor *x = tu_tensor_random(rank, dims, (unsigned)iter * 5 + 1, -3, 3), *in[5];
        random_bn_inputs(x, (unsigned)iter * 5 + 2, in);
        onyx_tensor *xb = rank >= 3 && iter % 2 ? tu_blocked(x, tu_blocked_c8(rank)) : NULL;
        onyx_tensor *din[5] = {xb ? xb : x, in[1], in[2], in[3], in[4]};
        onyxi_node *n = tu_node_new("BatchNormalization", iter % 3 ? 15 : 9, 5, 1);
        if (iter % 4 == 0) tu_attr_float(n, "epsilon", 1e-3f);
        char what[64];
        snprintf(what, sizeof what, "case %d", iter);
        int r = norm_dnnl_vs_ref(n, in, din, what);
        ran += r;
        blocked_cases += xb != NULL;
        ran_blocked += r && xb;
        for (int k = 0; k < 5; k++)
            tu_tensor_free(in[k]);
        tu_tensor_free(xb);
        tu_node_free(n);
    }
    ck_assert_int_eq(ran, 120);
    ck_assert_int_eq(ran_blocked, blocked_cases);
}
END_TEST

/* BatchNormalization hosting a Relu (the fuse_act pass): the reference gives exactly the
 * unfused BatchNormalization then Relu; oneDNN (fuse_norm_relu) on plain and nChw8c inputs,
 * with plain or blocked outputs, within the tolerance above; a chain oneDNN cannot fuse
 * (Sigmoid) declines there and runs in the reference. */
START_TEST(test_batchnorm_fused_relu_both_impls) {
    rng_state = 4242u;
    onyxi_fusion relu = {.role = ONYXI_FUSION_HOST, .host = -1, .n_post = 1};
    relu.post[0].kind = ONYXI_POST_RELU;
    onyxi_fusion sig = relu;
    sig.post[0].kind = ONYXI_POST_SIGMOID;
    int blocked_runs = 0;
    for (int iter = 0; iter < 60; iter++) {
        int rank = (int)rnd(2, 5);
        int64_t dims[5];
        for (int i = 0; i < rank; i++)
            dims[i] = rnd(1, i == 1 ? 21 : 7);
        onyx_tensor *x = tu_tensor_random(rank, dims, (unsigned)iter * 5 + 7, -3, 3), *in[5];
        random_bn_inputs(x, (unsigned)iter * 5 + 8, in);
        onyx_tensor *xb = rank >= 3 && iter % 2 ? tu_blocked(x, tu_blocked_c8(rank)) : NULL;
        onyx_tensor *din[5] = {xb ? xb : x, in[1], in[2], in[3], in[4]};
        onyxi_node *n = tu_node_new("BatchNormalization", 15, 5, 1);
        onyx_tensor *want = NULL, *got = NULL;
        onyxi_err err;
        ck_assert_int_eq(tu_run_op(n, in, &want, "ref", &err), ONYX_OK);
        float *w = want->data;
        for (size_t i = 0; i < want->nbytes / sizeof(float); i++)
            w[i] = w[i] < 0.0f ? 0.0f : w[i];
        n->fusion = &relu;
        ck_assert_int_eq(tu_run_op(n, in, &got, "ref", &err), ONYX_OK);
        ck_assert_mem_eq(got->data, want->data, want->nbytes);
        tu_tensor_free(got);
        tu_blocked_ok = iter % 4 < 2 ? 1u : 0u;
        onyx_status rc = tu_run_op(n, din, &got, "dnnl", &err);
        ck_assert_msg(rc == ONYX_OK, "case %d: %s", iter, err.msg);
        blocked_runs += tu_last_blocked_out;
        tu_blocked_ok = 0;
        tu_assert_close(got, want, 1e-5, 1e-4);
        tu_tensor_free(got);
        n->fusion = &sig;
        ck_assert_int_eq(tu_run_op(n, din, &got, "dnnl", &err), ONYX_UNSUPPORTED);
        ck_assert_int_eq(tu_run_op(n, in, &got, "ref", &err), ONYX_OK);
        tu_tensor_free(got);
        n->fusion = NULL;
        tu_tensor_free(want);
        free_bn_case(in, xb, n);
    }
    ck_assert_int_ge(blocked_runs, 8); /* blocked input, blocked output: bnorm_jit */
}
END_TEST

/* The own BatchNormalization kernel ("bn", norm_bn.c) computes the reference's formula:
 * bit for bit on plain and channels-last inputs (the output keeping the layout), with and
 * without a fused Relu, with constant or run-time parameters; in place too. It declines
 * channel-blocked inputs, a channels-last input whose output must be plain, and
 * per-activation parameters. */
START_TEST(test_batchnorm_own_matches_ref) {
    static const dnnl_format_tag_t clast[3] = {dnnl_acb, dnnl_acdb, dnnl_acdeb};
    rng_state = 9191u;
    onyxi_fusion relu = {.role = ONYXI_FUSION_HOST, .host = -1, .n_post = 1};
    relu.post[0].kind = ONYXI_POST_RELU;
    int ran_cl = 0;
    for (int iter = 0; iter < 80; iter++) {
        int rank = (int)rnd(2, 5), fused = iter % 3 != 0, cl = rank >= 3 && iter % 2;
        int64_t dims[5];
        for (int i = 0; i < rank; i++)
            dims[i] = rnd(1, i == 1 ? 37 : 7);
        onyx_tensor *x = tu_tensor_random(rank, dims, (unsigned)iter * 5 + 3, -3, 3), *in[5];
        random_bn_inputs(x, (unsigned)iter * 5 + 4, in);
        onyx_tensor *xb = cl ? tu_blocked(x, clast[rank - 3]) : NULL;
        onyx_tensor *din[5] = {xb ? xb : x, in[1], in[2], in[3], in[4]};
        onyxi_node *n = tu_node_new("BatchNormalization", iter % 2 ? 15 : 9, 5, 1);
        if (iter % 4 == 1) tu_attr_float(n, "epsilon", 1e-3f);
        if (fused) n->fusion = &relu;
        onyx_tensor *want = NULL, *got = NULL;
        onyxi_err err;
        ck_assert_int_eq(tu_run_op(n, in, &want, "ref", &err), ONYX_OK);
        tu_const_inputs = iter % 4 < 2 ? ~1u : 0u;
        tu_blocked_ok = 1u;
        onyx_status rc = tu_run_op(n, din, &got, "bn", &err);
        int blocked_out = tu_last_blocked_out;
        ck_assert_msg(rc == ONYX_OK, "case %d: %s", iter, err.msg);
        /* (size-1 dims can make channels-last coincide with plain: the output is then plain) */
        ck_assert(cl || !blocked_out);
        ck_assert_mem_eq(got->data, want->data, want->nbytes);
        ran_cl += blocked_out;
        tu_tensor_free(got);
        if (cl) { /* a plain output from channels-last data is oneDNN's reorder to make */
            tu_blocked_ok = 0u;
            ck_assert_int_eq(tu_run_op(n, din, &got, "bn", &err), ONYX_UNSUPPORTED);
        }
        tu_blocked_ok = 0u;
        tu_const_inputs = ~1u;
        n->fusion = NULL;
        tu_tensor_free(want);
        free_bn_case(in, xb, n);
    }
    ck_assert_int_ge(ran_cl, 20);
}
END_TEST

START_TEST(test_batchnorm_own_in_place_and_declines) {
    int64_t xd[4] = {2, 9, 5, 7}, cd[1] = {9};
    onyx_tensor *in[5] = {tu_tensor_random(4, xd, 1, -2, 2), tu_tensor_random(1, cd, 2, 0.5f, 2),
                          tu_tensor_random(1, cd, 3, -1, 1), tu_tensor_random(1, cd, 4, -1, 1),
                          tu_tensor_random(1, cd, 5, 0.5f, 2)};
    onyxi_node *n = tu_node_new("BatchNormalization", 15, 5, 1);
    onyxi_err err;
    onyx_tensor *want = NULL, *y = NULL;
    ck_assert_int_eq(tu_run_op(n, in, &want, "ref", &err), ONYX_OK);
    /* in place, two threads: the output written over the input */
    const onyxi_impl *own = NULL;
    for (int i = 0; n->op->impls[i]; i++)
        if (strcmp(n->op->impls[i]->name, "bn") == 0) own = n->op->impls[i];
    ck_assert_ptr_nonnull(own);
    ck_assert_int_eq(tu_infer_op(n, in, &y, &err), ONYX_OK);
    y->data = in[0]->data;
    const onyx_tensor *ins[5] = {in[0], in[1], in[2], in[3], in[4]};
    onyxi_exec x = {.node = n, .n_in = 5, .in = ins, .n_out = 1, .out = &y, .num_threads = 2,
                    .err = &err, .const_inputs = ~1u};
    ck_assert_int_eq(own->init(&x), ONYX_OK);
    ck_assert_int_eq(own->run(&x), ONYX_OK);
    own->fini(&x);
    y->data = NULL;
    ck_assert_mem_eq(in[0]->data, want->data, want->nbytes);
    tu_tensor_free(y);
    tu_tensor_free(want);
    /* channel-blocked data: its padding lanes are oneDNN's business */
    onyx_tensor *xb = tu_blocked(in[0], dnnl_aBcd8b), *din[5] = {xb, in[1], in[2], in[3], in[4]};
    tu_blocked_ok = 1u;
    ck_assert_int_eq(tu_run_op(n, din, &y, "bn", &err), ONYX_UNSUPPORTED);
    tu_blocked_ok = 0u;
    tu_tensor_free(xb);
    tu_node_free(n);
    for (int k = 0; k < 5; k++)
        tu_tensor_free(in[k]);
    /* opset 7 per-activation parameters [C, H, W] */
    int64_t xd3[3] = {2, 3, 4}, pd[2] = {3, 4};
    onyx_tensor *pa[5] = {tu_tensor_random(3, xd3, 6, -2, 2), tu_tensor_random(2, pd, 7, 0.5f, 2),
                          tu_tensor_random(2, pd, 8, -1, 1), tu_tensor_random(2, pd, 9, -1, 1),
                          tu_tensor_random(2, pd, 10, 0.5f, 2)};
    n = tu_node_new("BatchNormalization", 7, 5, 1);
    tu_attr_int(n, "spatial", 0);
    ck_assert_int_eq(tu_run_op(n, pa, &y, "bn", &err), ONYX_UNSUPPORTED);
    tu_node_free(n);
    for (int k = 0; k < 5; k++)
        tu_tensor_free(pa[k]);
}
END_TEST

START_TEST(test_layernorm_dnnl_matches_ref_random) {
    rng_state = 8080u;
    int ran = 0;
    for (int iter = 0; iter < 80; iter++) {
        int rank = (int)rnd(1, 4);
        int64_t dims[4];
        for (int i = 0; i < rank; i++)
            dims[i] = rnd(1, i == rank - 1 ? 67 : 5);
        int64_t ld[1] = {dims[rank - 1]};
        int with_b = iter % 2;
        onyx_tensor *in[3] = {tu_tensor_random(rank, dims, (unsigned)iter * 3 + 1, -2, 3),
                              tu_tensor_random(1, ld, (unsigned)iter * 3 + 2, 0.5f, 2),
                              with_b ? tu_tensor_random(1, ld, (unsigned)iter * 3 + 3, -1, 1)
                                     : NULL};
        onyxi_node *n = tu_node_new("LayerNormalization", 17, with_b ? 3 : 2, 1);
        if (iter % 3 == 0) tu_attr_int(n, "axis", rank - 1);
        if (iter % 4 == 0) tu_attr_float(n, "epsilon", 1e-2f);
        char what[64];
        snprintf(what, sizeof what, "case %d", iter);
        ran += norm_dnnl_vs_ref(n, in, in, what);
        for (int k = 0; k < 3; k++)
            tu_tensor_free(in[k]);
        tu_node_free(n);
    }
    ck_assert_int_eq(ran, 80);
}
END_TEST

/* Hand-computed BatchNorm on oneDNN: x = [1, 2, 3] in channel 0 and [4, 5, 6] in channel 1,
 * mean [2, 5], var [1, 4], scale [2, 1], B [0, 1], epsilon 0: y = (x - mean) * scale /
 * sqrt(var) + B. And the cases left to the reference kernel. */
START_TEST(test_norm_dnnl_hand_values_and_declines) {
    static const float xv[6] = {1, 2, 3, 4, 5, 6}, want[6] = {-2, 0, 2, 0.5f, 1, 1.5f};
    static const float sv[2] = {2, 1}, bv[2] = {0, 1}, mv[2] = {2, 5}, vv[2] = {1, 4};
    int64_t xd[3] = {1, 2, 3}, cd[1] = {2};
    onyx_tensor *in[5] = {tu_tensor(ONYX_DTYPE_FLOAT32, 3, xd, xv),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 1, cd, sv),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 1, cd, bv),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 1, cd, mv),
                          tu_tensor(ONYX_DTYPE_FLOAT32, 1, cd, vv)};
    onyxi_node *n = tu_node_new("BatchNormalization", 15, 5, 1);
    tu_attr_float(n, "epsilon", 0.0f);
    onyx_tensor *y = NULL;
    onyxi_err err;
    ck_assert_msg(tu_run_op(n, in, &y, "dnnl", &err) == ONYX_OK, "%s", err.msg);
    tu_assert_floats(y, 3, xd, want, 1e-6, 1e-6);
    tu_tensor_free(y);
    tu_node_free(n);
    /* LayerNormalization over axis 1 of [1, 2, 3], and with a broadcast Scale [1]: declined */
    int64_t one[1] = {1};
    onyx_tensor *s1 = tu_tensor(ONYX_DTYPE_FLOAT32, 1, one, sv);
    for (int c = 0; c < 2; c++) {
        n = tu_node_new("LayerNormalization", 17, 2, 1);
        if (c == 0) tu_attr_int(n, "axis", 1);
        onyx_tensor *lin[2] = {in[0], s1};
        ck_assert_int_eq(tu_run_op(n, lin, &y, "dnnl", &err), ONYX_UNSUPPORTED);
        tu_node_free(n);
    }
    tu_tensor_free(s1);
    for (int k = 0; k < 5; k++)
        tu_tensor_free(in[k]);
}
END_TEST

Suite *ops_norm_suite(void) {
    Suite *s = suite_create("ops_norm");
    TCase *tc = tcase_create("batch_norm");
    tcase_add_test(tc, test_batchnorm_per_channel);
    tcase_add_test(tc, test_batchnorm_rank2_and_default_epsilon);
    tcase_add_test(tc, test_batchnorm_opset7_per_activation);
    tcase_add_test(tc, test_batchnorm_training_is_unsupported);
    tcase_add_test(tc, test_batchnorm_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("instance_norm");
    tcase_add_test(tc, test_instancenorm_planes);
    tcase_add_test(tc, test_instancenorm_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("layer_norm");
    tcase_add_test(tc, test_layernorm_last_axis_with_stats);
    tcase_add_test(tc, test_layernorm_axis0_broadcast_scale_no_bias);
    tcase_add_test(tc, test_layernorm_default_epsilon);
    tcase_add_test(tc, test_layernorm_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("dnnl");
    tcase_add_test(tc, test_batchnorm_dnnl_matches_ref_random);
    tcase_add_test(tc, test_batchnorm_fused_relu_both_impls);
    tcase_add_test(tc, test_batchnorm_own_matches_ref);
    tcase_add_test(tc, test_batchnorm_own_in_place_and_declines);
    tcase_add_test(tc, test_layernorm_dnnl_matches_ref_random);
    tcase_add_test(tc, test_norm_dnnl_hand_values_and_declines);
    suite_add_tcase(s, tc);
    tc = tcase_create("in_place");
    tcase_add_test(tc, test_norm_inplace_matches);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(ops_norm_suite());
}
