/*
 * Measures one core's FP32 FMA peak: 12 independent chains of vfmadd (enough to cover the FMA
 * latency of 4 cycles on 2-3 ports), 8 lanes with AVX2+FMA and 16 with AVX-512F, timed over
 * ~0.2 s, best of 7 trials. Prints GFLOP/s (2 flops per lane per FMA). Used for the "% of FMA
 * peak" figures of the README; run it on an idle machine:
 *   ./build/fma_peak
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define CHAINS 12

__attribute__((target("avx2,fma"))) static float run_avx2(long iters) {
    __m256 acc[CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12 /* keeps every chain in a register */
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    __m256 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm256_add_ps(s, acc[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}

__attribute__((target("avx512f"))) static float run_avx512(long iters) {
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    __m512 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
    return _mm512_reduce_add_ps(s);
}

/* Best GFLOP/s of 7 trials of `iters` iterations. */
static double measure(float (*fn)(long), long iters, int lanes, float *sink) {
    double best = 0;
    for (int t = 0; t < 7; t++) {
        double t0 = now();
        *sink += fn(iters);
        double dt = now() - t0;
        double gflops = 2.0 * lanes * CHAINS * (double)iters / dt * 1e-9;
        if (gflops > best) best = gflops;
    }
    return best;
}

int main(void) {
    float sink = 0;
    const long iters = 20 * 1000 * 1000;
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        printf("no AVX2+FMA on this CPU\n");
        return 0;
    }
    double avx2 = measure(run_avx2, iters, 8, &sink);
    printf("AVX2+FMA (8 lanes):  %.1f GFLOP/s per core\n", avx2);
    if (__builtin_cpu_supports("avx512f")) {
        double avx512 = measure(run_avx512, iters, 16, &sink);
        printf("AVX-512F (16 lanes): %.1f GFLOP/s per core\n", avx512);
    }
    return sink == 12345.f; /* keeps the results live */
}
#else
int main(void) {
    printf("fma_peak measures x86-64 only\n");
    return 0;
}
#endif
