/*
 * Input staging shared by the oneDNN element-wise, pooling and normalization implementations:
 * an input whose stored layout differs from the one a primitive wants is reordered inside the
 * step (into a buffer owned by the step, or straight into the output for in-place primitives),
 * and a constant input is reordered once into the model's shared weight cache.
 */
#ifndef ONYXI_DNNL_STAGE_H
#define ONYXI_DNNL_STAGE_H

#include "../runtime/dnnl_util.h"

/* Where a staged input's reorder writes. */
enum {
    ONYXI_STAGE_BUFFER, /* a buffer owned by the stage (or the packed constant) */
    ONYXI_STAGE_OUTPUT, /* output 0 of the step: the primitive then runs in place on it */
};

typedef struct onyxi_dnnl_stage {
    dnnl_memory_t mem;        /* what the primitive reads (want md) */
    dnnl_primitive_t reorder; /* NULL: mem is bound straight to the input (or packed data) */
    dnnl_memory_t from;       /* the input as stored, when reordered at run time */
    void *buf;                /* owned: reorder target for ONYXI_STAGE_BUFFER */
    int target;
    int packed; /* mem is bound at init to a packed constant */
} onyxi_dnnl_stage;

/* Prepares input k of x, stored as `have`, to be read as `want` by a primitive. A constant
 * input (x->const_inputs) that needs a reorder into a buffer is packed once per model. */
onyx_status onyxi_dnnl_stage_init(onyxi_exec *x, int k, const dnnl_memory_desc_t *have,
                                  const dnnl_memory_desc_t *want, int target, onyxi_dnnl_stage *s);
/* Binds the input's data and runs the reorder when there is one (no stream wait: the
 * primitive that reads it runs next on the same in-order stream). */
onyx_status onyxi_dnnl_stage_run(onyxi_exec *x, int k, onyxi_dnnl_stage *s);
/* Accepts a partially initialized (or zeroed) stage. */
void onyxi_dnnl_stage_fini(onyxi_dnnl_stage *s);

/* A memory object of md with no buffer yet (bound at run time). */
onyx_status onyxi_dnnl_memory(onyxi_exec *x, const dnnl_memory_desc_t *md, dnnl_memory_t *m);

/* Completes a step from its primitive descriptor (which the caller still destroys): creates
 * the primitive and the scratchpad memory (setting x->scratch_bytes) and records the layout of
 * the primitive's dst as output 0's (out_store must live in the step's state; NULL when the dst is
 * a plain view of another shape, which leaves the output plain). */
onyx_status onyxi_dnnl_finish(onyxi_exec *x, const_dnnl_primitive_desc_t pd, dnnl_primitive_t *prim,
                              dnnl_memory_t *scratch, dnnl_memory_desc_t *out_store);

/* The format tag whose layout md has for its own dims, dnnl_format_tag_undef when none. */
dnnl_format_tag_t onyxi_dnnl_tag_of(const dnnl_memory_desc_t *md);

#endif
