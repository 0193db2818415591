/*
 * Internal side of the log callback (onyx_set_log_callback): onyxi_log formats and delivers
 * a message when someone listens at that level. onyxi_log_enabled is one atomic load, so
 * callers may skip building expensive arguments when nobody listens.
 */
#ifndef ONYXI_LOG_H
#define ONYXI_LOG_H

#include "error.h"

/* 1 when a callback is installed for level or a lower one. */
int onyxi_log_enabled(onyx_log_level level);

/* Formats (at most 1 KiB, truncated beyond) and delivers to the callback; no allocation. */
void onyxi_log(onyx_log_level level, const char *fmt, ...) ONYXI_PRINTF(2, 3);

#endif
