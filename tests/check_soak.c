/*
 * Soak: 10,000 load/create/run/free cycles of a small model. Every cycle must succeed, the
 * allocator must end with no live block, and the resident set must stay flat (measured from
 * /proc/self/statm after a warm-up, so allocator caches and lazily mapped code are counted
 * before the comparison).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"

#define CYCLES 10000

/* The resident set after handing free heap pages back (glibc keeps freed memory, and how
 * much depends on how the measuring cycles' larger blocks happened to fragment the heap: that
 * noise once pushed a leak-free run past the limit; a leak stays resident). */
static long rss_kib(void) {
    malloc_trim(0);
    long pages_total = 0, pages_rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages_total, &pages_rss) != 2) pages_rss = -1;
    fclose(f);
    return pages_rss < 0 ? -1 : pages_rss * (sysconf(_SC_PAGESIZE) / 1024);
}

START_TEST(test_soak_load_create_run_free_cycles) {
    size_t n = 0;
    void *bytes = tu_read_file(ONYX_TEST_MODELS_DIR "/fusion_op13/model.onnx", &n);
    ck_assert_ptr_nonnull(bytes);
    float x[3 * 24 * 32];
    for (int i = 0; i < 3 * 24 * 32; i++) x[i] = (float)(i % 17) * 0.1f - 0.8f;
    int64_t dims[4] = {1, 3, 24, 32};
    long base_blocks = onyxi_alloc_live_blocks();
    long rss_warm = 0;
    onyx_options *every[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) ck_assert_int_eq(onyx_options_create(&every[k]), ONYX_OK);
    /* a fresh model times its kernels at creation (measured selection): one cycle in a
     * hundred does, the others take the first kernel that accepts, which keeps the soak's
     * length what it was */
    ck_assert_int_eq(onyx_options_set_kernel_selection(every[1], ONYX_SELECT_STATIC), ONYX_OK);
    for (int cycle = 0; cycle < CYCLES; cycle++) {
        onyx_model *m = NULL;
        onyx_session *s = NULL;
        ck_assert_int_eq(onyx_model_load_memory(bytes, n, &m), ONYX_OK);
        ck_assert_int_eq(onyx_session_create(m, every[cycle % 100 != 0], &s), ONYX_OK);
        onyx_model_free(m);
        ck_assert_int_eq(onyx_session_bind_input(s, 0, ONYX_DTYPE_FLOAT32, dims, 4, x, sizeof x),
                         ONYX_OK);
        ck_assert_int_eq(onyx_session_run(s), ONYX_OK);
        onyx_session_free(s);
        if (cycle == 999) rss_warm = rss_kib();
    }
    long rss_end = rss_kib();
    for (int k = 0; k < 2; k++) onyx_options_free(every[k]);
    ck_assert_int_eq(onyxi_alloc_live_blocks(), base_blocks);
    printf("soak: %d cycles, RSS after 1000: %ld KiB, after %d: %ld KiB\n", CYCLES, rss_warm,
           CYCLES, rss_end);
    free(bytes);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    /* the sanitizers hold freed memory in quarantine, so RSS says nothing there; the live
     * block count above still proves every cycle freed what it allocated */
    (void)rss_warm;
    (void)rss_end;
#else
    /* 9,000 more cycles may not grow the resident set by more than 512 KiB */
    ck_assert_msg(rss_end - rss_warm <= 512, "RSS grew from %ld to %ld KiB", rss_warm, rss_end);
#endif
}
END_TEST

int main(void) {
    Suite *s = suite_create("soak");
    TCase *tc = tcase_create("cycles");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_soak_load_create_run_free_cycles);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
