/*
 * Test helpers (see testutil.h). The op harness mirrors what the session does for one
 * node: registry lookup, generic check, infer, then init/run/fini of one implementation.
 */
#define _POSIX_C_SOURCE 200809L /* mkdir */

#include "testutil.h"

#include "dnnl_util.h"
#include "weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *xstrdup(const char *s) {
    char *c = onyxi_strdup(s);
    ck_assert_ptr_nonnull(c);
    return c;
}

onyxi_node *tu_node_new(const char *op_type, int64_t opset, int n_in, int n_out) {
    onyxi_node *n = calloc(1, sizeof *n);
    ck_assert_ptr_nonnull(n);
    n->name = xstrdup("test_node");
    n->op_type = xstrdup(op_type);
    n->domain = xstrdup("");
    n->opset = opset;
    n->n_inputs = n_in;
    n->n_outputs = n_out;
    n->inputs = calloc((size_t)n_in + 1, sizeof(int));
    n->outputs = calloc((size_t)n_out + 1, sizeof(int));
    for (int k = 0; k < n_in; k++) n->inputs[k] = k;
    for (int k = 0; k < n_out; k++) n->outputs[k] = n_in + k;
    n->attrs = calloc(32, sizeof(onyxi_attr));
    return n;
}

void tu_node_absent_input(onyxi_node *n, int k) { n->inputs[k] = -1; }

static onyxi_attr *new_attr(onyxi_node *n, const char *name, onyxi_attr_type type) {
    ck_assert_int_lt(n->n_attrs, 32);
    onyxi_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = xstrdup(name);
    a->type = type;
    return a;
}

void tu_attr_int(onyxi_node *n, const char *name, int64_t v) {
    new_attr(n, name, ONYXI_ATTR_INT)->i = v;
}

void tu_attr_float(onyxi_node *n, const char *name, float v) {
    new_attr(n, name, ONYXI_ATTR_FLOAT)->f = v;
}

void tu_attr_string(onyxi_node *n, const char *name, const char *v) {
    onyxi_attr *a = new_attr(n, name, ONYXI_ATTR_STRING);
    a->s = xstrdup(v);
    a->s_len = strlen(v);
}

void tu_attr_ints(onyxi_node *n, const char *name, int count, const int64_t *v) {
    onyxi_attr *a = new_attr(n, name, ONYXI_ATTR_INTS);
    a->count = count;
    a->ints = onyxi_calloc((size_t)count + 1, sizeof(int64_t));
    if (count) memcpy(a->ints, v, (size_t)count * sizeof(int64_t));
}

void tu_attr_floats(onyxi_node *n, const char *name, int count, const float *v) {
    onyxi_attr *a = new_attr(n, name, ONYXI_ATTR_FLOATS);
    a->count = count;
    a->floats = onyxi_calloc((size_t)count + 1, sizeof(float));
    if (count) memcpy(a->floats, v, (size_t)count * sizeof(float));
}

void tu_node_free(onyxi_node *n) {
    if (!n) return;
    for (int i = 0; i < n->n_attrs; i++) {
        onyxi_free(n->attrs[i].name);
        onyxi_free(n->attrs[i].s);
        onyxi_free(n->attrs[i].ints);
        onyxi_free(n->attrs[i].floats);
    }
    free(n->attrs);
    onyxi_free(n->name);
    onyxi_free(n->op_type);
    onyxi_free(n->domain);
    free(n->inputs);
    free(n->outputs);
    free(n);
}

onyx_tensor *tu_tensor(onyx_dtype dt, int rank, const int64_t *dims, const void *data) {
    onyx_tensor *t = calloc(1, sizeof *t);
    ck_assert_ptr_nonnull(t);
    t->name = "";
    t->dtype = dt;
    t->rank = rank;
    for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
    int64_t count = onyxi_shape_count(rank, dims);
    ck_assert_int_ge(count, 0);
    t->nbytes = (size_t)count * onyxi_dtype_size(dt);
    t->data = calloc(1, t->nbytes + 64); /* never NULL, even for empty tensors */
    ck_assert_ptr_nonnull(t->data);
    if (data && t->nbytes) memcpy(t->data, data, t->nbytes);
    return t;
}

onyx_tensor *tu_tensor_random(int rank, const int64_t *dims, unsigned seed, float lo, float hi) {
    onyx_tensor *t = tu_tensor(ONYX_DTYPE_FLOAT32, rank, dims, NULL);
    float *p = t->data;
    unsigned s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < t->nbytes / sizeof(float); i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = lo + (hi - lo) * (float)((s >> 8) / 16777216.0);
    }
    return t;
}

void tu_tensor_free(onyx_tensor *t) {
    if (!t) return;
    free(t->data);
    free(t);
}

unsigned tu_const_inputs = ~1u;
unsigned tu_blocked_ok = 0u;
int tu_last_blocked_out = 0;

/* Rewrites t (a dnnl step's output in the blocked layout t->layout, which the step's state
 * owns) into a new plain buffer, before the state goes away. */
static void unblock_output(const onyxi_backend *be, onyx_tensor *t) {
    const dnnl_memory_desc_t *from = t->layout;
    dnnl_memory_desc_t to;
    onyxi_err err;
    ck_assert_int_eq(onyxi_dnnl_md_plain(&to, t, &err), ONYX_OK);
    size_t n = dnnl_memory_desc_get_size(&to);
    void *plain = calloc(1, n + 64);
    ck_assert_ptr_nonnull(plain);
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t mf, mt;
    ck_assert_int_eq(
        dnnl_reorder_primitive_desc_create(&pd, from, be->engine, &to, be->engine, NULL),
        dnnl_success);
    ck_assert_int_eq(dnnl_primitive_create(&prim, pd), dnnl_success);
    ck_assert_int_eq(dnnl_memory_create(&mf, from, be->engine, t->data), dnnl_success);
    ck_assert_int_eq(dnnl_memory_create(&mt, &to, be->engine, plain), dnnl_success);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, mf}, {DNNL_ARG_TO, mt}};
    ck_assert_int_eq(dnnl_primitive_execute(prim, be->stream, 2, args), dnnl_success);
    ck_assert_int_eq(dnnl_stream_wait(be->stream), dnnl_success);
    dnnl_memory_destroy(mf);
    dnnl_memory_destroy(mt);
    dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
    free(t->data);
    t->data = plain;
    t->nbytes = n;
    t->layout = NULL;
}

static onyx_status harness(onyxi_node *n, onyx_tensor *const *inputs, onyx_tensor **outputs,
                           const char *impl_name, int run, onyxi_err *err) {
    onyxi_err_clear(err);
    const onyxi_op *op = onyxi_op_find(n->domain, n->op_type, n->opset, err);
    if (!op) return err->code;
    n->op = op;
    onyx_status rc = onyxi_op_check_node(op, n, err);
    if (rc != ONYX_OK) return rc;

    onyx_tensor *outs[16] = {0};
    const onyx_tensor *ins[16] = {0};
    ck_assert_int_le(n->n_inputs, 16);
    ck_assert_int_le(n->n_outputs, 16);
    for (int k = 0; k < n->n_inputs; k++) ins[k] = n->inputs[k] < 0 ? NULL : inputs[k];
    for (int k = 0; k < n->n_outputs; k++) {
        outs[k] = calloc(1, sizeof(onyx_tensor));
        outs[k]->name = "";
        outs[k]->rank = -1;
    }
    onyxi_infer ic = {.node = n, .n_in = n->n_inputs, .in = ins, .n_out = n->n_outputs,
                      .out = outs, .err = err};
    rc = op->infer(&ic);
    for (int k = 0; rc == ONYX_OK && k < n->n_outputs; k++) {
        onyx_tensor *o = outs[k];
        if (o->rank < 0 || onyxi_shape_count(o->rank, o->dims) < 0)
            rc = onyxi_fail(err, ONYX_INTERNAL, "infer left output %d's shape unknown", k);
        else {
            o->nbytes = (size_t)onyxi_shape_count(o->rank, o->dims) * onyxi_dtype_size(o->dtype);
            if (run) {
                o->data = calloc(1, o->nbytes + 64);
                memset(o->data, 0xA5, o->nbytes); /* poison: kernels must write every element */
            }
        }
    }
    if (rc == ONYX_OK && run) {
        const onyxi_impl *impl = NULL;
        const char *want = impl_name ? impl_name : "ref";
        for (int i = 0; op->impls[i]; i++)
            if (strcmp(op->impls[i]->name, want) == 0) impl = op->impls[i];
        if (!impl) {
            rc = onyxi_fail(err, ONYX_UNSUPPORTED, "no implementation named '%s'", want);
        } else {
            onyxi_exec x = {.node = n, .n_in = n->n_inputs, .in = ins, .n_out = n->n_outputs,
                             .out = outs, .num_threads = 1, .err = err,
                             .const_inputs = tu_const_inputs};
            tu_last_blocked_out = 0;
            /* a oneDNN implementation gets what a session gives it: engine, stream, a weight
             * cache and a scratch buffer; outputs stay plain so results compare directly */
            onyxi_backend be = {0};
            onyxi_weight_cache *cache = NULL;
            void *scratch = NULL;
            int dnnl = onyxi_impl_takes_blocked(impl);
            if (dnnl) {
                ck_assert_int_eq(onyxi_dnnl_engine(&be.engine, err), ONYX_OK);
                ck_assert_int_eq(dnnl_stream_create(&be.stream, be.engine,
                                                    dnnl_stream_default_flags),
                                 dnnl_success);
                be.threads = 1;
                cache = onyxi_weights_create();
                x.backend = &be;
                x.weights = cache;
                x.blocked_ok = tu_blocked_ok;
            }
            rc = impl->init ? impl->init(&x) : ONYX_OK;
            for (int k = 0; rc == ONYX_OK && k < n->n_outputs; k++)
                if (outs[k]->layout) { /* a blocked layout may be padded: the planner's size */
                    free(outs[k]->data);
                    outs[k]->data = calloc(1, outs[k]->nbytes + 64);
                    ck_assert_ptr_nonnull(outs[k]->data);
                    memset(outs[k]->data, 0xA5, outs[k]->nbytes);
                }
            if (rc == ONYX_OK && x.scratch_bytes) x.scratch = scratch = malloc(x.scratch_bytes);
            if (rc == ONYX_OK) rc = impl->run(&x);
            for (int k = 0; rc == ONYX_OK && dnnl && k < n->n_outputs; k++)
                if (outs[k]->layout) {
                    ck_assert_msg(tu_blocked_ok >> k & 1u, "output %d is blocked unasked", k);
                    unblock_output(&be, outs[k]);
                    tu_last_blocked_out++;
                }
            if (impl->fini) impl->fini(&x);
            free(scratch);
            if (dnnl) {
                onyxi_weights_free(cache);
                dnnl_stream_destroy(be.stream);
            }
        }
    }
    for (int k = 0; k < n->n_outputs; k++) {
        if (rc == ONYX_OK)
            outputs[k] = outs[k];
        else {
            tu_tensor_free(outs[k]);
            outputs[k] = NULL;
        }
    }
    return rc;
}

onyx_status tu_run_op(onyxi_node *n, onyx_tensor *const *inputs, onyx_tensor **outputs,
                      const char *impl, onyxi_err *err) {
    return harness(n, inputs, outputs, impl, 1, err);
}

onyx_status tu_run_node(onyxi_node *n, int n_in, onyx_tensor **inputs, onyx_tensor **outputs,
                        onyxi_err *err) {
    for (int k = 0; k < n_in; k++)
        if (!inputs[k]) tu_node_absent_input(n, k);
    onyx_status rc = tu_run_op(n, inputs, outputs, NULL, err);
    for (int k = 0; k < n_in; k++)
        tu_tensor_free(inputs[k]);
    tu_node_free(n);
    return rc;
}

onyx_status tu_run1(const char *op, int64_t opset, onyx_tensor *x, onyx_tensor **y,
                    onyxi_err *err) {
    onyx_tensor *in[1] = {x};
    return tu_run_node(tu_node_new(op, opset, 1, 1), 1, in, y, err);
}

onyx_status tu_run2(const char *op, int64_t opset, onyx_tensor *a, onyx_tensor *b, onyx_tensor **y,
                    onyxi_err *err) {
    onyx_tensor *in[2] = {a, b};
    return tu_run_node(tu_node_new(op, opset, 2, 1), 2, in, y, err);
}

void tu_assert_exact(onyx_tensor *y, onyx_dtype dt, int rank, const int64_t *dims,
                     const void *want) {
    ck_assert_ptr_nonnull(y);
    ck_assert_msg(y->dtype == dt, "dtype %s, want %s", onyx_dtype_name(y->dtype),
                  onyx_dtype_name(dt));
    ck_assert_int_eq(y->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_int_eq(y->dims[i], dims[i]);
    size_t es = onyxi_dtype_size(dt);
    int64_t count = onyxi_shape_count(rank, dims);
    for (int64_t i = 0; i < count; i++)
        ck_assert_msg(memcmp((char *)y->data + i * es, (const char *)want + i * es, es) == 0,
                      "element %lld differs", (long long)i);
    tu_tensor_free(y);
}

onyx_status tu_infer_op(onyxi_node *n, onyx_tensor *const *inputs, onyx_tensor **outputs,
                        onyxi_err *err) {
    return harness(n, inputs, outputs, NULL, 0, err);
}

static void assert_close_data(const float *got, const float *want, int64_t count, double atol,
                              double rtol) {
    for (int64_t i = 0; i < count; i++) {
        double g = got[i], w = want[i];
        if (isnan(w)) {
            ck_assert_msg(isnan(g), "element %lld: got %.9g, want NaN", (long long)i, g);
            continue;
        }
        ck_assert_msg(fabs(g - w) <= atol + rtol * fabs(w),
                      "element %lld: got %.9g, want %.9g (atol %g, rtol %g)", (long long)i, g, w,
                      atol, rtol);
    }
}

void tu_assert_floats(const onyx_tensor *got, int rank, const int64_t *dims, const float *want,
                      double atol, double rtol) {
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(got->dtype, ONYX_DTYPE_FLOAT32);
    ck_assert_int_eq(got->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_msg(got->dims[i] == dims[i], "dim %d: got %lld, want %lld", i,
                      (long long)got->dims[i], (long long)dims[i]);
    assert_close_data(got->data, want, onyxi_shape_count(rank, dims), atol, rtol);
}

void tu_assert_close(const onyx_tensor *got, const onyx_tensor *want, double atol, double rtol) {
    ck_assert_ptr_nonnull(want);
    tu_assert_floats(got, want->rank, want->dims, want->data, atol, rtol);
}

const char *tu_write_temp(const char *tag, const void *data, size_t nbytes) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", ONYX_TEST_TMP_DIR, tag);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    if (nbytes) ck_assert_uint_eq(fwrite(data, 1, nbytes, f), nbytes);
    fclose(f);
    return path;
}

void *tu_read_file(const char *path, size_t *nbytes) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf && nbytes) *nbytes = (size_t)n;
    return buf;
}

void tu_write_file(const char *dir, const char *name, const void *data, size_t len) {
    char path[1024];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    if (len) ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

onyx_model *tu_load_model(const char *path) {
    onyx_model *m = NULL;
    onyx_status rc = onyx_model_load_file(path, &m);
    ck_assert_msg(rc == ONYX_OK, "load %s: %s (%s)", path, onyx_status_str(rc),
                  m ? onyx_model_errmsg(m) : "no model handle");
    ck_assert_ptr_nonnull(m);
    return m;
}

int tu_run_suite(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

const onyxi_impl *tu_ref_impl(const onyxi_op *op) {
    const onyxi_impl *impl = NULL;
    for (int i = 0; op->impls[i]; i++) impl = op->impls[i];
    ck_assert_str_eq(impl->name, "ref");
    return impl;
}
