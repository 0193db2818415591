/*
 * Slice (opset 1, 10, 11, 13) for any fixed-size dtype.
 * opset 1: `starts`, `ends`, optional `axes` are attributes; steps are 1.
 * opset 10: they moved to inputs (int32/int64) and the optional `steps` input was added.
 * opset 11: negative axes and steps documented (negative axes are accepted at every version, as
 * ONNX Runtime does); opset 13 widens the type list.
 * Starts/ends follow the spec's clamping: negative values count from the end, then starts clamp
 * to [0, n] ([0, n-1] for negative steps) and ends to [0, n] ([-1, n-1]), so PyTorch's
 * INT64_MAX / INT64_MIN "to the end" markers work without overflow.
 */
#include <string.h>

#include "data_ops.h"

const onyxi_attr_spec onyxi_slice_attrs[] = {
    {"starts", ONYXI_ATTR_INTS}, {"ends", ONYXI_ATTR_INTS}, {"axes", ONYXI_ATTR_INTS}, {NULL, 0}};

onyx_status onyxi_slice_check(const onyxi_node *n, onyxi_err *e) {
    const int64_t *v;
    if (n->opset >= 10) {
        static const char *moved[] = {"starts", "ends", "axes"};
        for (int i = 0; i < 3; i++)
            if (onyxi_attr_find(n, moved[i]))
                return onyxi_fail(e, ONYX_INVALID_MODEL,
                                  "attribute '%s' is not allowed from opset 10 (it is an input); "
                                  "model has opset %lld",
                                  moved[i], (long long)n->opset);
        return ONYX_OK;
    }
    int ns = onyxi_attr_ints(n, "starts", &v), ne = onyxi_attr_ints(n, "ends", &v);
    if (ns < 0 || ne < 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "required attribute '%s' is missing",
                          ns < 0 ? "starts" : "ends");
    if (ns != ne)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attributes 'starts' and 'ends' have %d and %d values, expected the "
                          "same count",
                          ns, ne);
    int na = onyxi_attr_ints(n, "axes", &v);
    if (na >= 0 && na != ns)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'axes' has %d values, expected %d like 'starts'", na, ns);
    return ONYX_OK;
}

/* The slice of one axis: output element i reads input element start + i * step. */
typedef struct slice_axis {
    int64_t start, step, count;
} slice_axis;

/*
 * Resolves starts/ends/axes/steps (attributes before opset 10, inputs after) against the shape
 * of data into ax[rank]. c: from infer (may ask for data); NULL: from init (data known).
 */
static onyx_status slice_params(onyxi_infer *c, const onyxi_node *n, const onyx_tensor *const *in,
                                int n_in, slice_axis *ax, onyxi_err *e) {
    const onyx_tensor *d = in[0];
    int rank = d->rank;
    for (int i = 0; i < rank; i++)
        ax[i] = (slice_axis){0, 1, d->dims[i]};
    int64_t cnt;
    const int64_t *a_starts = NULL, *a_ends = NULL, *a_axes = NULL;
    const onyx_tensor *t_axes = NULL, *t_steps = NULL;
    if (n->opset < 10) {
        cnt = onyxi_attr_ints(n, "starts", &a_starts);
        if (cnt < 0 || onyxi_attr_ints(n, "ends", &a_ends) != cnt)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "attributes 'starts' and 'ends' are required");
        if (onyxi_attr_ints(n, "axes", &a_axes) < 0) a_axes = NULL;
    } else {
        static const char *names[] = {"data", "starts", "ends", "axes", "steps"};
        int64_t len[5] = {0};
        for (int k = 1; k < 5; k++) {
            if (k >= n_in || !in[k]) {
                len[k] = -1;
                continue;
            }
            ONYXI_CHECK(onyxi_dm_int_list(c, in[k], k, names[k], 0, &len[k], e));
        }
        if (len[1] < 0 || len[2] < 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "inputs 'starts' and 'ends' are required");
        cnt = len[1];
        for (int k = 2; k < 5; k++)
            if (len[k] >= 0 && len[k] != cnt)
                return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                                  "input '%s' has %lld values, expected %lld like 'starts'",
                                  names[k], (long long)len[k], (long long)cnt);
        t_axes = len[3] >= 0 ? in[3] : NULL;
        t_steps = len[4] >= 0 ? in[4] : NULL;
    }
    if (cnt > rank)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "'starts' has %lld values, more than the rank %d of 'data'",
                          (long long)cnt, rank);
    unsigned seen = 0;
    for (int64_t i = 0; i < cnt; i++) {
        int64_t axis = a_axes ? a_axes[i] : t_axes ? onyxi_read_int(t_axes, i) : i;
        int a;
        if (onyxi_norm_axis(axis, rank, &a, NULL) != ONYX_OK)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "axes value %lld is out of range for 'data' of rank %d",
                              (long long)axis, rank);
        if (seen >> a & 1u)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "axis %d appears twice in 'axes'", a);
        seen |= 1u << a;
        int64_t s = a_starts ? a_starts[i] : onyxi_read_int(in[1], i);
        int64_t en = a_ends ? a_ends[i] : onyxi_read_int(in[2], i);
        int64_t st = t_steps ? onyxi_read_int(t_steps, i) : 1;
        int64_t dim = d->dims[a];
        if (st == 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "input 'steps' value %lld (axis %d) is 0, expected non-zero",
                              (long long)i, a);
        /* adding dim only to negatives cannot overflow */
        if (s < 0) s += dim;
        if (en < 0) en += dim;
        int64_t count;
        if (st > 0) {
            s = s < 0 ? 0 : s > dim ? dim : s;
            en = en < 0 ? 0 : en > dim ? dim : en;
            count = en > s ? (en - s - 1) / st + 1 : 0;
        } else {
            s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
            en = en < -1 ? -1 : en > dim - 1 ? dim - 1 : en;
            /* st == INT64_MIN: -st overflows; one element is all such a step can take */
            if (st == INT64_MIN)
                count = s > en ? 1 : 0;
            else
                count = s > en ? (s - en - 1) / -st + 1 : 0;
        }
        ax[a] = (slice_axis){count ? s : 0, st, count};
    }
    return ONYX_OK;
}

onyx_status onyxi_slice_infer(onyxi_infer *c) {
    const onyx_tensor *d = c->in[0];
    if (!d) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input 'data' is required");
    ONYXI_CHECK(onyxi_dm_check_dtype(d->dtype, "input 'data'", c->err));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    slice_axis ax[ONYXI_MAX_RANK];
    ONYXI_CHECK(slice_params(c, c->node, c->in, c->n_in, ax, c->err));
    int64_t dims[ONYXI_MAX_RANK];
    for (int i = 0; i < d->rank; i++)
        dims[i] = ax[i].count;
    onyxi_infer_set(c, 0, d->dtype, d->rank, dims);
    return ONYX_OK;
}

/* ---- ref ---- */

static onyx_status slice_init_ref(onyxi_exec *x) {
    const onyx_tensor *d = x->in[0];
    onyxi_dm_copy *p = onyxi_calloc(1, sizeof *p);
    if (!p) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the Slice state");
    x->state = p;
    slice_axis ax[ONYXI_MAX_RANK];
    ONYXI_CHECK(slice_params(NULL, x->node, x->in, x->n_in, ax, x->err));
    int64_t stride[ONYXI_MAX_RANK], count[ONYXI_MAX_RANK], istride[ONYXI_MAX_RANK], base = 0;
    onyxi_dm_strides(d->rank, d->dims, stride);
    for (int i = 0; i < d->rank; i++) {
        count[i] = ax[i].count;
        /* bounded: |step| > dim only when count <= 1, and unit axes are dropped */
        istride[i] = ax[i].count > 1 ? stride[i] * ax[i].step : 0;
        base += ax[i].start * stride[i];
    }
    return onyxi_dm_copy_init(p, d->rank, count, istride, base, NULL, 0, onyxi_dtype_size(d->dtype),
                              x->err);
}

static onyx_status slice_run_ref(onyxi_exec *x) {
    if (!x->state) return onyxi_fail(x->err, ONYX_INTERNAL, "Slice run without init");
    onyxi_dm_copy_run(x->state, x->in[0]->data, x->out[0]->data);
    return ONYX_OK;
}

static void slice_fini_ref(onyxi_exec *x) {
    onyxi_free(x->state);
    x->state = NULL;
}

static const onyxi_impl slice_ref = {"ref", slice_init_ref, slice_run_ref, slice_fini_ref};
const onyxi_impl *const onyxi_slice_impls[] = {&slice_ref, NULL};
