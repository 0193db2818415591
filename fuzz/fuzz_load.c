/*
 * libFuzzer target: parse and validate a model from arbitrary bytes. Every input must end in
 * ONYX_OK or a clean error status, with no crash, hang, leak or out-of-bounds access.
 */
#include <stddef.h>
#include <stdint.h>

#include "onyx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    onyx_model *m = NULL;
    onyx_status rc = onyx_model_load_memory(data, size, &m);
    /* a loaded model's views must be readable */
    if (rc == ONYX_OK) {
        for (int i = 0; i < onyx_model_input_count(m); i++) {
            const onyx_tensor *t = onyx_model_input(m, i);
            for (int d = 0; d < onyx_tensor_rank(t); d++) (void)onyx_tensor_dim(t, d);
        }
        for (int i = 0; i < onyx_model_node_count(m); i++) (void)onyx_model_node_op_type(m, i);
    } else {
        (void)onyx_model_errmsg(m);
    }
    onyx_model_free(m);
    return 0;
}
