/*
 * AttributeProto -> onyxi_attr. Every attribute type is converted except the ones onyx has
 * no use for (GRAPH(S), TENSORS, SPARSE_TENSOR(S), TYPE_PROTO(S)), which keep only their name
 * and type so the op's check can reject them by name. An attribute whose type field is
 * missing or 0 (IR version 1 models) gets the type of the one value field that is set, as
 * ONNX itself does; with no value field, or several, it is ONYX_INVALID_MODEL.
 */
#include <stdio.h>
#include <string.h>

#include "../runtime/alloc.h"
#include "pb.h"

/* The type implied by the value fields present; 0 when none or several are set. */
static onyxi_attr_type infer_type(const Onnx__AttributeProto *ap) {
    onyxi_attr_type t = ONYXI_ATTR_UNDEFINED;
    int n = 0;
#define SEEN(cond, type)                                                                           \
    if (cond) {                                                                                    \
        t = type;                                                                                  \
        n++;                                                                                       \
    }
    SEEN(ap->has_f, ONYXI_ATTR_FLOAT);
    SEEN(ap->has_i, ONYXI_ATTR_INT);
    SEEN(ap->has_s, ONYXI_ATTR_STRING);
    SEEN(ap->t, ONYXI_ATTR_TENSOR);
    SEEN(ap->g, ONYXI_ATTR_GRAPH);
    SEEN(ap->sparse_tensor, ONYXI_ATTR_SPARSE_TENSOR);
    SEEN(ap->tp, ONYXI_ATTR_TYPE_PROTO);
    SEEN(ap->n_floats, ONYXI_ATTR_FLOATS);
    SEEN(ap->n_ints, ONYXI_ATTR_INTS);
    SEEN(ap->n_strings, ONYXI_ATTR_STRINGS);
    SEEN(ap->n_tensors, ONYXI_ATTR_TENSORS);
    SEEN(ap->n_graphs, ONYXI_ATTR_GRAPHS);
    SEEN(ap->n_sparse_tensors, ONYXI_ATTR_SPARSE_TENSORS);
    SEEN(ap->n_type_protos, ONYXI_ATTR_TYPE_PROTOS);
#undef SEEN
    return n == 1 ? t : ONYXI_ATTR_UNDEFINED;
}

/* Copies n elements of size bytes into a new block (*dst stays NULL when n is 0). */
static int dup_array(void **dst, const void *src, size_t n, size_t size) {
    *dst = NULL;
    if (n == 0) return 1;
    *dst = onyxi_malloc(n * size); /* n elements already sit in memory: no overflow */
    if (!*dst) return 0;
    memcpy(*dst, src, n * size);
    return 1;
}

static onyx_status nomem(const char *name, onyxi_err *e) {
    return onyxi_fail(e, ONYX_NOMEM, "attribute '%.100s': out of memory", name);
}

onyx_status onyxi_pb_attr_to_ir(const Onnx__AttributeProto *ap, const char *model_dir,
                                onyxi_attr *a, onyxi_err *e) {
    memset(a, 0, sizeof *a);
    if (!ap->name || !ap->name[0])
        return onyxi_fail(e, ONYX_INVALID_MODEL, "an attribute has no name");
    a->name = onyxi_strdup(ap->name);
    if (!a->name) return nomem(ap->name, e);
    if (ap->ref_attr_name && ap->ref_attr_name[0])
        return onyxi_fail(e, ONYX_UNSUPPORTED,
                          "attribute '%.100s' refers to function attribute '%.100s' "
                          "(function bodies are not supported)",
                          ap->name, ap->ref_attr_name);
    int type = ap->has_type ? (int)ap->type : 0;
    if (type == 0) {
        type = infer_type(ap);
        if (type == 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "attribute '%.100s' has no type and not exactly one value field",
                              ap->name);
    }
    if (type < ONYXI_ATTR_FLOAT || type > ONYXI_ATTR_TYPE_PROTOS)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute '%.100s' has unknown type %d", ap->name,
                          type);
    a->type = (onyxi_attr_type)type;

    size_t n = 0;
    switch (a->type) {
    case ONYXI_ATTR_FLOAT:
        a->f = ap->f;
        break;
    case ONYXI_ATTR_INT:
        a->i = ap->i;
        break;
    case ONYXI_ATTR_STRING:
        a->s_len = ap->has_s ? ap->s.len : 0;
        a->s = onyxi_strndup(ap->has_s && ap->s.data ? (const char *)ap->s.data : "", a->s_len);
        if (!a->s) return nomem(ap->name, e);
        break;
    case ONYXI_ATTR_TENSOR: {
        if (!ap->t)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "attribute '%.100s' of type TENSOR has no tensor", ap->name);
        onyx_tensor *t = onyxi_calloc(1, sizeof *t);
        if (!t) return nomem(ap->name, e);
        t->name = onyxi_strdup(ap->t->name ? ap->t->name : "");
        t->owns_name = 1;
        a->t = t; /* owned by a from here on, freed with it also on failure */
        if (!t->name) return nomem(ap->name, e);
        char what[160];
        snprintf(what, sizeof what, "tensor of attribute '%.100s'", ap->name);
        ONYXI_CHECK(onyxi_pb_tensor_to_ir(ap->t, model_dir, what, t, e));
        break;
    }
    case ONYXI_ATTR_FLOATS:
        n = ap->n_floats;
        if (n > INT32_MAX) break;
        if (!dup_array((void **)&a->floats, ap->floats, n, sizeof(float)))
            return nomem(ap->name, e);
        a->count = (int)n;
        break;
    case ONYXI_ATTR_INTS:
        n = ap->n_ints;
        if (n > INT32_MAX) break;
        if (!dup_array((void **)&a->ints, ap->ints, n, sizeof(int64_t))) return nomem(ap->name, e);
        a->count = (int)n;
        break;
    case ONYXI_ATTR_STRINGS:
        n = ap->n_strings;
        if (n == 0 || n > INT32_MAX) break;
        a->strings = onyxi_calloc(n, sizeof(char *));
        if (!a->strings) return nomem(ap->name, e);
        for (size_t k = 0; k < n; k++) {
            a->strings[k] = onyxi_strndup(
                ap->strings[k].data ? (const char *)ap->strings[k].data : "", ap->strings[k].len);
            if (!a->strings[k]) return nomem(ap->name, e);
            a->count = (int)k + 1; /* so a partial list is freed correctly */
        }
        break;
    default:
        break; /* graphs, tensor lists, sparse tensors, type protos: name and type only */
    }
    if (n > INT32_MAX)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "attribute '%.100s' has %zu values, too many",
                          ap->name, n);
    return ONYX_OK;
}
