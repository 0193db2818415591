/*
 * Reductions: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
 * ReduceLogSum, ReduceLogSumExp, ReduceSumSquare (opset 1, 11, 13, 18; Max/Min also 12) and
 * ArgMax/ArgMin (opset 1, 11, 12, 13).
 *  - axes: attribute up to ReduceSum-11 and the others' 13; optional int64 input 1 from
 *    ReduceSum-13 and the others' 18, where `noop_with_empty_axes` = 1 turns empty axes into
 *    the identity (0: reduce every axis). keepdims default 1. Negative axes became official
 *    in opset 11; like onnxruntime, onyx accepts them at every opset (old PyTorch exports).
 *    Repeated axes are refused.
 *  - dtypes: float32 (accumulated in double) and float64 (the ONNX LogSumExp tests use it);
 *    int32/int64 for Sum, Mean (truncated), Max, Min, Prod, L1, SumSquare, wrapping on
 *    overflow. L2, LogSum, LogSumExp are floating-point only.
 *  - an empty reduction set gives the reduction's identity as the ONNX reference does: 0 for
 *    the sums, 1 for Prod, -inf/+inf (the dtype's min/max for ints) for Max/Min, -inf for
 *    LogSum and LogSumExp, NaN for Mean.
 *  - ArgMax/ArgMin: int64 indices along `axis` (default 0); `select_last_index` from opset 12;
 *    NaN counts as the extreme value, as np.argmax/np.argmin treat it.
 * The 8-bit, unsigned and 16-bit float types of the later versions are refused (ONYX_UNSUPPORTED).
 */
#include <math.h>
#include <string.h>

#include "ops.h"
#include "reduce.h"

/* ---- which reduction ---- */

typedef enum red_kind {
    R_SUM,
    R_MEAN,
    R_MAX,
    R_MIN,
    R_PROD,
    R_L1,
    R_L2,
    R_LOGSUM,
    R_LOGSUMEXP,
    R_SUMSQ,
    R_NKINDS
} red_kind;

typedef struct red_info {
    const char *op_type;
    red_kind kind;
    int axes_input_since; /* the opset where `axes` became input 1 */
} red_info;

static const red_info RED_INFO[] = {
    {"ReduceSum", R_SUM, 13},
    {"ReduceMean", R_MEAN, 18},
    {"ReduceMax", R_MAX, 18},
    {"ReduceMin", R_MIN, 18},
    {"ReduceProd", R_PROD, 18},
    {"ReduceL1", R_L1, 18},
    {"ReduceL2", R_L2, 18},
    {"ReduceLogSum", R_LOGSUM, 18},
    {"ReduceLogSumExp", R_LOGSUMEXP, 18},
    {"ReduceSumSquare", R_SUMSQ, 18},
};

static const red_info *red_info_of(const onyxi_node *n) {
    for (size_t i = 0; i < sizeof RED_INFO / sizeof RED_INFO[0]; i++)
        if (strcmp(n->op_type, RED_INFO[i].op_type) == 0) return &RED_INFO[i];
    return NULL;
}

/* ---- check ---- */

const onyxi_attr_spec onyxi_reduce_attrs[] = {{"axes", ONYXI_ATTR_INTS},
                                              {"keepdims", ONYXI_ATTR_INT},
                                              {"noop_with_empty_axes", ONYXI_ATTR_INT},
                                              {NULL, 0}};

static onyx_status check_flag(const onyxi_node *n, const char *name, onyxi_err *e) {
    const onyxi_attr *a = onyxi_attr_find(n, name);
    if (a && a->i != 0 && a->i != 1)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute '%s' is %lld, expected 0 or 1", name,
                          (long long)a->i);
    return ONYX_OK;
}

onyx_status onyxi_reduce_check(const onyxi_node *n, onyxi_err *e) {
    const red_info *ri = red_info_of(n);
    if (!ri) return onyxi_fail(e, ONYX_INTERNAL, "'%s' is not a reduction", n->op_type);
    int axes_input = n->opset >= ri->axes_input_since;
    if (axes_input && onyxi_attr_find(n, "axes"))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'axes' is not allowed from opset %d (axes are input 1); "
                          "model has opset %lld",
                          ri->axes_input_since, (long long)n->opset);
    if (!axes_input && onyxi_attr_find(n, "noop_with_empty_axes"))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'noop_with_empty_axes' needs opset %d (model has %lld)",
                          ri->axes_input_since, (long long)n->opset);
    ONYXI_CHECK(check_flag(n, "keepdims", e));
    return check_flag(n, "noop_with_empty_axes", e);
}

/* ---- axes and output shape ---- */

/*
 * Turns axes (count -1 = not given) into a bit mask of reduced dims of an input of rank
 * `rank`. *identity is set for the opset 13/18 no-op (empty axes, noop_with_empty_axes = 1).
 */
static onyx_status reduce_mask(const onyxi_node *n, int rank, const int64_t *axes, int64_t count,
                               unsigned *mask, int *identity, onyxi_err *e) {
    *mask = 0;
    *identity = 0;
    if (count <= 0) {
        if (onyxi_attr_int(n, "noop_with_empty_axes", 0))
            *identity = 1;
        else
            *mask = rank > 0 ? (1u << rank) - 1 : 0;
        return ONYX_OK;
    }
    if (count > rank)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "%lld axes given for an input of rank %d",
                          (long long)count, rank);
    for (int64_t i = 0; i < count; i++) {
        int ax;
        ONYXI_CHECK(onyxi_norm_axis(axes[i], rank, &ax, e));
        if (*mask & (1u << ax))
            return onyxi_fail(e, ONYX_INVALID_MODEL, "axes[%lld] repeats axis %d", (long long)i,
                              ax);
        *mask |= 1u << ax;
    }
    return ONYX_OK;
}

/*
 * Reads the axes of node n: the attribute before the axes-input opset, else input 1 (t,
 * NULL when absent). The input must be 1-D int64; *axes is NULL when data is missing.
 */
static onyx_status reduce_axes_source(const onyxi_node *n, const onyx_tensor *t,
                                      const int64_t **axes, int64_t *count, onyxi_err *e) {
    const red_info *ri = red_info_of(n);
    *axes = NULL;
    *count = -1;
    if (!ri) return onyxi_fail(e, ONYX_INTERNAL, "'%s' is not a reduction", n->op_type);
    if (n->opset < ri->axes_input_since) {
        *count = onyxi_attr_ints(n, "axes", axes);
        return ONYX_OK;
    }
    if (!t) return ONYX_OK;
    if (t->dtype != ONYX_DTYPE_INT64)
        return onyxi_fail(e, ONYX_TYPE_MISMATCH, "input 1 ('axes') has dtype %s, expected int64",
                          onyx_dtype_name(t->dtype));
    if (t->rank != 1 || t->dims[0] < 0)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input 1 ('axes') must be a 1-D tensor of known size (rank is %d)",
                          t->rank);
    *count = t->dims[0];
    if (*count > 0) *axes = t->data;
    return ONYX_OK;
}

onyx_status onyxi_reduce_axes_mask(const onyxi_node *n, const onyx_tensor *t,
                                   const onyx_tensor *axes_input, unsigned *mask, int *identity,
                                   onyxi_err *e) {
    const int64_t *axes;
    int64_t count;
    ONYXI_CHECK(reduce_axes_source(n, axes_input, &axes, &count, e));
    if (count > 0 && !axes)
        return onyxi_fail(e, ONYX_INTERNAL, "input 1 ('axes') has no data at init");
    return reduce_mask(n, t->rank, axes, count, mask, identity, e);
}

/* The reduction functions defined for each kind and dtype, below; NULL = unsupported. */
typedef struct red_plan red_plan;
typedef void (*red_fn)(const red_plan *p, const void *x, void *y, int64_t begin, int64_t end);
static red_fn red_fn_for(red_kind k, onyx_dtype dt);

onyx_status onyxi_reduce_infer(onyxi_infer *c) {
    const onyxi_node *n = c->node;
    const onyx_tensor *t = c->in[0];
    const red_info *ri = red_info_of(n);
    if (!ri) return onyxi_fail(c->err, ONYX_INTERNAL, "'%s' is not a reduction", n->op_type);
    if (!red_fn_for(ri->kind, t->dtype))
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 0 has dtype %s, which %s does not support",
                          onyx_dtype_name(t->dtype), n->op_type);
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    const onyx_tensor *at = c->n_in > 1 ? c->in[1] : NULL;
    if (at) ONYXI_CHECK(onyxi_infer_expect_known(c, 1));
    const int64_t *axes;
    int64_t count;
    ONYXI_CHECK(reduce_axes_source(n, at, &axes, &count, c->err));
    if (at && count > 0) {
        axes = onyxi_infer_data(c, 1);
        if (!axes) return onyxi_infer_needs_data(c, 1);
    }
    unsigned mask;
    int identity;
    ONYXI_CHECK(reduce_mask(n, t->rank, axes, count, &mask, &identity, c->err));
    int keep = (int)onyxi_attr_int(n, "keepdims", 1);
    int64_t dims[ONYXI_MAX_RANK];
    int r = 0;
    for (int i = 0; i < t->rank; i++) {
        if (!(mask & (1u << i)))
            dims[r++] = t->dims[i];
        else if (keep)
            dims[r++] = 1;
    }
    onyxi_infer_set(c, 0, t->dtype, r, dims);
    return ONYX_OK;
}

/* ---- ref ---- */

/* Outputs reduced together in the "inner" layout: one accumulator each, on the stack. */
#define BLK 64

/*
 * The input with size-1 dims dropped and neighbouring dims of the same kind (kept or reduced)
 * merged, so that most cases become [outer, reduced, inner] with few loop levels.
 * Two layouts:
 *  - tail > 0 (the innermost input dim is reduced): one item per output; the last reduced
 *    group (tail elements, contiguous) is the tight loop, other reduced groups step around it;
 *  - tail == 0: the innermost kept group (inner outputs, contiguous) is split into blocks of
 *    BLK outputs accumulated side by side, so every read of a reduced step is contiguous.
 */
struct red_plan {
    int nk, nr; /* kept / reduced groups, outermost first */
    int64_t ksize[ONYXI_MAX_RANK], kstride[ONYXI_MAX_RANK];
    int64_t rsize[ONYXI_MAX_RANK], rstride[ONYXI_MAX_RANK];
    int64_t tail;  /* see above */
    int64_t inner; /* contiguous outputs per kept-group index (tail == 0) */
    int64_t nblk;  /* blocks of BLK per inner row */
    int64_t count; /* elements reduced into each output; 0 = empty set */
    int64_t items; /* work items: outputs (tail > 0) or blocks */
    int64_t n_in;  /* input elements, to decide whether threads pay off */
};

typedef struct red_state {
    red_plan p;
    red_fn fn;   /* borrowed: static table; NULL for the identity copy */
    size_t copy; /* bytes copied for the identity (opset 13/18 no-op) */
} red_state;

static void red_plan_build(red_plan *p, int rank, const int64_t *dims, unsigned mask) {
    int64_t gsize[ONYXI_MAX_RANK];
    int gred[ONYXI_MAX_RANK], ng = 0;
    int64_t n_out = 1;
    memset(p, 0, sizeof *p);
    p->count = 1;
    p->n_in = 1;
    for (int i = 0; i < rank; i++) {
        int red = (mask >> i) & 1u;
        p->n_in *= dims[i];
        if (red)
            p->count *= dims[i];
        else
            n_out *= dims[i];
        if (dims[i] == 1) continue; /* no effect on any offset */
        if (ng > 0 && gred[ng - 1] == red) {
            gsize[ng - 1] *= dims[i];
        } else {
            gsize[ng] = dims[i];
            gred[ng++] = red;
        }
    }
    if (p->count == 0 || n_out == 0) {
        /* empty set or empty output: every output gets the identity, no input is read */
        p->inner = n_out;
        p->nblk = (n_out + BLK - 1) / BLK;
        p->items = p->nblk;
        return;
    }
    int64_t stride[ONYXI_MAX_RANK], s = 1;
    for (int g = ng - 1; g >= 0; g--) {
        stride[g] = s;
        s *= gsize[g];
    }
    int last = ng;
    if (ng > 0 && gred[ng - 1]) {
        p->tail = gsize[ng - 1];
        last = ng - 1;
    } else {
        p->inner = ng > 0 ? gsize[ng - 1] : 1;
        last = ng > 0 ? ng - 1 : 0;
    }
    for (int g = 0; g < last; g++) {
        if (gred[g]) {
            p->rsize[p->nr] = gsize[g];
            p->rstride[p->nr++] = stride[g];
        } else {
            p->ksize[p->nk] = gsize[g];
            p->kstride[p->nk++] = stride[g];
        }
    }
    if (p->tail) {
        p->items = n_out;
    } else {
        p->nblk = (p->inner + BLK - 1) / BLK;
        p->items = n_out / p->inner * p->nblk;
    }
}

/* Input offset of kept-group index ko (row-major over the kept groups). */
static inline int64_t kept_offset(const red_plan *p, int64_t ko) {
    int64_t off = 0;
    for (int j = p->nk - 1; j >= 0; j--) {
        off += ko % p->ksize[j] * p->kstride[j];
        ko /= p->ksize[j];
    }
    return off;
}

/* Steps idx/off to the next index of the reduced groups; 0 after the last one. */
static inline int odo_next(const red_plan *p, int64_t *idx, int64_t *off) {
    for (int j = p->nr - 1; j >= 0; j--) {
        *off += p->rstride[j];
        if (++idx[j] < p->rsize[j]) return 1;
        *off -= idx[j] * p->rstride[j];
        idx[j] = 0;
    }
    return 0;
}

/*
 * Defines NAME, the reduction of items [begin, end) for element type T with accumulator
 * type A: INIT(a) resets, STEP(a, v) adds element v, FIN(a) is the output value (may use p).
 */
#define RED_DEFINE(NAME, T, A, INIT, STEP, FIN)                                                    \
    static void NAME(const red_plan *p, const void *xv, void *yv, int64_t begin, int64_t end) {    \
        const T *x = xv;                                                                           \
        T *y = yv;                                                                                 \
        for (int64_t it = begin; it < end; it++) {                                                 \
            int64_t idx[ONYXI_MAX_RANK] = {0};                                                     \
            if (p->tail) {                                                                         \
                int64_t off = kept_offset(p, it);                                                  \
                A a;                                                                               \
                INIT(a);                                                                           \
                do {                                                                               \
                    const T *xr = x + off;                                                         \
                    for (int64_t l = 0; l < p->tail; l++) {                                        \
                        T v = xr[l];                                                               \
                        STEP(a, v);                                                                \
                    }                                                                              \
                } while (odo_next(p, idx, &off));                                                  \
                y[it] = FIN(a);                                                                    \
            } else {                                                                               \
                int64_t ko = it / p->nblk, b0 = it % p->nblk * BLK;                                \
                int w = p->inner - b0 < BLK ? (int)(p->inner - b0) : BLK;                          \
                A a[BLK];                                                                          \
                for (int b = 0; b < w; b++)                                                        \
                    INIT(a[b]);                                                                    \
                if (p->count > 0) {                                                                \
                    int64_t off = kept_offset(p, ko) + b0;                                         \
                    do {                                                                           \
                        const T *xr = x + off;                                                     \
                        for (int b = 0; b < w; b++) {                                              \
                            T v = xr[b];                                                           \
                            STEP(a[b], v);                                                         \
                        }                                                                          \
                    } while (odo_next(p, idx, &off));                                              \
                }                                                                                  \
                T *yr = y + ko * p->inner + b0;                                                    \
                for (int b = 0; b < w; b++)                                                        \
                    yr[b] = FIN(a[b]);                                                             \
            }                                                                                      \
        }                                                                                          \
    }

/* float32, accumulated in double */
#define F_ZERO(a) (a) = 0.0
#define F_ONE(a) (a) = 1.0
#define F_NEGINF(a) (a) = -INFINITY
#define F_POSINF(a) (a) = INFINITY
#define F_ADD(a, v) (a) += (double)(v)
#define F_ADDSQ(a, v) (a) += (double)(v) * (double)(v)
#define F_ADDABS(a, v) (a) += fabs((double)(v))
#define F_MUL(a, v) (a) *= (double)(v)
/* NaN wins, as np.max/np.min propagate it: once a is NaN no comparison replaces it */
#define F_MAX(a, v)                                                                                \
    if ((v) > (a) || isnan(v)) (a) = (v)
#define F_MIN(a, v)                                                                                \
    if ((v) < (a) || isnan(v)) (a) = (v)
#define F_OUT(a) ((float)(a))
#define F_MEAN(a) ((float)((a) / (double)p->count)) /* 0/0 = NaN for the empty set */
#define F_SQRT(a) ((float)sqrt(a))
#define F_LOG(a) ((float)log(a))

/* log(sum(exp(x))) kept as max m and sum s of exp(x - m), so large inputs do not overflow */
typedef struct lse_acc {
    double m, s;
} lse_acc;

static inline void lse_step(lse_acc *a, double v) {
    if (v < a->m) {
        a->s += exp(v - a->m);
    } else if (v > a->m) {
        a->s = a->s * exp(a->m - v) + 1.0; /* exp(-inf) = 0 covers the first element */
        a->m = v;
    } else if (v == a->m) {
        a->s += 1.0; /* also right when both are infinite, where v - m is NaN */
    } else {
        a->m = NAN; /* v or m is NaN */
    }
}

#define LSE_INIT(a) ((a).m = -INFINITY, (a).s = 0.0)
#define LSE_STEP(a, v) lse_step(&(a), (double)(v))
#define LSE_OUT(a) ((float)((a).m + log((a).s)))

RED_DEFINE(red_sum_f32, float, double, F_ZERO, F_ADD, F_OUT)
RED_DEFINE(red_mean_f32, float, double, F_ZERO, F_ADD, F_MEAN)
RED_DEFINE(red_max_f32, float, double, F_NEGINF, F_MAX, F_OUT)
RED_DEFINE(red_min_f32, float, double, F_POSINF, F_MIN, F_OUT)
RED_DEFINE(red_prod_f32, float, double, F_ONE, F_MUL, F_OUT)
RED_DEFINE(red_l1_f32, float, double, F_ZERO, F_ADDABS, F_OUT)
RED_DEFINE(red_l2_f32, float, double, F_ZERO, F_ADDSQ, F_SQRT)
RED_DEFINE(red_logsum_f32, float, double, F_ZERO, F_ADD, F_LOG)
RED_DEFINE(red_lse_f32, float, lse_acc, LSE_INIT, LSE_STEP, LSE_OUT)
RED_DEFINE(red_sumsq_f32, float, double, F_ZERO, F_ADDSQ, F_OUT)

/* float64: the same steps; the outputs are rounded to double instead of float */
#define D_OUT(a) ((double)(a))
#define D_MEAN(a) ((a) / (double)p->count)
#define D_SQRT(a) sqrt(a)
#define D_LOG(a) log(a)
#define LSE_OUT_D(a) ((a).m + log((a).s))

RED_DEFINE(red_sum_f64, double, double, F_ZERO, F_ADD, D_OUT)
RED_DEFINE(red_mean_f64, double, double, F_ZERO, F_ADD, D_MEAN)
RED_DEFINE(red_max_f64, double, double, F_NEGINF, F_MAX, D_OUT)
RED_DEFINE(red_min_f64, double, double, F_POSINF, F_MIN, D_OUT)
RED_DEFINE(red_prod_f64, double, double, F_ONE, F_MUL, D_OUT)
RED_DEFINE(red_l1_f64, double, double, F_ZERO, F_ADDABS, D_OUT)
RED_DEFINE(red_l2_f64, double, double, F_ZERO, F_ADDSQ, D_SQRT)
RED_DEFINE(red_logsum_f64, double, double, F_ZERO, F_ADD, D_LOG)
RED_DEFINE(red_lse_f64, double, lse_acc, LSE_INIT, LSE_STEP, LSE_OUT_D)
RED_DEFINE(red_sumsq_f64, double, double, F_ZERO, F_ADDSQ, D_OUT)

/* int32/int64: sums in uint64_t so overflow wraps instead of being undefined */
#define U(v) ((uint64_t)(int64_t)(v))
#define I_ZERO(a) (a) = 0
#define I_ONE(a) (a) = 1
#define I_ADD(a, v) (a) += U(v)
#define I_ADDSQ(a, v) (a) += U(v) * U(v)
#define I_ADDABS(a, v) (a) += (v) < 0 ? 0 - U(v) : U(v)
#define I_MUL(a, v) (a) *= U(v)
#define I_MAX(a, v)                                                                                \
    if ((v) > (a)) (a) = (v)
#define I_MIN(a, v)                                                                                \
    if ((v) < (a)) (a) = (v)
#define I64_LO(a) (a) = INT64_MIN
#define I64_HI(a) (a) = INT64_MAX
#define I32_LO(a) (a) = INT32_MIN
#define I32_HI(a) (a) = INT32_MAX
#define I64_OUT(a) ((int64_t)(a))
#define I32_OUT(a) ((int32_t)(int64_t)(a))
/* numpy's mean then astype truncates toward zero, as C division does */
#define I64_MEAN(a) (p->count ? (int64_t)(a) / p->count : 0)
#define I32_MEAN(a) ((int32_t)(p->count ? (int64_t)(a) / p->count : 0))

RED_DEFINE(red_sum_i64, int64_t, uint64_t, I_ZERO, I_ADD, I64_OUT)
RED_DEFINE(red_mean_i64, int64_t, uint64_t, I_ZERO, I_ADD, I64_MEAN)
RED_DEFINE(red_max_i64, int64_t, int64_t, I64_LO, I_MAX, I64_OUT)
RED_DEFINE(red_min_i64, int64_t, int64_t, I64_HI, I_MIN, I64_OUT)
RED_DEFINE(red_prod_i64, int64_t, uint64_t, I_ONE, I_MUL, I64_OUT)
RED_DEFINE(red_l1_i64, int64_t, uint64_t, I_ZERO, I_ADDABS, I64_OUT)
RED_DEFINE(red_sumsq_i64, int64_t, uint64_t, I_ZERO, I_ADDSQ, I64_OUT)
RED_DEFINE(red_sum_i32, int32_t, uint64_t, I_ZERO, I_ADD, I32_OUT)
RED_DEFINE(red_mean_i32, int32_t, uint64_t, I_ZERO, I_ADD, I32_MEAN)
RED_DEFINE(red_max_i32, int32_t, int64_t, I32_LO, I_MAX, I32_OUT)
RED_DEFINE(red_min_i32, int32_t, int64_t, I32_HI, I_MIN, I32_OUT)
RED_DEFINE(red_prod_i32, int32_t, uint64_t, I_ONE, I_MUL, I32_OUT)
RED_DEFINE(red_l1_i32, int32_t, uint64_t, I_ZERO, I_ADDABS, I32_OUT)
RED_DEFINE(red_sumsq_i32, int32_t, uint64_t, I_ZERO, I_ADDSQ, I32_OUT)

/* [kind][float32, int64, int32, float64] */
static const red_fn RED_FNS[R_NKINDS][4] = {
    [R_SUM] = {red_sum_f32, red_sum_i64, red_sum_i32, red_sum_f64},
    [R_MEAN] = {red_mean_f32, red_mean_i64, red_mean_i32, red_mean_f64},
    [R_MAX] = {red_max_f32, red_max_i64, red_max_i32, red_max_f64},
    [R_MIN] = {red_min_f32, red_min_i64, red_min_i32, red_min_f64},
    [R_PROD] = {red_prod_f32, red_prod_i64, red_prod_i32, red_prod_f64},
    [R_L1] = {red_l1_f32, red_l1_i64, red_l1_i32, red_l1_f64},
    [R_L2] = {red_l2_f32, NULL, NULL, red_l2_f64},
    [R_LOGSUM] = {red_logsum_f32, NULL, NULL, red_logsum_f64},
    [R_LOGSUMEXP] = {red_lse_f32, NULL, NULL, red_lse_f64},
    [R_SUMSQ] = {red_sumsq_f32, red_sumsq_i64, red_sumsq_i32, red_sumsq_f64},
};

static red_fn red_fn_for(red_kind k, onyx_dtype dt) {
    switch (dt) {
    case ONYX_DTYPE_FLOAT32:
        return RED_FNS[k][0];
    case ONYX_DTYPE_INT64:
        return RED_FNS[k][1];
    case ONYX_DTYPE_INT32:
        return RED_FNS[k][2];
    case ONYX_DTYPE_FLOAT64:
        return RED_FNS[k][3];
    default:
        return NULL;
    }
}

/* Below this many input elements a reduction runs on one thread: forking costs more. */
#define PAR_MIN_ELEMS 32768

/*
 * Splits items into contiguous chunks across threads. Each output is computed by one
 * thread in a fixed order, so the result does not depend on the thread count.
 */
static void run_items(red_fn fn, const red_plan *p, const void *x, void *y, int threads) {
    int64_t items = p->items;
    if (p->n_in < PAR_MIN_ELEMS && items * BLK < PAR_MIN_ELEMS) threads = 1;
    int64_t chunks =
        threads > 1 ? (items < 4 * (int64_t)threads ? items : 4 * (int64_t)threads) : 1;
    int64_t per = chunks > 0 ? items / chunks : 0, extra = chunks > 0 ? items % chunks : 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1 && chunks > 1)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t begin = c * per + (c < extra ? c : extra);
        fn(p, x, y, begin, begin + per + (c < extra ? 1 : 0));
    }
}

static onyx_status reduce_init_ref(onyxi_exec *x) {
    const onyxi_node *n = x->node;
    const onyx_tensor *t = x->in[0];
    const red_info *ri = red_info_of(n);
    if (!ri) return onyxi_fail(x->err, ONYX_INTERNAL, "'%s' is not a reduction", n->op_type);
    const int64_t *axes;
    int64_t count;
    ONYXI_CHECK(reduce_axes_source(n, x->n_in > 1 ? x->in[1] : NULL, &axes, &count, x->err));
    if (count > 0 && !axes)
        return onyxi_fail(x->err, ONYX_INTERNAL, "input 1 ('axes') has no data at init");
    unsigned mask;
    int identity;
    ONYXI_CHECK(reduce_mask(n, t->rank, axes, count, &mask, &identity, x->err));
    red_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the %s state", n->op_type);
    x->state = st;
    if (identity) /* the tensor's own nbytes may not be filled in yet at init */
        return onyxi_shape_nbytes(t->dtype, t->rank, t->dims, &st->copy, x->err);
    st->fn = red_fn_for(ri->kind, t->dtype);
    if (!st->fn)
        return onyxi_fail(x->err, ONYX_UNSUPPORTED,
                          "input 0 has dtype %s, which %s does not support",
                          onyx_dtype_name(t->dtype), n->op_type);
    if (onyxi_shape_count(t->rank, t->dims) < 0)
        return onyxi_fail(x->err, ONYX_SHAPE_MISMATCH, "input 0 shape is unknown or too large");
    red_plan_build(&st->p, t->rank, t->dims, mask);
    return ONYX_OK;
}

static onyx_status reduce_run_ref(onyxi_exec *x) {
    const red_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "reduction run without init");
    if (!st->fn) {
        if (st->copy) memcpy(x->out[0]->data, x->in[0]->data, st->copy);
        return ONYX_OK;
    }
    if (st->p.items > 0) run_items(st->fn, &st->p, x->in[0]->data, x->out[0]->data, x->num_threads);
    return ONYX_OK;
}

static void reduce_fini_ref(onyxi_exec *x) {
    onyxi_free(x->state);
    x->state = NULL;
}

static const onyxi_impl reduce_ref = {"ref", reduce_init_ref, reduce_run_ref, reduce_fini_ref};
const onyxi_impl *const onyxi_reduce_impls[] = {&onyxi_reduce_dnnl, &reduce_ref, NULL};

/* ---- ArgMax / ArgMin ---- */

const onyxi_attr_spec onyxi_argreduce_attrs[] = {{"axis", ONYXI_ATTR_INT},
                                                 {"keepdims", ONYXI_ATTR_INT},
                                                 {"select_last_index", ONYXI_ATTR_INT},
                                                 {NULL, 0}};

onyx_status onyxi_argreduce_check(const onyxi_node *n, onyxi_err *e) {
    if (onyxi_attr_find(n, "select_last_index") && n->opset < 12)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'select_last_index' needs opset 12 (model has %lld)",
                          (long long)n->opset);
    ONYXI_CHECK(check_flag(n, "keepdims", e));
    return check_flag(n, "select_last_index", e);
}

/* The input as [outer, len, inner] around `axis`. */
typedef struct arg_view {
    int64_t outer, len, inner;
} arg_view;

static onyx_status arg_view_of(const onyxi_node *n, const onyx_tensor *t, arg_view *v, int *axis,
                               onyxi_err *e) {
    if (t->rank < 1)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input 0 is a scalar; %s needs rank >= 1",
                          n->op_type);
    ONYXI_CHECK(onyxi_norm_axis(onyxi_attr_int(n, "axis", 0), t->rank, axis, e));
    v->outer = onyxi_shape_count(*axis, t->dims);
    v->len = t->dims[*axis];
    v->inner = onyxi_shape_count(t->rank - *axis - 1, t->dims + *axis + 1);
    if (v->outer < 0 || v->len < 0 || v->inner < 0)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input 0 shape is unknown or too large");
    if (v->len == 0 && v->outer > 0 && v->inner > 0)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "axis %d of input 0 has size 0: %s of an empty set is undefined", *axis,
                          n->op_type);
    return ONYX_OK;
}

onyx_status onyxi_argreduce_infer(onyxi_infer *c) {
    const onyx_tensor *t = c->in[0];
    onyx_dtype dt = t->dtype;
    if (dt != ONYX_DTYPE_FLOAT32 && dt != ONYX_DTYPE_INT64 && dt != ONYX_DTYPE_INT32 &&
        dt != ONYX_DTYPE_FLOAT64)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 0 has dtype %s; %s supports float32, float64, int32 and int64",
                          onyx_dtype_name(dt), c->node->op_type);
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    arg_view v;
    int ax;
    ONYXI_CHECK(arg_view_of(c->node, t, &v, &ax, c->err));
    int keep = (int)onyxi_attr_int(c->node, "keepdims", 1);
    int64_t dims[ONYXI_MAX_RANK];
    int r = 0;
    for (int i = 0; i < t->rank; i++) {
        if (i != ax)
            dims[r++] = t->dims[i];
        else if (keep)
            dims[r++] = 1;
    }
    onyxi_infer_set(c, 0, ONYX_DTYPE_INT64, r, dims);
    return ONYX_OK;
}

typedef void (*arg_fn)(const arg_view *v, const void *x, int64_t *y, int64_t o);

/*
 * Defines NAME: the indices for outer index o. y's row holds the best index so far of each
 * column, so rows are read contiguously. BETTER(v, b) says v replaces the best b.
 */
#define ARG_DEFINE(NAME, T, BETTER)                                                                \
    static void NAME(const arg_view *v, const void *xv, int64_t *y, int64_t o) {                   \
        const T *xs = (const T *)xv + o * v->len * v->inner;                                       \
        int64_t *ys = y + o * v->inner;                                                            \
        for (int64_t i = 0; i < v->inner; i++)                                                     \
            ys[i] = 0;                                                                             \
        for (int64_t l = 1; l < v->len; l++)                                                       \
            for (int64_t i = 0; i < v->inner; i++) {                                               \
                T a = xs[l * v->inner + i], b = xs[ys[i] * v->inner + i];                          \
                if (BETTER(a, b)) ys[i] = l;                                                       \
            }                                                                                      \
    }

/* first index: a NaN best stays; last index: a later NaN always takes over */
#define MAX_FIRST_F(a, b) (!isnan(b) && ((a) > (b) || isnan(a)))
#define MAX_LAST_F(a, b) (isnan(a) || (!isnan(b) && (a) >= (b)))
#define MIN_FIRST_F(a, b) (!isnan(b) && ((a) < (b) || isnan(a)))
#define MIN_LAST_F(a, b) (isnan(a) || (!isnan(b) && (a) <= (b)))
#define MAX_FIRST_I(a, b) ((a) > (b))
#define MAX_LAST_I(a, b) ((a) >= (b))
#define MIN_FIRST_I(a, b) ((a) < (b))
#define MIN_LAST_I(a, b) ((a) <= (b))

ARG_DEFINE(argmax_first_f32, float, MAX_FIRST_F)
ARG_DEFINE(argmax_last_f32, float, MAX_LAST_F)
ARG_DEFINE(argmin_first_f32, float, MIN_FIRST_F)
ARG_DEFINE(argmin_last_f32, float, MIN_LAST_F)
ARG_DEFINE(argmax_first_i64, int64_t, MAX_FIRST_I)
ARG_DEFINE(argmax_last_i64, int64_t, MAX_LAST_I)
ARG_DEFINE(argmin_first_i64, int64_t, MIN_FIRST_I)
ARG_DEFINE(argmin_last_i64, int64_t, MIN_LAST_I)
ARG_DEFINE(argmax_first_i32, int32_t, MAX_FIRST_I)
ARG_DEFINE(argmax_last_i32, int32_t, MAX_LAST_I)
ARG_DEFINE(argmin_first_i32, int32_t, MIN_FIRST_I)
ARG_DEFINE(argmin_last_i32, int32_t, MIN_LAST_I)
ARG_DEFINE(argmax_first_f64, double, MAX_FIRST_F)
ARG_DEFINE(argmax_last_f64, double, MAX_LAST_F)
ARG_DEFINE(argmin_first_f64, double, MIN_FIRST_F)
ARG_DEFINE(argmin_last_f64, double, MIN_LAST_F)

/* [float32, int64, int32, float64][max, min][first, last] */
static const arg_fn ARG_FNS[4][2][2] = {
    {{argmax_first_f32, argmax_last_f32}, {argmin_first_f32, argmin_last_f32}},
    {{argmax_first_i64, argmax_last_i64}, {argmin_first_i64, argmin_last_i64}},
    {{argmax_first_i32, argmax_last_i32}, {argmin_first_i32, argmin_last_i32}},
    {{argmax_first_f64, argmax_last_f64}, {argmin_first_f64, argmin_last_f64}},
};

/* Row of ARG_FNS for dt; -1 when unsupported. */
static int arg_dtype_index(onyx_dtype dt) {
    switch (dt) {
    case ONYX_DTYPE_FLOAT32:
        return 0;
    case ONYX_DTYPE_INT64:
        return 1;
    case ONYX_DTYPE_INT32:
        return 2;
    case ONYX_DTYPE_FLOAT64:
        return 3;
    default:
        return -1;
    }
}

typedef struct arg_state {
    arg_view v;
    arg_fn fn; /* borrowed: static table */
} arg_state;

static onyx_status argreduce_init_ref(onyxi_exec *x) {
    const onyx_tensor *t = x->in[0];
    arg_view v;
    int ax;
    ONYXI_CHECK(arg_view_of(x->node, t, &v, &ax, x->err));
    int d = arg_dtype_index(t->dtype);
    if (d < 0)
        return onyxi_fail(x->err, ONYX_UNSUPPORTED, "input 0 has dtype %s",
                          onyx_dtype_name(t->dtype));
    arg_state *st = onyxi_calloc(1, sizeof *st);
    if (!st)
        return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the %s state", x->node->op_type);
    x->state = st;
    st->v = v;
    int is_min = strcmp(x->node->op_type, "ArgMin") == 0;
    int last = onyxi_attr_int(x->node, "select_last_index", 0) != 0;
    st->fn = ARG_FNS[d][is_min][last];
    return ONYX_OK;
}

static onyx_status argreduce_run_ref(onyxi_exec *x) {
    const arg_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "%s run without init", x->node->op_type);
    const arg_view *v = &st->v;
    if (v->outer == 0 || v->inner == 0) return ONYX_OK; /* empty output */
    int threads = x->num_threads;
    if (v->outer * v->len * v->inner < PAR_MIN_ELEMS) threads = 1;
    const void *xd = x->in[0]->data;
    int64_t *yd = x->out[0]->data;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && v->outer > 1)
    for (int64_t o = 0; o < v->outer; o++)
        st->fn(v, xd, yd, o);
    return ONYX_OK;
}

static void argreduce_fini_ref(onyxi_exec *x) {
    onyxi_free(x->state);
    x->state = NULL;
}

static const onyxi_impl argreduce_ref = {"ref", argreduce_init_ref, argreduce_run_ref,
                                         argreduce_fini_ref};
const onyxi_impl *const onyxi_argreduce_impls[] = {&argreduce_ref, NULL};
