/*
 * Model-level graph passes, run once at load (after op resolution, before the model's views
 * are built): the rewritten graph is what every session of the model plans from.
 */
#ifndef ONYXI_PASSES_H
#define ONYXI_PASSES_H

#include "error.h"
#include "ir.h"

/* Runs every pass whose ONYX_PASS_* bit is not in `off` nor named in the environment variable
 * ONYX_DISABLE_PASSES, then recomputes g->order (nodes absorbed into another node's step are
 * listed right after it). The graph must be ordered and resolved. Only ONYX_NOMEM can fail
 * (the graph is then still consistent enough to free). */
onyx_status onyxi_graph_passes(onyxi_graph *g, unsigned off, onyxi_err *e);

/* ONYX_PASS_* bits named in a comma-separated list such as "fold_bn,fuse_act" ("all" = every
 * pass; other names, such as the planner's "alias", are ignored). NULL or "" gives 0. */
unsigned onyxi_passes_parse(const char *list);

/* 1 when node n still runs (it was not absorbed, folded or dropped by a pass). */
int onyxi_node_live(const onyxi_node *n);

/* The op of a node a pass removed: no inputs, no outputs, does nothing. */
extern const struct onyxi_op onyxi_passes_retired_op;

#endif
