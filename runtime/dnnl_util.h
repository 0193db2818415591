/*
 * oneDNN glue shared by every dnnl implementation: the process-wide engine, the per-session
 * backend context (stream, thread count, shared scratchpad), status mapping and memory
 * descriptors for onyx tensors. With runtime/ and ops/, the only place that includes dnnl.h.
 */
#ifndef ONYXI_DNNL_UTIL_H
#define ONYXI_DNNL_UTIL_H

#include <dnnl.h>

#include "../ops/op.h"
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
/* The descriptor of t as it is stored: its blocked layout, or plain row-major. */
onyx_status onyxi_dnnl_md_of(dnnl_memory_desc_t *md, const onyx_tensor *t, onyxi_err *e);

/* Records the layout a primitive chose for output k: when `chosen` is not plain, copies it
 * into *store (which must live as long as the step's state), points out[k]->layout at it
 * and sets out[k]->nbytes to its padded size. A plain choice leaves the output plain. */
onyx_status onyxi_dnnl_set_output(onyxi_exec *x, int k, const dnnl_memory_desc_t *chosen,
                                  dnnl_memory_desc_t *store);

/* Input `input` of x is constant (x->const_inputs): returns it reordered from user_md into
 * want_md, packed once per model in the shared weight cache (x->weights) and reused by every
 * session. *packed is borrowed from the model. */
onyx_status onyxi_dnnl_pack_constant(onyxi_exec *x, int input, const dnnl_memory_desc_t *user_md,
                                     const dnnl_memory_desc_t *want_md, const void **packed);

/* Creates a primitive with user-mode scratchpad for op descriptor `desc` (and optional
 * post-ops), declining with ONYX_UNSUPPORTED when oneDNN would only offer its slow reference
 * loop. On success *pd is the primitive descriptor (destroy it after use) and x->detail names
 * the implementation. */
onyx_status onyxi_dnnl_make_pd(onyxi_exec *x, const void *desc, const_dnnl_post_ops_t post_ops,
                               dnnl_primitive_desc_t *pd);

/* Variant nth of onyxi_dnnl_make_pd: 0 is oneDNN's first choice (exactly onyxi_dnnl_make_pd),
 * n > 0 the n-th further distinct implementation its primitive-descriptor iterator offers
 * (reference loops skipped); ONYX_UNSUPPORTED beyond the last. For the session's measured
 * kernel choice (onyxi_exec.variant). */
onyx_status onyxi_dnnl_make_pd_nth(onyxi_exec *x, const void *desc, const_dnnl_post_ops_t post_ops,
                                   int nth, dnnl_primitive_desc_t *pd);

/* 1 when two blocked layouts (dnnl_memory_desc_t) are the same. */
int onyxi_dnnl_same_layout(const void *a, const void *b);

/* oneDNN's name of a memory descriptor's layout ("aBcd8b", ...), "blocked" when no format
 * tag matches. Static text. Slow (tries every tag): for plans and traces only. */
const char *onyxi_dnnl_layout_name(const void *md);
/* 1 when the chosen implementation is oneDNN's slow reference loop. */
int onyxi_dnnl_is_ref(const_dnnl_primitive_desc_t pd);

#endif
