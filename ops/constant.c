/* STUB: replaced by the real implementation. */
#include "ops.h"

const onyxi_attr_spec onyxi_constant_attrs[] = {{NULL, 0}};
onyx_status onyxi_constant_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}
onyx_status onyxi_constant_infer(onyxi_infer *c) {
    return onyxi_fail(c->err, ONYX_UNSUPPORTED, "not implemented yet");
}
static onyx_status constant_run_ref(onyxi_exec *x) {
    return onyxi_fail(x->err, ONYX_UNSUPPORTED, "not implemented yet");
}
static const onyxi_impl constant_ref = {"ref", NULL, constant_run_ref, NULL};
const onyxi_impl *const onyxi_constant_impls[] = {&constant_ref, NULL};
