/*
 * Transpose (opset 1, 13), any fixed-size dtype (elements are moved as bytes).
 * `perm` defaults to the reversed axes; it must be a permutation of 0..rank-1 (no negative
 * values in any version). opset 13 only widens the type list.
 * The kernel first simplifies the permutation (size-1 axes dropped, axes that stay adjacent
 * merged), then picks: a plain copy, a copy of contiguous rows, a blocked (batched) 2-D
 * transpose -- which covers moving one axis, e.g. NCHW <-> NHWC -- or a general strided walk
 * whose inner loop runs along the output's contiguous axis.
 */
#include <string.h>

#include "ops.h"

const onyxi_attr_spec onyxi_transpose_attrs[] = {{"perm", ONYXI_ATTR_INTS}, {NULL, 0}};

onyx_status onyxi_transpose_check(const onyxi_node *n, onyxi_err *e) {
    const int64_t *perm = NULL;
    int count = onyxi_attr_ints(n, "perm", &perm);
    if (count < 0) return ONYX_OK;
    if (count > ONYXI_MAX_RANK)
        return onyxi_fail(e, ONYX_UNSUPPORTED,
                          "attribute 'perm' has %d values; onyx supports up to rank %d", count,
                          ONYXI_MAX_RANK);
    unsigned char seen[ONYXI_MAX_RANK] = {0};
    for (int i = 0; i < count; i++) {
        if (perm[i] < 0 || perm[i] >= count)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "attribute 'perm' has %lld at position %d, expected 0 to %d",
                              (long long)perm[i], i, count - 1);
        if (seen[perm[i]])
            return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute 'perm' lists axis %lld twice",
                              (long long)perm[i]);
        seen[perm[i]] = 1;
    }
    return ONYX_OK;
}

/* The permutation for rank: the attribute, or the reversed axes when it is absent. */
static onyx_status get_perm(const onyxi_node *n, int rank, int *perm, onyxi_err *e) {
    const int64_t *p = NULL;
    int count = onyxi_attr_ints(n, "perm", &p);
    if (count < 0) {
        for (int i = 0; i < rank; i++)
            perm[i] = rank - 1 - i;
        return ONYX_OK;
    }
    if (count != rank)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'perm' has %d values, expected %d (the rank of input 0)",
                          count, rank);
    for (int i = 0; i < rank; i++)
        perm[i] = (int)p[i]; /* range checked at load */
    return ONYX_OK;
}

onyx_status onyxi_transpose_infer(onyxi_infer *c) {
    const onyx_tensor *x = c->in[0];
    if (!x) return onyxi_fail(c->err, ONYX_INVALID_MODEL, "input 0 is absent");
    if (onyxi_dtype_size(x->dtype) == 0)
        return onyxi_fail(c->err, ONYX_UNSUPPORTED,
                          "input 0 ('%s') has dtype %s, which Transpose cannot move",
                          x->name ? x->name : "", onyx_dtype_name(x->dtype));
    ONYXI_CHECK(onyxi_infer_expect_known(c, 0));
    int perm[ONYXI_MAX_RANK];
    ONYXI_CHECK(get_perm(c->node, x->rank, perm, c->err));
    int64_t dims[ONYXI_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        dims[i] = x->dims[perm[i]];
    onyxi_infer_set(c, 0, x->dtype, x->rank, dims);
    return ONYX_OK;
}

/* ---- ref ---- */

enum { KIND_EMPTY, KIND_COPY, KIND_ROWS, KIND_2D, KIND_GENERAL };

/* Side of the square tiles of the 2-D kernel: a 32x32 tile of 8-byte elements is 8 KiB, so
 * the tile being read stays in L1 while its columns are written out. */
#define TILE 32

/*
 * The simplified problem: output axis i has size dims[i] and advances the input by istride[i]
 * elements; the output itself is contiguous row-major over dims.
 * KIND_2D: batch matrices, input [rows, cols] each, output [cols, rows].
 */
typedef struct transpose_state {
    int kind;
    int n;
    int64_t dims[ONYXI_MAX_RANK];
    int64_t istride[ONYXI_MAX_RANK];
    size_t es;
    int64_t count;
    int64_t batch, rows, cols;
} transpose_state;

static onyx_status transpose_init_ref(onyxi_exec *x) {
    const onyx_tensor *in = x->in[0];
    transpose_state *st = onyxi_calloc(1, sizeof *st);
    if (!st) return onyxi_fail(x->err, ONYX_NOMEM, "out of memory for the Transpose state");
    x->state = st;
    int r = in->rank, perm[ONYXI_MAX_RANK];
    ONYXI_CHECK(get_perm(x->node, r, perm, x->err));
    st->es = onyxi_dtype_size(in->dtype);
    st->count = onyxi_shape_count(r, in->dims);
    if (st->count < 0 || st->es == 0)
        return onyxi_fail(x->err, ONYX_INTERNAL, "input 0's shape or dtype is unknown");
    if (st->count == 0) {
        st->kind = KIND_EMPTY;
        return ONYX_OK;
    }
    int64_t is[ONYXI_MAX_RANK], stride = 1;
    for (int k = r - 1; k >= 0; k--) {
        is[k] = stride;
        stride *= in->dims[k]; /* no overflow: the product is count, which is not 0 here */
    }
    /* size-1 axes move nothing; an output axis whose input stride is the next one's extent
     * times its stride continues it in the input too, so the two are one axis */
    int n = 0;
    for (int i = 0; i < r; i++) {
        int64_t d = in->dims[perm[i]], s = is[perm[i]];
        if (d == 1) continue;
        if (n > 0 && st->istride[n - 1] == d * s) {
            st->dims[n - 1] *= d;
            st->istride[n - 1] = s;
        } else {
            st->dims[n] = d;
            st->istride[n] = s;
            n++;
        }
    }
    st->n = n;
    if (n <= 1) {
        st->kind = KIND_COPY; /* the only axis left (if any) has stride 1 */
    } else if (st->istride[n - 1] == 1) {
        st->kind = KIND_ROWS;
    } else if (n == 2 ||
               (n == 3 && st->istride[1] == 1 && st->istride[0] == st->dims[1] * st->dims[2])) {
        /* n == 2: the stride-1 input axis must be output axis 0 */
        st->kind = KIND_2D;
        st->batch = n == 3 ? st->dims[0] : 1;
        st->cols = st->dims[n - 2];
        st->rows = st->dims[n - 1];
    } else {
        st->kind = KIND_GENERAL;
    }
    return ONYX_OK;
}

/*
 * Tile kernels for output rows j0..j1-1 of one matrix: out[j][i] = in[i][j] for every i.
 * ES is a constant so memcpy becomes a single load/store that is also safe for any dtype.
 */
#define DEFINE_TILE(NAME, ES)                                                                      \
    static void NAME(const unsigned char *in, unsigned char *out, int64_t rows, int64_t cols,      \
                     int64_t j0, int64_t j1) {                                                     \
        for (int64_t i0 = 0; i0 < rows; i0 += TILE) {                                              \
            int64_t i1 = i0 + TILE < rows ? i0 + TILE : rows;                                      \
            for (int64_t j = j0; j < j1; j++) {                                                    \
                unsigned char *d = out + (size_t)(j * rows) * (ES);                                \
                const unsigned char *s = in + (size_t)j * (ES);                                    \
                for (int64_t i = i0; i < i1; i++)                                                  \
                    memcpy(d + (size_t)i * (ES), s + (size_t)(i * cols) * (ES), (ES));             \
            }                                                                                      \
        }                                                                                          \
    }
DEFINE_TILE(tile1, 1)
DEFINE_TILE(tile2, 2)
DEFINE_TILE(tile4, 4)
DEFINE_TILE(tile8, 8)

/* Same for element sizes without a specialization (complex128). */
static void tile_any(const unsigned char *in, unsigned char *out, int64_t rows, int64_t cols,
                     int64_t j0, int64_t j1, size_t es) {
    for (int64_t j = j0; j < j1; j++)
        for (int64_t i = 0; i < rows; i++)
            memcpy(out + (size_t)(j * rows + i) * es, in + (size_t)(i * cols + j) * es, es);
}

/* n elements, input stride `stride` elements, into contiguous output. */
#define DEFINE_GATHER(NAME, ES)                                                                    \
    static void NAME(const unsigned char *in, unsigned char *out, int64_t n, int64_t stride) {     \
        for (int64_t j = 0; j < n; j++)                                                            \
            memcpy(out + (size_t)j * (ES), in + (size_t)(j * stride) * (ES), (ES));                \
    }
DEFINE_GATHER(gather1, 1)
DEFINE_GATHER(gather2, 2)
DEFINE_GATHER(gather4, 4)
DEFINE_GATHER(gather8, 8)

static void gather_row(size_t es, const unsigned char *in, unsigned char *out, int64_t n,
                       int64_t stride) {
    switch (es) {
    case 1:
        gather1(in, out, n, stride);
        break;
    case 2:
        gather2(in, out, n, stride);
        break;
    case 4:
        gather4(in, out, n, stride);
        break;
    case 8:
        gather8(in, out, n, stride);
        break;
    default:
        for (int64_t j = 0; j < n; j++)
            memcpy(out + (size_t)j * es, in + (size_t)(j * stride) * es, es);
    }
}

/* Below this many bytes threads cost more than they save. */
#define PARALLEL_BYTES (1 << 16)

static void run_2d(const transpose_state *st, const unsigned char *in, unsigned char *out,
                   int threads) {
    int64_t blocks = (st->cols + TILE - 1) / TILE, items = st->batch * blocks;
    size_t es = st->es, mat = (size_t)(st->rows * st->cols) * es;
    int par = threads > 1 && items > 1 && (size_t)st->count * es >= PARALLEL_BYTES;
    /* each item writes its own TILE output rows of one matrix */
#pragma omp parallel for schedule(static) num_threads(threads) if (par)
    for (int64_t it = 0; it < items; it++) {
        int64_t b = it / blocks, j0 = it % blocks * TILE;
        int64_t j1 = j0 + TILE < st->cols ? j0 + TILE : st->cols;
        const unsigned char *src = in + (size_t)b * mat;
        unsigned char *dst = out + (size_t)b * mat;
        switch (es) {
        case 1:
            tile1(src, dst, st->rows, st->cols, j0, j1);
            break;
        case 2:
            tile2(src, dst, st->rows, st->cols, j0, j1);
            break;
        case 4:
            tile4(src, dst, st->rows, st->cols, j0, j1);
            break;
        case 8:
            tile8(src, dst, st->rows, st->cols, j0, j1);
            break;
        default:
            tile_any(src, dst, st->rows, st->cols, j0, j1, es);
        }
    }
}

/*
 * KIND_ROWS and KIND_GENERAL: output rows (the last axis) r0..r1-1. The input offset of a row
 * follows an odometer over the outer output axes, started by division once per chunk.
 */
static void run_rows(const transpose_state *st, const unsigned char *in, unsigned char *out,
                     int64_t r0, int64_t r1) {
    int n = st->n, outer = n - 1;
    int64_t inner = st->dims[n - 1], idx[ONYXI_MAX_RANK], off = 0;
    size_t es = st->es, row_bytes = (size_t)inner * es;
    int64_t q = r0;
    for (int k = outer - 1; k >= 0; k--) {
        idx[k] = q % st->dims[k];
        q /= st->dims[k];
        off += idx[k] * st->istride[k];
    }
    for (int64_t r = r0; r < r1; r++) {
        unsigned char *dst = out + (size_t)r * row_bytes;
        const unsigned char *src = in + (size_t)off * es;
        if (st->kind == KIND_ROWS)
            memcpy(dst, src, row_bytes);
        else
            gather_row(es, src, dst, inner, st->istride[n - 1]);
        for (int k = outer - 1; k >= 0; k--) {
            off += st->istride[k];
            if (++idx[k] < st->dims[k]) break;
            off -= idx[k] * st->istride[k];
            idx[k] = 0;
        }
    }
}

/* First of n items in chunk t of `chunks` near-equal chunks (without n * t overflowing). */
static int64_t chunk_start(int64_t n, int64_t chunks, int64_t t) {
    int64_t extra = n % chunks;
    return n / chunks * t + (t < extra ? t : extra);
}

static onyx_status transpose_run_ref(onyxi_exec *x) {
    const transpose_state *st = x->state;
    if (!st) return onyxi_fail(x->err, ONYX_INTERNAL, "Transpose run without init");
    const unsigned char *in = x->in[0]->data;
    unsigned char *out = x->out[0]->data;
    switch (st->kind) {
    case KIND_EMPTY:
        return ONYX_OK;
    case KIND_COPY:
        memcpy(out, in, (size_t)st->count * st->es);
        return ONYX_OK;
    case KIND_2D:
        run_2d(st, in, out, x->num_threads);
        return ONYX_OK;
    default:
        break;
    }
    int64_t rows = st->count / st->dims[st->n - 1];
    int threads = x->num_threads;
    int64_t chunks = threads > 1 && (size_t)st->count * st->es >= PARALLEL_BYTES ? threads : 1;
    if (chunks > rows) chunks = rows;
#pragma omp parallel for schedule(static) num_threads(threads) if (chunks > 1)
    for (int64_t t = 0; t < chunks; t++)
        run_rows(st, in, out, chunk_start(rows, chunks, t), chunk_start(rows, chunks, t + 1));
    return ONYX_OK;
}

static void transpose_fini_ref(onyxi_exec *x) {
    onyxi_free(x->state);
    x->state = NULL;
}

static const onyxi_impl transpose_ref = {"ref", transpose_init_ref, transpose_run_ref,
                                         transpose_fini_ref};
const onyxi_impl *const onyxi_transpose_impls[] = {&transpose_ref, NULL};
