/*
 * MatMul shape rules shared by the reference (matmul.c) and oneDNN (matmul_dnnl.c) kernels.
 */
#ifndef ONYXI_MATMUL_H
#define ONYXI_MATMUL_H

#include "op.h"

/* The operands viewed as batches of matrices: a is [batch..., m, k], b is [batch..., k, n],
 * with 1-D operands promoted and both batch shapes right-aligned to nb dims. */
typedef struct mm_shape {
    int64_t m, k, n;
    int nb;                          /* number of output batch dims */
    int64_t a_batch[ONYXI_MAX_RANK]; /* a's batch dims, padded with leading 1s */
    int64_t b_batch[ONYXI_MAX_RANK];
    int64_t y_batch[ONYXI_MAX_RANK]; /* broadcast result */
} mm_shape;

/* Fills s from the input shapes; ONYX_SHAPE_MISMATCH naming both shapes when they do not fit. */
onyx_status onyxi_matmul_shape(const onyx_tensor *a, const onyx_tensor *b, mm_shape *s,
                               onyxi_err *e);

/* The oneDNN implementation (matmul_dnnl.c). */
extern const onyxi_impl onyxi_matmul_dnnl;

#endif
