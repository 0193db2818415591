/*
 * libFuzzer target: load a model from arbitrary bytes, create a session (reference kernels,
 * one thread, a small memory limit), bind small inputs (symbolic dims 1..3, contents derived
 * from the input bytes) and run. Shape errors, unsupported ops and the memory limit must all
 * come back as status codes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onyx.h"

#define MAX_INPUTS 8
#define MAX_ELEMENTS 4096 /* per input: keeps runs fast */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    onyx_model *m = NULL;
    onyx_session *s = NULL;
    onyx_options *o = NULL;
    void *buffers[MAX_INPUTS] = {0};
    if (onyx_model_load_memory(data, size, &m) != ONYX_OK) goto done;
    if (onyx_options_create(&o) != ONYX_OK) goto done;
    onyx_options_set_num_threads(o, 1);
    onyx_options_set_backend(o, ONYX_BACKEND_REFERENCE);
#ifdef ONYX_FUZZ_MEMORY_LIMIT
    onyx_options_set_memory_limit(o, ONYX_FUZZ_MEMORY_LIMIT);
#endif
    if (onyx_session_create(m, o, &s) != ONYX_OK) goto done;
    int n = onyx_model_input_count(m);
    if (n > MAX_INPUTS) goto done;
    unsigned seed = (unsigned)size;
    for (int i = 0; i < n; i++) {
        const onyx_tensor *decl = onyx_model_input(m, i);
        int rank = onyx_tensor_rank(decl);
        onyx_dtype dt = onyx_tensor_dtype(decl);
        size_t esize = onyx_dtype_size(dt);
        if (rank < 0 || rank > 8 || esize == 0) goto done;
        int64_t dims[8], count = 1;
        for (int d = 0; d < rank; d++) {
            int64_t v = onyx_tensor_dim(decl, d);
            dims[d] = v >= 0 ? v : 1 + (int64_t)(seed++ % 3);
            if (dims[d] > MAX_ELEMENTS || (dims[d] && count > MAX_ELEMENTS / dims[d])) goto done;
            count *= dims[d];
        }
        size_t nbytes = (size_t)count * esize;
        buffers[i] = malloc(nbytes ? nbytes : 1);
        if (!buffers[i]) goto done;
        unsigned char *p = buffers[i];
        /* small integers in every dtype: valid indices and sizes as often as not */
        for (size_t k = 0; k < nbytes; k++) p[k] = size ? data[(k + i) % size] & 0x03 : 0;
        if (dt == ONYX_DTYPE_FLOAT32)
            for (int64_t k = 0; k < count; k++) ((float *)p)[k] = (float)(p[4 * k] & 3) - 1.5f;
        if (onyx_session_bind_input(s, i, dt, dims, rank, p, nbytes) != ONYX_OK) goto done;
    }
    if (onyx_session_run(s) == ONYX_OK) {
        for (int i = 0; i < onyx_model_output_count(m); i++) {
            const onyx_tensor *y = onyx_session_output(s, i);
            const unsigned char *p = onyx_tensor_data(y);
            unsigned sum = 0;
            for (size_t k = 0; k < onyx_tensor_nbytes(y); k++) sum += p[k];
            (void)sum;
        }
    } else {
        (void)onyx_session_errmsg(s);
    }
done:
    for (int i = 0; i < MAX_INPUTS; i++) free(buffers[i]);
    onyx_session_free(s);
    onyx_options_free(o);
    onyx_model_free(m);
    return 0;
}
