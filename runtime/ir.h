/*
 * The runtime's own graph form (IR). onnx/ builds it from a ModelProto; everything after
 * loading sees only these structs. A graph is a table of values (every named tensor:
 * inputs, initializers, node outputs) and a table of nodes whose inputs and outputs are
 * indices into the value table (-1 = an absent optional input/output).
 */
#ifndef ONYXI_IR_H
#define ONYXI_IR_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "onyx.h"

/* Highest tensor rank onyx handles; higher ranks are refused at load with ONYX_UNSUPPORTED. */
#define ONYXI_MAX_RANK 8
/* Highest ai.onnx opset onyx knows the semantics of. */
#define ONYXI_MAX_OPSET 19

/* A tensor: the public view type, also used for every runtime value. */
struct onyx_tensor {
    const char *name;             /* borrowed: the graph value's name (or owned, see owns_name) */
    onyx_dtype dtype;             /* ONYX_DTYPE_UNDEFINED when not known */
    int rank;                     /* -1 when not known */
    int64_t dims[ONYXI_MAX_RANK]; /* -1 for an unknown / symbolic dim */
    void *data;                   /* borrowed unless owns_data; NULL when not available */
    size_t nbytes;                /* bytes of data; 0 when the shape is unknown */
    char *const *dim_params;      /* borrowed: graph; per-axis symbolic names (declarations) */
    unsigned char owns_data;      /* set on tensors from onyx_tensor_load_pb: free data too */
    unsigned char owns_name;
    /* NULL: plain row-major. Otherwise a oneDNN memory descriptor (dnnl_memory_desc_t) of a
     * blocked layout chosen by the producing step (borrowed: that step's state); nbytes then
     * counts the layout's padding. Only dnnl implementations ever see a blocked tensor. */
    const void *layout;
    /* Non-NULL on a large initializer read from a model file (borrowed: the model's
     * runtime/consts.h): its bytes may be released while no plan reads them, and
     * onyx_tensor_data() reads them back. Kernels use data directly: a plan keeps the bytes
     * of every constant its kernels read resident. */
    const struct onyxi_const *constant;
};

/* ONNX AttributeProto.AttributeType numbers. */
typedef enum onyxi_attr_type {
    ONYXI_ATTR_UNDEFINED = 0,
    ONYXI_ATTR_FLOAT = 1,
    ONYXI_ATTR_INT = 2,
    ONYXI_ATTR_STRING = 3,
    ONYXI_ATTR_TENSOR = 4,
    ONYXI_ATTR_GRAPH = 5,
    ONYXI_ATTR_FLOATS = 6,
    ONYXI_ATTR_INTS = 7,
    ONYXI_ATTR_STRINGS = 8,
    ONYXI_ATTR_TENSORS = 9,
    ONYXI_ATTR_GRAPHS = 10,
    ONYXI_ATTR_SPARSE_TENSOR = 11,
    ONYXI_ATTR_SPARSE_TENSORS = 12,
    ONYXI_ATTR_TYPE_PROTO = 13,
    ONYXI_ATTR_TYPE_PROTOS = 14,
} onyxi_attr_type;

typedef struct onyxi_attr {
    char *name; /* owned */
    onyxi_attr_type type;
    float f;
    int64_t i;
    char *s;         /* owned, NUL-terminated (s_len excludes the NUL) */
    size_t s_len;
    int count;       /* number of elements in floats / ints / strings */
    float *floats;   /* owned */
    int64_t *ints;   /* owned */
    char **strings;  /* owned, each owned */
    onyx_tensor *t;  /* owned (with owns_data/owns_name): a TENSOR attribute */
} onyxi_attr;

enum {
    ONYXI_VALUE_GRAPH_INPUT = 1u,  /* bound by the caller */
    ONYXI_VALUE_GRAPH_OUTPUT = 2u, /* returned to the caller */
    ONYXI_VALUE_INITIALIZER = 4u,  /* constant data owned by the model */
};

typedef struct onyxi_value {
    char *name;                           /* owned */
    onyx_tensor info;                     /* declared or initializer type/shape; data for initializers */
    char *dim_params[ONYXI_MAX_RANK];     /* owned: symbolic names of declared dims, or NULL */
    int producer;                         /* index of the producing node, -1 if none */
    unsigned flags;                       /* ONYXI_VALUE_* */
} onyxi_value;

struct onyxi_op;

/* ---- what the graph passes (runtime/passes.c) did to a node ---- */

/* Most post-ops one fused node carries. */
#define ONYXI_MAX_POST_OPS 8

/* Element-wise operations applied to a node's output, in order, inside its own step. */
typedef enum onyxi_post_kind {
    ONYXI_POST_RELU = 1,
    ONYXI_POST_LEAKY_RELU,   /* v < 0 ? alpha * v : v */
    ONYXI_POST_CLIP,         /* bounds alpha (min) <= beta (max), infinite when absent */
    ONYXI_POST_SIGMOID,
    ONYXI_POST_HARD_SIGMOID, /* max(0, min(1, alpha * v + beta)) */
    ONYXI_POST_SILU,         /* v * sigmoid(v), from Mul(y, Sigmoid(y)) */
    ONYXI_POST_ADD,          /* v + node input `input`, a tensor of the output's shape */
    /* erf-based GELU, v * (1 + erf(u)) * 0.5, where u = v / alpha when beta == 0 and u =
     * v * alpha when beta == 1 (the graph's own constant, sqrt(2) or 1/sqrt(2)) */
    ONYXI_POST_GELU,
    /* v + node input `input`, a constant row of the output's last dim (dims [..., 1, N])
     * broadcast over the other axes: a MatMul's bias */
    ONYXI_POST_BIAS,
} onyxi_post_kind;

typedef struct onyxi_post_op {
    onyxi_post_kind kind;
    float alpha, beta;
    int input; /* ONYXI_POST_ADD / _BIAS: index into the node's inputs of the addend */
} onyxi_post_op;

typedef enum onyxi_fusion_role {
    /* runs absorbed nodes: post-ops, a folded BatchNormalization, or (op now
     * LayerNormalization) the primitive ops a LayerNormalization was exported as */
    ONYXI_FUSION_HOST = 1,
    ONYXI_FUSION_ABSORBED, /* merged into node `host`'s step; has no inputs or outputs left */
    ONYXI_FUSION_FOLDED,   /* evaluated at load; its outputs became initializers */
    ONYXI_FUSION_DROPPED,  /* an Identity/Dropout whose consumers now read its input */
} onyxi_fusion_role;

typedef struct onyxi_fusion {
    onyxi_fusion_role role;
    int host;   /* ONYXI_FUSION_ABSORBED: index of the node that absorbed this one */
    /* a removed node's inputs/outputs arrays keep its original wiring (n_inputs/n_outputs
     * are 0 so that nothing plans it); these are their lengths, for introspection */
    int n_inputs, n_outputs;
    int n_post; /* ONYXI_FUSION_HOST: post-ops applied to output 0, in order */
    onyxi_post_op post[ONYXI_MAX_POST_OPS];
} onyxi_fusion;

typedef struct onyxi_node {
    char *name;     /* owned, "" when the model gave none */
    char *op_type;  /* owned */
    char *domain;   /* owned, "" for ai.onnx */
    int n_inputs, n_outputs;
    int *inputs;    /* owned: value indices, -1 = absent optional input */
    int *outputs;   /* owned: value indices, -1 = absent optional output */
    int n_attrs;
    onyxi_attr *attrs;    /* owned */
    int64_t opset;        /* the model's opset for this node's domain */
    const struct onyxi_op *op; /* borrowed: registry; NULL when this build cannot run it */
    /* owned: NULL unless a graph pass changed the node. A host's op_type then names the
     * fused chain ("Conv+Add+Relu"); an absorbed, folded or dropped node keeps its op_type,
     * has n_inputs = n_outputs = 0 and an op that does nothing (onyxi_passes_retired_op). */
    onyxi_fusion *fusion;
} onyxi_node;

typedef struct onyxi_opset {
    char *domain; /* owned, "" for ai.onnx */
    int64_t version;
} onyxi_opset;

typedef struct onyxi_graph {
    int n_values;
    onyxi_value *values; /* owned */
    int n_nodes;
    onyxi_node *nodes; /* owned, in file order */
    int n_inputs;
    int *inputs; /* owned: the values the caller binds (initializers excluded) */
    int n_outputs;
    int *outputs; /* owned */
    int *order;   /* owned: node indices in execution order (onyxi_graph_order) */
    int n_opsets;
    onyxi_opset *opsets; /* owned */
    int64_t ir_version;
    char *producer_name;    /* owned, "" when absent */
    char *producer_version; /* owned */
    char *graph_name;       /* owned */
} onyxi_graph;

/* Limits that protect the loader against hostile models. */
typedef struct onyxi_load_limits {
    int max_nodes;          /* refuse graphs with more nodes */
    size_t max_file_bytes;  /* refuse larger model files */
    int allow_unsupported;  /* keep loading when an op has no implementation (for `onyx info`) */
    int max_depth;          /* refuse messages nested deeper (0 = the loader's maximum, 100) */
    unsigned passes_off;    /* ONYX_PASS_* bits of graph passes not to run (0 = run all) */
} onyxi_load_limits;

/* Frees a graph and everything it owns. NULL is a no-op. */
void onyxi_graph_free(onyxi_graph *g);

/* Sets g->order to a deterministic topological order (Kahn, ties by file order).
 * ONYX_INVALID_MODEL with the nodes involved when there is a cycle. */
onyx_status onyxi_graph_order(onyxi_graph *g, onyxi_err *e);

/* Looks up every node's op in the registry and runs its checks (arity, attribute types and
 * values). Nodes without an implementation fail with ONYX_UNSUPPORTED unless
 * allow_unsupported, when their op stays NULL. */
onyx_status onyxi_graph_resolve_ops(onyxi_graph *g, int allow_unsupported, onyxi_err *e);

/* Writes "node 'name' (Op-ver)" (or "node #i (Op-ver, output 'y')" when unnamed) into buf. */
void onyxi_node_label(const onyxi_graph *g, int node_index, char *buf, size_t size);

/* ---- tensor helpers (runtime/tensor.c) ---- */

/* Bytes per element of dt; 0 for unknown or string. */
size_t onyxi_dtype_size(onyx_dtype dt);
/* 1 when dt is a dtype number ONNX defines. */
int onyxi_dtype_known(int dt);
/* Element count of a known shape; -1 if a dim is unknown; -2 on int64 overflow. */
int64_t onyxi_shape_count(int rank, const int64_t *dims);
/* Byte size of a known shape of dtype dt into *out; ONYX_INVALID_MODEL on overflow. */
onyx_status onyxi_shape_nbytes(onyx_dtype dt, int rank, const int64_t *dims, size_t *out,
                               onyxi_err *e);
/* Formats a shape as "[1,3,224,224]" ("?" for unknown dims). Returns buf. */
char *onyxi_shape_str(int rank, const int64_t *dims, char *buf, size_t size);
/* Frees a tensor created with owns_data/owns_name (an attribute or loaded .pb). */
void onyxi_tensor_destroy(onyx_tensor *t);

#endif
