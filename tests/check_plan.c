/*
 * Memory planner tests: placement is a pure function, so these check its invariants
 * directly (no overlap between tensors alive together, arena <= naive sum, determinism,
 * reuse of dead buffers, alignment) on hand-made and random lifetimes.
 */
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "testutil.h"

static void assert_no_overlap(const onyxi_plan_item *it, const size_t *off, int n) {
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            if (!it[i].size || !it[j].size) continue;
            int alive_together = it[i].start <= it[j].end && it[j].start <= it[i].end;
            int disjoint = off[i] + it[i].size <= off[j] || off[j] + it[j].size <= off[i];
            ck_assert_msg(!alive_together || disjoint,
                          "tensors %d [%zu,+%zu) and %d [%zu,+%zu) overlap while both alive", i,
                          off[i], it[i].size, j, off[j], it[j].size);
        }
}

START_TEST(test_plan_reuses_dead_buffer) {
    /* a chain: t0 (0..1), t1 (1..2), t2 (2..3): t2 can take t0's place */
    onyxi_plan_item it[3] = {{1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}};
    size_t off[3], total;
    onyxi_err e;
    ck_assert_int_eq(onyxi_plan_place(it, 3, 64, off, &total, &e), ONYX_OK);
    assert_no_overlap(it, off, 3);
    ck_assert_uint_eq(total, 2048); /* two buffers of 1000 rounded to 1024 */
    ck_assert_uint_eq(off[0], off[2]);
}
END_TEST

START_TEST(test_plan_offsets_are_aligned) {
    onyxi_plan_item it[4] = {{3, 0, 5}, {5, 0, 5}, {100, 1, 2}, {1, 2, 3}};
    size_t off[4], total;
    onyxi_err e;
    ck_assert_int_eq(onyxi_plan_place(it, 4, 64, off, &total, &e), ONYX_OK);
    for (int i = 0; i < 4; i++) ck_assert_uint_eq(off[i] % 64, 0);
    ck_assert_uint_eq(total % 64, 0);
    assert_no_overlap(it, off, 4);
}
END_TEST

START_TEST(test_plan_best_fit_fills_the_smallest_hole) {
    /* big A (0..4) and B (0..4) leave no hole; C (2..3) of 64 bytes goes after them; then a
     * small D (0..1) and E lives only at 3..4: E can reuse D's slot. */
    onyxi_plan_item it[5] = {{4096, 0, 4}, {256, 0, 1}, {128, 3, 4}, {64, 0, 4}, {1024, 2, 2}};
    size_t off[5], total;
    onyxi_err e;
    ck_assert_int_eq(onyxi_plan_place(it, 5, 64, off, &total, &e), ONYX_OK);
    assert_no_overlap(it, off, 5);
    /* largest first: A at 0; the 1024 (2..2) sits after A; the 256 (0..1) reuses that space */
    ck_assert_uint_eq(off[0], 0);
    ck_assert_uint_eq(off[4], 4096);
    ck_assert_uint_eq(off[1], 4096);
    ck_assert_uint_le(total, 4096 + 1024 + 64 + 128);
}
END_TEST

START_TEST(test_plan_zero_size_needs_no_space) {
    onyxi_plan_item it[2] = {{0, 0, 3}, {64, 0, 3}};
    size_t off[2], total;
    onyxi_err e;
    ck_assert_int_eq(onyxi_plan_place(it, 2, 64, off, &total, &e), ONYX_OK);
    ck_assert_uint_eq(total, 64);
}
END_TEST

START_TEST(test_plan_random_lifetimes_invariants) {
    srand(1234);
    for (int round = 0; round < 200; round++) {
        int n = 1 + rand() % 60;
        onyxi_plan_item it[64];
        size_t off[64], off2[64], total, total2, naive = 0;
        for (int i = 0; i < n; i++) {
            int a = rand() % 40, b = rand() % 40;
            it[i].start = a < b ? a : b;
            it[i].end = a < b ? b : a;
            it[i].size = (size_t)(rand() % 5000);
            naive += (it[i].size + 63) / 64 * 64;
        }
        onyxi_err e;
        ck_assert_int_eq(onyxi_plan_place(it, n, 64, off, &total, &e), ONYX_OK);
        assert_no_overlap(it, off, n);
        ck_assert_uint_le(total, naive);
        for (int i = 0; i < n; i++) ck_assert_uint_le(off[i] + it[i].size, total);
        /* deterministic: same input, same plan */
        ck_assert_int_eq(onyxi_plan_place(it, n, 64, off2, &total2, &e), ONYX_OK);
        ck_assert_uint_eq(total, total2);
        for (int i = 0; i < n; i++) ck_assert_uint_eq(off[i], off2[i]);
    }
}
END_TEST

START_TEST(test_plan_overflowing_sizes_fail_cleanly) {
    onyxi_plan_item it[2] = {{SIZE_MAX - 10, 0, 1}, {SIZE_MAX / 2, 0, 1}};
    size_t off[2], total;
    onyxi_err e;
    onyxi_err_clear(&e);
    ck_assert_int_eq(onyxi_plan_place(it, 2, 64, off, &total, &e), ONYX_NOMEM);
    ck_assert_ptr_nonnull(strstr(e.msg, "large") ? e.msg : strstr(e.msg, "overflow"));
}
END_TEST

/* Through a real session: a chain of 6 sigmoids on 4 KiB tensors needs 2 live buffers plus
 * the output, not 6. */
START_TEST(test_plan_session_arena_smaller_than_sum) {
    onyx_model *m = tu_load_model(ONYX_TEST_DATA_DIR "/sigmoid_chain.onnx");
    onyx_session *s = NULL;
    ck_assert_int_eq(onyx_session_create(m, NULL, &s), ONYX_OK);
    size_t arena = onyx_session_arena_bytes(s), sum = onyx_session_intermediate_bytes(s);
    ck_assert_uint_eq(sum, 6 * 4096);
    ck_assert_uint_le(arena, 3 * 4096);
    ck_assert_uint_ge(arena, 2 * 4096);
    onyx_session_free(s);
    onyx_model_free(m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("placement");
    tcase_add_test(tc, test_plan_reuses_dead_buffer);
    tcase_add_test(tc, test_plan_offsets_are_aligned);
    tcase_add_test(tc, test_plan_best_fit_fills_the_smallest_hole);
    tcase_add_test(tc, test_plan_zero_size_needs_no_space);
    tcase_add_test(tc, test_plan_random_lifetimes_invariants);
    tcase_add_test(tc, test_plan_overflowing_sizes_fail_cleanly);
    suite_add_tcase(s, tc);
    TCase *tc2 = tcase_create("session");
    tcase_add_test(tc2, test_plan_session_arena_smaller_than_sum);
    suite_add_tcase(s, tc2);
    return tu_run_suite(s);
}
