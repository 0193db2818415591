/*
 * A small ModelProto builder on the protobuf-c structs for tests that need hand-made or
 * malformed models (check_load, check_validate, check_cli, the graph-pass tests): everything
 * lives in one calloc'd struct, strings are copied into its pool, initializer data and
 * attribute lists into blocks it owns (mb_alloc), and mb_pack serializes and frees it all.
 */
#ifndef ONYX_PBBUILD_H
#define ONYX_PBBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

/* Capacity of the per-model tables: nodes, graph inputs, graph outputs, tensors. */
#define MB_MAX 16

typedef struct mb {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opsets[4];
    Onnx__OperatorSetIdProto *opset_ptrs[4];
    Onnx__NodeProto nodes[MB_MAX];
    Onnx__NodeProto *node_ptrs[MB_MAX];
    char *node_io[MB_MAX][2][8];
    Onnx__AttributeProto attrs[MB_MAX][12];
    Onnx__AttributeProto *attr_ptrs[MB_MAX][12];
    Onnx__ValueInfoProto vis[2][MB_MAX];
    Onnx__ValueInfoProto *vi_ptrs[2][MB_MAX];
    Onnx__TypeProto types[2][MB_MAX];
    Onnx__TypeProto__Tensor tts[2][MB_MAX];
    Onnx__TensorShapeProto shapes[2][MB_MAX];
    Onnx__TensorShapeProto__Dimension dims[2][MB_MAX][10];
    Onnx__TensorShapeProto__Dimension *dim_ptrs[2][MB_MAX][10];
    Onnx__TensorProto tensors[MB_MAX];
    int n_tensors;
    Onnx__TensorProto *init_ptrs[MB_MAX];
    int64_t tensor_dims[MB_MAX][10];
    Onnx__StringStringEntryProto kv[MB_MAX][3];
    Onnx__StringStringEntryProto *kv_ptrs[MB_MAX][3];
    char pool[8192];
    size_t pool_used;
    void *owned[64]; /* blocks of mb_alloc, freed by mb_pack */
    int n_owned;
} mb;

/* Every function below fails a Check assertion when a table or the pool is full. */

/* A copy of s in the builder's pool (lives as long as b). */
char *mb_str(mb *b, const char *s);
/* A model importing ai.onnx at opset (no import when opset <= 0) with an empty graph "g". */
mb *mb_new(int64_t opset);
/* Adds a graph input (is_output 0) or output (1). dims[i] < 0: symbolic dim named
 * params[i] when params is given, else a dim without value. rank < 0: no shape. */
Onnx__ValueInfoProto *mb_value(mb *b, int is_output, const char *name, int elem, int rank,
                               const int64_t *dims, const char *const *params);
/* Adds node op named name (NULL: unnamed) with comma-separated input and output names
 * "x,,B": the middle input absent; NULL: none). */
Onnx__NodeProto *mb_node(mb *b, const char *op, const char *name, const char *ins,
                         const char *outs);
/* A new attribute of node n; the caller fills the value fields. */
Onnx__AttributeProto *mb_attr(mb *b, Onnx__NodeProto *n, const char *name, int type);
/* A tensor (no data yet); also an initializer when init is set. */
Onnx__TensorProto *mb_tensor(mb *b, int init, const char *name, int dt, int rank,
                             const int64_t *dims);
/* Sets t's raw_data to n bytes at data (not copied: must outlive mb_pack). */
void mb_raw(Onnx__TensorProto *t, const void *data, size_t n);
/* Marks t as external data at location (offset/length NULL: key absent). */
void mb_external(mb *b, Onnx__TensorProto *t, const char *loc, const char *offset,
                 const char *length);
/* n zeroed bytes owned by the builder (freed by mb_pack): data that must outlive packing. */
void *mb_alloc(mb *b, size_t n);
/* n floats uniform in [lo, hi) from a linear congruential generator seeded with seed (the same
 * values for the same arguments on every platform), owned by the builder. */
float *mb_random_floats(mb *b, size_t n, unsigned seed, float lo, float hi);
/* A float32 / int64 initializer `name` of shape dims holding a copy of data. */
void mb_init_floats(mb *b, const char *name, int rank, const int64_t *dims, const float *data);
void mb_init_ints(mb *b, const char *name, int rank, const int64_t *dims, const int64_t *data);
/* Attributes of node n (lists and strings are copied). */
void mb_attr_int(mb *b, Onnx__NodeProto *n, const char *name, int64_t v);
void mb_attr_ints(mb *b, Onnx__NodeProto *n, const char *name, int count, const int64_t *v);
void mb_attr_float(mb *b, Onnx__NodeProto *n, const char *name, float v);
void mb_attr_string(mb *b, Onnx__NodeProto *n, const char *name, const char *v);
/* The serialized model (malloc'd, caller frees; *len its size) and frees the builder. */
uint8_t *mb_pack(mb *b, size_t *len);

#endif
