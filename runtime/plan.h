/*
 * The memory planner: places tensors with known sizes and lifetimes in one arena so that no
 * two tensors alive at the same step overlap. A pure function of its input, tested alone.
 */
#ifndef ONYXI_PLAN_H
#define ONYXI_PLAN_H

#include <stddef.h>

#include "error.h"

typedef struct onyxi_plan_item {
    size_t size; /* bytes (0 = needs no space) */
    int start;   /* first step at which the tensor is alive (its producer) */
    int end;     /* last step at which it is alive (inclusive; its last reader) */
} onyxi_plan_item;

/* Greedy best-fit, largest first (ties: earlier start, then lower index): each item goes into
 * the smallest gap between already placed items whose lifetimes overlap its own, or after the
 * highest of them. Offsets are multiples of align (a power of two). Writes offsets[0..n) and
 * the arena size *total. ONYX_NOMEM when the arena size overflows or memory for the
 * bookkeeping runs out. */
onyx_status onyxi_plan_place(const onyxi_plan_item *items, int n, size_t align, size_t *offsets,
                             size_t *total, onyxi_err *e);

#endif
