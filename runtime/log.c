/*
 * Process-wide log callback. A read-write lock guards the callback: deliveries hold it for
 * reading (so threads log concurrently) and onyx_set_log_callback takes it for writing, so
 * that once it returns the previous callback is no longer running anywhere. The level is
 * also kept in an atomic so that the silent default costs one load and no lock.
 */
#define _POSIX_C_SOURCE 200809L /* pthread_rwlock_t */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "log.h"

static pthread_rwlock_t log_lock = PTHREAD_RWLOCK_INITIALIZER;
static onyx_log_fn log_fn;        /* guarded by log_lock */
static void *log_user;            /* guarded by log_lock */
static atomic_int log_min = ONYX_LOG_OFF;

void onyx_set_log_callback(onyx_log_fn fn, void *user_data, onyx_log_level min_level) {
    int level = (int)min_level;
    if (!fn || level < ONYX_LOG_DEBUG || level > ONYX_LOG_OFF) level = ONYX_LOG_OFF;
    pthread_rwlock_wrlock(&log_lock);
    log_fn = level == ONYX_LOG_OFF ? NULL : fn;
    log_user = level == ONYX_LOG_OFF ? NULL : user_data;
    atomic_store(&log_min, level);
    pthread_rwlock_unlock(&log_lock);
}

const char *onyx_log_level_name(onyx_log_level level) {
    switch (level) {
    case ONYX_LOG_DEBUG: return "debug";
    case ONYX_LOG_INFO: return "info";
    case ONYX_LOG_WARN: return "warn";
    case ONYX_LOG_ERROR: return "error";
    case ONYX_LOG_OFF: return "off";
    }
    return "unknown";
}

int onyxi_log_enabled(onyx_log_level level) {
    return (int)level >= atomic_load_explicit(&log_min, memory_order_relaxed) &&
           level < ONYX_LOG_OFF;
}

void onyxi_log(onyx_log_level level, const char *fmt, ...) {
    if (!onyxi_log_enabled(level)) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_rwlock_rdlock(&log_lock);
    /* re-checked under the lock: the callback may have been replaced meanwhile */
    if (log_fn && (int)level >= atomic_load(&log_min)) log_fn(log_user, level, msg);
    pthread_rwlock_unlock(&log_lock);
}
