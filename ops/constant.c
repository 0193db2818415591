/*
 * Constant (opset 1, 9, 11, 12, 13): the output is the single value attribute.
 * opset 1, 9: `value` (a tensor) only. opset 11: adds `sparse_value`. opset 12+: adds
 * value_float (float32 scalar), value_floats (float32 1-D), value_int (int64 scalar),
 * value_ints (int64 1-D), value_string(s). Exactly one must be set.
 * Not supported (ONYX_UNSUPPORTED at load): sparse_value, value_string, value_strings and
 * string tensors. The session folds Constant nodes at plan time by running the ref kernel.
 */
#include <string.h>

#include "ops.h"

const onyxi_attr_spec onyxi_constant_attrs[] = {{"value", ONYXI_ATTR_TENSOR},
                                                {"sparse_value", ONYXI_ATTR_SPARSE_TENSOR},
                                                {"value_float", ONYXI_ATTR_FLOAT},
                                                {"value_floats", ONYXI_ATTR_FLOATS},
                                                {"value_int", ONYXI_ATTR_INT},
                                                {"value_ints", ONYXI_ATTR_INTS},
                                                {"value_string", ONYXI_ATTR_STRING},
                                                {"value_strings", ONYXI_ATTR_STRINGS},
                                                {NULL, 0}};

/* The opset that introduced each attribute of the table above. */
static int attr_since(const char *name) {
    if (strcmp(name, "value") == 0) return 1;
    if (strcmp(name, "sparse_value") == 0) return 11;
    return 12;
}

/* The one value attribute of n (the generic check has already refused unknown names). */
static const onyxi_attr *constant_attr(const onyxi_node *n) {
    return n->n_attrs == 1 ? &n->attrs[0] : NULL;
}

onyx_status onyxi_constant_check(const onyxi_node *n, onyxi_err *e) {
    if (n->n_attrs != 1)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "has %d value attributes, expected exactly one of value, sparse_value "
                          "or value_*",
                          n->n_attrs);
    const onyxi_attr *a = &n->attrs[0];
    if (n->opset < attr_since(a->name))
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute '%s' needs opset %d (model has %lld)",
                          a->name, attr_since(a->name), (long long)n->opset);
    switch (a->type) {
    case ONYXI_ATTR_SPARSE_TENSOR:
    case ONYXI_ATTR_STRING:
    case ONYXI_ATTR_STRINGS:
        return onyxi_fail(e, ONYX_UNSUPPORTED, "attribute '%s' is not supported by onyx", a->name);
    case ONYXI_ATTR_FLOATS:
    case ONYXI_ATTR_INTS:
        if (a->count < 0 ||
            (a->count > 0 && !(a->type == ONYXI_ATTR_FLOATS ? (void *)a->floats : a->ints)))
            return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute '%s' has no data", a->name);
        return ONYX_OK;
    case ONYXI_ATTR_TENSOR:
        break;
    default:
        return ONYX_OK;
    }
    const onyx_tensor *t = a->t;
    if (!t) return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'value' holds no tensor");
    if (t->dtype == ONYX_DTYPE_STRING)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "attribute 'value' is a string tensor");
    if (onyxi_dtype_size(t->dtype) == 0)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'value' has dtype %s",
                          onyx_dtype_name(t->dtype));
    if (t->rank < 0 || t->rank > ONYXI_MAX_RANK)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'value' has rank %d", t->rank);
    size_t nbytes;
    char sh[160];
    if (onyxi_shape_nbytes(t->dtype, t->rank, t->dims, &nbytes, e) != ONYX_OK)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'value' has an invalid shape %s",
                          onyxi_shape_str(t->rank, t->dims, sh, sizeof sh));
    if (nbytes != t->nbytes || (nbytes > 0 && !t->data))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'value' of shape %s and dtype %s holds %zu bytes, expected "
                          "%zu",
                          onyxi_shape_str(t->rank, t->dims, sh, sizeof sh),
                          onyx_dtype_name(t->dtype), t->data ? t->nbytes : (size_t)0, nbytes);
    return ONYX_OK;
}

/* Output dtype, shape and the bytes to copy for value attribute a (already checked). */
static void constant_value(const onyxi_attr *a, onyx_dtype *dt, int *rank, int64_t *dims,
                           const void **data, size_t *nbytes) {
    switch (a->type) {
    case ONYXI_ATTR_TENSOR:
        *dt = a->t->dtype;
        *rank = a->t->rank;
        for (int i = 0; i < a->t->rank; i++)
            dims[i] = a->t->dims[i];
        *data = a->t->data;
        *nbytes = a->t->nbytes;
        break;
    case ONYXI_ATTR_FLOAT:
        *dt = ONYX_DTYPE_FLOAT32;
        *rank = 0;
        *data = &a->f;
        *nbytes = sizeof a->f;
        break;
    case ONYXI_ATTR_INT:
        *dt = ONYX_DTYPE_INT64;
        *rank = 0;
        *data = &a->i;
        *nbytes = sizeof a->i;
        break;
    case ONYXI_ATTR_FLOATS:
        *dt = ONYX_DTYPE_FLOAT32;
        *rank = 1;
        dims[0] = a->count;
        *data = a->floats;
        *nbytes = (size_t)a->count * sizeof(float);
        break;
    default: /* ONYXI_ATTR_INTS */
        *dt = ONYX_DTYPE_INT64;
        *rank = 1;
        dims[0] = a->count;
        *data = a->ints;
        *nbytes = (size_t)a->count * sizeof(int64_t);
        break;
    }
}

onyx_status onyxi_constant_infer(onyxi_infer *c) {
    const onyxi_attr *a = constant_attr(c->node);
    /* check() ran at load; this guards the harnesses that skip it */
    if (!a || (a->type == ONYXI_ATTR_TENSOR && !a->t))
        return onyxi_fail(c->err, ONYX_INVALID_MODEL, "no value attribute");
    onyx_dtype dt;
    int rank;
    int64_t dims[ONYXI_MAX_RANK];
    const void *data;
    size_t nbytes;
    constant_value(a, &dt, &rank, dims, &data, &nbytes);
    onyxi_infer_set(c, 0, dt, rank, dims);
    return ONYX_OK;
}

/* ---- ref ---- */

static onyx_status constant_run_ref(onyxi_exec *x) {
    const onyxi_attr *a = constant_attr(x->node);
    if (!a) return onyxi_fail(x->err, ONYX_INTERNAL, "no value attribute");
    onyx_dtype dt;
    int rank;
    int64_t dims[ONYXI_MAX_RANK];
    const void *data;
    size_t nbytes;
    constant_value(a, &dt, &rank, dims, &data, &nbytes);
    onyx_tensor *y = x->out[0];
    if (y->nbytes != nbytes)
        return onyxi_fail(x->err, ONYX_INTERNAL, "output has %zu bytes, the value %zu", y->nbytes,
                          nbytes);
    if (nbytes) memcpy(y->data, data, nbytes);
    return ONYX_OK;
}

static const onyxi_impl constant_ref = {"ref", NULL, constant_run_ref, NULL};
const onyxi_impl *const onyxi_constant_impls[] = {&constant_ref, NULL};
