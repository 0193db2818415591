/*
 * Internal error recording. An onyxi_err holds a status and a fixed-size message, so
 * reporting an error never allocates (it must work when memory has run out).
 * Kernels write only what went wrong; the driver prefixes the node ("node 'c1' (Conv-11): ").
 */
#ifndef ONYXI_ERROR_H
#define ONYXI_ERROR_H

#include "onyx.h"

#define ONYXI_ERRMSG_MAX 512

typedef struct onyxi_err {
    onyx_status code;
    char msg[ONYXI_ERRMSG_MAX];
} onyxi_err;

#if defined(__GNUC__)
#define ONYXI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ONYXI_PRINTF(a, b)
#endif

/* Records code and a printf-style message in e (when e is not NULL); returns code. */
onyx_status onyxi_fail(onyxi_err *e, onyx_status code, const char *fmt, ...) ONYXI_PRINTF(3, 4);

/* Prepends a printf-style prefix to e's message ("node 'x' (Conv-11): " + message). */
void onyxi_err_prefix(onyxi_err *e, const char *fmt, ...) ONYXI_PRINTF(2, 3);

/* Clears e to ONYX_OK with an empty message. */
void onyxi_err_clear(onyxi_err *e);

/* Return from the current function when expr is not ONYX_OK. */
#define ONYXI_CHECK(expr)                                                                          \
    do {                                                                                           \
        onyx_status onyxi_check_rc_ = (expr);                                                      \
        if (onyxi_check_rc_ != ONYX_OK) return onyxi_check_rc_;                                    \
    } while (0)

#endif
