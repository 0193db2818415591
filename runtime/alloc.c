/*
 * The single allocator (see alloc.h). Each block carries a 64-byte header holding its
 * size, which keeps user data 64-byte aligned and lets onyxi_realloc copy correctly.
 * The fault countdown and live-block count are atomics so tests under threads stay exact.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static atomic_long fail_countdown;  /* 0 = off; N = the Nth allocation from now fails */
static atomic_long allocs_since;    /* allocations attempted since the last fail_after call */
static atomic_long live_blocks;
static _Thread_local size_t alloc_cap; /* 0 = none: see onyxi_alloc_set_cap */

size_t onyxi_alloc_set_cap(size_t cap) {
    size_t old = alloc_cap;
    alloc_cap = cap;
    return old;
}

static int should_fail(void) {
    atomic_fetch_add(&allocs_since, 1);
    long c = atomic_load(&fail_countdown);
    while (c > 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &c, c - 1)) return c == 1;
    }
    return 0;
}

long onyxi_alloc_fail_after(long countdown) {
    long n = atomic_exchange(&allocs_since, 0);
    atomic_store(&fail_countdown, countdown > 0 ? countdown : 0);
    return n;
}

long onyxi_alloc_live_blocks(void) { return atomic_load(&live_blocks); }

void *onyxi_malloc(size_t size) {
    if (size == 0 || size > SIZE_MAX - 2 * ONYXI_ALIGN) return NULL;
    if (alloc_cap && size > alloc_cap) return NULL;
    if (should_fail()) return NULL;
    size_t total = (size + ONYXI_ALIGN + ONYXI_ALIGN - 1) / ONYXI_ALIGN * ONYXI_ALIGN;
    unsigned char *block = aligned_alloc(ONYXI_ALIGN, total);
    if (!block) return NULL;
    memcpy(block, &size, sizeof size);
    atomic_fetch_add(&live_blocks, 1);
    return block + ONYXI_ALIGN;
}

void *onyxi_calloc(size_t n, size_t size) {
    size_t total;
    if (!onyxi_mul_size(n, size, &total)) return NULL;
    void *p = onyxi_malloc(total);
    if (p) memset(p, 0, total);
    return p;
}

void onyxi_free(void *p) {
    if (!p) return;
    atomic_fetch_sub(&live_blocks, 1);
    free((unsigned char *)p - ONYXI_ALIGN);
}

void *onyxi_realloc(void *p, size_t size) {
    if (!p) return onyxi_malloc(size);
    size_t old;
    memcpy(&old, (unsigned char *)p - ONYXI_ALIGN, sizeof old);
    void *q = onyxi_malloc(size);
    if (!q) return NULL;
    memcpy(q, p, old < size ? old : size);
    onyxi_free(p);
    return q;
}

char *onyxi_strndup(const char *s, size_t n) {
    if (!s) return NULL;
    char *c = onyxi_malloc(n + 1);
    if (!c) return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

char *onyxi_strdup(const char *s) { return s ? onyxi_strndup(s, strlen(s)) : NULL; }
