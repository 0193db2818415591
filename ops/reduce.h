/*
 * Reduction axes shared by the reference (reduce.c) and oneDNN (reduce_dnnl.c) kernels.
 */
#ifndef ONYXI_REDUCE_H
#define ONYXI_REDUCE_H

#include "op.h"

/* The reduced dims of input t of reduction node n as a bit mask (bit i = dim i), from the
 * `axes` attribute or input (axes_input, NULL when absent; its data must be known).
 * *identity is set for the opset 13/18 no-op (empty axes with noop_with_empty_axes = 1). */
onyx_status onyxi_reduce_axes_mask(const onyxi_node *n, const onyx_tensor *t,
                                   const onyx_tensor *axes_input, unsigned *mask, int *identity,
                                   onyxi_err *e);

/* The oneDNN implementation (reduce_dnnl.c). */
extern const onyxi_impl onyxi_reduce_dnnl;

#endif
