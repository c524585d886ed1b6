/*
 * The forward pass of 3×3 stride-2 convolutions with padding 1 (used for image stems, 1–3 input channels), computed
 * straight from the image on AVX-512F: no patch matrix and no packed B panel. A block of 8 output channels × up to
 * 48 consecutive outputs of one row keeps 24 zmm accumulators; for each input channel and kernel row the 16 outputs
 * of a vector need input columns 2l − 1, 2l and 2l + 1, read as two pairs of masked loads and split into even and
 * odd lanes (the three taps of the row), and each tap meets 8 broadcast weights: 24 FMAs per 8 broadcasts and, for
 * three vectors, 12 loads and 9 permutes per 72 FMAs. The implicit GEMM (gemm_f32.c) packs the same patches once
 * per panel and reads them back once per 8 output channels, which for the stem (27 patch rows, 16 output channels)
 * leaves the packing much of the work; with more input and output channels the GEMM is as fast or faster (here each
 * block of 8 output channels recomputes its taps), so ConvKernels.usesStride2Direct takes this kernel for at most 3
 * input channels. Weights are rearranged once per call into [⌈cout/8⌉][cin][9][8] so a block's
 * broadcasts are consecutive. Single-threaded; callers split images and bands over the cores. x86-64 only.
 * Reference: Reference.conv2d in NeuralNet (naive Double loops), ConvStride2Tests.
 */
#include "CKernels.h"

#include <stdlib.h>

int ck_conv_s2_f32_weight_floats(int cout, int cin) { return (cout + 7) / 8 * 8 * cin * 9; }

void ck_conv_s2_f32_weights(const float *w, int cout, int cin, float *packed) {
    int blocks = (cout + 7) / 8;
    for (int cb = 0; cb < blocks; cb++)
        for (int ci = 0; ci < cin; ci++)
            for (int tap = 0; tap < 9; tap++)
                for (int r = 0; r < 8; r++) {
                    int co = cb * 8 + r;
                    packed[(((size_t)cb * cin + ci) * 9 + tap) * 8 + r] = co < cout ? w[((size_t)co * cin + ci) * 9 + tap] : 0;
                }
}

#if defined(__x86_64__)
#include <immintrin.h>

#include "patches.h"

#define S2 __attribute__((target("avx512f")))

/* Lanes k of a 16-float read at column c0 + k that lie in [0, w). */
static inline __mmask16 inside(int c0, int w) {
    int lo = c0 < 0 ? -c0 : 0, hi = w - c0;
    return hi <= lo ? 0 : (__mmask16)(first_lanes(hi) & ~first_lanes(lo));
}

/* The column masks of one row block: for vector v (outputs ow0 + 16v …), the reads at input columns c, c + 16,
 * c + 2, c + 18 (c = 2·(ow0 + 16v) − 1) and the outputs that exist. */
typedef struct {
    __mmask16 read[3][4], out[3];
} row_masks;

/* acc = beta·y (or 0), then Σ over input channels and the valid kernel rows; stored to y. NV vectors of 16 outputs,
 * `live` of the block's 8 output channels stored. Inlined with constant NV so the 8 × NV accumulators stay in
 * registers. */
S2 static inline __attribute__((always_inline)) void block_nv(int nv, const float *x, int cin, int h, int w, int oh,
                                                              int ow0, const float *wp, const row_masks *m, int live,
                                                              float beta, float *y, size_t ldy) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    static const int offset[4] = {0, 16, 2, 18};
    __m512 acc[8][3];
    for (int r = 0; r < 8; r++)
        for (int v = 0; v < nv; v++)
            acc[r][v] = beta != 0 && r < live
                            ? _mm512_mul_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(m->out[v], y + r * ldy + ow0 + 16 * v))
                            : _mm512_setzero_ps();
    int kh0 = 2 * oh - 1 < 0 ? 1 : 0, kh1 = 2 * oh + 1 >= h ? 2 : 3; /* kernel rows inside the image */
    for (int ci = 0; ci < cin; ci++)
        for (int kh = kh0; kh < kh1; kh++) {
            const float *row = x + ((size_t)ci * h + (2 * oh - 1 + kh)) * w;
            __m512 t[3][3];
            for (int v = 0; v < nv; v++) {
                const float *at = row + 2 * (ow0 + 16 * v) - 1;
                __m512 l[4];
                for (int j = 0; j < 4; j++) l[j] = _mm512_maskz_loadu_ps(m->read[v][j], at + offset[j]);
                t[0][v] = _mm512_permutex2var_ps(l[0], even, l[1]);
                t[1][v] = _mm512_permutex2var_ps(l[0], odd, l[1]);
                t[2][v] = _mm512_permutex2var_ps(l[2], even, l[3]);
            }
            const float *wk = wp + ((size_t)ci * 9 + 3 * kh) * 8;
            for (int kw = 0; kw < 3; kw++)
                for (int r = 0; r < 8; r++) {
                    __m512 wv = _mm512_set1_ps(wk[8 * kw + r]);
                    for (int v = 0; v < nv; v++) acc[r][v] = _mm512_fmadd_ps(wv, t[kw][v], acc[r][v]);
                }
        }
    for (int r = 0; r < live; r++)
        for (int v = 0; v < nv; v++) _mm512_mask_storeu_ps(y + r * ldy + ow0 + 16 * v, m->out[v], acc[r][v]);
}

S2 static void forward_s2(const float *x, int cin, int h, int w, const float *packed, int cout, int oh0, int oh1,
                          float beta, float *y, int ldy) {
    int wo = (w + 1) / 2, blocks = (cout + 7) / 8;
    for (int oh = oh0; oh < oh1; oh++)
        for (int ow0 = 0; ow0 < wo; ow0 += 48) {
            int nv = (wo - ow0 + 15) / 16 < 3 ? (wo - ow0 + 15) / 16 : 3;
            row_masks m;
            for (int v = 0; v < nv; v++) {
                int c = 2 * (ow0 + 16 * v) - 1;
                m.read[v][0] = inside(c, w);
                m.read[v][1] = inside(c + 16, w);
                m.read[v][2] = inside(c + 2, w);
                m.read[v][3] = inside(c + 18, w);
                m.out[v] = first_lanes(wo - ow0 - 16 * v);
            }
            for (int cb = 0; cb < blocks; cb++) {
                const float *wp = packed + (size_t)cb * cin * 72;
                int live = cout - 8 * cb < 8 ? cout - 8 * cb : 8;
                float *yb = y + (size_t)8 * cb * ldy + (size_t)(oh - oh0) * wo;
                if (nv == 3) block_nv(3, x, cin, h, w, oh, ow0, wp, &m, live, beta, yb, (size_t)ldy);
                else if (nv == 2) block_nv(2, x, cin, h, w, oh, ow0, wp, &m, live, beta, yb, (size_t)ldy);
                else block_nv(1, x, cin, h, w, oh, ow0, wp, &m, live, beta, yb, (size_t)ldy);
            }
        }
}
#endif

void ck_conv_s2_f32_forward(const float *x, int cin, int h, int w, const float *packed, int cout, int oh0, int oh1,
                            float beta, float *y, int ldy) {
#if defined(__x86_64__)
    if (cout <= 0 || oh1 <= oh0 || h <= 0 || w <= 0) return;
    forward_s2(x, cin, h, w, packed, cout, oh0, oh1, beta, y, ldy);
#else
    (void)x; (void)cin; (void)h; (void)w; (void)packed; (void)cout; (void)oh0; (void)oh1; (void)beta; (void)y;
    (void)ldy;
    abort();
#endif
}
