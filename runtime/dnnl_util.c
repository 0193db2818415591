/*
 * oneDNN glue (see dnnl_util.h). One CPU engine serves the whole process: engines are
 * thread-safe and creating one per session would only repeat ISA detection.
 */
#include <pthread.h>
#include <string.h>

#include <dnnl_debug.h>

#include "dnnl_util.h"

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t engine;
static dnnl_status_t engine_status;

static void create_engine(void) { engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0); }

onyx_status onyxi_dnnl_engine(dnnl_engine_t *out, onyxi_err *e) {
    pthread_once(&engine_once, create_engine);
    if (engine_status != dnnl_success) return onyxi_dnnl_check(engine_status, "dnnl_engine_create", e);
    *out = engine;
    return ONYX_OK;
}

onyx_status onyxi_dnnl_check(dnnl_status_t st, const char *call, onyxi_err *e) {
    switch (st) {
    case dnnl_success: return ONYX_OK;
    case dnnl_unimplemented:
        return onyxi_fail(e, ONYX_UNSUPPORTED, "oneDNN has no implementation (%s)", call);
    case dnnl_out_of_memory: return onyxi_fail(e, ONYX_NOMEM, "oneDNN ran out of memory (%s)", call);
    default:
        return onyxi_fail(e, ONYX_BACKEND, "oneDNN call %s failed with status %d", call, (int)st);
    }
}

onyx_status onyxi_dnnl_md_dims(dnnl_memory_desc_t *md, int rank, const int64_t *dims,
                               dnnl_format_tag_t tag, onyxi_err *e) {
    if (rank < 1 || rank > DNNL_MAX_NDIMS)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "rank %d is outside oneDNN's 1..%d", rank,
                          DNNL_MAX_NDIMS);
    dnnl_dims_t d = {0};
    for (int i = 0; i < rank; i++) d[i] = dims[i];
    if (tag != dnnl_format_tag_undef) {
        ONYXI_DNNL(dnnl_memory_desc_init_by_tag(md, rank, d, dnnl_f32, tag), e);
        return ONYX_OK;
    }
    dnnl_dims_t strides = {0};
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i] > 0 ? dims[i] : 1;
    }
    ONYXI_DNNL(dnnl_memory_desc_init_by_strides(md, rank, d, dnnl_f32, strides), e);
    return ONYX_OK;
}

onyx_status onyxi_dnnl_md_plain(dnnl_memory_desc_t *md, const onyx_tensor *t, onyxi_err *e) {
    if (t->dtype != ONYX_DTYPE_FLOAT32)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "oneDNN path takes float32, not %s",
                          onyx_dtype_name(t->dtype));
    static const int64_t one = 1;
    return t->rank == 0 ? onyxi_dnnl_md_dims(md, 1, &one, dnnl_format_tag_undef, e)
                        : onyxi_dnnl_md_dims(md, t->rank, t->dims, dnnl_format_tag_undef, e);
}

const char *onyxi_dnnl_impl_str(const_dnnl_primitive_desc_t pd) {
    const char *s = NULL;
    if (!pd || dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s) != dnnl_success || !s)
        return "?";
    return s;
}

int onyxi_dnnl_is_ref(const_dnnl_primitive_desc_t pd) {
    return strncmp(onyxi_dnnl_impl_str(pd), "ref", 3) == 0;
}

const char *onyxi_dnnl_layout_name(const void *layout) {
    const dnnl_memory_desc_t *md = layout;
    for (int t = dnnl_format_tag_any + 1; t < dnnl_format_tag_last; t++) {
        dnnl_memory_desc_t probe;
        if (dnnl_memory_desc_init_by_tag(&probe, md->ndims, md->dims, md->data_type,
                                         (dnnl_format_tag_t)t) != dnnl_success)
            continue;
        if (dnnl_memory_desc_equal(&probe, md)) return dnnl_fmt_tag2str((dnnl_format_tag_t)t);
    }
    return "blocked";
}
