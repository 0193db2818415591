/*
 * What each op family file exports for the registry table (ops/registry.c).
 * For op O: onyxi_O_attrs (attribute table), onyxi_O_check (NULL-able), onyxi_O_infer,
 * onyxi_O_impls (NULL-terminated, "ref" last).
 */
#ifndef ONYXI_OPS_H
#define ONYXI_OPS_H

#include "op.h"

#define ONYXI_DECLARE_OP(o)                                                                        \
    extern const onyxi_attr_spec onyxi_##o##_attrs[];                                              \
    onyx_status onyxi_##o##_check(const onyxi_node *n, onyxi_err *e);                              \
    onyx_status onyxi_##o##_infer(onyxi_infer *c);                                                 \
    extern const onyxi_impl *const onyxi_##o##_impls[];

/* ops/conv.c */
ONYXI_DECLARE_OP(conv)
/* ops/concat.c */
ONYXI_DECLARE_OP(concat)
/* ops/resize.c */
ONYXI_DECLARE_OP(resize)
/* ops/matmul.c */
ONYXI_DECLARE_OP(matmul)
/* ops/softmax.c */
ONYXI_DECLARE_OP(softmax)
/* ops/pool.c */
ONYXI_DECLARE_OP(global_average_pool)
/* ops/elementwise.c */
ONYXI_DECLARE_OP(sigmoid)
/* ops/constant.c */
ONYXI_DECLARE_OP(constant)

#endif
