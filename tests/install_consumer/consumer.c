/* A program built against an installed onyx (by tests/install.cmake, through pkg-config and
 * through find_package): checks the header matches the library, then loads and runs the
 * model given on the command line and prints "consumer ok" with the output's shape. */
#include <stdio.h>

#include <onyx.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    if (onyx_version_number() != ONYX_VERSION_NUMBER) {
        fprintf(stderr, "header %s, library %s\n", ONYX_VERSION, onyx_version());
        return 1;
    }
    onyx_model *m = NULL;
    onyx_session *s = NULL;
    int rc = 1;
    float x[2][4] = {{1, 2, 3, 4}, {-1, 0, 1, 0.5f}};
    int64_t dims[2] = {2, 4};
    if (onyx_model_load_file(argv[1], &m) == ONYX_OK && onyx_session_create(m, NULL, &s) == ONYX_OK &&
        onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 2, x, sizeof x) == ONYX_OK &&
        onyx_session_run(s) == ONYX_OK) {
        const onyx_tensor *y = onyx_session_output(s, 0);
        printf("consumer ok: onyx %s, output [%lld, %lld]\n", onyx_version(),
               (long long)onyx_tensor_dim(y, 0), (long long)onyx_tensor_dim(y, 1));
        rc = 0;
    } else {
        fprintf(stderr, "failed: %s %s\n", onyx_model_errmsg(m), onyx_session_errmsg(s));
    }
    onyx_session_free(s);
    onyx_model_free(m);
    return rc;
}
