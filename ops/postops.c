/*
 * Post-op chains of fused nodes (postops.h): validation, the reference application (the
 * formulas of the Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, Mul, Add and Div/Erf kernels, so
 * that a fused chain gives the same bits as the unfused nodes) and the oneDNN eltwise
 * equivalents.
 */
#include <math.h>
#include <string.h>

#include "../runtime/dnnl_util.h"
#include "postops.h"
#include "vmath.h"

const onyxi_fusion *onyxi_post_chain(const onyxi_node *n) {
    const onyxi_fusion *f = n->fusion;
    return f && f->role == ONYXI_FUSION_HOST && f->n_post > 0 ? f : NULL;
}

/* A bias reads a float32 input [..., 1, N] of at most the output's rank, N its last dim. */
static onyx_status bias_check(const onyxi_post_op *p, int i, int n_in, const onyx_tensor *const *in,
                              int first_addend, int rank, const int64_t *dims, onyxi_err *e) {
    if (first_addend < 0 || p->input < first_addend || p->input >= n_in || !in[p->input])
        return onyxi_fail(e, ONYX_INTERNAL, "post-op %d (bias Add) reads input %d, which is absent",
                          i, p->input);
    const onyx_tensor *r = in[p->input];
    int ok = r->dtype == ONYX_DTYPE_FLOAT32 && rank >= 1 && r->rank >= 1 && r->rank <= rank &&
             r->dims[r->rank - 1] == dims[rank - 1] && dims[rank - 1] > 0;
    for (int d = 0; ok && d < r->rank - 1; d++)
        ok = r->dims[d] == 1;
    if (ok) return ONYX_OK;
    char b1[160], b2[160];
    return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                      "fused bias Add input %d ('%s') is %s %s, expected float32 [..., 1, %lld] "
                      "(the node's output is %s)",
                      p->input, r->name ? r->name : "", onyx_dtype_name(r->dtype),
                      onyxi_shape_str(r->rank, r->dims, b1, sizeof b1),
                      rank >= 1 ? (long long)dims[rank - 1] : 0LL,
                      onyxi_shape_str(rank, dims, b2, sizeof b2));
}

onyx_status onyxi_post_check(const onyxi_node *n, int n_in, const onyx_tensor *const *in,
                             int first_addend, onyx_dtype dtype, int rank, const int64_t *dims,
                             onyxi_err *e) {
    const onyxi_fusion *f = n->fusion;
    if (!f || (f->role == ONYXI_FUSION_HOST && f->n_post == 0)) return ONYX_OK;
    if (f->role != ONYXI_FUSION_HOST || f->n_post < 0 || f->n_post > ONYXI_MAX_POST_OPS)
        return onyxi_fail(e, ONYX_INTERNAL, "the fused node has a malformed post-op chain");
    if (dtype != ONYX_DTYPE_FLOAT32)
        return onyxi_fail(e, ONYX_INTERNAL,
                          "the fused node's output has dtype %s, post-ops need float32",
                          onyx_dtype_name(dtype));
    for (int i = 0; i < f->n_post; i++) {
        const onyxi_post_op *p = &f->post[i];
        if (p->kind < ONYXI_POST_RELU || p->kind > ONYXI_POST_BIAS)
            return onyxi_fail(e, ONYX_INTERNAL, "post-op %d has unknown kind %d", i, (int)p->kind);
        if (p->kind == ONYXI_POST_BIAS) {
            ONYXI_CHECK(bias_check(p, i, n_in, in, first_addend, rank, dims, e));
            continue;
        }
        if (p->kind != ONYXI_POST_ADD) continue;
        if (first_addend < 0 || p->input < first_addend || p->input >= n_in || !in[p->input])
            return onyxi_fail(e, ONYX_INTERNAL, "post-op %d (Add) reads input %d, which is absent",
                              i, p->input);
        const onyx_tensor *r = in[p->input];
        int same = r->rank == rank;
        for (int d = 0; same && d < rank; d++)
            same = r->dims[d] == dims[d];
        if (r->dtype != ONYX_DTYPE_FLOAT32 || !same) {
            char b1[160], b2[160];
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "fused Add input %d ('%s') is %s %s, expected float32 %s (the "
                              "node's output)",
                              p->input, r->name ? r->name : "", onyx_dtype_name(r->dtype),
                              onyxi_shape_str(r->rank, r->dims, b1, sizeof b1),
                              onyxi_shape_str(rank, dims, b2, sizeof b2));
        }
    }
    return ONYX_OK;
}

/* The Sigmoid kernel's formula (elementwise.c): e^-v would overflow for v << 0. */
static inline float post_sigmoid(float v) {
    if (v >= 0.0f) return 1.0f / (1.0f + expf(-v));
    float ev = expf(v);
    return ev / (1.0f + ev);
}

void onyxi_post_apply(const onyxi_fusion *f, const onyx_tensor *const *in, float *y, int64_t off,
                      int64_t count) {
    for (int i = 0; i < f->n_post; i++) {
        const onyxi_post_op *p = &f->post[i];
        const float a = p->alpha, b = p->beta;
        switch (p->kind) {
        case ONYXI_POST_RELU:
            for (int64_t j = 0; j < count; j++)
                y[j] = y[j] < 0.0f ? 0.0f : y[j];
            break;
        case ONYXI_POST_LEAKY_RELU:
            for (int64_t j = 0; j < count; j++)
                y[j] = y[j] < 0.0f ? a * y[j] : y[j];
            break;
        case ONYXI_POST_CLIP: /* lo > hi gives hi everywhere, as Clip does */
            for (int64_t j = 0; j < count; j++) {
                float v = y[j];
                y[j] = v < a ? (b < a ? b : a) : v > b ? b : v;
            }
            break;
        case ONYXI_POST_SIGMOID:
            for (int64_t j = 0; j < count; j++)
                y[j] = post_sigmoid(y[j]);
            break;
        case ONYXI_POST_HARD_SIGMOID:
            for (int64_t j = 0; j < count; j++) {
                float t = a * y[j] + b;
                y[j] = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
            }
            break;
        case ONYXI_POST_SILU:
            for (int64_t j = 0; j < count; j++)
                y[j] = y[j] * post_sigmoid(y[j]);
            break;
        case ONYXI_POST_ADD: {
            const float *r = (const float *)in[p->input]->data + off;
            for (int64_t j = 0; j < count; j++)
                y[j] = y[j] + r[j];
            break;
        }
        case ONYXI_POST_GELU:
            onyxi_gelu_f32(y, count, a, b != 0.0f);
            break;
        case ONYXI_POST_BIAS: { /* element off + j takes bias element (off + j) % nb */
            const onyx_tensor *bt = in[p->input];
            const float *r = bt->data;
            const int64_t nb = bt->dims[bt->rank - 1];
            int64_t k = off % nb;
            for (int64_t j = 0; j < count;) {
                int64_t len = nb - k < count - j ? nb - k : count - j;
                for (int64_t t = 0; t < len; t++)
                    y[j + t] = y[j + t] + r[k + t];
                j += len;
                k = 0;
            }
            break;
        }
        }
    }
}

onyx_status onyxi_post_dnnl_eltwise(struct dnnl_post_ops *po, const onyxi_post_op *p, int *len,
                                    onyxi_err *e) {
    dnnl_status_t ds = dnnl_success;
    switch (p->kind) {
    case ONYXI_POST_RELU:
        ds = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0, 0);
        break;
    case ONYXI_POST_LEAKY_RELU:
        ds = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, p->alpha, 0);
        break;
    case ONYXI_POST_CLIP:
        /* Clip's "hi everywhere" reading of lo > hi (and NaN bounds) is not clip_v2's */
        if (!(p->alpha <= p->beta)) return ONYX_UNSUPPORTED;
        ds = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip_v2, p->alpha, p->beta);
        break;
    case ONYXI_POST_SIGMOID:
        ds = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_logistic, 0, 0);
        break;
    case ONYXI_POST_HARD_SIGMOID: /* 2.6 has no hardsigmoid: linear, then clip to [0, 1] */
        ds = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_linear, p->alpha, p->beta);
        if (ds == dnnl_success) {
            (*len)++;
            ds = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip, 0.f, 1.f);
        }
        break;
    case ONYXI_POST_SILU:
        ds = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_swish, 1.f, 0);
        break;
    case ONYXI_POST_GELU: /* the pass only fuses the exact constants gelu_erf assumes */
        ds = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_gelu_erf, 0, 0);
        break;
    case ONYXI_POST_ADD:
    case ONYXI_POST_BIAS:
        return ONYX_UNSUPPORTED;
    }
    ONYXI_DNNL(ds, e);
    (*len)++;
    return ONYX_OK;
}
