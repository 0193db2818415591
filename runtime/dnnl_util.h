/*
 * oneDNN glue shared by every dnnl implementation: the process-wide engine, the per-session
 * backend context (stream, thread count, shared scratchpad), status mapping and memory
 * descriptors for onyx tensors. With runtime/ and ops/, the only place that includes dnnl.h.
 */
#ifndef ONYXI_DNNL_UTIL_H
#define ONYXI_DNNL_UTIL_H

#include <dnnl.h>

#include "error.h"
#include "ir.h"

/* What a session gives its dnnl steps. Owned by the session (session.c). */
typedef struct onyxi_backend {
    dnnl_engine_t engine; /* borrowed: process-wide */
    dnnl_stream_t stream; /* owned by the session: streams are not shared between threads */
    int threads;          /* OpenMP threads the session's primitives are created and run with */
} onyxi_backend;

/* The process-wide CPU engine, created on first use (thread-safe). */
onyx_status onyxi_dnnl_engine(dnnl_engine_t *out, onyxi_err *e);

/* Maps a oneDNN status: dnnl_success -> ONYX_OK, dnnl_unimplemented -> ONYX_UNSUPPORTED ("let
 * the next implementation try"), dnnl_out_of_memory -> ONYX_NOMEM, anything else ->
 * ONYX_BACKEND with `call` named in the message. */
onyx_status onyxi_dnnl_check(dnnl_status_t st, const char *call, onyxi_err *e);

/* Evaluates a dnnl call and returns its mapped status from the current function on failure. */
#define ONYXI_DNNL(call, e)                                                                        \
    do {                                                                                           \
        dnnl_status_t onyxi_dnnl_st_ = (call);                                                     \
        if (onyxi_dnnl_st_ != dnnl_success) return onyxi_dnnl_check(onyxi_dnnl_st_, #call, e);    \
    } while (0)

/* A plain row-major f32 descriptor of t's shape (rank 0 becomes {1}). */
onyx_status onyxi_dnnl_md_plain(dnnl_memory_desc_t *md, const onyx_tensor *t, onyxi_err *e);
/* The same for explicit dims (e.g. a reshaped view), rank >= 1. */
onyx_status onyxi_dnnl_md_dims(dnnl_memory_desc_t *md, int rank, const int64_t *dims,
                               dnnl_format_tag_t tag, onyxi_err *e);
/* "jit:avx2" etc.: the implementation a primitive descriptor chose ("?" when unknown). */
const char *onyxi_dnnl_impl_str(const_dnnl_primitive_desc_t pd);
/* oneDNN's name of a memory descriptor's layout ("aBcd8b", ...), "blocked" when no format
 * tag matches. Static text. Slow (tries every tag): for plans and traces only. */
const char *onyxi_dnnl_layout_name(const void *md);
/* 1 when the chosen implementation is oneDNN's slow reference loop. */
int onyxi_dnnl_is_ref(const_dnnl_primitive_desc_t pd);

#endif
