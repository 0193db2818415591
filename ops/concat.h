/*
 * Concat's oneDNN implementation (concat_dnnl.c), listed first in concat.c's impls.
 */
#ifndef ONYXI_CONCAT_H
#define ONYXI_CONCAT_H

#include "op.h"

extern const onyxi_impl onyxi_concat_dnnl;

#endif
