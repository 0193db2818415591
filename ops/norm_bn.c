/*
 * BatchNormalization inference ("bn"), float32, per-channel [C] parameters, on plain NCHW
 * (any rank >= 2) or dense channels-last (nwc / nhwc / ndhwc, oneDNN "acb" / "acdb" /
 * "acdeb") data; the output keeps the input's layout. A fused chain (the fuse_act pass
 * merges a following Relu) is applied on the way out. Declines other layouts (channel-blocked
 * nChw8c: its padding lanes must stay zero), per-activation parameters (spatial=0) and empty
 * tensors; the oneDNN and reference kernels take those.
 *
 * Why: oneDNN 2.6's bnorm_jit writes its output with non-temporal stores whenever the
 * destination is 64-byte aligned (the arena always is), so the convolution that reads it next
 * (DenseNet's norm -> relu -> conv) fetches it back from memory: measured on densenet121 the
 * 1x1 convolutions after its 62 normalizations ran 5-15% slower, which ate the whole gain of
 * fusing the Relu. This loop stores normally, reads each element once and works in place;
 * DenseNet ran 59.4 -> 55.8 ms (1 thread, static kernel choice). y = (x - mean) * a + B with a =
 * scale / sqrt(var + eps), exactly the reference kernel's formula, so results are bit for bit the
 * reference's (the build does not contract to FMA: C11 without extensions).
 */
#include <math.h>
#include <string.h>

#include "../runtime/dnnl_util.h"
#include "norm.h"
#include "postops.h"

typedef struct bn_state {
    int cl;                  /* channels-last: rows of C channels; else planes of `inner` values */
    int relu;                /* the fused chain is exactly one Relu (applied inline) */
    int fixed;               /* the parameters are constants: a, m, b were computed at init */
    int64_t C, outer, inner; /* cl: outer = rows (N * spatial); plain: outer = N, inner = plane */
    dnnl_memory_desc_t out_md; /* output 0's layout when channels-last */
    float *a, *m, *b;          /* owned: 3 * C floats, per-channel factor, mean, shift */
} bn_state;

static void bn_fini_own(onyxi_exec *x) {
    bn_state *st = x->state;
    if (!st) return;
    onyxi_free(st->a);
    onyxi_free(st);
    x->state = NULL;
}

/* The per-channel factors from the parameter inputs, as the reference computes them. */
static void bn_factors(const onyxi_exec *x, bn_state *st) {
    const float *sc = x->in[1]->data, *bi = x->in[2]->data;
    const float *mu = x->in[3]->data, *va = x->in[4]->data;
    float eps = onyxi_attr_float(x->node, "epsilon", 1e-5f);
    for (int64_t c = 0; c < st->C; c++) {
        st->a[c] = sc[c] / sqrtf(va[c] + eps);
        st->m[c] = mu[c];
        st->b[c] = bi[c];
    }
}

/* 1 when md is X's dims in the dense channels-last layout of its rank. */
static int is_channels_last(const void *md, const onyx_tensor *X) {
    static const dnnl_format_tag_t tags[3] = {dnnl_acb, dnnl_acdb, dnnl_acdeb};
    if (X->rank < 3 || X->rank > 5) return 0;
    dnnl_memory_desc_t want;
    if (onyxi_dnnl_md_dims(&want, X->rank, X->dims, tags[X->rank - 3], NULL) != ONYX_OK) return 0;
    return dnnl_memory_desc_equal(&want, (const dnnl_memory_desc_t *)md);
}

static onyx_status bn_init_own(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0], *Y = x->out[0];
    if (!onyxi_batch_norm_per_channel(x)) return ONYX_UNSUPPORTED;
    const onyxi_fusion *post = onyxi_post_chain(x->node);
    ONYXI_CHECK(onyxi_post_check(x->node, x->n_in, x->in, -1, Y->dtype, Y->rank, Y->dims, x->err));
    int cl = 0;
    if (X->layout) {
        /* channels-last in, the same out: only where the consumers take it */
        if (!(x->blocked_ok & 1u) || !is_channels_last(X->layout, X)) return ONYX_UNSUPPORTED;
        cl = 1;
    }
    bn_state *st = onyxi_calloc(1, sizeof *st);
    if (!st)
        return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the BatchNormalization state");
    x->state = st;
    st->cl = cl;
    st->relu = post && post->n_post == 1 && post->post[0].kind == ONYXI_POST_RELU;
    st->C = X->dims[1];
    int64_t spatial = onyxi_shape_count(X->rank - 2, X->dims + 2);
    st->outer = cl ? X->dims[0] * spatial : X->dims[0];
    st->inner = cl ? st->C : spatial;
    st->a = onyxi_malloc(3 * (size_t)st->C * sizeof(float));
    if (!st->a)
        return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the BatchNormalization state");
    st->m = st->a + st->C;
    st->b = st->m + st->C;
    st->fixed = (x->const_inputs & 0x1Eu) == 0x1Eu && x->in[1]->data && x->in[2]->data &&
                x->in[3]->data && x->in[4]->data;
    if (st->fixed) bn_factors(x, st);
    x->detail = cl ? "channels-last" : "plain";
    if (!cl) return ONYX_OK;
    return onyxi_dnnl_set_output(x, 0, (const dnnl_memory_desc_t *)X->layout, &st->out_md);
}

static onyx_status bn_run_own(onyxi_exec *x) {
    bn_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "BatchNormalization run without init");
    if (!st->fixed) bn_factors(x, st);
    const onyxi_fusion *post = st->relu ? NULL : onyxi_post_chain(x->node);
    const float *xd = x->in[0]->data, *a = st->a, *m = st->m, *b = st->b;
    float *yd = x->out[0]->data;
    const int64_t C = st->C, inner = st->inner;
    /* work items: rows of C channels (channels-last) or (image, channel) planes */
    const int64_t items = st->cl ? st->outer : st->outer * C;
    const int cl = st->cl, relu = st->relu, threads = x->num_threads;
#pragma omp parallel for schedule(static)                                                          \
    num_threads(threads) if (threads > 1 && items > 1 && items * inner >= (1 << 15))
    for (int64_t it = 0; it < items; it++) {
        const float *xr = xd + it * inner;
        float *yr = yd + it * inner;
        if (cl) {
            if (relu)
                for (int64_t c = 0; c < C; c++) {
                    float v = (xr[c] - m[c]) * a[c] + b[c];
                    yr[c] = v < 0.0f ? 0.0f : v;
                }
            else
                for (int64_t c = 0; c < C; c++)
                    yr[c] = (xr[c] - m[c]) * a[c] + b[c];
        } else {
            const int64_t c = it % C;
            const float ac = a[c], mc = m[c], bc = b[c];
            if (relu)
                for (int64_t i = 0; i < inner; i++) {
                    float v = (xr[i] - mc) * ac + bc;
                    yr[i] = v < 0.0f ? 0.0f : v;
                }
            else
                for (int64_t i = 0; i < inner; i++)
                    yr[i] = (xr[i] - mc) * ac + bc;
        }
        /* other chains (no pass makes them today) elementwise, as the reference does */
        if (post) onyxi_post_apply(post, x->in, yr, it * inner, inner);
    }
    return ONYX_OK;
}

const onyxi_impl onyxi_batch_norm_own = {"bn", bn_init_own, bn_run_own, bn_fini_own};
