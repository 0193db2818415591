/*
 * The session-internal "reorder" step: copies a tensor from a oneDNN blocked layout into plain
 * row-major form for a consumer that only takes plain inputs (a reference kernel, or a graph
 * output). Inserted by the planner, never named in a model.
 */
#ifndef ONYXI_REORDER_H
#define ONYXI_REORDER_H

#include "../ops/op.h"

extern const onyxi_impl onyxi_reorder_to_plain;

#endif
