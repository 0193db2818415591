/*
 * Step building blocks shared by the oneDNN implementations: input staging (an input whose
 * stored layout differs from the one a primitive wants is reordered inside the step, into a
 * buffer owned by the step or straight into the output for in-place primitives; a constant
 * input is reordered once into the model's shared weight cache), the primitive with its dst
 * and scratchpad, and the whole one-source, one-destination step.
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

/* ---- the primitive of a step --------------------------------------------------------------
 * What every one-primitive oneDNN step holds besides its sources: the primitive, its dst and
 * scratchpad memories and output 0's blocked layout. Sources (stages, weights, ...) stay with
 * the family; their exec args go to onyxi_dnnl_prim_exec. */

/* Flags of onyxi_dnnl_prim_init. */
enum {
    ONYXI_PRIM_IN_PLACE = 1u,  /* no dst memory: the primitive writes its first argument */
    ONYXI_PRIM_PLAIN_OUT = 2u, /* the dst is a plain view of another shape: output 0 stays plain */
};

typedef struct onyxi_dnnl_prim {
    dnnl_primitive_t prim;
    dnnl_memory_t dst; /* NULL when in place */
    dnnl_memory_t scratch;
    dnnl_memory_desc_t out_md; /* output 0's layout when blocked (x->out[0]->layout) */
} onyxi_dnnl_prim;

/* Completes p from its primitive descriptor (which the caller still destroys): creates the dst
 * memory (from pd's dst md), the scratchpad memory (setting x->scratch_bytes) and the
 * primitive, and records pd's dst layout as output 0's unless ONYXI_PRIM_PLAIN_OUT. */
onyx_status onyxi_dnnl_prim_init(onyxi_exec *x, const_dnnl_primitive_desc_t pd, unsigned flags,
                                 onyxi_dnnl_prim *p);
/* Binds output 0 and x->scratch, appends DST (args[0]'s memory when in place) and SCRATCHPAD
 * to the n caller args (the array must have room for n + 2) and executes on the session's
 * stream without waiting, so that more primitives may follow in order. */
onyx_status onyxi_dnnl_prim_exec(onyxi_exec *x, onyxi_dnnl_prim *p, int n, dnnl_exec_arg_t *args);
/* onyxi_dnnl_prim_exec, then waits for the stream. */
onyx_status onyxi_dnnl_prim_run(onyxi_exec *x, onyxi_dnnl_prim *p, int n, dnnl_exec_arg_t *args);
/* Accepts a partially initialized (or zeroed) p; leaves it zeroed. */
void onyxi_dnnl_prim_fini(onyxi_dnnl_prim *p);

/* ---- one source, one destination ----------------------------------------------------------
 * A step whose primitive reads input 0 (staged) and writes output 0. A family state may start
 * with one and add what is its own (parameters, a second primitive). */
typedef struct onyxi_dnnl_step {
    onyxi_dnnl_stage src; /* input 0, or output 0 after a reorder into it (then in place) */
    onyxi_dnnl_prim p;
} onyxi_dnnl_step;

/* Allocates x->state as `size` zeroed bytes (a state that starts with an onyxi_dnnl_step);
 * ONYX_NOMEM names the op. */
onyx_status onyxi_dnnl_state_new(onyxi_exec *x, size_t size, void **state);
/* Creates the primitive of op descriptor `desc` (no post-ops; declines oneDNN's reference
 * loop) and completes s with it: in place when s->src was staged into the output. flags:
 * ONYXI_PRIM_PLAIN_OUT or 0. */
onyx_status onyxi_dnnl_step_make(onyxi_exec *x, const void *desc, unsigned flags,
                                 onyxi_dnnl_step *s);
/* Frees what s holds and zeroes it, for another try. */
void onyxi_dnnl_step_clear(onyxi_dnnl_step *s);
/* An onyxi_impl run and fini for a step whose x->state is exactly an onyxi_dnnl_step. */
onyx_status onyxi_dnnl_step_run(onyxi_exec *x);
void onyxi_dnnl_step_fini(onyxi_exec *x);

/* The format tag whose layout md has for its own dims, dnnl_format_tag_undef when none. */
dnnl_format_tag_t onyxi_dnnl_tag_of(const dnnl_memory_desc_t *md);

#endif
