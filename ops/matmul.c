/*
 * MatMul (opset 1, 9, 13) with numpy.matmul semantics: a 1-D first operand gets a leading 1
 * and a 1-D second operand a trailing 1 (both dropped from the result), and the batch dims
 * (all but the last two) broadcast numpy-style. The versions differ only in the dtypes they
 * allow; onyx runs float32, and int32/int64 with wrap-around arithmetic.
 * A float32 MatMul the graph passes fused with what follows it (runtime/passes.c: a bias Add,
 * whose row becomes input 2, and activations) applies that chain (postops.h) to each output
 * row right after computing it.
 */
#include <string.h>

#include "matmul.h"
#include "ops.h"
#include "postops.h"

const onyxi_attr_spec onyxi_matmul_attrs[] = {{NULL, 0}};

onyx_status onyxi_matmul_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}

onyx_status onyxi_matmul_shape(const onyx_tensor *a, const onyx_tensor *b, mm_shape *s,
                                onyxi_err *e) {
    char sa[160], sb[160];
    onyxi_shape_str(a->rank, a->dims, sa, sizeof sa);
    onyxi_shape_str(b->rank, b->dims, sb, sizeof sb);
    if (a->rank < 1 || b->rank < 1)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "inputs A %s and B %s: MatMul needs both of rank >= 1", sa, sb);
    int ra = a->rank, rb = b->rank;
    int64_t ka;
    if (ra == 1) {
        s->m = 1;
        ka = a->dims[0];
    } else {
        s->m = a->dims[ra - 2];
        ka = a->dims[ra - 1];
    }
    int64_t kb;
    if (rb == 1) {
        kb = b->dims[0];
        s->n = 1;
    } else {
        kb = b->dims[rb - 2];
        s->n = b->dims[rb - 1];
    }
    if (ka != kb)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "inputs A %s and B %s: inner dims differ (%lld vs %lld)", sa, sb,
                          (long long)ka, (long long)kb);
    s->k = ka;
    int nba = ra > 2 ? ra - 2 : 0, nbb = rb > 2 ? rb - 2 : 0;
    s->nb = nba > nbb ? nba : nbb;
    for (int i = 0; i < s->nb; i++) {
        int ia = i - (s->nb - nba), ib = i - (s->nb - nbb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                              "inputs A %s and B %s: batch dims %lld and %lld do not broadcast", sa,
                              sb, (long long)da, (long long)db);
        s->a_batch[i] = da;
        s->b_batch[i] = db;
        s->y_batch[i] = da == 1 ? db : da;
    }
    return ONYX_OK;
}

static int matmul_dtype_ok(onyx_dtype dt) {
    return dt == ONYX_DTYPE_FLOAT32 || dt == ONYX_DTYPE_INT32 || dt == ONYX_DTYPE_INT64;
}

onyx_status onyxi_matmul_infer(onyxi_infer *c) {
    const onyx_tensor *a = c->in[0], *b = c->in[1];
    if (!matmul_dtype_ok(a->dtype))
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input A has dtype %s; MatMul supports float32, int32 and int64",
                          onyx_dtype_name(a->dtype));
    ONYXI_CHECK(onyxi_infer_expect_dtype(c, 1, a->dtype));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 1));
    mm_shape s;
    ONYXI_CHECK(onyxi_matmul_shape(a, b, &s, c->err));
    int64_t dims[ONYXI_MAX_RANK];
    int r = 0;
    for (int i = 0; i < s.nb; i++)
        dims[r++] = s.y_batch[i];
    if (a->rank > 1) dims[r++] = s.m;
    if (b->rank > 1) dims[r++] = s.n;
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(a->dtype, r, dims, &nbytes, c->err));
    /* a fused bias is appended after A and B */
    ONYXI_CHECK(onyxi_post_check(c->node, c->n_in, c->in, 2, a->dtype, r, dims, c->err));
    onyxi_infer_set(c, 0, a->dtype, r, dims);
    return ONYX_OK;
}

/* ---- ref ---- */

/* Per node: the matrix sizes and, for every output batch, the element offsets of its A and
 * B matrices, so that run() does no broadcasting arithmetic. */
typedef struct mm_state {
    int64_t m, k, n;
    int64_t batches;
    int64_t *offsets; /* owned: 2 * batches entries, A then B offset of each batch */
} mm_state;

static onyx_status matmul_init_ref(onyxi_exec *x) {
    mm_shape s;
    const onyx_tensor *a = x->in[0], *b = x->in[1];
    ONYXI_CHECK(onyxi_matmul_shape(a, b, &s, x->err));
    const onyx_tensor *y = x->out[0];
    ONYXI_CHECK(onyxi_post_check(x->node, x->n_in, x->in, 2, y->dtype, y->rank, y->dims, x->err));
    /* infer accepted these shapes; this guards the offset arithmetic below all the same */
    if (onyxi_shape_count(a->rank, a->dims) < 0 || onyxi_shape_count(b->rank, b->dims) < 0)
        return onyxi_fail(x->err, ONYX_SHAPE_MISMATCH, "input shapes are unknown or too large");
    int64_t batches = onyxi_shape_count(s.nb, s.y_batch);
    if (batches < 0 || (uint64_t)batches > SIZE_MAX / (2 * sizeof(int64_t)))
        return onyxi_fail(x->err, ONYX_NOMEM, "%lld batches are too many to index",
                          (long long)batches);
    mm_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the MatMul state");
    x->state = st;
    st->m = s.m;
    st->k = s.k;
    st->n = s.n;
    st->batches = batches;
    if (batches == 0) return ONYX_OK;
    st->offsets = onyxi_malloc((size_t)batches * 2 * sizeof(int64_t));
    if (!st->offsets) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the batch table");

    /* Row-major batch strides in matrices; a broadcast (size-1) dim gets stride 0. */
    int64_t sa[ONYXI_MAX_RANK], sb[ONYXI_MAX_RANK], ma = 1, mb = 1;
    for (int i = s.nb - 1; i >= 0; i--) {
        sa[i] = s.a_batch[i] == 1 ? 0 : ma;
        sb[i] = s.b_batch[i] == 1 ? 0 : mb;
        ma *= s.a_batch[i];
        mb *= s.b_batch[i];
    }
    /* Sizes are bounded by the input byte counts, so these products cannot overflow. */
    int64_t asize = s.m * s.k, bsize = s.k * s.n;
    int64_t idx[ONYXI_MAX_RANK] = {0};
    for (int64_t t = 0; t < batches; t++) {
        int64_t oa = 0, ob = 0;
        for (int i = 0; i < s.nb; i++) {
            oa += idx[i] * sa[i];
            ob += idx[i] * sb[i];
        }
        st->offsets[2 * t] = oa * asize;
        st->offsets[2 * t + 1] = ob * bsize;
        for (int i = s.nb - 1; i >= 0; i--) {
            if (++idx[i] < s.y_batch[i]) break;
            idx[i] = 0;
        }
    }
    return ONYX_OK;
}

/*
 * The kernels: i-k-j order, so the innermost loop streams contiguous rows of B and Y and
 * the compiler can vectorize it. Integer types accumulate in unsigned arithmetic so that
 * overflow wraps (as numpy does) instead of being undefined behaviour.
 */

/* y += a * x over n contiguous floats; restrict lets the compiler vectorize without checks. */
static void axpy_f32(int64_t n, float a, const float *restrict x, float *restrict y) {
    for (int64_t j = 0; j < n; j++)
        y[j] += a * x[j];
}

/* Rows of all batches are independent: threads split them, each row computed in the same
 * order whatever the thread count, so results do not depend on it. A fused chain (post, may
 * be NULL) finishes each row while it is still in cache. */
static void matmul_f32(const mm_state *st, const float *a, const float *b, float *y,
                       const onyxi_fusion *post, const onyx_tensor *const *in, int threads) {
    const int64_t m = st->m, k = st->k, n = st->n, rows = st->batches * m;
    /* below ~64K multiply-adds a thread team costs more than it saves */
    int parallel = threads > 1 && rows > 1 && rows * n * k >= (1 << 16);
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
    for (int64_t r = 0; r < rows; r++) {
        int64_t t = r / m, i = r % m;
        const float *ab = a + st->offsets[2 * t], *bb = b + st->offsets[2 * t + 1];
        float *yr = y + r * n;
        for (int64_t j = 0; j < n; j++)
            yr[j] = 0.0f;
        for (int64_t p = 0; p < k; p++)
            axpy_f32(n, ab[i * k + p], bb + p * n, yr);
        if (post) onyxi_post_apply(post, in, yr, r * n, n);
    }
}

#define MATMUL_INT(name, T, U)                                                                     \
    static void name(const mm_state *st, const T *a, const T *b, T *y) {                           \
        const int64_t m = st->m, k = st->k, n = st->n;                                             \
        for (int64_t t = 0; t < st->batches; t++) {                                                \
            const T *ab = a + st->offsets[2 * t], *bb = b + st->offsets[2 * t + 1];                \
            T *yb = y + t * m * n;                                                                 \
            for (int64_t i = 0; i < m; i++) {                                                      \
                T *yr = yb + i * n;                                                                \
                for (int64_t j = 0; j < n; j++)                                                    \
                    yr[j] = 0;                                                                     \
                for (int64_t p = 0; p < k; p++) {                                                  \
                    const U av = (U)ab[i * k + p];                                                 \
                    const T *br = bb + p * n;                                                      \
                    for (int64_t j = 0; j < n; j++)                                                \
                        yr[j] = (T)((U)yr[j] + av * (U)br[j]);                                     \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }
MATMUL_INT(matmul_i32, int32_t, uint32_t)
MATMUL_INT(matmul_i64, int64_t, uint64_t)

static onyx_status matmul_run_ref(onyxi_exec *x) {
    const mm_state *st = x->state;
    const onyx_tensor *a = x->in[0], *b = x->in[1];
    onyx_tensor *y = x->out[0];
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "MatMul run without init");
    /* Nothing to write when the output is empty; with K == 0 the loops write zeros. */
    if (st->batches == 0 || st->m == 0 || st->n == 0) return ONYX_OK;
    switch (a->dtype) {
    case ONYX_DTYPE_FLOAT32:
        matmul_f32(st, a->data, b->data, y->data, onyxi_post_chain(x->node), x->in, x->num_threads);
        break;
    case ONYX_DTYPE_INT32:
        matmul_i32(st, a->data, b->data, y->data);
        break;
    case ONYX_DTYPE_INT64:
        matmul_i64(st, a->data, b->data, y->data);
        break;
    default:
        return onyxi_fail(x->err, ONYX_UNSUPPORTED, "input A has dtype %s",
                          onyx_dtype_name(a->dtype));
    }
    return ONYX_OK;
}

static void matmul_fini_ref(onyxi_exec *x) {
    mm_state *st = x->state;
    if (!st) return;
    onyxi_free(st->offsets);
    onyxi_free(st);
    x->state = NULL;
}

static const onyxi_impl matmul_ref = {"ref", matmul_init_ref, matmul_run_ref, matmul_fini_ref};
const onyxi_impl *const onyxi_matmul_impls[] = {&onyxi_matmul_dnnl, &matmul_ref, NULL};
