/*
 * Attribute and geometry helpers shared by the sliding-window ops (Conv, ConvTranspose,
 * MaxPool, AveragePool): auto_pad, range-checked ints attributes, per-axis attribute reads and
 * overflow-checked int64 arithmetic for output sizes. Private to ops/.
 */
#ifndef ONYXI_WINDOW_H
#define ONYXI_WINDOW_H

#include <stdint.h>

#include "op.h"

/* Attribute values above this are refused: they keep every index computation far from int64
 * overflow, and no real model comes near them. */
#define ONYXI_WINDOW_ATTR_MAX INT32_MAX

enum { ONYXI_PAD_NOTSET, ONYXI_PAD_SAME_UPPER, ONYXI_PAD_SAME_LOWER, ONYXI_PAD_VALID };

/* n's auto_pad as ONYXI_PAD_*, -1 for an unknown value. ORT reads "" as NOTSET, and some
 * exporters write it. */
int onyxi_window_auto_pad(const onyxi_node *n);

/* ONYX_INVALID_MODEL unless n's auto_pad is one of the four known values. */
onyx_status onyxi_window_check_auto_pad(const onyxi_node *n, onyxi_err *e);

/* ONYX_INVALID_MODEL when n has non-zero pads together with an auto_pad other than NOTSET
 * (ONNX forbids pads with auto_pad; all-zero pads are harmless and tolerated). */
onyx_status onyxi_window_check_pads_unused(const onyxi_node *n, onyxi_err *e);

/* ONYX_INVALID_MODEL unless int attribute `name` (def when absent) lies in
 * [lo, ONYXI_WINDOW_ATTR_MAX]. */
onyx_status onyxi_window_check_int(const onyxi_node *n, const char *name, int64_t def, int64_t lo,
                                   onyxi_err *e);

/* Checks that every value of ints attribute `name` lies in [lo, ONYXI_WINDOW_ATTR_MAX].
 * Returns its length, -1 when absent, or -2 after recording an ONYX_INVALID_MODEL error. */
int onyxi_window_check_ints(const onyxi_node *n, const char *name, int64_t lo, onyxi_err *e);

/* The per-axis ints attributes names[0..count) have lengths lens[] (-1: absent): the present
 * ones must agree, and pads (length np, -1: absent) must have twice their length.
 * ONYX_INVALID_MODEL naming both attributes otherwise. */
onyx_status onyxi_window_check_lengths(const char *const *names, const int *lens, int count, int np,
                                       onyxi_err *e);

/* Reads ints attribute `name` into out[0..want), or fills it with def when absent.
 * ONYX_INVALID_MODEL when its length is not want (want is 2 x the spatial dims for "pads"). */
onyx_status onyxi_window_ints(const onyxi_node *n, const char *name, int want, int64_t def,
                              int64_t *out, onyxi_err *e);

/* a + b and a * b for non-negative values into *out; 0 (and *out untouched) on int64
 * overflow. */
int onyxi_window_add(int64_t a, int64_t b, int64_t *out);
int onyxi_window_mul(int64_t a, int64_t b, int64_t *out);

#endif
