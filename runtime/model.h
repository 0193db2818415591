/*
 * The model handle: a validated, ordered graph shared read-only by its sessions, kept alive
 * by a reference count (the caller's reference plus one per session).
 */
#ifndef ONYXI_MODEL_H
#define ONYXI_MODEL_H

#include <stdatomic.h>

#include "error.h"
#include "ir.h"

#define ONYXI_MODEL_MAGIC 0x4f4e584du /* "ONXM" */

struct onyx_model {
    uint32_t magic;
    atomic_int refs;
    onyx_status errcode; /* ONYX_OK, or why the load failed (then graph is NULL) */
    onyxi_err err;
    onyxi_graph *graph;   /* owned; NULL in the failed state */
    onyx_tensor *inputs;  /* owned array of views of the graph inputs' declarations */
    onyx_tensor *outputs; /* owned array of views of the graph outputs' declarations */
    struct onyxi_weight_cache *weights; /* owned: packed weights shared by the sessions */
    struct onyxi_select_cache *select;  /* owned: measured kernel choices (select.h) */
    struct onyxi_consts *consts; /* owned: releasable plain weights (consts.h); NULL if none */
    int n_initializers;
    int *initializers; /* owned: value indices of initializers, in value-table order */
};

/* Loads bytes into a new model (never NULL unless memory ran out). model_dir: folder for
 * external data, or NULL. The returned status is also in m->errcode. */
onyx_status onyxi_model_load(const void *bytes, size_t nbytes, const char *model_dir,
                             const onyxi_load_limits *limits, onyx_model **out);
/* Loads the file at path like onyxi_model_load (model_dir: its folder). The file is mapped,
 * not read into memory, and stays open for the model's life: weights every kernel packed
 * are released and read back from it when needed (consts.h). A file that cannot be opened
 * gives a failed model (ONYX_IO). */
onyx_status onyxi_model_load_file(const char *path, const char *model_dir,
                                  const onyxi_load_limits *limits, onyx_model **out);
/* A model in the failed state carrying code and message (NULL when memory ran out). */
onyx_model *onyxi_model_failed(onyx_status code, const onyxi_err *e);

/* Takes / drops a reference; the last drop frees the model. */
void onyxi_model_retain(onyx_model *m);
void onyxi_model_release(onyx_model *m);

/* 1 when m is a live model handle (any state). */
int onyxi_model_valid(const onyx_model *m);

#endif
