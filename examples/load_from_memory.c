/* Load a model from a buffer instead of a file: for models embedded in the program, read
 * from an archive, or received over the network. onyx copies what it needs, so the buffer
 * may be freed as soon as onyx_model_load_memory returns. A damaged buffer gives a status
 * and a message, never a crash.
 * Build: cc load_from_memory.c -lonyx    Run: ./load_from_memory MODEL.onnx */
#include <stdio.h>
#include <stdlib.h>

#include "onyx.h"

/* Reads a whole file into a malloc'd buffer (here the "archive" is just a file). */
static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long size;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)size)) != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    if (buf) *n = (size_t)size;
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.onnx\n", argv[0]);
        return 2;
    }
    size_t n = 0;
    unsigned char *bytes = read_all(argv[1], &n);
    if (!bytes) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }

    /* A truncated buffer: the load fails with a status and a message. The failed handle
     * must still be freed. */
    onyx_model *model = NULL;
    onyx_status st = onyx_model_load_memory(bytes, n / 2, &model);
    printf("half of the bytes: %s (%s)\n", onyx_status_str(st), onyx_model_errmsg(model));
    onyx_model_free(model);

    st = onyx_model_load_memory(bytes, n, &model);
    free(bytes); /* fine: the model does not point into the buffer */
    if (st != ONYX_OK) {
        fprintf(stderr, "load failed: %s\n", onyx_model_errmsg(model));
        onyx_model_free(model);
        return 1;
    }
    printf("loaded %zu bytes from memory: %d nodes, %d inputs, %d outputs\n", n,
           onyx_model_node_count(model), onyx_model_input_count(model),
           onyx_model_output_count(model));

    /* Run it once on zeros (symbolic dims taken as 1) to show the model is complete. */
    onyx_session *session = NULL;
    float *zeros[16] = {0};
    int status = 1, n_in = onyx_model_input_count(model);
    if (onyx_session_create(model, NULL, &session) != ONYX_OK || n_in > 16) goto out;
    for (int i = 0; i < n_in; i++) {
        const onyx_tensor *decl = onyx_model_input(model, i);
        int64_t dims[8];
        size_t count = 1;
        for (int d = 0; d < onyx_tensor_rank(decl) && d < 8; d++) {
            dims[d] = onyx_tensor_dim(decl, d) < 0 ? 1 : onyx_tensor_dim(decl, d);
            count *= (size_t)dims[d];
        }
        zeros[i] = calloc(count + 1, sizeof(float));
        if (!zeros[i] || onyx_session_bind_input(session, i, ONYX_DTYPE_FLOAT32, dims,
                                                 onyx_tensor_rank(decl), zeros[i],
                                                 count * sizeof(float)) != ONYX_OK)
            goto out;
    }
    if (onyx_session_run(session) != ONYX_OK) goto out;
    for (int i = 0; i < onyx_model_output_count(model); i++) {
        const onyx_tensor *y = onyx_session_output(session, i);
        printf("output '%s': %lld values\n", onyx_tensor_name(y),
               (long long)onyx_tensor_count(y));
    }
    status = 0;
out:
    if (status) fprintf(stderr, "failed: %s\n", onyx_session_errmsg(session));
    for (int i = 0; i < 16; i++) free(zeros[i]);
    onyx_session_free(session);
    onyx_model_free(model);
    return status;
}
