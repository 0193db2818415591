/*
 * protobuf-c allocator on top of onyxi_malloc. Each block carries a 16-byte header with
 * its size: it keeps protobuf-c's 16-byte alignment, and it lets the loader notice strings
 * that protobuf-c cut at an embedded NUL (their block is longer than strlen + 1).
 */
#include <string.h>

#include "../runtime/alloc.h"
#include "pb.h"

#define HEADER 16

static void *pb_alloc(void *data, size_t size) {
    onyxi_pb_allocator *pa = data;
    size_t total;
    unsigned char *p = NULL;
    if (onyxi_add_size(size, HEADER, &total)) p = onyxi_malloc(total);
    if (!p) {
        pa->failed = 1;
        return NULL;
    }
    memcpy(p, &size, sizeof size);
    return p + HEADER;
}

static void pb_free(void *data, void *ptr) {
    (void)data;
    if (ptr) onyxi_free((unsigned char *)ptr - HEADER);
}

void onyxi_pb_allocator_init(onyxi_pb_allocator *pa) {
    pa->base.alloc = pb_alloc;
    pa->base.free = pb_free;
    pa->base.allocator_data = pa;
    pa->failed = 0;
}

int onyxi_pb_string_has_nul(const char *s) {
    if (!s) return 0;
    size_t size;
    memcpy(&size, s - HEADER, sizeof size);
    /* protobuf-c allocates wire length + 1 for a string and NUL-terminates it */
    return strlen(s) + 1 != size;
}
