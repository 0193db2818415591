/*
 * Inference helpers shared by the reference op families (see infer_util.h): message names,
 * dtype refusal codes and dim products.
 */
#include "infer_util.h"

const char *onyxi_tensor_name(const onyx_tensor *t) {
    return t && t->name ? t->name : "";
}

onyx_status onyxi_refuse_dtype(onyxi_infer *c, int k, const char *want) {
    onyx_dtype dt = c->in[k]->dtype;
    onyx_status code = dt == ONYX_DTYPE_FLOAT16 || dt == ONYX_DTYPE_BFLOAT16 ||
                               dt == ONYX_DTYPE_STRING || dt == ONYX_DTYPE_COMPLEX64 ||
                               dt == ONYX_DTYPE_COMPLEX128
                           ? ONYX_UNSUPPORTED
                           : ONYX_TYPE_MISMATCH;
    return onyxi_fail(c->err, code, "input %d ('%s') has dtype %s, expected %s", k,
                      onyxi_tensor_name(c->in[k]), onyx_dtype_name(dt), want);
}

int64_t onyxi_dims_prod(const int64_t *dims, int a, int b) {
    int64_t p = 1;
    for (int i = a; i < b; i++)
        p *= dims[i];
    return p;
}
