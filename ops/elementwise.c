/*
 * Element-wise unary ops. Sigmoid-6 and Sigmoid-13 (13 only added bfloat16): float32 only,
 * float16/float64/bfloat16 are refused with ONYX_UNSUPPORTED. Registered with
 * ONYXI_OP_INPLACE_OK, so every kernel here must allow the output to alias the input.
 */
#include <math.h>

#include "ops.h"

onyx_status onyxi_sigmoid_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

onyx_status onyxi_sigmoid_infer(onyxi_infer *c) {
    const onyx_tensor *X = c->in[0];
    if (X->dtype == ONYX_DTYPE_FLOAT16 || X->dtype == ONYX_DTYPE_FLOAT64 ||
        X->dtype == ONYX_DTYPE_BFLOAT16)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 'X' has dtype %s; only float32 is supported",
                          onyx_dtype_name(X->dtype));
    ONYXI_CHECK(onyxi_infer_expect_dtype(c, 0, ONYX_DTYPE_FLOAT32));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    onyxi_infer_set(c, 0, ONYX_DTYPE_FLOAT32, X->rank, X->dims);
    return ONYX_OK;
}

/* 1 / (1 + e^-x) overflows e^-x for x << 0 (harmless, but inf arithmetic), so negative x
 * uses the equal e^x / (1 + e^x), whose e^x only underflows to 0. NaN takes the second
 * branch and stays NaN; -inf gives 0 and +inf gives 1. Each element is read before it is
 * written, so y may be x (in place). */
static onyx_status sigmoid_run_ref(onyxi_exec *x) {
    const float *xd = x->in[0]->data;
    float *yd = x->out[0]->data;
    int64_t count = onyxi_shape_count(x->in[0]->rank, x->in[0]->dims);
    for (int64_t i = 0; i < count; i++) {
        float v = xd[i];
        if (v >= 0.0f) {
            yd[i] = 1.0f / (1.0f + expf(-v));
        } else {
            float ev = expf(v);
            yd[i] = ev / (1.0f + ev);
        }
    }
    return ONYX_OK;
}

const onyxi_attr_spec onyxi_sigmoid_attrs[] = {{NULL, 0}};

static const onyxi_impl sigmoid_ref = {"ref", NULL, sigmoid_run_ref, NULL};
const onyxi_impl *const onyxi_sigmoid_impls[] = {&sigmoid_ref, NULL};
