/*
 * The packed-weight cache (see weights.h): a short list under one mutex. Lookups happen only
 * while sessions plan, never during runs, so a list and a lock are plenty. A child cache
 * (a candidate kernel's, while a session measures) reads its parent's buffers too. Before a
 * fill, the node's constants are brought back if the model released them (consts.h).
 */
#include <pthread.h>
#include <string.h>

#include "alloc.h"
#include "consts.h"
#include "weights.h"

#define MAX_KEY 1024

typedef struct entry {
    const void *owner;
    int slot;
    size_t key_len;
    unsigned char key[MAX_KEY];
    void *data; /* owned */
    size_t nbytes;
    struct entry *next;
} entry;

struct onyxi_weight_cache {
    pthread_mutex_t lock;
    entry *head;
    onyxi_weight_cache *parent; /* borrowed: looked up first (child caches); or NULL */
    onyxi_consts *consts;       /* borrowed: the model's releasable constants; or NULL */
};

onyxi_weight_cache *onyxi_weights_create(void) {
    onyxi_weight_cache *c = onyxi_calloc(1, sizeof *c);
    if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
        onyxi_free(c);
        return NULL;
    }
    return c;
}

onyxi_weight_cache *onyxi_weights_create_child(onyxi_weight_cache *parent) {
    onyxi_weight_cache *c = onyxi_weights_create();
    if (c && parent) {
        c->parent = parent;
        c->consts = parent->consts;
    }
    return c;
}

void onyxi_weights_set_consts(onyxi_weight_cache *c, struct onyxi_consts *consts) {
    c->consts = consts;
}

/* The entry for the key in c's own list, or NULL. REQUIRES: c->lock held. */
static entry *find(onyxi_weight_cache *c, const void *owner, int slot, const void *key,
                   size_t key_len, size_t nbytes) {
    entry *e = c->head;
    while (e && !(e->owner == owner && e->slot == slot && e->key_len == key_len &&
                  memcmp(e->key, key, key_len) == 0 && e->nbytes == nbytes))
        e = e->next;
    return e;
}

void onyxi_weights_free(onyxi_weight_cache *c) {
    if (!c) return;
    for (entry *e = c->head, *next; e; e = next) {
        next = e->next;
        onyxi_free(e->data);
        onyxi_free(e);
    }
    pthread_mutex_destroy(&c->lock);
    onyxi_free(c);
}

onyx_status onyxi_weights_get(onyxi_weight_cache *c, const void *owner, int slot, const void *key,
                              size_t key_len, size_t nbytes, onyxi_weight_fill fill, void *ctx,
                              const void **out, onyxi_err *err) {
    if (key_len > MAX_KEY) return onyxi_fail(err, ONYX_INTERNAL, "weight cache key too long");
    if (c->parent) { /* a packing the model already has serves the candidate too */
        pthread_mutex_lock(&c->parent->lock);
        entry *pe = find(c->parent, owner, slot, key, key_len, nbytes);
        pthread_mutex_unlock(&c->parent->lock);
        if (pe) {
            *out = pe->data; /* parent buffers live as long as the model */
            return ONYX_OK;
        }
    }
    pthread_mutex_lock(&c->lock);
    onyx_status rc = ONYX_OK;
    entry *e = find(c, owner, slot, key, key_len, nbytes);
    if (!e) {
        e = onyxi_calloc(1, sizeof *e);
        void *data = onyxi_malloc(nbytes ? nbytes : 1);
        if (!e || !data) {
            onyxi_free(e);
            onyxi_free(data);
            rc = onyxi_fail(err, ONYX_NOMEM, "out of memory packing weights");
            goto done;
        }
        /* the fill reads the node's plain constants: back in memory if they were released */
        rc = onyxi_consts_hold_node(c->consts, owner, err);
        if (rc == ONYX_OK) {
            rc = fill(ctx, data, err);
            onyxi_consts_release_node(c->consts, owner);
        }
        if (rc != ONYX_OK) {
            onyxi_free(e);
            onyxi_free(data);
            goto done;
        }
        e->owner = owner;
        e->slot = slot;
        e->key_len = key_len;
        memcpy(e->key, key, key_len);
        e->data = data;
        e->nbytes = nbytes;
        e->next = c->head;
        c->head = e;
    }
    *out = e->data;
done:
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void onyxi_weights_merge(onyxi_weight_cache *dst, onyxi_weight_cache *src) {
    if (!dst || !src || dst == src) return;
    pthread_mutex_lock(&src->lock);
    entry *list = src->head;
    src->head = NULL;
    pthread_mutex_unlock(&src->lock);
    if (!list) return;
    entry *tail = list;
    while (tail->next) tail = tail->next;
    pthread_mutex_lock(&dst->lock);
    tail->next = dst->head;
    dst->head = list;
    pthread_mutex_unlock(&dst->lock);
}

void onyxi_weights_stats(onyxi_weight_cache *c, int *count, size_t *bytes) {
    *count = 0;
    *bytes = 0;
    if (!c) return;
    pthread_mutex_lock(&c->lock);
    for (entry *e = c->head; e; e = e->next) {
        (*count)++;
        *bytes += e->nbytes;
    }
    pthread_mutex_unlock(&c->lock);
}
