/*
 * Views of a planned session for `onyx info` (--dot, --plan, --svg, --json) and `onyx bench`
 * (--top): Graphviz DOT, the memory plan as text, JSON or an SVG chart, and JSON helpers.
 * Public API only.
 */
#ifndef ONYX_VIEWS_H
#define ONYX_VIEWS_H

#include <stdio.h>

#include "onyx.h"

/* Writes s as a JSON string literal (quotes, backslashes and control characters escaped). */
void cli_json_string(FILE *f, const char *s);
/* Writes a shape as a JSON array ([1, 3, -1]; -1 for unknown dims); "null" for no rank. */
void cli_json_shape(FILE *f, const onyx_tensor *t);

/* The graph after planning as Graphviz DOT: graph inputs and outputs as ovals, executed
 * nodes as boxes naming op and implementation, folded nodes dashed and grey, fused ones
 * bold, edges labelled with dtype and shape. */
void view_dot(FILE *f, const onyx_model *m, const onyx_session *s);

/* The plan as text: each step (node, op, implementation, layout, shapes) and each arena
 * tensor (offset, size, live steps, which tensors share its memory). */
void view_plan_text(FILE *f, const onyx_model *m, const onyx_session *s);

/* The plan as a JSON object {"steps": [...], "tensors": [...], "arena_bytes": N, ...}. */
void view_plan_json(FILE *f, const onyx_model *m, const onyx_session *s);

/* An SVG chart of the arena over the execution order: one rectangle per tensor (x: steps it
 * is alive, y: its byte range), and the live bytes per step as a line. Returns 0, or -1
 * when path cannot be written. */
int view_plan_svg(const char *path, const onyx_model *m, const onyx_session *s);

#endif
