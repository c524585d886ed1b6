/*
 * fp32 convolution as a GEMM whose B operand is the patch matrix read in place (implicit im2col: no patch matrix
 * is written), AVX-512F. One image, output rows [oh0, oh1) (a tile), single-threaded; callers split tiles and
 * images over the cores.
 *
 *   forward:      y[cout, T]  = w[cout, R] · col[R, T] + beta·y           (m = cout, n = T, k = R)
 *   weight grad:  dw[cout, R] += dy[cout, T] · colᵀ[T, R]                 (m = cout, n = R, k = T)
 *
 * with R = cin·K², T = (oh1 − oh0)·wo and col as in patches.h. A stride-2 input gradient dx = col2im(wᵀ·dy) is
 * four forward products instead, one per parity class of dx's rows and columns: each class receives only the taps
 * of one parity, a stride-1 convolution of dy with a flipped Jh × Jw sub-kernel (J ≤ ⌈K/2⌉) and its own top and
 * left padding, so the K²-fold scatter-add of col2im and its patch-matrix gradient are never written. Blocking after Goto & van de Geijn, "Anatomy of
 * high-performance matrix multiplication" (ACM TOMS 34(3), 2008) and BLIS's five loops (Van Zee & van de Geijn,
 * ACM TOMS 41(3), 2015), the same loops as gemm_bf16.c:
 *
 *   for jc < n step NC:
 *     for pc < k step KC:
 *       for ic < m step MC:                    A block [MC, KC] packed, kept in L2
 *         for jr < nc step NR:                 B micro-panel [KC, NR] packed while ic = 0 (kept for later ic)
 *           for ir < mc step MR:               micro-kernel, MR x NR accumulators in registers
 *
 * Packing each B micro-panel just before its first use (rather than the whole B block first, as gemm_bf16.c does)
 * keeps it in L1 for the m/MR micro-kernels that read it: the convolutions have m = cout ≤ MC, one A block.
 *
 * Packed layouts: A micro-panel a[p·MR + i] = A[i, p] (rows past m zero), B micro-panel b[p·NR + j] = B[p, j]
 * (columns past n zero). The micro-kernel is 8 × 48: 24 zmm accumulators, three B vectors and one broadcast of A
 * per k, 24 FMAs. The forward B panel is 48 consecutive columns of col rows (contiguous or gathered taps); the
 * weight-gradient B panel is colᵀ, packed by 16 × 16 in-register transposes of col rows. A weight gradient with
 * R ≤ 32 (the 3-channel stem: 27) and cout ≤ 64 runs as dot products along T instead (weight_grad_narrow.c).
 * References: Reference.conv2d / Reference.conv2dBackward in NeuralNet (naive Double loops); the fallback on CPUs
 * without AVX-512F is im2col + OpenBLAS sgemm (ConvKernels).
 */
#include "CKernels.h"

#include <stdlib.h>
#include <string.h>

/* One dimension of a stride-2 input gradient split by output parity r (0 or 1), kernel k, padding pad: the taps
 * kh = first + 2·(taps − 1 − u), u < taps, reach dx rows 2a + r from dy rows a + u − sub_pad; size = the count of
 * dx rows of parity r in an extent of n. */
typedef struct { int first, taps, sub_pad, size; } parity_axis;

static parity_axis parity_axis_at(int r, int k, int pad, int n) {
    parity_axis a;
    a.first = (r + pad) & 1;
    a.taps = a.first < k ? (k - a.first + 1) / 2 : 0;
    a.sub_pad = a.taps - 1 - (r + pad - a.first) / 2;
    a.size = (n - r + 1) / 2;
    return a;
}

void ck_conv_f32_parity_weights(const float *w, int cout, int cin, int k, int pad, float *sub) {
    for (int rh = 0; rh < 2; rh++)
        for (int rw = 0; rw < 2; rw++) {
            parity_axis ah = parity_axis_at(rh, k, pad, 2), aw = parity_axis_at(rw, k, pad, 2);
            int r = cout * ah.taps * aw.taps;
            for (int ci = 0; ci < cin; ci++)
                for (int co = 0; co < cout; co++)
                    for (int u = 0; u < ah.taps; u++)
                        for (int v = 0; v < aw.taps; v++) {
                            int kh = ah.first + 2 * (ah.taps - 1 - u), kw = aw.first + 2 * (aw.taps - 1 - v);
                            sub[(size_t)ci * r + ((size_t)co * ah.taps + u) * aw.taps + v] =
                                w[(((size_t)co * cin + ci) * k + kh) * k + kw];
                        }
            sub += (size_t)cin * r;
        }
}

#if defined(__x86_64__)
#include <immintrin.h>

#include "patches.h"
#include "transpose.h"
#include "weight_grad_narrow.h"

#define F32 __attribute__((target("avx512f")))

enum { MR = 8, NR = 48, KC = 128, MC = 128, NC = 3072 };

/* Forward B block: panel[p·NR + j] = col[r0 + p, c0 + j] for p < kc, j < cols (cols ≤ NR; lanes past cols zero).
 * Chunk by chunk of 16 columns and tap by tap, each tap decoded once and read for every channel whose row lies in
 * the block (rows c·K² + tap: K² rows apart in the panel, which stays in L1). */
F32 static void pack_patch_rows(const patches *g, int r0, int kc, int c0, int cols, float *panel) {
    int chunks = (cols + 15) / 16, kk = g->kernel_h * g->kernel_w;
    size_t plane_size = (size_t)g->height * g->width;
    for (int j = 0; j < NR / 16; j++) {
        if (j >= chunks) {
            for (int p = 0; p < kc; p++) _mm512_storeu_ps(panel + (size_t)p * NR + 16 * j, _mm512_setzero_ps());
            continue;
        }
        patch_columns q = patch_columns_at(g, c0 + 16 * j, cols - 16 * j < 16 ? cols - 16 * j : 16);
        for (int tap = 0; tap < kk; tap++) { /* channels c with r0 ≤ c·K² + tap < r0 + kc */
            int c_begin = r0 - tap <= 0 ? 0 : (r0 - tap + kk - 1) / kk, c_end = (r0 + kc - tap + kk - 1) / kk;
            if (c_begin >= c_end) continue;
            pack_tap_channels(patch_tap_at(g, &q, tap / g->kernel_w, tap % g->kernel_w), g->x, plane_size, c_begin,
                              c_end, panel + (size_t)(c_begin * kk + tap - r0) * NR + 16 * j, (size_t)kk * NR);
        }
    }
}

/* Weight-gradient B block (B = colᵀ, k = column t, n = row r): panel[p·NR + j] = col[c0 + j, t0 + p] for p < kc,
 * j < cols, zero for cols ≤ j < NR. `taps` holds the K² taps of each 16-column chunk of
 * [t0, t0 + kc) (decode_chunk_taps). */
F32 static void pack_patch_cols(const patches *g, const patch_tap *taps, int kc, int c0, int cols, float *panel) {
    __m512 v[16];
    int kk = g->kernel_h * g->kernel_w, plane_size = g->height * g->width;
    for (int p = 0; p < kc; p += 16) {
        int n = kc - p < 16 ? kc - p : 16;
        const patch_tap *chunk = taps + (size_t)(p / 16) * kk;
        int c = c0 / kk, tap = c0 % kk;
        for (int j = 0; j < cols; j += 16) {
            for (int i = 0; i < 16; i++) {
                v[i] = j + i < cols ? patch_tap_load(g->x + (size_t)c * plane_size, &chunk[tap]) : _mm512_setzero_ps();
                if (++tap == kk) { tap = 0; c++; }
            }
            transpose16(v); /* lanes past cols − j are zero: the rows loaded as zero above */
            for (int i = 0; i < n; i++) _mm512_storeu_ps(panel + (size_t)(p + i) * NR + j, v[i]);
        }
        for (int j = (cols + 15) / 16 * 16; j < NR; j += 16)
            for (int i = 0; i < n; i++) _mm512_storeu_ps(panel + (size_t)(p + i) * NR + j, _mm512_setzero_ps());
    }
}

/* The K² taps of every 16-column chunk of columns [t0, t0 + kc): taps[(p / 16)·K² + kh·K + kw]. */
F32 static void decode_chunk_taps(const patches *g, int t0, int kc, patch_tap *taps) {
    int kk = g->kernel_h * g->kernel_w;
    for (int p = 0; p < kc; p += 16) {
        patch_columns q = patch_columns_at(g, t0 + p, kc - p < 16 ? kc - p : 16);
        for (int tap = 0; tap < kk; tap++)
            taps[(size_t)(p / 16) * kk + tap] = patch_tap_at(g, &q, tap / g->kernel_w, tap % g->kernel_w);
    }
}

/* A block: panel[p·MR + i] = a[(i0 + i)·lda + k0 + p] for i < rows (rows past `rows` zero), p < kc: 16 columns
 * at a time, the MR rows loaded as vectors and transposed (the upper half of the 16 x 16 transpose is zero). */
F32 static void pack_a(const float *a, size_t lda, int i0, int rows, int k0, int kc, float *panel) {
    __m512 v[16];
    for (int p = 0; p < kc; p += 16) {
        int n = kc - p < 16 ? kc - p : 16;
        for (int i = 0; i < 16; i++)
            v[i] = i < rows && i < MR ? _mm512_maskz_loadu_ps(first_lanes(n), a + (size_t)(i0 + i) * lda + k0 + p)
                                      : _mm512_setzero_ps();
        transpose16(v);
        for (int q = 0; q < n; q++) _mm256_storeu_ps(panel + (size_t)(p + q) * MR, _mm512_castps512_ps256(v[q]));
    }
}

/* MR x NR block: acc = Σ_p A[p]·B[p]; then C = acc + beta·C (beta 0: C not read). */
F32 static void kernel_8x48(int kc, const float *a, const float *b, float *c, size_t ldc, float beta) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m512 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    __m512 c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
    __m512 c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
    for (int p = 0; p < kc; p++) {
        const float *bp = b + (size_t)p * NR, *ap = a + (size_t)p * MR;
        _mm_prefetch((const char *)(bp + 6 * NR), _MM_HINT_T0);
        _mm_prefetch((const char *)(bp + 6 * NR + 16), _MM_HINT_T0);
        _mm_prefetch((const char *)(bp + 6 * NR + 32), _MM_HINT_T0);
        __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16), b2 = _mm512_loadu_ps(bp + 32);
#define ROW(i)                                                                                                      \
    {                                                                                                               \
        __m512 ai = _mm512_set1_ps(ap[i]);                                                                          \
        c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);                                                                 \
        c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);                                                                 \
        c##i##2 = _mm512_fmadd_ps(ai, b2, c##i##2);                                                                 \
    }
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#undef ROW
    }
    __m512 vb = _mm512_set1_ps(beta);
#define STORE(i)                                                                                                    \
    {                                                                                                               \
        float *ci = c + (size_t)(i) * ldc;                                                                          \
        if (beta == 0) {                                                                                            \
            _mm512_storeu_ps(ci, c##i##0);                                                                          \
            _mm512_storeu_ps(ci + 16, c##i##1);                                                                     \
            _mm512_storeu_ps(ci + 32, c##i##2);                                                                     \
        } else {                                                                                                    \
            _mm512_storeu_ps(ci, _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci), c##i##0));                                \
            _mm512_storeu_ps(ci + 16, _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci + 16), c##i##1));                      \
            _mm512_storeu_ps(ci + 32, _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci + 32), c##i##2));                      \
        }                                                                                                           \
    }
    STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7)
#undef STORE
}

/* Per-thread packing buffers, allocated once and kept (the callers run on a fixed pool of workers). */
static _Thread_local float *pack_a_buffer, *pack_b_buffer;

static float *packing_buffer(float **slot, size_t floats) {
    if (!*slot) *slot = aligned_alloc(64, floats * 4);
    if (!*slot) abort();
    return *slot;
}

/* C[m, n] = A[m, k] (row-major, lda) · B + beta·C, B = col (weight_grad 0, k = R) or colᵀ (weight_grad 1, k = T). */
F32 static void gemm_patches(int weight_grad, const patches *g, int m, int n, int k, const float *a, size_t lda,
                             float beta, float *c, size_t ldc) {
    float *pa = packing_buffer(&pack_a_buffer, (size_t)KC * MC);
    float *pb = packing_buffer(&pack_b_buffer, (size_t)KC * NC);
    float edge[MR * NR] __attribute__((aligned(64)));
    /* The decoded taps of the k block's column chunks (weight grad). */
    patch_tap *taps = weight_grad ? aligned_alloc(64, sizeof(patch_tap) * (KC / 16) * g->kernel_h * g->kernel_w) : NULL;
    if (weight_grad && !taps) abort();
    for (int jc = 0; jc < n; jc += NC) {
        int nc = n - jc < NC ? n - jc : NC;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = k - pc < KC ? k - pc : KC;
            float beta_block = pc == 0 ? beta : 1.0f;
            if (weight_grad) decode_chunk_taps(g, pc, kc, taps);
            for (int ic = 0; ic < m; ic += MC) {
                int mc = m - ic < MC ? m - ic : MC;
                for (int ir = 0; ir < mc; ir += MR)
                    pack_a(a, lda, ic + ir, mc - ir < MR ? mc - ir : MR, pc, kc, pa + (size_t)ir * kc);
                for (int jr = 0; jr < nc; jr += NR) {
                    int cols = nc - jr < NR ? nc - jr : NR;
                    float *bpanel = pb + (size_t)jr * kc;
                    if (ic == 0) { /* packed once, used at once from L1 by every A micro-panel of this block */
                        if (weight_grad) {
                            pack_patch_cols(g, taps, kc, jc + jr, cols, bpanel);
                        } else {
                            pack_patch_rows(g, pc, kc, jc + jr, cols, bpanel);
                        }
                    }
                    for (int ir = 0; ir < mc; ir += MR) {
                        int rows = mc - ir < MR ? mc - ir : MR;
                        float *cij = c + (size_t)(ic + ir) * ldc + jc + jr;
                        if (rows == MR && cols == NR) {
                            kernel_8x48(kc, pa + (size_t)ir * kc, bpanel, cij, ldc, beta_block);
                        } else {
                            kernel_8x48(kc, pa + (size_t)ir * kc, bpanel, edge, NR, 0.0f);
                            for (int i = 0; i < rows; i++)
                                for (int j = 0; j < cols; j++) {
                                    float *cv = cij + (size_t)i * ldc + j;
                                    *cv = edge[i * NR + j] + (beta_block == 0 ? 0 : beta_block * *cv);
                                }
                        }
                    }
                }
            }
        }
    }
    free(taps);
}

F32 static void conv_f32(int weight_grad, const float *x, int cin, int h, int w, int k, int stride, int pad,
                         const float *a, int lda, int cout, int oh0, int oh1, float beta, float *c, int ldc) {
    int *offsets = patch_offsets(oh0, oh1, (w + 2 * pad - k) / stride + 1, stride, pad, pad);
    patches g = patch_matrix(x, cin, h, w, k, stride, pad, oh0, oh1, offsets);
    if (weight_grad && cin * k * k <= NARROW_MAX_ROWS && cout <= NARROW_MAX_COUT && beta == 1.0f && ldc == cin * k * k)
        conv_f32_weight_grad_narrow(&g, cout, a, (size_t)lda, c);
    else if (weight_grad)
        gemm_patches(1, &g, cout, cin * k * k, g.columns, a, (size_t)lda, beta, c, (size_t)ldc);
    else
        gemm_patches(0, &g, cout, g.columns, cin * k * k, a, (size_t)lda, beta, c, (size_t)ldc);
    free(offsets);
}

void ck_conv_f32_forward(const float *x, int cin, int h, int w, int k, int stride, int pad, const float *wt,
                         int cout, int oh0, int oh1, float beta, float *y, int ldy) {
    if (cout <= 0 || oh1 <= oh0) return;
    conv_f32(0, x, cin, h, w, k, stride, pad, wt, cin * k * k, cout, oh0, oh1, beta, y, ldy);
}

void ck_conv_f32_weight_grad(const float *x, int cin, int h, int w, int k, int stride, int pad, const float *dy,
                             int lddy, int cout, int oh0, int oh1, float *dw) {
    if (cout <= 0 || oh1 <= oh0) return;
    conv_f32(1, x, cin, h, w, k, stride, pad, dy, lddy, cout, oh0, oh1, 1.0f, dw, cin * k * k);
}
/* dx[cin, h, w] = the input gradient of the stride-2 convolution (kernel k, padding pad) for dy[cout, ho, wo]:
 * for each parity class (rh, rw) the stride-1 convolution of dy with the sub-kernel of the taps that reach it
 * (ck_conv_f32_parity_weights), computed by gemm_patches into part[rw]; the two column classes of a row parity
 * are then interleaved into dx's rows 2a + rh by a two-source permute, 32 outputs per pair of vectors. */
F32 static void conv_f32_parity_input_grad(const float *dy, int cout, int ho, int wo, const float *sub, int cin,
                                           int h, int w, int k, int pad, float *dx) {
    size_t plane = (size_t)((h + 1) / 2) * ((w + 1) / 2);
    float *part[2] = {malloc(sizeof(float) * cin * plane + 64), malloc(sizeof(float) * cin * plane + 64)};
    if (!part[0] || !part[1]) abort();
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for (int rh = 0; rh < 2; rh++) {
        parity_axis ah = parity_axis_at(rh, k, pad, h), aw[2];
        for (int rw = 0; rw < 2; rw++) {
            aw[rw] = parity_axis_at(rw, k, pad, w);
            int r = cout * ah.taps * aw[rw].taps, columns = ah.size * aw[rw].size;
            if (columns > 0 && r > 0) {
                int *offsets = patch_offsets(0, ah.size, aw[rw].size, 1, ah.sub_pad, aw[rw].sub_pad);
                patches g = patch_matrix_rect(dy, cout, ho, wo, ah.taps, aw[rw].taps, 1, aw[rw].sub_pad,
                                              aw[rw].size, 0, ah.size, offsets);
                gemm_patches(0, &g, cin, columns, r, sub, (size_t)r, 0.0f, part[rw], (size_t)columns);
                free(offsets);
            } else if (columns > 0) {
                memset(part[rw], 0, sizeof(float) * (size_t)cin * columns);
            }
            sub += (size_t)cin * r;
        }
        for (int ci = 0; ci < cin; ci++)
            for (int a = 0; a < ah.size; a++) {
                const float *s0 = part[0] + ((size_t)ci * ah.size + a) * aw[0].size;
                const float *s1 = part[1] + ((size_t)ci * ah.size + a) * aw[1].size;
                float *dst = dx + ((size_t)ci * h + 2 * a + rh) * w;
                for (int b = 0; 2 * b < w; b += 16) { /* dst[2b + 2l] = s0[b + l], dst[2b + 2l + 1] = s1[b + l] */
                    __m512 v0 = _mm512_maskz_loadu_ps(first_lanes(aw[0].size - b), s0 + b);
                    __m512 v1 = _mm512_maskz_loadu_ps(first_lanes(aw[1].size - b), s1 + b);
                    _mm512_mask_storeu_ps(dst + 2 * b, first_lanes(w - 2 * b), _mm512_permutex2var_ps(v0, lo, v1));
                    _mm512_mask_storeu_ps(dst + 2 * b + 16, first_lanes(w - 2 * b - 16),
                                          _mm512_permutex2var_ps(v0, hi, v1));
                }
            }
    }
    free(part[1]);
    free(part[0]);
}

void ck_conv_f32_input_grad_stride2(const float *dy, int cout, int ho, int wo, const float *sub, int cin, int h,
                                    int w, int k, int pad, float *dx) {
    if (cin <= 0 || h <= 0 || w <= 0) return;
    conv_f32_parity_input_grad(dy, cout, ho, wo, sub, cin, h, w, k, pad, dx);
}
#else
void ck_conv_f32_forward(const float *x, int cin, int h, int w, int k, int stride, int pad, const float *wt,
                         int cout, int oh0, int oh1, float beta, float *y, int ldy) {
    (void)x; (void)cin; (void)h; (void)w; (void)k; (void)stride; (void)pad; (void)wt; (void)cout; (void)oh0;
    (void)oh1; (void)beta; (void)y; (void)ldy;
    abort(); /* callers check ck_cpu_has_avx512f first */
}

void ck_conv_f32_weight_grad(const float *x, int cin, int h, int w, int k, int stride, int pad, const float *dy,
                             int lddy, int cout, int oh0, int oh1, float *dw) {
    (void)x; (void)cin; (void)h; (void)w; (void)k; (void)stride; (void)pad; (void)dy; (void)lddy; (void)cout;
    (void)oh0; (void)oh1; (void)dw;
    abort();
}

void ck_conv_f32_input_grad_stride2(const float *dy, int cout, int ho, int wo, const float *sub, int cin, int h,
                                    int w, int k, int pad, float *dx) {
    (void)dy; (void)cout; (void)ho; (void)wo; (void)sub; (void)cin; (void)h; (void)w; (void)k; (void)pad; (void)dx;
    abort();
}
#endif
