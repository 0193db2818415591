/*
 * Concat (opset 4, 11, 13), any fixed-size dtype (bytes are copied, never interpreted).
 * `axis` is required in every version; negative axes are accepted from opset 11. All inputs
 * share dtype and rank and agree on every dim except `axis`, where sizes may be 0.
 * opset 13 only widens the type list, which byte copying already covers.
 */
#include <string.h>

#include "concat.h"
#include "ops.h"

const onyxi_attr_spec onyxi_concat_attrs[] = {{"axis", ONYXI_ATTR_INT}, {NULL, 0}};

onyx_status onyxi_concat_check(const onyxi_node *n, onyxi_err *e) {
    const onyxi_attr *a = onyxi_attr_find(n, "axis");
    if (!a) return onyxi_fail(e, ONYX_INVALID_MODEL, "required attribute 'axis' is missing");
    if (a->i < 0 && n->opset < 11)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'axis' is %lld; negative axes need opset 11 (model has %lld)",
                          (long long)a->i, (long long)n->opset);
    for (int k = 0; k < n->n_inputs; k++)
        if (n->inputs[k] < 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "input %d is empty (Concat has no optional inputs)", k);
    return ONYX_OK;
}

onyx_status onyxi_concat_infer(onyxi_infer *c) {
    const onyx_tensor *t0 = c->in[0];
    if (!t0) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input 0 is absent");
    if (onyxi_dtype_size(t0->dtype) == 0)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 0 has dtype %s, which Concat cannot copy",
                          onyx_dtype_name(t0->dtype));
    int ax;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(c->node, "axis", 0), t0->rank, &ax, c->err));
    int64_t dims[ONYXI_MAX_RANK];
    for (int i = 0; i < t0->rank; i++)
        dims[i] = t0->dims[i];
    dims[ax] = 0;
    char s0[160], sk[160];
    for (int k = 0; k < c->n_in; k++) {
        const onyx_tensor *t = c->in[k];
        if (!t) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input %d is absent", k);
        ONYXI_CHECK(onyxi_infer_expect_dtype(c, k, t0->dtype));
        ONYXI_CHECK(onyxi_infer_expect_known(c, k));
        onyxi_shape_str(t0->rank, t0->dims, s0, sizeof s0);
        onyxi_shape_str(t->rank, t->dims, sk, sizeof sk);
        if (t->rank != t0->rank)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input %d ('%s') has shape %s of rank %d, expected rank %d like "
                              "input 0 %s",
                              k, t->name ? t->name : "", sk, t->rank, t0->rank, s0);
        for (int i = 0; i < t->rank; i++)
            if (i != ax && t->dims[i] != t0->dims[i])
                return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                                  "input %d ('%s') has shape %s, expected %s except on axis %d", k,
                                  t->name ? t->name : "", sk, s0, ax);
        if (t->dims[ax] > INT64_MAX - dims[ax])
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "the output's axis %d overflows", ax);
        dims[ax] += t->dims[ax];
    }
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(t0->dtype, t0->rank, dims, &nbytes, c->err));
    onyxi_infer_set(c, 0, t0->dtype, t0->rank, dims);
    return ONYX_OK;
}

/* ---- ref ---- */

/*
 * Output and input k are [outer, chunk_k] byte matrices, where chunk_k covers input k's
 * dims from `axis` on; the output row o is input 0's row o, then input 1's, and so on.
 */
typedef struct concat_state {
    int64_t outer;
    size_t out_row; /* bytes of one output row */
    size_t chunk[]; /* bytes of one row of each input */
} concat_state;

static onyx_status concat_init_ref(onyxi_exec *x) {
    const onyx_tensor *t0 = x->in[0];
    int ax;
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(x->node, "axis", 0), t0->rank, &ax, x->err));
    size_t bytes;
    if (x->n_in < 1 || !onyxi_mul_size((size_t)x->n_in, sizeof(size_t), &bytes) ||
        !onyxi_add_size(bytes, sizeof(concat_state), &bytes))
        return onyxi_fail(x->err, ONYX_INVALID_MODEL, "%d inputs is not a valid count", x->n_in);
    concat_state *st = onyxi_calloc(1, bytes);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the Concat state");
    x->state = st;
    st->outer = onyxi_shape_count(ax, x->out[0]->dims);
    if (st->outer < 0)
        return onyxi_fail(x->err, ONYX_SHAPE_MISMATCH, "output shape is unknown or too large");
    size_t es = onyxi_dtype_size(t0->dtype);
    for (int k = 0; k < x->n_in; k++) {
        const onyx_tensor *t = x->in[k];
        int64_t n = onyxi_shape_count(t->rank - ax, t->dims + ax);
        /* bounded by the input's byte size, which the planner computed without overflow */
        if (n < 0 || !onyxi_mul_size((size_t)n, es, &st->chunk[k]) ||
            !onyxi_add_size(st->out_row, st->chunk[k], &st->out_row))
            return onyxi_fail(x->err, ONYX_SHAPE_MISMATCH, "input %d is too large", k);
    }
    return ONYX_OK;
}

static onyx_status concat_run_ref(onyxi_exec *x) {
    const concat_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "Concat run without init");
    if (st->out_row == 0) return ONYX_OK; /* empty output: data may be NULL */
    unsigned char *y = x->out[0]->data;
    for (int64_t o = 0; o < st->outer; o++) {
        for (int k = 0; k < x->n_in; k++) {
            size_t c = st->chunk[k];
            if (c == 0) continue; /* an empty input may have no data pointer */
            memcpy(y, (const unsigned char *)x->in[k]->data + (size_t)o * c, c);
            y += c;
        }
    }
    return ONYX_OK;
}

static void concat_fini_ref(onyxi_exec *x) {
    onyxi_free(x->state);
    x->state = NULL;
}

static const onyxi_impl concat_ref = {"ref", concat_init_ref, concat_run_ref, concat_fini_ref};
const onyxi_impl *const onyxi_concat_impls[] = {&onyxi_concat_dnnl, &concat_ref, NULL};
