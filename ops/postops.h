/*
 * The post-op chain a graph pass fused into a node (node->fusion, runtime/passes.c), shared by
 * every kernel that hosts one: Conv (activations and a residual Add), MatMul (a bias Add and
 * activations) and Gemm (activations). One place checks the chain, applies it with the unfused
 * kernels' formulas, and turns an activation into oneDNN post-ops.
 */
#ifndef ONYXI_POSTOPS_H
#define ONYXI_POSTOPS_H

#include "op.h"

struct dnnl_post_ops; /* dnnl_post_ops_t, without pulling dnnl.h into reference kernels */

/* Node n's post-op chain, or NULL when it has none (not fused, or an empty chain). */
const onyxi_fusion *onyxi_post_chain(const onyxi_node *n);

/* Checks node n's chain against its inputs and output (dtype, rank, dims): the output must
 * be float32, and every Add reads a float32 input of exactly the output's shape (a bias: of
 * shape [..., 1, N], N the output's last dim) at index first_addend or later (first_addend
 * < 0: the node takes no Add). OK without a chain. */
onyx_status onyxi_post_check(const onyxi_node *n, int n_in, const onyx_tensor *const *in,
                             int first_addend, onyx_dtype dtype, int rank, const int64_t *dims,
                             onyxi_err *e);

/* Applies chain f to y[0..count), which are elements off.. of the whole output (an Add's
 * addend is read at the same positions, a bias at those modulo its length). Bit for bit what
 * the unfused kernels compute (a GELU: in the order PyTorch exports it; other orders of its
 * exact multiplications by 0.5 may differ only where a product underflows). */
void onyxi_post_apply(const onyxi_fusion *f, const onyx_tensor *const *in, float *y, int64_t off,
                      int64_t count);

/* Appends activation p to oneDNN post-ops po (HardSigmoid takes two entries); *len counts
 * the entries so far. ONYX_UNSUPPORTED for an Add or a bias (the caller binds those itself)
 * and for what oneDNN would not compute like the reference (a Clip with min > max). */
onyx_status onyxi_post_dnnl_eltwise(struct dnnl_post_ops *po, const onyxi_post_op *p, int *len,
                                    onyxi_err *e);

#endif
