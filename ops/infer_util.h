/*
 * Small inference helpers shared by the reference op families (misc.c, scatter.c, math.c):
 * tensor names for messages, the dtype refusal that tells "ONNX allows it, onyx does not run
 * it" from "wrong type", and products of dim ranges. Private to ops/.
 */
#ifndef ONYXI_INFER_UTIL_H
#define ONYXI_INFER_UTIL_H

#include "op.h"

/* t's name for messages: "" when t is NULL or unnamed. Borrowed from t. */
const char *onyxi_tensor_name(const onyx_tensor *t);

/* Fails input k's dtype: ONYX_UNSUPPORTED for dtypes ONNX allows that onyx does not run
 * (float16, bfloat16, strings, complex), ONYX_TYPE_MISMATCH for the rest; `want` lists what
 * the op takes. Always returns the recorded error code. */
onyx_status onyxi_refuse_dtype(onyxi_infer *c, int k, const char *want);

/* Product of dims[a..b-1], 1 when a >= b. REQUIRES: dims from an inferred, overflow-checked
 * shape (no check here). */
int64_t onyxi_dims_prod(const int64_t *dims, int a, int b);

#endif
