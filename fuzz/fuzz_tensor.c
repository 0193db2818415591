/*
 * libFuzzer target: read a TensorProto (.pb) from arbitrary bytes; a tensor that loads must
 * have consistent dims, byte size and data.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "onyx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    onyx_tensor *t = NULL;
    char err[256];
    if (onyx_tensor_load_pb_memory(data, size, &t, err, sizeof err) == ONYX_OK) {
        int64_t count = onyx_tensor_count(t);
        size_t esize = onyx_dtype_size(onyx_tensor_dtype(t));
        if (count < 0 || (size_t)count * esize != onyx_tensor_nbytes(t)) abort();
        /* touch every byte: ASan catches a buffer shorter than nbytes */
        const unsigned char *p = onyx_tensor_data(t);
        unsigned sum = 0;
        for (size_t i = 0; i < onyx_tensor_nbytes(t); i++) sum += p[i];
        (void)sum;
    }
    onyx_tensor_free(t);
    return 0;
}
