/*
 * Shared machinery of the data-movement family (ops/data_ops.h): the strided copy plan that
 * Slice, Expand, Tile and Pad's interior copy run on, integer-list input readers for shape
 * inference, and scalar conversion for Pad's fill value. The ops themselves live in
 * gather.c, slice.c, split.c, expand_tile.c and pad.c; their table rows in data_ops.def.
 */
#include <math.h>
#include <string.h>

#include "data_ops.h"

void onyxi_dm_strides(int rank, const int64_t *dims, int64_t *strides) {
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i] > 0 ? dims[i] : 1;
    }
}

onyx_status onyxi_dm_copy_init(onyxi_dm_copy *p, int naxes, const int64_t *count,
                               const int64_t *istride, int64_t ibase, const int64_t *ostride,
                               int64_t obase, size_t es, onyxi_err *e) {
    memset(p, 0, sizeof *p);
    if (naxes < 0 || naxes > ONYXI_DM_MAX_AXES)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "a copy over %d axes is not supported (max %d)",
                          naxes, ONYXI_DM_MAX_AXES);
    int64_t dense[ONYXI_DM_MAX_AXES];
    onyxi_dm_strides(naxes, count, dense);
    int64_t total = onyxi_shape_count(naxes, count);
    if (total < 0)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "the copy's element count is unknown or too large");
    int64_t esz = (int64_t)es;
    p->ibase = ibase * esz;
    p->obase = obase * esz;
    p->block = es;
    if (total == 0 || es == 0) return ONYX_OK; /* nblocks 0: nothing to do */
    /* keep only axes longer than 1, in bytes */
    int n = 0;
    for (int a = 0; a < naxes; a++) {
        if (count[a] == 1) continue;
        p->count[n] = count[a];
        p->istride[n] = (istride ? istride[a] : dense[a]) * esz;
        p->ostride[n] = (ostride ? ostride[a] : dense[a]) * esz;
        n++;
    }
    /* merge axis a into a-1 when stepping a-1 once equals running a to its end on both sides */
    int m = 0;
    for (int a = 0; a < n; a++) {
        if (m > 0 && p->istride[m - 1] == p->istride[a] * p->count[a] &&
            p->ostride[m - 1] == p->ostride[a] * p->count[a]) {
            p->count[m - 1] *= p->count[a];
            p->istride[m - 1] = p->istride[a];
            p->ostride[m - 1] = p->ostride[a];
            continue;
        }
        p->count[m] = p->count[a];
        p->istride[m] = p->istride[a];
        p->ostride[m] = p->ostride[a];
        m++;
    }
    /* a contiguous innermost axis becomes the copy block */
    if (m > 0 && p->istride[m - 1] == esz && p->ostride[m - 1] == esz) {
        p->block = (size_t)p->count[m - 1] * es;
        m--;
    }
    p->naxes = m;
    p->nblocks = onyxi_shape_count(m, p->count);
    return ONYX_OK;
}

void onyxi_dm_copy_run(const onyxi_dm_copy *p, const void *src, void *dst) {
    if (p->nblocks <= 0) return;
    const unsigned char *s = (const unsigned char *)src + p->ibase;
    unsigned char *d = (unsigned char *)dst + p->obase;
    int64_t idx[ONYXI_DM_MAX_AXES] = {0};
    for (int64_t b = 0; b < p->nblocks; b++) {
        memcpy(d, s, p->block);
        /* odometer: every pointer it forms addresses an element of the plan */
        for (int a = p->naxes - 1; a >= 0; a--) {
            if (++idx[a] < p->count[a]) {
                s += p->istride[a];
                d += p->ostride[a];
                break;
            }
            idx[a] = 0;
            s -= p->istride[a] * (p->count[a] - 1);
            d -= p->ostride[a] * (p->count[a] - 1);
        }
    }
}

onyx_status onyxi_dm_int_list(onyxi_infer *c, const onyx_tensor *in, int k, const char *name,
                              int allow_scalar, int64_t *n, onyxi_err *e) {
    if (!in) return onyxi_fail(e, ONYX_INVALID_MODEL, "input '%s' is absent", name);
    if (in->dtype != ONYX_DTYPE_INT64 && in->dtype != ONYX_DTYPE_INT32)
        return onyxi_fail(e, ONYX_TYPE_MISMATCH, "input '%s' has dtype %s, expected int64 or int32",
                          name, onyx_dtype_name(in->dtype));
    if (!(in->rank == 1 || (allow_scalar && in->rank == 0)))
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input '%s' has rank %d, expected 1", name,
                          in->rank);
    if (in->rank == 1 && in->dims[0] < 0)
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH, "input '%s' has an unknown length", name);
    *n = in->rank == 1 ? in->dims[0] : 1;
    if (*n == 0) return ONYX_OK; /* nothing to read: no data needed */
    const void *data = c ? onyxi_infer_data(c, k) : in->data;
    if (!data) {
        if (c) return onyxi_infer_needs_data(c, k);
        return onyxi_fail(e, ONYX_INTERNAL, "input '%s' has no data at init", name);
    }
    if (in->nbytes && in->nbytes < (size_t)*n * onyxi_dtype_size(in->dtype))
        return onyxi_fail(e, ONYX_SHAPE_MISMATCH,
                          "input '%s' holds %zu bytes, too few for %lld values", name, in->nbytes,
                          (long long)*n);
    return ONYX_OK;
}

onyx_status onyxi_dm_check_dtype(onyx_dtype dt, const char *what, onyxi_err *e) {
    if (onyxi_dtype_size(dt) == 0)
        return onyxi_fail(e, ONYX_UNSUPPORTED, "%s has dtype %s, which onyx cannot copy", what,
                          onyx_dtype_name(dt));
    return ONYX_OK;
}

/* IEEE half from float, round to nearest even (overflow to inf, NaN kept quiet). */
static uint16_t float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, mag = x & 0x7fffffffu;
    if (mag > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);
    if (mag >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds past 65504 */
    if (mag < 0x38800000u) {                                   /* subnormal half or zero */
        float a = fabsf(f) * 16777216.0f;                      /* 2^24: units of 2^-24 */
        return (uint16_t)(sign | (uint32_t)lrintf(a));
    }
    uint32_t h = ((mag >> 13) - (112u << 10));
    uint32_t rest = mag & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

static uint16_t float_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

/* Truncates toward zero into [lo, hi]; NaN becomes 0. */
static double clamp_int(double v, double lo, double hi) {
    if (v != v) return 0;
    v = trunc(v);
    return v < lo ? lo : v > hi ? hi : v;
}

onyx_status onyxi_dm_store_scalar(onyx_dtype dt, double v, void *out, onyxi_err *e) {
    switch (dt) {
    case ONYX_DTYPE_FLOAT32: {
        float f = (float)v;
        memcpy(out, &f, 4);
        return ONYX_OK;
    }
    case ONYX_DTYPE_FLOAT64:
        memcpy(out, &v, 8);
        return ONYX_OK;
    case ONYX_DTYPE_FLOAT16: {
        uint16_t h = float_to_half((float)v);
        memcpy(out, &h, 2);
        return ONYX_OK;
    }
    case ONYX_DTYPE_BFLOAT16: {
        uint16_t h = float_to_bf16((float)v);
        memcpy(out, &h, 2);
        return ONYX_OK;
    }
    case ONYX_DTYPE_BOOL:
        *(uint8_t *)out = v != 0;
        return ONYX_OK;
    case ONYX_DTYPE_INT8:
        *(int8_t *)out = (int8_t)clamp_int(v, INT8_MIN, INT8_MAX);
        return ONYX_OK;
    case ONYX_DTYPE_UINT8:
        *(uint8_t *)out = (uint8_t)clamp_int(v, 0, UINT8_MAX);
        return ONYX_OK;
    case ONYX_DTYPE_INT16: {
        int16_t i = (int16_t)clamp_int(v, INT16_MIN, INT16_MAX);
        memcpy(out, &i, 2);
        return ONYX_OK;
    }
    case ONYX_DTYPE_UINT16: {
        uint16_t i = (uint16_t)clamp_int(v, 0, UINT16_MAX);
        memcpy(out, &i, 2);
        return ONYX_OK;
    }
    case ONYX_DTYPE_INT32: {
        int32_t i = (int32_t)clamp_int(v, INT32_MIN, INT32_MAX);
        memcpy(out, &i, 4);
        return ONYX_OK;
    }
    case ONYX_DTYPE_UINT32: {
        uint32_t i = (uint32_t)clamp_int(v, 0, UINT32_MAX);
        memcpy(out, &i, 4);
        return ONYX_OK;
    }
    case ONYX_DTYPE_INT64: {
        /* 2^63 is the first double past INT64_MAX */
        double t = clamp_int(v, -9223372036854775808.0, 9223372036854774784.0);
        int64_t i = (int64_t)t;
        memcpy(out, &i, 8);
        return ONYX_OK;
    }
    case ONYX_DTYPE_UINT64: {
        double t = clamp_int(v, 0, 18446744073709549568.0);
        uint64_t i = (uint64_t)t;
        memcpy(out, &i, 8);
        return ONYX_OK;
    }
    default:
        return onyxi_fail(e, ONYX_UNSUPPORTED, "a %s fill value is not supported",
                          onyx_dtype_name(dt));
    }
}
