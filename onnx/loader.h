/*
 * The onnx/ folder's interface to the rest of the runtime: ModelProto bytes in, IR out;
 * TensorProto bytes in and out. No protobuf-c type appears here or leaves the folder.
 */
#ifndef ONYXI_LOADER_H
#define ONYXI_LOADER_H

#include "../runtime/ir.h"

/* Parses and validates a serialized ModelProto into a new graph (*out, free with
 * onyxi_graph_free). model_dir is the folder external data is resolved against, or NULL
 * (then external data is refused with ONYX_UNSUPPORTED). Validates everything that can be
 * checked without the op registry: graph and opset_import present, names resolve, single
 * producer, dtypes known, dims >= 0, sizes without overflow, raw/typed data sizes, external
 * data paths. Values get flags, producers and declared types; graph inputs that are also
 * initializers are not in g->inputs. Does not order the graph or resolve ops.
 * On failure: *out NULL, e holds code and message. */
onyx_status onyxi_onnx_load(const void *bytes, size_t nbytes, const char *model_dir,
                            const onyxi_load_limits *limits, onyxi_graph **out, onyxi_err *e);

/* Parses a serialized TensorProto into a new owned tensor (owns_data, owns_name; free with
 * onyxi_tensor_destroy). */
onyx_status onyxi_onnx_read_tensor(const void *bytes, size_t nbytes, onyx_tensor **out,
                                   onyxi_err *e);

/* Serializes t (dtype, dims, name, data as raw_data) into a new buffer from onyxi_malloc
 * (*bytes, free with onyxi_free). */
onyx_status onyxi_onnx_write_tensor(const onyx_tensor *t, void **bytes, size_t *nbytes,
                                    onyxi_err *e);

#endif
