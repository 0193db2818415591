/*
 * Tests of the CLI's .npy reader and writer (tools/npy.c): round trips of every supported
 * dtype and rank, byte-exact headers as NumPy writes them, hand-written v1.0/v2.0 files, and
 * malformed or unsupported files refused with the right status and a reason.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "testutil.h"

/* An .npy image: magic, version, header dict padded to hlen_total, then data. */
static size_t make_npy(unsigned char *buf, int major, const char *dict, const void *data,
                       size_t nbytes) {
    size_t pre = major == 1 ? 10 : 12, dlen = strlen(dict);
    size_t total = (pre + dlen + 1 + 63) / 64 * 64, hlen = total - pre;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t b = 0; b < pre - 8; b++) buf[8 + b] = (unsigned char)(hlen >> (8 * b));
    memcpy(buf + pre, dict, dlen);
    memset(buf + pre + dlen, ' ', hlen - dlen - 1);
    buf[total - 1] = '\n';
    if (nbytes) memcpy(buf + total, data, nbytes);
    return total + nbytes;
}

static onyx_status parse(const unsigned char *buf, size_t n, onyx_tensor **t, char *err) {
    return npy_parse(buf, n, "t", t, err, 256);
}

START_TEST(test_npy_round_trip_every_dtype) {
    static const onyx_dtype dts[] = {ONYX_DTYPE_FLOAT32, ONYX_DTYPE_FLOAT64, ONYX_DTYPE_FLOAT16,
                                     ONYX_DTYPE_INT8,    ONYX_DTYPE_INT16,   ONYX_DTYPE_INT32,
                                     ONYX_DTYPE_INT64,   ONYX_DTYPE_UINT8,   ONYX_DTYPE_UINT16,
                                     ONYX_DTYPE_UINT32,  ONYX_DTYPE_UINT64,  ONYX_DTYPE_BOOL};
    static const int64_t shapes[3][3] = {{0}, {5}, {2, 3, 1}};
    static const int ranks[3] = {0, 1, 3};
    for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++) {
        for (int s = 0; s < 3; s++) {
            unsigned char data[64];
            for (int i = 0; i < 64; i++) data[i] = dts[d] == ONYX_DTYPE_BOOL ? (unsigned char)(i & 1) : (unsigned char)(i * 7 + 1);
            onyx_tensor *t = NULL, *back = NULL;
            ck_assert_int_eq(onyx_tensor_create("x", dts[d], shapes[s], ranks[s], data, &t), ONYX_OK);
            char path[512], err[256] = "";
            snprintf(path, sizeof path, "%s/npy_rt_%d_%d.npy", ONYX_TEST_TMP_DIR, (int)dts[d], s);
            ck_assert_msg(npy_save(t, path, err, sizeof err) == ONYX_OK, "%s", err);
            ck_assert_msg(npy_load(path, &back, err, sizeof err) == ONYX_OK, "%s", err);
            ck_assert_int_eq(onyx_tensor_dtype(back), dts[d]);
            ck_assert_int_eq(onyx_tensor_rank(back), ranks[s]);
            for (int k = 0; k < ranks[s]; k++)
                ck_assert_int_eq(onyx_tensor_dim(back, k), shapes[s][k]);
            ck_assert_uint_eq(onyx_tensor_nbytes(back), onyx_tensor_nbytes(t));
            ck_assert_int_eq(memcmp(onyx_tensor_data(back), data, onyx_tensor_nbytes(t)), 0);
            char want_name[64];
            snprintf(want_name, sizeof want_name, "npy_rt_%d_%d", (int)dts[d], s);
            ck_assert_str_eq(onyx_tensor_name(back), want_name);
            onyx_tensor_free(t);
            onyx_tensor_free(back);
            remove(path);
        }
    }
}
END_TEST

/* What numpy.save writes for np.arange(6, dtype=np.float32).reshape(2, 3): a 1.0 header of
 * 118 bytes so that the data starts at byte 128. */
START_TEST(test_npy_save_matches_numpy_bytes) {
    float v[6] = {0, 1, 2, 3, 4, 5};
    int64_t dims[2] = {2, 3};
    onyx_tensor *t = NULL;
    ck_assert_int_eq(onyx_tensor_create("x", ONYX_DTYPE_FLOAT32, dims, 2, v, &t), ONYX_OK);
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/npy_numpy.npy", ONYX_TEST_TMP_DIR);
    ck_assert_int_eq(npy_save(t, path, err, sizeof err), ONYX_OK);
    size_t n = 0;
    unsigned char *got = tu_read_file(path, &n);
    unsigned char want[256];
    size_t wn = make_npy(want, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", v,
                         sizeof v);
    ck_assert_uint_eq(wn, 128 + sizeof v);
    ck_assert_uint_eq(n, wn);
    ck_assert_int_eq(memcmp(got, want, n), 0);
    ck_assert_int_eq(got[8] | got[9] << 8, 118);
    free(got);
    onyx_tensor_free(t);
    /* a 1-D shape keeps Python's tuple comma */
    int64_t d1 = 4;
    ck_assert_int_eq(onyx_tensor_create("y", ONYX_DTYPE_INT64, &d1, 1, NULL, &t), ONYX_OK);
    ck_assert_int_eq(npy_save(t, path, err, sizeof err), ONYX_OK);
    got = tu_read_file(path, &n);
    ck_assert_ptr_nonnull(strstr((const char *)got + 10, "'shape': (4,), }"));
    ck_assert_ptr_nonnull(strstr((const char *)got + 10, "'descr': '<i8'"));
    free(got);
    onyx_tensor_free(t);
    remove(path);
}
END_TEST

START_TEST(test_npy_parse_v1_and_v2_headers) {
    unsigned char buf[512];
    int64_t v[3] = {-1, 7, 1LL << 40};
    onyx_tensor *t = NULL;
    char err[256];
    size_t n = make_npy(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", v, sizeof v);
    ck_assert_msg(parse(buf, n, &t, err) == ONYX_OK, "%s", err);
    ck_assert_int_eq(onyx_tensor_dtype(t), ONYX_DTYPE_INT64);
    ck_assert_int_eq(onyx_tensor_rank(t), 1);
    ck_assert_int_eq(onyx_tensor_dim(t, 0), 3);
    ck_assert_int_eq(((const int64_t *)onyx_tensor_data(t))[2], 1LL << 40);
    onyx_tensor_free(t);
    /* version 2.0 (4-byte header length), keys in another order, double quotes, '=' order */
    double d[2] = {0.5, -2.25};
    n = make_npy(buf, 2, "{\"shape\": (1, 2), \"fortran_order\": False, \"descr\": \"=f8\"}", d, sizeof d);
    ck_assert_msg(parse(buf, n, &t, err) == ONYX_OK, "%s", err);
    ck_assert_int_eq(onyx_tensor_dtype(t), ONYX_DTYPE_FLOAT64);
    ck_assert_int_eq(onyx_tensor_dim(t, 1), 2);
    ck_assert(((const double *)onyx_tensor_data(t))[1] == -2.25);
    onyx_tensor_free(t);
    /* a scalar: shape () */
    unsigned char b1 = 1;
    n = make_npy(buf, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (), }", &b1, 1);
    ck_assert_msg(parse(buf, n, &t, err) == ONYX_OK, "%s", err);
    ck_assert_int_eq(onyx_tensor_rank(t), 0);
    ck_assert_int_eq(onyx_tensor_dtype(t), ONYX_DTYPE_BOOL);
    onyx_tensor_free(t);
}
END_TEST

/* Each malformed or unsupported file: the status and a word of the reason. */
START_TEST(test_npy_bad_files_are_refused) {
    static const struct {
        int major;
        const char *dict;
        size_t data_bytes;
        onyx_status want;
        const char *reason;
    } cases[] = {
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20, ONYX_INVALID_MODEL, "24"},
        {1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24, ONYX_UNSUPPORTED, "Fortran"},
        {1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24, ONYX_UNSUPPORTED, "big-endian"},
        {1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8, ONYX_UNSUPPORTED, "c8"},
        {1, "{'descr': '<f4', 'shape': (1,), }", 4, ONYX_INVALID_MODEL, "fortran_order"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }", 4, ONYX_INVALID_MODEL, "shape"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }", 0, ONYX_INVALID_MODEL, "overflow"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0, ONYX_INVALID_MODEL, "too large"},
        {1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4, ONYX_UNSUPPORTED, "structured"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }", 4, ONYX_INVALID_MODEL, "more than 8"},
        {7, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4, ONYX_UNSUPPORTED, "version 7"},
    };
    unsigned char buf[1024], zeros[64] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = make_npy(buf, cases[i].major == 7 ? 1 : cases[i].major, cases[i].dict, zeros, cases[i].data_bytes);
        if (cases[i].major == 7) buf[6] = 7;
        onyx_tensor *t = NULL;
        char err[256] = "";
        ck_assert_int_eq(parse(buf, n, &t, err), cases[i].want);
        ck_assert_ptr_null(t);
        ck_assert_msg(strstr(err, cases[i].reason) != NULL, "case %zu: '%s' lacks '%s'", i, err, cases[i].reason);
    }
    /* bad magic, truncated header, a bool that is neither 0 nor 1 */
    onyx_tensor *t = NULL;
    char err[256];
    ck_assert_int_eq(parse((const unsigned char *)"PK\x03\x04 not npy", 15, &t, err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err, "magic"));
    size_t n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", zeros, 4);
    ck_assert_int_eq(parse(buf, 40, &t, err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err, "past the end"));
    unsigned char two = 2;
    n = make_npy(buf, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }", &two, 1);
    ck_assert_int_eq(parse(buf, n, &t, err), ONYX_INVALID_MODEL);
    ck_assert_ptr_nonnull(strstr(err, "not 0 or 1"));
    /* every truncation of a good file is refused without a crash */
    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", zeros, 8);
    for (size_t k = 0; k < n; k++) {
        ck_assert_int_ne(parse(buf, k, &t, err), ONYX_OK);
        ck_assert_ptr_null(t);
    }
}
END_TEST

START_TEST(test_npy_dispatch_by_content_and_suffix) {
    float v[2] = {1.5f, -1};
    int64_t d = 2;
    onyx_tensor *t = NULL, *back = NULL;
    ck_assert_int_eq(onyx_tensor_create("v", ONYX_DTYPE_FLOAT32, &d, 1, v, &t), ONYX_OK);
    char npy[512], pb[512], err[256];
    snprintf(npy, sizeof npy, "%s/npy_dispatch.npy", ONYX_TEST_TMP_DIR);
    snprintf(pb, sizeof pb, "%s/npy_dispatch.pb", ONYX_TEST_TMP_DIR);
    ck_assert_int_eq(cli_tensor_save(t, npy, err, sizeof err), ONYX_OK);
    ck_assert_int_eq(cli_tensor_save(t, pb, err, sizeof err), ONYX_OK);
    ck_assert_int_eq(npy_is_npy_file(npy), 1);
    ck_assert_int_eq(npy_is_npy_file(pb), 0);
    const char *paths[2] = {npy, pb};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(cli_tensor_load(paths[i], &back, err, sizeof err), ONYX_OK);
        ck_assert_int_eq(memcmp(onyx_tensor_data(back), v, sizeof v), 0);
        onyx_tensor_free(back);
        remove(paths[i]);
    }
    ck_assert_int_eq(cli_tensor_load(npy, &back, err, sizeof err), ONYX_IO);
    onyx_tensor_free(t);
}
END_TEST

static Suite *npy_suite(void) {
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("round_trip");
    tcase_add_test(tc, test_npy_round_trip_every_dtype);
    tcase_add_test(tc, test_npy_save_matches_numpy_bytes);
    tcase_add_test(tc, test_npy_dispatch_by_content_and_suffix);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_test(tc, test_npy_parse_v1_and_v2_headers);
    tcase_add_test(tc, test_npy_bad_files_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run_suite(npy_suite()); }
