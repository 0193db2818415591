/*
 * The session: per-session tensors, input/output bindings, and the current plan (inferred
 * shapes, constant-folded values, one arena for intermediates, prepared steps).
 */
#ifndef ONYXI_SESSION_H
#define ONYXI_SESSION_H

#include "../ops/op.h"
#include "dnnl_util.h"
#include "model.h"
#include "profile.h"

#define ONYXI_SESSION_MAGIC 0x4f4e5853u /* "ONXS" */
#define ONYXI_OPTIONS_MAGIC 0x4f4e584fu /* "ONXO" */

struct onyx_options {
    uint32_t magic;
    int num_threads;
    onyx_backend backend;
    int profiling; /* onyx_options_set_profiling */
    size_t memory_limit; /* onyx_options_set_memory_limit; 0 = physical memory */
    unsigned passes_off; /* ONYX_PASS_* bits turned off by onyx_options_set_passes */
    int max_nodes;       /* onyx_options_set_load_limits; 0 = default */
    int max_depth;
    onyx_kernel_selection selection; /* onyx_options_set_kernel_selection ... */
    int selection_set;               /* ... was called: it wins over ONYX_KERNEL_SELECTION */
};

typedef struct onyxi_step {
    int node;                  /* index into the graph's nodes */
    const onyxi_impl *impl;    /* borrowed: registry */
    onyxi_exec x;              /* x.in / x.out point into the session's tensors */
    int initialized;           /* init succeeded: fini is owed */
    const onyx_tensor *own_in[1]; /* backing arrays of a reorder step's x.in / x.out */
    onyx_tensor *own_out[1];
    const char *layout;        /* static name of the first output's layout, e.g. "aBcd8b" */
    int skip;                  /* a Concat whose producers write straight into its output */
} onyxi_step;

/* Data layout of a step's output, for traces and plans: "plain" (row-major ONNX order) or
 * oneDNN's name of the blocked layout the step writes (e.g. "aBcd8b" = nChw8c). */
static inline const char *onyxi_step_layout(const onyxi_step *st) {
    return st->layout ? st->layout : "plain";
}

/* Where the planner put one intermediate tensor (kept for onyx_session_plan_tensor). */
typedef struct onyxi_plan_record {
    int value;      /* graph value index */
    size_t offset;  /* in the arena */
    size_t nbytes;
    int first, last; /* steps: producer and last reader (n_steps for graph outputs) */
} onyxi_plan_record;

typedef struct onyxi_input_binding {
    int bound;
    const void *data; /* borrowed: caller, until the run returns */
    size_t nbytes;
    onyx_tensor shape; /* dtype, rank, dims of the binding */
} onyxi_input_binding;

typedef struct onyxi_output_binding {
    void *data; /* borrowed: caller; NULL = use session memory */
    size_t nbytes;
} onyxi_output_binding;

struct onyx_session {
    uint32_t magic;
    int failed;              /* create failed: only errmsg/errcode/free are allowed */
    onyx_status errcode;
    onyxi_err err;
    onyx_model *model;       /* owned reference */
    const onyxi_graph *g;    /* borrowed: model */
    int num_threads;
    onyx_backend backend;
    size_t memory_limit;     /* bytes a plan may use (arena + folded constants) */
    size_t planned_bytes;    /* bytes the current plan uses so far */

    onyx_tensor *vals;       /* owned: one runtime tensor per graph value */
    void **arena_ptr;        /* owned: per value, its arena address (NULL if not in the arena) */
    unsigned char *is_const; /* owned: per value, data known at plan time (initializer/folded) */
    onyxi_input_binding *in_bind;   /* owned: per graph input */
    onyxi_output_binding *out_bind; /* owned: per graph output */

    /* the plan */
    int planned;
    onyx_tensor *planned_inputs;  /* owned: shapes of the inputs the plan was made for */
    void **input_snapshot;        /* owned: copies of inputs whose data shaped the plan */
    void **folded;                /* owned: per value, buffer of a constant-folded value */
    void *arena;                  /* owned */
    size_t arena_bytes, intermediate_bytes;
    int n_steps;
    onyxi_step *steps;            /* owned */
    int n_temps;                  /* plain copies made by reorder steps: vals[n_values ..] */
    int temp_capacity;            /* slots after the graph values in vals/arena_ptr/... */
    void *scratch;                /* owned: one scratch buffer shared by all steps */
    size_t scratch_bytes;
    int has_backend;              /* oneDNN is in use (backend AUTO) */
    int no_aliasing;              /* ONYX_DISABLE_PASSES has inplace / zero_copy: debugging */
    int select_measure;           /* time the candidate kernels (else the first that accepts) */
    int own_kernels;              /* own kernels may take part (ONYX_OWN_KERNELS=0: oneDNN only) */
    int64_t select_ns;            /* time the current plan spent choosing kernels by measuring */
    void *sel_pool;               /* owned: timing buffer while kernels are chosen, else NULL */
    size_t sel_pool_bytes;
    int sel_pool_node;            /* the node whose random inputs the pool holds */
    onyxi_backend dnnl;           /* engine (borrowed) and stream (owned) */
    const onyx_tensor **io_in;    /* owned: backing arrays of the steps' x.in */
    onyx_tensor **io_out;         /* owned: backing arrays of the steps' x.out */
    int n_records;
    onyxi_plan_record *records;   /* owned: arena placement of each intermediate */

    /* profiling (profile.h): NULL prof means the executor does no timing */
    int profiling;       /* from the options */
    int trace_pid;       /* this session's process id in Chrome traces */
    onyxi_profile *prof; /* owned: made with each plan */
};

/* Builds the session's tables; does not plan. */
onyx_status onyxi_session_init(onyx_session *s, onyx_model *m, const onyx_options *o);
/* Releases everything the session owns (not the handle itself). */
void onyxi_session_destroy(onyx_session *s);
/* Infers shapes, folds constants, plans the arena and prepares steps for the bound inputs.
 * at_create: inputs are not bound yet; a plan that needs their data is deferred (OK). */
onyx_status onyxi_session_plan(onyx_session *s, int at_create);
/* Checks every input is bound, then plans when the bound shapes (or shape-determining input
 * data) differ from the current plan's. */
onyx_status onyxi_session_prepare(onyx_session *s);
/* Plans when needed (new shapes or new shape-determining data), then runs every step. */
onyx_status onyxi_session_run(onyx_session *s);

#endif
