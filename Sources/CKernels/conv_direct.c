/*
 * Direct 2-D convolution for small channel counts, where im2col + sgemm is memory-bound: the patch matrix
 * (Cin·K² rows) is never formed. One image, NCHW, output rows [oh0, oh1); AVX2 + FMA, 16 output columns (two
 * 8-lane vectors) by 4 output channels per register block, zero padding by masked loads.
 * References: Reference.conv2d / Reference.conv2dBackward in NeuralNet (naive Double loops).
 */
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define SIMD __attribute__((target("avx2,fma")))

/* Lane mask (all bits set) for lanes lo <= l < hi of 8. */
SIMD static inline __m256i lanes(int lo, int hi) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i ge = _mm256_cmpgt_epi32(iota, _mm256_set1_epi32(lo - 1));
    __m256i lt = _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), iota);
    return _mm256_and_si256(ge, lt);
}

/* row[i0 + l] for l < 8 where 0 <= i0 + l < w, zero elsewhere. */
SIMD static inline __m256 load8(const float *row, int w, int i0) {
    if (i0 >= 0 && i0 + 8 <= w) return _mm256_loadu_ps(row + i0);
    int lo = i0 < 0 ? -i0 : 0, hi = w - i0 < 8 ? w - i0 : 8;
    if (hi <= lo) return _mm256_setzero_ps();
    return _mm256_maskload_ps(row + i0, lanes(lo, hi));
}

/* Lanes l < 8 hold row[iw0 + stride·l] (stride 1 or 2) where inside [0, w), zero elsewhere. */
SIMD static inline __m256 taps(const float *row, int w, int iw0, int stride) {
    if (stride == 1) return load8(row, w, iw0);
    __m256 a = load8(row, w, iw0), b = load8(row, w, iw0 + 8);
    /* [a0 a2 b0 b2 | a4 a6 b4 b6] → [a0 a2 a4 a6 b0 b2 b4 b6] */
    __m256 e = _mm256_shuffle_ps(a, b, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
}

SIMD static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

int ck_conv_direct_supported(int cout, int k, int stride) {
    return ck_cpu_has_avx2_fma() && cout % 4 == 0 && k >= 1 && k <= 3 && (stride == 1 || stride == 2);
}

SIMD __attribute__((always_inline)) static inline void forward_rows(
    const float *x, int cin, int h, int w, const float *wt, int cout, const int k, const int stride, int pad,
    const float *bias, float *y, int oh0, int oh1) {
    const int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1, kk = k * k;
    const long wco = (long)cin * kk; /* weight stride between output channels */
    for (int co0 = 0; co0 < cout; co0 += 4) {
        for (int oh = oh0; oh < oh1; oh++) {
            for (int ow0 = 0; ow0 < wo; ow0 += 16) {
                __m256 acc[4][2];
                for (int j = 0; j < 4; j++) acc[j][0] = acc[j][1] = _mm256_set1_ps(bias ? bias[co0 + j] : 0.0f);
                for (int c = 0; c < cin; c++) {
                    for (int ki = 0; ki < k; ki++) {
                        const int ih = oh * stride - pad + ki;
                        if (ih < 0 || ih >= h) continue;
                        const float *row = x + ((long)c * h + ih) * w;
                        const float *wp = wt + (long)co0 * wco + (long)c * kk + ki * k;
                        for (int kj = 0; kj < k; kj++) {
                            const int iw0 = ow0 * stride - pad + kj;
                            const __m256 x0 = taps(row, w, iw0, stride), x1 = taps(row, w, iw0 + 8 * stride, stride);
                            for (int j = 0; j < 4; j++) {
                                const __m256 wv = _mm256_broadcast_ss(wp + j * wco + kj);
                                acc[j][0] = _mm256_fmadd_ps(x0, wv, acc[j][0]);
                                acc[j][1] = _mm256_fmadd_ps(x1, wv, acc[j][1]);
                            }
                        }
                    }
                }
                const int nv = wo - ow0 < 16 ? wo - ow0 : 16;
                for (int j = 0; j < 4; j++) {
                    float *dst = y + ((long)(co0 + j) * ho + oh) * wo + ow0;
                    if (nv == 16) {
                        _mm256_storeu_ps(dst, acc[j][0]);
                        _mm256_storeu_ps(dst + 8, acc[j][1]);
                    } else {
                        _mm256_maskstore_ps(dst, lanes(0, nv), acc[j][0]);
                        if (nv > 8) _mm256_maskstore_ps(dst + 8, lanes(0, nv - 8), acc[j][1]);
                    }
                }
            }
        }
    }
}

SIMD void ck_conv_direct_forward(const float *x, int cin, int h, int w, const float *wt, int cout, int k,
                                 int stride, int pad, const float *bias, float *y, int oh0, int oh1) {
    /* The common geometries with the kernel size and stride as constants, so the tap loops unroll. */
    if (k == 3 && stride == 1) forward_rows(x, cin, h, w, wt, cout, 3, 1, pad, bias, y, oh0, oh1);
    else if (k == 3 && stride == 2) forward_rows(x, cin, h, w, wt, cout, 3, 2, pad, bias, y, oh0, oh1);
    else forward_rows(x, cin, h, w, wt, cout, k, stride, pad, bias, y, oh0, oh1);
}

SIMD __attribute__((always_inline)) static inline void weight_grad_rows(
    const float *x, int cin, int h, int w, const float *dy, int cout, const int k, const int stride, int pad,
    float *dw, float *db, int oh0, int oh1) {
    const int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1, kk = k * k;
    if (db) {
        for (int co = 0; co < cout; co++) {
            __m256 s = _mm256_setzero_ps();
            for (int oh = oh0; oh < oh1; oh++)
                for (int ow0 = 0; ow0 < wo; ow0 += 8) s = _mm256_add_ps(s, load8(dy + ((long)co * ho + oh) * wo, wo, ow0));
            db[co] += hsum(s);
        }
    }
    /* Bands of output rows of about 1280 outputs, so that a band of dy and x stays in L2 across the passes. */
    const int band = (1280 + wo - 1) / wo;
    for (int b0 = oh0; b0 < oh1; b0 += band) {
        const int b1 = b0 + band < oh1 ? b0 + band : oh1;
        for (int c = 0; c < cin; c++) {
            for (int ki = 0; ki < k; ki++) {
                for (int co0 = 0; co0 < cout; co0 += 4) {
                    __m256 acc[4][3];
                    for (int j = 0; j < 4; j++)
                        for (int kj = 0; kj < 3; kj++) acc[j][kj] = _mm256_setzero_ps();
                    for (int oh = b0; oh < b1; oh++) {
                        const int ih = oh * stride - pad + ki;
                        if (ih < 0 || ih >= h) continue;
                        const float *row = x + ((long)c * h + ih) * w;
                        for (int ow0 = 0; ow0 < wo; ow0 += 8) {
                            __m256 xv[3];
                            for (int kj = 0; kj < 3; kj++)
                                xv[kj] = kj < k ? taps(row, w, ow0 * stride - pad + kj, stride) : _mm256_setzero_ps();
                            for (int j = 0; j < 4; j++) {
                                /* dy lanes past the row end are zero, so their taps add nothing */
                                const __m256 d = load8(dy + ((long)(co0 + j) * ho + oh) * wo, wo, ow0);
                                for (int kj = 0; kj < 3; kj++) acc[j][kj] = _mm256_fmadd_ps(d, xv[kj], acc[j][kj]);
                            }
                        }
                    }
                    for (int j = 0; j < 4; j++)
                        for (int kj = 0; kj < k; kj++)
                            dw[((long)(co0 + j) * cin + c) * kk + ki * k + kj] += hsum(acc[j][kj]);
                }
            }
        }
    }
}
SIMD void ck_conv_direct_weight_grad(const float *x, int cin, int h, int w, const float *dy, int cout, int k,
                                     int stride, int pad, float *dw, float *db, int oh0, int oh1) {
    if (k == 3 && stride == 1) weight_grad_rows(x, cin, h, w, dy, cout, 3, 1, pad, dw, db, oh0, oh1);
    else if (k == 3 && stride == 2) weight_grad_rows(x, cin, h, w, dy, cout, 3, 2, pad, dw, db, oh0, oh1);
    else weight_grad_rows(x, cin, h, w, dy, cout, k, stride, pad, dw, db, oh0, oh1);
}
#else
int ck_conv_direct_supported(int cout, int k, int stride) { (void)cout; (void)k; (void)stride; return 0; }
void ck_conv_direct_forward(const float *x, int cin, int h, int w, const float *wt, int cout, int k, int stride,
                            int pad, const float *bias, float *y, int oh0, int oh1) {}
void ck_conv_direct_weight_grad(const float *x, int cin, int h, int w, const float *dy, int cout, int k,
                                int stride, int pad, float *dw, float *db, int oh0, int oh1) {}
#endif
