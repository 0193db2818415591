/*
 * Pad (opset 2, 11, 13, 18, 19) for any fixed-size dtype, modes constant, reflect, edge, wrap.
 * opset 2: `pads` and `value` (float) are attributes. opset 11: `pads` (int64) and the optional
 * scalar `constant_value` became inputs. opset 13 widens the type list. opset 18: optional
 * `axes` input; `pads` then holds 2 * len(axes) values. opset 19: mode `wrap`.
 * Negative pads crop. Cropping happens first, and reflect/edge/wrap then pad the cropped axis
 * (as ONNX Runtime does; np.pad, the ONNX reference, has no negative pads).
 * The fill value is converted to the data dtype when its dtype differs.
 */
#include <string.h>

#include "data_ops.h"

const onyxi_attr_spec onyxi_pad_attrs[] = {
    {"mode", ONYXI_ATTR_STRING}, {"pads", ONYXI_ATTR_INTS}, {"value", ONYXI_ATTR_FLOAT}, {NULL, 0}};

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

static int pad_mode(const onyxi_node *n) {
    const char *m = onyxi_attr_string(n, "mode", "constant");
    if (strcmp(m, "constant") == 0) return PAD_CONSTANT;
    if (strcmp(m, "reflect") == 0) return PAD_REFLECT;
    if (strcmp(m, "edge") == 0) return PAD_EDGE;
    if (strcmp(m, "wrap") == 0 && n->opset >= 19) return PAD_WRAP;
    return -1;
}

onyx_status onyxi_pad_check(const onyxi_node *n, onyxi_err *e) {
    if (pad_mode(n) < 0) {
        const char *m = onyxi_attr_string(n, "mode", "constant");
        if (strcmp(m, "wrap") == 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "attribute 'mode' is 'wrap', which needs opset 19 (model has %lld)",
                              (long long)n->opset);
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'mode' is '%s', expected constant, reflect, edge%s", m,
                          n->opset >= 19 ? " or wrap" : "");
    }
    const int64_t *v;
    int has_pads = onyxi_attr_ints(n, "pads", &v) >= 0;
    if (n->opset < 11 && !has_pads)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "required attribute 'pads' is missing");
    if (n->opset >= 11 && (has_pads || onyxi_attr_find(n, "value")))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute '%s' is not allowed from opset 11 (it is an input); model "
                          "has opset %lld",
                          has_pads ? "pads" : "value", (long long)n->opset);
    return ONYX_OK;
}

/* Pads of every axis: begin pb[i], end pe[i]. c NULL: from init. */
static onyx_status pad_params(onyxi_infer *c, const onyxi_node *n, const onyx_tensor *const *in,
                              int n_in, int64_t *pb, int64_t *pe, onyxi_err *e) {
    const onyx_tensor *d = in[0];
    int rank = d->rank;
    for (int i = 0; i < rank; i++)
        pb[i] = pe[i] = 0;
    int axes[ONYXI_MAX_RANK], naxes = rank;
    for (int i = 0; i < rank; i++)
        axes[i] = i;
    const int64_t *a_pads = NULL;
    int64_t cnt;
    if (n->opset < 11) {
        cnt = onyxi_attr_ints(n, "pads", &a_pads);
        if (cnt < 0) return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'pads' is missing");
    } else {
        if (n_in < 2 || !in[1])
            return onyxi_fail(e, ONYX_INVALID_MODEL, "input 'pads' is required");
        ONYXI_CHECK(onyxi_dm_int_list(c, in[1], 1, "pads", 0, &cnt, e));
        if (n_in > 3 && in[3]) {
            /* opset 18: pads apply to the listed axes only */
            int64_t na;
            ONYXI_CHECK(onyxi_dm_int_list(c, in[3], 3, "axes", 0, &na, e));
            if (na > rank)
                return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                                  "input 'axes' has %lld values, more than the rank %d of 'data'",
                                  (long long)na, rank);
            unsigned seen = 0;
            for (int i = 0; i < (int)na; i++) {
                int64_t a = onyxi_read_int(in[3], i);
                if (onyxi_norm_axis(a, rank, &axes[i], NULL) != ONYX_OK)
                    return onyxi_fail(e, ONYX_INVALID_MODEL,
                                      "input 'axes' value %lld is out of range for rank %d",
                                      (long long)a, rank);
                if (seen >> axes[i] & 1u)
                    return onyxi_fail(e, ONYX_INVALID_MODEL, "axis %d appears twice in 'axes'",
                                      axes[i]);
                seen |= 1u << axes[i];
            }
            naxes = (int)na;
        }
    }
    if (cnt != 2 * (int64_t)naxes)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "'pads' has %lld values, expected %d (2 * %s)",
                          (long long)cnt, 2 * naxes,
                          naxes == rank ? "the rank of 'data'" : "the length of 'axes'");
    for (int i = 0; i < naxes; i++) {
        int64_t b = a_pads ? a_pads[i] : onyxi_read_int(in[1], i);
        int64_t en = a_pads ? a_pads[i + naxes] : onyxi_read_int(in[1], i + naxes);
        int a = axes[i];
        /* keeps dim + b + en far from overflow; real pads are tiny */
        const int64_t lim = INT64_MAX / 4;
        if (b > lim || b < -lim || en > lim || en < -lim || d->dims[a] + b + en < 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "'pads' %lld and %lld of axis %d (size %lld) give a negative or "
                              "too large size",
                              (long long)b, (long long)en, a, (long long)d->dims[a]);
        pb[a] = b;
        pe[a] = en;
    }
    return ONYX_OK;
}

onyx_status onyxi_pad_infer(onyxi_infer *c) {
    const onyx_tensor *d = c->in[0];
    if (!d) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input 'data' is required");
    ONYXI_CHECK(onyxi_dm_check_dtype(d->dtype, "input 'data'", c->err));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    int64_t pb[ONYXI_MAX_RANK], pe[ONYXI_MAX_RANK], dims[ONYXI_MAX_RANK];
    ONYXI_CHECK(pad_params(c, c->node, c->in, c->n_in, pb, pe, c->err));
    int mode = pad_mode(c->node);
    for (int i = 0; i < d->rank; i++) {
        dims[i] = d->dims[i] + pb[i] + pe[i];
        int64_t kept = d->dims[i] - (pb[i] < 0 ? -pb[i] : 0) - (pe[i] < 0 ? -pe[i] : 0);
        if (mode != PAD_CONSTANT && dims[i] > 0 && kept <= 0)
            return onyxi_fail(c->err, ONYX_INVALID_MODEL,
                              "axis %d keeps %lld elements after cropping, so mode '%s' has "
                              "nothing to pad it with",
                              i, (long long)(kept < 0 ? 0 : kept),
                              onyxi_attr_string(c->node, "mode", "constant"));
    }
    const onyx_tensor *cv = c->n_in > 2 ? c->in[2] : NULL;
    if (cv) {
        int64_t nc = onyxi_shape_count(cv->rank, cv->dims);
        if (nc > 1 || nc < 0)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "input 'constant_value' has %lld elements, expected a scalar",
                              (long long)nc);
        int convertible = cv->dtype == ONYX_DTYPE_FLOAT32 || cv->dtype == ONYX_DTYPE_FLOAT64 ||
                          (onyxi_dtype_size(cv->dtype) && cv->dtype != ONYX_DTYPE_FLOAT16 &&
                           cv->dtype != ONYX_DTYPE_BFLOAT16 && cv->dtype <= ONYX_DTYPE_UINT64);
        if (cv->dtype != d->dtype && !convertible)
            return onyxi_fail(c->err, ONYX_TYPE_MISMATCH,
                              "input 'constant_value' has dtype %s, expected %s like 'data'",
                              onyx_dtype_name(cv->dtype), onyx_dtype_name(d->dtype));
    }
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(d->dtype, d->rank, dims, &nbytes, c->err));
    onyxi_infer_set(c, 0, d->dtype, d->rank, dims);
    return ONYX_OK;
}

/* ---- ref ---- */

/*
 * constant: fill the output, then copy the kept part of the input (a strided copy).
 * reflect/edge/wrap: trailing unpadded axes form a contiguous block; the other `nlead` axes walk
 * the output and find their source through per-axis tables of input element offsets.
 */
typedef struct pad_state {
    int mode;
    size_t es;
    unsigned char fill[16]; /* attribute fill value (opset < 11), converted */
    onyxi_dm_copy copy;     /* constant mode */
    int nlead;
    int64_t lead[ONYXI_MAX_RANK];   /* output sizes of the leading axes */
    int64_t *table[ONYXI_MAX_RANK]; /* borrowed: into tables */
    size_t block;                   /* bytes per copy */
    int64_t *tables;                /* owned */
} pad_state;

/* Source index of padded position r (relative to the kept range of length len > 0). */
static int64_t pad_source(int mode, int64_t r, int64_t len) {
    switch (mode) {
    case PAD_EDGE:
        return r < 0 ? 0 : r >= len ? len - 1 : r;
    case PAD_WRAP: {
        int64_t m = r % len;
        return m < 0 ? m + len : m;
    }
    default: { /* reflect about the end elements, period 2 (len - 1) */
        if (len == 1) return 0;
        int64_t p = 2 * (len - 1), m = r % p;
        if (m < 0) m += p;
        return m >= len ? p - m : m;
    }
    }
}

static onyx_status pad_init_ref(onyxi_exec *x) {
    const onyx_tensor *d = x->in[0];
    const onyx_tensor *y = x->out[0];
    pad_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the Pad state");
    x->state = st;
    int rank = d->rank;
    int64_t pb[ONYXI_MAX_RANK], pe[ONYXI_MAX_RANK];
    ONYXI_CHECK(pad_params(NULL, x->node, x->in, x->n_in, pb, pe, x->err));
    st->mode = pad_mode(x->node);
    st->es = onyxi_dtype_size(d->dtype);
    if (x->node->opset < 11)
        ONYXI_CHECK(onyxi_dm_store_scalar(d->dtype, onyxi_attr_float(x->node, "value", 0.0f),
                                          st->fill, x->err));
    int64_t istride[ONYXI_MAX_RANK], ostride[ONYXI_MAX_RANK];
    onyxi_dm_strides(rank, d->dims, istride);
    onyxi_dm_strides(rank, y->dims, ostride);
    int64_t lo[ONYXI_MAX_RANK], kept[ONYXI_MAX_RANK];
    for (int i = 0; i < rank; i++) {
        lo[i] = pb[i] < 0 ? -pb[i] : 0;
        kept[i] = d->dims[i] - lo[i] - (pe[i] < 0 ? -pe[i] : 0);
        if (kept[i] < 0) kept[i] = 0;
    }
    if (st->mode == PAD_CONSTANT) {
        int64_t ibase = 0, obase = 0;
        for (int i = 0; i < rank; i++) {
            ibase += lo[i] * istride[i];
            obase += (pb[i] > 0 ? pb[i] : 0) * ostride[i];
        }
        return onyxi_dm_copy_init(&st->copy, rank, kept, istride, ibase, ostride, obase, st->es,
                                  x->err);
    }
    int64_t total = onyxi_shape_count(rank, y->dims);
    if (total <= 0) return ONYX_OK; /* empty output: nothing to walk */
    int nlead = rank;
    st->block = st->es;
    while (nlead > 0 && pb[nlead - 1] == 0 && pe[nlead - 1] == 0) {
        nlead--;
        st->block *= (size_t)d->dims[nlead]; /* bounded by the input's byte size */
    }
    size_t n = 0;
    for (int i = 0; i < nlead; i++)
        n += (size_t)y->dims[i]; /* each <= total */
    st->tables = onyxi_malloc((n ? n : 1) * sizeof *st->tables);
    if (!st->tables) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the Pad tables");
    int64_t *t = st->tables;
    for (int i = 0; i < nlead; i++) {
        st->table[i] = t;
        st->lead[i] = y->dims[i];
        for (int64_t o = 0; o < y->dims[i]; o++)
            t[o] =
                (lo[i] + pad_source(st->mode, o - (pb[i] > 0 ? pb[i] : 0), kept[i])) * istride[i];
        t += y->dims[i];
    }
    st->nlead = nlead;
    return ONYX_OK;
}

static onyx_status pad_run_ref(onyxi_exec *x) {
    const pad_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "Pad run without init");
    unsigned char *y = x->out[0]->data;
    size_t nbytes = x->out[0]->nbytes;
    const unsigned char *src = x->in[0]->data;
    if (nbytes == 0) return ONYX_OK;
    if (st->mode == PAD_CONSTANT) {
        unsigned char fill[16] = {0};
        const onyx_tensor *cv = x->n_in > 2 ? x->in[2] : NULL;
        if (x->node->opset < 11)
            memcpy(fill, st->fill, sizeof fill);
        else if (cv && cv->nbytes && cv->dtype == x->in[0]->dtype)
            memcpy(fill, cv->data, st->es);
        else if (cv && cv->nbytes)
            ONYXI_CHECK(
                onyxi_dm_store_scalar(x->in[0]->dtype, onyxi_read_double(cv, 0), fill, x->err));
        for (size_t o = 0; o < nbytes; o += st->es)
            memcpy(y + o, fill, st->es);
        onyxi_dm_copy_run(&st->copy, src, y);
        return ONYX_OK;
    }
    int64_t pos[ONYXI_MAX_RANK] = {0};
    for (size_t o = 0; o < nbytes; o += st->block) {
        int64_t off = 0;
        for (int a = 0; a < st->nlead; a++)
            off += st->table[a][pos[a]];
        memcpy(y + o, src + (size_t)off * st->es, st->block);
        for (int a = st->nlead - 1; a >= 0; a--) {
            if (++pos[a] < st->lead[a]) break;
            pos[a] = 0;
        }
    }
    return ONYX_OK;
}

static void pad_fini_ref(onyxi_exec *x) {
    pad_state *st = x->state;
    if (st) onyxi_free(st->tables);
    onyxi_free(st);
    x->state = NULL;
}

static const onyxi_impl pad_ref = {"ref", pad_init_ref, pad_run_ref, pad_fini_ref};
const onyxi_impl *const onyxi_pad_impls[] = {&pad_ref, NULL};
