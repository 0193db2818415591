/* Load a model, fill every float input with 0.5 (symbolic dims taken as 1), run it and
 * print each output's name and shape. Build: cc run_model.c -lonyx */
#include <stdio.h>
#include <stdlib.h>

#include "onyx.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.onnx\n", argv[0]);
        return 2;
    }
    onyx_model *model = NULL;
    if (onyx_model_load_file(argv[1], &model) != ONYX_OK) {
        fprintf(stderr, "load failed: %s\n", onyx_model_errmsg(model));
        onyx_model_free(model); /* a failed handle is freed too */
        return 1;
    }
    onyx_session *session = NULL;
    if (onyx_session_create(model, NULL, &session) != ONYX_OK) {
        fprintf(stderr, "session failed: %s\n", onyx_session_errmsg(session));
        onyx_session_free(session);
        onyx_model_free(model);
        return 1;
    }
    int n_inputs = onyx_model_input_count(model);
    float *buffers[64] = {0};
    int status = 0;
    for (int i = 0; i < n_inputs && i < 64 && status == 0; i++) {
        const onyx_tensor *decl = onyx_model_input(model, i);
        int64_t dims[8], count = 1;
        int rank = onyx_tensor_rank(decl);
        for (int d = 0; d < rank && d < 8; d++) {
            dims[d] = onyx_tensor_dim(decl, d) < 0 ? 1 : onyx_tensor_dim(decl, d);
            count *= dims[d];
        }
        buffers[i] = malloc((size_t)count * sizeof(float) + 1);
        for (int64_t k = 0; k < count; k++) buffers[i][k] = 0.5f;
        if (onyx_session_bind_input(session, i, ONYX_DTYPE_FLOAT32, dims, rank, buffers[i],
                                    (size_t)count * sizeof(float)) != ONYX_OK)
            status = 1;
    }
    if (status == 0 && onyx_session_run(session) == ONYX_OK) {
        for (int i = 0; i < onyx_model_output_count(model); i++) {
            const onyx_tensor *y = onyx_session_output(session, i);
            printf("%s: [", onyx_tensor_name(y));
            for (int d = 0; d < onyx_tensor_rank(y); d++)
                printf("%s%lld", d ? ", " : "", (long long)onyx_tensor_dim(y, d));
            printf("]\n");
        }
    } else {
        fprintf(stderr, "run failed: %s\n", onyx_session_errmsg(session));
        status = 1;
    }
    for (int i = 0; i < 64; i++) free(buffers[i]);
    onyx_session_free(session);
    onyx_model_free(model);
    return status;
}
