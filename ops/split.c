/*
 * Split (opset 2, 11, 13, 18) for any fixed-size dtype; the node's output count is the number
 * of parts.
 * opset 2: optional `split` attribute (part lengths), else equal parts (the axis must divide).
 * opset 11: negative `axis`. opset 13: `split` moved to an optional int64 input.
 * opset 18: `num_outputs` attribute: parts of ceil(n / num_outputs), the last one smaller;
 * exactly one of it and `split` should be given, but like ONNX Runtime onyx falls back to the
 * older equal-parts rule when neither is.
 */
#include <string.h>

#include "data_ops.h"

const onyxi_attr_spec onyxi_split_attrs[] = {{"axis", ONYXI_ATTR_INT},
                                             {"split", ONYXI_ATTR_INTS},
                                             {"num_outputs", ONYXI_ATTR_INT},
                                             {NULL, 0}};

onyx_status onyxi_split_check(const onyxi_node *n, onyxi_err *e) {
    const int64_t *v;
    int ns = onyxi_attr_ints(n, "split", &v);
    if (ns >= 0 && n->opset >= 13)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'split' is not allowed from opset 13 (it is an input); model "
                          "has opset %lld",
                          (long long)n->opset);
    if (ns >= 0 && ns != n->n_outputs)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'split' has %d values, expected %d (one per output)", ns,
                          n->n_outputs);
    for (int i = 0; i < ns; i++)
        if (v[i] < 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "attribute 'split' value %d is %lld, expected >= 0", i,
                              (long long)v[i]);
    const onyxi_attr *no = onyxi_attr_find(n, "num_outputs");
    if (no && n->opset < 18)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'num_outputs' needs opset 18 (model has %lld)",
                          (long long)n->opset);
    if (no && no->i != n->n_outputs)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'num_outputs' is %lld, but the node has %d outputs",
                          (long long)no->i, n->n_outputs);
    if (no && n->n_inputs > 1 && n->inputs[1] >= 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'num_outputs' and input 'split' are both given, expected "
                          "one");
    if (n->n_inputs > 1 && n->opset < 13)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "has %d inputs; input 'split' needs opset 13 (model has %lld)",
                          n->n_inputs, (long long)n->opset);
    return ONYX_OK;
}

/* Lengths of the parts along axis *ax into len[n_out]; c NULL: from init. */
static onyx_status split_params(onyxi_infer *c, const onyxi_node *n, const onyx_tensor *const *in,
                                int n_in, int n_out, int *ax, int64_t *len, onyxi_err *e) {
    const onyx_tensor *d = in[0];
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(n, "axis", 0), d->rank, ax, e));
    int64_t dim = d->dims[*ax];
    const int64_t *a_split = NULL;
    const onyx_tensor *t_split = n_in > 1 ? in[1] : NULL;
    if (onyxi_attr_ints(n, "split", &a_split) < 0) a_split = NULL;
    if (a_split || t_split) {
        int64_t cnt = n_out;
        if (t_split) {
            ONYXI_CHECK(onyxi_dm_int_list(c, t_split, 1, "split", 0, &cnt, e));
            if (cnt != n_out)
                return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                                  "input 'split' has %lld values, expected %d (one per output)",
                                  (long long)cnt, n_out);
        }
        int64_t sum = 0;
        for (int k = 0; k < n_out; k++) {
            len[k] = a_split ? a_split[k] : onyxi_read_int(t_split, k);
            if (len[k] < 0 || len[k] > dim)
                return onyxi_fail(e, ONYX_INVALID_MODEL,
                                  "'split' value %d is %lld, expected 0 to %lld (axis %d)", k,
                                  (long long)len[k], (long long)dim, *ax);
            sum += len[k]; /* <= 2 * dim: cannot overflow */
            if (sum > dim) break;
        }
        if (sum > dim)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "'split' values add up to more than %lld (the size of axis %d)",
                              (long long)dim, *ax);
        if (sum != dim)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "'split' values sum to %lld, expected %lld (the size of axis %d)",
                              (long long)sum, (long long)dim, *ax);
        return ONYX_OK;
    }
    if (onyxi_attr_find(n, "num_outputs")) {
        /* opset 18: ceil-sized parts, the last one takes what is left */
        int64_t part = dim / n_out + (dim % n_out != 0);
        for (int k = 0; k < n_out; k++)
            len[k] = part;
        len[n_out - 1] = dim - part * (n_out - 1);
        if (len[n_out - 1] < 0)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "axis %d of size %lld cannot be split into %d parts of %lld with a "
                              "smaller last part",
                              *ax, (long long)dim, n_out, (long long)part);
        return ONYX_OK;
    }
    if (dim % n_out != 0)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "axis %d has size %lld, which does not split into %d equal parts", *ax,
                          (long long)dim, n_out);
    for (int k = 0; k < n_out; k++)
        len[k] = dim / n_out;
    return ONYX_OK;
}

onyx_status onyxi_split_infer(onyxi_infer *c) {
    const onyx_tensor *d = c->in[0];
    if (!d) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input 'input' is required");
    ONYXI_CHECK(onyxi_dm_check_dtype(d->dtype, "input 'input'", c->err));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    if (c->n_out < 1) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "has no outputs");
    int64_t *len = onyxi_malloc((size_t)c->n_out * sizeof *len);
    if (!len) return onyxi_fail(c->err, ONYX_NOMEM, "out of memory inferring Split");
    int ax;
    onyx_status rc = split_params(c, c->node, c->in, c->n_in, c->n_out, &ax, len, c->err);
    for (int k = 0; rc == ONYX_OK && k < c->n_out; k++) {
        int64_t dims[ONYXI_MAX_RANK];
        memcpy(dims, d->dims, sizeof dims);
        dims[ax] = len[k];
        onyxi_infer_set(c, k, d->dtype, d->rank, dims);
    }
    onyxi_free(len);
    return rc;
}

/* ---- ref ---- */

/* input viewed as [outer, dim * inner]: output k takes bytes [off_k, off_k + row_k) of each row. */
typedef struct split_state {
    int64_t outer;
    size_t in_row;
    size_t parts[]; /* per output: offset then length in bytes (2 * n_out values) */
} split_state;

static onyx_status split_init_ref(onyxi_exec *x) {
    const onyx_tensor *d = x->in[0];
    size_t bytes;
    if (x->n_out < 1 || !onyxi_mul_size((size_t)x->n_out, 2 * sizeof(size_t), &bytes) ||
        !onyxi_add_size(bytes, sizeof(split_state), &bytes))
        return onyxi_fail(x->err, ONYX_INVALID_MODEL, "%d outputs is not a valid count", x->n_out);
    split_state *st = onyxi_calloc(1, bytes);
    int64_t *len = onyxi_malloc((size_t)x->n_out * sizeof *len);
    x->state = st;
    if (!st || !len) {
        onyxi_free(len);
        return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the Split state");
    }
    int ax;
    onyx_status rc = split_params(NULL, x->node, x->in, x->n_in, x->n_out, &ax, len, x->err);
    if (rc == ONYX_OK) {
        size_t es = onyxi_dtype_size(d->dtype);
        int64_t inner = onyxi_shape_count(d->rank - ax - 1, d->dims + ax + 1);
        st->outer = onyxi_shape_count(ax, d->dims);
        /* sizes below are bounded by the input's byte size, which planning computed */
        size_t unit = (size_t)inner * es, off = 0;
        for (int k = 0; k < x->n_out; k++) {
            st->parts[2 * k] = off;
            st->parts[2 * k + 1] = (size_t)len[k] * unit;
            off += st->parts[2 * k + 1];
        }
        st->in_row = off;
    }
    onyxi_free(len);
    return rc;
}

static onyx_status split_run_ref(onyxi_exec *x) {
    const split_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "Split run without init");
    const unsigned char *src = x->in[0]->data;
    for (int k = 0; k < x->n_out; k++) {
        size_t off = st->parts[2 * k], row = st->parts[2 * k + 1];
        if (!x->out[k] || row == 0) continue;
        unsigned char *y = x->out[k]->data;
        for (int64_t o = 0; o < st->outer; o++)
            memcpy(y + (size_t)o * row, src + (size_t)o * st->in_row + off, row);
    }
    return ONYX_OK;
}

static void split_fini_ref(onyxi_exec *x) {
    onyxi_free(x->state);
    x->state = NULL;
}

static const onyxi_impl split_ref = {"ref", split_init_ref, split_run_ref, split_fini_ref};
const onyxi_impl *const onyxi_split_impls[] = {&split_ref, NULL};
