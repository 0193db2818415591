/*
 * Tests of ops/math.c: variadic Max/Min/Sum/Mean with N-way broadcasting, And/Or/Xor, Mod
 * (both fmod modes, integer and float), BitShift, and the unary math ops, with hand-computed
 * values, version rules (Max/Min integers from 12) and the dtype/attribute error codes.
 */
#include <math.h>
#include <string.h>

#include "testutil.h"

#define F32(rank, dims, ...) tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, (const float[]){__VA_ARGS__})
#define TEN(dt, T, rank, dims, ...) tu_tensor(dt, rank, dims, (const T[]){__VA_ARGS__})

static void assert_f32(onyx_tensor *y, int rank, const int64_t *dims, const float *want) {
    tu_assert_floats(y, rank, dims, want, 1e-7, 1e-6);
    tu_tensor_free(y);
}

/* ---- variadic ---- */

START_TEST(test_max_three_inputs_broadcast) {
    /* [2,1] x [3] x [1] -> [2,3]: max(a_i, b_j, 2) */
    int64_t d21[2] = {2, 1}, d3[1] = {3}, d1[1] = {1}, d23[2] = {2, 3};
    onyx_tensor *in[3] = {F32(2, d21, 1, 5), F32(1, d3, 0, 3, 6), F32(1, d1, 2)};
    onyx_tensor *y[1];
    onyxi_err err;
    ck_assert_int_eq(tu_run_node(tu_node_new("Max", 13, 3, 1), 3, in, y, &err), ONYX_OK);
    assert_f32(y[0], 2, d23, (const float[]){2, 3, 6, 5, 5, 6});
}
END_TEST

START_TEST(test_min_nan_propagates) {
    int64_t d[1] = {3};
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(tu_run2("Min", 13, F32(1, d, NAN, 1, 4), F32(1, d, 0, NAN, 2), &y, &err),
                     ONYX_OK);
    assert_f32(y, 1, d, (const float[]){NAN, NAN, 2});
}
END_TEST

START_TEST(test_max_int_from_opset_12) {
    int64_t d[2] = {1, 3};
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(tu_run2("Max", 12, TEN(ONYX_DTYPE_INT32, int32_t, 2, d, -7, 8, 0),
                             TEN(ONYX_DTYPE_INT32, int32_t, 2, d, -9, 9, -1), &y, &err),
                     ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_INT32, 2, d, (const int32_t[]){-7, 9, 0});
    ck_assert_int_eq(tu_run2("Min", 13, TEN(ONYX_DTYPE_UINT64, uint64_t, 2, d, 1, UINT64_MAX, 5),
                             TEN(ONYX_DTYPE_UINT64, uint64_t, 2, d, 2, 3, 5), &y, &err),
                     ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_UINT64, 2, d, (const uint64_t[]){1, 3, 5});
    /* before 12 only float types */
    ck_assert_int_eq(tu_run2("Max", 8, TEN(ONYX_DTYPE_INT32, int32_t, 2, d, 1, 2, 3),
                             TEN(ONYX_DTYPE_INT32, int32_t, 2, d, 1, 2, 3), &y, &err),
                     ONYX_TYPE_MISMATCH);
}
END_TEST

START_TEST(test_sum_mean_values) {
    int64_t d[1] = {2}, s[1] = {1};
    onyx_tensor *y[1];
    onyxi_err err;
    onyx_tensor *in[3] = {F32(1, d, 1, 2), F32(1, s, 10), F32(1, d, 100, 200)};
    ck_assert_int_eq(tu_run_node(tu_node_new("Sum", 8, 3, 1), 3, in, y, &err), ONYX_OK);
    assert_f32(y[0], 1, d, (const float[]){111, 212});
    onyx_tensor *in2[3] = {F32(1, d, 1, 2), F32(1, s, 10), F32(1, d, 100, 200)};
    ck_assert_int_eq(tu_run_node(tu_node_new("Mean", 13, 3, 1), 3, in2, y, &err), ONYX_OK);
    assert_f32(y[0], 1, d, (const float[]){37, 212.0f / 3});
    /* one input: a copy */
    ck_assert_int_eq(tu_run1("Sum", 13, F32(1, d, -1, 4), &y[0], &err), ONYX_OK);
    assert_f32(y[0], 1, d, (const float[]){-1, 4});
    /* float64 */
    onyx_tensor *yd;
    ck_assert_int_eq(tu_run2("Mean", 13, TEN(ONYX_DTYPE_FLOAT64, double, 1, d, 1, 2),
                             TEN(ONYX_DTYPE_FLOAT64, double, 1, d, 2, 5), &yd, &err),
                     ONYX_OK);
    tu_assert_exact(yd, ONYX_DTYPE_FLOAT64, 1, d, (const double[]){1.5, 3.5});
}
END_TEST

START_TEST(test_variadic_errors) {
    int64_t d2[1] = {2}, d3[1] = {3};
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(tu_run2("Sum", 13, F32(1, d2, 1, 2), F32(1, d3, 1, 2, 3), &y, &err),
                     ONYX_SHAPE_MISMATCH);
    ck_assert_int_eq(tu_run2("Max", 13, F32(1, d2, 1, 2),
                             TEN(ONYX_DTYPE_FLOAT64, double, 1, d2, 1, 2), &y, &err),
                     ONYX_TYPE_MISMATCH);
    ck_assert_int_eq(tu_run2("Sum", 13, TEN(ONYX_DTYPE_INT64, int64_t, 1, d2, 1, 2),
                             TEN(ONYX_DTYPE_INT64, int64_t, 1, d2, 1, 2), &y, &err),
                     ONYX_TYPE_MISMATCH);
    ck_assert_int_eq(tu_run1("Mean", 13, tu_tensor(ONYX_DTYPE_FLOAT16, 1, d2, NULL), &y, &err),
                     ONYX_UNSUPPORTED);
    ck_assert_int_eq(tu_run_node(tu_node_new("Max", 13, 0, 1), 0, NULL, &y, &err),
                     ONYX_INVALID_MODEL);
}
END_TEST

/* ---- binary ---- */

START_TEST(test_logic_broadcast) {
    int64_t d22[2] = {2, 2}, d2[1] = {2};
    onyx_tensor *y;
    onyxi_err err;
#define B(rank, dims, ...) TEN(ONYX_DTYPE_BOOL, uint8_t, rank, dims, __VA_ARGS__)
    ck_assert_int_eq(tu_run2("And", 7, B(2, d22, 0, 1, 1, 1), B(1, d2, 1, 0), &y, &err), ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_BOOL, 2, d22, (const uint8_t[]){0, 0, 1, 0});
    ck_assert_int_eq(tu_run2("Or", 7, B(2, d22, 0, 1, 0, 0), B(1, d2, 0, 0), &y, &err), ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_BOOL, 2, d22, (const uint8_t[]){0, 1, 0, 0});
    ck_assert_int_eq(tu_run2("Xor", 7, B(2, d22, 0, 1, 1, 0), B(1, d2, 1, 1), &y, &err), ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_BOOL, 2, d22, (const uint8_t[]){1, 0, 0, 1});
    ck_assert_int_eq(tu_run2("And", 7, F32(1, d2, 1, 0), F32(1, d2, 1, 1), &y, &err),
                     ONYX_TYPE_MISMATCH);
#undef B
}
END_TEST

static onyx_status run_mod(int64_t fmod_attr, onyx_tensor *a, onyx_tensor *b, onyx_tensor **y,
                           onyxi_err *err) {
    onyxi_node *n = tu_node_new("Mod", 13, 2, 1);
    if (fmod_attr >= 0) tu_attr_int(n, "fmod", fmod_attr);
    onyx_tensor *in[2] = {a, b};
    return tu_run_node(n, 2, in, y, err);
}

START_TEST(test_mod_integer_signs) {
    int64_t d[1] = {6};
    onyx_tensor *y;
    onyxi_err err;
    /* Python: the result takes the divisor's sign; x % 0 is 0; INT32_MIN % -1 is 0 */
    ck_assert_int_eq(run_mod(-1, TEN(ONYX_DTYPE_INT32, int32_t, 1, d, -4, 4, -4, 7, 5, INT32_MIN),
                             TEN(ONYX_DTYPE_INT32, int32_t, 1, d, 3, -3, -3, 0, 5, -1), &y, &err),
                     ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_INT32, 1, d, (const int32_t[]){2, -2, -1, 0, 0, 0});
    /* fmod = 1: C's truncated remainder, the dividend's sign */
    ck_assert_int_eq(run_mod(1, TEN(ONYX_DTYPE_INT64, int64_t, 1, d, -4, 4, -4, 7, 5, 9),
                             TEN(ONYX_DTYPE_INT64, int64_t, 1, d, 3, -3, -3, 0, 5, 4), &y, &err),
                     ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_INT64, 1, d, (const int64_t[]){-1, 1, -1, 0, 0, 1});
    int64_t d2[1] = {2};
    ck_assert_int_eq(run_mod(0, TEN(ONYX_DTYPE_UINT8, uint8_t, 1, d2, 200, 7),
                             TEN(ONYX_DTYPE_UINT8, uint8_t, 1, d2, 7, 0), &y, &err),
                     ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_UINT8, 1, d2, (const uint8_t[]){4, 0});
}
END_TEST

START_TEST(test_mod_float) {
    int64_t d[1] = {4};
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(run_mod(1, F32(1, d, -4.5f, 4.5f, 5, -3), F32(1, d, 2, -2, 2.5f, 2), &y, &err),
                     ONYX_OK);
    assert_f32(y, 1, d, (const float[]){-0.5f, 0.5f, 0, -1});
    /* fmod = 0 on floats: np.mod */
    ck_assert_int_eq(run_mod(0, F32(1, d, -4.5f, 4.5f, 5, -3), F32(1, d, 2, -2, 2.5f, 2), &y, &err),
                     ONYX_OK);
    assert_f32(y, 1, d, (const float[]){1.5f, -1.5f, 0, 1});
    ck_assert_int_eq(run_mod(2, F32(1, d, 1, 1, 1, 1), F32(1, d, 1, 1, 1, 1), &y, &err),
                     ONYX_INVALID_MODEL);
}
END_TEST

static onyx_status run_shift(const char *dir, onyx_tensor *a, onyx_tensor *b, onyx_tensor **y,
                             onyxi_err *err) {
    onyxi_node *n = tu_node_new("BitShift", 11, 2, 1);
    if (dir) tu_attr_string(n, "direction", dir);
    onyx_tensor *in[2] = {a, b};
    return tu_run_node(n, 2, in, y, err);
}

START_TEST(test_bitshift) {
    int64_t d[1] = {4}, s[1] = {1};
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(run_shift("LEFT", TEN(ONYX_DTYPE_UINT8, uint8_t, 1, d, 1, 3, 255, 7),
                               TEN(ONYX_DTYPE_UINT8, uint8_t, 1, d, 1, 2, 1, 8), &y, &err),
                     ONYX_OK);
    /* 255 << 1 wraps to 254; a shift by the full width gives 0 */
    tu_assert_exact(y, ONYX_DTYPE_UINT8, 1, d, (const uint8_t[]){2, 12, 254, 0});
    ck_assert_int_eq(run_shift("RIGHT",
                               TEN(ONYX_DTYPE_UINT64, uint64_t, 1, d, 16, 4, 1, UINT64_MAX),
                               TEN(ONYX_DTYPE_UINT64, uint64_t, 1, s, 2), &y, &err),
                     ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_UINT64, 1, d, (const uint64_t[]){4, 1, 0, UINT64_MAX >> 2});
    ck_assert_int_eq(run_shift(NULL, TEN(ONYX_DTYPE_UINT8, uint8_t, 1, s, 1),
                               TEN(ONYX_DTYPE_UINT8, uint8_t, 1, s, 1), &y, &err),
                     ONYX_INVALID_MODEL);
    ck_assert_int_eq(run_shift("UP", TEN(ONYX_DTYPE_UINT8, uint8_t, 1, s, 1),
                               TEN(ONYX_DTYPE_UINT8, uint8_t, 1, s, 1), &y, &err),
                     ONYX_INVALID_MODEL);
    ck_assert_int_eq(run_shift("LEFT", TEN(ONYX_DTYPE_INT32, int32_t, 1, s, 1),
                               TEN(ONYX_DTYPE_INT32, int32_t, 1, s, 1), &y, &err),
                     ONYX_TYPE_MISMATCH);
}
END_TEST

/* ---- unary ---- */

START_TEST(test_round_half_even) {
    int64_t d[1] = {7};
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(
        tu_run1("Round", 11, F32(1, d, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.3f, -2.7f), &y, &err),
        ONYX_OK);
    assert_f32(y, 1, d, (const float[]){0, 2, 2, -0.0f, -2, 2, -3});
    ck_assert_int_eq(
        tu_run1("Floor", 6, F32(1, d, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.3f, -2.7f), &y, &err),
        ONYX_OK);
    assert_f32(y, 1, d, (const float[]){0, 1, 2, -1, -2, 2, -3});
    ck_assert_int_eq(
        tu_run1("Ceil", 13, F32(1, d, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.3f, -2.7f), &y, &err),
        ONYX_OK);
    assert_f32(y, 1, d, (const float[]){1, 2, 3, -0.0f, -1, 3, -2});
}
END_TEST

START_TEST(test_trig_values) {
    static const char *ops[] = {"Sin",  "Cos",  "Tan",  "Asin",  "Acos",
                                "Atan", "Sinh", "Cosh", "Asinh", "Atanh"};
    static double (*fn[])(double) = {sin, cos, tan, asin, acos, atan, sinh, cosh, asinh, atanh};
    int64_t d[1] = {3};
    const float x[3] = {-0.5f, 0.0f, 0.75f};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        onyx_tensor *y;
        onyxi_err err;
        ck_assert_int_eq(tu_run1(ops[i], 9, tu_tensor(ONYX_DTYPE_FLOAT32, 1, d, x), &y, &err),
                         ONYX_OK);
        float want[3];
        for (int k = 0; k < 3; k++)
            want[k] = (float)fn[i](x[k]);
        assert_f32(y, 1, d, want);
    }
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(tu_run1("Acosh", 9, F32(1, d, 1, 2, 0.5f), &y, &err), ONYX_OK);
    assert_f32(y, 1, d, (const float[]){0, 1.3169579f, NAN});
}
END_TEST

static onyx_status run1_attr(const char *op, int64_t opset, const char *attr, float v,
                             onyx_tensor *x, onyx_tensor **y, onyxi_err *err) {
    onyxi_node *n = tu_node_new(op, opset, 1, 1);
    if (attr) tu_attr_float(n, attr, v);
    onyx_tensor *in[1] = {x};
    return tu_run_node(n, 1, in, y, err);
}

START_TEST(test_activations) {
    int64_t d[1] = {5};
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(
        run1_attr("ThresholdedRelu", 10, "alpha", 2.0f, F32(1, d, -3, 1, 2, 2.5f, 9), &y, &err),
        ONYX_OK);
    assert_f32(y, 1, d, (const float[]){0, 0, 0, 2.5f, 9});
    ck_assert_int_eq(
        run1_attr("ThresholdedRelu", 10, NULL, 0, F32(1, d, -3, 1, 2, 0.5f, 9), &y, &err), ONYX_OK);
    assert_f32(y, 1, d, (const float[]){0, 0, 2, 0, 9});
    ck_assert_int_eq(tu_run1("Softsign", 1, F32(1, d, -3, -1, 0, 1, 4), &y, &err), ONYX_OK);
    assert_f32(y, 1, d, (const float[]){-0.75f, -0.5f, 0, 0.5f, 0.8f});
    /* Shrink: lambd 1.5, bias 0.5 */
    onyxi_node *n = tu_node_new("Shrink", 9, 1, 1);
    tu_attr_float(n, "lambd", 1.5f);
    tu_attr_float(n, "bias", 0.5f);
    onyx_tensor *in[1] = {F32(1, d, -2, -1.5f, 0, 1.6f, 3)};
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_OK);
    assert_f32(y, 1, d, (const float[]){-1.5f, 0, 0, 1.1f, 2.5f});
    /* Celu alpha 2: 2 * (e^(x/2) - 1) below 0 */
    ck_assert_int_eq(run1_attr("Celu", 12, "alpha", 2.0f, F32(1, d, -2, -1, 0, 1, 3), &y, &err),
                     ONYX_OK);
    assert_f32(y, 1, d, (const float[]){2 * (expf(-1) - 1), 2 * (expf(-0.5f) - 1), 0, 1, 3});
    ck_assert_int_eq(run1_attr("Celu", 12, "alpha", 0.0f, F32(1, d, 1, 1, 1, 1, 1), &y, &err),
                     ONYX_INVALID_MODEL);
    /* Mish: x * tanh(ln(1 + e^x)); Mish(1) = 0.86509839 */
    ck_assert_int_eq(tu_run1("Mish", 18, F32(1, d, -100, -1, 0, 1, 50), &y, &err), ONYX_OK);
    assert_f32(y, 1, d,
               (const float[]){-100 * tanhf(log1pf(expf(-100))), -0.30340144f, 0, 0.86509839f, 50});
    ck_assert_int_eq(tu_run1("Mish", 17, F32(1, d, 1, 1, 1, 1, 1), &y, &err), ONYX_UNSUPPORTED);
}
END_TEST

START_TEST(test_sign_isnan_isinf) {
    int64_t d[1] = {5};
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(tu_run1("Sign", 13, F32(1, d, -2.5f, -0.0f, 0, 3, NAN), &y, &err), ONYX_OK);
    assert_f32(y, 1, d, (const float[]){-1, -0.0f, 0, 1, NAN});
    ck_assert_int_eq(
        tu_run1("Sign", 9, TEN(ONYX_DTYPE_INT8, int8_t, 1, d, -128, -1, 0, 1, 127), &y, &err),
        ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_INT8, 1, d, (const int8_t[]){-1, -1, 0, 1, 1});
    ck_assert_int_eq(tu_run1("IsNaN", 13, F32(1, d, NAN, INFINITY, 0, -NAN, 1), &y, &err), ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_BOOL, 1, d, (const uint8_t[]){1, 0, 0, 1, 0});
    onyxi_node *n = tu_node_new("IsInf", 10, 1, 1);
    tu_attr_int(n, "detect_negative", 0);
    onyx_tensor *in[1] = {F32(1, d, NAN, INFINITY, -INFINITY, 0, 1e38f)};
    ck_assert_int_eq(tu_run_node(n, 1, in, &y, &err), ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_BOOL, 1, d, (const uint8_t[]){0, 1, 0, 0, 0});
    ck_assert_int_eq(tu_run1("IsInf", 10, F32(1, d, NAN, INFINITY, -INFINITY, 0, 1e38f), &y, &err),
                     ONYX_OK);
    tu_assert_exact(y, ONYX_DTYPE_BOOL, 1, d, (const uint8_t[]){0, 1, 1, 0, 0});
    ck_assert_int_eq(
        tu_run1("IsNaN", 13, TEN(ONYX_DTYPE_INT32, int32_t, 1, d, 1, 2, 3, 4, 5), &y, &err),
        ONYX_TYPE_MISMATCH);
}
END_TEST

START_TEST(test_unary_dtype_errors) {
    int64_t d[1] = {2};
    onyx_tensor *y;
    onyxi_err err;
    ck_assert_int_eq(tu_run1("Sin", 7, TEN(ONYX_DTYPE_INT32, int32_t, 1, d, 1, 2), &y, &err),
                     ONYX_TYPE_MISMATCH);
    ck_assert_int_eq(tu_run1("Floor", 13, tu_tensor(ONYX_DTYPE_FLOAT16, 1, d, NULL), &y, &err),
                     ONYX_UNSUPPORTED);
    ck_assert(strstr(err.msg, "float16") != NULL);
}
END_TEST

int main(void) {
    Suite *s = suite_create("ops_math");
    TCase *tc = tcase_create("variadic");
    tcase_add_test(tc, test_max_three_inputs_broadcast);
    tcase_add_test(tc, test_min_nan_propagates);
    tcase_add_test(tc, test_max_int_from_opset_12);
    tcase_add_test(tc, test_sum_mean_values);
    tcase_add_test(tc, test_variadic_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("binary");
    tcase_add_test(tc, test_logic_broadcast);
    tcase_add_test(tc, test_mod_integer_signs);
    tcase_add_test(tc, test_mod_float);
    tcase_add_test(tc, test_bitshift);
    suite_add_tcase(s, tc);
    tc = tcase_create("unary");
    tcase_add_test(tc, test_round_half_even);
    tcase_add_test(tc, test_trig_values);
    tcase_add_test(tc, test_activations);
    tcase_add_test(tc, test_sign_isnan_isinf);
    tcase_add_test(tc, test_unary_dtype_errors);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
