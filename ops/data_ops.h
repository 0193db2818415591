/*
 * Helpers shared by the data-movement ops (Gather, Slice, Split, Expand, Tile, Pad; see
 * ops/data_ops.c): a strided byte-copy plan that every kernel of the family reduces to, and
 * readers for the small integer inputs (starts, pads, repeats, ...) that shape inference needs.
 * Private to the family: nothing outside ops/ includes it.
 */
#ifndef ONYXI_DATA_OPS_H
#define ONYXI_DATA_OPS_H

#include "ops.h"

/* Loop axes of a copy plan: Tile views rank r as 2r axes (repeat, original). */
#define ONYXI_DM_MAX_AXES (2 * ONYXI_MAX_RANK)

/*
 * dst[o] = src[i] over an odometer of `naxes` loops, each step moving `block` contiguous bytes.
 * Strides are in bytes and may be 0 (broadcast) or negative (Slice with a negative step).
 * Built once in init() by onyxi_dm_copy_init; onyxi_dm_copy_run only walks it.
 */
typedef struct onyxi_dm_copy {
    int naxes;
    int64_t count[ONYXI_DM_MAX_AXES];
    int64_t istride[ONYXI_DM_MAX_AXES];
    int64_t ostride[ONYXI_DM_MAX_AXES];
    int64_t ibase, obase; /* byte offsets of the first element */
    size_t block;         /* bytes per innermost copy */
    int64_t nblocks;      /* 0: nothing to copy (an empty tensor) */
} onyxi_dm_copy;

/* Builds a plan from per-axis counts and element strides (istride/ostride NULL: the row-major
 * strides of count) plus element offsets of the first element, for elements of es bytes.
 * Drops unit axes and merges contiguous ones. ONYX_SHAPE_MISMATCH when naxes is out of range
 * or the element count overflows. */
onyx_status onyxi_dm_copy_init(onyxi_dm_copy *p, int naxes, const int64_t *count,
                               const int64_t *istride, int64_t ibase, const int64_t *ostride,
                               int64_t obase, size_t es, onyxi_err *e);
/* Runs a plan; src and dst must hold every element the plan addresses. */
void onyxi_dm_copy_run(const onyxi_dm_copy *p, const void *src, void *dst);

/* Row-major element strides of a shape into strides[rank]. */
void onyxi_dm_strides(int rank, const int64_t *dims, int64_t *strides);

/*
 * Reads the integer list held by input k (int32 or int64, 1-D; a scalar too when allow_scalar)
 * for shape inference: *n receives its length and *t the tensor, whose data is then readable
 * with onyxi_read_int. With c (infer) the data comes through onyxi_infer_data and a missing one
 * returns onyxi_infer_needs_data; with c NULL (init) from in directly. name names the input in
 * messages. ONYX_TYPE_MISMATCH for other dtypes, ONYX_SHAPE_MISMATCH for other ranks.
 */
onyx_status onyxi_dm_int_list(onyxi_infer *c, const onyx_tensor *in, int k, const char *name,
                              int allow_scalar, int64_t *n, onyxi_err *e);

/* ONYX_UNSUPPORTED unless dt is a dtype with a fixed element size (not string/undefined);
 * what names the tensor in the message. */
onyx_status onyxi_dm_check_dtype(onyx_dtype dt, const char *what, onyxi_err *e);

/* Converts v to one element of dt at out (float types round, integer types truncate toward
 * zero and saturate, bool is v != 0). ONYX_UNSUPPORTED for string and complex types. */
onyx_status onyxi_dm_store_scalar(onyx_dtype dt, double v, void *out, onyxi_err *e);

#endif
