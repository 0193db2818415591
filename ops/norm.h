/*
 * The oneDNN implementations of the normalization ops (norm_dnnl.c) and the own
 * BatchNormalization kernel (norm_bn.c), listed ahead of the reference in norm.c's impls.
 */
#ifndef ONYXI_NORM_H
#define ONYXI_NORM_H

#include "op.h"

/* BatchNormalization inference with per-channel parameters. */
extern const onyxi_impl onyxi_batch_norm_dnnl;
/* The same on plain or channels-last data with ordinary stores (norm_bn.c), listed first. */
extern const onyxi_impl onyxi_batch_norm_own;
/* 1 when the fast kernels can take the node: float32 X of rank >= 2 with elements, four plain
 * per-channel [C] float32 parameters (not spatial=0's per-activation ones) and only the Y output
 * wanted. */
int onyxi_batch_norm_per_channel(const onyxi_exec *x);
/* LayerNormalization over the last axis, with full-size Scale and B. */
extern const onyxi_impl onyxi_layer_norm_dnnl;

#endif
