/*
 * Helpers shared by every op: attribute lookup with defaults, the generic node check
 * (arity and attribute types against the op's table) and shape-inference utilities.
 */
#include <math.h>
#include <string.h>

#include "conv.h"
#include "norm.h"
#include "op.h"

const onyxi_attr *onyxi_attr_find(const onyxi_node *n, const char *name) {
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

int64_t onyxi_attr_int(const onyxi_node *n, const char *name, int64_t def) {
    const onyxi_attr *a = onyxi_attr_find(n, name);
    return a && a->type == ONYXI_ATTR_INT ? a->i : def;
}

float onyxi_attr_float(const onyxi_node *n, const char *name, float def) {
    const onyxi_attr *a = onyxi_attr_find(n, name);
    return a && a->type == ONYXI_ATTR_FLOAT ? a->f : def;
}

const char *onyxi_attr_string(const onyxi_node *n, const char *name, const char *def) {
    const onyxi_attr *a = onyxi_attr_find(n, name);
    return a && a->type == ONYXI_ATTR_STRING ? a->s : def;
}

int onyxi_attr_ints(const onyxi_node *n, const char *name, const int64_t **out) {
    const onyxi_attr *a = onyxi_attr_find(n, name);
    if (!a || a->type != ONYXI_ATTR_INTS) return -1;
    *out = a->ints;
    return a->count;
}

int onyxi_attr_floats(const onyxi_node *n, const char *name, const float **out) {
    const onyxi_attr *a = onyxi_attr_find(n, name);
    if (!a || a->type != ONYXI_ATTR_FLOATS) return -1;
    *out = a->floats;
    return a->count;
}

static const char *attr_type_name(onyxi_attr_type t) {
    static const char *names[] = {"undefined", "float",   "int",           "string",
                                  "tensor",    "graph",   "floats",        "ints",
                                  "strings",   "tensors", "graphs",        "sparse_tensor",
                                  "sparse_tensors", "type_proto", "type_protos"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

onyx_status onyxi_op_check_node(const onyxi_op *op, const onyxi_node *n, onyxi_err *e) {
    if (n->n_inputs < op->min_inputs || n->n_inputs > op->max_inputs) {
        if (op->min_inputs == op->max_inputs)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "has %d inputs, expected %d", n->n_inputs,
                              op->min_inputs);
        return onyxi_fail(e, ONYX_INVALID_MODEL, "has %d inputs, expected %d to %d",
                          n->n_inputs, op->min_inputs, op->max_inputs);
    }
    for (int k = 0; k < op->min_inputs; k++)
        if (n->inputs[k] < 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "required input %d is empty", k);
    if (n->n_outputs < op->min_outputs || n->n_outputs > op->max_outputs)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "has %d outputs, expected %d to %d",
                          n->n_outputs, op->min_outputs, op->max_outputs);
    for (int k = 0; k < op->min_outputs; k++)
        if (n->outputs[k] < 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "required output %d is empty", k);
    for (int i = 0; i < n->n_attrs; i++) {
        const onyxi_attr *a = &n->attrs[i];
        const onyxi_attr_spec *s = op->attrs;
        while (s && s->name && strcmp(s->name, a->name) != 0) s++;
        if (!s || !s->name)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "unknown attribute '%s'", a->name);
        if (s->type != a->type)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute '%s' has type %s, expected %s",
                              a->name, attr_type_name(a->type), attr_type_name(s->type));
        for (int j = 0; j < i; j++)
            if (strcmp(n->attrs[j].name, a->name) == 0)
                return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute '%s' appears twice",
                                  a->name);
    }
    return op->check ? op->check(n, e) : ONYX_OK;
}

const void *onyxi_infer_data(onyxi_infer *c, int k) {
    if (k < 0 || k >= c->n_in || !c->in[k]) return NULL;
    if (!c->in[k]->data) {
        c->data_missing |= 1u << k;
        return NULL;
    }
    c->data_read |= 1u << k;
    return c->in[k]->data;
}

onyx_status onyxi_infer_needs_data(onyxi_infer *c, int k) {
    c->data_missing |= 1u << k;
    return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                      "the output shape depends on the data of input %d ('%s'), which is only "
                      "known at run time",
                      k, k < c->n_in && c->in[k] && c->in[k]->name ? c->in[k]->name : "");
}

onyx_status onyxi_infer_expect_dtype(onyxi_infer *c, int k, onyx_dtype dt) {
    if (k >= c->n_in || !c->in[k]) return ONYX_OK;
    if (c->in[k]->dtype != dt)
        return onyxi_fail(c->err, ONYX_TYPE_MISMATCH, "input %d ('%s') has dtype %s, expected %s",
                          k, c->in[k]->name ? c->in[k]->name : "", onyx_dtype_name(c->in[k]->dtype),
                          onyx_dtype_name(dt));
    return ONYX_OK;
}

onyx_status onyxi_infer_expect_known(onyxi_infer *c, int k) {
    const onyx_tensor *t = k < c->n_in ? c->in[k] : NULL;
    if (!t) return ONYX_OK;
    int ok = t->rank >= 0;
    for (int i = 0; ok && i < t->rank; i++) ok = t->dims[i] >= 0;
    if (!ok)
        return onyxi_fail(c->err, ONYX_SHAPE_MISMATCH, "input %d ('%s') has an unknown shape", k,
                          t->name ? t->name : "");
    return ONYX_OK;
}

void onyxi_infer_set(onyxi_infer *c, int k, onyx_dtype dt, int rank, const int64_t *dims) {
    if (k >= c->n_out || !c->out[k]) return;
    onyx_tensor *t = c->out[k];
    t->dtype = dt;
    t->rank = rank;
    for (int i = 0; i < rank && i < ONYXI_MAX_RANK; i++) t->dims[i] = dims[i];
}

onyx_status onyxi_norm_axis(int64_t axis, int rank, int *out, onyxi_err *e) {
    if (axis < -(int64_t)rank || axis >= rank)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "axis %lld is out of range for rank %d",
                          (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return ONYX_OK;
}

int64_t onyxi_read_int(const onyx_tensor *t, int64_t i) {
    const void *p = t->data;
    switch (t->dtype) {
    case ONYX_DTYPE_INT64: return ((const int64_t *)p)[i];
    case ONYX_DTYPE_INT32: return ((const int32_t *)p)[i];
    case ONYX_DTYPE_INT16: return ((const int16_t *)p)[i];
    case ONYX_DTYPE_INT8: return ((const int8_t *)p)[i];
    case ONYX_DTYPE_UINT8: return ((const uint8_t *)p)[i];
    case ONYX_DTYPE_UINT16: return ((const uint16_t *)p)[i];
    case ONYX_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    case ONYX_DTYPE_UINT64: return (int64_t)((const uint64_t *)p)[i];
    case ONYX_DTYPE_BOOL: return ((const uint8_t *)p)[i] != 0;
    case ONYX_DTYPE_FLOAT32: {
        float f = ((const float *)p)[i];
        return f > -9.2e18f && f < 9.2e18f ? (int64_t)f : (f > 0 ? INT64_MAX : INT64_MIN);
    }
    case ONYX_DTYPE_FLOAT64: {
        double d = ((const double *)p)[i];
        return d > -9.2e18 && d < 9.2e18 ? (int64_t)d : (d > 0 ? INT64_MAX : INT64_MIN);
    }
    default: return 0;
    }
}

double onyxi_read_double(const onyx_tensor *t, int64_t i) {
    switch (t->dtype) {
    case ONYX_DTYPE_FLOAT32: return ((const float *)t->data)[i];
    case ONYX_DTYPE_FLOAT64: return ((const double *)t->data)[i];
    default: return (double)onyxi_read_int(t, i);
    }
}

/* Own kernels that read and write oneDNN layouts themselves (not named "dnnl"). */
static const onyxi_impl *const takes_blocked[] = {&onyxi_conv_dw, &onyxi_conv_winograd,
                                                   &onyxi_batch_norm_own, NULL};

int onyxi_impl_takes_blocked(const onyxi_impl *impl) {
    for (int i = 0; takes_blocked[i]; i++)
        if (takes_blocked[i] == impl) return 1;
    return strcmp(impl->name, "dnnl") == 0;
}
