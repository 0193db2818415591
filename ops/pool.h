/*
 * Pooling geometry shared by the reference (pool.c) and oneDNN (pool_dnnl.c) kernels: one
 * place turns attributes and the input shape into kernel, strides, dilations and pads.
 */
#ifndef ONYXI_POOL_H
#define ONYXI_POOL_H

#include "op.h"

#define POOL_MAX_SPATIAL (ONYXI_MAX_RANK - 2)

enum { KIND_MAX, KIND_AVG };

/* Everything the kernels need to know about one (node, input shape) pair. */
typedef struct pool_geom {
    int S; /* spatial dims */
    int kind;
    int64_t N, C;
    int64_t in[POOL_MAX_SPATIAL], k[POOL_MAX_SPATIAL], out[POOL_MAX_SPATIAL];
    int64_t stride[POOL_MAX_SPATIAL], dil[POOL_MAX_SPATIAL];
    int64_t pad[POOL_MAX_SPATIAL], pad_end[POOL_MAX_SPATIAL]; /* explicit or from auto_pad */
    int count_include_pad, storage_order;
} pool_geom;

/* Validates X's shape against MaxPool / AveragePool node n's attributes and fills g (output
 * shape included). */
onyx_status onyxi_pool_geometry(const onyxi_node *n, const onyx_tensor *X, pool_geom *g,
                                onyxi_err *e);

/* The oneDNN implementations (pool_dnnl.c): MaxPool / AveragePool, and the global pools. */
extern const onyxi_impl onyxi_pool_dnnl;
extern const onyxi_impl onyxi_global_pool_dnnl;

#endif
