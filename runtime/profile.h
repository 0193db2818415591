/*
 * The per-session profiler: step timings in memory reserved at plan time (a ring of the
 * last ONYX_PROFILE_MAX_RUNS runs plus per-step totals), so that a profiled run allocates
 * nothing, and the Chrome-trace writer behind onyx_session_profile_write.
 */
#ifndef ONYXI_PROFILE_H
#define ONYXI_PROFILE_H

#include <stdint.h>

#include "error.h"

typedef struct onyxi_profile {
    int n_steps;
    int slot;          /* ring slot of the run in progress */
    int64_t runs;      /* completed runs since the last plan or reset */
    int64_t *total_ns; /* per step: summed over completed runs (inside the block below) */
    int64_t *step_ev;  /* [slot][step][2]: start, duration in ns (inside the block) */
    int64_t *run_ev;   /* [slot][3]: run number, start, duration in ns (inside the block) */
} onyxi_profile;

/* A profile for n_steps steps in one allocation; NULL when memory runs out. */
onyxi_profile *onyxi_profile_create(int n_steps);
void onyxi_profile_free(onyxi_profile *p); /* NULL is a no-op */
void onyxi_profile_reset(onyxi_profile *p);

/* Monotonic clock in nanoseconds. */
int64_t onyxi_now_ns(void);

/* The executor's hooks: a run starts, step i ran from t0 to t1, the run ended well. */
static inline void onyxi_profile_run_begin(onyxi_profile *p) {
    p->slot = (int)(p->runs % ONYX_PROFILE_MAX_RUNS);
}
static inline void onyxi_profile_step(onyxi_profile *p, int i, int64_t t0, int64_t t1) {
    int64_t *e = p->step_ev + ((size_t)p->slot * (size_t)p->n_steps + (size_t)i) * 2;
    e[0] = t0;
    e[1] = t1 - t0;
}
void onyxi_profile_run_end(onyxi_profile *p, int64_t t0, int64_t t1);

struct onyx_session;
/* Writes s's timeline as a Chrome trace to path; errors go to s->err. */
onyx_status onyxi_profile_write(struct onyx_session *s, const char *path);

#endif
