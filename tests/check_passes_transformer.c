/*
 * Graph passes for transformer exports (runtime/passes.c): fuse_add taking a MatMul's bias
 * row, fuse_act taking the erf GELU PyTorch exports (every ordering of its Mul by 0.5, its
 * 1/sqrt(2) as a Div or a Mul) into MatMul, Gemm and Conv, and fuse_norm turning the
 * ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add spelling of LayerNormalization into one
 * node. Each on small hand-built models: the pass fires, results equal the run without it
 * (bit for bit on the reference kernels where the arithmetic is the same, else within a tight
 * tolerance; oneDNN within the node-test tolerance), its switch turns it off, and near misses
 * (a wrong constant, an intermediate read elsewhere, the wrong axis) stay unfused.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modelrun.h"
#include "passes.h"
#include "pbbuild.h"
#include "testutil.h"

#define FLOAT ONYX_DTYPE_FLOAT32

/* ---- building and running models ---- */

/* A float32 scalar initializer (rank 0). */
static void init_scalar(mb *b, const char *name, float v) {
    mb_init_floats(b, name, 0, NULL, &v);
}

static size_t count_of(int rank, const int64_t *dims) {
    size_t n = 1;
    for (int d = 0; d < rank; d++)
        n *= (size_t)dims[d];
    return n;
}

/* Runs m on x [xd] (rank) with backend be and `threads` threads; copies output 0 (n floats)
 * into y; returns the session (free it). */
static onyx_session *run(onyx_model *m, onyx_backend be, int threads, const float *x, int rank,
                         const int64_t *xd, float *y, size_t n) {
    onyx_session *s = tu_session(m, be, threads, 0);
    tu_run_floats(s, x, rank, xd, y, n);
    return s;
}

static const char *op_of(const onyx_model *m, const char *name) {
    return onyx_model_node_op_type(m, tu_node_index(m, name));
}

static float *random_input(size_t n, unsigned seed, float lo, float hi) {
    float *x = malloc(n * sizeof *x);
    unsigned s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * (float)(s >> 8) / (float)(1u << 24);
    }
    return x;
}

/* Loads b_on with `on` passes and b_off with `off`, runs both on seeded input x [xd] in the
 * reference backend (exact: bit for bit, else within 2e-6 + 1e-5 |want|) and the fused one
 * also in the default backend (node-test tolerance). Returns the fused model (free it);
 * *steps_on / *steps_off count the reference plans' steps. */
static onyx_model *compare(mb *b_on, unsigned on, mb *b_off, unsigned off, int rank,
                           const int64_t *xd, size_t n_out, int exact, int *steps_on,
                           int *steps_off) {
    onyx_model *m_on = tu_load_built(b_on, on), *m_off = tu_load_built(b_off, off);
    float *x = random_input(count_of(rank, xd), 11, -3.0f, 3.0f);
    float *want = malloc(n_out * sizeof *want), *got = malloc(n_out * sizeof *got);
    onyx_session *s = run(m_off, ONYX_BACKEND_REFERENCE, 1, x, rank, xd, want, n_out);
    *steps_off = onyx_session_step_count(s);
    onyx_session_free(s);
    s = run(m_on, ONYX_BACKEND_REFERENCE, 1, x, rank, xd, got, n_out);
    *steps_on = onyx_session_step_count(s);
    onyx_session_free(s);
    for (size_t i = 0; i < n_out; i++) {
        if (exact)
            ck_assert_msg(memcmp(&got[i], &want[i], sizeof(float)) == 0,
                          "ref element %zu: fused %.9g, unfused %.9g", i, got[i], want[i]);
        else
            ck_assert_msg(fabsf(got[i] - want[i]) <= 2e-6f + 1e-5f * fabsf(want[i]),
                          "ref element %zu: fused %.9g, unfused %.9g", i, got[i], want[i]);
    }
    onyx_session_free(run(m_on, ONYX_BACKEND_AUTO, 1, x, rank, xd, got, n_out));
    for (size_t i = 0; i < n_out; i++)
        ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-5f + 1e-3f * fabsf(want[i]),
                      "dnnl element %zu: fused %.9g, unfused ref %.9g", i, got[i], want[i]);
    free(x);
    free(want);
    free(got);
    onyx_model_free(m_off);
    return m_on;
}

/* ---- GELU and bias on MatMul, Gemm, Conv ---- */

#define SQRT2 1.41421356f
#define RSQRT2 0.707106781f

/* The constants of a GELU; a near miss changes one. */
typedef struct gelu_consts {
    float k, one, half;
} gelu_consts;

static const gelu_consts EXACT = {0, 1.0f, 0.5f}; /* k 0: the form's own sqrt(2) or 1/sqrt(2) */

/* Appends y = GELU(h) as PyTorch-style nodes "scale", "erf", "plus1", "m1", "m2":
 *  form 0: Div(h, sqrt2) ... Mul(h, a), Mul(., 0.5)        (torch.nn.GELU)
 *  form 1: Mul(1/sqrt2, h) ... Mul(a, h), Mul(0.5, .)      (operands the other way round)
 *  form 2: Div(h, sqrt2) ... Mul(a, 0.5), Mul(h, .)
 *  form 3: Mul(h, 0.5) then Div(h, sqrt2) ... Mul(., a)    (x * 0.5 first) */
static void gelu(mb *b, const char *h, int form, gelu_consts c) {
    char io[64];
    int mul = form == 1;
    init_scalar(b, "k", c.k != 0 ? c.k : mul ? RSQRT2 : SQRT2);
    init_scalar(b, "one", c.one);
    init_scalar(b, "half", c.half);
    snprintf(io, sizeof io, mul ? "k,%s" : "%s,k", h);
    mb_node(b, mul ? "Mul" : "Div", "scale", io, "u");
    mb_node(b, "Erf", "erf", "u", "e");
    mb_node(b, "Add", "plus1", form == 1 ? "one,e" : "e,one", "a");
    switch (form) {
    case 0:
        snprintf(io, sizeof io, "%s,a", h);
        mb_node(b, "Mul", "m1", io, "p");
        mb_node(b, "Mul", "m2", "p,half", "y");
        break;
    case 1:
        snprintf(io, sizeof io, "a,%s", h);
        mb_node(b, "Mul", "m1", io, "p");
        mb_node(b, "Mul", "m2", "half,p", "y");
        break;
    case 2:
        mb_node(b, "Mul", "m1", "a,half", "p");
        snprintf(io, sizeof io, "%s,p", h);
        mb_node(b, "Mul", "m2", io, "y");
        break;
    default:
        snprintf(io, sizeof io, "%s,half", h);
        mb_node(b, "Mul", "m1", io, "p");
        mb_node(b, "Mul", "m2", "p,a", "y");
        break;
    }
}

/* x [2,5,7] -> MatMul(W [7,9]) -> Add(bias [9]) -> "h" (bias first when swap). */
static const int64_t MM_XD[3] = {2, 5, 7}, MM_YD[3] = {2, 5, 9};
#define MM_OUT (2 * 5 * 9)

static mb *matmul_bias(int swap, int bias_rank, unsigned seed) {
    mb *b = mb_new(13);
    mb_value(b, 0, "x", FLOAT, 3, MM_XD, NULL);
    static const int64_t wd[2] = {7, 9}, bd1[1] = {9}, bd2[2] = {1, 9}, bfull[2] = {5, 9};
    mb_init_floats(b, "W", 2, wd, mb_random_floats(b, 63, seed, -0.5f, 0.5f));
    if (bias_rank == 1)
        mb_init_floats(b, "bias", 1, bd1, mb_random_floats(b, 9, seed + 1, -0.5f, 0.5f));
    else if (bias_rank == 2)
        mb_init_floats(b, "bias", 2, bd2, mb_random_floats(b, 9, seed + 1, -0.5f, 0.5f));
    else /* a [5, 9] tensor: an Add, but not of a row */
        mb_init_floats(b, "bias", 2, bfull, mb_random_floats(b, 45, seed + 1, -0.5f, 0.5f));
    mb_node(b, "MatMul", "mm", "x,W", "mm");
    mb_node(b, "Add", "bias_add", swap ? "bias,mm" : "mm,bias", "h");
    return b;
}

static mb *matmul_gelu(int form, gelu_consts c, unsigned seed) {
    mb *b = matmul_bias(form % 2, 1, seed);
    gelu(b, "h", form, c);
    mb_value(b, 1, "y", FLOAT, 3, MM_YD, NULL);
    return b;
}

START_TEST(test_gelu_matmul_every_form) {
    for (int form = 0; form < 4; form++) {
        int on = 0, off = 0;
        onyx_model *m = compare(matmul_gelu(form, EXACT, 3), ONYX_PASS_ALL,
                                matmul_gelu(form, EXACT, 3), 0, 3, MM_XD, MM_OUT, 1, &on, &off);
        ck_assert_msg(on == 1 && off == 7, "form %d: %d steps fused, %d not", form, on, off);
        ck_assert_str_eq(op_of(m, "mm"), "MatMul+Add+Gelu");
        /* the host shows its new input: the bias row */
        ck_assert_int_eq(onyx_model_node_input_count(m, tu_node_index(m, "mm")), 3);
        ck_assert_str_eq(onyx_model_node_input_name(m, tu_node_index(m, "mm"), 2), "bias");
        onyx_session *s = NULL;
        ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
        static const char *const absorbed[6] = {"bias_add", "scale", "erf", "plus1", "m1", "m2"};
        for (int i = 0; i < 6; i++)
            ck_assert_int_eq(onyx_session_node_state(s, tu_node_index(m, absorbed[i])),
                             ONYX_NODE_FUSED);
        ck_assert_int_eq(onyx_session_step_count(s), 1);
        ck_assert_str_eq(onyx_session_step_impl(s, 0), "dnnl");
        onyx_session_free(s);
        onyx_model_free(m);
    }
}
END_TEST

/* The passes one at a time: fuse_add alone takes the bias, fuse_act alone nothing (the GELU
 * reads the Add, not the MatMul); also through ONYX_DISABLE_PASSES. */
START_TEST(test_gelu_bias_switches) {
    onyx_model *m = tu_load_built(matmul_gelu(0, EXACT, 1), ONYX_PASS_ALL & ~ONYX_PASS_FUSE_ACT);
    ck_assert_str_eq(op_of(m, "mm"), "MatMul+Add");
    ck_assert_str_eq(op_of(m, "erf"), "Erf");
    onyx_model_free(m);
    m = tu_load_built(matmul_gelu(0, EXACT, 1), ONYX_PASS_ALL & ~ONYX_PASS_FUSE_ADD);
    ck_assert_str_eq(op_of(m, "mm"), "MatMul");
    onyx_model_free(m);
    setenv("ONYX_DISABLE_PASSES", "fuse_act", 1);
    m = tu_load_built(matmul_gelu(2, EXACT, 1), ONYX_PASS_ALL);
    unsetenv("ONYX_DISABLE_PASSES");
    ck_assert_str_eq(op_of(m, "mm"), "MatMul+Add");
    onyx_model_free(m);
    /* and everything unfused still computes the same through the standalone Erf */
    int on = 0, off = 0;
    m = compare(matmul_gelu(3, EXACT, 2), ONYX_PASS_ALL & ~ONYX_PASS_FUSE_ACT,
                matmul_gelu(3, EXACT, 2), 0, 3, MM_XD, MM_OUT, 1, &on, &off);
    ck_assert_int_eq(on, 6);
    onyx_model_free(m);
}
END_TEST

START_TEST(test_gelu_near_misses) {
    /* a constant off by more than float rounding */
    static const gelu_consts wrong[4] = {
        {1.4142f, 1, 0.5f}, {0.7071f, 1, 0.5f}, {0, 1.01f, 0.5f}, {0, 1, 0.49f}};
    for (int i = 0; i < 4; i++) {
        int form = i == 1 ? 1 : i == 3 ? 3 : 0;
        int on = 0, off = 0;
        onyx_model *m = compare(matmul_gelu(form, wrong[i], 4), ONYX_PASS_ALL,
                                matmul_gelu(form, wrong[i], 4), 0, 3, MM_XD, MM_OUT, 1, &on, &off);
        ck_assert_msg(strcmp(op_of(m, "mm"), "MatMul+Add") == 0, "case %d: %s", i, op_of(m, "mm"));
        ck_assert_int_eq(on, 6);
        onyx_model_free(m);
    }
    /* an intermediate read elsewhere: the Erf's output is also a graph output */
    mb *b = matmul_gelu(0, EXACT, 5);
    mb_value(b, 1, "e", FLOAT, 3, MM_YD, NULL);
    onyx_model *m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(op_of(m, "mm"), "MatMul+Add");
    onyx_model_free(m);
    /* ... or read by another node */
    b = matmul_gelu(2, EXACT, 5);
    mb_node(b, "Relu", "other", "a", "r");
    mb_value(b, 1, "r", FLOAT, 3, MM_YD, NULL);
    m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(op_of(m, "mm"), "MatMul+Add");
    onyx_model_free(m);
    /* a Div the other way round (sqrt(2) / h) */
    b = matmul_bias(0, 1, 6);
    init_scalar(b, "k", SQRT2);
    init_scalar(b, "one", 1);
    init_scalar(b, "half", 0.5f);
    mb_node(b, "Div", "scale", "k,h", "u");
    mb_node(b, "Erf", "erf", "u", "e");
    mb_node(b, "Add", "plus1", "e,one", "a");
    mb_node(b, "Mul", "m1", "h,a", "p");
    mb_node(b, "Mul", "m2", "p,half", "y");
    mb_value(b, 1, "y", FLOAT, 3, MM_YD, NULL);
    m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(op_of(m, "mm"), "MatMul+Add");
    onyx_model_free(m);
}
END_TEST

START_TEST(test_bias_rows_and_declines) {
    /* a [1, 9] row fuses too, in either operand order */
    for (int swap = 0; swap < 2; swap++) {
        mb *b_on = matmul_bias(swap, 2, 7), *b_off = matmul_bias(swap, 2, 7);
        mb_value(b_on, 1, "h", FLOAT, 3, MM_YD, NULL);
        mb_value(b_off, 1, "h", FLOAT, 3, MM_YD, NULL);
        int on = 0, off = 0;
        onyx_model *m = compare(b_on, ONYX_PASS_ALL, b_off, 0, 3, MM_XD, MM_OUT, 1, &on, &off);
        ck_assert_int_eq(on, 1);
        ck_assert_int_eq(off, 2);
        ck_assert_str_eq(op_of(m, "mm"), "MatMul+Add");
        onyx_model_free(m);
    }
    /* a [5, 9] addend is not a row */
    mb *b = matmul_bias(0, 3, 7);
    mb_value(b, 1, "h", FLOAT, 3, MM_YD, NULL);
    onyx_model *m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(op_of(m, "mm"), "MatMul");
    onyx_model_free(m);
    /* nor is a row that is not constant */
    b = mb_new(13);
    static const int64_t wd[2] = {7, 9}, row[1] = {9};
    mb_value(b, 0, "x", FLOAT, 3, MM_XD, NULL);
    mb_value(b, 0, "r", FLOAT, 1, row, NULL);
    mb_init_floats(b, "W", 2, wd, mb_random_floats(b, 63, 1, -0.5f, 0.5f));
    mb_node(b, "MatMul", "mm", "x,W", "mm");
    mb_node(b, "Add", "bias_add", "mm,r", "h");
    mb_value(b, 1, "h", FLOAT, 3, MM_YD, NULL);
    m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(op_of(m, "mm"), "MatMul");
    onyx_model_free(m);
    /* a 1-D B: the row would run along M, which oneDNN's bias does not */
    b = mb_new(13);
    static const int64_t w7[1] = {7}, r5[1] = {5}, y25[2] = {2, 5};
    mb_value(b, 0, "x", FLOAT, 3, MM_XD, NULL);
    mb_init_floats(b, "W", 1, w7, mb_random_floats(b, 7, 1, -0.5f, 0.5f));
    mb_init_floats(b, "bias", 1, r5, mb_random_floats(b, 5, 2, -0.5f, 0.5f));
    mb_node(b, "MatMul", "mm", "x,W", "mm");
    mb_node(b, "Add", "bias_add", "mm,bias", "h");
    mb_value(b, 1, "h", FLOAT, 2, y25, NULL);
    m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(op_of(m, "mm"), "MatMul");
    onyx_model_free(m);
    /* a row of the wrong length would broadcast the product: [9] + [2,5,1] */
    b = mb_new(13);
    static const int64_t w1[2] = {7, 1};
    mb_value(b, 0, "x", FLOAT, 3, MM_XD, NULL);
    mb_init_floats(b, "W", 2, w1, mb_random_floats(b, 7, 1, -0.5f, 0.5f));
    mb_init_floats(b, "bias", 1, row, mb_random_floats(b, 9, 2, -0.5f, 0.5f));
    mb_node(b, "MatMul", "mm", "x,W", "mm");
    mb_node(b, "Add", "bias_add", "mm,bias", "h");
    mb_value(b, 1, "h", FLOAT, 3, MM_YD, NULL);
    m = tu_load_built(b, ONYX_PASS_ALL);
    ck_assert_str_eq(op_of(m, "mm"), "MatMul");
    onyx_model_free(m);
}
END_TEST

/* A bias after the GELU: a binary add post-op on oneDNN (a bias first is the primitive's own);
 * a second bias stays an Add of its own (oneDNN would decline the chain). */
START_TEST(test_bias_after_gelu_and_twice) {
    for (int twice = 0; twice < 2; twice++) {
        mb *bs[2];
        for (int k = 0; k < 2; k++) {
            mb *b = bs[k] = twice ? matmul_bias(0, 1, 9) : mb_new(13);
            static const int64_t wd[2] = {7, 9}, row[1] = {9};
            if (!twice) {
                mb_value(b, 0, "x", FLOAT, 3, MM_XD, NULL);
                mb_init_floats(b, "W", 2, wd, mb_random_floats(b, 63, 9, -0.5f, 0.5f));
                mb_node(b, "MatMul", "mm", "x,W", "h");
            }
            gelu(b, "h", 0, EXACT);
            mb_init_floats(b, "bias2", 1, row, mb_random_floats(b, 9, 10, -0.5f, 0.5f));
            mb_node(b, "Add", "bias2_add", "bias2,y", "z");
            mb_value(b, 1, "z", FLOAT, 3, MM_YD, NULL);
        }
        int on = 0, off = 0;
        onyx_model *m = compare(bs[0], ONYX_PASS_ALL, bs[1], 0, 3, MM_XD, MM_OUT, 1, &on, &off);
        ck_assert_int_eq(on, 1 + twice);
        ck_assert_str_eq(op_of(m, "mm"), twice ? "MatMul+Add+Gelu" : "MatMul+Gelu+Add");
        onyx_options *o = NULL;
        ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
        ck_assert_int_eq(onyx_options_set_kernel_selection(o, ONYX_SELECT_STATIC), ONYX_OK);
        onyx_session *s = NULL;
        ck_assert_int_eq(onyx_session_create(m, o, &s), ONYX_OK);
        ck_assert_str_eq(onyx_session_step_impl(s, 0), "dnnl");
        onyx_session_free(s);
        onyx_options_free(o);
        onyx_model_free(m);
    }
}
END_TEST

/* Gemm (bias in C) and Conv hosting the GELU directly; a GELU after a node that hosts
 * nothing stays as it is and still computes the same. */
START_TEST(test_gelu_gemm_conv_and_hostless) {
    static const int64_t gx[2] = {5, 7}, gy[2] = {5, 9};
    for (int form = 0; form < 4; form++) {
        mb *bs[2];
        for (int k = 0; k < 2; k++) {
            mb *b = bs[k] = mb_new(13);
            mb_value(b, 0, "x", FLOAT, 2, gx, NULL);
            static const int64_t wd[2] = {9, 7}, cd[1] = {9};
            mb_init_floats(b, "W", 2, wd, mb_random_floats(b, 63, 8, -0.6f, 0.6f));
            mb_init_floats(b, "C", 1, cd, mb_random_floats(b, 9, 9, -0.5f, 0.5f));
            Onnx__NodeProto *g = mb_node(b, "Gemm", "gemm", "x,W,C", "h");
            mb_attr_int(b, g, "transB", 1);
            gelu(b, "h", form, EXACT);
            mb_value(b, 1, "y", FLOAT, 2, gy, NULL);
        }
        int on = 0, off = 0;
        onyx_model *m = compare(bs[0], ONYX_PASS_ALL, bs[1], 0, 2, gx, 5 * 9, 1, &on, &off);
        ck_assert_int_eq(on, 1);
        ck_assert_str_eq(op_of(m, "gemm"), "Gemm+Gelu");
        onyx_model_free(m);
    }
    static const int64_t cx[4] = {1, 3, 6, 5}, cy[4] = {1, 4, 6, 5};
    for (int form = 0; form < 4; form++) {
        mb *bs[2];
        for (int k = 0; k < 2; k++) {
            mb *b = bs[k] = mb_new(13);
            mb_value(b, 0, "x", FLOAT, 4, cx, NULL);
            static const int64_t wd[4] = {4, 3, 3, 3}, bd[1] = {4};
            mb_init_floats(b, "W", 4, wd, mb_random_floats(b, 108, 10, -0.4f, 0.4f));
            mb_init_floats(b, "B", 1, bd, mb_random_floats(b, 4, 11, -0.3f, 0.3f));
            Onnx__NodeProto *c = mb_node(b, "Conv", "conv", "x,W,B", "h");
            static const int64_t ks[2] = {3, 3}, pads[4] = {1, 1, 1, 1};
            mb_attr_ints(b, c, "kernel_shape", 2, ks);
            mb_attr_ints(b, c, "pads", 4, pads);
            gelu(b, "h", form, EXACT);
            mb_value(b, 1, "y", FLOAT, 4, cy, NULL);
        }
        int on = 0, off = 0;
        onyx_model *m = compare(bs[0], ONYX_PASS_ALL, bs[1], 0, 4, cx, 4 * 6 * 5, 1, &on, &off);
        ck_assert_int_eq(on, 1);
        ck_assert_str_eq(op_of(m, "conv"), "Conv+Gelu");
        onyx_model_free(m);
    }
    /* host-less: x -> Sigmoid -> GELU (a Sigmoid hosts nothing) */
    mb *bs[2];
    for (int k = 0; k < 2; k++) {
        mb *b = bs[k] = mb_new(13);
        mb_value(b, 0, "x", FLOAT, 3, MM_XD, NULL);
        mb_node(b, "Sigmoid", "sig", "x", "h");
        gelu(b, "h", 0, EXACT);
        mb_value(b, 1, "y", FLOAT, 3, MM_XD, NULL);
    }
    int on = 0, off = 0;
    onyx_model *m = compare(bs[0], ONYX_PASS_ALL, bs[1], 0, 3, MM_XD, 2 * 5 * 7, 1, &on, &off);
    ck_assert_int_eq(on, 6);
    ck_assert_str_eq(op_of(m, "erf"), "Erf");
    onyx_model_free(m);
}
END_TEST

/* ---- LayerNormalization ---- */

enum {
    LN_MUL_SQUARE = 1, /* Mul(d, d) for Pow(d, 2) */
    LN_SWAP = 2,       /* Mul(gamma, .), Add(beta, .), Add(eps, .) */
    LN_NO_BETA = 4,
    LN_OPSET18 = 8,     /* ReduceMean takes axes as an input */
    LN_AXIS1 = 16,      /* near miss: the means over axis 1 */
    LN_POW3 = 32,       /* near miss: Pow(d, 3) */
    LN_SHARED_D = 64,   /* near miss: d is also a graph output */
    LN_GAMMA1 = 128,    /* near miss: gamma [1], broadcast */
    LN_KEEPDIMS0 = 256, /* near miss: the second mean drops the axis */
    LN_SYMBOLIC = 512,  /* the batch dim symbolic */
};

static const int64_t LN_XD[3] = {2, 3, 16};
#define LN_OUT (2 * 3 * 16)

static Onnx__NodeProto *mean(mb *b, int v, const char *name, const char *in, const char *out) {
    int64_t axis = v & LN_AXIS1 ? 1 : -1;
    if (v & LN_OPSET18) {
        char io[64];
        snprintf(io, sizeof io, "%s,axes", in);
        return mb_node(b, "ReduceMean", name, io, out);
    }
    Onnx__NodeProto *n = mb_node(b, "ReduceMean", name, in, out);
    mb_attr_ints(b, n, "axes", 1, &axis);
    return n;
}

/* x [2,3,16] -> the decomposed LayerNormalization of a PyTorch export -> y. */
static mb *ln_model(int v, unsigned seed) {
    mb *b = mb_new(v & LN_OPSET18 ? 18 : 13);
    static const char *const batch[3] = {"batch", NULL, NULL};
    int64_t xd[3] = {v & LN_SYMBOLIC ? -1 : 2, 3, 16}, c = 16, one = 1;
    mb_value(b, 0, "x", FLOAT, 3, xd, v & LN_SYMBOLIC ? batch : NULL);
    mb_init_floats(b, "gamma", 1, v & LN_GAMMA1 ? &one : &c,
                   mb_random_floats(b, v & LN_GAMMA1 ? 1 : 16, seed, 0.5f, 1.5f));
    mb_init_floats(b, "beta", 1, &c, mb_random_floats(b, 16, seed + 1, -0.5f, 0.5f));
    init_scalar(b, "two", v & LN_POW3 ? 3.0f : 2.0f);
    init_scalar(b, "eps", 1e-5f);
    if (v & LN_OPSET18) {
        int64_t axis = v & LN_AXIS1 ? 1 : -1, n1 = 1;
        mb_init_ints(b, "axes", 1, &n1, &axis);
    }
    mean(b, v, "mean", "x", "mu");
    mb_node(b, "Sub", "sub", "x,mu", "d");
    if (v & LN_MUL_SQUARE)
        mb_node(b, "Mul", "sq", "d,d", "d2");
    else
        mb_node(b, "Pow", "sq", "d,two", "d2");
    Onnx__NodeProto *m2 = mean(b, v, "var", "d2", "va");
    if (v & LN_KEEPDIMS0) mb_attr_int(b, m2, "keepdims", 0);
    mb_node(b, "Add", "add_eps", v & LN_SWAP ? "eps,va" : "va,eps", "ve");
    mb_node(b, "Sqrt", "sqrt", "ve", "sd");
    mb_node(b, "Div", "div", "d,sd", "n");
    if (v & LN_NO_BETA) {
        mb_node(b, "Mul", "scale", v & LN_SWAP ? "gamma,n" : "n,gamma", "y");
    } else {
        mb_node(b, "Mul", "scale", v & LN_SWAP ? "gamma,n" : "n,gamma", "g");
        mb_node(b, "Add", "shift", v & LN_SWAP ? "beta,g" : "g,beta", "y");
    }
    mb_value(b, 1, "y", FLOAT, 3, xd, v & LN_SYMBOLIC ? batch : NULL);
    if (v & LN_SHARED_D) mb_value(b, 1, "d", FLOAT, 3, xd, v & LN_SYMBOLIC ? batch : NULL);
    return b;
}

START_TEST(test_layernorm_fused_every_form) {
    static const int forms[6] = {
        0, LN_MUL_SQUARE, LN_SWAP, LN_NO_BETA | LN_SWAP, LN_OPSET18, LN_SYMBOLIC | LN_MUL_SQUARE};
    for (int i = 0; i < 6; i++) {
        int v = forms[i], on = 0, off = 0;
        onyx_model *m = compare(ln_model(v, 12), ONYX_PASS_ALL, ln_model(v, 12), 0, 3, LN_XD,
                                LN_OUT, 0, &on, &off);
        const char *host = v & LN_NO_BETA ? "scale" : "shift";
        ck_assert_msg(on == 1, "form %d: %d steps", v, on);
        ck_assert_int_eq(off, v & LN_NO_BETA ? 8 : 9);
        ck_assert_str_eq(op_of(m, host), "LayerNormalization");
        int h = tu_node_index(m, host);
        ck_assert_int_eq(onyx_model_node_input_count(m, h), v & LN_NO_BETA ? 2 : 3);
        ck_assert_str_eq(onyx_model_node_input_name(m, h, 0), "x");
        ck_assert_str_eq(onyx_model_node_input_name(m, h, 1), "gamma");
        onyx_session *s = NULL;
        ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
        if (v & LN_SYMBOLIC) { /* planned once the batch is bound */
            float x[LN_OUT] = {0};
            ck_assert_int_eq(onyx_session_bind_input(s, 0, FLOAT, LN_XD, 3, x, sizeof x), ONYX_OK);
            ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
        }
        ck_assert_int_eq(onyx_session_node_state(s, tu_node_index(m, "mean")), ONYX_NODE_FUSED);
        ck_assert_int_eq(onyx_session_node_state(s, tu_node_index(m, "sqrt")), ONYX_NODE_FUSED);
        ck_assert_int_eq(onyx_session_node_state(s, h), ONYX_NODE_EXECUTED);
        onyx_session_free(s);
        onyx_model_free(m);
    }
}
END_TEST

START_TEST(test_layernorm_near_misses_and_switch) {
    static const int misses[5] = {LN_AXIS1, LN_POW3, LN_SHARED_D, LN_GAMMA1, LN_KEEPDIMS0};
    for (int i = 0; i < 5; i++) {
        onyx_model *m = tu_load_built(ln_model(misses[i], 13), ONYX_PASS_ALL);
        ck_assert_msg(strcmp(op_of(m, "shift"), "Add") == 0, "case %d: %s", misses[i],
                      op_of(m, "shift"));
        ck_assert_str_eq(op_of(m, "mean"), "ReduceMean");
        onyx_model_free(m);
    }
    /* the axis-1 variant still runs like the unfused graph (nothing changed) */
    int on = 0, off = 0;
    onyx_model *m = compare(ln_model(LN_AXIS1, 14), ONYX_PASS_ALL, ln_model(LN_AXIS1, 14), 0, 3,
                            LN_XD, LN_OUT, 1, &on, &off);
    ck_assert_int_eq(on, 9);
    onyx_model_free(m);
    m = tu_load_built(ln_model(0, 13), ONYX_PASS_ALL & ~ONYX_PASS_FUSE_NORM);
    ck_assert_str_eq(op_of(m, "shift"), "Add");
    onyx_model_free(m);
    setenv("ONYX_DISABLE_PASSES", "fuse_norm", 1);
    m = tu_load_built(ln_model(0, 13), ONYX_PASS_ALL);
    unsetenv("ONYX_DISABLE_PASSES");
    ck_assert_str_eq(op_of(m, "shift"), "Add");
    onyx_model_free(m);
    ck_assert_uint_eq(onyxi_passes_parse("fuse_act, fuse_norm"),
                      ONYX_PASS_FUSE_ACT | ONYX_PASS_FUSE_NORM);
}
END_TEST

/* A symbolic batch: fused at load from the stand-in shapes, then run at two real batches. */
START_TEST(test_layernorm_symbolic_batch_runs) {
    onyx_model *on = tu_load_built(ln_model(LN_SYMBOLIC, 15), ONYX_PASS_ALL);
    onyx_model *off = tu_load_built(ln_model(LN_SYMBOLIC, 15), 0);
    ck_assert_str_eq(op_of(on, "shift"), "LayerNormalization");
    for (int64_t batch = 1; batch <= 5; batch += 4) {
        int64_t xd[3] = {batch, 3, 16};
        size_t n = count_of(3, xd);
        float *x = random_input(n, (unsigned)batch, -4, 4), *a = malloc(n * sizeof *a);
        float *b = malloc(n * sizeof *b);
        onyx_session_free(run(on, ONYX_BACKEND_AUTO, 1, x, 3, xd, a, n));
        onyx_session_free(run(off, ONYX_BACKEND_REFERENCE, 1, x, 3, xd, b, n));
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(fabsf(a[i] - b[i]) <= 1e-5f + 1e-4f * fabsf(b[i]), "%zu: %g vs %g", i,
                          a[i], b[i]);
        free(x);
        free(a);
        free(b);
    }
    onyx_model_free(on);
    onyx_model_free(off);
}
END_TEST

START_TEST(test_transformer_passes_no_leaks) {
    long before = onyxi_alloc_live_blocks();
    for (int p = 0; p <= (int)ONYX_PASS_ALL; p += 5) {
        onyx_model_free(tu_load_built(matmul_gelu(p % 4, EXACT, 1), (unsigned)p));
        onyx_model_free(tu_load_built(ln_model(p % 3 == 0 ? 0 : LN_NO_BETA, 1), (unsigned)p));
    }
    ck_assert_int_eq(onyxi_alloc_live_blocks(), before);
}
END_TEST

static Suite *passes_transformer_suite(void) {
    Suite *s = suite_create("passes_transformer");
    TCase *tc = tcase_create("gelu_bias");
    tcase_add_test(tc, test_gelu_matmul_every_form);
    tcase_add_test(tc, test_gelu_bias_switches);
    tcase_add_test(tc, test_gelu_near_misses);
    tcase_add_test(tc, test_bias_rows_and_declines);
    tcase_add_test(tc, test_bias_after_gelu_and_twice);
    tcase_add_test(tc, test_gelu_gemm_conv_and_hostless);
    suite_add_tcase(s, tc);
    tc = tcase_create("layernorm");
    tcase_add_test(tc, test_layernorm_fused_every_form);
    tcase_add_test(tc, test_layernorm_near_misses_and_switch);
    tcase_add_test(tc, test_layernorm_symbolic_batch_runs);
    tcase_add_test(tc, test_transformer_passes_no_leaks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(passes_transformer_suite());
}
