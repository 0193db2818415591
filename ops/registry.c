/*
 * The op table: one row per (op type, since_version), gathered from the op families' .def
 * files (op_table.h) so families can grow without touching one shared list. Lookup takes the
 * entry with the largest since_version <= the model's opset for ai.onnx. Explicit on purpose:
 * a table survives static linking, where constructor-based self-registration gets dropped.
 */
#include <string.h>

#include "ops.h"

#define ONYXI_OP(type, since, min_in, max_in, min_out, max_out, o, flags)                          \
    {type,          since,         min_in, max_in, min_out, max_out, onyxi_##o##_attrs,             \
     onyxi_##o##_check, onyxi_##o##_infer, flags, onyxi_##o##_impls},

static const onyxi_op ONYXI_OPS[] = {
#include "op_table.h"
};
#undef ONYXI_OP

#define N_OPS ((int)(sizeof ONYXI_OPS / sizeof ONYXI_OPS[0]))

int onyxi_op_count(void) { return N_OPS; }

const onyxi_op *onyxi_op_at(int i) { return i >= 0 && i < N_OPS ? &ONYXI_OPS[i] : NULL; }

const onyxi_op *onyxi_op_find(const char *domain, const char *op_type, int64_t opset,
                              onyxi_err *e) {
    if (domain && domain[0] && strcmp(domain, "ai.onnx") != 0) {
        onyxi_fail(e, ONYX_UNSUPPORTED, "op '%s' of domain '%s' is not supported (only ai.onnx)",
                   op_type, domain);
        return NULL;
    }
    const onyxi_op *best = NULL;
    int known = 0;
    for (int i = 0; i < N_OPS; i++) {
        if (strcmp(ONYXI_OPS[i].op_type, op_type) != 0) continue;
        known = 1;
        if (ONYXI_OPS[i].since_version <= opset) best = &ONYXI_OPS[i];
    }
    if (!best) {
        if (known)
            onyxi_fail(e, ONYX_UNSUPPORTED,
                       "op '%s' has no implementation at opset %lld (onyx implements it from a "
                       "later opset)",
                       op_type, (long long)opset);
        else
            onyxi_fail(e, ONYX_UNSUPPORTED, "op '%s' (opset %lld) is not supported by onyx",
                       op_type, (long long)opset);
    }
    return best;
}
