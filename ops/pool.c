/*
 * Pooling ops. GlobalAveragePool-1: X [N, C, d1, d2, ...] (rank >= 3) -> [N, C, 1, 1, ...],
 * the mean over all spatial positions of each (n, c) plane. float32 only (float16/float64
 * are refused with ONYX_UNSUPPORTED).
 */
#include <math.h>

#include "ops.h"

onyx_status onyxi_global_average_pool_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

onyx_status onyxi_global_average_pool_infer(onyxi_infer *c) {
    const onyx_tensor *X = c->in[0];
    if (X->dtype == ONYX_DTYPE_FLOAT16 || X->dtype == ONYX_DTYPE_FLOAT64)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 'X' has dtype %s; only float32 is supported",
                          onyx_dtype_name(X->dtype));
    ONYXI_CHECK(onyxi_infer_expect_dtype(c, 0, ONYX_DTYPE_FLOAT32));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    if (X->rank < 3)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 'X' has rank %d, expected at least 3 (N, C, spatial...)", X->rank);
    int64_t dims[ONYXI_MAX_RANK];
    for (int i = 0; i < X->rank; i++)
        dims[i] = i < 2 ? X->dims[i] : 1;
    onyxi_infer_set(c, 0, ONYX_DTYPE_FLOAT32, X->rank, dims);
    return ONYX_OK;
}

/* Sums in double: float accumulation over a large plane (e.g. 512x512) loses several
 * digits, and double keeps the relative error near 1e-16 x plane size. An empty plane
 * gives NaN, as the mean of nothing does in the ONNX (numpy) reference. */
static onyx_status global_average_pool_run_ref(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    const float *xd = X->data;
    float *yd = x->out[0]->data;
    int64_t planes = X->dims[0] * X->dims[1]; /* bounded: the output has this many elements */
    int64_t size = onyxi_shape_count(X->rank - 2, X->dims + 2);
    if (planes == 0) return ONYX_OK;
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = xd + p * size;
        double sum = 0.0;
        for (int64_t i = 0; i < size; i++)
            sum += xp[i];
        yd[p] = size > 0 ? (float)(sum / (double)size) : NAN;
    }
    return ONYX_OK;
}

const onyxi_attr_spec onyxi_global_average_pool_attrs[] = {{NULL, 0}};

static const onyxi_impl global_average_pool_ref = {"ref", NULL, global_average_pool_run_ref, NULL};
const onyxi_impl *const onyxi_global_average_pool_impls[] = {&global_average_pool_ref, NULL};
