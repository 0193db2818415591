/*
 * Model-wide cache of constant weights repacked for a kernel (e.g. a convolution's weights
 * reordered into oneDNN's blocked layout). Every session of a model shares one copy: the
 * first session to prepare a node packs it, later ones reuse the buffer.
 */
#ifndef ONYXI_WEIGHTS_H
#define ONYXI_WEIGHTS_H

#include <stddef.h>

#include "error.h"

typedef struct onyxi_weight_cache onyxi_weight_cache;

/* Fills dst (nbytes, 64-byte aligned) with the packed weights. */
typedef onyx_status (*onyxi_weight_fill)(void *ctx, void *dst, onyxi_err *e);

onyxi_weight_cache *onyxi_weights_create(void); /* NULL when out of memory */
void onyxi_weights_free(onyxi_weight_cache *c);  /* frees every buffer; NULL ok */

/* A cache whose lookups also find parent's buffers (returned as they are) and whose own
 * buffers are for onyxi_weights_merge: a candidate kernel's while a session measures. Fills
 * bring back constants through parent's consts. parent (borrowed) must outlive it; NULL ok.
 * NULL when out of memory. */
onyxi_weight_cache *onyxi_weights_create_child(onyxi_weight_cache *parent);

/* The model's releasable plain constants (borrowed, consts.h; NULL = none): before a fill
 * for an owner node, its released constant inputs are read back and held during the fill.
 * Set once, before any session uses the cache. */
struct onyxi_consts;
void onyxi_weights_set_consts(onyxi_weight_cache *c, struct onyxi_consts *consts);

/* The packed buffer for (owner, slot, key): owner is the node (the graph outlives the cache's
 * users), slot tells apart several buffers of one node, key describes the packing (e.g. the
 * bytes of a dnnl_memory_desc_t) so two sessions asking for different layouts get different
 * buffers. Created with fill() under the cache's lock when absent. *out is borrowed: valid
 * until the model is freed. */
onyx_status onyxi_weights_get(onyxi_weight_cache *c, const void *owner, int slot, const void *key,
                              size_t key_len, size_t nbytes, onyxi_weight_fill fill, void *ctx,
                              const void **out, onyxi_err *e);

/* Moves every buffer of src into dst (src is left empty; buffers keep their addresses).
 * A session timing candidate kernels packs each candidate's weights into a cache of its own
 * and hands only the winner's to the model's cache, so losers' packings are freed. */
void onyxi_weights_merge(onyxi_weight_cache *dst, onyxi_weight_cache *src);

/* Number of buffers and their total bytes (tests check that sessions share them). */
void onyxi_weights_stats(onyxi_weight_cache *c, int *count, size_t *bytes);

#endif
