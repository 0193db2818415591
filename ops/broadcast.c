/*
 * Numpy broadcasting for element-wise ops: output shape inference and the collapsed loop
 * plan described in broadcast.h. The plan is built once in a kernel's init (no allocation:
 * it is a fixed-size struct), so run() only walks rows.
 */
#include "broadcast.h"

static const char *tname(const onyx_tensor *t) {
    return t && t->name ? t->name : "";
}

onyx_status onyxi_bcast_shape(int n, const onyx_tensor *const *t, int first, int *rank,
                              int64_t *dims, onyxi_err *e) {
    int r = 0;
    for (int k = 0; k < n; k++) {
        if (t[k]->rank < 0 || t[k]->rank > ONYXI_MAX_RANK)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input %d ('%s') has rank %d", first + k,
                              tname(t[k]), t[k]->rank);
        if (t[k]->rank > r) r = t[k]->rank;
    }
    for (int i = 0; i < r; i++)
        dims[i] = 1;
    /* who set each output dim, for the message */
    int owner[ONYXI_MAX_RANK] = {0};
    for (int k = 0; k < n; k++) {
        int off = r - t[k]->rank; /* shapes align at their last dim */
        for (int i = 0; i < t[k]->rank; i++) {
            int64_t d = t[k]->dims[i], *o = &dims[off + i];
            if (d == *o || d == 1) continue;
            if (*o == 1) {
                *o = d;
                owner[off + i] = k;
                continue;
            }
            char s0[160], s1[160];
            const onyx_tensor *a = t[owner[off + i]];
            onyxi_shape_str(a->rank, a->dims, s0, sizeof s0);
            onyxi_shape_str(t[k]->rank, t[k]->dims, s1, sizeof s1);
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "inputs %d ('%s') of shape %s and %d ('%s') of shape %s do not "
                              "broadcast: %lld versus %lld on output axis %d",
                              first + owner[off + i], tname(a), s0, first + k, tname(t[k]), s1,
                              (long long)*o, (long long)d, off + i);
        }
    }
    *rank = r;
    return ONYX_OK;
}

onyx_status onyxi_bcast_infer(onyxi_infer *c, int first, int n, int *rank, int64_t *dims) {
    const onyx_tensor *t[ONYXI_BCAST_MAX_IN];
    if (n < 1 || n > ONYXI_BCAST_MAX_IN || first < 0 || first + n > c->n_in)
        return onyxi_fail(c->err, ONYX_INTERNAL, "broadcast of inputs %d..%d out of range", first,
                          first + n - 1);
    for (int k = 0; k < n; k++) {
        t[k] = c->in[first + k];
        if (!t[k]) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input %d is absent", first + k);
        ONYXI_CHECK(onyxi_infer_expect_known(c, first + k));
    }
    return onyxi_bcast_shape(n, t, first, rank, dims, c->err);
}

onyx_status onyxi_bcast_plan(onyxi_bcast *p, const onyx_tensor *out, int n,
                             const onyx_tensor *const *in, onyxi_err *e) {
    if (n < 1 || n > ONYXI_BCAST_MAX_IN)
        return onyxi_fail(e, ONYX_INVALID_ARG, "%d broadcast operands, expected 1 to %d", n,
                          ONYXI_BCAST_MAX_IN);
    const int r = out->rank;
    if (r < 0 || r > ONYXI_MAX_RANK)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "output has rank %d", r);
    p->n_in = n;
    p->out_size = onyxi_dtype_size(out->dtype);
    p->count = onyxi_shape_count(r, out->dims);
    if (p->out_size == 0 || p->count < 0)
        return onyxi_fail(e, ONYX_INVALID_ARG, "output has dtype %s or an unknown shape",
                          onyx_dtype_name(out->dtype));

    /* full[k][i]: operand k spans output axis i (else it is broadcast along it); its element
     * stride along i in its own contiguous layout */
    unsigned char full[ONYXI_BCAST_MAX_IN][ONYXI_MAX_RANK];
    int64_t stride[ONYXI_BCAST_MAX_IN][ONYXI_MAX_RANK];
    for (int k = 0; k < n; k++) {
        const onyx_tensor *t = in[k];
        p->in_size[k] = onyxi_dtype_size(t->dtype);
        if (p->in_size[k] == 0)
            return onyxi_fail(e, ONYX_INVALID_ARG, "input %d has dtype %s", k,
                              onyx_dtype_name(t->dtype));
        if (t->rank < 0 || t->rank > r) {
            char s0[160], s1[160];
            onyxi_shape_str(t->rank, t->dims, s0, sizeof s0);
            onyxi_shape_str(r, out->dims, s1, sizeof s1);
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "input %d ('%s') of shape %s does not "
                              "broadcast to %s",
                              k, tname(t), s0, s1);
        }
        int off = r - t->rank;
        int64_t s = 1;
        for (int i = r - 1; i >= 0; i--) {
            int64_t d = i >= off ? t->dims[i - off] : 1;
            if (d != out->dims[i] && d != 1) {
                char s0[160], s1[160];
                onyxi_shape_str(t->rank, t->dims, s0, sizeof s0);
                onyxi_shape_str(r, out->dims, s1, sizeof s1);
                return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                                  "input %d ('%s') of shape %s does not broadcast to %s", k,
                                  tname(t), s0, s1);
            }
            full[k][i] = d == out->dims[i];
            stride[k][i] = s;
            s *= d; /* no overflow: bounded by the operand's own (checked) element count */
        }
    }

    /* Keep output axes longer than 1 and merge each into the previous kept one when every
     * operand has the same full/broadcast status on both (then their strides chain). */
    int m = 0;
    for (int i = 0; i < r; i++) {
        if (out->dims[i] == 1) continue;
        int merge = m > 0;
        for (int k = 0; merge && k < n; k++)
            merge = full[k][i] == (p->strides[k][m - 1] != 0);
        if (merge) {
            p->dims[m - 1] *= out->dims[i];
            for (int k = 0; k < n; k++)
                if (full[k][i]) p->strides[k][m - 1] = stride[k][i];
        } else {
            p->dims[m] = out->dims[i];
            for (int k = 0; k < n; k++)
                p->strides[k][m] = full[k][i] ? stride[k][i] : 0;
            m++;
        }
    }
    if (m == 0) { /* a single element */
        p->dims[0] = 1;
        for (int k = 0; k < n; k++)
            p->strides[k][0] = 0;
        m = 1;
    }
    p->rank = m;
    return ONYX_OK;
}

void onyxi_bcast_run(const onyxi_bcast *p, void *y, const void *const *x, onyxi_bcast_row row,
                     const void *ctx) {
    if (p->count <= 0) return;
    const int r = p->rank, n = p->n_in;
    const int64_t inner = p->dims[r - 1];
    const int64_t rows = p->count / inner;
    int64_t step[ONYXI_BCAST_MAX_IN], off[ONYXI_BCAST_MAX_IN] = {0};
    int64_t idx[ONYXI_MAX_RANK] = {0};
    const void *ptr[ONYXI_BCAST_MAX_IN];
    for (int k = 0; k < n; k++)
        step[k] = p->strides[k][r - 1] != 0;
    char *yb = y;
    for (int64_t o = 0; o < rows; o++) {
        for (int k = 0; k < n; k++)
            ptr[k] = (const char *)x[k] + (size_t)off[k] * p->in_size[k];
        row(inner, yb + (size_t)(o * inner) * p->out_size, ptr, step, ctx);
        /* odometer over the outer axes, moving each operand's offset incrementally */
        for (int d = r - 2; d >= 0; d--) {
            for (int k = 0; k < n; k++)
                off[k] += p->strides[k][d];
            if (++idx[d] < p->dims[d]) break;
            for (int k = 0; k < n; k++)
                off[k] -= p->strides[k][d] * p->dims[d];
            idx[d] = 0;
        }
    }
}
