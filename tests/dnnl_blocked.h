/*
 * Test helper for the oneDNN implementations: a copy of a plain float32 tensor stored in a
 * oneDNN blocked layout, as a oneDNN producer step leaves it (data reordered by oneDNN, so
 * the padding lanes are zero, and ->layout pointing at its memory descriptor).
 */
#ifndef ONYX_TESTS_DNNL_BLOCKED_H
#define ONYX_TESTS_DNNL_BLOCKED_H

#include <dnnl.h>
#include <stdlib.h>

#include "testutil.h"

/* The tensor and the descriptor its layout points at, freed together by tu_tensor_free. */
typedef struct tu_blocked_tensor {
    onyx_tensor t; /* first: tu_tensor_free(&b->t) frees the whole struct */
    dnnl_memory_desc_t md;
} tu_blocked_tensor;

static inline dnnl_format_tag_t tu_plain_tag(int rank) {
    static const dnnl_format_tag_t tags[] = {dnnl_a,    dnnl_ab,    dnnl_abc,
                                             dnnl_abcd, dnnl_abcde, dnnl_abcdef};
    ck_assert(rank >= 1 && rank <= 6);
    return tags[rank - 1];
}

/* plain (float32, row-major) reordered into layout tag (e.g. dnnl_aBcd8b). */
static inline onyx_tensor *tu_blocked(const onyx_tensor *plain, dnnl_format_tag_t tag) {
    tu_blocked_tensor *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    b->t = *plain;
    dnnl_dims_t d = {0};
    for (int i = 0; i < plain->rank; i++)
        d[i] = plain->dims[i];
    dnnl_memory_desc_t from;
    ck_assert_int_eq(
        dnnl_memory_desc_init_by_tag(&from, plain->rank, d, dnnl_f32, tu_plain_tag(plain->rank)),
        dnnl_success);
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&b->md, plain->rank, d, dnnl_f32, tag),
                     dnnl_success);
    b->t.nbytes = dnnl_memory_desc_get_size(&b->md);
    b->t.data = calloc(1, b->t.nbytes + 64);
    ck_assert_ptr_nonnull(b->t.data);
    b->t.layout = &b->md;
    dnnl_engine_t eng;
    dnnl_stream_t st;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t mf, mt;
    ck_assert_int_eq(dnnl_engine_create(&eng, dnnl_cpu, 0), dnnl_success);
    ck_assert_int_eq(dnnl_stream_create(&st, eng, dnnl_stream_default_flags), dnnl_success);
    ck_assert_int_eq(dnnl_reorder_primitive_desc_create(&pd, &from, eng, &b->md, eng, NULL),
                     dnnl_success);
    ck_assert_int_eq(dnnl_primitive_create(&prim, pd), dnnl_success);
    ck_assert_int_eq(dnnl_memory_create(&mf, &from, eng, plain->data), dnnl_success);
    ck_assert_int_eq(dnnl_memory_create(&mt, &b->md, eng, b->t.data), dnnl_success);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, mf}, {DNNL_ARG_TO, mt}};
    ck_assert_int_eq(dnnl_primitive_execute(prim, st, 2, args), dnnl_success);
    ck_assert_int_eq(dnnl_stream_wait(st), dnnl_success);
    dnnl_memory_destroy(mf);
    dnnl_memory_destroy(mt);
    dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
    dnnl_stream_destroy(st);
    dnnl_engine_destroy(eng);
    return &b->t;
}

/* The channel-blocked layout (nChw8c and its 1-D / 3-D relatives) for a rank-3..5 tensor. */
static inline dnnl_format_tag_t tu_blocked_c8(int rank) {
    return rank == 3 ? dnnl_aBc8b : rank == 4 ? dnnl_aBcd8b : dnnl_aBcde8b;
}

#endif
