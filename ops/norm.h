/*
 * The oneDNN implementations of the normalization ops (norm_dnnl.c), listed first in
 * norm.c's impls arrays.
 */
#ifndef ONYXI_NORM_H
#define ONYXI_NORM_H

#include "op.h"

/* BatchNormalization inference with per-channel parameters. */
extern const onyxi_impl onyxi_batch_norm_dnnl;
/* LayerNormalization over the last axis, with full-size Scale and B. */
extern const onyxi_impl onyxi_layer_norm_dnnl;

#endif
