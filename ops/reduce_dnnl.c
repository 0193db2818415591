/*
 * ReduceMean, ReduceMax, ReduceMin and ReduceSum (every opset) on oneDNN's reduction
 * primitive, float32. oneDNN has a jit kernel only for a plain input reduced over trailing
 * dims (e.g. the spatial mean of NCHW), so that is all this takes: a blocked input, a kept dim
 * after a reduced one, other reductions, empty tensors and the no-op case decline.
 * The input runs as its 2-D view [kept, reduced], whatever the rank and keepdims.
 */
#include <dnnl_debug.h>
#include <string.h>

#include "dnnl_stage.h"
#include "reduce.h"

static int reduce_alg(const char *op_type, dnnl_alg_kind_t *alg) {
    static const struct {
        const char *op;
        dnnl_alg_kind_t alg;
    } algs[] = {{"ReduceMean", dnnl_reduction_mean},
                {"ReduceMax", dnnl_reduction_max},
                {"ReduceMin", dnnl_reduction_min},
                {"ReduceSum", dnnl_reduction_sum}};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (strcmp(op_type, algs[i].op) == 0) {
            *alg = algs[i].alg;
            return 1;
        }
    return 0;
}

static onyx_status reduce_init_dnnl(onyxi_exec *x) {
    const onyx_tensor *X = x->in[0];
    onyxi_err *e = x->err;
    dnnl_alg_kind_t alg;
    if (!x->backend || X->dtype != ONYX_DTYPE_FLOAT32 || X->layout || X->rank < 1 ||
        !reduce_alg(x->node->op_type, &alg))
        return ONYX_UNSUPPORTED;
    if (onyxi_shape_count(X->rank, X->dims) <= 0) return ONYX_UNSUPPORTED;
    unsigned mask;
    int identity;
    ONYXI_CHECK(
        onyxi_reduce_axes_mask(x->node, X, x->n_in > 1 ? x->in[1] : NULL, &mask, &identity, e));
    if (identity) return ONYX_UNSUPPORTED;
    /* trailing dims only: no real (size > 1) kept dim after a real reduced one. The input is
     * then [kept, reduced] in memory, which is how oneDNN is given it (its jit kernel does
     * not take every placement of size-1 dims). */
    int64_t d2[2] = {1, 1};
    int seen_reduced = 0;
    for (int i = 0; i < X->rank; i++) {
        int red = (mask >> i) & 1u;
        if (red && X->dims[i] > 1) seen_reduced = 1;
        if (!red && X->dims[i] > 1 && seen_reduced) return ONYX_UNSUPPORTED;
        d2[red] *= X->dims[i];
    }
    if (!seen_reduced) return ONYX_UNSUPPORTED; /* a copy: oneDNN rejects src == dst shapes */

    int64_t dd[2] = {d2[0], 1};
    dnnl_memory_desc_t src_md, dst_md;
    ONYXI_CHECK(onyxi_dnnl_md_dims(&src_md, 2, d2, dnnl_format_tag_undef, e));
    ONYXI_CHECK(onyxi_dnnl_md_dims(&dst_md, 2, dd, dnnl_format_tag_undef, e));
    dnnl_reduction_desc_t rd;
    dnnl_status_t ds = dnnl_reduction_desc_init(&rd, alg, &src_md, &dst_md, 0.0f, 0.0f);
    if (ds != dnnl_success)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "oneDNN reduction rejects this input (%s)",
                          dnnl_status2str(ds));
    onyxi_dnnl_step *st;
    ONYXI_CHECK(onyxi_dnnl_state_new(x, sizeof *st, (void **)&st));
    ONYXI_CHECK(onyxi_dnnl_stage_init(x, 0, &src_md, &src_md, ONYXI_STAGE_BUFFER, &st->src));
    /* the [kept, 1] view is plain row-major: the output stays plain */
    return onyxi_dnnl_step_make(x, &rd, ONYXI_PRIM_PLAIN_OUT, st);
}

const onyxi_impl onyxi_reduce_dnnl = {"dnnl", reduce_init_dnnl, onyxi_dnnl_step_run,
                                      onyxi_dnnl_step_fini};
