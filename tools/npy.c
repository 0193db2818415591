/*
 * The .npy reader and writer (format: numpy.lib.format). A file is the magic "\x93NUMPY",
 * a version byte pair, a header length (2 bytes in 1.0, 4 bytes in 2.0/3.0), then a Python
 * dict literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }, padded
 * so that the data starts at a multiple of 64, then the raw elements. Everything read from
 * the file is checked: header bounds, dims, element count overflow, data size.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

static const unsigned char NPY_MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* The .npy descr of each supported dtype (little-endian; '|' for one-byte types). */
static const struct {
    const char *descr;
    onyx_dtype dt;
} DESCRS[] = {
    {"<f4", ONYX_DTYPE_FLOAT32}, {"<f8", ONYX_DTYPE_FLOAT64}, {"<f2", ONYX_DTYPE_FLOAT16},
    {"|i1", ONYX_DTYPE_INT8},    {"<i2", ONYX_DTYPE_INT16},   {"<i4", ONYX_DTYPE_INT32},
    {"<i8", ONYX_DTYPE_INT64},   {"|u1", ONYX_DTYPE_UINT8},   {"<u2", ONYX_DTYPE_UINT16},
    {"<u4", ONYX_DTYPE_UINT32},  {"<u8", ONYX_DTYPE_UINT64},  {"|b1", ONYX_DTYPE_BOOL},
};
#define N_DESCRS (sizeof DESCRS / sizeof DESCRS[0])

#define MAX_DIMS 8 /* onyx's highest rank */

/* Finds the value that follows 'key': in the header dict; NULL when absent. */
static const char *dict_value(const char *h, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\"", key);
        p = strstr(h, pat);
    }
    if (!p) return NULL;
    p += strlen(pat);
    while (isspace((unsigned char)*p)) p++;
    if (*p != ':') return NULL;
    p++;
    while (isspace((unsigned char)*p)) p++;
    return p;
}

static onyx_dtype parse_descr(const char *v, char *err, size_t errlen, onyx_status *rc) {
    char q = *v;
    *rc = ONYX_INVALID_MODEL;
    if (q != '\'' && q != '"') {
        snprintf(err, errlen, "'descr' is not a string (structured dtypes are not supported)");
        *rc = ONYX_UNSUPPORTED;
        return ONYX_DTYPE_UNDEFINED;
    }
    const char *end = strchr(v + 1, q);
    if (!end || end - v - 1 > 15) {
        snprintf(err, errlen, "malformed 'descr'");
        return ONYX_DTYPE_UNDEFINED;
    }
    char d[16];
    memcpy(d, v + 1, (size_t)(end - v - 1));
    d[end - v - 1] = '\0';
    /* one-byte types may be written with any byte-order mark; '=' is native (little here) */
    if (d[0] == '=' || ((d[0] == '<' || d[0] == '>') && strlen(d) == 3 && d[2] == '1'))
        d[0] = strlen(d) == 3 && d[2] == '1' ? '|' : '<';
    if (strlen(d) == 3 && d[0] == '|' && d[2] != '1') d[0] = '<';
    for (size_t i = 0; i < N_DESCRS; i++)
        if (strcmp(d, DESCRS[i].descr) == 0) {
            *rc = ONYX_OK;
            return DESCRS[i].dt;
        }
    *rc = ONYX_UNSUPPORTED;
    if (d[0] == '>')
        snprintf(err, errlen, "big-endian data ('%s') is not supported; save it little-endian",
                 d);
    else
        snprintf(err, errlen, "dtype '%s' is not supported (float16/32/64, int8..64, "
                              "uint8..64 and bool are)", d);
    return ONYX_DTYPE_UNDEFINED;
}

/* Parses "(2, 3)" / "(4,)" / "()" into dims; returns the rank or -1 with a message. */
static int parse_shape(const char *v, int64_t *dims, char *err, size_t errlen) {
    if (*v != '(') {
        snprintf(err, errlen, "'shape' is not a tuple");
        return -1;
    }
    v++;
    int rank = 0;
    for (;;) {
        while (isspace((unsigned char)*v)) v++;
        if (*v == ')') return rank;
        if (!isdigit((unsigned char)*v)) {
            snprintf(err, errlen, "'shape' has a non-numeric dim");
            return -1;
        }
        if (rank == MAX_DIMS) {
            snprintf(err, errlen, "'shape' has more than %d dims", MAX_DIMS);
            return -1;
        }
        int64_t d = 0;
        while (isdigit((unsigned char)*v)) {
            if (d > (INT64_MAX - 9) / 10) {
                snprintf(err, errlen, "'shape' dim %d is too large", rank);
                return -1;
            }
            d = d * 10 + (*v++ - '0');
        }
        while (*v == 'L') v++; /* Python 2 longs */
        dims[rank++] = d;
        while (isspace((unsigned char)*v)) v++;
        if (*v == ',') v++;
        else if (*v != ')') {
            snprintf(err, errlen, "malformed 'shape'");
            return -1;
        }
    }
}

onyx_status npy_parse(const void *data, size_t n, const char *name, onyx_tensor **out, char *err,
                      size_t errlen) {
    const unsigned char *p = data;
    *out = NULL;
    err[0] = '\0';
    if (n < 10 || memcmp(p, NPY_MAGIC, 6) != 0) {
        snprintf(err, errlen, "not an .npy file (no \\x93NUMPY magic)");
        return ONYX_INVALID_MODEL;
    }
    unsigned major = p[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)p[8] | (size_t)p[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (n < 12) {
            snprintf(err, errlen, "truncated .npy header");
            return ONYX_INVALID_MODEL;
        }
        hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        hstart = 12;
    } else {
        snprintf(err, errlen, ".npy format version %u.%u is not supported", major, p[7]);
        return ONYX_UNSUPPORTED;
    }
    if (hlen > n - hstart) {
        snprintf(err, errlen, "the .npy header (%zu bytes) runs past the end of the file", hlen);
        return ONYX_INVALID_MODEL;
    }
    char *h = malloc(hlen + 1);
    if (!h) return ONYX_NOMEM;
    memcpy(h, p + hstart, hlen);
    h[hlen] = '\0';
    if (strlen(h) != hlen) {
        free(h);
        snprintf(err, errlen, "the .npy header contains a NUL byte");
        return ONYX_INVALID_MODEL;
    }
    onyx_status rc = ONYX_INVALID_MODEL;
    const char *vd = dict_value(h, "descr"), *vf = dict_value(h, "fortran_order"),
               *vs = dict_value(h, "shape");
    int64_t dims[MAX_DIMS];
    int rank = -1;
    onyx_dtype dt = ONYX_DTYPE_UNDEFINED;
    if (!vd || !vf || !vs) {
        snprintf(err, errlen, "the .npy header lacks 'descr', 'fortran_order' or 'shape'");
        goto done;
    }
    dt = parse_descr(vd, err, errlen, &rc);
    if (rc != ONYX_OK) goto done;
    rc = ONYX_INVALID_MODEL;
    if (strncmp(vf, "True", 4) == 0) {
        snprintf(err, errlen, "Fortran-order data is not supported; save a C-order array "
                              "(numpy.ascontiguousarray)");
        rc = ONYX_UNSUPPORTED;
        goto done;
    }
    if (strncmp(vf, "False", 5) != 0) {
        snprintf(err, errlen, "'fortran_order' is neither True nor False");
        goto done;
    }
    rank = parse_shape(vs, dims, err, errlen);
    if (rank < 0) goto done;
    size_t esz = onyx_dtype_size(dt), count = 1, want;
    for (int d = 0; d < rank; d++) {
        if (dims[d] != 0 && count > SIZE_MAX / (size_t)dims[d]) {
            snprintf(err, errlen, "the element count of 'shape' overflows");
            goto done;
        }
        count *= (size_t)dims[d];
    }
    if (count > SIZE_MAX / esz) {
        snprintf(err, errlen, "the data size of 'shape' overflows");
        goto done;
    }
    want = count * esz;
    size_t have = n - hstart - hlen;
    if (have != want) {
        snprintf(err, errlen, "the data has %zu bytes, shape and dtype need %zu", have, want);
        goto done;
    }
    const unsigned char *body = p + hstart + hlen;
    if (dt == ONYX_DTYPE_BOOL)
        for (size_t i = 0; i < count; i++)
            if (body[i] > 1) {
                snprintf(err, errlen, "bool element %zu is %u, not 0 or 1", i, body[i]);
                goto done;
            }
    rc = onyx_tensor_create(name, dt, dims, rank, want ? body : NULL, out);
    if (rc != ONYX_OK) snprintf(err, errlen, "cannot make the tensor: %s", onyx_status_str(rc));
done:
    free(h);
    return rc;
}

static unsigned char *read_file(const char *path, size_t *n, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return NULL;
    }
    size_t cap = 1 << 16, used = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + used, 1, cap - used, f)) > 0) {
        used += got;
        if (used == cap) {
            unsigned char *nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (!buf) snprintf(err, errlen, "out of memory reading %s", path);
    else if (ferror(f)) {
        snprintf(err, errlen, "cannot read %s", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *n = used;
    return buf;
}

onyx_status npy_load(const char *path, onyx_tensor **out, char *err, size_t errlen) {
    size_t n = 0;
    *out = NULL;
    unsigned char *data = read_file(path, &n, err, errlen);
    if (!data) return ONYX_IO;
    /* the tensor's name: the file's base name without ".npy" */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char name[256];
    snprintf(name, sizeof name, "%s", base);
    size_t len = strlen(name);
    if (len > 4 && strcmp(name + len - 4, ".npy") == 0) name[len - 4] = '\0';
    onyx_status rc = npy_parse(data, n, name, out, err, errlen);
    free(data);
    return rc;
}

onyx_status npy_save(const onyx_tensor *t, const char *path, char *err, size_t errlen) {
    onyx_dtype dt = onyx_tensor_dtype(t);
    const char *descr = NULL;
    for (size_t i = 0; i < N_DESCRS; i++)
        if (DESCRS[i].dt == dt) descr = DESCRS[i].descr;
    if (!descr) {
        snprintf(err, errlen, "dtype %s cannot be written as .npy", onyx_dtype_name(dt));
        return ONYX_UNSUPPORTED;
    }
    size_t nbytes = onyx_tensor_nbytes(t);
    if (onyx_tensor_rank(t) < 0 || (nbytes && !onyx_tensor_data(t))) {
        snprintf(err, errlen, "the tensor has no data");
        return ONYX_INVALID_ARG;
    }
    char dict[512];
    int rank = onyx_tensor_rank(t);
    size_t used = (size_t)snprintf(dict, sizeof dict,
                                   "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int d = 0; d < rank && used < sizeof dict; d++)
        used += (size_t)snprintf(dict + used, sizeof dict - used, "%s%lld", d ? ", " : "",
                                 (long long)onyx_tensor_dim(t, d));
    if (used < sizeof dict) /* Python's one-element tuple needs its comma: (4,) */
        snprintf(dict + used, sizeof dict - used, "%s), }", rank == 1 ? "," : "");
    size_t dlen = strlen(dict);
    /* 1.0 when the header length fits 16 bits; padded with spaces and '\n' to 64 bytes */
    int v2 = dlen + 1 + 10 > 65535;
    size_t pre = v2 ? 12 : 10, total = (pre + dlen + 1 + 63) / 64 * 64;
    size_t hlen = total - pre;
    unsigned char head[1024];
    if (total > sizeof head) {
        snprintf(err, errlen, "the .npy header is too long");
        return ONYX_INVALID_ARG;
    }
    memcpy(head, NPY_MAGIC, 6);
    head[6] = v2 ? 2 : 1;
    head[7] = 0;
    for (size_t b = 0; b < pre - 8; b++) head[8 + b] = (unsigned char)(hlen >> (8 * b));
    memcpy(head + pre, dict, dlen);
    memset(head + pre + dlen, ' ', hlen - dlen - 1);
    head[total - 1] = '\n';
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot create %s", path);
        return ONYX_IO;
    }
    int ok = fwrite(head, 1, total, f) == total &&
             (nbytes == 0 || fwrite(onyx_tensor_data(t), 1, nbytes, f) == nbytes);
    if (fclose(f) != 0) ok = 0;
    if (!ok) {
        snprintf(err, errlen, "cannot write %s", path);
        return ONYX_IO;
    }
    return ONYX_OK;
}

int npy_is_npy_file(const char *path) {
    unsigned char m[6];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int r = fread(m, 1, 6, f) == 6 && memcmp(m, NPY_MAGIC, 6) == 0;
    fclose(f);
    return r;
}

int npy_has_npy_suffix(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".npy") == 0;
}

onyx_status cli_tensor_load(const char *path, onyx_tensor **out, char *err, size_t errlen) {
    if (npy_is_npy_file(path)) return npy_load(path, out, err, errlen);
    return onyx_tensor_load_pb(path, out, err, errlen);
}

onyx_status cli_tensor_save(const onyx_tensor *t, const char *path, char *err, size_t errlen) {
    if (npy_has_npy_suffix(path)) return npy_save(t, path, err, errlen);
    return onyx_tensor_save_pb(t, path, err, errlen);
}
