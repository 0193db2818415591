/*
 * Softmax/LogSoftmax axis rules shared by the reference (softmax.c) and oneDNN
 * (softmax_dnnl.c) kernels.
 */
#ifndef ONYXI_SOFTMAX_H
#define ONYXI_SOFTMAX_H

#include "op.h"

/* The input viewed as [outer, len, inner] with softmax over len. */
typedef struct sm_view {
    int64_t outer, len, inner;
} sm_view;

/* The view of input t for node n: the opset's axis default, opset < 13 folding every later
 * dim into len. */
onyx_status onyxi_softmax_view(const onyxi_node *n, const onyx_tensor *t, sm_view *v, onyxi_err *e);

/* The oneDNN implementation (softmax_dnnl.c). */
extern const onyxi_impl onyxi_softmax_dnnl;

#endif
