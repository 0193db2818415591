/*
 * Releasing and re-reading the plain bytes of large constants (see consts.h). Each linked
 * initializer counts who needs its bytes now (holds: plans whose kernels read it when they
 * run, a kernel choice in progress, a weight-cache fill) and which of the node input slots
 * reading it were seen packing it. Bytes are released (MADV_DONTNEED on the block's whole
 * pages: they read as zeros afterwards) when nothing holds them and every slot packs, and
 * read back in place from the model's file before anyone needs them again.
 */
#define _DEFAULT_SOURCE /* madvise */

#include "consts.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"

typedef struct onyxi_const {
    onyxi_consts *store;
    int value;
    void *data; /* borrowed: the graph's block (info.data) */
    size_t nbytes;
    int file;        /* index into store->files */
    uint64_t offset; /* of the bytes in that file */
    int holds;       /* plans, kernel choices and fills that need the bytes now */
    int refs;        /* node input slots that read it */
    int refs_packed; /* of those, slots seen packing it */
    unsigned char resident;
    unsigned char pinned; /* handed out through onyx_tensor_data: never released again */
} onyxi_const;

typedef struct plan_hold {
    const void *plan;
    int k; /* index into consts */
} plan_hold;

struct onyxi_consts {
    pthread_mutex_t lock;
    const onyxi_graph *g;
    onyxi_sources src; /* owned: the open files (src.at unused) */
    int n;
    onyxi_const *consts; /* owned */
    int *of_value;       /* owned: per value, its index in consts or -1 */
    unsigned *seen;      /* owned: per node, bit i = input slot i was seen packing */
    plan_hold *holds;    /* owned: what plans hold */
    int n_holds, cap_holds;
    uintptr_t page;
    long rereads;
    size_t reread_bytes;
};

/* The index of the linked constant read by input slot i of node n, or -1. */
static int slot_const(const onyxi_consts *c, const onyxi_node *n, int i) {
    int v = n->inputs[i];
    return v >= 0 && v < c->g->n_values ? c->of_value[v] : -1;
}

/* n as a node of c's graph, or NULL (a cache shared with kernels of another graph). */
static const onyxi_node *own_node(const onyxi_consts *c, const void *node) {
    uintptr_t p = (uintptr_t)node, a = (uintptr_t)c->g->nodes,
              b = (uintptr_t)(c->g->nodes + c->g->n_nodes);
    if (p < a || p >= b || (p - a) % sizeof(onyxi_node) != 0) return NULL;
    return node;
}

/* Gives the whole pages of k's block back when nothing needs them. REQUIRES: lock held. */
static void maybe_release(onyxi_consts *c, onyxi_const *k) {
    if (!k->resident || k->pinned || k->holds > 0 || k->refs_packed < k->refs) return;
    uintptr_t a = ((uintptr_t)k->data + c->page - 1) & ~(c->page - 1);
    uintptr_t b = ((uintptr_t)k->data + k->nbytes) & ~(c->page - 1);
    /* the partial pages at either end stay (they share pages with other blocks); the block
     * is read back whole */
    if (b > a && madvise((void *)a, b - a, MADV_DONTNEED) != 0) return;
    k->resident = 0;
}

/* Reads k's bytes back into its block. REQUIRES: lock held, nobody reading the block. */
static onyx_status bring_back(onyxi_consts *c, onyxi_const *k, onyxi_err *e) {
    if (k->resident) return ONYX_OK;
    const onyxi_src_file *f = &c->src.files[k->file];
    const char *name = c->g->values[k->value].name;
    if (onyxi_src_file_changed(f))
        return onyxi_fail(e, ONYX_IO,
                          "initializer '%.100s': the model file changed after loading, so its "
                          "released bytes cannot be read again (keep a loaded model's file "
                          "unchanged)",
                          name);
    unsigned char *p = k->data;
    size_t left = k->nbytes;
    uint64_t off = k->offset;
    while (left > 0) {
        size_t chunk = left > (size_t)1 << 30 ? (size_t)1 << 30 : left;
        ssize_t got = pread(f->fd, p, chunk, (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            return onyxi_fail(e, ONYX_IO,
                              "initializer '%.100s': cannot read it again from the "
                              "model file: %s",
                              name, got < 0 ? strerror(errno) : "unexpected end of file");
        p += got;
        left -= (size_t)got;
        off += (uint64_t)got;
    }
    k->resident = 1;
    c->rereads++;
    c->reread_bytes += k->nbytes;
    return ONYX_OK;
}

onyx_status onyxi_consts_create(onyxi_graph *g, onyxi_sources *src, onyxi_consts **out,
                                onyxi_err *e) {
    *out = NULL;
    unsigned char *file_needed = NULL; /* per file of src */
    onyxi_consts *c = NULL;
    int n = 0;
    /* values the loader read from a file, still holding that block after the passes */
    for (int v = 0; v < g->n_values && v < src->n_at; v++) {
        const onyxi_value *gv = &g->values[v];
        if (src->at[v].file >= 0 && (gv->flags & ONYXI_VALUE_INITIALIZER) &&
            !(gv->flags & ONYXI_VALUE_GRAPH_OUTPUT) && gv->info.data == src->at[v].data &&
            gv->info.nbytes >= ONYXI_CONSTS_MIN_BYTES)
            n++;
    }
    if (n == 0) {
        onyxi_sources_clear(src);
        return ONYX_OK;
    }
    c = onyxi_calloc(1, sizeof *c);
    if (!c) goto nomem;
    c->g = g;
    c->consts = onyxi_calloc((size_t)n, sizeof *c->consts);
    c->of_value = onyxi_malloc(((size_t)g->n_values + 1) * sizeof *c->of_value);
    c->seen = onyxi_calloc((size_t)g->n_nodes + 1, sizeof *c->seen);
    file_needed = onyxi_calloc((size_t)src->n_files + 1, 1);
    if (!c->consts || !c->of_value || !c->seen || !file_needed) goto nomem;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        onyxi_free(c->consts);
        c->consts = NULL;
        goto nomem;
    }
    long page = sysconf(_SC_PAGESIZE);
    c->page = page > 0 ? (uintptr_t)page : 4096;
    for (int v = 0; v < g->n_values; v++)
        c->of_value[v] = -1;
    for (int v = 0; v < g->n_values && v < src->n_at; v++) {
        onyxi_value *gv = &g->values[v];
        if (!(src->at[v].file >= 0 && (gv->flags & ONYXI_VALUE_INITIALIZER) &&
              !(gv->flags & ONYXI_VALUE_GRAPH_OUTPUT) && gv->info.data == src->at[v].data &&
              gv->info.nbytes >= ONYXI_CONSTS_MIN_BYTES))
            continue;
        onyxi_const *k = &c->consts[c->n];
        *k = (onyxi_const){
            c, v, gv->info.data, gv->info.nbytes, src->at[v].file, src->at[v].offset, 0, 0, 0,
            1, 0};
        file_needed[k->file] = 1;
        c->of_value[v] = c->n++;
        gv->info.constant = k;
    }
    /* every input slot of a node that still runs (removed nodes have no inputs left) */
    for (int i = 0; i < g->n_nodes; i++) {
        const onyxi_node *nd = &g->nodes[i];
        for (int s = 0; s < nd->n_inputs; s++) {
            int k = slot_const(c, nd, s);
            if (k >= 0) c->consts[k].refs++;
        }
    }
    /* keep the files some constant needs; the others are closed now */
    c->src = *src;
    memset(src, 0, sizeof *src);
    for (int f = 0; f < c->src.n_files; f++)
        if (!file_needed[f] && c->src.files[f].fd >= 0) {
            close(c->src.files[f].fd);
            c->src.files[f].fd = -1;
        }
    onyxi_free(c->src.at);
    c->src.at = NULL;
    c->src.n_at = 0;
    onyxi_free(file_needed);
    /* initializers nothing reads need no bytes at all until a view asks */
    for (int k = 0; k < c->n; k++)
        maybe_release(c, &c->consts[k]);
    *out = c;
    return ONYX_OK;
nomem:
    if (c) {
        for (int v = 0; c->of_value && v < g->n_values; v++)
            if (c->of_value[v] >= 0) g->values[v].info.constant = NULL;
        onyxi_free(c->consts);
        onyxi_free(c->of_value);
        onyxi_free(c->seen);
        onyxi_free(c);
    }
    onyxi_free(file_needed);
    return onyxi_fail(e, ONYX_NOMEM, "out of memory loading the model");
}

void onyxi_consts_free(onyxi_consts *c) {
    if (!c) return;
    pthread_mutex_destroy(&c->lock);
    onyxi_sources_clear(&c->src);
    onyxi_free(c->consts);
    onyxi_free(c->of_value);
    onyxi_free(c->seen);
    onyxi_free(c->holds);
    onyxi_free(c);
}

/* Undoes the holds of slots [0, upto) of n. REQUIRES: lock held. */
static void unhold_slots(onyxi_consts *c, const onyxi_node *n, int upto) {
    for (int s = 0; s < upto; s++) {
        int k = slot_const(c, n, s);
        if (k < 0) continue;
        c->consts[k].holds--;
        maybe_release(c, &c->consts[k]);
    }
}

onyx_status onyxi_consts_hold_node(onyxi_consts *c, const void *node, onyxi_err *e) {
    const onyxi_node *n = c ? own_node(c, node) : NULL;
    if (!n) return ONYX_OK;
    onyx_status rc = ONYX_OK;
    pthread_mutex_lock(&c->lock);
    int s = 0;
    for (; s < n->n_inputs; s++) {
        int k = slot_const(c, n, s);
        if (k < 0) continue;
        rc = bring_back(c, &c->consts[k], e);
        if (rc != ONYX_OK) break;
        c->consts[k].holds++;
    }
    if (rc != ONYX_OK) unhold_slots(c, n, s); /* slot s holds nothing */
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void onyxi_consts_release_node(onyxi_consts *c, const void *node) {
    const onyxi_node *n = c ? own_node(c, node) : NULL;
    if (!n) return;
    pthread_mutex_lock(&c->lock);
    unhold_slots(c, n, n->n_inputs);
    pthread_mutex_unlock(&c->lock);
}

void onyxi_consts_step_begin(onyxi_consts *c, const onyxi_node *n) {
    if (!c || !own_node(c, n)) return;
    pthread_mutex_lock(&c->lock);
    for (int s = 0; s < n->n_inputs; s++) {
        int k = slot_const(c, n, s);
        if (k >= 0) c->consts[k].holds++;
    }
    pthread_mutex_unlock(&c->lock);
}

/* Records that plan holds constant k (read back first). REQUIRES: lock held. */
static onyx_status plan_hold_add(onyxi_consts *c, const void *plan, int k, onyxi_err *e) {
    if (c->n_holds == c->cap_holds) {
        int cap = c->cap_holds ? 2 * c->cap_holds : 16;
        plan_hold *grown = onyxi_realloc(c->holds, (size_t)cap * sizeof *grown);
        if (!grown) return onyxi_fail(e, ONYX_NOMEM, "out of memory planning the session");
        c->holds = grown;
        c->cap_holds = cap;
    }
    ONYXI_CHECK(bring_back(c, &c->consts[k], e));
    c->holds[c->n_holds++] = (plan_hold){plan, k};
    c->consts[k].holds++;
    return ONYX_OK;
}

onyx_status onyxi_consts_step_end(onyxi_consts *c, const void *plan, const onyxi_node *n,
                                  int chosen, unsigned packed, onyxi_err *e) {
    if (!c || !own_node(c, n)) return ONYX_OK;
    onyx_status rc = ONYX_OK;
    pthread_mutex_lock(&c->lock);
    int node = (int)(n - c->g->nodes);
    for (int s = 0; s < n->n_inputs; s++) {
        int k = slot_const(c, n, s);
        if (k < 0) continue;
        onyxi_const *kk = &c->consts[k];
        if (chosen && s < 32 && (packed >> s & 1u)) {
            if (!(c->seen[node] >> s & 1u)) {
                c->seen[node] |= 1u << s;
                kk->refs_packed++;
            }
        } else if (chosen && rc == ONYX_OK) {
            /* the kernel reads these bytes when it runs */
            rc = plan_hold_add(c, plan, k, e);
        }
    }
    unhold_slots(c, n, n->n_inputs); /* the step_begin holds */
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void onyxi_consts_plan_release(onyxi_consts *c, const void *plan) {
    if (!c) return;
    pthread_mutex_lock(&c->lock);
    int kept = 0;
    for (int i = 0; i < c->n_holds; i++) {
        plan_hold h = c->holds[i];
        if (h.plan != plan) {
            c->holds[kept++] = h;
            continue;
        }
        c->consts[h.k].holds--;
        maybe_release(c, &c->consts[h.k]);
    }
    c->n_holds = kept;
    pthread_mutex_unlock(&c->lock);
}

const void *onyxi_const_data(const struct onyxi_const *k) {
    onyxi_consts *c = k->store;
    onyxi_const *kk = &c->consts[k - c->consts];
    onyxi_err e;
    onyxi_err_clear(&e);
    pthread_mutex_lock(&c->lock);
    onyx_status rc = bring_back(c, kk, &e);
    if (rc == ONYX_OK) kk->pinned = 1;
    pthread_mutex_unlock(&c->lock);
    if (rc != ONYX_OK) {
        onyxi_log(ONYX_LOG_ERROR, "%s", e.msg);
        return NULL;
    }
    return kk->data;
}

void onyxi_consts_get_stats(onyxi_consts *c, onyxi_consts_stats *st) {
    memset(st, 0, sizeof *st);
    if (!c) return;
    pthread_mutex_lock(&c->lock);
    st->linked = c->n;
    for (int k = 0; k < c->n; k++) {
        st->linked_bytes += c->consts[k].nbytes;
        if (!c->consts[k].resident) {
            st->released++;
            st->released_bytes += c->consts[k].nbytes;
        }
    }
    st->rereads = c->rereads;
    st->reread_bytes = c->reread_bytes;
    pthread_mutex_unlock(&c->lock);
}
