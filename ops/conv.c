/* STUB: replaced by the real implementation. */
#include "ops.h"

const onyxi_attr_spec onyxi_conv_attrs[] = {{NULL, 0}};
onyx_status onyxi_conv_check(const onyxi_node *n, onyxi_err *e) {
    (void)n;
    (void)e;
    return ONYX_OK;
}
onyx_status onyxi_conv_infer(onyxi_infer *c) {
    return onyxi_fail(c->err, ONYX_UNSUPPORTED, "not implemented yet");
}
static onyx_status conv_run_ref(onyxi_exec *x) {
    return onyxi_fail(x->err, ONYX_UNSUPPORTED, "not implemented yet");
}
static const onyxi_impl conv_ref = {"ref", NULL, conv_run_ref, NULL};
const onyxi_impl *const onyxi_conv_impls[] = {&conv_ref, NULL};
