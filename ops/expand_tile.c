/*
 * Expand (opset 8, 13) and Tile (6, 13) for any fixed-size dtype; opset 13 only widens the
 * type lists. Both are strided copies (data_ops.h):
 *  - Expand broadcasts input and `shape` both ways (numpy rules: a 1 on either side takes the
 *    other's size), so the output may be larger than `shape`; broadcast axes get stride 0.
 *  - Tile views input axis i of size n as the pair (repeats[i], n): the row-major output of
 *    that 2r-axis view is exactly Tile's output, with stride 0 on the repeat axes.
 */
#include <string.h>

#include "data_ops.h"

const onyxi_attr_spec onyxi_expand_attrs[] = {{NULL, 0}};
const onyxi_attr_spec onyxi_tile_attrs[] = {{NULL, 0}};

onyx_status onyxi_expand_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

onyx_status onyxi_tile_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

/* Output shape of Expand into dims (*rank); c NULL: from init. */
static onyx_status expand_shape(onyxi_infer *c, const onyx_tensor *const *in, int *rank,
                                int64_t *dims, onyxi_err *e) {
    const onyx_tensor *d = in[0];
    int64_t n;
    ONYXI_CHECK(onyxi_dm_int_list(c, in[1], 1, "shape", 0, &n, e));
    if (n > ONYXI_MAX_RANK)
        return onyxi_fail(e, ONYX_UNSUPPORTED,
                          "input 'shape' has %lld values; onyx supports up to rank %d",
                          (long long)n, ONYXI_MAX_RANK);
    int r = d->rank > (int)n ? d->rank : (int)n;
    char sd[160];
    for (int i = 0; i < r; i++) {
        /* align from the right; missing leading axes count as 1 */
        int id = i - (r - d->rank), is = i - (r - (int)n);
        int64_t a = id >= 0 ? d->dims[id] : 1;
        int64_t b = is >= 0 ? onyxi_read_int(in[1], is) : 1;
        if (b < 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "input 'shape' value %d is %lld, expected >= 0", is, (long long)b);
        if (a != b && a != 1 && b != 1)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "input 'shape' value %d is %lld, which does not broadcast with "
                              "axis %d of input %s",
                              is, (long long)b, id,
                              onyxi_shape_str(d->rank, d->dims, sd, sizeof sd));
        dims[i] = a == 1 ? b : a;
    }
    *rank = r;
    return ONYX_OK;
}

/* Output shape of Tile into dims; c NULL: from init. */
static onyx_status tile_shape(onyxi_infer *c, const onyx_tensor *const *in, int64_t *dims,
                              int64_t *reps, onyxi_err *e) {
    const onyx_tensor *d = in[0];
    int64_t n;
    ONYXI_CHECK(onyxi_dm_int_list(c, in[1], 1, "repeats", 0, &n, e));
    if (n != d->rank)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input 'repeats' has %lld values, expected %d (the rank of 'input')",
                          (long long)n, d->rank);
    for (int i = 0; i < d->rank; i++) {
        reps[i] = onyxi_read_int(in[1], i);
        if (reps[i] < 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "input 'repeats' value %d is %lld, expected >= 0", i,
                              (long long)reps[i]);
        if (d->dims[i] != 0 && reps[i] > INT64_MAX / d->dims[i])
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "input 'repeats' value %d (%lld) overflows axis %d of size %lld", i,
                              (long long)reps[i], i, (long long)d->dims[i]);
        dims[i] = d->dims[i] * reps[i];
    }
    return ONYX_OK;
}

static onyx_status check_input(onyxi_infer *c, const char *second) {
    if (!c->in[0] || !c->in[1])
        return onyxi_fail(c->err, ONYX_INVALID_MODEL, "inputs 'input' and '%s' are required",
                          second);
    ONYXI_CHECK(onyxi_dm_check_dtype(c->in[0]->dtype, "input 'input'", c->err));
    return onyxi_infer_expect_known(c, 0);
}

onyx_status onyxi_expand_infer(onyxi_infer *c) {
    ONYXI_CHECK(check_input(c, "shape"));
    int rank;
    int64_t dims[ONYXI_MAX_RANK];
    ONYXI_CHECK(expand_shape(c, c->in, &rank, dims, c->err));
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(c->in[0]->dtype, rank, dims, &nbytes, c->err));
    onyxi_infer_set(c, 0, c->in[0]->dtype, rank, dims);
    return ONYX_OK;
}

onyx_status onyxi_tile_infer(onyxi_infer *c) {
    ONYXI_CHECK(check_input(c, "repeats"));
    int64_t dims[ONYXI_MAX_RANK], reps[ONYXI_MAX_RANK];
    ONYXI_CHECK(tile_shape(c, c->in, dims, reps, c->err));
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(c->in[0]->dtype, c->in[0]->rank, dims, &nbytes, c->err));
    onyxi_infer_set(c, 0, c->in[0]->dtype, c->in[0]->rank, dims);
    return ONYX_OK;
}

/* ---- ref ---- */

static onyx_status expand_init_ref(onyxi_exec *x) {
    const onyx_tensor *d = x->in[0];
    onyxi_dm_copy *p = onyxi_calloc(1, sizeof *p);
    if (!p) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the Expand state");
    x->state = p;
    int rank;
    int64_t dims[ONYXI_MAX_RANK], dstride[ONYXI_MAX_RANK], istride[ONYXI_MAX_RANK];
    ONYXI_CHECK(expand_shape(NULL, x->in, &rank, dims, x->err));
    onyxi_dm_strides(d->rank, d->dims, dstride);
    for (int i = 0; i < rank; i++) {
        int id = i - (rank - d->rank);
        istride[i] = id >= 0 && d->dims[id] == dims[i] ? dstride[id] : 0;
    }
    return onyxi_dm_copy_init(p, rank, dims, istride, 0, NULL, 0, onyxi_dtype_size(d->dtype),
                              x->err);
}

static onyx_status tile_init_ref(onyxi_exec *x) {
    const onyx_tensor *d = x->in[0];
    onyxi_dm_copy *p = onyxi_calloc(1, sizeof *p);
    if (!p) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the Tile state");
    x->state = p;
    int64_t dims[ONYXI_MAX_RANK], reps[ONYXI_MAX_RANK], dstride[ONYXI_MAX_RANK];
    ONYXI_CHECK(tile_shape(NULL, x->in, dims, reps, x->err));
    onyxi_dm_strides(d->rank, d->dims, dstride);
    int64_t count[ONYXI_DM_MAX_AXES], istride[ONYXI_DM_MAX_AXES];
    for (int i = 0; i < d->rank; i++) {
        count[2 * i] = reps[i];
        istride[2 * i] = 0;
        count[2 * i + 1] = d->dims[i];
        istride[2 * i + 1] = dstride[i];
    }
    return onyxi_dm_copy_init(p, 2 * d->rank, count, istride, 0, NULL, 0,
                              onyxi_dtype_size(d->dtype), x->err);
}

static onyx_status copy_run_ref(onyxi_exec *x) {
    if (!x->state) return onyxi_fail(x->err, ONYX_INTERNAL, "run without init");
    onyxi_dm_copy_run(x->state, x->in[0]->data, x->out[0]->data);
    return ONYX_OK;
}

static void copy_fini_ref(onyxi_exec *x) {
    onyxi_free(x->state);
    x->state = NULL;
}

static const onyxi_impl expand_ref = {"ref", expand_init_ref, copy_run_ref, copy_fini_ref};
const onyxi_impl *const onyxi_expand_impls[] = {&expand_ref, NULL};

static const onyxi_impl tile_ref = {"ref", tile_init_ref, copy_run_ref, copy_fini_ref};
const onyxi_impl *const onyxi_tile_impls[] = {&tile_ref, NULL};
