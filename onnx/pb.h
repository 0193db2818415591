/*
 * Private interface between the files of onnx/: the protobuf-c allocator and the
 * TensorProto, external-data and AttributeProto converters. This is the only header that
 * includes the generated onnx.pb-c.h; nothing declared here is visible outside onnx/.
 */
#ifndef ONYXI_ONNX_PB_H
#define ONYXI_ONNX_PB_H

#include "../runtime/ir.h"
#include "loader.h"
#include "onnx.pb-c.h"

/* ---- pb_alloc.c ---- */

/* A ProtobufCAllocator that routes protobuf-c's allocations through onyxi_malloc (so the
 * fault tests cover parsing) and remembers whether one failed, which turns a NULL from
 * *__unpack into ONYX_NOMEM instead of "malformed". */
typedef struct onyxi_pb_allocator {
    ProtobufCAllocator base;
    int failed; /* set when an allocation failed */
} onyxi_pb_allocator;

void onyxi_pb_allocator_init(onyxi_pb_allocator *pa);

/* 1 when the string s, parsed by protobuf-c with an onyxi_pb_allocator, had NUL bytes in
 * the wire data (protobuf-c silently cuts the C string at the first one).
 * REQUIRES: s was allocated by an onyxi_pb_allocator (every string of an unpacked message). */
int onyxi_pb_string_has_nul(const char *s);

/* ---- tensor.c ---- */

/* Converts tp into t: dtype, rank, dims and a dense little-endian copy of the data
 * (t->data from onyxi_malloc, owns_data = 1; a zero-element tensor gets a non-NULL dummy
 * block so "data known" stays distinguishable from "no data"). t->name is left alone.
 * what names the tensor in messages ("initializer 'W'"). model_dir as in onyxi_onnx_load.
 * On failure t->data is NULL and nothing is allocated. */
onyx_status onyxi_pb_tensor_to_ir(const Onnx__TensorProto *tp, const char *model_dir,
                                  const char *what, onyx_tensor *t, onyxi_err *e);

/* A raw_data payload the loader cut out of the bytes it gave protobuf-c (which would copy
 * it): the parsed TensorProto then has an empty raw_data and the real one is here. */
typedef struct onyxi_pb_raw {
    int present;
    uint64_t offset; /* in the model bytes */
    size_t len;
} onyxi_pb_raw;

/* What tensor conversion reads stripped payloads from, and where it records sources. */
typedef struct onyxi_pb_src {
    const char *model_dir;      /* as in onyxi_onnx_load */
    const unsigned char *bytes; /* the model bytes */
    int fd;                     /* >= 0: the model file (bytes maps it): payloads come by pread */
    int file;                   /* fd's index in sources->files, or -1 */
    onyxi_sources *sources;     /* NULL: no sources are recorded */
} onyxi_pb_src;

/* onyxi_pb_tensor_to_ir with raw_data possibly stripped (raw: where it really is; NULL or
 * !present when it was not) and, when loc is not NULL, where the bytes came from recorded
 * there (loc->file -1 when they cannot be read again from a file). */
onyx_status onyxi_pb_tensor_read(const Onnx__TensorProto *tp, const onyxi_pb_src *src,
                                 const onyxi_pb_raw *raw, const char *what, onyx_tensor *t,
                                 onyxi_src_loc *loc, onyxi_err *e);

/* Converts a TypeProto declaration of a graph input/output into t->dtype, rank, dims and
 * dim_params[] (owned copies of symbolic names). what names the value in messages. */
onyx_status onyxi_pb_type_to_ir(const Onnx__TypeProto *tp, const char *what, onyx_tensor *t,
                                char **dim_params, onyxi_err *e);

/* ---- external.c ---- */

/* Reads the external data of tp (data_location = EXTERNAL) into a new onyxi_malloc block
 * of exactly nbytes bytes (*data; a dummy block when nbytes is 0). Checks the location
 * (relative, no "..", inside model_dir after resolving symlinks, a regular file) and
 * offset/length against the file size. */
onyx_status onyxi_pb_external_read(const Onnx__TensorProto *tp, const char *model_dir,
                                   const char *what, size_t nbytes, void **data, onyxi_err *e);
/* The same, keeping the opened file in sources (when not NULL) and recording in *loc where
 * the bytes are. */
onyx_status onyxi_pb_external_read_src(const Onnx__TensorProto *tp, const char *model_dir,
                                       const char *what, size_t nbytes, void **data,
                                       onyxi_sources *sources, onyxi_src_loc *where, onyxi_err *e);

/* ---- attr.c ---- */

/* Converts ap into *a (every owned field from onyxi_malloc; on failure a may be partly
 * filled and is freed by onyxi_graph_free like any attribute). */
onyx_status onyxi_pb_attr_to_ir(const Onnx__AttributeProto *ap, const char *model_dir,
                                onyxi_attr *a, onyxi_err *e);

#endif
