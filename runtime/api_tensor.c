/*
 * Public owned-tensor functions: onyx_tensor_create, the TensorProto (.pb) readers and
 * writer, and onyx_tensor_free. Tensors made here always own both their name and their
 * data (owns_name = owns_data = 1); views handed out by models and sessions never own
 * their name, which is how onyx_tensor_free tells the two apart and leaves views alone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../onnx/loader.h"
#include "alloc.h"
#include "ir.h"

/* Largest .pb file read: protobuf messages cannot exceed 2 GiB anyway. */
#define MAX_PB_BYTES ((size_t)2 << 30)

/* Copies e's message into the caller's errbuf (when given) and returns its code. */
static onyx_status report(const onyxi_err *e, char *errbuf, size_t errlen) {
    if (errbuf && errlen > 0) snprintf(errbuf, errlen, "%s", e->msg);
    return e->code;
}

static onyx_status fail(char *errbuf, size_t errlen, onyx_status code, const char *fmt, ...)
    ONYXI_PRINTF(4, 5);

static onyx_status fail(char *errbuf, size_t errlen, onyx_status code, const char *fmt, ...) {
    if (errbuf && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

onyx_status onyx_tensor_create(const char *name, onyx_dtype dt, const int64_t *dims, int rank,
                               const void *data, onyx_tensor **out) {
    if (!out) return ONYX_INVALID_ARG;
    *out = NULL;
    if (!onyxi_dtype_known(dt) || onyxi_dtype_size(dt) == 0) return ONYX_INVALID_ARG;
    if (rank < 0 || rank > ONYXI_MAX_RANK || (rank > 0 && !dims)) return ONYX_INVALID_ARG;
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0) return ONYX_INVALID_ARG;
    size_t nbytes;
    onyxi_err e;
    if (onyxi_shape_nbytes(dt, rank, dims, &nbytes, &e) != ONYX_OK) return ONYX_INVALID_ARG;
    onyx_tensor *t = onyxi_calloc(1, sizeof *t);
    char *nm = onyxi_strdup(name ? name : "");
    /* a zero-element tensor still gets a (dummy) block: data != NULL means "has data" */
    void *buf = onyxi_malloc(nbytes ? nbytes : 1);
    if (!t || !nm || !buf) {
        onyxi_free(t);
        onyxi_free(nm);
        onyxi_free(buf);
        return ONYX_NOMEM;
    }
    if (data && nbytes)
        memcpy(buf, data, nbytes);
    else
        memset(buf, 0, nbytes ? nbytes : 1);
    t->name = nm;
    t->dtype = dt;
    t->rank = rank;
    for (int i = 0; i < ONYXI_MAX_RANK; i++)
        t->dims[i] = i < rank ? dims[i] : 0;
    t->data = buf;
    t->nbytes = nbytes;
    t->owns_data = 1;
    t->owns_name = 1;
    *out = t;
    return ONYX_OK;
}

onyx_status onyx_tensor_load_pb_memory(const void *data, size_t nbytes, onyx_tensor **out,
                                       char *errbuf, size_t errlen) {
    if (!out) return fail(errbuf, errlen, ONYX_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!data && nbytes) return fail(errbuf, errlen, ONYX_INVALID_ARG, "data is NULL");
    onyxi_err e;
    onyxi_err_clear(&e);
    if (onyxi_onnx_read_tensor(data, nbytes, out, &e) != ONYX_OK) return report(&e, errbuf, errlen);
    if (errbuf && errlen > 0) errbuf[0] = '\0';
    return ONYX_OK;
}

onyx_status onyx_tensor_load_pb(const char *path, onyx_tensor **out, char *errbuf, size_t errlen) {
    if (!out) return fail(errbuf, errlen, ONYX_INVALID_ARG, "out is NULL");
    *out = NULL;
    if (!path) return fail(errbuf, errlen, ONYX_INVALID_ARG, "path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return fail(errbuf, errlen, ONYX_IO, "cannot open '%s'", path);
    onyx_status rc = ONYX_OK;
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    /* read in growing chunks: works for pipes too and never trusts a reported size */
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (cap >= MAX_PB_BYTES) {
                rc = fail(errbuf, errlen, ONYX_INVALID_MODEL, "'%s' is larger than %zu bytes", path,
                          MAX_PB_BYTES);
                break;
            }
            unsigned char *nb = onyxi_realloc(buf, ncap);
            if (!nb) {
                rc = fail(errbuf, errlen, ONYX_NOMEM, "out of memory reading '%s'", path);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) rc = fail(errbuf, errlen, ONYX_IO, "cannot read '%s'", path);
            break;
        }
    }
    fclose(f);
    if (rc == ONYX_OK) rc = onyx_tensor_load_pb_memory(buf, len, out, errbuf, errlen);
    onyxi_free(buf);
    return rc;
}

onyx_status onyx_tensor_save_pb(const onyx_tensor *t, const char *path, char *errbuf,
                                size_t errlen) {
    if (!t || !path) return fail(errbuf, errlen, ONYX_INVALID_ARG, "tensor or path is NULL");
    onyxi_err e;
    onyxi_err_clear(&e);
    void *bytes = NULL;
    size_t n = 0;
    if (onyxi_onnx_write_tensor(t, &bytes, &n, &e) != ONYX_OK) return report(&e, errbuf, errlen);
    onyx_status rc = ONYX_OK;
    FILE *f = fopen(path, "wb");
    if (!f) {
        rc = fail(errbuf, errlen, ONYX_IO, "cannot create '%s'", path);
    } else {
        int bad = fwrite(bytes, 1, n, f) != n;
        bad |= fclose(f) != 0;
        if (bad) rc = fail(errbuf, errlen, ONYX_IO, "cannot write '%s'", path);
    }
    onyxi_free(bytes);
    if (rc == ONYX_OK && errbuf && errlen > 0) errbuf[0] = '\0';
    return rc;
}

void onyx_tensor_free(onyx_tensor *t) {
    /* only tensors made by the functions above own both: views are not the caller's */
    if (!t || !t->owns_data || !t->owns_name) return;
    onyxi_tensor_destroy(t);
}
