/*
 * Shared pieces of the onyx command-line program: strict parsing of numeric options (a
 * typo must never silently become 0), model loading with error reporting, the seeded
 * input generator, dtype-generic element reads, and file-system helpers.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli_util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "onyx %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_is_help(const char *arg) {
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                  const char **val) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        cli_error(cmd, "option %s needs a value", name);
        return -1;
    }
    *i += 1;
    *val = argv[*i];
    return 1;
}

int cli_parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out) {
    char *end = NULL;
    /* strtol accepts leading blanks and a '+'; a number argument should be just digits
     * (with an optional '-' so that negative values get the "out of range" message) */
    if (s[0] == '\0' || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) {
        cli_error(cmd, "%s: '%s' is not a number", opt, s);
        return -1;
    }
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || end == s) {
        cli_error(cmd, "%s: '%s' is not a number", opt, s);
        return -1;
    }
    if (errno == ERANGE || v < lo || v > hi) {
        cli_error(cmd, "%s: %s is out of range, expected %ld..%ld", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out) {
    char *end = NULL;
    if (s[0] < '0' || s[0] > '9') {
        cli_error(cmd, "%s: '%s' is not a non-negative number", opt, s);
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0') {
        cli_error(cmd, "%s: '%s' is not a non-negative number", opt, s);
        return -1;
    }
    if (errno == ERANGE) {
        cli_error(cmd, "%s: %s is out of range", opt, s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_tolerance(const char *cmd, const char *opt, const char *s, double *out) {
    char *end = NULL;
    if (s[0] == '\0' || !((s[0] >= '0' && s[0] <= '9') || s[0] == '.' || s[0] == '-')) {
        cli_error(cmd, "%s: '%s' is not a number", opt, s);
        return -1;
    }
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || end == s) {
        cli_error(cmd, "%s: '%s' is not a number", opt, s);
        return -1;
    }
    if (errno == ERANGE || !isfinite(v) || v < 0) {
        cli_error(cmd, "%s: %s is out of range, expected a finite value >= 0", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_backend(const char *cmd, const char *s, onyx_backend *out) {
    if (strcmp(s, "auto") == 0) {
        *out = ONYX_BACKEND_AUTO;
        return 0;
    }
    if (strcmp(s, "ref") == 0 || strcmp(s, "reference") == 0) {
        *out = ONYX_BACKEND_REFERENCE;
        return 0;
    }
    cli_error(cmd, "--backend: unknown backend '%s', expected auto or ref", s);
    return -1;
}

int cli_parse_selection(const char *cmd, const char *s, int *out) {
    if (strcmp(s, "static") == 0) {
        *out = ONYX_SELECT_STATIC;
        return 0;
    }
    if (strcmp(s, "measure") == 0) {
        *out = ONYX_SELECT_MEASURE;
        return 0;
    }
    cli_error(cmd, "--select: unknown kernel selection '%s', expected static or measure", s);
    return -1;
}

int cli_set_selection(const char *cmd, onyx_options *o, int select) {
    if (select < 0) return 0;
    onyx_status st = onyx_options_set_kernel_selection(o, (onyx_kernel_selection)select);
    if (st == ONYX_OK) return 0;
    cli_error(cmd, "cannot set the kernel selection: %s", onyx_status_str(st));
    return -1;
}

int cli_model_args_init(const char *cmd, int argc, cli_model_args *a) {
    memset(a, 0, sizeof *a);
    a->backend = ONYX_BACKEND_AUTO;
    a->select = -1;
    a->seed = 1;
    a->specs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *a->specs);
    if (!a->specs) {
        cli_error(cmd, "out of memory");
        return -1;
    }
    return 0;
}

int cli_model_arg(const char *cmd, int argc, char **argv, int *i, cli_model_args *a,
                  void (*usage)(FILE *)) {
    const char *v = NULL;
    int r;
    if ((r = cli_opt_value(cmd, argc, argv, i, "--input", &v)) != 0) {
        if (r < 0) return -1;
        a->specs[a->n_specs++] = v; /* at most argc of them: room made by init */
        return 0;
    }
    if ((r = cli_opt_value(cmd, argc, argv, i, "--threads", &v)) != 0)
        return r < 0 ? -1 : cli_parse_long(cmd, "--threads", v, 0, 4096, &a->threads);
    if ((r = cli_opt_value(cmd, argc, argv, i, "--backend", &v)) != 0)
        return r < 0 ? -1 : cli_parse_backend(cmd, v, &a->backend);
    if ((r = cli_opt_value(cmd, argc, argv, i, "--select", &v)) != 0)
        return r < 0 ? -1 : cli_parse_selection(cmd, v, &a->select);
    if ((r = cli_opt_value(cmd, argc, argv, i, "--seed", &v)) != 0)
        return r < 0 ? -1 : cli_parse_u64(cmd, "--seed", v, &a->seed);
    const char *arg = argv[*i];
    if (arg[0] == '-' && arg[1] != '\0') {
        cli_error(cmd, "unknown option '%s'", arg);
        usage(stderr);
        return -1;
    }
    if (a->path) {
        cli_error(cmd, "expected one MODEL, got '%s' and '%s'", a->path, arg);
        return -1;
    }
    a->path = arg;
    return 0;
}

int cli_model_args_done(const char *cmd, const cli_model_args *a, void (*usage)(FILE *)) {
    if (a->path) return 0;
    cli_error(cmd, "missing MODEL");
    usage(stderr);
    return -1;
}

int cli_make_options(const char *cmd, int threads, onyx_backend backend, onyx_options **out) {
    onyx_options *o = NULL;
    onyx_status st = onyx_options_create(&o);
    if (st == ONYX_OK) st = onyx_options_set_num_threads(o, threads);
    if (st == ONYX_OK) st = onyx_options_set_backend(o, backend);
    if (st != ONYX_OK) {
        cli_error(cmd, "cannot set session options: %s", onyx_status_str(st));
        onyx_options_free(o);
        return -1;
    }
    *out = o;
    return 0;
}

onyx_model *cli_load_model(const char *cmd, const char *path, unsigned flags) {
    onyx_model *m = NULL;
    char *in_dir = NULL;
    /* a backend-test case folder stands for its model.onnx; any other folder is an error
     * the library would only report as a failed read */
    if (cli_is_dir(path)) {
        in_dir = cli_path_join(path, "model.onnx");
        if (!in_dir || !cli_is_file(in_dir)) {
            cli_error(cmd, "cannot load %s: it is a folder without a model.onnx", path);
            free(in_dir);
            return NULL;
        }
    }
    const char *file = in_dir ? in_dir : path;
    onyx_status st = onyx_model_load_file_flags(file, flags, &m);
    if (st != ONYX_OK || !m) {
        const char *msg = m ? onyx_model_errmsg(m) : "out of memory";
        cli_error(cmd, "cannot load %s: %s (%s)", file, msg[0] ? msg : "no details",
                  onyx_status_str(st));
        onyx_model_free(m);
        m = NULL;
    }
    free(in_dir);
    return m;
}

uint64_t cli_rand_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* float -> IEEE half, round to nearest even; values here are in [-1,1) so no overflow
 * handling beyond the generic path is needed, but keep it correct anyway. */
static uint16_t float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    uint32_t mant = x & 0x7fffffu;
    if (((x >> 23) & 0xff) == 0xff) /* inf / nan */
        return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
    if (exp >= 31) return (uint16_t)(sign | 0x7c00u);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t h = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)exp << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
        h++; /* may carry into the exponent, which is the right rounding */
    return (uint16_t)(sign | h);
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ffu;
    uint32_t x;
    if (exp == 0) {
        if (mant == 0) {
            x = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        x = sign | 0x7f800000u | (mant << 13);
    } else {
        x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

int cli_dtype_is_float(onyx_dtype dt) {
    return dt == ONYX_DTYPE_FLOAT32 || dt == ONYX_DTYPE_FLOAT64 || dt == ONYX_DTYPE_FLOAT16 ||
           dt == ONYX_DTYPE_BFLOAT16;
}

int cli_dtype_is_numeric(onyx_dtype dt) {
    switch (dt) {
    case ONYX_DTYPE_FLOAT32:
    case ONYX_DTYPE_FLOAT64:
    case ONYX_DTYPE_FLOAT16:
    case ONYX_DTYPE_BFLOAT16:
    case ONYX_DTYPE_UINT8:
    case ONYX_DTYPE_INT8:
    case ONYX_DTYPE_UINT16:
    case ONYX_DTYPE_INT16:
    case ONYX_DTYPE_INT32:
    case ONYX_DTYPE_INT64:
    case ONYX_DTYPE_UINT32:
    case ONYX_DTYPE_UINT64:
    case ONYX_DTYPE_BOOL:
        return 1;
    default:
        return 0;
    }
}

/* A case of cli_get_double for a type whose value converts to double as it is; memcpy
 * instead of a cast because output buffers need not be aligned for every type. */
#define GET_AS(DT, T)                                                                              \
    case DT: {                                                                                     \
        T v;                                                                                       \
        memcpy(&v, p + i * sizeof v, sizeof v);                                                    \
        return (double)v;                                                                          \
    }

double cli_get_double(onyx_dtype dt, const void *data, size_t i) {
    const unsigned char *p = data;
    uint16_t h;
    switch (dt) {
        GET_AS(ONYX_DTYPE_FLOAT32, float)
        GET_AS(ONYX_DTYPE_FLOAT64, double)
        GET_AS(ONYX_DTYPE_UINT16, uint16_t)
        GET_AS(ONYX_DTYPE_INT16, int16_t)
        GET_AS(ONYX_DTYPE_INT32, int32_t)
        GET_AS(ONYX_DTYPE_UINT32, uint32_t)
        GET_AS(ONYX_DTYPE_INT64, int64_t)
        GET_AS(ONYX_DTYPE_UINT64, uint64_t)
    case ONYX_DTYPE_FLOAT16:
        memcpy(&h, p + i * 2, 2);
        return half_to_float(h);
    case ONYX_DTYPE_BFLOAT16: {
        memcpy(&h, p + i * 2, 2);
        uint32_t x = (uint32_t)h << 16;
        float f;
        memcpy(&f, &x, 4);
        return f;
    }
    case ONYX_DTYPE_UINT8:
    case ONYX_DTYPE_BOOL:
        return p[i];
    case ONYX_DTYPE_INT8:
        return (signed char)p[i];
    default:
        return 0.0;
    }
}
#undef GET_AS

/* Stores one generated value: r is a uniform number in [0,1). */
static void put_value(onyx_dtype dt, void *data, size_t i, double r, uint64_t bits) {
    unsigned char *p = data;
    uint64_t small = bits % 4; /* small non-negative: safe as indices, counts, axes */
    switch (dt) {
    case ONYX_DTYPE_FLOAT32: {
        float v = (float)(2.0 * r - 1.0);
        memcpy(p + i * 4, &v, 4);
        break;
    }
    case ONYX_DTYPE_FLOAT64: {
        double v = 2.0 * r - 1.0;
        memcpy(p + i * 8, &v, 8);
        break;
    }
    case ONYX_DTYPE_FLOAT16: {
        uint16_t v = float_to_half((float)(2.0 * r - 1.0));
        memcpy(p + i * 2, &v, 2);
        break;
    }
    case ONYX_DTYPE_BFLOAT16: {
        float f = (float)(2.0 * r - 1.0);
        uint32_t x;
        memcpy(&x, &f, 4);
        uint16_t v = (uint16_t)(x >> 16); /* truncation is fine for random data */
        memcpy(p + i * 2, &v, 2);
        break;
    }
    case ONYX_DTYPE_BOOL:
        p[i] = (unsigned char)(bits & 1);
        break;
    case ONYX_DTYPE_UINT8:
    case ONYX_DTYPE_INT8:
        p[i] = (unsigned char)small;
        break;
    case ONYX_DTYPE_UINT16:
    case ONYX_DTYPE_INT16: {
        uint16_t v = (uint16_t)small;
        memcpy(p + i * 2, &v, 2);
        break;
    }
    case ONYX_DTYPE_UINT32:
    case ONYX_DTYPE_INT32: {
        uint32_t v = (uint32_t)small;
        memcpy(p + i * 4, &v, 4);
        break;
    }
    case ONYX_DTYPE_UINT64:
    case ONYX_DTYPE_INT64:
        memcpy(p + i * 8, &small, 8);
        break;
    default:
        break;
    }
}

int cli_make_input(const onyx_tensor *decl, uint64_t *rng, cli_buffer *b, int *symbolic, char *err,
                   size_t errlen) {
    const char *name = onyx_tensor_name(decl) ? onyx_tensor_name(decl) : "?";
    memset(b, 0, sizeof *b);
    b->dtype = onyx_tensor_dtype(decl);
    b->rank = onyx_tensor_rank(decl);
    if (!cli_dtype_is_numeric(b->dtype) || onyx_dtype_size(b->dtype) == 0) {
        snprintf(err, errlen, "input '%s' has dtype %s, which cannot be generated", name,
                 onyx_dtype_name(b->dtype));
        return -1;
    }
    if (b->rank < 0 || b->rank > (int)(sizeof b->dims / sizeof b->dims[0])) {
        snprintf(err, errlen, "input '%s' has unknown or unsupported rank %d", name, b->rank);
        return -1;
    }
    size_t count = 1;
    for (int k = 0; k < b->rank; k++) {
        int64_t d = onyx_tensor_dim(decl, k);
        if (d < 0) {
            d = 1;
            if (symbolic) *symbolic = 1;
        }
        b->dims[k] = d;
        if (d != 0 && count > SIZE_MAX / (size_t)d) {
            snprintf(err, errlen, "input '%s' is too large", name);
            return -1;
        }
        count *= (size_t)d;
    }
    size_t esz = onyx_dtype_size(b->dtype);
    if (count > SIZE_MAX / esz) {
        snprintf(err, errlen, "input '%s' is too large", name);
        return -1;
    }
    b->nbytes = count * esz;
    /* one extra byte so that empty tensors still get a non-NULL buffer to bind */
    b->data = calloc(1, b->nbytes ? b->nbytes : 1);
    if (!b->data) {
        snprintf(err, errlen, "input '%s': out of memory for %zu bytes", name, b->nbytes);
        return -1;
    }
    if (rng) {
        for (size_t i = 0; i < count; i++) {
            uint64_t bits = cli_rand_next(rng);
            double r = (double)(bits >> 11) * (1.0 / 9007199254740992.0);
            put_value(b->dtype, b->data, i, r, bits >> 7);
        }
    }
    return 0;
}

onyx_status cli_bind_tensor(onyx_session *s, int i, const onyx_tensor *t) {
    int64_t dims[16];
    int rank = onyx_tensor_rank(t);
    if (rank < 0 || rank > 16) return ONYX_INVALID_ARG;
    for (int k = 0; k < rank; k++)
        dims[k] = onyx_tensor_dim(t, k);
    static const unsigned char empty[1];
    const void *data = onyx_tensor_data(t);
    /* an empty tensor may come without a buffer; the API wants a pointer all the same */
    if (!data && onyx_tensor_nbytes(t) == 0) data = empty;
    return onyx_session_bind_input(s, i, onyx_tensor_dtype(t), dims, rank, data,
                                   onyx_tensor_nbytes(t));
}

void cli_format_shape(const onyx_tensor *t, char *buf, size_t len) {
    int rank = onyx_tensor_rank(t);
    size_t used = 0;
    if (len == 0) return;
    buf[0] = '\0';
    if (rank < 0) {
        snprintf(buf, len, "[unknown rank]");
        return;
    }
    used += (size_t)snprintf(buf, len, "[");
    for (int k = 0; k < rank && used < len; k++) {
        int64_t d = onyx_tensor_dim(t, k);
        const char *sep = k ? ", " : "";
        const char *param = onyx_tensor_dim_param(t, k);
        if (d < 0 && param && param[0])
            used += (size_t)snprintf(buf + used, len - used, "%s%s", sep, param);
        else if (d < 0)
            used += (size_t)snprintf(buf + used, len - used, "%s?", sep);
        else
            used += (size_t)snprintf(buf + used, len - used, "%s%lld", sep, (long long)d);
    }
    if (used < len) snprintf(buf + used, len - used, "]");
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

char *cli_path_join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p) return NULL;
    memcpy(p, a, la);
    size_t n = la;
    if (la == 0 || a[la - 1] != '/') p[n++] = '/';
    memcpy(p + n, b, lb + 1);
    return p;
}

int cli_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cli_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int cli_mkdirs(const char *dir) {
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(p, dir, n + 1);
    /* create each prefix in turn; existing folders are fine */
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        p[i] = c;
    }
    free(p);
    if (!cli_is_dir(dir)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}
