/* Classifies handwritten digits with a small CNN trained in PyTorch (models/digits, made by
 * models/make_zoo.py from scikit-learn's 8x8 digits) and checks onyx against PyTorch: prints
 * each image's true label, onyx's prediction and PyTorch's, then both accuracies. Exits 1 if
 * onyx and PyTorch disagree on any image. Uses only the public API (onyx.h).
 * Build: cc classify_digits.c -lonyx    Run: ./classify_digits models/digits */
#include <stdio.h>
#include <string.h>

#include "onyx.h"

/* Loads DIR/NAME (a serialized TensorProto) into *out; prints why on failure. */
static int load_pb(const char *dir, const char *name, onyx_tensor **out) {
    char path[4096], err[256];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
        fprintf(stderr, "path too long: %s/%s\n", dir, name);
        return -1;
    }
    if (onyx_tensor_load_pb(path, out, err, sizeof err) != ONYX_OK) {
        fprintf(stderr, "cannot read %s: %s\n", path, err);
        return -1;
    }
    return 0;
}

/* Index of the largest of n scores (the first one on ties, as torch.argmax). */
static int argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL_DIR (e.g. models/digits)\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    onyx_tensor *images = NULL, *labels = NULL, *torch_pred = NULL;
    onyx_model *model = NULL;
    onyx_session *session = NULL;
    int status = 1;

    /* images [N,1,8,8] float32 in [0,1]; labels and PyTorch's predictions [N] int64 */
    if (load_pb(dir, "images.pb", &images) || load_pb(dir, "labels.pb", &labels) ||
        load_pb(dir, "torch_pred.pb", &torch_pred))
        goto done;
    int64_t n = onyx_tensor_dim(images, 0);
    if (onyx_tensor_dtype(images) != ONYX_DTYPE_FLOAT32 || onyx_tensor_rank(images) != 4 ||
        onyx_tensor_dtype(labels) != ONYX_DTYPE_INT64 || onyx_tensor_count(labels) != n ||
        onyx_tensor_dtype(torch_pred) != ONYX_DTYPE_INT64 || onyx_tensor_count(torch_pred) != n) {
        fprintf(stderr, "expected float32 images [N,1,8,8] and int64 labels, torch_pred [N]\n");
        goto done;
    }

    char path[4096];
    if (snprintf(path, sizeof path, "%s/model.onnx", dir) >= (int)sizeof path) goto done;
    if (onyx_model_load_file(path, &model) != ONYX_OK) {
        fprintf(stderr, "load failed: %s\n", onyx_model_errmsg(model));
        goto done;
    }
    if (onyx_session_create(model, NULL, &session) != ONYX_OK) {
        fprintf(stderr, "session failed: %s\n", onyx_session_errmsg(session));
        goto done;
    }

    /* The model's batch axis is symbolic, so all images go through in one run. */
    int64_t dims[4];
    for (int d = 0; d < 4; d++)
        dims[d] = onyx_tensor_dim(images, d);
    if (onyx_session_bind_input(session, 0, ONYX_DTYPE_FLOAT32, dims, 4, onyx_tensor_data(images),
                                onyx_tensor_nbytes(images)) != ONYX_OK ||
        onyx_session_run(session) != ONYX_OK) {
        fprintf(stderr, "run failed: %s\n", onyx_session_errmsg(session));
        goto done;
    }
    const onyx_tensor *logits = onyx_session_output(session, 0);
    if (onyx_tensor_rank(logits) != 2 || onyx_tensor_dim(logits, 0) != n ||
        onyx_tensor_dim(logits, 1) != 10) {
        fprintf(stderr, "expected logits [%lld,10]\n", (long long)n);
        goto done;
    }

    const float *scores = onyx_tensor_data(logits);
    const int64_t *truth = onyx_tensor_data(labels), *ref = onyx_tensor_data(torch_pred);
    int onyx_right = 0, torch_right = 0, agree = 0;
    printf("image  label  onyx  pytorch\n");
    for (int64_t i = 0; i < n; i++) {
        int got = argmax(scores + i * 10, 10);
        onyx_right += got == truth[i];
        torch_right += ref[i] == truth[i];
        agree += got == ref[i];
        printf("%5lld  %5lld  %4d  %7lld%s\n", (long long)i, (long long)truth[i], got,
               (long long)ref[i], got != ref[i] ? "  <- onyx and pytorch differ" : "");
    }
    printf("onyx %d/%lld (%.1f%%), pytorch %d/%lld (%.1f%%), agreement %d/%lld\n", onyx_right,
           (long long)n, 100.0 * onyx_right / (double)n, torch_right, (long long)n,
           100.0 * torch_right / (double)n, agree, (long long)n);
    status = agree == n ? 0 : 1;

done:
    onyx_session_free(session);
    onyx_model_free(model);
    onyx_tensor_free(images);
    onyx_tensor_free(labels);
    onyx_tensor_free(torch_pred);
    return status;
}
