/*
 * The pieces shared by the Winograd forward pass (F(4×4, 3×3), winograd4_f32.c) and weight gradient (F(2×2, 3×3),
 * winograd_f32_grad.c): the buffer layouts, the tile pieces of a band, the reads of input rows, the F(2×2) input
 * transform Bᵀ d B of 16 tiles and the 8 × 16·nv micro-kernel. Private to CKernels (not under include/); the AVX-512F parts x86-64 only.
 * Each including file gets its own copies of the static functions and of the per-thread buffers.
 */
#ifndef CKERNELS_WINOGRAD_H
#define CKERNELS_WINOGRAD_H

#include <stdlib.h>
#include <string.h>

enum { WMR = 8, WNR = 48 };

static int round_up(int n, int m) { return (n + m - 1) / m * m; }

/* The floats from one ξ-plane of a [16 or 36][rows][ld] buffer to the next (ld a multiple of 16): rows·ld, plus one
 * cache line when that is an even number of lines, so that the 16 planes' rows at one position fall in 16
 * different L1 sets (an even stride puts them in two: measured 53 ns against 40 ns per transformed channel and 16 tiles). */
static size_t plane_floats(int rows, size_t ld) {
    size_t floats = (size_t)rows * ld;
    return (floats / 16) % 2 == 0 ? floats + 16 : floats;
}

#if defined(__x86_64__)
#include <immintrin.h>

#include "patches.h"
#include "transpose.h"

#define WF __attribute__((target("avx512f")))

/* Lanes k of a 16-float read at column c0 + k that lie in [0, w). */
static inline __mmask16 columns_inside(int c0, int w) {
    int lo = c0 < 0 ? -c0 : 0, hi = w - c0;
    if (hi <= lo) return 0;
    return (__mmask16)(first_lanes(hi) & ~first_lanes(lo));
}

/* Per-thread work buffers, grown on demand and kept (the callers run on a fixed pool of workers). */
static _Thread_local float *work_buffer;
static _Thread_local size_t work_capacity;

static float *work(size_t floats) {
    if (floats > work_capacity) {
        free(work_buffer);
        size_t bytes = (floats * 4 + 63) / 64 * 64;
        work_buffer = aligned_alloc(64, bytes);
        if (!work_buffer) abort();
        memset(work_buffer, 0, bytes); /* lanes past a block's tiles are read by the GEMM: keep them finite */
        work_capacity = floats;
    }
    return work_buffer;
}

/* A run of at most 16 tiles of a band in row-major tile order, spanning at most two tile rows: lanes l < split are
 * tiles tc0 + l of band tile row trow, lanes split ≤ l < count tiles l − split of tile row trow + 1 (split = count:
 * one row); block tiles t … t + count − 1. */
typedef struct { int trow, tc0, count, split, t; } tile_piece;

/* The reads of one piece from an input plane, for each of the 4 input rows i and the four 16-float reads j (pair
 * positions 16·(j % 2) …, columns shifted by 2·(j / 2)): lanes of the first tile row at a[i] + 16·(j % 2) + 2·(j / 2)
 * with masks ma[j], lanes of the second at b[i] + … with masks mb[j] (no second row: mb = 0); a[i] and b[i] advance
 * by sa[i], sb[i] per channel (0 on a zero row, where the row is outside the image). Pair position q (of the 32
 * columns split into even and odd lanes) belongs to tile lane q / 2. */
typedef struct {
    const float *a[4], *b[4];
    size_t sa[4], sb[4];
    __mmask16 ma[4], mb[4];
} piece_reads;

enum { ZERO_MARGIN = 80 }; /* floats before column 0 of the zero row: a second tile row starts up to 4·16 + 1 columns left of it */
static _Thread_local float *zero_row;
static _Thread_local int zero_row_floats;

/* Input row `ih` of channel 0 at column `col`, or the zero row there (with its step 0) outside the image. */
static const float *input_row(const float *x, int h, int w, int ih, int col, size_t *step) {
    int inside = ih >= 0 && ih < h;
    *step = inside ? (size_t)h * w : 0;
    return inside ? x + (size_t)ih * w + col : zero_row + ZERO_MARGIN + col;
}

/* The zero row grown to rows of w columns (and its margins). */
static void ensure_zero_row(int w) {
    if (zero_row_floats < w + 2 * ZERO_MARGIN) {
        free(zero_row);
        zero_row_floats = w + 2 * ZERO_MARGIN;
        zero_row = calloc((size_t)zero_row_floats, sizeof(float));
        if (!zero_row) abort();
    }
}

static piece_reads reads_of(const float *x, int h, int w, int trow, tile_piece pc) {
    ensure_zero_row(w);
    piece_reads r;
    int c0 = 2 * pc.tc0 - 1, s2 = 2 * pc.split, b0 = -1 - s2; /* b0: column of pair position 0 in the second row */
    for (int i = 0; i < 4; i++) {
        r.a[i] = input_row(x, h, w, 2 * trow - 1 + i, c0, &r.sa[i]);
        r.b[i] = input_row(x, h, w, 2 * trow + 1 + i, b0, &r.sb[i]);
    }
    for (int j = 0; j < 4; j++) {
        int p = 16 * (j % 2), o = 2 * (j / 2);
        __mmask16 first = first_lanes(s2 - p); /* pair positions p + k < 2·split */
        r.ma[j] = columns_inside(c0 + o + p, w) & first;
        r.mb[j] = pc.split < pc.count ? columns_inside(b0 + o + p, w) & (__mmask16)~first : 0;
    }
    return r;
}

/* v[4i + j] = (Bᵀ d B)[i, j] for the 16 tiles of a piece, channel c: d[i][j] lane l = input row i of the tile
 * at column 2l − 1 + j relative to the piece, read as two pairs of loads split into even and odd lanes. */
WF static inline void input_tiles(const piece_reads *p, size_t c, __m512 v[16]) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    static const int offset[4] = {0, 16, 2, 18};
    __m512 d[4][4];
    for (int i = 0; i < 4; i++) {
        const float *ra = p->a[i] + c * p->sa[i], *rb = p->b[i] + c * p->sb[i];
        __m512 l[4];
        for (int j = 0; j < 4; j++) {
            l[j] = _mm512_maskz_loadu_ps(p->ma[j], ra + offset[j]);
            if (p->mb[j]) l[j] = _mm512_mask_loadu_ps(l[j], p->mb[j], rb + offset[j]);
        }
        d[i][0] = _mm512_permutex2var_ps(l[0], even, l[1]);
        d[i][1] = _mm512_permutex2var_ps(l[0], odd, l[1]);
        d[i][2] = _mm512_permutex2var_ps(l[2], even, l[3]);
        d[i][3] = _mm512_permutex2var_ps(l[2], odd, l[3]);
    }
    __m512 r[4][4]; /* Bᵀ d */
    for (int j = 0; j < 4; j++) {
        r[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
        r[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
        r[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
        r[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
    }
    for (int i = 0; i < 4; i++) { /* (Bᵀ d) B */
        v[4 * i + 0] = _mm512_sub_ps(r[i][0], r[i][2]);
        v[4 * i + 1] = _mm512_add_ps(r[i][1], r[i][2]);
        v[4 * i + 2] = _mm512_sub_ps(r[i][2], r[i][1]);
        v[4 * i + 3] = _mm512_sub_ps(r[i][1], r[i][3]);
    }
}

/* A block of a band's tiles: tiles [first_tile, first_tile + tiles) of the band, tiles_per_row to a tile row. */
typedef struct { int tiles_per_row, first_tile, tiles; } tile_block;

static _Thread_local tile_piece *piece_buffer;
static _Thread_local int piece_capacity;

/* The block's tiles as pieces of 16 (fewer at the block's end, or where 16 would reach a third tile row), in
 * order; returns how many. */
static int block_pieces(tile_block blk, tile_piece **out) {
    if (blk.tiles + 1 > piece_capacity) {
        free(piece_buffer);
        piece_capacity = 2 * blk.tiles + 16;
        piece_buffer = malloc(sizeof(tile_piece) * (size_t)piece_capacity);
        if (!piece_buffer) abort();
    }
    int n = 0, tpr = blk.tiles_per_row;
    for (int t = 0; t < blk.tiles;) {
        int g = blk.first_tile + t, tc0 = g % tpr, left = tpr - tc0;
        int count = blk.tiles - t < 16 ? blk.tiles - t : 16;
        if (count > left + tpr) count = left + tpr;
        piece_buffer[n++] = (tile_piece){g / tpr, tc0, count, count < left ? count : left, t};
        t += count;
    }
    *out = piece_buffer;
    return n;
}

/* C[8, 16·nv] (rows ldc apart) = Σ_p a[p·8 + i] · b[p·ldb + j] for p < kc (+ C when accumulate), nv = 1, 2 or 3
 * vectors of 16 columns: 8·nv zmm accumulators, nv loads and 8 broadcasts per 8·nv FMAs. Inlined with constant
 * nv and accumulate, so the accumulators stay in registers. */
WF static inline __attribute__((always_inline)) void kernel_8xn(int nv, int accumulate, int kc, const float *a,
                                                                 const float *b, size_t ldb, float *c, size_t ldc) {
    __m512 acc[8][3];
    for (int i = 0; i < 8; i++)
        for (int v = 0; v < nv; v++) acc[i][v] = _mm512_setzero_ps();
    for (int p = 0; p < kc; p++) {
        const float *bp = b + (size_t)p * ldb, *ap = a + (size_t)p * WMR;
        __m512 bv[3];
        for (int v = 0; v < nv; v++) bv[v] = _mm512_loadu_ps(bp + 16 * v);
        for (int i = 0; i < 8; i++) {
            __m512 ai = _mm512_set1_ps(ap[i]);
            for (int v = 0; v < nv; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
    }
    for (int i = 0; i < 8; i++)
        for (int v = 0; v < nv; v++) {
            float *ci = c + (size_t)i * ldc + 16 * v;
            _mm512_storeu_ps(ci, accumulate ? _mm512_add_ps(_mm512_loadu_ps(ci), acc[i][v]) : acc[i][v]);
        }
}

/* kernel_8xn for `columns` (≤ 48) columns, rounded up to whole vectors (the caller's C has room for them). */
WF static void kernel_8x(int columns, int accumulate, int kc, const float *a, const float *b, size_t ldb, float *c,
                         size_t ldc) {
    int nv = (columns + 15) / 16;
    if (accumulate) {
        if (nv >= 3) kernel_8xn(3, 1, kc, a, b, ldb, c, ldc);
        else if (nv == 2) kernel_8xn(2, 1, kc, a, b, ldb, c, ldc);
        else kernel_8xn(1, 1, kc, a, b, ldb, c, ldc);
    } else {
        if (nv >= 3) kernel_8xn(3, 0, kc, a, b, ldb, c, ldc);
        else if (nv == 2) kernel_8xn(2, 0, kc, a, b, ldb, c, ldc);
        else kernel_8xn(1, 0, kc, a, b, ldb, c, ldc);
    }
}
#endif

#endif
