/*
 * Vectorized float32 math shared by the reference kernels: erf (the Erf kernel) and the
 * erf-based GELU (a fused post-op, postops.c). Both go through the same code, so a fused GELU
 * gives the bits of the unfused Div/Erf/Add/Mul nodes. On x86 CPUs with AVX2 and FMA a build
 * for the baseline ISA still runs 8-wide FMA code (chosen at run time).
 */
#ifndef ONYXI_VMATH_H
#define ONYXI_VMATH_H

#include <stdint.h>

/* y[i] = erf(x[i]) for i < n, within about 1e-7 relative (1.4 ulp; glibc's erff is within 1).
 * erf(+-inf) = +-1, NaN stays NaN. y may equal x (not overlap it otherwise). */
void onyxi_erf_f32(const float *x, float *y, int64_t n);

/* y[i] = v * (erf(u) + 1) * 0.5 in place, v = y[i], u = v / c (mul == 0) or v * c (mul == 1):
 * GELU as PyTorch exports it, with the graph's constant c (sqrt(2), or 1/sqrt(2) for mul). */
void onyxi_gelu_f32(float *y, int64_t n, float c, int mul);

#endif
