/*
 * Loading and running models built with pbbuild.h, for the tests of whole-graph behaviour
 * (graph passes, planning): every helper fails a Check assertion on any error.
 */
#ifndef ONYX_MODELRUN_H
#define ONYX_MODELRUN_H

#include <stddef.h>
#include <stdint.h>

#include "onyx.h"
#include "pbbuild.h"

/* Packs b (which frees it) and loads the model with the graph passes `passes` (ONYX_PASS_*). */
onyx_model *tu_load_built(mb *b, unsigned passes);
/* A session of m on backend be with `threads` kernel threads (0: the default); static kernel
 * selection (the first implementation that accepts) when static_select, else the default. */
onyx_session *tu_session(onyx_model *m, onyx_backend be, int threads, int static_select);
/* Binds x (float32, shape xd of the given rank) as input 0 of s, runs s and copies output 0,
 * which must hold n floats, into y. */
void tu_run_floats(onyx_session *s, const float *x, int rank, const int64_t *xd, float *y,
                   size_t n);
/* The index of the node named name in m's node list. */
int tu_node_index(const onyx_model *m, const char *name);
/* Asserts that the node named `node` is in state want in session s. */
void tu_assert_node_state(const onyx_session *s, const onyx_model *m, const char *node,
                          onyx_node_state want);

#endif
