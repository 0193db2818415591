/*
 * Pooling on oneDNN, float32, 1 to 3 spatial dims: MaxPool without the Indices output,
 * AveragePool, and GlobalAveragePool / GlobalMaxPool (a pooling whose kernel is the whole
 * plane). The output takes the input's blocked layout when it may; a blocked input with a plain
 * output is reordered inside the step. Declines dilated pooling and oneDNN's reference loop,
 * avg_include_padding where ceil_mode adds cells (oneDNN counts them in the divisor, ONNX does
 * not), windows lying entirely in the padding (ONNX gives NaN there), and global averages over
 * large planes (float accumulation; the reference sums in double).
 * Variants (onyxi_exec.variant): oneDNN's jit kernels for each ISA it has are all offered (on
 * an AMD Zen 3 its AVX2 max pooling was 4-5x slower than its SSE4.1 one), and the session
 * keeps the fastest.
 */
#include <string.h>

#include "dnnl_stage.h"
#include "pool.h"

/* Above this plane size a float sum drifts from the reference's double sum by more than the
 * tolerance allows for data of mixed sign. */
#define GLOBAL_AVG_MAX_PLANE 16384

/* The oneDNN form of one pooling: algorithm and per-axis kernel, strides and pads. */
typedef struct pool_desc {
    dnnl_alg_kind_t alg;
    int S;
    dnnl_dims_t k, stride, pl, pr;
} pool_desc;

/* Builds the step reading the input as `want` (stored as `have`). */
static onyx_status pool_try(onyxi_exec *x, onyxi_dnnl_step *st, const pool_desc *p,
                            const dnnl_memory_desc_t *have, const dnnl_memory_desc_t *want) {
    onyxi_err *e = x->err;
    const onyx_tensor *Y = x->out[0];
    dnnl_memory_desc_t dst;
    ONYXI_CHECK(
        onyxi_dnnl_md_dims(&dst, Y->rank, Y->dims,
                           (x->blocked_ok & 1u) ? dnnl_format_tag_any : dnnl_format_tag_undef, e));
    ONYXI_CHECK(onyxi_dnnl_stage_init(x, 0, have, want, ONYXI_STAGE_BUFFER, &st->src));
    dnnl_dims_t dil = {0};
    dnnl_pooling_v2_desc_t d;
    ONYXI_DNNL(dnnl_pooling_v2_forward_desc_init(&d, dnnl_forward_inference, p->alg, want, &dst,
                                                 p->stride, p->k, dil, p->pl, p->pr),
               e);
    /* onyxi_dnnl_step_make, but for the kernel variant the session asks for */
    dnnl_primitive_desc_t pd = NULL;
    ONYXI_CHECK(onyxi_dnnl_make_pd_nth(x, &d, NULL, x->variant, &pd));
    onyx_status rc = onyxi_dnnl_prim_init(x, pd, 0u, &st->p);
    dnnl_primitive_desc_destroy(pd);
    if (rc == ONYX_OK) x->more_variants = 1; /* until the iterator runs out */
    return rc;
}

/* Builds the step for pooling p of input 0: in the input's own layout first, then (for a
 * blocked input) after a reorder to plain. */
static onyx_status pool_build(onyxi_exec *x, const pool_desc *p) {
    const onyx_tensor *X = x->in[0];
    onyxi_dnnl_step *st;
    ONYXI_CHECK(onyxi_dnnl_state_new(x, sizeof *st, (void **)&st));
    dnnl_memory_desc_t have, plain;
    ONYXI_CHECK(onyxi_dnnl_md_of(&have, X, x->err));
    ONYXI_CHECK(onyxi_dnnl_md_plain(&plain, X, x->err));
    onyx_status rc = pool_try(x, st, p, &have, &have);
    /* variants are the kernels for the input's own layout: a reorder would only add time */
    if (rc == ONYX_UNSUPPORTED && X->layout && x->variant == 0) {
        onyxi_dnnl_step_clear(st);
        rc = pool_try(x, st, p, &have, &plain);
    }
    return rc;
}

static onyx_status pool_init_dnnl(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    if (!x->backend || X->dtype != ONYX_DTYPE_FLOAT32 || (x->n_out > 1 && x->out[1]))
        return ONYX_UNSUPPORTED;
    pool_geom g;
    ONYXI_CHECK(onyxi_pool_geometry(x->node, X, &g, x->err));
    if (g.S < 1 || g.S > 3 || g.N * g.C <= 0) return ONYX_UNSUPPORTED;
    pool_desc p = {.S = g.S};
    p.alg = g.kind == KIND_MAX    ? dnnl_pooling_max
            : g.count_include_pad ? dnnl_pooling_avg_include_padding
                                  : dnnl_pooling_avg_exclude_padding;
    for (int i = 0; i < g.S; i++) {
        if (g.dil[i] != 1 || g.out[i] <= 0 || g.in[i] <= 0) return ONYX_UNSUPPORTED;
        int64_t last = (g.out[i] - 1) * g.stride[i] - g.pad[i]; /* the last window's start */
        if (g.pad[i] >= g.k[i] || last >= g.in[i]) return ONYX_UNSUPPORTED;
        p.k[i] = g.k[i];
        p.stride[i] = g.stride[i];
        p.pl[i] = g.pad[i];
        /* ceil_mode: the end pad that makes oneDNN's floor formula give ONNX's output size */
        p.pr[i] = last + g.k[i] - g.in[i];
        if (g.kind == KIND_AVG && g.count_include_pad && p.pr[i] > g.pad_end[i])
            return ONYX_UNSUPPORTED;
    }
    return pool_build(x, &p);
}

static onyx_status global_pool_init_dnnl(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    if (!x->backend || X->dtype != ONYX_DTYPE_FLOAT32 || X->rank < 3 || X->rank > 5)
        return ONYX_UNSUPPORTED;
    int is_max = strcmp(x->node->op_type, "GlobalMaxPool") == 0;
    pool_desc p = {.S = X->rank - 2, .alg = is_max ? dnnl_pooling_max : dnnl_pooling_avg};
    int64_t plane = 1;
    for (int i = 0; i < X->rank; i++)
        if (X->dims[i] <= 0) return ONYX_UNSUPPORTED;
    for (int i = 0; i < p.S; i++) {
        p.k[i] = X->dims[2 + i];
        p.stride[i] = 1;
        plane *= X->dims[2 + i]; /* bounded: X's element count */
    }
    if (!is_max && plane > GLOBAL_AVG_MAX_PLANE) return ONYX_UNSUPPORTED;
    return pool_build(x, &p);
}

const onyxi_impl onyxi_pool_dnnl = {"dnnl", pool_init_dnnl, onyxi_dnnl_step_run,
                                    onyxi_dnnl_step_fini};
const onyxi_impl onyxi_global_pool_dnnl = {"dnnl", global_pool_init_dnnl, onyxi_dnnl_step_run,
                                           onyxi_dnnl_step_fini};
