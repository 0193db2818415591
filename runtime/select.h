/*
 * Model-wide memory of measured kernel choices. When a session plans a node that more than
 * one implementation (or oneDNN kernel variant) accepts, it times the candidates on the
 * node's real shapes and keeps the fastest (runtime/session.c). The ranking is stored here,
 * keyed by everything the timing depended on (op, attributes, fused chain, input shapes and
 * layouts, thread count, ...), so later sessions of the model, re-plans on a seen shape and
 * other nodes posing the same problem (a ResNet stage repeats its convolutions) reuse it.
 */
#ifndef ONYXI_SELECT_H
#define ONYXI_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "../ops/op.h"

#define ONYXI_SELECT_MAX_RANKED 16 /* candidates remembered per problem, fastest first */

typedef struct onyxi_select_choice {
    const onyxi_impl *impl; /* borrowed: registry */
    int variant;
    int64_t ns; /* measured time of one run (min over the timed runs) */
} onyxi_select_choice;

typedef struct onyxi_select_cache onyxi_select_cache;

onyxi_select_cache *onyxi_select_create(void); /* NULL when out of memory */
void onyxi_select_free(onyxi_select_cache *c); /* NULL ok */

/* Copies the ranking stored for key into out (room for ONYXI_SELECT_MAX_RANKED) and returns
 * its length; 0 when there is none. Thread-safe. */
int onyxi_select_find(onyxi_select_cache *c, const void *key, size_t key_len,
                      onyxi_select_choice *out);

/* Stores (or replaces) the ranking for key: n choices, fastest first (at most
 * ONYXI_SELECT_MAX_RANKED are kept). Thread-safe. ONYX_NOMEM when out of memory. */
onyx_status onyxi_select_put(onyxi_select_cache *c, const void *key, size_t key_len,
                             const onyxi_select_choice *ranked, int n);

/* Held by a session from its lookup of a problem until it has stored the ranking: sessions of
 * one model planning at the same time then time each problem once and agree on the choice
 * (the second finds the first one's ranking), so equally configured sessions compute alike. */
void onyxi_select_lock(onyxi_select_cache *c);
void onyxi_select_unlock(onyxi_select_cache *c);

/* Counts one node whose candidates were timed (tests check the cache spares later sessions
 * the timing), and reads the count. */
void onyxi_select_count_measure(onyxi_select_cache *c);
long onyxi_select_measure_count(const onyxi_select_cache *c);

/* 64-bit FNV-1a of n bytes, continuing from h (start with ONYXI_FNV_START). */
#define ONYXI_FNV_START 1469598103934665603ull
uint64_t onyxi_fnv(uint64_t h, const void *p, size_t n);

#endif
