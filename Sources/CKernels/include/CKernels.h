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

/* 1 when the CPU has AVX512F, BW, VL and AVX512_BF16 (cpuid leaf 7 subleaf 1, EAX bit 5) and the operating system
 * saves the opmask and ZMM registers (XCR0 bits 5-7), else 0. */
int ck_cpu_has_avx512_bf16(void);

/* x rounded to bfloat16 (round to nearest, ties to even; NaN kept) and widened back to fp32: the rounding
 * ck_gemm_bf16 applies to its inputs. */
float ck_bf16_round(float x);

/* C[m, n] = alpha·op(A)·op(B) + beta·C, row-major, op(X) = Xᵀ when trans_x is 1; A is [m, k] ([k, m] transposed)
 * with leading dimension lda, B [k, n] ([n, k] transposed) with ldb, C [m, n] with ldc. A and B are rounded to
 * bfloat16 (ck_bf16_round) and the products summed in fp32 (vdpbf16ps); beta 0 does not read C. Single-threaded.
 * Requires ck_cpu_has_avx512_bf16. */
void ck_gemm_bf16(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                  const float *b, int ldb, float beta, float *c, int ldc);

/* The bf16 convolution with the patch matrix read in place (implicit im2col inside the B packing), one image
 * x [cin, h, w], square kernel k, stride, zero padding pad, output rows oh0 <= oh < oh1 (wo columns each):
 *   forward:      y[cout, (oh1-oh0)·wo] (leading dimension ldy) = wt[cout, cin·k·k] · col + beta·y
 *   weight_grad:  dw[cout, cin·k·k] += dy[cout, (oh1-oh0)·wo] (leading dimension lddy) · colᵀ
 * Bit-identical to im2col followed by ck_gemm_bf16. Single-threaded; requires ck_cpu_has_avx512_bf16. */
void ck_conv_bf16_forward(const float *x, int cin, int h, int w, int k, int stride, int pad, const float *wt,
                          int cout, int oh0, int oh1, float beta, float *y, int ldy);
void ck_conv_bf16_weight_grad(const float *x, int cin, int h, int w, int k, int stride, int pad, const float *dy,
                              int lddy, int cout, int oh0, int oh1, float *dw);

/* 1 when the CPU has AVX512F and the operating system saves the opmask and ZMM registers (XCR0 bits 1, 2, 5-7),
 * else 0. */
int ck_cpu_has_avx512f(void);

/* The fp32 convolution with the patch matrix read in place (implicit im2col inside the B packing of a Goto/BLIS
 * GEMM with an 8 x 48 AVX-512 FMA micro-kernel, gemm_f32.c), one image x [cin, h, w], square kernel k, stride,
 * zero padding pad, output rows oh0 <= oh < oh1 (wo columns each):
 *   forward:      y[cout, (oh1-oh0)·wo] (leading dimension ldy) = wt[cout, cin·k·k] · col + beta·y
 *   weight_grad:  dw[cout, cin·k·k] += dy[cout, (oh1-oh0)·wo] (leading dimension lddy) · colᵀ
 * Equal to im2col followed by sgemm up to the order of the fp32 sums. The weight gradient of a narrow patch matrix
 * (cin·k·k ≤ 32, cout ≤ 64) is computed as dot products along the columns instead (weight_grad_narrow.c).
 * Single-threaded; requires ck_cpu_has_avx512f. */
void ck_conv_f32_forward(const float *x, int cin, int h, int w, int k, int stride, int pad, const float *wt,
                         int cout, int oh0, int oh1, float beta, float *y, int ldy);
void ck_conv_f32_weight_grad(const float *x, int cin, int h, int w, int k, int stride, int pad, const float *dy,
                             int lddy, int cout, int oh0, int oh1, float *dw);

/* The weights of the four parity sub-convolutions of a stride-2 convolution's input gradient (kernel k, padding
 * pad, w [cout, cin, k, k]) into sub (cout·cin·k·k floats): for the dx rows and columns of parity (rh, rw), in the
 * order (0,0), (0,1), (1,0), (1,1), the [cin, cout·Jh·Jw] matrix sub_rhrw[ci, (co·Jh + u)·Jw + v] =
 * w[co, ci, sh + 2(Jh−1−u), sw + 2(Jw−1−v)] of the Jh × Jw taps kh ≡ rh + pad, kw ≡ rw + pad (mod 2), flipped. */
void ck_conv_f32_parity_weights(const float *w, int cout, int cin, int k, int pad, float *sub);

/* The input gradient of a stride-2 convolution (kernel k, padding pad) of one image, every element of
 * dx [cin, h, w] written from dy [cout, ho, wo] and the parity weights `sub` (ck_conv_f32_parity_weights):
 * dx[ci, 2a+rh, 2b+rw] = Σ_{co,u,v} sub_rhrw[ci, (co·Jh+u)·Jw+v] · dy[co, a+u−ph, b+v−pw], four stride-1
 * convolutions on the implicit fp32 GEMM (no col2im), equal to col2im(wᵀ·dy) up to summation order.
 * Single-threaded; requires ck_cpu_has_avx512f. */
void ck_conv_f32_input_grad_stride2(const float *dy, int cout, int ho, int wo, const float *sub, int cin, int h,
                                    int w, int k, int pad, float *dx);

/* 3×3 stride-2 convolutions with padding 1, forward, straight from the image (conv_s2_f32.c): the floats of the
 * rearranged weights ([⌈cout/8⌉][cin][9][8], zero past cout), the rearrangement of w [cout, cin, 3, 3], and one
 * image x [cin, h, w] over output rows oh0 <= oh < oh1 (wo = (w + 1) / 2 columns each):
 * y[co·ldy + (oh − oh0)·wo + ow] = conv(x, w) + beta·y. Single-threaded; the forward pass requires
 * ck_cpu_has_avx512f. */
int ck_conv_s2_f32_weight_floats(int cout, int cin);
void ck_conv_s2_f32_weights(const float *w, int cout, int cin, float *packed);
void ck_conv_s2_f32_forward(const float *x, int cin, int h, int w, const float *packed, int cout, int oh0, int oh1,
                            float beta, float *y, int ldy);

/* 3×3 stride-1 convolutions with padding 1 by Winograd's minimal filtering, any channel counts, on CPUs with AVX512F
 * (ck_cpu_has_avx512f; the caller checks): the forward pass by F(4×4, 3×3) (winograd4_f32.c), the weight gradient
 * by F(2×2, 3×3) (winograd_f32_grad.c). */

/* F(4×4, 3×3): the transformed weights U = G g Gᵀ (6×6 per channel pair) of wt [cout, cin, 3, 3] into u
 * (36 · ⌈cout/8⌉·8 · cin floats), in the packed layout ck_winograd4_f32_forward reads. Requires ck_cpu_has_avx512f. */
void ck_winograd4_f32_weights(const float *wt, int cout, int cin, float *u);

/* One image x [cin, h, w], output rows oh0 <= oh < oh1 (oh0 a multiple of 4; w columns each):
 * y[co·ldy + (oh − oh0)·w + ow] = conv(x, wt) + beta·y, with u from ck_winograd4_f32_weights. Equal to the direct
 * sum up to rounding (coefficients up to 8 and 1/24). Single-threaded; AVX512F. */
void ck_winograd4_f32_forward(const float *x, int cin, int h, int w, const float *u, int cout, int oh0, int oh1,
                              float beta, float *y, int ldy);

/* The floats of the transformed weight gradient du: [16, coutp, cinp], cout rounded up to a multiple of 8 and cin
 * to a multiple of 16. */
int ck_winograd_f32_grad_floats(int cout, int cin);

/* The weight gradient over output rows oh0 <= oh < oh1 (oh0 even) of one image, in the transformed domain:
 * du [16, coutp, cinp] += Σ_tiles (A dy Aᵀ) ⊙ (Bᵀ x B), dy rows of channel co at dy + co·lddy. Single-threaded. */
void ck_winograd_f32_weight_grad(const float *x, int cin, int h, int w, const float *dy, int lddy, int cout, int oh0,
                                 int oh1, float *du);

/* dw [cout, cin, 3, 3] += Gᵀ dU G for du from ck_winograd_f32_weight_grad. */
void ck_winograd_f32_weight_grad_finish(const float *du, int cout, int cin, float *dw);

#endif
