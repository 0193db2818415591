/* See what the library does and where the time goes: a log callback receives onyx's
 * diagnostics (the library itself never prints), profiling times every step, and the plan
 * can be inspected step by step. Writes a Chrome trace (open it in https://ui.perfetto.dev).
 * Build: cc diagnostics.c -lonyx    Run: ./diagnostics MODEL.onnx [TRACE.json] */
#include <stdio.h>
#include <stdlib.h>

#include "onyx.h"

/* Called from whichever thread logs; the message is only valid during the call. */
static void print_log(void *user_data, onyx_log_level level, const char *message) {
    FILE *f = user_data;
    fprintf(f, "[onyx %s] %s\n", onyx_log_level_name(level), message);
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s MODEL.onnx [TRACE.json]\n", argv[0]);
        return 2;
    }
    /* process-wide; off again at the end so that stdout is not used after main */
    onyx_set_log_callback(print_log, stdout, ONYX_LOG_DEBUG);

    onyx_model *model = NULL;
    onyx_options *opts = NULL;
    onyx_session *session = NULL;
    float *inputs[16] = {0};
    int status = 1;
    if (onyx_model_load_file(argv[1], &model) != ONYX_OK) goto out;
    if (onyx_options_create(&opts) != ONYX_OK || onyx_options_set_profiling(opts, 1) != ONYX_OK)
        goto out;
    if (onyx_session_create(model, opts, &session) != ONYX_OK) goto out;
    int n_in = onyx_model_input_count(model);
    for (int i = 0; i < n_in && i < 16; i++) {
        const onyx_tensor *decl = onyx_model_input(model, i);
        int64_t dims[8];
        size_t count = 1;
        for (int d = 0; d < onyx_tensor_rank(decl) && d < 8; d++) {
            dims[d] = onyx_tensor_dim(decl, d) < 0 ? 2 : onyx_tensor_dim(decl, d);
            count *= (size_t)dims[d];
        }
        inputs[i] = malloc(count * sizeof(float) + 1);
        if (!inputs[i]) goto out;
        for (size_t k = 0; k < count; k++) inputs[i][k] = (float)(k % 7) / 7.0f;
        if (onyx_session_bind_input(session, i, ONYX_DTYPE_FLOAT32, dims, onyx_tensor_rank(decl),
                                    inputs[i], count * sizeof(float)) != ONYX_OK)
            goto out;
    }
    /* the first run plans; the timings of the next ones are what matter */
    if (onyx_session_run(session) != ONYX_OK) goto out;
    onyx_session_profile_reset(session);
    for (int r = 0; r < 5; r++)
        if (onyx_session_run(session) != ONYX_OK) goto out;

    long long runs = (long long)onyx_session_profile_runs(session);
    printf("%-16s %-10s %-5s %12s %10s\n", "node", "op", "impl", "us/run", "MFLOP");
    for (int i = 0; i < onyx_session_step_count(session); i++) {
        int node = onyx_session_step_node(session, i);
        const char *name = onyx_model_node_name(model, node);
        printf("%-16s %-10s %-5s %12.2f %10.3f\n", name[0] ? name : "(unnamed)",
               onyx_model_node_op_type(model, node), onyx_session_step_impl(session, i),
               (double)onyx_session_step_time_ns(session, i) / 1e3 / (double)runs,
               onyx_session_step_flops(session, i) / 1e6);
    }
    if (argc == 3) {
        if (onyx_session_profile_write(session, argv[2]) != ONYX_OK) goto out;
        printf("trace of %lld runs written to %s\n", runs, argv[2]);
    }
    status = 0;
out:
    if (status)
        fprintf(stderr, "failed: %s%s\n", onyx_model_errmsg(model),
                session ? onyx_session_errmsg(session) : "");
    for (int i = 0; i < 16; i++) free(inputs[i]);
    onyx_session_free(session);
    onyx_options_free(opts);
    onyx_model_free(model);
    onyx_set_log_callback(NULL, NULL, ONYX_LOG_OFF);
    return status;
}
