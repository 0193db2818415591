/*
 * The library's single allocator. Every allocation goes through these functions so that
 * fault-injection tests can make the Nth one fail and leak checks see every block.
 * Blocks are 64-byte aligned (enough for AVX-512 loads and cache lines).
 */
#ifndef ONYXI_ALLOC_H
#define ONYXI_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#define ONYXI_ALIGN 64

/* NULL when size is 0 or memory runs out (or the fault hook says fail). */
void *onyxi_malloc(size_t size);
/* Zeroed; NULL on overflow of n*size. */
void *onyxi_calloc(size_t n, size_t size);
/* Like realloc, for blocks from onyxi_malloc/onyxi_calloc; on failure p is untouched. */
void *onyxi_realloc(void *p, size_t size);
void onyxi_free(void *p);
/* A copy of s (NULL in, NULL out). */
char *onyxi_strdup(const char *s);
/* A NUL-terminated copy of n bytes of s. */
char *onyxi_strndup(const char *s, size_t n);

/* Fault injection for tests: the countdown-th allocation from now fails (1 = the next);
 * 0 disables. Returns the number of allocations made since the last call (for tests that
 * loop N = 1, 2, ... until an operation succeeds). Thread-safe but process-global. */
long onyxi_alloc_fail_after(long countdown);
/* Largest single allocation this thread may make (0 = no cap); returns the previous cap.
 * Sessions set it to what is left of their memory limit while kernels prepare, so a kernel's
 * own working buffers cannot bypass the limit. */
size_t onyxi_alloc_set_cap(size_t cap);

/* Number of live blocks (allocations not yet freed), for leak tests. */
long onyxi_alloc_live_blocks(void);

/* Overflow-checked size arithmetic: return 0 and leave *out unspecified on overflow. */
static inline int onyxi_mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}
static inline int onyxi_add_size(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return 0;
    *out = a + b;
    return 1;
}

#endif
