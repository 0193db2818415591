/*
 * dtype sizes and names, shape arithmetic with overflow checks, and the tensor-view
 * getters of the public API.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "consts.h"
#include "ir.h"

size_t onyxi_dtype_size(onyx_dtype dt) {
    switch (dt) {
    case ONYX_DTYPE_FLOAT32: return 4;
    case ONYX_DTYPE_UINT8: return 1;
    case ONYX_DTYPE_INT8: return 1;
    case ONYX_DTYPE_UINT16: return 2;
    case ONYX_DTYPE_INT16: return 2;
    case ONYX_DTYPE_INT32: return 4;
    case ONYX_DTYPE_INT64: return 8;
    case ONYX_DTYPE_BOOL: return 1;
    case ONYX_DTYPE_FLOAT16: return 2;
    case ONYX_DTYPE_FLOAT64: return 8;
    case ONYX_DTYPE_UINT32: return 4;
    case ONYX_DTYPE_UINT64: return 8;
    case ONYX_DTYPE_COMPLEX64: return 8;
    case ONYX_DTYPE_COMPLEX128: return 16;
    case ONYX_DTYPE_BFLOAT16: return 2;
    default: return 0;
    }
}

int onyxi_dtype_known(int dt) { return dt >= 1 && dt <= 16; }

size_t onyx_dtype_size(onyx_dtype dt) { return onyxi_dtype_size(dt); }

const char *onyx_dtype_name(onyx_dtype dt) {
    static const char *names[] = {"undefined", "float32", "uint8",     "int8",       "uint16",
                                  "int16",     "int32",   "int64",     "string",     "bool",
                                  "float16",   "float64", "uint32",    "uint64",     "complex64",
                                  "complex128", "bfloat16"};
    return (unsigned)dt < sizeof names / sizeof names[0] ? names[dt] : "undefined";
}

int64_t onyxi_shape_count(int rank, const int64_t *dims) {
    if (rank < 0) return -1;
    int64_t n = 1;
    int overflow = 0;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) return -1;
        if (dims[i] != 0 && n > INT64_MAX / dims[i]) overflow = 1;
        else n *= dims[i];
    }
    for (int i = 0; i < rank; i++)
        if (dims[i] == 0) return 0; /* an empty tensor, however large the other dims */
    return overflow ? -2 : n;
}

onyx_status onyxi_shape_nbytes(onyx_dtype dt, int rank, const int64_t *dims, size_t *out,
                               onyxi_err *e) {
    char buf[160];
    int64_t n = onyxi_shape_count(rank, dims);
    if (n == -1)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "shape %s is not known",
                          onyxi_shape_str(rank, dims, buf, sizeof buf));
    size_t bytes;
    if (n < 0 || (uint64_t)n > SIZE_MAX || !onyxi_mul_size((size_t)n, onyxi_dtype_size(dt), &bytes))
        return onyxi_fail(e, ONYX_INVALID_MODEL, "shape %s has too many elements",
                          onyxi_shape_str(rank, dims, buf, sizeof buf));
    *out = bytes;
    return ONYX_OK;
}

char *onyxi_shape_str(int rank, const int64_t *dims, char *buf, size_t size) {
    size_t used = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    if (rank < 0) {
        snprintf(buf, size, "[unknown rank]");
        return buf;
    }
    used += (size_t)snprintf(buf + used, size - used, "[");
    for (int i = 0; i < rank && used < size; i++) {
        if (dims[i] < 0)
            used += (size_t)snprintf(buf + used, size - used, "%s?", i ? "," : "");
        else
            used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "",
                                     (long long)dims[i]);
    }
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

void onyxi_tensor_destroy(onyx_tensor *t) {
    if (!t) return;
    if (t->owns_data) onyxi_free(t->data);
    if (t->owns_name) onyxi_free((char *)t->name);
    onyxi_free(t);
}

/* ---- public getters ---- */

const char *onyx_tensor_name(const onyx_tensor *t) { return t ? (t->name ? t->name : "") : NULL; }

onyx_dtype onyx_tensor_dtype(const onyx_tensor *t) { return t ? t->dtype : ONYX_DTYPE_UNDEFINED; }

int onyx_tensor_rank(const onyx_tensor *t) { return t ? t->rank : -1; }

int64_t onyx_tensor_dim(const onyx_tensor *t, int axis) {
    if (!t || axis < 0 || axis >= t->rank) return -1;
    return t->dims[axis];
}

int64_t onyx_tensor_count(const onyx_tensor *t) {
    if (!t) return -1;
    int64_t n = onyxi_shape_count(t->rank, t->dims);
    return n < 0 ? -1 : n;
}

const char *onyx_tensor_dim_param(const onyx_tensor *t, int axis) {
    if (!t || axis < 0 || axis >= t->rank) return NULL;
    return t->dim_params && t->dim_params[axis] ? t->dim_params[axis] : "";
}

size_t onyx_tensor_nbytes(const onyx_tensor *t) { return t ? t->nbytes : 0; }

const void *onyx_tensor_data(const onyx_tensor *t) {
    if (!t) return NULL;
    /* a weight the model may have released: read back (and kept) for the caller */
    return t->constant ? onyxi_const_data(t->constant) : t->data;
}
