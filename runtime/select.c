/*
 * The measured-choice cache (see select.h): a short list under one mutex, like the packed
 * weight cache. Lookups happen only while sessions plan, never during runs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "select.h"

typedef struct entry {
    size_t key_len;
    unsigned char *key; /* owned */
    int n;
    onyxi_select_choice ranked[ONYXI_SELECT_MAX_RANKED];
    struct entry *next;
} entry;

struct onyxi_select_cache {
    pthread_mutex_t lock;    /* the list */
    pthread_mutex_t measure; /* onyxi_select_lock */
    entry *head;
    atomic_long measured;
};

onyxi_select_cache *onyxi_select_create(void) {
    onyxi_select_cache *c = onyxi_calloc(1, sizeof *c);
    if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
        onyxi_free(c);
        return NULL;
    }
    if (c && pthread_mutex_init(&c->measure, NULL) != 0) {
        pthread_mutex_destroy(&c->lock);
        onyxi_free(c);
        return NULL;
    }
    if (c) atomic_init(&c->measured, 0);
    return c;
}

void onyxi_select_free(onyxi_select_cache *c) {
    if (!c) return;
    for (entry *e = c->head, *next; e; e = next) {
        next = e->next;
        onyxi_free(e->key);
        onyxi_free(e);
    }
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->measure);
    onyxi_free(c);
}

void onyxi_select_lock(onyxi_select_cache *c) {
    if (c) pthread_mutex_lock(&c->measure);
}

void onyxi_select_unlock(onyxi_select_cache *c) {
    if (c) pthread_mutex_unlock(&c->measure);
}

/* The entry for key; the caller holds the lock. */
static entry *lookup(onyxi_select_cache *c, const void *key, size_t key_len) {
    entry *e = c->head;
    while (e && !(e->key_len == key_len && memcmp(e->key, key, key_len) == 0))
        e = e->next;
    return e;
}

int onyxi_select_find(onyxi_select_cache *c, const void *key, size_t key_len,
                      onyxi_select_choice *out) {
    if (!c) return 0;
    pthread_mutex_lock(&c->lock);
    entry *e = lookup(c, key, key_len);
    int n = e ? e->n : 0;
    if (n) memcpy(out, e->ranked, (size_t)n * sizeof *out);
    pthread_mutex_unlock(&c->lock);
    return n;
}

onyx_status onyxi_select_put(onyxi_select_cache *c, const void *key, size_t key_len,
                             const onyxi_select_choice *ranked, int n) {
    if (!c || n <= 0) return ONYX_OK;
    if (n > ONYXI_SELECT_MAX_RANKED) n = ONYXI_SELECT_MAX_RANKED;
    pthread_mutex_lock(&c->lock);
    onyx_status rc = ONYX_OK;
    entry *e = lookup(c, key, key_len);
    if (!e) {
        e = onyxi_calloc(1, sizeof *e);
        unsigned char *k = onyxi_malloc(key_len ? key_len : 1);
        if (!e || !k) {
            onyxi_free(e);
            onyxi_free(k);
            rc = ONYX_NOMEM;
            goto done;
        }
        memcpy(k, key, key_len);
        e->key = k;
        e->key_len = key_len;
        e->next = c->head;
        c->head = e;
    }
    /* a session that measured the same problem concurrently simply replaces the ranking */
    memcpy(e->ranked, ranked, (size_t)n * sizeof *ranked);
    e->n = n;
done:
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void onyxi_select_count_measure(onyxi_select_cache *c) {
    if (c) atomic_fetch_add(&c->measured, 1);
}

long onyxi_select_measure_count(const onyxi_select_cache *c) {
    return c ? atomic_load(&((onyxi_select_cache *)c)->measured) : 0;
}

uint64_t onyxi_fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}
