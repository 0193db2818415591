/* Loading and running pbbuild models in tests (modelrun.h). */
#include "modelrun.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

onyx_model *tu_load_built(mb *b, unsigned passes) {
    size_t len = 0;
    uint8_t *bytes = mb_pack(b, &len);
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_passes(o, passes), ONYX_OK);
    onyx_model *m = NULL;
    onyx_status rc = onyx_model_load_memory_opts(bytes, len, o, 0, &m);
    ck_assert_msg(rc == ONYX_OK, "load: %s", onyx_model_errmsg(m));
    onyx_options_free(o);
    free(bytes);
    return m;
}

onyx_session *tu_session(onyx_model *m, onyx_backend be, int threads, int static_select) {
    onyx_options *o = NULL;
    ck_assert_int_eq(onyx_options_create(&o), ONYX_OK);
    ck_assert_int_eq(onyx_options_set_backend(o, be), ONYX_OK);
    if (threads > 0) ck_assert_int_eq(onyx_options_set_num_threads(o, threads), ONYX_OK);
    if (static_select)
        ck_assert_int_eq(onyx_options_set_kernel_selection(o, ONYX_SELECT_STATIC), ONYX_OK);
    onyx_session *s = NULL;
    onyx_status rc = onyx_session_create(m, o, &s);
    onyx_options_free(o);
    ck_assert_msg(rc == ONYX_OK, "create: %s", onyx_session_errmsg(s));
    return s;
}

void tu_run_floats(onyx_session *s, const float *x, int rank, const int64_t *xd, float *y,
                   size_t n) {
    size_t bytes = sizeof(float);
    for (int d = 0; d < rank; d++)
        bytes *= (size_t)xd[d];
    ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, xd, rank, x, bytes),
                     ONYX_OK);
    onyx_status rc = onyx_session_run(s);
    ck_assert_msg(rc == ONYX_OK, "run: %s", onyx_session_errmsg(s));
    const onyx_tensor *t = onyx_session_output(s, 0);
    ck_assert_uint_eq(onyx_tensor_nbytes(t), n * sizeof(float));
    memcpy(y, onyx_tensor_data(t), n * sizeof(float));
}

int tu_node_index(const onyx_model *m, const char *name) {
    for (int i = 0; i < onyx_model_node_count(m); i++)
        if (strcmp(onyx_model_node_name(m, i), name) == 0) return i;
    ck_abort_msg("no node %s", name);
    return -1;
}

void tu_assert_node_state(const onyx_session *s, const onyx_model *m, const char *node,
                          onyx_node_state want) {
    onyx_node_state got = onyx_session_node_state(s, tu_node_index(m, node));
    ck_assert_msg(got == want, "node %s: state %d, want %d", node, (int)got, (int)want);
}
