/*
 * NumPy .npy files for the CLI (not the library): format versions 1.0, 2.0 and 3.0,
 * little-endian, C order; float16/32/64, int8..int64, uint8..uint64 and bool. Plus the
 * helpers that pick .npy or TensorProto .pb by a file's content or name.
 */
#ifndef ONYX_NPY_H
#define ONYX_NPY_H

#include <stddef.h>

#include "onyx.h"

/* Parses an .npy file held in memory into a new tensor named name (may be NULL). Returns
 * ONYX_OK, ONYX_INVALID_MODEL (malformed, with the reason in err), ONYX_UNSUPPORTED
 * (big-endian, Fortran order, or a dtype ONNX/onyx has no equal for), ONYX_NOMEM.
 * *out is freed by the caller with onyx_tensor_free. */
onyx_status npy_parse(const void *data, size_t n, const char *name, onyx_tensor **out, char *err,
                      size_t errlen);
/* Reads an .npy file (the tensor is named after the file, without folder and extension). */
onyx_status npy_load(const char *path, onyx_tensor **out, char *err, size_t errlen);
/* Writes t as an .npy file (version 1.0; 2.0 when the header needs it). Returns ONYX_OK,
 * ONYX_INVALID_ARG (no data), ONYX_UNSUPPORTED (a dtype .npy cannot hold), ONYX_IO. */
onyx_status npy_save(const onyx_tensor *t, const char *path, char *err, size_t errlen);

/* 1 when path starts with the .npy magic "\x93NUMPY". */
int npy_is_npy_file(const char *path);
/* 1 when path ends in ".npy". */
int npy_has_npy_suffix(const char *path);

/* Loads a tensor from an .npy or a TensorProto .pb file, by the file's content. */
onyx_status cli_tensor_load(const char *path, onyx_tensor **out, char *err, size_t errlen);
/* Saves t as .npy when path ends in ".npy", else as a TensorProto .pb. */
onyx_status cli_tensor_save(const onyx_tensor *t, const char *path, char *err, size_t errlen);

#endif
