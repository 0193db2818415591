/*
 * Convolution geometry shared by the reference (conv.c) and oneDNN (conv_dnnl.c) kernels:
 * one place turns attributes and input shapes into sizes, strides, dilations and pads, and
 * checks the post-op chain a fused Conv carries.
 */
#ifndef ONYXI_CONV_H
#define ONYXI_CONV_H

#include "op.h"

#define MAX_SPATIAL (ONYXI_MAX_RANK - 2)

typedef struct conv_geom {
    int S; /* spatial dims */
    int64_t N, C, M, G;
    int64_t in[MAX_SPATIAL], k[MAX_SPATIAL], out[MAX_SPATIAL];
    int64_t stride[MAX_SPATIAL], dil[MAX_SPATIAL], pad[MAX_SPATIAL]; /* pad: at the start */
} conv_geom;

/* Validates the input shapes against node n's attributes and fills g (output shape
 * included). B may be NULL. */
onyx_status onyxi_conv_geometry(const onyxi_node *n, const onyx_tensor *X, const onyx_tensor *W,
                                const onyx_tensor *B, conv_geom *g, onyxi_err *e);

/* Checks node n's fused post-op chain (n->fusion, set by the graph passes) against its inputs
 * and the output shape: every Add reads a float32 input of exactly that shape. OK when there
 * is no chain. */
onyx_status onyxi_conv_post_check(const onyxi_node *n, int n_in, const onyx_tensor *const *in,
                                  int rank, const int64_t *dims, onyxi_err *e);

/* The oneDNN implementation (conv_dnnl.c). */
extern const onyxi_impl onyxi_conv_dnnl;
/* The AVX2 Winograd F(4x4, 3x3) implementation "wino" (conv_winograd.c): 3x3, stride 1. */
extern const onyxi_impl onyxi_conv_winograd;
/* The AVX2+FMA depthwise kernel (conv_depthwise.c): nhwc, 3x3/5x5, strides 1-2. */
extern const onyxi_impl onyxi_conv_dw;

#endif
