/*
 * onyx.h - the public C API of onyx, a runtime for ONNX models.
 *
 * This is the only header a user includes. Example:
 *
 *     onyx_model *m = NULL;
 *     if (onyx_model_load_file("model.onnx", &m) != ONYX_OK) {
 *         fprintf(stderr, "%s\n", onyx_model_errmsg(m));
 *         onyx_model_free(m);
 *         return 1;
 *     }
 *     onyx_session *s = NULL;
 *     if (onyx_session_create(m, NULL, &s) != ONYX_OK) { ... onyx_session_errmsg(s) ... }
 *     onyx_model_free(m);                     // the session keeps the model alive
 *     int64_t dims[4] = {1, 3, 224, 224};
 *     onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 4, pixels, sizeof pixels);
 *     if (onyx_session_run(s) != ONYX_OK) { ... onyx_session_errmsg(s) ... }
 *     const onyx_tensor *y = onyx_session_output(s, 0);
 *     const float *scores = onyx_tensor_data(y);
 *     onyx_session_free(s);
 *
 * Conventions:
 *  - Every fallible call returns an onyx_status; ONYX_OK is 0. Callers must treat any
 *    unknown non-zero code as an error.
 *  - Models and sessions remember their last error: onyx_*_errcode() and onyx_*_errmsg().
 *    A failed load or create still hands back a handle in a failed state whose errmsg says
 *    what went wrong (the handle is NULL only when memory ran out). Every other call on a
 *    failed handle returns ONYX_MISUSE. Free it with onyx_*_free().
 *  - Whoever creates or loads a handle frees it with the matching *_free (NULL is a no-op).
 *  - Every pointer the API returns is borrowed: the caller never frees it. Its lifetime is
 *    written next to each function.
 *  - Threads: an onyx_model is immutable after loading and may be shared by threads. An
 *    onyx_session is used by one thread at a time; sessions of one model may run on
 *    different threads at once.
 */
#ifndef ONYX_H
#define ONYX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define ONYX_API
#else
#define ONYX_API __attribute__((visibility("default")))
#endif

#define ONYX_VERSION_MAJOR 0
#define ONYX_VERSION_MINOR 1
#define ONYX_VERSION_PATCH 0
#define ONYX_VERSION "0.1.0"
/* MAJOR*1000000 + MINOR*1000 + PATCH */
#define ONYX_VERSION_NUMBER                                                                        \
    (ONYX_VERSION_MAJOR * 1000000 + ONYX_VERSION_MINOR * 1000 + ONYX_VERSION_PATCH)

/* Status codes. Values are fixed and only ever added to. */
typedef enum onyx_status {
    ONYX_OK = 0,
    ONYX_ERROR = 1,            /* generic failure */
    ONYX_NOMEM = 2,            /* an allocation failed (or would exceed a limit) */
    ONYX_INVALID_ARG = 3,      /* a bad argument: NULL pointer, index out of range, bad size */
    ONYX_MISUSE = 4,           /* wrong call order, NULL/foreign/failed handle */
    ONYX_IO = 5,               /* a file could not be opened or read */
    ONYX_INVALID_MODEL = 6,    /* the model breaks the ONNX rules */
    ONYX_UNSUPPORTED = 7,      /* valid ONNX that onyx cannot run (op, opset, dtype, attribute) */
    ONYX_SHAPE_MISMATCH = 8,   /* shapes do not fit together */
    ONYX_TYPE_MISMATCH = 9,    /* dtypes do not fit together */
    ONYX_BACKEND = 10,         /* a compute backend (oneDNN) failed */
    ONYX_INTERNAL = 11,        /* a bug in onyx */
} onyx_status;

/* Element types; values equal ONNX TensorProto.DataType numbers. */
typedef enum onyx_dtype {
    ONYX_DTYPE_UNDEFINED = 0,
    ONYX_DTYPE_FLOAT32 = 1,
    ONYX_DTYPE_UINT8 = 2,
    ONYX_DTYPE_INT8 = 3,
    ONYX_DTYPE_UINT16 = 4,
    ONYX_DTYPE_INT16 = 5,
    ONYX_DTYPE_INT32 = 6,
    ONYX_DTYPE_INT64 = 7,
    ONYX_DTYPE_STRING = 8,
    ONYX_DTYPE_BOOL = 9,
    ONYX_DTYPE_FLOAT16 = 10,
    ONYX_DTYPE_FLOAT64 = 11,
    ONYX_DTYPE_UINT32 = 12,
    ONYX_DTYPE_UINT64 = 13,
    ONYX_DTYPE_COMPLEX64 = 14,
    ONYX_DTYPE_COMPLEX128 = 15,
    ONYX_DTYPE_BFLOAT16 = 16,
} onyx_dtype;

/* Which kernels a session may use. */
typedef enum onyx_backend {
    ONYX_BACKEND_AUTO = 0,      /* the fastest implementation that accepts each node */
    ONYX_BACKEND_REFERENCE = 1, /* plain C reference kernels only (the test oracle) */
} onyx_backend;

/* How a session picks each node's kernel among the implementations that accept it. */
typedef enum onyx_kernel_selection {
    ONYX_SELECT_MEASURE = 0, /* time the accepting kernels on the node's shapes; keep the fastest */
    ONYX_SELECT_STATIC = 1,  /* the first accepting implementation (oneDNN's first choice) */
} onyx_kernel_selection;

typedef struct onyx_model onyx_model;     /* a loaded, validated model; immutable */
typedef struct onyx_session onyx_session; /* planned memory + prepared kernels for one model */
typedef struct onyx_options onyx_options; /* settings for onyx_session_create */
typedef struct onyx_tensor onyx_tensor;   /* read-only view of a tensor */

/* ---- version and status ---------------------------------------------------------------- */

/* The library's version string, e.g. "0.1.0". Static storage; never NULL. */
ONYX_API const char *onyx_version(void);

/* The library's ONYX_VERSION_NUMBER (lets a program check header against library). */
ONYX_API int onyx_version_number(void);

/* A short static description of a status code ("unknown status" for unknown codes).
 * Never NULL; never to be freed. */
ONYX_API const char *onyx_status_str(onyx_status code);

/* ---- models ------------------------------------------------------------------------------ */

/* Loads and validates an ONNX model from a file. External data files (data_location =
 * EXTERNAL) are read relative to the model's folder; locations that are absolute, contain
 * "..", or resolve outside that folder are refused.
 * Memory: the model keeps the file (and its external data files) open, and once the kernels
 * of a session have packed a large weight into the model's shared weight cache, its plain
 * copy is released and read back from the file when something needs it again (the
 * reference backend, a new input shape, onyx_tensor_data on the initializer). So the files
 * must not be changed in place while the model is loaded (deleting or replacing them by
 * renaming is fine); if they are, a later session that needs released weights fails with
 * ONYX_IO. onyx_model_load_memory keeps every weight in memory instead.
 * Ownership: *out receives a model the caller must free with onyx_model_free(), also when
 * the load failed (then it is in a failed state whose onyx_model_errmsg() says why); *out
 * is NULL only when memory ran out.
 * Returns ONYX_OK, ONYX_INVALID_ARG (NULL path or out), ONYX_IO (cannot open or read),
 * ONYX_INVALID_MODEL (malformed or breaks ONNX rules), ONYX_UNSUPPORTED (an op, opset or
 * dtype onyx cannot run), ONYX_NOMEM. */
ONYX_API onyx_status onyx_model_load_file(const char *path, onyx_model **out);

/* As onyx_model_load_file, from a buffer of nbytes bytes. The buffer is borrowed only for
 * the call (copied as needed): the caller may free it as soon as this returns. External data
 * is refused (there is no folder to resolve it against): ONYX_UNSUPPORTED.
 * Ownership of *out as for onyx_model_load_file.
 * Returns ONYX_OK, ONYX_INVALID_ARG (out NULL, or data NULL with nbytes > 0),
 * ONYX_INVALID_MODEL, ONYX_UNSUPPORTED, ONYX_NOMEM. */
ONYX_API onyx_status onyx_model_load_memory(const void *data, size_t nbytes, onyx_model **out);

/* Releases the caller's reference to a model. Sessions created from it keep it alive, so
 * this may be called right after onyx_session_create. NULL is a no-op. */
ONYX_API void onyx_model_free(onyx_model *m);

/* The status of the model's last failed operation (ONYX_OK if none); ONYX_MISUSE for NULL. */
ONYX_API onyx_status onyx_model_errcode(const onyx_model *m);

/* The message of the model's last error ("" if none). Borrowed: valid until the model is
 * freed. For NULL returns "out of memory or NULL handle". Never NULL. */
ONYX_API const char *onyx_model_errmsg(const onyx_model *m);

/* Number of graph inputs the caller binds (initializers listed as inputs are excluded) and
 * of graph outputs. -1 for a NULL or failed model. */
ONYX_API int onyx_model_input_count(const onyx_model *m);
ONYX_API int onyx_model_output_count(const onyx_model *m);

/* The declaration of input/output i: name, dtype, rank and dims (-1 for symbolic dims);
 * onyx_tensor_data() is NULL for these. REQUIRES: 0 <= i < count. Returns NULL when i is out
 * of range or m is NULL/failed. Borrowed: valid until the model is freed (by its last
 * owner, i.e. the last of onyx_model_free and the sessions' onyx_session_free). */
ONYX_API const onyx_tensor *onyx_model_input(const onyx_model *m, int i);
ONYX_API const onyx_tensor *onyx_model_output(const onyx_model *m, int i);

/* Index of the input/output with this name, or -1 when absent (or m/name NULL). */
ONYX_API int onyx_model_input_index(const onyx_model *m, const char *name);
ONYX_API int onyx_model_output_index(const onyx_model *m, const char *name);

/* The model's metadata: IR version (-1 for a NULL/failed model) and producer name.
 * Borrowed strings valid while the model lives; "" when absent or for a NULL/failed model. */
ONYX_API int64_t onyx_model_ir_version(const onyx_model *m);
ONYX_API const char *onyx_model_producer(const onyx_model *m);
/* Opset of a domain ("" or "ai.onnx" for the default domain); -1 when not imported. */
ONYX_API int64_t onyx_model_opset(const onyx_model *m, const char *domain);

/* Flags for onyx_model_load_file_flags. */
#define ONYX_LOAD_ALLOW_UNSUPPORTED 1u /* load even when ops have no implementation (for
                                        * inspection); sessions of such a model fail */

/* onyx_model_load_file with flags (0 = the same as onyx_model_load_file). */
ONYX_API onyx_status onyx_model_load_file_flags(const char *path, unsigned flags,
                                                onyx_model **out);

/* Producer version ("" when absent); graph name. Borrowed, valid while the model lives. */
ONYX_API const char *onyx_model_producer_version(const onyx_model *m);
ONYX_API const char *onyx_model_graph_name(const onyx_model *m);

/* Opset imports: count (-1 for NULL/failed), domain ("" = ai.onnx) and version of import i. */
ONYX_API int onyx_model_opset_count(const onyx_model *m);
ONYX_API const char *onyx_model_opset_domain(const onyx_model *m, int i);
ONYX_API int64_t onyx_model_opset_version(const onyx_model *m, int i);

/* Nodes in execution order: count (-1 for NULL/failed), op type, name ("" when unnamed),
 * and whether this build has an implementation for it (1) or not (0; only possible with
 * ONYX_LOAD_ALLOW_UNSUPPORTED). Strings borrowed, valid while the model lives; NULL/-1 when
 * i is out of range. */
ONYX_API int onyx_model_node_count(const onyx_model *m);
ONYX_API const char *onyx_model_node_op_type(const onyx_model *m, int i);
ONYX_API const char *onyx_model_node_name(const onyx_model *m, int i);
ONYX_API int onyx_model_node_supported(const onyx_model *m, int i);

/* Initializers (weights): count (-1 for NULL/failed) and a view of initializer i with its
 * data. Borrowed, valid while the model lives; NULL when i is out of range. */
ONYX_API int onyx_model_initializer_count(const onyx_model *m);
ONYX_API const onyx_tensor *onyx_model_initializer(const onyx_model *m, int i);

/* ---- tensor views ------------------------------------------------------------------------ */

/* Name of the tensor. Borrowed, lifetime of the view. NULL for a NULL view. */
ONYX_API const char *onyx_tensor_name(const onyx_tensor *t);
/* Element type; ONYX_DTYPE_UNDEFINED for a NULL view. */
ONYX_API onyx_dtype onyx_tensor_dtype(const onyx_tensor *t);
/* Number of dimensions; -1 for a NULL view. */
ONYX_API int onyx_tensor_rank(const onyx_tensor *t);
/* Size of dimension `axis`; -1 when symbolic/unknown or axis out of range. */
ONYX_API int64_t onyx_tensor_dim(const onyx_tensor *t, int axis);
/* Name of symbolic dim `axis` of a model input/output declaration ("" when the dim is fixed
 * or unnamed; NULL for a NULL view or axis out of range). Borrowed, lifetime of the view. */
ONYX_API const char *onyx_tensor_dim_param(const onyx_tensor *t, int axis);
/* Number of elements; -1 when a dim is unknown. */
ONYX_API int64_t onyx_tensor_count(const onyx_tensor *t);
/* Size of the data in bytes; 0 if the shape is unknown. */
ONYX_API size_t onyx_tensor_nbytes(const onyx_tensor *t);
/* Row-major (C order) element data; NULL for model declarations. Borrowed: see the getter
 * that returned the view. On a view of a weight the model released (onyx_model_load_file),
 * reads it back and keeps it for the model's life; NULL when the model's file changed since
 * loading so that it cannot. */
ONYX_API const void *onyx_tensor_data(const onyx_tensor *t);
/* Size in bytes of one element of dtype; 0 for unknown or variable-size (string) types. */
ONYX_API size_t onyx_dtype_size(onyx_dtype dt);
/* Lower-case name of a dtype ("float32", "int64", ...); "undefined" for unknown values. */
ONYX_API const char *onyx_dtype_name(onyx_dtype dt);

/* ---- owned tensors and TensorProto (.pb) files --------------------------------------------
 * Tensors made by these functions are owned by the caller and freed with onyx_tensor_free.
 * On failure they return a status, leave *out NULL and, when errbuf is not NULL, write a
 * NUL-terminated message of at most errlen bytes into errbuf. */

/* A new tensor with a copy of data (NULL = zero-filled) of shape dims[0..rank) and dtype
 * dt. name may be NULL. Returns ONYX_OK, ONYX_INVALID_ARG (bad dtype, rank, dims or out),
 * ONYX_NOMEM. */
ONYX_API onyx_status onyx_tensor_create(const char *name, onyx_dtype dt, const int64_t *dims,
                                        int rank, const void *data, onyx_tensor **out);

/* Reads a serialized ONNX TensorProto (the backend-test input_K.pb / output_K.pb format).
 * Returns ONYX_OK, ONYX_INVALID_ARG, ONYX_IO, ONYX_INVALID_MODEL (malformed or sizes that
 * do not match the dims), ONYX_UNSUPPORTED (string or external data), ONYX_NOMEM. */
ONYX_API onyx_status onyx_tensor_load_pb(const char *path, onyx_tensor **out, char *errbuf,
                                         size_t errlen);
/* The same from nbytes bytes at data (borrowed for the call only; the tensor owns a copy). */
ONYX_API onyx_status onyx_tensor_load_pb_memory(const void *data, size_t nbytes,
                                                onyx_tensor **out, char *errbuf, size_t errlen);

/* Writes t (any view or owned tensor with data) as a TensorProto file with raw_data.
 * Returns ONYX_OK, ONYX_INVALID_ARG (NULL or data-less tensor), ONYX_IO, ONYX_NOMEM. */
ONYX_API onyx_status onyx_tensor_save_pb(const onyx_tensor *t, const char *path, char *errbuf,
                                         size_t errlen);

/* Frees a tensor from onyx_tensor_create / onyx_tensor_load_pb*. NULL is a no-op; views
 * returned by models and sessions are not affected (they are not the caller's). */
ONYX_API void onyx_tensor_free(onyx_tensor *t);

/* ---- options ----------------------------------------------------------------------------- */

/* Creates default options (threads 0 = default, backend AUTO). Free with onyx_options_free.
 * Options are copied by onyx_session_create, so they may be freed right after.
 * Returns ONYX_OK, ONYX_INVALID_ARG (out NULL), ONYX_NOMEM. */
ONYX_API onyx_status onyx_options_create(onyx_options **out);
ONYX_API void onyx_options_free(onyx_options *o); /* NULL is a no-op */

/* Threads used by a session's kernels; 0 = the machine's default. n < 0: ONYX_INVALID_ARG.
 * Returns ONYX_OK, ONYX_INVALID_ARG, ONYX_MISUSE (NULL options). */
ONYX_API onyx_status onyx_options_set_num_threads(onyx_options *o, int n);

/* Kernel selection; the environment variable ONYX_BACKEND=ref forces REFERENCE.
 * Returns ONYX_OK, ONYX_INVALID_ARG (unknown value), ONYX_MISUSE (NULL options). */
ONYX_API onyx_status onyx_options_set_backend(onyx_options *o, onyx_backend b);

/* Kernel choice per node. MEASURE (the default): where more than one kernel accepts a node
 * (oneDNN's alternative kernels such as its Winograd convolution, onyx's own kernels), each
 * is timed once on the node's real shapes and thread count while the session plans, and the
 * fastest runs; the C reference kernel is timed only when nothing else accepts. The ranking
 * is remembered by the model, so later sessions and re-plans on a seen shape do not time
 * again (creating the first session takes longer). STATIC: the first implementation that
 * accepts, without timing (fastest creation). MEASURE may pick other kernels for other thread
 * counts, whose results then differ in rounding; sessions configured alike get the same
 * kernels. The environment variable ONYX_KERNEL_SELECTION=static|measure sets the default
 * for sessions whose options do not set it, and ONYX_OWN_KERNELS=0 leaves onyx's own kernels
 * out (oneDNN and the reference kernels only).
 * Returns ONYX_OK, ONYX_INVALID_ARG (unknown value), ONYX_MISUSE (NULL options). */
ONYX_API onyx_status onyx_options_set_kernel_selection(onyx_options *o, onyx_kernel_selection k);

/* Most bytes one session's plan may use (intermediate-tensor arena plus constants folded at
 * planning time); 0 = the machine's physical memory. A model whose shapes would need more
 * fails to plan with ONYX_NOMEM and a message giving both figures, before any allocation is
 * attempted (so a hostile model cannot make onyx swap or get killed).
 * Returns ONYX_OK, ONYX_MISUSE (NULL options). */
ONYX_API onyx_status onyx_options_set_memory_limit(onyx_options *o, size_t bytes);

/* Limits for loading untrusted models with onyx_model_load_*_opts: at most max_nodes nodes
 * (0 = 1,000,000) and protobuf messages nested at most max_depth deep (0 = 100, also the
 * maximum). Larger models fail with ONYX_UNSUPPORTED, deeper ones with ONYX_INVALID_MODEL.
 * Returns ONYX_OK, ONYX_INVALID_ARG (negative values), ONYX_MISUSE (NULL options). */
ONYX_API onyx_status onyx_options_set_load_limits(onyx_options *o, int max_nodes, int max_depth);

/* Graph passes run once when a model loads; every session of the model shares the result.
 * Values are fixed and only ever added to. */
enum {
    ONYX_PASS_DROP_IDENTITY = 1u << 0,  /* Identity, inference Dropout, Pad of all-zero pads:
                                         * readers take the input */
    ONYX_PASS_FOLD_CONSTANTS = 1u << 1, /* nodes of constant inputs become initializers */
    ONYX_PASS_FOLD_BN = 1u << 2,        /* Conv -> BatchNormalization: one Conv, new weights */
    ONYX_PASS_FUSE_ACT = 1u << 3,       /* Conv/MatMul/Gemm -> Relu/Clip/Sigmoid/HardSigmoid/LeakyRelu/SiLU/GELU */
                                        /* and BatchNormalization -> Relu */
    ONYX_PASS_FUSE_ADD = 1u << 4,       /* Conv -> residual Add (same shape); MatMul -> bias Add (a row) */
    ONYX_PASS_FUSE_NORM = 1u << 5,      /* LayerNormalization spelled out (ReduceMean, Sub, Pow...) -> one */
    ONYX_PASS_ALL = (1u << 6) - 1u,
};

/* The graph passes onyx_model_load_*_opts runs (ONYX_PASS_* bits; default ONYX_PASS_ALL, 0 =
 * none). Fused nodes report ONYX_NODE_FUSED, and a step that runs a fused chain names it in
 * its node's op type ("Conv+Add+Relu"). The environment variable
 * ONYX_DISABLE_PASSES=fold_bn,fuse_act,... (names as above in lower case, or "all") turns
 * passes off for every load, whatever the options say.
 * Returns ONYX_OK, ONYX_INVALID_ARG (unknown bits), ONYX_MISUSE (NULL options). */
ONYX_API onyx_status onyx_options_set_passes(onyx_options *o, unsigned mask);

/* onyx_model_load_file / onyx_model_load_memory with the load limits of o (NULL = defaults)
 * and flags (ONYX_LOAD_*). Same ownership and status codes. */
ONYX_API onyx_status onyx_model_load_file_opts(const char *path, const onyx_options *o,
                                               unsigned flags, onyx_model **out);
ONYX_API onyx_status onyx_model_load_memory_opts(const void *data, size_t nbytes,
                                                 const onyx_options *o, unsigned flags,
                                                 onyx_model **out);

/* ---- sessions ---------------------------------------------------------------------------- */

/* Creates a session for model m with options o (NULL = defaults). The session holds a
 * reference to m, so the model may be freed right after. When every input has a fixed
 * shape, memory is planned and kernels prepared here; otherwise on the first run.
 * Ownership: *out receives a session to free with onyx_session_free(), also on failure
 * (then in a failed state with a message); NULL only when memory ran out.
 * Returns ONYX_OK, ONYX_INVALID_ARG (m or out NULL), ONYX_MISUSE (failed model),
 * ONYX_NOMEM, ONYX_SHAPE_MISMATCH / ONYX_TYPE_MISMATCH / ONYX_UNSUPPORTED (a node rejects
 * its inferred inputs). */
ONYX_API onyx_status onyx_session_create(onyx_model *m, const onyx_options *o,
                                         onyx_session **out);

/* Frees a session and its memory; releases its model reference. NULL is a no-op. */
ONYX_API void onyx_session_free(onyx_session *s);

/* Last error of a session: code (ONYX_OK if none; ONYX_MISUSE for NULL) and message
 * ("" if none; "out of memory or NULL handle" for NULL). The message is borrowed and valid
 * until the next call on the session. */
ONYX_API onyx_status onyx_session_errcode(const onyx_session *s);
ONYX_API const char *onyx_session_errmsg(const onyx_session *s);

/* Binds input i to caller memory: dtype dt, shape dims[0..rank), nbytes bytes of row-major
 * data. The buffer is borrowed read-only until the next onyx_session_run returns; onyx
 * never writes to it. A shape different from the last run's makes the next run re-infer
 * shapes and re-plan memory by itself. dims may be NULL when rank is 0.
 * REQUIRES: 0 <= i < onyx_model_input_count; dt equals the declared dtype; rank and the
 * fixed dims match the declaration; nbytes == elements * dtype size.
 * Returns ONYX_OK, ONYX_MISUSE (NULL/failed session), ONYX_INVALID_ARG (index, NULL data,
 * negative dims, nbytes), ONYX_TYPE_MISMATCH (dtype), ONYX_SHAPE_MISMATCH (rank/dims). */
ONYX_API onyx_status onyx_session_bind_input(onyx_session *s, int i, onyx_dtype dt,
                                             const int64_t *dims, int rank, const void *data,
                                             size_t nbytes);

/* Optionally makes output i be written into caller memory of nbytes bytes (borrowed until
 * the session is freed or the output is bound again; NULL data unbinds). onyx_session_run
 * fails with ONYX_INVALID_ARG if nbytes is smaller than the output's inferred size.
 * Returns ONYX_OK, ONYX_MISUSE (NULL/failed session), ONYX_INVALID_ARG (index out of
 * range). */
ONYX_API onyx_status onyx_session_bind_output(onyx_session *s, int i, void *data,
                                              size_t nbytes);

/* Runs the model on the bound inputs. Allocates nothing when the input shapes are those of
 * the previous run. A failed run leaves the session usable: bind and run again.
 * Returns ONYX_OK, ONYX_MISUSE (an input not bound, NULL session), ONYX_INVALID_ARG (a
 * bound output buffer too small), ONYX_SHAPE_MISMATCH / ONYX_TYPE_MISMATCH (inputs that the
 * graph rejects), ONYX_NOMEM, ONYX_UNSUPPORTED, ONYX_INVALID_MODEL (e.g. data-dependent
 * values out of range). */
ONYX_API onyx_status onyx_session_run(onyx_session *s);

/* Output i of the last successful run: name, dtype, shape and data. Before any run the
 * shape is the inferred one (when known) and the data NULL. Borrowed: valid until the next
 * bind, run or free on this session. NULL when i is out of range or s is NULL/failed. */
ONYX_API const onyx_tensor *onyx_session_output(const onyx_session *s, int i);

/* Infers shapes, plans memory and prepares kernels for the bound inputs without running
 * (onyx_session_run does this by itself; this lets a caller see the plan or pay the cost
 * up front). Returns the codes of onyx_session_run. */
ONYX_API onyx_status onyx_session_prepare(onyx_session *s);

/* Bytes of the session's planned intermediate-tensor arena (0 before planning) and the sum
 * of the sizes of all intermediate tensors (what one buffer each would cost). 0 for a
 * NULL/failed session. */
ONYX_API size_t onyx_session_arena_bytes(const onyx_session *s);
ONYX_API size_t onyx_session_intermediate_bytes(const onyx_session *s);


/* ---- logging -------------------------------------------------------------------------------
 * The library never prints. A program that wants its diagnostics installs a callback. */

/* Severity of a log message. Values are fixed and only ever added to. */
typedef enum onyx_log_level {
    ONYX_LOG_DEBUG = 0, /* per-node detail: implementation chosen, constant folded */
    ONYX_LOG_INFO = 1,  /* per-plan events: model loaded, memory planned, re-plan on new shapes */
    ONYX_LOG_WARN = 2,  /* something works, but not as well as it could */
    ONYX_LOG_ERROR = 3, /* an operation failed (the status and errmsg say the same) */
    ONYX_LOG_OFF = 4,   /* as min_level: deliver nothing */
} onyx_log_level;

/* A log callback: receives the level and a NUL-terminated message without a trailing
 * newline (borrowed: valid only during the call; copy it to keep it). It may be called from
 * any thread that calls into onyx, also from several threads at once, so it must be
 * thread-safe. It must not call onyx_set_log_callback (that would dead-lock). */
typedef void (*onyx_log_fn)(void *user_data, onyx_log_level level, const char *message);

/* Installs fn as the process-wide receiver of messages at min_level or above; fn NULL (or
 * min_level ONYX_LOG_OFF) turns logging off, which is the default. user_data is passed to fn
 * unchanged and is borrowed: it must stay valid until the callback is replaced. When this
 * returns, no thread is inside (or will enter) the previous callback, so its user_data may
 * be freed. Thread-safe. When logging is off, nothing is formatted: it costs one atomic
 * load per would-be message. Levels outside DEBUG..OFF are clamped to OFF. */
ONYX_API void onyx_set_log_callback(onyx_log_fn fn, void *user_data, onyx_log_level min_level);

/* Lower-case name of a level ("debug", "info", "warn", "error", "off"; "unknown" else).
 * Static storage; never NULL. */
ONYX_API const char *onyx_log_level_name(onyx_log_level level);

/* ---- model graph structure ------------------------------------------------------------- */

/* Number of input / output slots of node i (in the execution order of
 * onyx_model_node_op_type), -1 when m is NULL/failed or i out of range. */
ONYX_API int onyx_model_node_input_count(const onyx_model *m, int i);
ONYX_API int onyx_model_node_output_count(const onyx_model *m, int i);

/* Name of the value in slot k of node i's inputs / outputs; "" for an absent optional
 * input or output. NULL when m is NULL/failed or i or k is out of range. Borrowed: valid
 * while the model lives. */
ONYX_API const char *onyx_model_node_input_name(const onyx_model *m, int i, int k);
ONYX_API const char *onyx_model_node_output_name(const onyx_model *m, int i, int k);

/* ---- profiling --------------------------------------------------------------------------
 * A session created with profiling on times every step of every run. It keeps per-step
 * totals and the timeline of the last ONYX_PROFILE_MAX_RUNS runs, all in memory reserved
 * when the session plans, so a profiled run still allocates nothing. Re-planning (new input
 * shapes) starts the profile afresh, as steps, shapes and implementations may change. With
 * profiling off the executor does no timing at all. */

#define ONYX_PROFILE_MAX_RUNS 64

/* Turns per-step timing on (enable != 0) or off (the default) for sessions created with o.
 * Returns ONYX_OK, ONYX_MISUSE (NULL options). */
ONYX_API onyx_status onyx_options_set_profiling(onyx_options *o, int enable);

/* Forgets everything recorded so far (e.g. after warm-up runs). Returns ONYX_OK,
 * ONYX_MISUSE (NULL/failed session, or profiling is off). */
ONYX_API onyx_status onyx_session_profile_reset(onyx_session *s);

/* Number of runs recorded since the profile started (the last plan or reset); 0 when
 * profiling is off; -1 for a NULL/failed session. */
ONYX_API int64_t onyx_session_profile_runs(const onyx_session *s);

/* Total nanoseconds step i spent running over the recorded runs; -1 when i is out of
 * range, profiling is off, or s is NULL/failed. REQUIRES: 0 <= i < onyx_session_step_count. */
ONYX_API int64_t onyx_session_step_time_ns(const onyx_session *s, int i);

/* Writes the recorded timeline (at most the last ONYX_PROFILE_MAX_RUNS runs) to path in the
 * Chrome trace event format (JSON; opens in https://ui.perfetto.dev or chrome://tracing):
 * one "X" event per step per run, named after the node, whose args give the op, the
 * implementation, the data layout, the input and output shapes and the run number, nested
 * in one "run" event per run. Each session is its own process (pid) in the trace. The file
 * is created or truncated. Returns ONYX_OK, ONYX_INVALID_ARG (path NULL), ONYX_MISUSE
 * (NULL/failed session, profiling off), ONYX_IO (cannot write; errmsg says why). */
ONYX_API onyx_status onyx_session_profile_write(onyx_session *s, const char *path);

/* ---- introspection of the current plan --------------------------------------------------
 * After planning (onyx_session_prepare or a run), a session can describe what it will
 * execute and where its intermediate tensors live. Before planning the counts are 0.
 * Step and tensor numbers are valid until the next plan (a run with new input shapes). */

/* What the plan does with a model node. Values are fixed and only ever added to. */
typedef enum onyx_node_state {
    ONYX_NODE_NOT_PLANNED = 0, /* the session has no plan yet */
    ONYX_NODE_EXECUTED = 1,    /* a step of the plan runs it */
    ONYX_NODE_FOLDED = 2,      /* computed once at plan time (all inputs were constant) */
    ONYX_NODE_FUSED = 3,       /* merged into the step of another node */
} onyx_node_state;

/* The plan's treatment of node i (model execution order). ONYX_NODE_NOT_PLANNED also for
 * a NULL/failed session or i out of range. */
ONYX_API onyx_node_state onyx_session_node_state(const onyx_session *s, int i);

/* Steps (executed kernels) of the plan, in run order: 0 before planning, -1 for a
 * NULL/failed session. */
ONYX_API int onyx_session_step_count(const onyx_session *s);

/* The model node step i runs (an index for onyx_model_node_op_type and friends); -1 when
 * i is out of range or s is NULL/failed. */
ONYX_API int onyx_session_step_node(const onyx_session *s, int i);

/* Name of the implementation step i uses ("ref" = the C reference kernels, "dnnl" =
 * oneDNN) and of the data layout of its activations ("plain" = row-major ONNX layout).
 * Static storage; NULL when i is out of range or s is NULL/failed. */
ONYX_API const char *onyx_session_step_impl(const onyx_session *s, int i);
ONYX_API const char *onyx_session_step_layout(const onyx_session *s, int i);

/* The kernel step i runs, as its implementation names it: oneDNN's implementation (e.g.
 * "brgconv:avx512_core", "jit_wino_4x3:avx512_core" for its Winograd convolution) or an own
 * kernel's variant. With measured kernel selection this is the candidate that was fastest.
 * Static storage; NULL when the implementation names none, i is out of range or s is
 * NULL/failed. */
ONYX_API const char *onyx_session_step_kernel(const onyx_session *s, int i);

/* Number of input / output slots of step i (-1 when out of range), and a view of slot k
 * with the planned dtype and shape (NULL for an absent optional slot or out of range).
 * Borrowed: valid until the next bind, run, prepare or free on s. The view's data is that
 * of the last run only for graph inputs, outputs and constants: an intermediate's memory
 * is shared with other tensors (see onyx_session_plan_tensor). */
ONYX_API int onyx_session_step_input_count(const onyx_session *s, int i);
ONYX_API int onyx_session_step_output_count(const onyx_session *s, int i);
ONYX_API const onyx_tensor *onyx_session_step_input(const onyx_session *s, int i, int k);
ONYX_API const onyx_tensor *onyx_session_step_output(const onyx_session *s, int i, int k);

/* Estimated floating-point operations of one execution of step i (a multiply-add counts
 * as 2) for Conv, ConvTranspose, MatMul, Gemm and element-wise ops; 0 when onyx has no
 * estimate for the op; -1 when i is out of range or s is NULL/failed. */
ONYX_API double onyx_session_step_flops(const onyx_session *s, int i);

/* A view of the value called name as planned (dtype, shape; constants also data), for any
 * graph value: inputs, initializers, intermediates, outputs. NULL when absent, before
 * planning, or for a NULL/failed session or name. Borrowed as onyx_session_step_input. */
ONYX_API const onyx_tensor *onyx_session_value(const onyx_session *s, const char *name);

/* Number of intermediate tensors placed in the arena (0 before planning, -1 for a
 * NULL/failed session). */
ONYX_API int onyx_session_plan_tensor_count(const onyx_session *s);

/* Placement of arena tensor i: its name (borrowed, valid while the model lives), byte
 * offset in the arena and byte size, and the first and last step at which it is alive
 * (its producer and last reader; graph outputs live to step onyx_session_step_count).
 * Tensors whose byte ranges overlap share memory: their lifetimes never overlap, except that an
 * in-place output takes over its input at the step where the input dies, and the inputs of a
 * zero-copy Concat are slices of its output (which lives as long as all of them). Any out
 * pointer may be NULL. Returns ONYX_OK, ONYX_MISUSE (NULL/failed session), ONYX_INVALID_ARG
 * (i out of range). */
ONYX_API onyx_status onyx_session_plan_tensor(const onyx_session *s, int i, const char **name,
                                              size_t *offset, size_t *nbytes, int *first_step,
                                              int *last_step);

#ifdef __cplusplus
}
#endif
#endif /* ONYX_H */
