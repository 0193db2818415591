/*
 * What each op family file exports for the registry table (ops/registry.c); the list of
 * ops lives in the families' .def files (see op_table.h).
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

#define ONYXI_OP(type, since, min_in, max_in, min_out, max_out, o, flags) ONYXI_DECLARE_OP(o)
#include "op_table.h"
#undef ONYXI_OP

#endif
