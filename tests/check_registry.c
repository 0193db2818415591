/*
 * The op table's invariants: each op's rows contiguous with rising since_versions, every
 * entry ends its implementation list with "ref", arity bounds are sane, every attribute
 * table is terminated, and lookup picks the newest entry not newer than the model's opset.
 */
#include <string.h>

#include "testutil.h"

START_TEST(test_registry_versions_grouped_and_unique) {
    /* each op type's rows are contiguous (one family file) with rising since_versions */
    int n = onyxi_op_count();
    ck_assert_int_gt(n, 0);
    for (int i = 0; i < n; i++) {
        const onyxi_op *a = onyxi_op_at(i);
        for (int j = i + 1; j < n; j++) {
            const onyxi_op *b = onyxi_op_at(j);
            if (strcmp(a->op_type, b->op_type) != 0) continue;
            ck_assert_msg(j == i + 1 || strcmp(onyxi_op_at(j - 1)->op_type, a->op_type) == 0,
                          "rows of %s are not contiguous", a->op_type);
            ck_assert_msg(a->since_version < b->since_version,
                          "%s-%d comes before %s-%d", a->op_type, a->since_version, b->op_type,
                          b->since_version);
        }
    }
    ck_assert_ptr_null(onyxi_op_at(n));
    ck_assert_ptr_null(onyxi_op_at(-1));
}
END_TEST

START_TEST(test_registry_every_op_ends_with_ref) {
    for (int i = 0; i < onyxi_op_count(); i++) {
        const onyxi_op *op = onyxi_op_at(i);
        ck_assert(op->infer != NULL);
        ck_assert_ptr_nonnull(op->impls);
        ck_assert_ptr_nonnull(op->impls[0]);
        int k = 0;
        while (op->impls[k + 1]) k++;
        ck_assert_msg(strcmp(op->impls[k]->name, "ref") == 0, "%s-%d: last impl is '%s'",
                      op->op_type, op->since_version, op->impls[k]->name);
        for (int j = 0; op->impls[j]; j++) ck_assert(op->impls[j]->run != NULL);
        ck_assert_int_ge(op->min_inputs, 0);
        ck_assert_int_le(op->min_inputs, op->max_inputs);
        ck_assert_int_ge(op->min_outputs, 1);
        ck_assert_int_le(op->min_outputs, op->max_outputs);
        int attrs = 0;
        for (const onyxi_attr_spec *a = op->attrs; a->name; a++) attrs++;
        ck_assert_int_lt(attrs, 64);
        ck_assert_int_ge(op->since_version, 1);
        ck_assert_int_le(op->since_version, ONYXI_MAX_OPSET);
    }
}
END_TEST

START_TEST(test_registry_lookup_by_opset) {
    onyxi_err e;
    const onyxi_op *op = onyxi_op_find("", "Resize", 12, &e);
    ck_assert_ptr_nonnull(op);
    ck_assert_int_eq(op->since_version, 11);
    op = onyxi_op_find("ai.onnx", "Resize", 19, &e);
    ck_assert_int_eq(op->since_version, 19);
    op = onyxi_op_find("", "Softmax", 17, &e);
    ck_assert_int_eq(op->since_version, 13);
    op = onyxi_op_find("", "Conv", 7, &e);
    ck_assert_int_eq(op->since_version, 1);
}
END_TEST

START_TEST(test_registry_missing_entries_are_unsupported) {
    onyxi_err e;
    onyxi_err_clear(&e);
    ck_assert_ptr_null(onyxi_op_find("", "Resize", 9, &e));
    ck_assert_int_eq(e.code, ONYX_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(e.msg, "Resize"));
    ck_assert_ptr_nonnull(strstr(e.msg, "opset 9"));
    onyxi_err_clear(&e);
    ck_assert_ptr_null(onyxi_op_find("", "NoSuchOp", 13, &e));
    ck_assert_int_eq(e.code, ONYX_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(e.msg, "NoSuchOp"));
    onyxi_err_clear(&e);
    ck_assert_ptr_null(onyxi_op_find("com.microsoft", "Conv", 1, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "com.microsoft"));
}
END_TEST

int main(void) {
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, test_registry_versions_grouped_and_unique);
    tcase_add_test(tc, test_registry_every_op_ends_with_ref);
    tcase_add_test(tc, test_registry_lookup_by_opset);
    tcase_add_test(tc, test_registry_missing_entries_are_unsupported);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
