/*
 * Attribute checks and overflow-checked arithmetic shared by Conv, ConvTranspose and the
 * pooling ops (see window.h). Error messages name the attribute and say expected versus
 * actual; the runtime prefixes the node.
 */
#include "window.h"

#include <string.h>

int onyxi_window_auto_pad(const onyxi_node *n) {
    const char *s = onyxi_attr_string(n, "auto_pad", "NOTSET");
    if (strcmp(s, "NOTSET") == 0 || s[0] == '\0') return ONYXI_PAD_NOTSET;
    if (strcmp(s, "SAME_UPPER") == 0) return ONYXI_PAD_SAME_UPPER;
    if (strcmp(s, "SAME_LOWER") == 0) return ONYXI_PAD_SAME_LOWER;
    if (strcmp(s, "VALID") == 0) return ONYXI_PAD_VALID;
    return -1;
}

onyx_status onyxi_window_check_auto_pad(const onyxi_node *n, onyxi_err *e) {
    if (onyxi_window_auto_pad(n) >= 0) return ONYX_OK;
    return onyxi_fail(e, ONYX_INVALID_MODEL,
                      "attribute 'auto_pad' is '%.64s', expected NOTSET, SAME_UPPER, "
                      "SAME_LOWER or VALID",
                      onyxi_attr_string(n, "auto_pad", "NOTSET"));
}

onyx_status onyxi_window_check_pads_unused(const onyxi_node *n, onyxi_err *e) {
    if (onyxi_window_auto_pad(n) == ONYXI_PAD_NOTSET) return ONYX_OK;
    const int64_t *p = NULL;
    int np = onyxi_attr_ints(n, "pads", &p);
    for (int i = 0; i < np; i++)
        if (p[i] != 0)
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "attribute 'pads' cannot be used with auto_pad '%.64s'",
                              onyxi_attr_string(n, "auto_pad", "NOTSET"));
    return ONYX_OK;
}

onyx_status onyxi_window_check_int(const onyxi_node *n, const char *name, int64_t def, int64_t lo,
                                   onyxi_err *e) {
    int64_t v = onyxi_attr_int(n, name, def);
    if (v < lo || v > ONYXI_WINDOW_ATTR_MAX)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "attribute '%s' is %lld, expected %lld to %d",
                          name, (long long)v, (long long)lo, ONYXI_WINDOW_ATTR_MAX);
    return ONYX_OK;
}

int onyxi_window_check_ints(const onyxi_node *n, const char *name, int64_t lo, onyxi_err *e) {
    const int64_t *v = NULL;
    int len = onyxi_attr_ints(n, name, &v);
    for (int i = 0; i < len; i++)
        if (v[i] < lo || v[i] > ONYXI_WINDOW_ATTR_MAX) {
            onyxi_fail(e, ONYX_INVALID_MODEL, "attribute '%s'[%d] is %lld, expected %lld to %d",
                       name, i, (long long)v[i], (long long)lo, ONYXI_WINDOW_ATTR_MAX);
            return -2;
        }
    return len;
}

onyx_status onyxi_window_check_lengths(const char *const *names, const int *lens, int count, int np,
                                       onyxi_err *e) {
    /* lengths against the input rank are checked by infer; here only against each other */
    int ref = -1;
    for (int i = 0; i < count; i++) {
        if (lens[i] < 0) continue;
        if (ref >= 0 && lens[i] != lens[ref])
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "attribute '%s' has %d values but '%s' has %d; expected equal "
                              "lengths",
                              names[i], lens[i], names[ref], lens[ref]);
        ref = i;
    }
    if (np >= 0 && ref >= 0 && np != 2 * lens[ref])
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute 'pads' has %d values, expected %d (2 x %d from '%s')", np,
                          2 * lens[ref], lens[ref], names[ref]);
    return ONYX_OK;
}

onyx_status onyxi_window_ints(const onyxi_node *n, const char *name, int want, int64_t def,
                              int64_t *out, onyxi_err *e) {
    const int64_t *v = NULL;
    int len = onyxi_attr_ints(n, name, &v);
    if (len < 0) {
        for (int i = 0; i < want; i++)
            out[i] = def;
        return ONYX_OK;
    }
    if (len != want)
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "attribute '%s' has %d values, expected %d for input 'X' with %d "
                          "spatial dims",
                          name, len, want, want / (strcmp(name, "pads") == 0 ? 2 : 1));
    memcpy(out, v, (size_t)want * sizeof *out);
    return ONYX_OK;
}

int onyxi_window_add(int64_t a, int64_t b, int64_t *out) {
    if (a > INT64_MAX - b) return 0;
    *out = a + b;
    return 1;
}

int onyxi_window_mul(int64_t a, int64_t b, int64_t *out) {
    if (a != 0 && b > INT64_MAX / a) return 0;
    *out = a * b;
    return 1;
}
