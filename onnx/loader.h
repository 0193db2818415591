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

/* ---- where initializer bytes came from, so a model can release and re-read them ---- */

/* A file initializer bytes were read from, as it was then: a re-read first checks that it is
 * unchanged (size, modification and change times). */
typedef struct onyxi_src_file {
    int fd; /* owned: open for reading */
    uint64_t size;
    int64_t mtime_ns, ctime_ns;
    uint64_t dev, ino;
} onyxi_src_file;

/* Where one value's bytes are in a file. */
typedef struct onyxi_src_loc {
    int file;         /* index into onyxi_sources.files; -1: nowhere (typed fields, memory) */
    uint64_t offset;  /* of the tensor's first byte in that file */
    const void *data; /* the block the loader filled: a graph pass that replaced it ends the link */
} onyxi_src_loc;

/* The files a load read from and, per graph value, where its initializer bytes are. */
typedef struct onyxi_sources {
    int n_files, cap_files;
    onyxi_src_file *files; /* owned */
    int n_at;
    onyxi_src_loc *at; /* owned: n_at entries, indexed by value */
} onyxi_sources;

/* Adds the open file fd to s (taking it over: it is closed with s, or right away when s
 * already has that file or on failure) and sets *index to its entry. ONYX_IO when fstat
 * fails, ONYX_NOMEM. */
onyx_status onyxi_sources_add_file(onyxi_sources *s, int fd, int *index, onyxi_err *e);
/* 1 when file f no longer looks as it did at load (or cannot be checked). */
int onyxi_src_file_changed(const onyxi_src_file *f);
/* Closes every file and frees the tables; s is left empty. NULL ok. */
void onyxi_sources_clear(onyxi_sources *s);

/* onyxi_onnx_load, reading stripped initializer payloads with pread from model_fd (>= 0) when
 * bytes is a mapping of that file, and recording in sources (when not NULL) where every
 * initializer's bytes are: model_file is model_fd's index in sources->files (or -1), and
 * sources->at gets one entry per graph value. Initializer payloads (raw_data) of the main
 * graph never pass through protobuf-c, so they are in memory once: in the graph. */
onyx_status onyxi_onnx_load_ex(const void *bytes, size_t nbytes, int model_fd, int model_file,
                               const char *model_dir, const onyxi_load_limits *limits,
                               onyxi_sources *sources, onyxi_graph **out, onyxi_err *e);

/* Parses a serialized TensorProto into a new owned tensor (owns_data, owns_name; free with
 * onyxi_tensor_destroy). */
onyx_status onyxi_onnx_read_tensor(const void *bytes, size_t nbytes, onyx_tensor **out,
                                   onyxi_err *e);

/* Serializes t (dtype, dims, name, data as raw_data) into a new buffer from onyxi_malloc
 * (*bytes, free with onyxi_free). */
onyx_status onyxi_onnx_write_tensor(const onyx_tensor *t, void **bytes, size_t *nbytes,
                                    onyxi_err *e);

#endif
