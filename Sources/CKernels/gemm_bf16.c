/*
 * bfloat16 matrix multiply with fp32 accumulation: C = alpha·op(A)·op(B) + beta·C, row-major, fp32 in and out.
 *
 * Inputs are rounded to bfloat16 (round to nearest, ties to even, as PyTorch's c10::BFloat16 and its CPU autocast
 * do; NaN stays NaN) while they are packed; products are summed in fp32 by vdpbf16ps, which adds two bf16 products
 * to each fp32 lane. Blocking after Goto & van de Geijn, "Anatomy of high-performance matrix multiplication"
 * (ACM TOMS 34(3), 2008) and BLIS's five loops (Van Zee & van de Geijn, ACM TOMS 41(3), 2015):
 *
 *   for jc < n step NC:                        B block [KC, NC] packed once per (jc, pc), kept in L2
 *     for pc < k step KC:                      (KC even, so a k-pair never straddles two blocks)
 *       for ic < m step MC:                    A block [MC, KC] packed, kept in L2
 *         for jr < nc step NR: for ir < mc step MR:  micro-kernel, MR x NR accumulators in registers
 *
 * Packed layouts (32-bit words, each word = two bf16 of consecutive k, the lower half the even k, which is the
 * operand layout of vdpbf16ps — Intel, "BFLOAT16 — Hardware Numerics Definition", 2018, and the ISA reference):
 *   A micro-panel: word[p·MR + i]  = (A[i, 2p], A[i, 2p+1])      i < MR, rows past m zero
 *   B micro-panel: word[p·NR + j]  = (B[2p, j], B[2p+1, j])      j < NR, columns past n zero
 * An odd k pads the last pair with a zero. Single-threaded; callers split the work over cores.
 * Reference: GEMM.reference in NeuralNet (Double loops) and the bf16-rounding scalar reference of the tests.
 */
#include "CKernels.h"

#include <stdlib.h>
#include <string.h>

/* fp32 → bf16 bits, round to nearest even; NaN kept (quieted). The scalar definition the vector code follows. */
static inline uint16_t bf16_round(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float ck_bf16_round(float x) {
    uint32_t u = (uint32_t)bf16_round(x) << 16;
    float y;
    memcpy(&y, &u, 4);
    return y;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#include "patches.h"

#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

enum { MR = 8, NR = 48, KC = 256, MC = 192, NC = 3072 };

/* 16 lanes of fp32 bits rounded to bf16, the result in the upper 16 bits of each lane (lower bits zero). */
BF16 static inline __m512i round_hi(__m512 v) {
    __m512i u = _mm512_castps_si512(v);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
    __m512i mag = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
    __mmask16 nan = _mm512_cmpgt_epu32_mask(mag, _mm512_set1_epi32(0x7f800000));
    r = _mm512_mask_or_epi32(r, nan, u, _mm512_set1_epi32(0x00400000));
    return _mm512_and_si512(r, _mm512_set1_epi32((int)0xffff0000u));
}

/* Pairs (lo, hi) → one word per lane: lo's bf16 in the lower half, hi's in the upper. */
BF16 static inline __m512i pair_words(__m512 lo, __m512 hi) {
    return _mm512_or_si512(_mm512_srli_epi32(round_hi(lo), 16), round_hi(hi));
}

/* B of the forward product (B = col, [R, columns]) packed like pack_rows_interleaved. */
BF16 static void pack_patches_rows(const patches *g, int r0, int pairs, int c0, int cols, uint32_t *words, int width) {
    int rows = g->channels * g->kernel_h * g->kernel_w;
    for (int p = 0; p < pairs; p++) {
        int ra = r0 + 2 * p, rb = ra + 1;
        uint32_t *out = words + (size_t)p * width;
        for (int c = 0; c < cols; c += 16) {
            int n = cols - c < 16 ? cols - c : 16;
            __m512 va = patch_row16(g, ra, c0 + c, n);
            __m512 vb = rb < rows ? patch_row16(g, rb, c0 + c, n) : _mm512_setzero_ps();
            _mm512_mask_storeu_epi32(out + c, first_lanes(n), pair_words(va, vb));
        }
    }
}

/* B of the weight-gradient product (B = colᵀ, [columns, R], k = column t) packed like pack_cols_interleaved:
 * words[p·width + j] = (col[c0+j, r0+2p], col[c0+j, r0+2p+1]). */
BF16 static void pack_patches_cols(const patches *g, int r0, int pairs, int c0, int cols, uint32_t *words, int width) {
    const __m512i stride = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32(width));
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    int krem = g->columns - r0;
    for (int c = 0; c < cols; c++) {
        for (int p = 0; p < pairs; p += 16) {
            int valid = krem - 2 * p;
            __m512 x0 = valid > 0 ? patch_row16(g, c0 + c, r0 + 2 * p, valid < 16 ? valid : 16) : _mm512_setzero_ps();
            __m512 x1 = valid > 16 ? patch_row16(g, c0 + c, r0 + 2 * p + 16, valid - 16 < 16 ? valid - 16 : 16)
                                   : _mm512_setzero_ps();
            __m512 lo = _mm512_permutex2var_ps(x0, even, x1), hi = _mm512_permutex2var_ps(x0, odd, x1);
            _mm512_mask_i32scatter_epi32(words + (size_t)p * width + c, first_lanes(pairs - p), stride,
                                         pair_words(lo, hi), 4);
        }
    }
}

/* A row-contiguous source: rows r of a [rows, cols] matrix with leading dimension ld, element (r, c) at
 * src[r·ld + c]. Packs `cols` columns [c0, c0+cols) of rows [2p0, 2p0 + 2·pairs) (a row past `rows` reads zero) as
 * words[p·width + (c - c0)], width ≥ cols (the rest of each width left as zero by the caller). This is B without
 * transpose (rows = k) and A transposed (rows = k, cols = m). */
BF16 static void pack_rows_interleaved(const float *src, size_t ld, int rows, int r0, int pairs, int c0, int cols,
                                       uint32_t *words, int width) {
    for (int p = 0; p < pairs; p++) {
        int ra = r0 + 2 * p, rb = ra + 1;
        const float *a = src + (size_t)ra * ld + c0, *b = src + (size_t)rb * ld + c0;
        uint32_t *out = words + (size_t)p * width;
        for (int c = 0; c < cols; c += 16) {
            __mmask16 m = first_lanes(cols - c);
            __m512 va = _mm512_maskz_loadu_ps(m, a + c);
            __m512 vb = rb < rows ? _mm512_maskz_loadu_ps(m, b + c) : _mm512_setzero_ps();
            _mm512_mask_storeu_epi32(out + c, m, pair_words(va, vb));
        }
    }
}

/* A column-contiguous source: element (r, c) at src[c·ld + r], so consecutive r (= consecutive k) are adjacent.
 * Packs the same block as pack_rows_interleaved: words[p·width + (c - c0)] = (src(r0+2p, c), src(r0+2p+1, c)),
 * a row past `rows` zero. This is B transposed (stored [n, k]) and A without transpose (stored [m, k]). */
BF16 static void pack_cols_interleaved(const float *src, size_t ld, int rows, int r0, int pairs, int c0, int cols,
                                       uint32_t *words, int width) {
    const __m512i stride = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32(width));
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    int krem = rows - r0; /* valid k values from r0 */
    for (int c = 0; c < cols; c++) {
        const float *line = src + (size_t)(c0 + c) * ld + r0;
        for (int p = 0; p < pairs; p += 16) {
            int valid = krem - 2 * p; /* valid k from this pair group (may exceed 32) */
            __mmask16 m0 = first_lanes(valid), m1 = first_lanes(valid - 16);
            __m512 x0 = _mm512_maskz_loadu_ps(m0, line + 2 * p);      /* k = 2p .. 2p+15 */
            __m512 x1 = _mm512_maskz_loadu_ps(m1, line + 2 * p + 16); /* k = 2p+16 .. 2p+31 */
            __m512 lo = _mm512_permutex2var_ps(x0, even, x1), hi = _mm512_permutex2var_ps(x0, odd, x1);
            __mmask16 mp = first_lanes(pairs - p);
            _mm512_mask_i32scatter_epi32(words + (size_t)p * width + c, mp, stride, pair_words(lo, hi), 4);
        }
    }
}

/* MR x NR block: acc = Σ_p A[p]·B[p]; then C = alpha·acc + beta·C (beta 0: C not read). */
BF16 static void kernel_8x48(int pairs, const uint32_t *a, const uint32_t *b, float *c, size_t ldc, float alpha,
                             float beta) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m512 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    __m512 c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
    __m512 c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
    for (int p = 0; p < pairs; p++) {
        const uint32_t *bp = b + (size_t)p * NR, *ap = a + (size_t)p * MR;
        _mm_prefetch((const char *)(bp + 8 * NR), _MM_HINT_T0);
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp), b1 = (__m512bh)_mm512_loadu_si512(bp + 16);
        __m512bh b2 = (__m512bh)_mm512_loadu_si512(bp + 32);
#define ROW(i)                                                                                                      \
    {                                                                                                               \
        __m512bh ai = (__m512bh)_mm512_set1_epi32((int)ap[i]);                                                      \
        c##i##0 = _mm512_dpbf16_ps(c##i##0, ai, b0);                                                                \
        c##i##1 = _mm512_dpbf16_ps(c##i##1, ai, b1);                                                                \
        c##i##2 = _mm512_dpbf16_ps(c##i##2, ai, b2);                                                                \
    }
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#undef ROW
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#define STORE(i)                                                                                                    \
    {                                                                                                               \
        float *ci = c + (size_t)(i) * ldc;                                                                          \
        if (beta == 0) {                                                                                            \
            _mm512_storeu_ps(ci, _mm512_mul_ps(va, c##i##0));                                                       \
            _mm512_storeu_ps(ci + 16, _mm512_mul_ps(va, c##i##1));                                                  \
            _mm512_storeu_ps(ci + 32, _mm512_mul_ps(va, c##i##2));                                                  \
        } else {                                                                                                    \
            _mm512_storeu_ps(ci, _mm512_fmadd_ps(va, c##i##0, _mm512_mul_ps(vb, _mm512_loadu_ps(ci))));             \
            _mm512_storeu_ps(ci + 16, _mm512_fmadd_ps(va, c##i##1, _mm512_mul_ps(vb, _mm512_loadu_ps(ci + 16))));   \
            _mm512_storeu_ps(ci + 32, _mm512_fmadd_ps(va, c##i##2, _mm512_mul_ps(vb, _mm512_loadu_ps(ci + 32))));   \
        }                                                                                                           \
    }
    STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7)
#undef STORE
}

/* Per-thread packing buffers, grown on demand and kept (the callers run on a fixed pool of workers). */
static _Thread_local uint32_t *pack_a_buffer, *pack_b_buffer;

static uint32_t *packing_buffer(uint32_t **slot, size_t words) {
    if (!*slot) *slot = aligned_alloc(64, words * 4);
    return *slot;
}

/* C[m, n] = beta·C for k = 0 (beta 0 writes zeros, whatever C held). */
static void scale_c(int m, int n, float beta, float *c, size_t ldc) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = beta == 0 ? 0 : beta * c[(size_t)i * ldc + j];
}

/* The driver. B is the matrix b (ldb, trans_b), or, when patches is not NULL, the patch matrix it describes: col
 * itself (trans_b 0) or colᵀ (trans_b 1). */
BF16 static void gemm_bf16(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, size_t lda,
                           const float *b, size_t ldb, const patches *patches, float beta, float *c, size_t ldc) {
    uint32_t *pa = packing_buffer(&pack_a_buffer, (size_t)(KC / 2) * MC);
    uint32_t *pb = packing_buffer(&pack_b_buffer, (size_t)(KC / 2) * NC);
    if (!pa || !pb) abort();
    float edge[MR * NR] __attribute__((aligned(64)));
    for (int jc = 0; jc < n; jc += NC) {
        int nc = n - jc < NC ? n - jc : NC;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = k - pc < KC ? k - pc : KC, pairs = (kc + 1) / 2;
            float beta_block = pc == 0 ? beta : 1.0f;
            /* B block: micro-panels of NR columns, pairs x NR words each. */
            for (int jr = 0; jr < nc; jr += NR) {
                int cols = nc - jr < NR ? nc - jr : NR;
                uint32_t *panel = pb + (size_t)jr * pairs;
                if (cols < NR) memset(panel, 0, (size_t)pairs * NR * 4);
                if (patches && trans_b)
                    pack_patches_cols(patches, pc, pairs, jc + jr, cols, panel, NR);
                else if (patches)
                    pack_patches_rows(patches, pc, pairs, jc + jr, cols, panel, NR);
                else if (trans_b)
                    pack_cols_interleaved(b, ldb, k, pc, pairs, jc + jr, cols, panel, NR);
                else
                    pack_rows_interleaved(b, ldb, k, pc, pairs, jc + jr, cols, panel, NR);
            }
            for (int ic = 0; ic < m; ic += MC) {
                int mc = m - ic < MC ? m - ic : MC;
                for (int ir = 0; ir < mc; ir += MR) {
                    int rows = mc - ir < MR ? mc - ir : MR;
                    uint32_t *panel = pa + (size_t)ir * pairs;
                    if (rows < MR) memset(panel, 0, (size_t)pairs * MR * 4);
                    if (trans_a)
                        pack_rows_interleaved(a, lda, k, pc, pairs, ic + ir, rows, panel, MR);
                    else
                        pack_cols_interleaved(a, lda, k, pc, pairs, ic + ir, rows, panel, MR);
                }
                for (int jr = 0; jr < nc; jr += NR) {
                    int cols = nc - jr < NR ? nc - jr : NR;
                    const uint32_t *bpanel = pb + (size_t)jr * pairs;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int rows = mc - ir < MR ? mc - ir : MR;
                        const uint32_t *apanel = pa + (size_t)ir * pairs;
                        float *cij = c + (size_t)(ic + ir) * ldc + jc + jr;
                        if (rows == MR && cols == NR) {
                            kernel_8x48(pairs, apanel, bpanel, cij, ldc, alpha, beta_block);
                        } else {
                            kernel_8x48(pairs, apanel, bpanel, edge, NR, 1.0f, 0.0f);
                            for (int i = 0; i < rows; i++)
                                for (int j = 0; j < cols; j++) {
                                    float *cv = cij + (size_t)i * ldc + j;
                                    *cv = alpha * edge[i * NR + j] + (beta_block == 0 ? 0 : beta_block * *cv);
                                }
                        }
                    }
                }
            }
        }
    }
}

/* cpuid leaf 7 subleaf 1 EAX bit 5: AVX512_BF16; leaf 7 subleaf 0 EBX bits 16 (AVX512F), 30 (BW), 31 (VL);
 * XCR0 bits 1, 2, 5, 6, 7: the operating system saves the SSE, AVX, opmask and ZMM state. */
int ck_cpu_has_avx512_bf16(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xe6u) != 0xe6u) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    unsigned need = (1u << 16) | (1u << 30) | (1u << 31);
    if ((b & need) != need || a < 1) return 0;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 5) & 1u;
}

void ck_gemm_bf16(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                  const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) {
        scale_c(m, n, beta, c, (size_t)ldc);
        return;
    }
    gemm_bf16(trans_a, trans_b, m, n, k, alpha, a, (size_t)lda, b, (size_t)ldb, NULL, beta, c, (size_t)ldc);
}

BF16 static void conv_bf16(int weight_grad, const float *x, int cin, int h, int w, int k, int stride, int pad,
                           const float *a, int lda, int cout, int oh0, int oh1, float beta, float *c, int ldc) {
    int wo = (w + 2 * pad - k) / stride + 1, columns = (oh1 - oh0) * wo, rows = cin * k * k;
    int *offsets = patch_offsets(oh0, oh1, wo, stride, pad, pad);
    patches g = patch_matrix(x, cin, h, w, k, stride, pad, oh0, oh1, offsets);
    if (weight_grad) /* dw[cout, R] = beta·dw + dy[cout, columns] · colᵀ */
        gemm_bf16(0, 1, cout, rows, columns, 1.0f, a, (size_t)lda, NULL, 0, &g, beta, c, (size_t)ldc);
    else /* y[cout, columns] = w[cout, R] · col + beta·y */
        gemm_bf16(0, 0, cout, columns, rows, 1.0f, a, (size_t)lda, NULL, 0, &g, beta, c, (size_t)ldc);
    free(offsets);
}

void ck_conv_bf16_forward(const float *x, int cin, int h, int w, int k, int stride, int pad, const float *wt,
                          int cout, int oh0, int oh1, float beta, float *y, int ldy) {
    if (cout <= 0 || oh1 <= oh0) return;
    conv_bf16(0, x, cin, h, w, k, stride, pad, wt, cin * k * k, cout, oh0, oh1, beta, y, ldy);
}

void ck_conv_bf16_weight_grad(const float *x, int cin, int h, int w, int k, int stride, int pad, const float *dy,
                              int lddy, int cout, int oh0, int oh1, float *dw) {
    if (cout <= 0 || oh1 <= oh0) return;
    conv_bf16(1, x, cin, h, w, k, stride, pad, dy, lddy, cout, oh0, oh1, 1.0f, dw, cin * k * k);
}
#else
int ck_cpu_has_avx512_bf16(void) { return 0; }

void ck_gemm_bf16(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                  const float *b, int ldb, float beta, float *c, int ldc) {
    (void)trans_a; (void)trans_b; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b; (void)ldb;
    (void)beta; (void)c; (void)ldc;
    abort(); /* callers check ck_cpu_has_avx512_bf16 first */
}

void ck_conv_bf16_forward(const float *x, int cin, int h, int w, int k, int stride, int pad, const float *wt,
                          int cout, int oh0, int oh1, float beta, float *y, int ldy) {
    (void)x; (void)cin; (void)h; (void)w; (void)k; (void)stride; (void)pad; (void)wt; (void)cout; (void)oh0;
    (void)oh1; (void)beta; (void)y; (void)ldy;
    abort();
}

void ck_conv_bf16_weight_grad(const float *x, int cin, int h, int w, int k, int stride, int pad, const float *dy,
                              int lddy, int cout, int oh0, int oh1, float *dw) {
    (void)x; (void)cin; (void)h; (void)w; (void)k; (void)stride; (void)pad; (void)dy; (void)lddy; (void)cout;
    (void)oh0; (void)oh1; (void)dw;
    abort();
}
#endif
