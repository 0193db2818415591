/*
 * The oneDNN implementations of the element-wise ops (eltwise_dnnl.c), listed first in the
 * impls arrays of elementwise.c (unary) and binary.c / math.c (binary).
 */
#ifndef ONYXI_ELEMENTWISE_H
#define ONYXI_ELEMENTWISE_H

#include "op.h"

/* Relu, LeakyRelu, Sigmoid, Tanh, Elu, Clip, HardSwish, HardSigmoid, Exp, Sqrt, Abs;
 * declines every other op. */
extern const onyxi_impl onyxi_eltwise_dnnl;
/* Add, Sub, Mul, Div, and two-input Max / Min; declines every other op. */
extern const onyxi_impl onyxi_binary_dnnl;

#endif
