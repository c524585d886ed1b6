/*
 * The weight gradient dw[cout, R] += dy[cout, T] · colᵀ[T, R] for a narrow patch matrix (R ≤ 32 rows, e.g. the
 * 3-channel stem's 27) as R·cout dot products over the columns t, vectorised along t: no transposes, every lane
 * used. Per block of NT columns the R patch rows are read from the image (implicit im2col, patches.h) into a
 * row-major [R, NT] buffer and the dy rows copied (zero-padded) beside them; a 4 × 6 register block of
 * (output channel, patch row) pairs then keeps 16 partial sums each (24 zmm accumulators, 4 + 6 loads per 24 FMAs),
 * which are reduced across lanes once per call. Reference: Reference.conv2dBackward (via ConvImplicitTests).
 */
#if defined(__x86_64__)
#include "weight_grad_narrow.h"

#include <stdlib.h>
#include <string.h>

#include <immintrin.h>

#define F32 __attribute__((target("avx512f")))

enum { NT = 256, BC = 4, BR = 6 };

/* acc[(i·r6 + j)·16 + l] += Σ_v d[i·NT + 16v + l]·x[j·NT + 16v + l] for i < BC, j < BR, v < vecs. */
F32 static void narrow_block(int vecs, const float *d, const float *x, float *acc, int r6) {
    __m512 s[BC][BR];
    for (int i = 0; i < BC; i++)
        for (int j = 0; j < BR; j++) s[i][j] = _mm512_loadu_ps(acc + ((size_t)i * r6 + j) * 16);
    for (int v = 0; v < vecs; v++) {
        __m512 dv[BC];
        for (int i = 0; i < BC; i++) dv[i] = _mm512_load_ps(d + (size_t)i * NT + 16 * v);
        for (int j = 0; j < BR; j++) {
            __m512 xv = _mm512_load_ps(x + (size_t)j * NT + 16 * v);
            for (int i = 0; i < BC; i++) s[i][j] = _mm512_fmadd_ps(dv[i], xv, s[i][j]);
        }
    }
    for (int i = 0; i < BC; i++)
        for (int j = 0; j < BR; j++) _mm512_storeu_ps(acc + ((size_t)i * r6 + j) * 16, s[i][j]);
}

F32 void conv_f32_weight_grad_narrow(const patches *g, int cout, const float *dy, size_t lddy, float *dw) {
    int kk = g->kernel_h * g->kernel_w, rows = g->channels * kk, plane_size = g->height * g->width;
    int r6 = (rows + BR - 1) / BR * BR, c4 = (cout + BC - 1) / BC * BC;
    float *x = aligned_alloc(64, sizeof(float) * (size_t)(r6 + c4) * NT), *d = x + (size_t)r6 * NT;
    float *acc = aligned_alloc(64, sizeof(float) * (size_t)c4 * r6 * 16);
    patch_tap *taps = aligned_alloc(64, sizeof(patch_tap) * (NT / 16) * kk);
    if (!x || !acc || !taps) abort();
    memset(acc, 0, sizeof(float) * (size_t)c4 * r6 * 16);
    for (int t0 = 0; t0 < g->columns; t0 += NT) {
        int nt = g->columns - t0 < NT ? g->columns - t0 : NT, vecs = (nt + 15) / 16;
        for (int v = 0; v < vecs; v++) {
            patch_columns q = patch_columns_at(g, t0 + 16 * v, nt - 16 * v < 16 ? nt - 16 * v : 16);
            for (int tap = 0; tap < kk; tap++)
                taps[v * kk + tap] = patch_tap_at(g, &q, tap / g->kernel_w, tap % g->kernel_w);
        }
        for (int v = 0; v < vecs; v++) /* row c·K² + tap: each tap decoded once, read for every channel */
            for (int tap = 0; tap < kk; tap++)
                pack_tap_channels(taps[v * kk + tap], g->x, (size_t)plane_size, 0, g->channels,
                                  x + (size_t)tap * NT + 16 * v, (size_t)kk * NT);
        for (int r = rows; r < r6; r++)
            for (int v = 0; v < vecs; v++) _mm512_store_ps(x + (size_t)r * NT + 16 * v, _mm512_setzero_ps());
        for (int co = 0; co < c4; co++)
            for (int v = 0; v < vecs; v++)
                _mm512_store_ps(d + (size_t)co * NT + 16 * v,
                                co < cout ? _mm512_maskz_loadu_ps(first_lanes(nt - 16 * v), dy + co * lddy + t0 + 16 * v)
                                          : _mm512_setzero_ps());
        for (int c0 = 0; c0 < c4; c0 += BC)
            for (int r0 = 0; r0 < r6; r0 += BR)
                narrow_block(vecs, d + (size_t)c0 * NT, x + (size_t)r0 * NT, acc + ((size_t)c0 * r6 + r0) * 16, r6);
    }
    for (int co = 0; co < cout; co++)
        for (int r = 0; r < rows; r++)
            dw[(size_t)co * rows + r] += _mm512_reduce_add_ps(_mm512_load_ps(acc + ((size_t)co * r6 + r) * 16));
    free(taps);
    free(acc);
    free(x);
}
#endif
