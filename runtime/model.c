/*
 * Model loading pipeline: bytes -> onnx/ loader (parse + validate) -> deterministic order
 * (cycle check) -> op resolution (registry + attribute checks) -> graph passes (folding,
 * fusion: passes.h) -> declaration views. A file is mapped, not copied, and stays open so
 * that large weights can be released and read again (consts.h).
 * A failed load still returns a handle that carries the message (SQLite's rule).
 */
#define _XOPEN_SOURCE 700 /* pread, mmap */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../onnx/loader.h"
#include "alloc.h"
#include "consts.h"
#include "model.h"
#include "passes.h"
#include "select.h"
#include "weights.h"

int onyxi_model_valid(const onyx_model *m) { return m && m->magic == ONYXI_MODEL_MAGIC; }

void onyxi_model_retain(onyx_model *m) { atomic_fetch_add(&m->refs, 1); }

void onyxi_model_release(onyx_model *m) {
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
    onyxi_graph_free(m->graph);
    onyxi_weights_free(m->weights);
    onyxi_consts_free(m->consts);
    onyxi_select_free(m->select);
    onyxi_free(m->inputs);
    onyxi_free(m->outputs);
    onyxi_free(m->initializers);
    m->magic = 0;
    onyxi_free(m);
}

static onyx_status build_views(onyx_model *m, onyxi_err *e) {
    const onyxi_graph *g = m->graph;
    m->inputs = onyxi_calloc((size_t)g->n_inputs + 1, sizeof(onyx_tensor));
    m->outputs = onyxi_calloc((size_t)g->n_outputs + 1, sizeof(onyx_tensor));
    int n_init = 0;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].flags & ONYXI_VALUE_INITIALIZER) n_init++;
    m->initializers = onyxi_calloc((size_t)n_init + 1, sizeof(int));
    if (!m->inputs || !m->outputs || !m->initializers)
        return onyxi_fail(e, ONYX_NOMEM, "out of memory building the model's views");
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].flags & ONYXI_VALUE_INITIALIZER) m->initializers[m->n_initializers++] = v;
    for (int i = 0; i < g->n_inputs; i++) {
        m->inputs[i] = g->values[g->inputs[i]].info;
        m->inputs[i].name = g->values[g->inputs[i]].name;
        m->inputs[i].data = NULL;
        m->inputs[i].owns_data = m->inputs[i].owns_name = 0;
        m->inputs[i].dim_params = g->values[g->inputs[i]].dim_params;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        m->outputs[i] = g->values[g->outputs[i]].info;
        m->outputs[i].name = g->values[g->outputs[i]].name;
        m->outputs[i].data = NULL;
        m->outputs[i].owns_data = m->outputs[i].owns_name = 0;
        m->outputs[i].dim_params = g->values[g->outputs[i]].dim_params;
    }
    return ONYX_OK;
}

onyx_model *onyxi_model_failed(onyx_status code, const onyxi_err *e) {
    onyx_model *m = onyxi_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->magic = ONYXI_MODEL_MAGIC;
    atomic_init(&m->refs, 1);
    m->err = *e;
    m->errcode = code;
    return m;
}

/* Loads bytes (the file model_fd, entry model_file of src, when >= 0) into a new *out. src
 * (NULL for memory) is taken over by the model's constants or cleared. */
static onyx_status load(const void *bytes, size_t nbytes, int model_fd, int model_file,
                        onyxi_sources *src, const char *model_dir, const onyxi_load_limits *limits,
                        onyx_model **out) {
    onyx_model *m = onyxi_calloc(1, sizeof *m);
    *out = m;
    if (!m) {
        onyxi_sources_clear(src);
        return ONYX_NOMEM;
    }
    m->magic = ONYXI_MODEL_MAGIC;
    atomic_init(&m->refs, 1);
    onyx_status rc = onyxi_onnx_load_ex(bytes, nbytes, model_fd, model_file, model_dir, limits, src,
                                        &m->graph, &m->err);
    if (rc == ONYX_OK) rc = onyxi_graph_order(m->graph, &m->err);
    if (rc == ONYX_OK) rc = onyxi_graph_resolve_ops(m->graph, limits->allow_unsupported, &m->err);
    if (rc == ONYX_OK) rc = onyxi_graph_passes(m->graph, limits->passes_off, &m->err);
    if (rc == ONYX_OK) rc = build_views(m, &m->err);
    if (rc == ONYX_OK && !(m->weights = onyxi_weights_create()))
        rc = onyxi_fail(&m->err, ONYX_NOMEM, "out of memory creating the weight cache");
    if (rc == ONYX_OK && !(m->select = onyxi_select_create()))
        rc = onyxi_fail(&m->err, ONYX_NOMEM, "out of memory creating the kernel-choice cache");
    /* the weights read from files become releasable once every kernel packed them */
    if (rc == ONYX_OK && src) rc = onyxi_consts_create(m->graph, src, &m->consts, &m->err);
    if (rc == ONYX_OK) onyxi_weights_set_consts(m->weights, m->consts);
    onyxi_sources_clear(src);
    if (rc != ONYX_OK) {
        if (m->err.code == ONYX_OK) onyxi_fail(&m->err, rc, "%s", onyx_status_str(rc));
        onyxi_consts_free(m->consts);
        m->consts = NULL;
        onyxi_graph_free(m->graph);
        m->graph = NULL;
        onyxi_free(m->inputs);
        onyxi_free(m->outputs);
        onyxi_free(m->initializers);
        m->inputs = m->outputs = NULL;
        m->initializers = NULL;
        m->n_initializers = 0;
    }
    m->errcode = rc;
    return rc;
}

onyx_status onyxi_model_load(const void *bytes, size_t nbytes, const char *model_dir,
                             const onyxi_load_limits *limits, onyx_model **out) {
    return load(bytes, nbytes, -1, -1, NULL, model_dir, limits, out);
}

/* The whole file into a new onyxi_malloc block (when it cannot be mapped). */
static onyx_status read_whole(int fd, size_t size, const char *path, void **data, onyxi_err *e) {
    unsigned char *p = onyxi_malloc(size ? size : 1);
    if (!p) return onyxi_fail(e, ONYX_NOMEM, "out of memory reading '%s'", path);
    size_t done = 0;
    while (done < size) {
        size_t chunk = size - done > (size_t)1 << 30 ? (size_t)1 << 30 : size - done;
        ssize_t got = pread(fd, p + done, chunk, (off_t)done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            onyxi_free(p);
            return onyxi_fail(e, ONYX_IO, "cannot read '%s'", path);
        }
        done += (size_t)got;
    }
    *data = p;
    return ONYX_OK;
}

onyx_status onyxi_model_load_file(const char *path, const char *model_dir,
                                  const onyxi_load_limits *limits, onyx_model **out) {
    onyxi_err e;
    onyxi_err_clear(&e);
    onyxi_sources src = {0};
    void *heap = NULL, *map = MAP_FAILED;
    size_t size = 0;
    int file = -1;
    onyx_status rc = ONYX_OK;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = onyxi_fail(&e, ONYX_IO, "cannot open '%s'", path);
    } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0) {
        close(fd);
        rc = onyxi_fail(&e, ONYX_IO, "'%s' is not a regular file", path);
    } else if ((uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        rc = onyxi_fail(&e, ONYX_UNSUPPORTED, "'%s' is too large", path);
    } else {
        size = (size_t)st.st_size;
        rc = onyxi_sources_add_file(&src, fd, &file, &e); /* src owns fd from here */
    }
    if (rc == ONYX_OK && size) {
        /* mapped, so the bytes are not copied: the loader reads the structure from the
         * mapping and the weights straight into the graph with pread */
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) rc = read_whole(fd, size, path, &heap, &e);
    }
    if (rc != ONYX_OK) {
        onyxi_sources_clear(&src);
        *out = onyxi_model_failed(rc, &e);
        return rc;
    }
    const void *bytes = map != MAP_FAILED ? map : heap ? heap : "";
    rc = load(bytes, size, fd, file, &src, model_dir, limits, out);
    if (map != MAP_FAILED) munmap(map, size);
    onyxi_free(heap);
    return rc;
}
