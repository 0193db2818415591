/*
 * Gather (opset 1, 11, 13) and GatherElements (11, 13) for any fixed-size data dtype, with
 * int32 or int64 indices of any rank (a scalar index too). Negative `axis` counts from the
 * back; negative indices count from the end of the axis (documented from opset 11, accepted
 * at every version). opset 13 only widens the type lists.
 * An index outside [-n, n) is data, so it is found at run time: the run fails with
 * ONYX_INVALID_ARG naming the index, its position and the axis size, and reads nothing.
 */
#include <string.h>

#include "data_ops.h"

const onyxi_attr_spec onyxi_gather_attrs[] = {{"axis", ONYXI_ATTR_INT}, {NULL, 0}};
const onyxi_attr_spec onyxi_gather_elements_attrs[] = {{"axis", ONYXI_ATTR_INT}, {NULL, 0}};

onyx_status onyxi_gather_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

onyx_status onyxi_gather_elements_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

/* The dtype, shape and axis checks common to both ops; *ax receives the normalized axis. */
static onyx_status infer_common(onyxi_infer *c, int *ax) {
    const onyx_tensor *d = c->in[0], *ix = c->in[1];
    if (!d || !ix)
        return onyxi_fail(c->err, ONYX_INVALID_MODEL, "inputs 'data' and 'indices' are required");
    ONYXI_CHECK(onyxi_dm_check_dtype(d->dtype, "input 'data'", c->err));
    if (ix->dtype != ONYX_DTYPE_INT64 && ix->dtype != ONYX_DTYPE_INT32)
        return onyxi_fail(c->err, ONYX_TYPE_MISMATCH,
                          "input 'indices' has dtype %s, expected int64 or int32",
                          onyx_dtype_name(ix->dtype));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 1));
    if (d->rank < 1)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 'data' is a scalar, expected rank >= 1");
    return onyxi_norm_axis(onyxi_attr_int(c->node, "axis", 0), d->rank, ax, c->err);
}

onyx_status onyxi_gather_infer(onyxi_infer *c) {
    int ax;
    ONYXI_CHECK(infer_common(c, &ax));
    const onyx_tensor *d = c->in[0], *ix = c->in[1];
    int rank = d->rank - 1 + ix->rank;
    if (rank > ONYXI_MAX_RANK)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "the output would have rank %d (data rank %d + indices rank %d - 1), "
                          "onyx supports up to %d",
                          rank, d->rank, ix->rank, ONYXI_MAX_RANK);
    /* output = data.shape[:axis] + indices.shape + data.shape[axis+1:] */
    int64_t dims[ONYXI_MAX_RANK];
    int r = 0;
    for (int i = 0; i < ax; i++)
        dims[r++] = d->dims[i];
    for (int i = 0; i < ix->rank; i++)
        dims[r++] = ix->dims[i];
    for (int i = ax + 1; i < d->rank; i++)
        dims[r++] = d->dims[i];
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(d->dtype, rank, dims, &nbytes, c->err));
    onyxi_infer_set(c, 0, d->dtype, rank, dims);
    return ONYX_OK;
}

onyx_status onyxi_gather_elements_infer(onyxi_infer *c) {
    int ax;
    ONYXI_CHECK(infer_common(c, &ax));
    const onyx_tensor *d = c->in[0], *ix = c->in[1];
    char sd[160], si[160];
    if (ix->rank != d->rank)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 'indices' has rank %d, expected %d like 'data'", ix->rank,
                          d->rank);
    /* every gathered position must exist in data off the axis */
    for (int i = 0; i < d->rank; i++)
        if (i != ax && ix->dims[i] > d->dims[i])
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input 'indices' has shape %s, which exceeds 'data' %s on axis %d",
                              onyxi_shape_str(ix->rank, ix->dims, si, sizeof si),
                              onyxi_shape_str(d->rank, d->dims, sd, sizeof sd), i);
    onyxi_infer_set(c, 0, d->dtype, ix->rank, ix->dims);
    return ONYX_OK;
}

/* ---- ref ---- */

/* data viewed as [outer, n, inner]: output row (o, j) is data row (o, indices[j]). */
typedef struct gather_state {
    int axis;
    int64_t outer, n, inner, n_idx;
    size_t es;
    /* GatherElements: shapes of indices and data for the odometer */
    int rank;
    int64_t idims[ONYXI_MAX_RANK];
    int64_t dstride[ONYXI_MAX_RANK];
} gather_state;

static onyx_status gather_init_ref(onyxi_exec *x) {
    const onyx_tensor *d = x->in[0], *ix = x->in[1];
    gather_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the Gather state");
    x->state = st;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(x->node, "axis", 0), d->rank, &st->axis, x->err));
    st->outer = onyxi_shape_count(st->axis, d->dims);
    st->n = d->dims[st->axis];
    st->inner = onyxi_shape_count(d->rank - st->axis - 1, d->dims + st->axis + 1);
    st->n_idx = onyxi_shape_count(ix->rank, ix->dims);
    st->es = onyxi_dtype_size(d->dtype);
    st->rank = ix->rank;
    for (int i = 0; i < ix->rank; i++)
        st->idims[i] = ix->dims[i];
    onyxi_dm_strides(d->rank, d->dims, st->dstride);
    if (st->outer < 0 || st->inner < 0 || st->n_idx < 0)
        return onyxi_fail(x->err, ONYX_SHAPE_MISMATCH, "input shapes are unknown or too large");
    return ONYX_OK;
}

/* Index j of indices, wrapped into [0, n); -1 when out of range (error already recorded). */
static int64_t read_index(onyxi_exec *x, const gather_state *st, int64_t j) {
    int64_t v = onyxi_read_int(x->in[1], j);
    int64_t w = v < 0 ? v + st->n : v;
    if (w < 0 || w >= st->n) {
        onyxi_fail(x->err, ONYX_INVALID_ARG,
                   "input 'indices' holds %lld at position %lld, out of range for axis %d of "
                   "size %lld (expected %lld to %lld)",
                   (long long)v, (long long)j, st->axis, (long long)st->n, (long long)-st->n,
                   (long long)st->n - 1);
        return -1;
    }
    return w;
}

static onyx_status gather_run_ref(onyxi_exec *x) {
    const gather_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "Gather run without init");
    /* validate every index before writing, so a bad one leaves no partial output */
    for (int64_t j = 0; j < st->n_idx; j++)
        if (read_index(x, st, j) < 0) return ONYX_INVALID_ARG;
    size_t row = (size_t)st->inner * st->es;
    if (row == 0 || st->outer == 0 || st->n_idx == 0) return ONYX_OK;
    const unsigned char *src = x->in[0]->data;
    unsigned char *y = x->out[0]->data;
    for (int64_t o = 0; o < st->outer; o++) {
        const unsigned char *base = src + (size_t)o * (size_t)st->n * row;
        for (int64_t j = 0; j < st->n_idx; j++) {
            int64_t v = onyxi_read_int(x->in[1], j);
            if (v < 0) v += st->n;
            memcpy(y, base + (size_t)v * row, row);
            y += row;
        }
    }
    return ONYX_OK;
}

/* out[p] = data[p with p[axis] replaced by indices[p]], p running over the indices shape. */
static onyx_status gather_elements_run_ref(onyxi_exec *x) {
    const gather_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "GatherElements run without init");
    for (int64_t j = 0; j < st->n_idx; j++)
        if (read_index(x, st, j) < 0) return ONYX_INVALID_ARG;
    if (st->n_idx == 0 || st->es == 0) return ONYX_OK;
    const unsigned char *src = x->in[0]->data;
    unsigned char *y = x->out[0]->data;
    int64_t pos[ONYXI_MAX_RANK] = {0};
    int64_t off = 0; /* element offset of pos in data, without the axis term */
    for (int64_t j = 0; j < st->n_idx; j++) {
        int64_t v = onyxi_read_int(x->in[1], j);
        if (v < 0) v += st->n;
        memcpy(y + (size_t)j * st->es, src + (size_t)(off + v * st->dstride[st->axis]) * st->es,
               st->es);
        for (int a = st->rank - 1; a >= 0; a--) {
            int64_t step = a == st->axis ? 0 : st->dstride[a];
            if (++pos[a] < st->idims[a]) {
                off += step;
                break;
            }
            off -= step * (pos[a] - 1);
            pos[a] = 0;
        }
    }
    return ONYX_OK;
}

static void gather_fini_ref(onyxi_exec *x) {
    onyxi_free(x->state);
    x->state = NULL;
}

static const onyxi_impl gather_ref = {"ref", gather_init_ref, gather_run_ref, gather_fini_ref};
const onyxi_impl *const onyxi_gather_impls[] = {&gather_ref, NULL};

static const onyxi_impl gather_elements_ref = {"ref", gather_init_ref, gather_elements_run_ref,
                                               gather_fini_ref};
const onyxi_impl *const onyxi_gather_elements_impls[] = {&gather_elements_ref, NULL};
