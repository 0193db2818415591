/*
 * Gemm (opset 1, 6, 7, 9, 11, 13): Y = alpha * A' * B' + beta * C, where A' and B' are A and
 * B optionally transposed (transA, transB) and C broadcasts unidirectionally to [M, N]
 * (scalar, [N], [1], [M, 1], [1, N], [M, N]).
 * opset 1 and 6: C must be [M, N] unless attribute `broadcast` is non-zero (old PyTorch
 * exports set it). opset 7: `broadcast` removed, C always broadcasts; float types only, C
 * required. opset 9: integer types allowed. opset 11: C optional. opset 13: bfloat16 added
 * (not run). onyx runs float32, and int32/int64 with wrap-around arithmetic when alpha and
 * beta are whole numbers.
 * A float32 Gemm the graph passes fused with the activation after it (runtime/passes.c)
 * applies that chain (postops.h) to each output tile after alpha and beta * C.
 */
#include <math.h>
#include <string.h>

#include "gemm.h"
#include "ops.h"
#include "postops.h"

const onyxi_attr_spec onyxi_gemm_attrs[] = {
    {"alpha", ONYXI_ATTR_FLOAT}, {"beta", ONYXI_ATTR_FLOAT}, {"broadcast", ONYXI_ATTR_INT},
    {"transA", ONYXI_ATTR_INT},  {"transB", ONYXI_ATTR_INT}, {NULL, 0}};

onyx_status onyxi_gemm_check(const onyxi_node *n, onyxi_err *e) {
    /* opset 11 made C optional; before it an absent ('') C is a malformed model */
    if (n->opset < 11 && (n->n_inputs < 3 || n->inputs[2] < 0))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "input 'C' is absent, but it is required before opset 11 (model has "
                          "opset %lld)",
                          (long long)n->opset);
    if (n->opset >= 7 && onyxi_attr_find(n, "broadcast"))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'broadcast' was removed in opset 7 (model has opset %lld)",
                          (long long)n->opset);
    static const char *flags[2] = {"transA", "transB"};
    for (int i = 0; i < 2; i++) {
        int64_t v = onyxi_attr_int(n, flags[i], 0);
        if (v != 0 && v != 1)
            return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute '%s' is %lld, expected 0 or 1",
                              flags[i], (long long)v);
    }
    return ONYX_OK;
}

onyx_status onyxi_gemm_geometry(const onyxi_node *nd, const onyx_tensor *a, const onyx_tensor *b,
                                const onyx_tensor *c, gemm_geom *g, onyxi_err *e) {
    char sa[160], sb[160];
    memset(g, 0, sizeof *g);
    if (a->rank != 2)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input 'A' has shape %s, expected rank 2",
                          onyxi_shape_str(a->rank, a->dims, sa, sizeof sa));
    if (b->rank != 2)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input 'B' has shape %s, expected rank 2",
                          onyxi_shape_str(b->rank, b->dims, sb, sizeof sb));
    g->ta = onyxi_attr_int(nd, "transA", 0) != 0;
    g->tb = onyxi_attr_int(nd, "transB", 0) != 0;
    g->m = a->dims[g->ta ? 1 : 0];
    int64_t ka = a->dims[g->ta ? 0 : 1], kb = b->dims[g->tb ? 1 : 0];
    g->n = b->dims[g->tb ? 0 : 1];
    if (ka != kb)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "inputs A %s (transA=%d) and B %s (transB=%d): inner dims differ (%lld "
                          "vs %lld)",
                          onyxi_shape_str(a->rank, a->dims, sa, sizeof sa), g->ta,
                          onyxi_shape_str(b->rank, b->dims, sb, sizeof sb), g->tb, (long long)ka,
                          (long long)kb);
    g->k = ka;
    if (!c) return ONYX_OK;
    g->has_c = 1;
    /* Unidirectional broadcast: C's dims, right-aligned against [M, N], are 1 or equal. */
    int64_t cm = 1, cn = 1;
    if (c->rank > 2) goto bad_c;
    /* opset < 7 without `broadcast`: C is the full [M, N] */
    int exact = nd->opset < 7 && onyxi_attr_int(nd, "broadcast", 0) == 0;
    if (exact && (c->rank != 2 || c->dims[0] != g->m || c->dims[1] != g->n)) goto bad_c;
    if (c->rank >= 1) cn = c->dims[c->rank - 1];
    if (c->rank == 2) cm = c->dims[0];
    if ((cm != 1 && cm != g->m) || (cn != 1 && cn != g->n)) goto bad_c;
    g->c_cs = cn == 1 ? 0 : 1;
    g->c_rs = cm == 1 ? 0 : cn;
    return ONYX_OK;
bad_c:
    if (nd->opset < 7 && onyxi_attr_int(nd, "broadcast", 0) == 0)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input 'C' has shape %s, expected [%lld,%lld] (attribute 'broadcast' "
                          "is 0)",
                          onyxi_shape_str(c->rank, c->dims, sa, sizeof sa), (long long)g->m,
                          (long long)g->n);
    return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                      "input 'C' has shape %s, expected one that broadcasts to [%lld,%lld] "
                      "(scalar, [N], [M,1], [1,N] or [M,N])",
                      onyxi_shape_str(c->rank, c->dims, sa, sizeof sa), (long long)g->m,
                      (long long)g->n);
}

static const onyx_tensor *c_input(int n_in, const onyx_tensor *const *in) {
    return n_in > 2 ? in[2] : NULL;
}

static int is_whole(float v) {
    return isfinite(v) && v == floorf(v) && fabsf(v) < 9.0e18f;
}

onyx_status onyxi_gemm_infer(onyxi_infer *c) {
    const onyx_tensor *a = c->in[0], *C = c_input(c->n_in, c->in);
    onyx_dtype dt = a->dtype;
    int is_int = dt == ONYX_DTYPE_INT32 || dt == ONYX_DTYPE_INT64;
    if (dt != ONYX_DTYPE_FLOAT32 && !is_int)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 'A' has dtype %s; Gemm supports float32, int32 and int64",
                          onyx_dtype_name(dt));
    if (is_int && c->node->opset < 9)
        return onyxi_fail(c->err, ONYX_TYPE_MISMATCH,
                          "input 'A' has dtype %s; before opset 9 Gemm allows float types only "
                          "(model has opset %lld)",
                          onyx_dtype_name(dt), (long long)c->node->opset);
    if (is_int) {
        float alpha = onyxi_attr_float(c->node, "alpha", 1.0f);
        float beta = onyxi_attr_float(c->node, "beta", 1.0f);
        if (!is_whole(alpha) || !is_whole(beta))
            return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                              "integer Gemm with fractional alpha %g or beta %g is not supported",
                              (double)alpha, (double)beta);
    }
    ONYXI_CHECK(onyxi_infer_expect_dtype(c, 1, dt));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 1));
    if (C) {
        ONYXI_CHECK(onyxi_infer_expect_dtype(c, 2, dt));
        ONYXI_CHECK(onyxi_infer_expect_known(c, 2));
    }
    gemm_geom g;
    ONYXI_CHECK(onyxi_gemm_geometry(c->node, a, c->in[1], C, &g, c->err));
    int64_t dims[2] = {g.m, g.n};
    size_t nbytes;
    ONYXI_CHECK(onyxi_shape_nbytes(dt, 2, dims, &nbytes, c->err));
    ONYXI_CHECK(onyxi_post_check(c->node, c->n_in, c->in, -1, dt, 2, dims, c->err));
    onyxi_infer_set(c, 0, dt, 2, dims);
    return ONYX_OK;
}

/* ---- ref ----------------------------------------------------------------------------------
 * Output tiles (a block of rows x a block of columns) are independent; threads split them.
 * Each output element is computed the same way whatever the tiling, so the tile sizes may
 * depend on the thread count while results do not.
 *  - B not transposed: i-k-j, the inner loop an axpy over a contiguous row (segment) of B,
 *    as in MatMul. Tiles are whole rows; columns are split only when there are fewer rows
 *    than threads.
 *  - transB without transA (Linear layers: B = W [N, K]): each output is a dot product of a
 *    row of A with a row of W, both contiguous, kept in fixed partial sums so that it
 *    vectorizes without reassociation. W is read in place: no packed copy is needed, so it
 *    does not matter whether W is a constant, and batch-1 inference reads W exactly once.
 *  - transA and transB: B is transposed at run time into a buffer allocated in init, then
 *    the i-k-j path runs.
 * Then y = alpha * acc + beta * C as in the numpy reference, then a fused chain.
 */

#define DOT_TILE_M 16   /* dot path: rows per tile, all reusing one W row from L1 */
#define DOT_TILE_N 64   /* dot path: W rows per tile */
#define MIN_SPLIT_N 256 /* axpy path: narrowest column chunk worth its own thread */

typedef struct gemm_state {
    gemm_geom g;
    float alpha, beta;
    int dot;                /* the dot-product path (transB && !transA) */
    int64_t tile_m, tile_n; /* tile sizes; tn = tiles per row of tiles */
    int64_t tn, tiles;
    int64_t a_dims[2], b_dims[2]; /* shapes this state was built for, checked by run */
    float *bt;                    /* owned: [K, N] copy of B for transA && transB */
    const onyxi_fusion *post;     /* borrowed: the node's fused chain, NULL without one */
} gemm_state;

static onyx_status gemm_init_ref(onyxi_exec *x) {
    gemm_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the Gemm state");
    x->state = st;
    const onyx_tensor *a = x->in[0], *b = x->in[1];
    gemm_geom *g = &st->g;
    ONYXI_CHECK(onyxi_gemm_geometry(x->node, a, b, c_input(x->n_in, x->in), g, x->err));
    int64_t ydims[2] = {g->m, g->n};
    ONYXI_CHECK(onyxi_post_check(x->node, x->n_in, x->in, -1, x->out[0]->dtype, 2, ydims, x->err));
    st->post = onyxi_post_chain(x->node);
    if (onyxi_shape_count(2, a->dims) < 0 || onyxi_shape_count(2, b->dims) < 0)
        return onyxi_fail(x->err, ONYX_SHAPE_MISMATCH, "input shapes are unknown or too large");
    st->alpha = onyxi_attr_float(x->node, "alpha", 1.0f);
    st->beta = onyxi_attr_float(x->node, "beta", 1.0f);
    memcpy(st->a_dims, a->dims, sizeof st->a_dims);
    memcpy(st->b_dims, b->dims, sizeof st->b_dims);
    st->dot = g->tb && !g->ta;
    if (st->dot) {
        st->tile_m = DOT_TILE_M;
        st->tile_n = DOT_TILE_N;
    } else {
        /* whole rows, unless rows are too few to keep every thread busy */
        int64_t threads = x->num_threads > 1 ? x->num_threads : 1, split = 1;
        if (g->m < threads) {
            split = (threads + g->m - 1) / (g->m > 0 ? g->m : 1);
            int64_t most = (g->n + MIN_SPLIT_N - 1) / MIN_SPLIT_N;
            if (split > most) split = most;
            if (split < 1) split = 1;
        }
        st->tile_m = 1;
        st->tile_n = (g->n + split - 1) / split;
        st->tile_n = (st->tile_n + 15) / 16 * 16; /* chunks start 16 floats apart */
    }
    if (st->tile_n < 1) st->tile_n = 1;
    st->tn = (g->n + st->tile_n - 1) / st->tile_n;
    st->tiles = (g->m + st->tile_m - 1) / st->tile_m * st->tn;
    if (g->ta && g->tb && a->dtype == ONYX_DTYPE_FLOAT32 && g->k > 0 && g->n > 0) {
        /* K * N is B's element count, whose byte size the planner already bounded */
        st->bt = onyxi_malloc((size_t)(g->k * g->n) * sizeof(float));
        if (!st->bt) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the packed B");
    }
    return ONYX_OK;
}

/* y += a * x over n contiguous floats; restrict lets the compiler vectorize without checks. */
static void axpy_f32(int64_t n, float a, const float *restrict x, float *restrict y) {
    for (int64_t j = 0; j < n; j++)
        y[j] += a * x[j];
}

/* Dot product in eight fixed partial sums (two groups of four, one SSE register each),
 * reduced in a fixed order: deterministic, and vectorizable without -ffast-math. */
static float dot_f32(const float *restrict a, const float *restrict w, int64_t k) {
    float s0[4] = {0}, s1[4] = {0};
    int64_t p = 0;
    for (; p + 8 <= k; p += 8) {
        for (int l = 0; l < 4; l++)
            s0[l] += a[p + l] * w[p + l];
        for (int l = 0; l < 4; l++)
            s1[l] += a[p + 4 + l] * w[p + 4 + l];
    }
    float s = ((s0[0] + s1[0]) + (s0[1] + s1[1])) + ((s0[2] + s1[2]) + (s0[3] + s1[3]));
    for (; p < k; p++)
        s += a[p] * w[p];
    return s;
}

/* One tile of acc = A' * B' into y: rows [i0, i1), columns [j0, j1). b is [K, N] row-major
 * (B or the packed copy), or W [N, K] on the dot path. */
static void tile_f32(const gemm_state *st, const float *a, const float *b, float *y, int64_t i0,
                     int64_t i1, int64_t j0, int64_t j1) {
    const int64_t m = st->g.m, n = st->g.n, k = st->g.k;
    const int ta = st->g.ta;
    if (st->dot) {
        /* j outer: one W row stays in L1 while every row of the tile uses it */
        for (int64_t j = j0; j < j1; j++)
            for (int64_t i = i0; i < i1; i++)
                y[i * n + j] = dot_f32(a + i * k, b + j * k, k);
        return;
    }
    const int64_t as = ta ? m : 1, w = j1 - j0; /* stride between A'(i, p) and A'(i, p + 1) */
    for (int64_t i = i0; i < i1; i++) {
        const float *ar = ta ? a + i : a + i * k;
        float *yr = y + i * n + j0;
        for (int64_t j = 0; j < w; j++)
            yr[j] = 0.0f;
        for (int64_t p = 0; p < k; p++)
            axpy_f32(w, ar[p * as], b + p * n + j0, yr);
    }
}

static void gemm_f32(const gemm_state *st, const float *a, const float *b, const float *c, float *y,
                     const onyx_tensor *const *in, int threads) {
    const gemm_geom *g = &st->g;
    const int64_t n = g->n;
    if (g->tb && g->ta) {
        float *bt = st->bt; /* B is [N, K]: write its transpose [K, N] */
        for (int64_t j = 0; j < n; j++)
            for (int64_t p = 0; p < g->k; p++)
                bt[p * n + j] = b[j * g->k + p];
        b = bt;
    }
    const float alpha = st->alpha, beta = st->beta;
    /* beta == 0 drops C entirely, as ONNX Runtime does (so NaNs in C do not leak through) */
    const int use_c = c && beta != 0.0f;
    const int64_t tiles = st->tiles, tn = st->tn;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1 && tiles > 1)
    for (int64_t t = 0; t < tiles; t++) {
        int64_t i0 = t / tn * st->tile_m, j0 = t % tn * st->tile_n;
        int64_t i1 = i0 + st->tile_m < g->m ? i0 + st->tile_m : g->m;
        int64_t j1 = j0 + st->tile_n < n ? j0 + st->tile_n : n;
        tile_f32(st, a, b, y, i0, i1, j0, j1);
        if (alpha != 1.0f || use_c)
            for (int64_t i = i0; i < i1; i++)
                for (int64_t j = j0; j < j1; j++) {
                    float v = alpha * y[i * n + j];
                    if (use_c) v += beta * c[i * g->c_rs + j * g->c_cs];
                    y[i * n + j] = v;
                }
        if (st->post)
            for (int64_t i = i0; i < i1; i++)
                onyxi_post_apply(st->post, in, y + i * n + j0, i * n + j0, j1 - j0);
    }
}

/* Integer Gemm: plain i-k-j loops in unsigned arithmetic, so overflow wraps (as numpy does)
 * instead of being undefined behaviour. alpha and beta are whole numbers (checked by infer). */
#define GEMM_INT(name, T, U)                                                                       \
    static void name(const gemm_state *st, const T *a, const T *b, const T *c, T *y) {             \
        const gemm_geom *g = &st->g;                                                               \
        const U alpha = (U)(int64_t)st->alpha, beta = (U)(int64_t)st->beta;                        \
        for (int64_t i = 0; i < g->m; i++) {                                                       \
            T *yr = y + i * g->n;                                                                  \
            for (int64_t j = 0; j < g->n; j++) {                                                   \
                U acc = 0;                                                                         \
                for (int64_t p = 0; p < g->k; p++) {                                               \
                    U av = (U)(g->ta ? a[p * g->m + i] : a[i * g->k + p]);                         \
                    U bv = (U)(g->tb ? b[j * g->k + p] : b[p * g->n + j]);                         \
                    acc += av * bv;                                                                \
                }                                                                                  \
                acc *= alpha;                                                                      \
                if (c) acc += beta * (U)c[i * g->c_rs + j * g->c_cs];                              \
                yr[j] = (T)acc;                                                                    \
            }                                                                                      \
        }                                                                                          \
    }
GEMM_INT(gemm_i32, int32_t, uint32_t)
GEMM_INT(gemm_i64, int64_t, uint64_t)

static onyx_status gemm_run_ref(onyxi_exec *x) {
    const gemm_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "Gemm run without init");
    const onyx_tensor *a = x->in[0], *b = x->in[1], *c = c_input(x->n_in, x->in);
    if (memcmp(a->dims, st->a_dims, sizeof st->a_dims) != 0 ||
        memcmp(b->dims, st->b_dims, sizeof st->b_dims) != 0)
        return onyxi_fail(x->err, ONYX_INTERNAL, "input shapes changed since init");
    if (st->g.m == 0 || st->g.n == 0) return ONYX_OK; /* nothing to write */
    const void *cd = c ? c->data : NULL;
    switch (a->dtype) {
    case ONYX_DTYPE_FLOAT32:
        gemm_f32(st, a->data, b->data, cd, x->out[0]->data, x->in, x->num_threads);
        break;
    case ONYX_DTYPE_INT32:
        gemm_i32(st, a->data, b->data, cd, x->out[0]->data);
        break;
    case ONYX_DTYPE_INT64:
        gemm_i64(st, a->data, b->data, cd, x->out[0]->data);
        break;
    default:
        return onyxi_fail(x->err, ONYX_UNSUPPORTED, "input 'A' has dtype %s",
                          onyx_dtype_name(a->dtype));
    }
    return ONYX_OK;
}

static void gemm_fini_ref(onyxi_exec *x) {
    gemm_state *st = x->state;
    if (!st) return;
    onyxi_free(st->bt);
    onyxi_free(st);
    x->state = NULL;
}

/* ---- exported op pieces ---- */

static const onyxi_impl gemm_ref = {"ref", gemm_init_ref, gemm_run_ref, gemm_fini_ref};
const onyxi_impl *const onyxi_gemm_impls[] = {&onyxi_gemm_dnnl, &gemm_ref, NULL};
