#ifndef CKERNELS_H
#define CKERNELS_H
/*
 * C kernels and helpers of NeuralNet for what Swift cannot express: allocator tuning (glibc mallopt) and
 * instruction-set-specific loops compiled per function with __attribute__((target(...))), chosen at run time
 * from cpuid, so the package needs no global compile flags.
 */
#include <stddef.h>
#include <stdint.h>

/* Makes the process heap an arena reused from step to step (glibc): no mmap for large blocks, one arena for all
 * threads, and freed memory kept instead of returned to the kernel. Returns 1 when applied, 0 where the C
 * library has no mallopt (then nothing changes). */
int ck_configure_heap_arena(void);

/* 1 when the CPU has AVX2 and FMA and the operating system saves the YMM registers (cpuid and XCR0), else 0. */
int ck_cpu_has_avx2_fma(void);

/* 1 when the direct convolution below runs here: AVX2 + FMA, cout a multiple of 4, kernel 1-3, stride 1 or 2. */
int ck_conv_direct_supported(int cout, int k, int stride);

/* Direct convolution of one image x [cin, h, w] with weights wt [cout, cin, k, k], zero padding pad:
 * writes y [cout, ho, wo] rows oh0 <= oh < oh1 (every element of those rows), y = conv(x, wt) + bias
 * (bias [cout] or NULL). Requires ck_conv_direct_supported. Single-threaded. */
void ck_conv_direct_forward(const float *x, int cin, int h, int w, const float *wt, int cout, int k, int stride,
                            int pad, const float *bias, float *y, int oh0, int oh1);

/* Weight gradient of that convolution over output rows oh0 <= oh < oh1 of one image:
 * dw [cout, cin, k, k] += sum over those rows of dy [cout, ho, wo] times the input taps; db [cout] += sum of dy
 * when db is not NULL. Requires ck_conv_direct_supported. Single-threaded. */
void ck_conv_direct_weight_grad(const float *x, int cin, int h, int w, const float *dy, int cout, int k,
                                int stride, int pad, float *dw, float *db, int oh0, int oh1);

#endif
