/*
 * The files a model's initializer bytes were read from (loader.h: onyxi_sources). The loader
 * records them so that the model can release the plain bytes of weights every kernel has
 * packed and read them again from the same open file when a later plan needs them
 * (runtime/consts.c). A file is known by its device and inode; its size and times at load
 * tell whether it changed since.
 */
#define _XOPEN_SOURCE 700

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../runtime/alloc.h"
#include "loader.h"

static void identity(const struct stat *st, onyxi_src_file *f) {
    f->size = (uint64_t)st->st_size;
    f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    f->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
    f->dev = (uint64_t)st->st_dev;
    f->ino = (uint64_t)st->st_ino;
}

onyx_status onyxi_sources_add_file(onyxi_sources *s, int fd, int *index, onyxi_err *e) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return onyxi_fail(e, ONYX_IO, "cannot stat a model data file");
    }
    onyxi_src_file f;
    identity(&st, &f);
    f.fd = fd;
    for (int i = 0; i < s->n_files; i++)
        if (s->files[i].dev == f.dev && s->files[i].ino == f.ino) {
            close(fd); /* one descriptor per file is enough */
            *index = i;
            return ONYX_OK;
        }
    if (s->n_files == s->cap_files) {
        int cap = s->cap_files ? 2 * s->cap_files : 4;
        onyxi_src_file *grown = onyxi_realloc(s->files, (size_t)cap * sizeof *grown);
        if (!grown) {
            close(fd);
            return onyxi_fail(e, ONYX_NOMEM, "out of memory loading the model");
        }
        s->files = grown;
        s->cap_files = cap;
    }
    s->files[s->n_files] = f;
    *index = s->n_files++;
    return ONYX_OK;
}

int onyxi_src_file_changed(const onyxi_src_file *f) {
    struct stat st;
    if (fstat(f->fd, &st) != 0) return 1;
    onyxi_src_file now;
    identity(&st, &now);
    return now.size != f->size || now.mtime_ns != f->mtime_ns || now.ctime_ns != f->ctime_ns;
}

void onyxi_sources_clear(onyxi_sources *s) {
    if (!s) return;
    for (int i = 0; i < s->n_files; i++)
        if (s->files[i].fd >= 0) close(s->files[i].fd);
    onyxi_free(s->files);
    onyxi_free(s->at);
    memset(s, 0, sizeof *s);
}
