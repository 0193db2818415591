/*
 * TensorProto <-> onyx_tensor: initializers, TENSOR attributes and the backend-test .pb
 * files, plus TypeProto declarations of graph inputs/outputs. Data always ends up as one
 * dense little-endian onyxi_malloc block whose size was checked against the dims first
 * (raw_data, typed fields or external data), so a hostile file never makes us allocate
 * more than the bytes it actually carries.
 */
#define _XOPEN_SOURCE 700 /* pread */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../runtime/alloc.h"
#include "loader.h"
#include "pb.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "onyx assumes a little-endian host (ONNX raw_data is little-endian)"
#endif

/* The typed repeated field a dtype uses and how many of its entries one element takes. */
typedef enum {
    FIELD_NONE,
    FIELD_FLOAT,
    FIELD_INT32,
    FIELD_INT64,
    FIELD_DOUBLE,
    FIELD_UINT64
} field;

static field typed_field(onyx_dtype dt, size_t *per_elem) {
    *per_elem = 1;
    switch (dt) {
    case ONYX_DTYPE_FLOAT32:
        return FIELD_FLOAT;
    case ONYX_DTYPE_COMPLEX64:
        *per_elem = 2;
        return FIELD_FLOAT;
    case ONYX_DTYPE_INT32:
    case ONYX_DTYPE_INT16:
    case ONYX_DTYPE_INT8:
    case ONYX_DTYPE_UINT16:
    case ONYX_DTYPE_UINT8:
    case ONYX_DTYPE_BOOL:
    case ONYX_DTYPE_FLOAT16:
    case ONYX_DTYPE_BFLOAT16:
        return FIELD_INT32;
    case ONYX_DTYPE_INT64:
        return FIELD_INT64;
    case ONYX_DTYPE_FLOAT64:
        return FIELD_DOUBLE;
    case ONYX_DTYPE_COMPLEX128:
        *per_elem = 2;
        return FIELD_DOUBLE;
    case ONYX_DTYPE_UINT32:
    case ONYX_DTYPE_UINT64:
        return FIELD_UINT64;
    default:
        return FIELD_NONE;
    }
}

static const char *field_name(field f) {
    static const char *names[] = {"none",       "float_data",  "int32_data",
                                  "int64_data", "double_data", "uint64_data"};
    return names[f];
}

/* Number of entries in tp's typed field f. */
static size_t field_count(const Onnx__TensorProto *tp, field f) {
    switch (f) {
    case FIELD_FLOAT:
        return tp->n_float_data;
    case FIELD_INT32:
        return tp->n_int32_data;
    case FIELD_INT64:
        return tp->n_int64_data;
    case FIELD_DOUBLE:
        return tp->n_double_data;
    case FIELD_UINT64:
        return tp->n_uint64_data;
    default:
        return 0;
    }
}

/* Dense copy of the typed field: narrow types are stored widened in int32_data /
 * uint64_data and are cut back to their element size here (ONNX stores FLOAT16/BFLOAT16
 * bit patterns in the low 16 bits of int32_data). */
static void convert_typed(const Onnx__TensorProto *tp, onyx_dtype dt, size_t count, void *dst) {
    size_t esize = onyxi_dtype_size(dt);
    unsigned char *out = dst;
    if (count == 0) return; /* the field's pointer may be NULL */
    /* count is the number of stored values: complex types keep two per element, so the
     * copy size comes from the field's value type, not from the element size */
    switch (typed_field(dt, &(size_t){0})) {
    case FIELD_FLOAT:
        memcpy(dst, tp->float_data, count * sizeof(float));
        break;
    case FIELD_INT64:
        memcpy(dst, tp->int64_data, count * sizeof(int64_t));
        break;
    case FIELD_DOUBLE:
        memcpy(dst, tp->double_data, count * sizeof(double));
        break;
    case FIELD_INT32:
        for (size_t i = 0; i < count; i++) {
            int32_t v = tp->int32_data[i];
            if (esize == 4) {
                memcpy(out + 4 * i, &v, 4);
            } else if (esize == 2) {
                uint16_t h = (uint16_t)(uint32_t)v;
                memcpy(out + 2 * i, &h, 2);
            } else {
                out[i] = dt == ONYX_DTYPE_BOOL ? (v != 0) : (unsigned char)(uint32_t)v;
            }
        }
        break;
    case FIELD_UINT64:
        for (size_t i = 0; i < count; i++) {
            if (esize == 8) {
                memcpy(out + 8 * i, &tp->uint64_data[i], 8);
            } else {
                uint32_t w = (uint32_t)tp->uint64_data[i];
                memcpy(out + 4 * i, &w, 4);
            }
        }
        break;
    default:
        break;
    }
}

/* A block for nbytes of tensor data; a zero-size tensor gets a small dummy block. */
static void *alloc_data(size_t nbytes) {
    return onyxi_malloc(nbytes ? nbytes : 1);
}

/* Reads n stripped payload bytes at offset into dst: from the file when there is one (so
 * its pages are never mapped into the process), else from the bytes in memory. */
static onyx_status read_payload(const onyxi_pb_src *src, uint64_t offset, void *dst, size_t n,
                                const char *what, onyxi_err *e) {
    if (src->fd < 0) {
        if (n) memcpy(dst, src->bytes + offset, n);
        return ONYX_OK;
    }
    unsigned char *p = dst;
    while (n > 0) {
        size_t chunk = n > (size_t)1 << 30 ? (size_t)1 << 30 : n;
        ssize_t got = pread(src->fd, p, chunk, (off_t)offset);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            return onyxi_fail(e, ONYX_IO, "%s: cannot read raw_data from the model file: %s", what,
                              got < 0 ? strerror(errno) : "unexpected end of file");
        p += got;
        n -= (size_t)got;
        offset += (uint64_t)got;
    }
    return ONYX_OK;
}

onyx_status onyxi_pb_tensor_to_ir(const Onnx__TensorProto *tp, const char *model_dir,
                                  const char *what, onyx_tensor *t, onyxi_err *e) {
    onyxi_pb_src src = {model_dir, NULL, -1, -1, NULL};
    return onyxi_pb_tensor_read(tp, &src, NULL, what, t, NULL, e);
}

onyx_status onyxi_pb_tensor_read(const Onnx__TensorProto *tp, const onyxi_pb_src *src,
                                 const onyxi_pb_raw *raw, const char *what, onyx_tensor *t,
                                 onyxi_src_loc *loc, onyxi_err *e) {
    const char *model_dir = src->model_dir;
    if (loc) loc->file = -1;
    t->data = NULL;
    t->nbytes = 0;
    t->owns_data = 0;
    int dt = tp->has_data_type ? tp->data_type : 0;
    if (dt == ONYX_DTYPE_STRING)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "%s: string tensors are not supported", what);
    if (!onyxi_dtype_known(dt))
        return onyxi_fail(e, ONYX_INVALID_MODEL, "%s: unknown data_type %d", what, dt);
    if (tp->n_dims > ONYXI_MAX_RANK)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "%s: rank %zu is more than the supported %d", what,
                          tp->n_dims, ONYXI_MAX_RANK);
    t->dtype = (onyx_dtype)dt;
    t->rank = (int)tp->n_dims;
    for (int i = 0; i < t->rank; i++) {
        if (tp->dims[i] < 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "%s: dimension %d is %lld, must be >= 0", what,
                              i, (long long)tp->dims[i]);
        t->dims[i] = tp->dims[i];
    }
    size_t nbytes;
    if (onyxi_shape_nbytes(t->dtype, t->rank, t->dims, &nbytes, e) != ONYX_OK) {
        onyxi_err_prefix(e, "%s: ", what);
        return e->code;
    }
    size_t count = nbytes / onyxi_dtype_size(t->dtype);
    if (tp->segment)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "%s: segmented tensors are not supported", what);

    size_t per_elem;
    field f = typed_field(t->dtype, &per_elem);
    size_t typed_total = tp->n_float_data + tp->n_int32_data + tp->n_int64_data +
                         tp->n_double_data + tp->n_uint64_data + tp->n_string_data;
    int external =
        tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    int stripped = raw && raw->present;
    if (external) {
        ONYXI_CHECK(onyxi_pb_external_read_src(tp, model_dir, what, nbytes, &t->data, src->sources,
                                               loc, e));
    } else if (tp->has_raw_data || stripped) {
        size_t have = stripped ? raw->len : tp->raw_data.len;
        if (typed_total)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "%s: has both raw_data and typed data fields",
                              what);
        if (have != nbytes)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "%s: raw_data has %zu bytes, expected %zu (%zu elements of %s)", what,
                              have, nbytes, count, onyx_dtype_name(t->dtype));
        t->data = alloc_data(nbytes);
        if (!t->data) return onyxi_fail(e, ONYX_NOMEM, "%s: out of memory for data", what);
        if (stripped) {
            onyx_status rc = read_payload(src, raw->offset, t->data, nbytes, what, e);
            if (rc != ONYX_OK) {
                onyxi_free(t->data);
                t->data = NULL;
                return rc;
            }
            if (loc && src->file >= 0) *loc = (onyxi_src_loc){src->file, raw->offset, t->data};
        } else if (nbytes) {
            memcpy(t->data, tp->raw_data.data, nbytes);
        }
    } else {
        size_t have = field_count(tp, f);
        if (have != typed_total)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "%s: %s tensor has data in fields other than %s", what,
                              onyx_dtype_name(t->dtype), field_name(f));
        /* count * per_elem cannot overflow: nbytes = count * size did not, size >= per_elem */
        if (have != count * per_elem)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "%s: %s has %zu values, expected %zu", what,
                              field_name(f), have, count * per_elem);
        t->data = alloc_data(nbytes);
        if (!t->data) return onyxi_fail(e, ONYX_NOMEM, "%s: out of memory for data", what);
        convert_typed(tp, t->dtype, count * per_elem, t->data);
    }
    t->nbytes = nbytes;
    t->owns_data = 1;
    return ONYX_OK;
}

onyx_status onyxi_pb_type_to_ir(const Onnx__TypeProto *tp, const char *what, onyx_tensor *t,
                                char **dim_params, onyxi_err *e) {
    t->dtype = ONYX_DTYPE_UNDEFINED;
    t->rank = -1;
    if (!tp) return ONYX_OK; /* allowed by ONNX: the type is then inferred */
    if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
        const char *kind = tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE   ? "sequence"
                           : tp->value_case == ONNX__TYPE_PROTO__VALUE_MAP_TYPE      ? "map"
                           : tp->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE ? "optional"
                           : tp->value_case == ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE
                               ? "sparse tensor"
                               : "missing";
        if (tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET)
            return ONYX_OK; /* an empty TypeProto says nothing: treat as undeclared */
        return onyxi_fail(e, ONYX_UNSUPPORTED, "%s: %s types are not supported (only tensors)",
                          what, kind);
    }
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    int dt = tt->has_elem_type ? tt->elem_type : 0;
    if (dt == ONYX_DTYPE_STRING)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "%s: string tensors are not supported", what);
    if (dt != 0 && !onyxi_dtype_known(dt))
        return onyxi_fail(e, ONYX_INVALID_MODEL, "%s: unknown elem_type %d", what, dt);
    t->dtype = (onyx_dtype)dt;
    if (!tt->shape) return ONYX_OK; /* unknown rank */
    if (tt->shape->n_dim > ONYXI_MAX_RANK)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "%s: rank %zu is more than the supported %d", what,
                          tt->shape->n_dim, ONYXI_MAX_RANK);
    t->rank = (int)tt->shape->n_dim;
    for (int i = 0; i < t->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        t->dims[i] = -1;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value < 0)
                return onyxi_fail(e, ONYX_INVALID_MODEL, "%s: dimension %d is %lld, must be >= 0",
                                  what, i, (long long)d->dim_value);
            t->dims[i] = d->dim_value;
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                   d->dim_param && d->dim_param[0]) {
            dim_params[i] = onyxi_strdup(d->dim_param);
            if (!dim_params[i]) return onyxi_fail(e, ONYX_NOMEM, "%s: out of memory", what);
        }
    }
    return ONYX_OK;
}

onyx_status onyxi_onnx_read_tensor(const void *bytes, size_t nbytes, onyx_tensor **out,
                                   onyxi_err *e) {
    if (!out) return onyxi_fail(e, ONYX_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!bytes && nbytes) return onyxi_fail(e, ONYX_INVALID_ARG, "bytes is NULL");
    onyxi_pb_allocator pa;
    onyxi_pb_allocator_init(&pa);
    Onnx__TensorProto *tp =
        onnx__tensor_proto__unpack(&pa.base, nbytes, nbytes ? bytes : (const uint8_t *)"");
    if (!tp) {
        if (pa.failed) return onyxi_fail(e, ONYX_NOMEM, "out of memory parsing a TensorProto");
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "not a valid ONNX TensorProto (protobuf parse failed)");
    }
    onyx_status rc = ONYX_NOMEM;
    onyx_tensor *t = onyxi_calloc(1, sizeof *t);
    char *name = onyxi_strdup(tp->name ? tp->name : "");
    if (!t || !name) {
        onyxi_fail(e, ONYX_NOMEM, "out of memory reading a TensorProto");
        goto fail;
    }
    char what[160];
    snprintf(what, sizeof what, "tensor '%.100s'", name);
    rc = onyxi_pb_tensor_to_ir(tp, NULL, what, t, e);
    if (rc != ONYX_OK) goto fail;
    t->name = name;
    t->owns_name = 1;
    onnx__tensor_proto__free_unpacked(tp, &pa.base);
    *out = t;
    return ONYX_OK;
fail:
    onyxi_free(name);
    onyxi_free(t);
    onnx__tensor_proto__free_unpacked(tp, &pa.base);
    return rc;
}

onyx_status onyxi_onnx_write_tensor(const onyx_tensor *t, void **bytes, size_t *nbytes,
                                    onyxi_err *e) {
    if (!bytes || !nbytes) return onyxi_fail(e, ONYX_INVALID_ARG, "bytes or nbytes is NULL");
    *bytes = NULL;
    *nbytes = 0;
    if (!t) return onyxi_fail(e, ONYX_INVALID_ARG, "tensor is NULL");
    if (!onyxi_dtype_known(t->dtype) || onyxi_dtype_size(t->dtype) == 0)
        return onyxi_fail(e, ONYX_INVALID_ARG, "tensor has dtype %s, which cannot be written",
                          onyx_dtype_name(t->dtype));
    if (t->rank < 0 || t->rank > ONYXI_MAX_RANK)
        return onyxi_fail(e, ONYX_INVALID_ARG, "tensor has rank %d, expected 0..%d", t->rank,
                          ONYXI_MAX_RANK);
    size_t want;
    if (onyxi_shape_nbytes(t->dtype, t->rank, t->dims, &want, e) != ONYX_OK)
        return onyxi_fail(e, ONYX_INVALID_ARG, "tensor has an unknown or too large shape");
    const void *data = onyx_tensor_data(t); /* a released weight is read back */
    if (!data) return onyxi_fail(e, ONYX_INVALID_ARG, "tensor has no data");
    if (t->nbytes != want)
        return onyxi_fail(e, ONYX_INVALID_ARG, "tensor has %zu bytes of data, its shape needs %zu",
                          t->nbytes, want);

    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[ONYXI_MAX_RANK];
    memcpy(dims, t->dims, sizeof dims);
    tp.n_dims = (size_t)t->rank;
    tp.dims = dims;
    tp.has_data_type = 1;
    tp.data_type = (int32_t)t->dtype;
    tp.name = (char *)(t->name ? t->name : "");
    tp.has_raw_data = 1;
    tp.raw_data.len = want;
    tp.raw_data.data = (uint8_t *)data;
    size_t size = onnx__tensor_proto__get_packed_size(&tp);
    void *buf = onyxi_malloc(size);
    if (!buf) return onyxi_fail(e, ONYX_NOMEM, "out of memory serializing a TensorProto");
    if (onnx__tensor_proto__pack(&tp, buf) != size) {
        onyxi_free(buf);
        return onyxi_fail(e, ONYX_INTERNAL, "protobuf-c packed a different size than announced");
    }
    *bytes = buf;
    *nbytes = size;
    return ONYX_OK;
}
