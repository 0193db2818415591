/*
 * Ops that only rename or copy their input, plus the shape queries:
 *   Reshape 5, 13, 14 (allowzero), 19; Flatten 1, 9, 11 (negative axis), 13;
 *   Squeeze 1, 11 (negative axes), 13 (axes as input); Unsqueeze 1, 11, 13 (same);
 *   Identity 1, 13, 14, 16, 19 (tensors only: sequences and optionals are ONYX_UNSUPPORTED);
 *   Dropout 7 (mask has the input's dtype), 10 (bool mask), 12, 13 (ratio and training_mode
 *   inputs: training with a non-zero ratio is ONYX_UNSUPPORTED, onyx only does inference);
 *   Shape 1, 13, 15 (start/end), 19; Size 1, 13, 19 (both ONYXI_OP_SHAPE_ONLY).
 * The copy kernels move bytes, so every fixed-size dtype works. Versions 13/14/16/19 without
 * a rule here only widen the type lists. Transpose is in shape_transpose.c, ConstantOfShape
 * and Range in shape_generate.c.
 */
#include <string.h>

#include "ops.h"

/* ---- shared helpers ---- */

static const char *in_name(const onyx_tensor *t) {
    return t && t->name ? t->name : "";
}

/* ONYX_UNSUPPORTED unless input 0 is present and holds a dtype whose bytes can be copied. */
static onyx_status expect_copyable(onyxi_infer *c, const char *op) {
    const onyx_tensor *t = c->in[0];
    if (!t) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input 0 is absent");
    if (onyxi_dtype_size(t->dtype) == 0)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 0 ('%s') has dtype %s; %s supports tensors of fixed-size dtypes "
                          "only",
                          in_name(t), onyx_dtype_name(t->dtype), op);
    return onyxi_infer_expect_known(c, 0);
}

/* Sets output k after checking the rank onyx can hold. */
static onyx_status set_output(onyxi_infer *c, int k, onyx_dtype dt, int rank, const int64_t *dims) {
    if (rank > ONYXI_MAX_RANK)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "output %d would have rank %d; onyx supports up to %d", k, rank,
                          ONYXI_MAX_RANK);
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(dt, rank, dims, &nbytes, c->err));
    onyxi_infer_set(c, k, dt, rank, dims);
    return ONYX_OK;
}

/*
 * The int64 1-D (or scalar) tensor of input k when its data is known before the run: *vals and
 * *n receive the values and their count. A count above max is refused with ONYX_UNSUPPORTED
 * (what names as the values' meaning) before any value is read.
 */
static onyx_status int64_list_input(onyxi_infer *c, int k, int max, const char *what,
                                    const int64_t **vals, int *n) {
    const onyx_tensor *t = c->in[k];
    ONYXI_CHECK(onyxi_infer_expect_dtype(c, k, ONYX_DTYPE_INT64));
    ONYXI_CHECK(onyxi_infer_expect_known(c, k));
    if (t->rank > 1)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input %d ('%s', the %s) has rank %d, expected 1", k, in_name(t), what,
                          t->rank);
    int64_t count = t->rank == 0 ? 1 : t->dims[0];
    if (count > max)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input %d ('%s', the %s) has %lld values; onyx supports up to %d", k,
                          in_name(t), what, (long long)count, max);
    const void *data = onyxi_infer_data(c, k);
    if (!data && count > 0) return onyxi_infer_needs_data(c, k);
    *vals = data;
    *n = (int)count;
    return ONYX_OK;
}

/* ---- Reshape ---- */

const onyxi_attr_spec onyxi_reshape_attrs[] = {{"allowzero", ONYXI_ATTR_INT}, {NULL, 0}};

onyx_status onyxi_reshape_check(const onyxi_node *n, onyxi_err *e) {
    const onyxi_attr *a = onyxi_attr_find(n, "allowzero");
    if (a && n->opset < 14)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'allowzero' needs opset 14 (model has %lld)",
                          (long long)n->opset);
    if (a && a->i != 0 && a->i != 1)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'allowzero' is %lld, expected 0 or 1",
                          (long long)a->i);
    return ONYX_OK;
}

onyx_status onyxi_reshape_infer(onyxi_infer *c) {
    ONYXI_CHECK(expect_copyable(c, "Reshape"));
    const onyx_tensor *x = c->in[0];
    if (!c->in[1]) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input 1 (shape) is absent");
    const int64_t *shape = NULL;
    int n = 0;
    ONYXI_CHECK(int64_list_input(c, 1, ONYXI_MAX_RANK, "new shape", &shape, &n));
    if (c->in[1]->rank != 1)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "input 1 ('%s', the new shape) has rank 0, expected 1",
                          in_name(c->in[1]));
    int allowzero = (int)onyxi_attr_int(c->node, "allowzero", 0);
    int64_t count = onyxi_shape_count(x->rank, x->dims);
    int64_t dims[ONYXI_MAX_RANK], known = 1;
    int infer_at = -1, has_zero = 0;
    char xs[160], ss[160];
    for (int i = 0; i < n; i++) {
        int64_t d = shape[i];
        if (d == -1) {
            if (infer_at >= 0)
                return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                                  "the new shape has -1 at positions %d and %d; at most one dim "
                                  "may be inferred",
                                  infer_at, i);
            infer_at = i;
            dims[i] = 1;
            continue;
        }
        if (d < -1)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "the new shape has %lld at position %d; dims must be >= -1",
                              (long long)d, i);
        if (d == 0 && !allowzero) {
            /* 0 copies the input's dim at the same position */
            if (i >= x->rank)
                return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                                  "the new shape has 0 at position %d, but input 0 %s has rank %d "
                                  "(0 copies the input dim; set allowzero for a real 0)",
                                  i, onyxi_shape_str(x->rank, x->dims, xs, sizeof xs), x->rank);
            d = x->dims[i];
        }
        if (d == 0) has_zero = 1;
        dims[i] = d;
        if (d != 0 && known > INT64_MAX / d)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "the new shape's size overflows");
        known *= d;
    }
    if (infer_at >= 0) {
        /* with allowzero a 0 beside -1 leaves the -1 undetermined (ONNX calls it invalid) */
        if (has_zero || known == 0)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "the new shape %s has both 0 and -1; the -1 cannot be inferred",
                              onyxi_shape_str(n, shape, ss, sizeof ss));
        if (count % known != 0)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "cannot reshape input 0 %s (%lld elements) to %s: %lld is not a "
                              "multiple of %lld",
                              onyxi_shape_str(x->rank, x->dims, xs, sizeof xs), (long long)count,
                              onyxi_shape_str(n, shape, ss, sizeof ss), (long long)count,
                              (long long)known);
        dims[infer_at] = count / known;
        known = count;
    } else {
        if (has_zero) known = 0;
    }
    if (known != count)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                          "cannot reshape input 0 %s (%lld elements) to %s (%lld elements)",
                          onyxi_shape_str(x->rank, x->dims, xs, sizeof xs), (long long)count,
                          onyxi_shape_str(n, dims, ss, sizeof ss), (long long)known);
    return set_output(c, 0, x->dtype, n, dims);
}

/* ---- Flatten ---- */

const onyxi_attr_spec onyxi_flatten_attrs[] = {{"axis", ONYXI_ATTR_INT}, {NULL, 0}};

onyx_status onyxi_flatten_check(const onyxi_node *n, onyxi_err *e) {
    int64_t axis = onyxi_attr_int(n, "axis", 1);
    if (axis < 0 && n->opset < 11)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'axis' is %lld; negative axes need opset 11 (model has %lld)",
                          (long long)axis, (long long)n->opset);
    return ONYX_OK;
}

onyx_status onyxi_flatten_infer(onyxi_infer *c) {
    ONYXI_CHECK(expect_copyable(c, "Flatten"));
    const onyx_tensor *x = c->in[0];
    int64_t axis = onyxi_attr_int(c->node, "axis", 1);
    /* unlike most axes, `axis` may equal the rank: the output is then [count, 1] */
    if (axis < -(int64_t)x->rank || axis > x->rank)
        return onyxi_fail(c->err, ONYX_INVALID_MODEL,
                          "attribute 'axis' is %lld, expected %d to %d for input 0 of rank %d",
                          (long long)axis, -x->rank, x->rank, x->rank);
    int ax = (int)(axis < 0 ? axis + x->rank : axis);
    int64_t dims[2] = {onyxi_shape_count(ax, x->dims),
                       onyxi_shape_count(x->rank - ax, x->dims + ax)};
    if (dims[0] < 0 || dims[1] < 0)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "the flattened dims of input 0 overflow");
    return set_output(c, 0, x->dtype, 2, dims);
}

/* ---- Squeeze and Unsqueeze ---- */

const onyxi_attr_spec onyxi_squeeze_attrs[] = {{"axes", ONYXI_ATTR_INTS}, {NULL, 0}};
const onyxi_attr_spec onyxi_unsqueeze_attrs[] = {{"axes", ONYXI_ATTR_INTS}, {NULL, 0}};

/* opset < 13: `axes` attribute (negative values from 11); opset 13: input 1 instead. */
static onyx_status check_axes_attr(const onyxi_node *n, int required, onyxi_err *e) {
    const int64_t *axes = NULL;
    int count = onyxi_attr_ints(n, "axes", &axes);
    if (n->opset >= 13) {
        if (count >= 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "attribute 'axes' is not allowed at opset %lld (it became input 1 "
                              "at opset 13)",
                              (long long)n->opset);
        return ONYX_OK;
    }
    if (count < 0 && required)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "required attribute 'axes' is missing");
    for (int i = 0; i < count; i++)
        if (axes[i] < 0 && n->opset < 11)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "attribute 'axes' has %lld; negative axes need opset 11 (model has "
                              "%lld)",
                              (long long)axes[i], (long long)n->opset);
    return ONYX_OK;
}

/* The axes of a Squeeze/Unsqueeze node: *present 0 when none were given. */
static onyx_status get_axes(onyxi_infer *c, int max, const int64_t **axes, int *n, int *present) {
    *present = 0;
    *n = 0;
    if (c->node->opset < 13) {
        int count = onyxi_attr_ints(c->node, "axes", axes);
        if (count < 0) return ONYX_OK;
        if (count > max)
            return onyxi_fail(c->err, ONYX_INVALID_MODEL,
                              "attribute 'axes' has %d values, expected at most %d", count, max);
        *present = 1;
        *n = count;
        return ONYX_OK;
    }
    if (c->n_in < 2 || !c->in[1]) return ONYX_OK;
    *present = 1;
    return int64_list_input(c, 1, max, "axes", axes, n);
}

onyx_status onyxi_squeeze_check(const onyxi_node *n, onyxi_err *e) {
    return check_axes_attr(n, 0, e);
}

onyx_status onyxi_squeeze_infer(onyxi_infer *c) {
    ONYXI_CHECK(expect_copyable(c, "Squeeze"));
    const onyx_tensor *x = c->in[0];
    const int64_t *axes = NULL;
    int n = 0, present = 0;
    ONYXI_CHECK(get_axes(c, ONYXI_MAX_RANK, &axes, &n, &present));
    unsigned char drop[ONYXI_MAX_RANK] = {0};
    char xs[160];
    for (int i = 0; i < n; i++) {
        int ax;
        ONYXI_CHECK(onyxi_norm_axis(axes[i], x->rank, &ax, c->err));
        if (drop[ax])
            return onyxi_fail(c->err, ONYX_INVALID_MODEL, "axis %d appears twice in 'axes'", ax);
        if (x->dims[ax] != 1)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH,
                              "cannot squeeze axis %d of input 0 %s: its size is %lld, expected 1",
                              ax, onyxi_shape_str(x->rank, x->dims, xs, sizeof xs),
                              (long long)x->dims[ax]);
        drop[ax] = 1;
    }
    int64_t dims[ONYXI_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++)
        if (present ? !drop[i] : x->dims[i] != 1) dims[r++] = x->dims[i];
    return set_output(c, 0, x->dtype, r, dims);
}

onyx_status onyxi_unsqueeze_check(const onyxi_node *n, onyxi_err *e) {
    return check_axes_attr(n, 1, e);
}

onyx_status onyxi_unsqueeze_infer(onyxi_infer *c) {
    ONYXI_CHECK(expect_copyable(c, "Unsqueeze"));
    const onyx_tensor *x = c->in[0];
    const int64_t *axes = NULL;
    int n = 0, present = 0;
    ONYXI_CHECK(get_axes(c, ONYXI_MAX_RANK - x->rank, &axes, &n, &present));
    if (!present) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input 1 (axes) is absent");
    int r = x->rank + n; /* axes count from the output's rank */
    unsigned char add[ONYXI_MAX_RANK] = {0};
    for (int i = 0; i < n; i++) {
        int ax;
        ONYXI_CHECK(onyxi_norm_axis(axes[i], r, &ax, c->err));
        if (add[ax])
            return onyxi_fail(c->err, ONYX_INVALID_MODEL, "axis %d appears twice in 'axes'", ax);
        add[ax] = 1;
    }
    int64_t dims[ONYXI_MAX_RANK];
    for (int i = 0, j = 0; i < r; i++)
        dims[i] = add[i] ? 1 : x->dims[j++];
    return set_output(c, 0, x->dtype, r, dims);
}

/* ---- Identity ---- */

const onyxi_attr_spec onyxi_identity_attrs[] = {{NULL, 0}};

onyx_status onyxi_identity_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

onyx_status onyxi_identity_infer(onyxi_infer *c) {
    /* opset 14 (sequences) and 16 (optionals) reach here as tensors without a dtype */
    ONYXI_CHECK(expect_copyable(c, "Identity"));
    return set_output(c, 0, c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
}

/* ---- Dropout ---- */

const onyxi_attr_spec onyxi_dropout_attrs[] = {
    {"ratio", ONYXI_ATTR_FLOAT}, {"seed", ONYXI_ATTR_INT}, {"is_test", ONYXI_ATTR_INT}, {NULL, 0}};

onyx_status onyxi_dropout_check(const onyxi_node *n, onyxi_err *e) {
    /* opset 7 dropped is_test; opset 12 moved ratio to input 1 and added seed */
    if (onyxi_attr_find(n, "is_test"))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'is_test' was removed at opset 7 (model has %lld)",
                          (long long)n->opset);
    if (onyxi_attr_find(n, "ratio") && n->opset >= 12)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'ratio' is not allowed at opset %lld (it became input 1 at "
                          "opset 12)",
                          (long long)n->opset);
    if (onyxi_attr_find(n, "seed") && n->opset < 12)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'seed' needs opset 12 (model has %lld)",
                          (long long)n->opset);
    return ONYX_OK;
}

/* 1 when the first element of a float-type scalar is zero (either sign). */
static int scalar_is_zero(const onyx_tensor *t) {
    const unsigned char *p = t->data;
    size_t es = onyxi_dtype_size(t->dtype);
    if (es == 0 || es > 8 || onyxi_shape_count(t->rank, t->dims) < 1) return 0;
    if (t->dtype == ONYX_DTYPE_FLOAT32 || t->dtype == ONYX_DTYPE_FLOAT64)
        return onyxi_read_double(t, 0) == 0.0;
    /* float16 / bfloat16: zero when every bit but the sign is clear */
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return es == 2 && (h & 0x7fffu) == 0;
}

/*
 * opset 12+: training_mode true draws a random mask, which onyx does not do. With ratio 0
 * nothing is dropped, so that one case is still a copy. training and ratio need data.
 */
static onyx_status dropout_check_mode(const onyx_tensor *ratio, const onyx_tensor *training,
                                      onyxi_err *e) {
    if (!training || !training->data || onyxi_shape_count(training->rank, training->dims) < 1)
        return ONYX_OK;
    if (training->dtype != ONYX_DTYPE_BOOL)
        return onyxi_fail(e, ONYX_TYPE_MISMATCH,
                          "input 2 ('%s', training_mode) has dtype %s, expected bool",
                          in_name(training), onyx_dtype_name(training->dtype));
    if (!*(const unsigned char *)training->data) return ONYX_OK;
    if (ratio && ratio->data && scalar_is_zero(ratio)) return ONYX_OK;
    return onyxi_fail(e, ONYX_UNSUPPORTED,
                      "training_mode is true with a non-zero ratio; onyx only runs inference "
                      "(random dropout is not supported)");
}

onyx_status onyxi_dropout_infer(onyxi_infer *c) {
    ONYXI_CHECK(expect_copyable(c, "Dropout"));
    const onyx_tensor *x = c->in[0];
    const onyx_tensor *ratio = c->n_in > 1 ? c->in[1] : NULL;
    const onyx_tensor *training = c->n_in > 2 ? c->in[2] : NULL;
    if (ratio) {
        onyx_dtype dt = ratio->dtype;
        if (dt != ONYX_DTYPE_FLOAT32 && dt != ONYX_DTYPE_FLOAT64 && dt != ONYX_DTYPE_FLOAT16 &&
            dt != ONYX_DTYPE_BFLOAT16)
            return onyxi_fail(c->err, ONYX_TYPE_MISMATCH,
                              "input 1 ('%s', ratio) has dtype %s, expected a float type",
                              in_name(ratio), onyx_dtype_name(dt));
    }
    if (training) ONYXI_CHECK(onyxi_infer_expect_dtype(c, 2, ONYX_DTYPE_BOOL));
    /* training_mode does not change shapes: peek at known data without recording a dependency */
    ONYXI_CHECK(dropout_check_mode(ratio, training, c->err));
    ONYXI_CHECK(set_output(c, 0, x->dtype, x->rank, x->dims));
    /* opset 7 types the mask like the input; opset 10 made it bool */
    onyx_dtype mask_dt = c->node->opset < 10 ? x->dtype : ONYX_DTYPE_BOOL;
    if (c->n_out > 1 && c->out[1]) ONYXI_CHECK(set_output(c, 1, mask_dt, x->rank, x->dims));
    return ONYX_OK;
}

/* ---- Shape and Size ---- */

const onyxi_attr_spec onyxi_shape_attrs[] = {
    {"start", ONYXI_ATTR_INT}, {"end", ONYXI_ATTR_INT}, {NULL, 0}};
const onyxi_attr_spec onyxi_size_attrs[] = {{NULL, 0}};

onyx_status onyxi_shape_check(const onyxi_node *n, onyxi_err *e) {
    if (n->opset < 15 && (onyxi_attr_find(n, "start") || onyxi_attr_find(n, "end")))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attributes 'start' and 'end' need opset 15 (model has %lld)",
                          (long long)n->opset);
    return ONYX_OK;
}

/* opset 15: the [start, end) slice of the dims; negative values count from the end, and both
 * are clamped to [0, rank] rather than refused. */
static void shape_slice(const onyxi_node *n, int rank, int *start, int *end) {
    int64_t s = onyxi_attr_int(n, "start", 0), e = onyxi_attr_int(n, "end", rank);
    if (s < 0) s += rank;
    if (e < 0) e += rank;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < 0 ? 0 : e > rank ? rank : e;
    *start = (int)s;
    *end = (int)(e > s ? e : s);
}

onyx_status onyxi_shape_infer(onyxi_infer *c) {
    const onyx_tensor *x = c->in[0];
    if (!x) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input 0 is absent");
    if (x->rank < 0)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "input 0 ('%s') has an unknown rank",
                          in_name(x));
    int start, end;
    shape_slice(c->node, x->rank, &start, &end);
    for (int i = start; i < end; i++)
        if (x->dims[i] < 0)
            return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "input 0 ('%s') has an unknown dim %d",
                              in_name(x), i);
    int64_t len = end - start;
    return set_output(c, 0, ONYX_DTYPE_INT64, 1, &len);
}

onyx_status onyxi_size_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

onyx_status onyxi_size_infer(onyxi_infer *c) {
    if (!c->in[0]) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input 0 is absent");
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    if (onyxi_shape_count(c->in[0]->rank, c->in[0]->dims) < 0)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "the size of input 0 ('%s') overflows",
                          in_name(c->in[0]));
    return set_output(c, 0, ONYX_DTYPE_INT64, 0, NULL);
}

/* ---- ref ---- */

/* Input 0's bytes into output 0; nothing to do when the planner made them share memory. */
static onyx_status copy_input(onyxi_exec *x) {
    const onyx_tensor *in = x->in[0];
    onyx_tensor *out = x->out[0];
    /* from the shape, not in->nbytes: a bound input's byte count may not be filled in */
    int64_t count = onyxi_shape_count(in->rank, in->dims);
    size_t bytes;
    if (count < 0 || !onyxi_mul_size((size_t)count, onyxi_dtype_size(in->dtype), &bytes) ||
        bytes != out->nbytes)
        return onyxi_fail(x->err, ONYX_INTERNAL,
                          "input 0 holds %lld elements, the output %zu bytes", (long long)count,
                          out->nbytes);
    if (out->nbytes && out->data != in->data) memcpy(out->data, in->data, out->nbytes);
    return ONYX_OK;
}

static onyx_status copy_run_ref(onyxi_exec *x) {
    return copy_input(x);
}

/* Output 0 = input 0; the optional mask says every element was kept (true, or 1 in the
 * input's type at opset 7). */
static onyx_status dropout_run_ref(onyxi_exec *x) {
    ONYXI_CHECK(
        dropout_check_mode(x->n_in > 1 ? x->in[1] : NULL, x->n_in > 2 ? x->in[2] : NULL, x->err));
    ONYXI_CHECK(copy_input(x));
    onyx_tensor *m = x->n_out > 1 ? x->out[1] : NULL;
    if (!m || m->nbytes == 0) return ONYX_OK;
    unsigned char one[8] = {0};
    size_t es = onyxi_dtype_size(m->dtype);
    switch (m->dtype) {
    case ONYX_DTYPE_FLOAT32: {
        float f = 1.0f;
        memcpy(one, &f, sizeof f);
        break;
    }
    case ONYX_DTYPE_FLOAT64: {
        double d = 1.0;
        memcpy(one, &d, sizeof d);
        break;
    }
    case ONYX_DTYPE_FLOAT16: {
        uint16_t h = 0x3C00u;
        memcpy(one, &h, sizeof h);
        break;
    }
    case ONYX_DTYPE_BFLOAT16: {
        uint16_t h = 0x3F80u;
        memcpy(one, &h, sizeof h);
        break;
    }
    default: { /* bool and integers: little-endian 1 */
        uint64_t v = 1;
        memcpy(one, &v, sizeof v);
        break;
    }
    }
    if (es == 0 || es > sizeof one || m->nbytes % es != 0)
        return onyxi_fail(x->err, ONYX_UNSUPPORTED, "mask dtype %s cannot be filled",
                          onyx_dtype_name(m->dtype));
    unsigned char *p = m->data;
    if (es == 1) {
        memset(p, 1, m->nbytes);
        return ONYX_OK;
    }
    for (size_t i = 0; i < m->nbytes; i += es)
        memcpy(p + i, one, es);
    return ONYX_OK;
}

/* Shape-only: reads the input's dims, never its data (which may be NULL). */
static onyx_status shape_run_ref(onyxi_exec *x) {
    const onyx_tensor *in = x->in[0];
    int start, end;
    shape_slice(x->node, in->rank, &start, &end);
    int64_t *y = x->out[0]->data;
    if (x->out[0]->nbytes < (size_t)(end - start) * sizeof(int64_t))
        return onyxi_fail(x->err, ONYX_INTERNAL, "the output is too small for %d dims",
                          end - start);
    for (int i = start; i < end; i++)
        y[i - start] = in->dims[i];
    return ONYX_OK;
}

static onyx_status size_run_ref(onyxi_exec *x) {
    const onyx_tensor *in = x->in[0];
    int64_t count = onyxi_shape_count(in->rank, in->dims);
    if (count < 0 || x->out[0]->nbytes < sizeof(int64_t))
        return onyxi_fail(x->err, ONYX_INTERNAL, "input 0's size is unknown");
    memcpy(x->out[0]->data, &count, sizeof count);
    return ONYX_OK;
}

static const onyxi_impl copy_ref = {"ref", NULL, copy_run_ref, NULL};
static const onyxi_impl dropout_ref = {"ref", NULL, dropout_run_ref, NULL};
static const onyxi_impl shape_ref = {"ref", NULL, shape_run_ref, NULL};
static const onyxi_impl size_ref = {"ref", NULL, size_run_ref, NULL};

const onyxi_impl *const onyxi_reshape_impls[] = {&copy_ref, NULL};
const onyxi_impl *const onyxi_flatten_impls[] = {&copy_ref, NULL};
const onyxi_impl *const onyxi_squeeze_impls[] = {&copy_ref, NULL};
const onyxi_impl *const onyxi_unsqueeze_impls[] = {&copy_ref, NULL};
const onyxi_impl *const onyxi_identity_impls[] = {&copy_ref, NULL};
const onyxi_impl *const onyxi_dropout_impls[] = {&dropout_ref, NULL};
const onyxi_impl *const onyxi_shape_impls[] = {&shape_ref, NULL};
const onyxi_impl *const onyxi_size_impls[] = {&size_ref, NULL};
