/*
 * Status strings and the error-recording helpers declared in error.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

const char *onyx_status_str(onyx_status code) {
    switch (code) {
    case ONYX_OK: return "ok";
    case ONYX_ERROR: return "error";
    case ONYX_NOMEM: return "out of memory";
    case ONYX_INVALID_ARG: return "invalid argument";
    case ONYX_MISUSE: return "API misuse";
    case ONYX_IO: return "I/O error";
    case ONYX_INVALID_MODEL: return "invalid model";
    case ONYX_UNSUPPORTED: return "unsupported";
    case ONYX_SHAPE_MISMATCH: return "shape mismatch";
    case ONYX_TYPE_MISMATCH: return "type mismatch";
    case ONYX_BACKEND: return "backend error";
    case ONYX_INTERNAL: return "internal error";
    }
    return "unknown status";
}

onyx_status onyxi_fail(onyxi_err *e, onyx_status code, const char *fmt, ...) {
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->code = code;
    }
    return code;
}

void onyxi_err_prefix(onyxi_err *e, const char *fmt, ...) {
    if (!e) return;
    char prefix[ONYXI_ERRMSG_MAX];
    char old[ONYXI_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    size_t np = strlen(prefix), no = strlen(old);
    if (np > sizeof e->msg - 1) np = sizeof e->msg - 1;
    if (no > sizeof e->msg - 1 - np) no = sizeof e->msg - 1 - np;
    memcpy(e->msg, prefix, np);
    memcpy(e->msg + np, old, no);
    e->msg[np + no] = '\0';
}

void onyxi_err_clear(onyxi_err *e) {
    if (!e) return;
    e->code = ONYX_OK;
    e->msg[0] = '\0';
}
