/*
 * Shared helpers for the Check test programs:
 *  - an op harness that runs one op's shape inference and one implementation on
 *    hand-made tensors, without a model file (tu_node_*, tu_run_op);
 *  - tensor construction and comparison;
 *  - file helpers (paths of committed data, temp files), model loading and the suite runner.
 */
#ifndef ONYX_TESTUTIL_H
#define ONYX_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "op.h"
#include "onyx.h"

/* ---- op harness ---- */

/* A node for op_type at opset with n_in inputs and n_out outputs (inputs named "x0".., outputs
 * "y0"..). Free with tu_node_free. */
onyxi_node *tu_node_new(const char *op_type, int64_t opset, int n_in, int n_out);
void tu_node_free(onyxi_node *n);
/* Marks input k as absent (an empty name in ONNX). */
void tu_node_absent_input(onyxi_node *n, int k);
void tu_attr_int(onyxi_node *n, const char *name, int64_t v);
void tu_attr_float(onyxi_node *n, const char *name, float v);
void tu_attr_string(onyxi_node *n, const char *name, const char *v);
void tu_attr_ints(onyxi_node *n, const char *name, int count, const int64_t *v);
void tu_attr_floats(onyxi_node *n, const char *name, int count, const float *v);

/* A tensor owning a copy of data (data NULL: zero-filled). Free with tu_tensor_free. */
onyx_tensor *tu_tensor(onyx_dtype dt, int rank, const int64_t *dims, const void *data);
/* Float32 tensor filled with seeded uniform values in [lo, hi). */
onyx_tensor *tu_tensor_random(int rank, const int64_t *dims, unsigned seed, float lo, float hi);
void tu_tensor_free(onyx_tensor *t);

/* Which inputs the op harness marks constant (initializer-like) for implementations that
 * want constant weights: bit k = input k. Default: every input but the first. */
extern unsigned tu_const_inputs;
/* Which outputs a dnnl implementation may give a blocked layout (x->blocked_ok), as a session
 * does when every consumer is a oneDNN step: bit k = output k. Default 0. The harness reorders
 * such an output back to plain before the step's fini, so results still compare directly;
 * tu_last_blocked_out counts the outputs of the last run that came out blocked. */
extern unsigned tu_blocked_ok;
extern int tu_last_blocked_out;

/* Runs node n: registry lookup at n->opset, generic check, infer, then the implementation
 * named impl (NULL = "ref"; "dnnl" gets an engine, stream, weight cache and scratch)
 * init/run/fini. inputs[k] NULL = absent. On success outputs[k]
 * receive new tensors (free with tu_tensor_free). Returns the status; on failure err
 * holds the message (without the node prefix). */
onyx_status tu_run_op(onyxi_node *n, onyx_tensor *const *inputs, onyx_tensor **outputs,
                      const char *impl, onyxi_err *err);

/* The op's reference implementation (the last in its list). */
const onyxi_impl *tu_ref_impl(const onyxi_op *op);

/* Only check + infer; outputs receive shape-only tensors (data NULL). */
onyx_status tu_infer_op(onyxi_node *n, onyx_tensor *const *inputs, onyx_tensor **outputs,
                        onyxi_err *err);

/* ck_assert that got equals want element-wise within atol + rtol*|want| (shapes too). */
void tu_assert_close(const onyx_tensor *got, const onyx_tensor *want, double atol, double rtol);
/* Same against a plain float array of the expected shape. */
void tu_assert_floats(const onyx_tensor *got, int rank, const int64_t *dims, const float *want,
                      double atol, double rtol);

/* Runs node n (freed here) with the reference implementation on n_in inputs (freed here;
 * NULL = absent) into outputs[0..]; returns tu_run_op's status. */
onyx_status tu_run_node(onyxi_node *n, int n_in, onyx_tensor **inputs, onyx_tensor **outputs,
                        onyxi_err *err);
/* tu_run_node on a new node of op at opset with one (x) or two (a, b) inputs, one output. */
onyx_status tu_run1(const char *op, int64_t opset, onyx_tensor *x, onyx_tensor **y, onyxi_err *err);
onyx_status tu_run2(const char *op, int64_t opset, onyx_tensor *a, onyx_tensor *b, onyx_tensor **y,
                    onyxi_err *err);
/* ck_assert that y has dtype dt, shape dims and exactly the bytes of want; frees y. */
void tu_assert_exact(onyx_tensor *y, onyx_dtype dt, int rank, const int64_t *dims,
                     const void *want);

/* ---- files ---- */
/* Writes nbytes to a new temp file under ONYX_TEST_TMP_DIR named after tag; returns a static
 * path buffer (overwritten by the next call). */
const char *tu_write_temp(const char *tag, const void *data, size_t nbytes);
/* Reads a whole file into a malloc'd buffer (caller frees); NULL on failure. */
void *tu_read_file(const char *path, size_t *nbytes);
/* Writes len bytes to dir/name, creating dir (not its parents) when missing. */
void tu_write_file(const char *dir, const char *name, const void *data, size_t len);

/* ---- models and programs ---- */
/* Loads the model file at path through the public API, asserting success (the message names
 * path and the loader's error). Free with onyx_model_free. */
onyx_model *tu_load_model(const char *path);

/* Runs every test of s (taking ownership of s) and returns main's exit status: EXIT_SUCCESS
 * when none failed, else EXIT_FAILURE. */
int tu_run_suite(Suite *s);

#endif
