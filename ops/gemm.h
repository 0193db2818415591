/*
 * Gemm geometry shared by the reference (gemm.c) and oneDNN (gemm_dnnl.c) kernels.
 */
#ifndef ONYXI_GEMM_H
#define ONYXI_GEMM_H

#include "op.h"

/* The node's sizes: A' is [m, k], B' is [k, n]; C element (i, j) is at i * c_rs + j * c_cs. */
typedef struct gemm_geom {
    int64_t m, n, k;
    int ta, tb;
    int has_c;
    int64_t c_rs, c_cs;
} gemm_geom;

/* Fills g from the input shapes (c may be NULL); ONYX_SHAPE_MISMATCH naming the shapes when
 * they do not fit. */
onyx_status onyxi_gemm_geometry(const onyxi_node *nd, const onyx_tensor *a, const onyx_tensor *b,
                                const onyx_tensor *c, gemm_geom *g, onyxi_err *e);

/* The oneDNN implementation (gemm_dnnl.c). */
extern const onyxi_impl onyxi_gemm_dnnl;

#endif
