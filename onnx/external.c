/*
 * External tensor data (TensorProto.data_location = EXTERNAL): the bytes live in a file
 * next to the model, named by the "location" key, at "offset" for "length" bytes. The
 * location comes from an untrusted file, so it must stay inside the model's folder: no
 * absolute paths, no ".." components, no NUL bytes, and after open the resolved path must
 * still be inside realpath(model_dir) (which catches symlink escapes). "checksum" is ignored.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../runtime/alloc.h"
#include "pb.h"

/* Strict non-negative decimal (no sign, no spaces); 0 on junk or overflow. */
static int parse_u64(const char *s, uint64_t *out) {
    uint64_t v = 0;
    if (!s || !*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* ONYX_OK when location is a plain relative path without "..": both '/' and '\\' count as
 * separators so a model written on Windows cannot smuggle "..\\" past us either. */
static onyx_status check_location(const char *loc, const char *what, onyxi_err *e) {
    if (!loc || !loc[0])
        return onyxi_fail(e, ONYX_INVALID_MODEL, "%s: external data has no 'location'", what);
    if (onyxi_pb_string_has_nul(loc))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "%s: external data location '%.200s' contains a NUL byte", what, loc);
    if (loc[0] == '/' || loc[0] == '\\' ||
        (((loc[0] | 0x20) >= 'a' && (loc[0] | 0x20) <= 'z') && loc[1] == ':'))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "%s: external data location '%.200s' is absolute, must be relative to "
                          "the model's folder",
                          what, loc);
    for (const char *p = loc; *p;) {
        size_t n = strcspn(p, "/\\");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return onyxi_fail(e, ONYX_INVALID_MODEL,
                              "%s: external data location '%.200s' contains '..', must stay "
                              "inside the model's folder",
                              what, loc);
        p += n;
        if (*p) p++;
    }
    return ONYX_OK;
}

/* Reads exactly n bytes at off; ONYX_IO when the file is shorter or a read fails. */
static onyx_status read_at(int fd, void *buf, size_t n, off_t off, const char *what,
                           const char *loc, onyxi_err *e) {
    unsigned char *p = buf;
    while (n > 0) {
        size_t chunk = n > (size_t)1 << 30 ? (size_t)1 << 30 : n;
        ssize_t got = pread(fd, p, chunk, off);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            return onyxi_fail(e, ONYX_IO, "%s: cannot read external data file '%.200s': %s", what,
                              loc, got < 0 ? strerror(errno) : "unexpected end of file");
        p += got;
        n -= (size_t)got;
        off += got;
    }
    return ONYX_OK;
}

onyx_status onyxi_pb_external_read(const Onnx__TensorProto *tp, const char *model_dir,
                                   const char *what, size_t nbytes, void **data, onyxi_err *e) {
    return onyxi_pb_external_read_src(tp, model_dir, what, nbytes, data, NULL, NULL, e);
}

onyx_status onyxi_pb_external_read_src(const Onnx__TensorProto *tp, const char *model_dir,
                                       const char *what, size_t nbytes, void **data,
                                       onyxi_sources *sources, onyxi_src_loc *where, onyxi_err *e) {
    *data = NULL;
    if (where) where->file = -1;
    const char *loc = NULL, *offset_s = NULL, *length_s = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *kv = tp->external_data[i];
        if (!kv->key) continue;
        if (!strcmp(kv->key, "location"))
            loc = kv->value;
        else if (!strcmp(kv->key, "offset"))
            offset_s = kv->value;
        else if (!strcmp(kv->key, "length"))
            length_s = kv->value;
    }
    ONYXI_CHECK(check_location(loc, what, e));
    if (!model_dir)
        return onyxi_fail(e, ONYX_UNSUPPORTED,
                          "%s: data is in external file '%.200s', which needs the model's "
                          "folder: load the model from a file, not from memory",
                          what, loc);
    uint64_t offset = 0, length = 0;
    if (offset_s && !parse_u64(offset_s, &offset))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "%s: external data offset '%.40s' is not a non-negative integer", what,
                          offset_s);
    if (length_s && !parse_u64(length_s, &length))
        return onyxi_fail(e, ONYX_INVALID_MODEL,
                          "%s: external data length '%.40s' is not a non-negative integer", what,
                          length_s);

    const char *dir = model_dir[0] ? model_dir : ".";
    char path[PATH_MAX], root[PATH_MAX], resolved[PATH_MAX];
    int len = snprintf(path, sizeof path, "%s/%s", dir, loc);
    if (len < 0 || (size_t)len >= sizeof path)
        return onyxi_fail(e, ONYX_INVALID_MODEL, "%s: external data path '%.200s' is too long",
                          what, loc);
    if (!realpath(dir, root))
        return onyxi_fail(e, ONYX_IO, "%s: cannot resolve the model folder '%.200s': %s", what, dir,
                          strerror(errno));
    /* O_NONBLOCK: opening a FIFO planted in the folder must not hang the load */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return onyxi_fail(e, ONYX_IO, "%s: cannot open external data file '%.200s': %s", what, loc,
                          strerror(errno));
    onyx_status rc;
    struct stat st, st2;
    size_t rootlen = strlen(root);
    if (!realpath(path, resolved) || stat(resolved, &st2) != 0 || fstat(fd, &st) != 0) {
        rc = onyxi_fail(e, ONYX_IO, "%s: cannot resolve external data file '%.200s': %s", what, loc,
                        strerror(errno));
        goto done;
    }
    /* the opened file must be the one we checked (nothing swapped in between) and must lie
     * below the model folder once every symlink is resolved */
    if (st.st_dev != st2.st_dev || st.st_ino != st2.st_ino ||
        strncmp(resolved, root, rootlen) != 0 ||
        (resolved[rootlen] != '/' && !(rootlen == 1 && root[0] == '/'))) {
        rc = onyxi_fail(e, ONYX_INVALID_MODEL,
                        "%s: external data location '%.200s' resolves outside the model's folder",
                        what, loc);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = onyxi_fail(e, ONYX_INVALID_MODEL,
                        "%s: external data location '%.200s' is not a regular file", what, loc);
        goto done;
    }
    uint64_t fsize = (uint64_t)st.st_size;
    if (offset > fsize) {
        rc = onyxi_fail(e, ONYX_INVALID_MODEL,
                        "%s: external data offset %llu is past the end of '%.200s' (%llu bytes)",
                        what, (unsigned long long)offset, loc, (unsigned long long)fsize);
        goto done;
    }
    if (!length_s) length = fsize - offset;
    if (length > fsize - offset) {
        rc = onyxi_fail(e, ONYX_INVALID_MODEL,
                        "%s: external data offset %llu + length %llu is past the end of '%.200s' "
                        "(%llu bytes)",
                        what, (unsigned long long)offset, (unsigned long long)length, loc,
                        (unsigned long long)fsize);
        goto done;
    }
    if (length != nbytes) {
        rc = onyxi_fail(e, ONYX_INVALID_MODEL,
                        "%s: external data in '%.200s' has %llu bytes, the tensor needs %zu", what,
                        loc, (unsigned long long)length, nbytes);
        goto done;
    }
    void *buf = onyxi_malloc(nbytes ? nbytes : 1);
    if (!buf) {
        rc = onyxi_fail(e, ONYX_NOMEM, "%s: out of memory for %zu bytes of external data", what,
                        nbytes);
        goto done;
    }
    rc = read_at(fd, buf, nbytes, (off_t)offset, what, loc, e);
    if (rc != ONYX_OK) {
        onyxi_free(buf);
        goto done;
    }
    *data = buf;
    if (sources) {
        /* the model keeps the file open so that it can read these bytes again after
         * releasing them (runtime/consts.c) */
        int index;
        rc = onyxi_sources_add_file(sources, fd, &index, e); /* takes fd */
        if (rc != ONYX_OK) {
            onyxi_free(buf);
            *data = NULL;
            return rc;
        }
        if (where) *where = (onyxi_src_loc){index, offset, buf};
        return ONYX_OK;
    }
done:
    close(fd);
    return rc;
}
