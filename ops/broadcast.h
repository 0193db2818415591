/*
 * Numpy-style (multidirectional) broadcasting for element-wise ops: the output shape of N
 * operands, and a loop plan that walks them as a few long contiguous rows.
 *
 * The plan drops size-1 output dims and merges adjacent dims along which every operand is
 * either fully present or fully broadcast, so the common cases become one or two loops:
 * same shapes -> 1 row of `count` elements; [N,C,H,W] op [N,C,1,1] -> N*C rows of H*W with the
 * second operand constant per row; [N,C,H,W] op [C,1,1] -> the same with a per-row stride.
 * Kernels supply a row function that handles "operand k advances by step[k] (0 or 1)".
 *
 * Usage (shape inference, then init/run):
 *
 *     int rank; int64_t dims[ONYXI_MAX_RANK];
 *     ONYXI_CHECK(onyxi_bcast_infer(c, 0, 2, &rank, dims));        // in infer
 *     ONYXI_CHECK(onyxi_bcast_plan(&plan, x->out[0], 2, x->in, x->err)); // in init
 *     onyxi_bcast_run(&plan, x->out[0]->data, ptrs, add_row_f32, NULL); // in run
 */
#ifndef ONYXI_BROADCAST_H
#define ONYXI_BROADCAST_H

#include "op.h"

/* Most operands one plan walks (Where has 3). */
#define ONYXI_BCAST_MAX_IN 4

typedef struct onyxi_bcast {
    int n_in;
    int rank;                                            /* >= 1 (a scalar walks as [1]) */
    int64_t dims[ONYXI_MAX_RANK];                        /* collapsed output dims, outer first */
    int64_t strides[ONYXI_BCAST_MAX_IN][ONYXI_MAX_RANK]; /* elements; 0 where broadcast */
    size_t in_size[ONYXI_BCAST_MAX_IN];                  /* bytes per element of each operand */
    size_t out_size;                                     /* bytes per element of the output */
    int64_t count;                                       /* output elements */
} onyxi_bcast;

/*
 * One output row: y[i] = f(x0[i * step[0]], x1[i * step[1]], ...) for i < n, where step[k] is
 * 1 (operand k is contiguous along the row) or 0 (it is constant along the row). y may alias
 * an operand whose step is 1 (in-place ops) as long as f reads element i before writing it.
 * ctx is the caller's (attributes, dtypes), passed through unchanged.
 */
typedef void (*onyxi_bcast_row)(int64_t n, void *y, const void *const *x, const int64_t *step,
                                const void *ctx);

/*
 * The broadcast shape of the n tensors t[0..n-1] (all with known shapes) into *rank / dims
 * (dims has room for ONYXI_MAX_RANK). first is the input index of t[0], used to name the
 * operands in the message. ONYX_SHAPE_MISMATCH naming both operands, their shapes and the
 * conflicting dim when two dims differ and neither is 1.
 */
onyx_status onyxi_bcast_shape(int n, const onyx_tensor *const *t, int first, int *rank,
                              int64_t *dims, onyxi_err *e);

/* onyxi_bcast_shape over inputs first..first+n-1 of an inference context, after checking
 * that each has a known shape. Absent inputs are an ONYX_INVALID_MODEL error. */
onyx_status onyxi_bcast_infer(onyxi_infer *c, int first, int n, int *rank, int64_t *dims);

/*
 * Builds the loop plan of n (<= ONYXI_BCAST_MAX_IN) operands in[0..n-1] into out, whose shape
 * must be their broadcast shape (or one they broadcast to, as PRelu's slope does to X).
 * ONYX_SHAPE_MISMATCH when an operand does not broadcast to out, ONYX_INVALID_ARG when n is
 * out of range or a dtype has no fixed element size.
 */
onyx_status onyxi_bcast_plan(onyxi_bcast *p, const onyx_tensor *out, int n,
                             const onyx_tensor *const *in, onyxi_err *e);

/* Walks the plan: calls row once per collapsed output row with the operand pointers of that
 * row. x[k] is operand k's data, y the output's. Nothing happens for an empty output. */
void onyxi_bcast_run(const onyxi_bcast *p, void *y, const void *const *x, onyxi_bcast_row row,
                     const void *ctx);

#endif
