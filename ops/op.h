/*
 * The kernel contract. Each ONNX op version is one onyxi_op entry in the registry table
 * (ops/registry.c): arity, attribute types, a value check run once at load, shape
 * inference, and an ordered list of implementations (fastest first, "ref" last).
 * Kernels report only what went wrong; the runtime prefixes the node's name and op.
 */
#ifndef ONYXI_OP_H
#define ONYXI_OP_H

#include "../runtime/alloc.h"
#include "../runtime/error.h"
#include "../runtime/ir.h"

/* Shape-inference context: inputs with dtype and shape (data only when known before the
 * run: initializers and bound graph inputs); the op fills dtype/rank/dims of outputs. */
typedef struct onyxi_infer {
    const onyxi_node *node;
    int n_in;
    const onyx_tensor *const *in; /* in[k] NULL when the optional input is absent */
    int n_out;
    onyx_tensor *const *out; /* out[k] NULL when the optional output is absent */
    unsigned data_read;      /* bit k: the output shapes depend on the data of input k */
    onyxi_err *err;
    unsigned data_missing;   /* bit k: infer asked for input k's data, which is not known yet */
} onyxi_infer;

/* Execution context of one node. in/out point at the session's tensors, whose data
 * pointers are valid when run is called (arena, initializer or caller buffers). */
typedef struct onyxi_exec {
    const onyxi_node *node;
    int n_in;
    const onyx_tensor *const *in; /* in[k] NULL when absent */
    int n_out;
    onyx_tensor *const *out;
    void *state;     /* owned by the implementation: init allocates, fini frees */
    int num_threads; /* threads the kernel may use (>= 1) */
    onyxi_err *err;
    /* Set by the session before init: */
    struct onyxi_backend *backend; /* borrowed: session; oneDNN engine and stream, or NULL */
    struct onyxi_weight_cache *weights; /* borrowed: model; packed constant weights, shared */
    unsigned const_inputs; /* bit k: input k holds constant data (initializer or folded) */
    unsigned blocked_ok;   /* bit k: output k may take a blocked layout (all consumers are
                            * dnnl-capable and it is not a graph output) */
    int step;              /* the step's index: the weight cache's key with the node */
    /* Which variant of the implementation to build: 0 = its default kernel. Only an
     * implementation that sets more_variants has others (oneDNN's alternative kernels); it
     * returns ONYX_UNSUPPORTED for a variant beyond its last. The session measures variants
     * against each other (runtime/session.c), so init must not keep x's address: the session
     * may move the onyxi_exec after init. */
    int variant;
    /* Set by init: */
    int more_variants;     /* 1: variant + 1 may exist and differ from this one (try it) */
    size_t scratch_bytes;  /* scratch memory run() needs; the session provides `scratch` */
    void *scratch;         /* borrowed: session; shared by all steps, valid during run() */
    const char *detail;    /* static text naming the kernel chosen, e.g. "jit:avx2" */
    /* bit k: constant input k went into the model's weight cache and run() never reads its
     * plain data, so the model may release those bytes (runtime/consts.h; set by
     * onyxi_dnnl_pack_constant). init reads a constant's bytes only inside a cache fill. */
    unsigned packed_inputs;
} onyxi_exec;

typedef struct onyxi_impl {
    const char *name;                   /* "ref", "dnnl", ... shown in plans and traces */
    onyx_status (*init)(onyxi_exec *x); /* NULL ok; ONYX_UNSUPPORTED = let the next impl try */
    onyx_status (*run)(onyxi_exec *x);  /* computes; never allocates */
    void (*fini)(onyxi_exec *x);        /* NULL ok; must accept a partially built state */
} onyxi_impl;

/* Implementations named "dnnl", and the own kernels listed in ops/op_util.c, accept inputs in
 * any layout (plain or blocked: see onyx_tensor.layout) and may give their outputs a blocked
 * layout; every other implementation is given plain inputs only (the session inserts
 * reorders where needed). */
int onyxi_impl_takes_blocked(const onyxi_impl *impl);

typedef struct onyxi_attr_spec {
    const char *name;
    onyxi_attr_type type;
} onyxi_attr_spec;

enum {
    ONYXI_OP_INPLACE_OK = 1u, /* output may share the first input's memory */
    /* Outputs depend only on the input shapes (Shape, Size): the session folds the node into
     * a constant once shapes are known. Its run() must not read input data (it may be NULL). */
    ONYXI_OP_SHAPE_ONLY = 2u,
};

typedef struct onyxi_op {
    const char *op_type;  /* ONNX op_type, domain ai.onnx */
    int since_version;    /* the ONNX since_version this entry implements */
    int min_inputs, max_inputs, min_outputs, max_outputs;
    const onyxi_attr_spec *attrs; /* every attribute the op accepts; ends with {NULL, 0} */
    /* Attribute values and node structure, once at load. NULL when nothing to check. */
    onyx_status (*check)(const onyxi_node *n, onyxi_err *e);
    onyx_status (*infer)(onyxi_infer *c);
    unsigned flags;
    const onyxi_impl *const *impls; /* NULL-terminated, fastest first, "ref" last */
} onyxi_op;

/* ---- registry (ops/registry.c) ---- */

/* The entry for op_type in domain at the model's opset (largest since_version <= opset).
 * NULL with ONYX_UNSUPPORTED and a message naming op and opset when there is none. */
const onyxi_op *onyxi_op_find(const char *domain, const char *op_type, int64_t opset,
                              onyxi_err *e);
int onyxi_op_count(void);
const onyxi_op *onyxi_op_at(int i);

/* Generic node check: arity and attribute types against op's table, then op->check. */
onyx_status onyxi_op_check_node(const onyxi_op *op, const onyxi_node *n, onyxi_err *e);

/* ---- attribute access (ops/op_util.c); defaults when the attribute is absent ---- */
const onyxi_attr *onyxi_attr_find(const onyxi_node *n, const char *name);
int64_t onyxi_attr_int(const onyxi_node *n, const char *name, int64_t def);
float onyxi_attr_float(const onyxi_node *n, const char *name, float def);
const char *onyxi_attr_string(const onyxi_node *n, const char *name, const char *def);
/* Number of ints (and *out), or -1 when absent. */
int onyxi_attr_ints(const onyxi_node *n, const char *name, const int64_t **out);
int onyxi_attr_floats(const onyxi_node *n, const char *name, const float **out);

/* ---- inference helpers (ops/op_util.c) ---- */

/* Data of input k when known before the run; records that output shapes depend on it.
 * NULL when the input is absent or its data is only computed at run time. */
const void *onyxi_infer_data(onyxi_infer *c, int k);
/* ONYX_UNSUPPORTED: "output shape depends on run-time data of input k" (after a NULL
 * onyxi_infer_data). The session tells this apart from real errors: when that input is a graph
 * input, planning waits until the data is bound. */
onyx_status onyxi_infer_needs_data(onyxi_infer *c, int k);
/* ONYX_TYPE_MISMATCH naming the input unless input k has dtype dt. */
onyx_status onyxi_infer_expect_dtype(onyxi_infer *c, int k, onyx_dtype dt);
/* ONYX_SHAPE_MISMATCH unless input k has a known shape (rank and every dim). */
onyx_status onyxi_infer_expect_known(onyxi_infer *c, int k);
/* Sets output k's dtype and shape. */
void onyxi_infer_set(onyxi_infer *c, int k, onyx_dtype dt, int rank, const int64_t *dims);
/* Normalizes axis (negative counts from the end) into [0, rank); ONYX_INVALID_MODEL otherwise. */
onyx_status onyxi_norm_axis(int64_t axis, int rank, int *out, onyxi_err *e);
/* Reads element i of an integer or float tensor as int64 / double (for shape inputs). */
int64_t onyxi_read_int(const onyx_tensor *t, int64_t i);
double onyxi_read_double(const onyx_tensor *t, int64_t i);

#endif
