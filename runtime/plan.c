/*
 * Arena placement (see plan.h). Largest-first best-fit is the strategy TFLite's arena
 * planner uses: big tensors claim space first, small ones fill the holes between them.
 * O(n^2) in the number of tensors, which is fine for graphs of thousands of nodes.
 */
#include <stdlib.h>

#include "alloc.h"
#include "plan.h"

/* The sort keys travel with the index: qsort has no context argument in C11, and a global
 * would race when sessions plan on several threads. */
typedef struct sort_key {
    size_t size;
    int start;
    int index;
} sort_key;

static int by_size_desc(const void *a, const void *b) {
    const sort_key *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

static int by_offset(const void *a, const void *b) {
    const size_t *x = a, *y = b; /* pairs (offset, end) */
    return x[0] < y[0] ? -1 : (x[0] > y[0]);
}

static int overlap(const onyxi_plan_item *a, const onyxi_plan_item *b) {
    return a->start <= b->end && b->start <= a->end;
}

onyx_status onyxi_plan_place(const onyxi_plan_item *items, int n, size_t align, size_t *offsets,
                             size_t *total, onyxi_err *e) {
    *total = 0;
    if (n <= 0) return ONYX_OK;
    sort_key *order = onyxi_malloc((size_t)n * sizeof(sort_key));
    int *placed = onyxi_malloc((size_t)n * sizeof(int));
    size_t *spans = onyxi_malloc((size_t)n * 2 * sizeof(size_t)); /* (offset, offset+size) */
    onyx_status rc = ONYX_OK;
    if (!order || !placed || !spans) {
        rc = onyxi_fail(e, ONYX_NOMEM, "out of memory planning the arena");
        goto done;
    }
    for (int i = 0; i < n; i++) order[i] = (sort_key){items[i].size, items[i].start, i};
    qsort(order, (size_t)n, sizeof(sort_key), by_size_desc);

    int n_placed = 0;
    for (int oi = 0; oi < n; oi++) {
        int i = order[oi].index;
        size_t size;
        if (!onyxi_add_size(items[i].size, align - 1, &size)) {
            rc = onyxi_fail(e, ONYX_NOMEM, "tensor of %zu bytes is too large", items[i].size);
            goto done;
        }
        size &= ~(align - 1);
        if (size == 0) {
            offsets[i] = 0;
            continue;
        }
        /* spans of placed items alive at the same time, sorted by offset */
        int k = 0;
        for (int p = 0; p < n_placed; p++) {
            int j = placed[p];
            if (!overlap(&items[i], &items[j])) continue;
            spans[2 * k] = offsets[j];
            spans[2 * k + 1] = offsets[j] + ((items[j].size + align - 1) & ~(align - 1));
            k++;
        }
        qsort(spans, (size_t)k, 2 * sizeof(size_t), by_offset);
        size_t best = SIZE_MAX, best_gap = SIZE_MAX, cursor = 0;
        for (int s = 0; s < k; s++) {
            if (spans[2 * s] > cursor && spans[2 * s] - cursor >= size &&
                spans[2 * s] - cursor < best_gap) {
                best_gap = spans[2 * s] - cursor;
                best = cursor;
            }
            if (spans[2 * s + 1] > cursor) cursor = spans[2 * s + 1];
        }
        if (best == SIZE_MAX) best = cursor; /* no hole fits: after everything alive */
        size_t end;
        if (!onyxi_add_size(best, size, &end)) {
            rc = onyxi_fail(e, ONYX_NOMEM, "the arena size overflows");
            goto done;
        }
        offsets[i] = best;
        if (end > *total) *total = end;
        placed[n_placed++] = i;
    }
done:
    onyxi_free(order);
    onyxi_free(placed);
    onyxi_free(spans);
    return rc;
}
