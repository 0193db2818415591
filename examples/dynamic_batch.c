/* Run one model at several batch sizes. The model declares its input as x [batch, 4] with a
 * symbolic "batch" dim: bind any batch size and onyx re-plans its memory by itself on the
 * first run with a new shape (and reuses the plan while the shape stays the same).
 * Build: cc dynamic_batch.c -lonyx    Run: ./dynamic_batch examples/models/tiny_mlp.onnx */
#include <math.h>
#include <stdio.h>

#include "onyx.h"

#define FEATURES 4
#define CLASSES 3
#define MAX_BATCH 8

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s tiny_mlp.onnx\n", argv[0]);
        return 2;
    }
    onyx_model *model = NULL;
    onyx_session *session = NULL;
    int status = 1;
    if (onyx_model_load_file(argv[1], &model) != ONYX_OK) {
        fprintf(stderr, "load failed: %s\n", onyx_model_errmsg(model));
        goto out;
    }
    /* the declaration shows the symbolic dim: dim -1, with its name */
    const onyx_tensor *decl = onyx_model_input(model, 0);
    printf("input '%s': [%s, %lld]\n", onyx_tensor_name(decl), onyx_tensor_dim_param(decl, 0),
           (long long)onyx_tensor_dim(decl, 1));
    if (onyx_session_create(model, NULL, &session) != ONYX_OK) {
        fprintf(stderr, "session failed: %s\n", onyx_session_errmsg(session));
        goto out;
    }

    /* Row r of the input is the same at every batch size, so its result must be too. */
    float x[MAX_BATCH][FEATURES], first[MAX_BATCH][CLASSES];
    for (int r = 0; r < MAX_BATCH; r++)
        for (int c = 0; c < FEATURES; c++) x[r][c] = 0.25f * (float)(r + 1) * (float)(c - 1);

    const int batches[] = {MAX_BATCH, 1, 3, MAX_BATCH};
    for (int b = 0; b < 4; b++) {
        int64_t dims[2] = {batches[b], FEATURES};
        if (onyx_session_bind_input(session, 0, ONYX_DTYPE_FLOAT32, dims, 2, x,
                                    (size_t)batches[b] * FEATURES * sizeof(float)) != ONYX_OK ||
            onyx_session_run(session) != ONYX_OK) {
            fprintf(stderr, "batch %d failed: %s\n", batches[b], onyx_session_errmsg(session));
            goto out;
        }
        /* the output view is valid until the next bind/run; read it now */
        const onyx_tensor *y = onyx_session_output(session, 0);
        const float *p = onyx_tensor_data(y);
        for (int r = 0; r < batches[b]; r++) {
            float sum = 0;
            for (int k = 0; k < CLASSES; k++) {
                sum += p[r * CLASSES + k];
                if (b == 0) first[r][k] = p[r * CLASSES + k];
                else if (fabsf(first[r][k] - p[r * CLASSES + k]) > 1e-6f) {
                    fprintf(stderr, "batch %d row %d differs from the batch-%d run\n", batches[b],
                            r, MAX_BATCH);
                    goto out;
                }
            }
            if (fabsf(sum - 1.0f) > 1e-5f) {
                fprintf(stderr, "row %d: probabilities sum to %g\n", r, sum);
                goto out;
            }
        }
        printf("batch %d: output [%lld, %lld], arena %zu bytes, row 0 = %.4f %.4f %.4f\n",
               batches[b], (long long)onyx_tensor_dim(y, 0), (long long)onyx_tensor_dim(y, 1),
               onyx_session_arena_bytes(session), p[0], p[1], p[2]);
    }
    printf("every batch size gives the same rows\n");
    status = 0;
out:
    onyx_session_free(session); /* both accept NULL and failed handles */
    onyx_model_free(model);
    return status;
}
