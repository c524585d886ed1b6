/*
 * 3×3 stride-1 "same" convolutions (padding 1) by Winograd's minimal filtering F(2×2, 3×3), after Lavin & Gray,
 * "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016): each 2×2 block of outputs of one channel pair
 * is Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A from the 4×4 input tile d around it, 16 multiplications instead of 36, with
 *
 *   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 −1 −1].
 *
 * Summed over input channels, the products become 16 independent GEMMs, one per tile position ξ = 4i + j:
 *   forward:      M[ξ][co, t] = Σ_ci U[ξ][co, ci] · V[ξ][ci, t],  U = G g Gᵀ, V = Bᵀ d B, then y = Aᵀ M A
 *   weight grad:  dU[ξ][co, ci] += Σ_t dM[ξ][co, t] · V[ξ][ci, t],  dM = A dy Aᵀ, then dg = Gᵀ dU G
 * (the input gradient of a 3×3 stride-1 padding-1 convolution is the forward convolution of dy with the flipped,
 * transposed kernel, the same padding, so the caller runs the forward pass for it). All coefficients are 0, ±1, ±½:
 * the transforms add no rounding beyond the reordered sums.
 *
 * Tiles t of an image band (output rows [oh0, oh1), oh0 even) are numbered row-major over (tile row, tile column),
 * tiles per row ⌈wo/2⌉, and processed in blocks that keep V and M in L2 (about 512 KiB forward, 1 MiB for the
 * weight gradient: smaller blocks measured faster than 1 and 2 MiB). Transforms run channel by channel on pieces of
 * at most 16 tiles of one tile row: an input row's 32 + 2 columns are read with two pairs of (masked) loads and
 * split into even and odd lanes, so tile l of the vector gets columns 2l − 1 … 2l + 2. The GEMMs use an 8 × 16·nv
 * AVX-512 FMA micro-kernel (nv ≤ 3, as gemm_f32.c's 8 × 48): forward on the block's V rows in place, the weight
 * gradient on dM packed in 8-row panels and V transposed to tiles × channels (16 × 16 in-register transposes).
 * Single-threaded; callers split images and bands over the cores. x86-64 with AVX-512F only.
 */
#include "CKernels.h"

#include <stdlib.h>
#include <string.h>

enum { WMR = 8, WNR = 48 };

static int round_up(int n, int m) { return (n + m - 1) / m * m; }

/* The floats from one ξ-plane of a [16][rows][ld] buffer to the next (ld a multiple of 16): rows·ld, plus one
 * cache line when that is an even number of lines, so that the 16 planes' rows at one position fall in 16
 * different L1 sets (an even stride puts them in two: measured 53 ns against 40 ns per transformed channel and 16 tiles). */
static size_t plane_floats(int rows, size_t ld) {
    size_t floats = (size_t)rows * ld;
    return (floats / 16) % 2 == 0 ? floats + 16 : floats;
}

/* The transformed weight gradient's layout: [16, coutp, cinp], output channels padded to the micro-kernel's 8 rows,
 * input channels to whole vectors. */
static void grad_layout(int cout, int cin, int *coutp, int *cinp) {
    *coutp = round_up(cout, WMR);
    *cinp = round_up(cin, 16);
}

int ck_winograd_f32_grad_floats(int cout, int cin) {
    int coutp, cinp;
    grad_layout(cout, cin, &coutp, &cinp);
    return 16 * coutp * cinp;
}

void ck_winograd_f32_weights(const float *wt, int cout, int cin, float *u) {
    /* Output channels in panels of 8 (the micro-kernel's rows), so that every ξ-plane of u is written in order. */
    int panels = round_up(cout, WMR) / WMR;
    for (int cp = 0; cp < panels; cp++)
        for (int ci = 0; ci < cin; ci++)
            for (int r = 0; r < WMR; r++) {
                int co = cp * WMR + r;
                float uu[16] = {0};
                if (co < cout) {
                    const float *g = wt + ((size_t)co * cin + ci) * 9;
                    float gg[4][3]; /* G g */
                    for (int j = 0; j < 3; j++) {
                        gg[0][j] = g[j];
                        gg[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                        gg[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                        gg[3][j] = g[6 + j];
                    }
                    for (int i = 0; i < 4; i++) { /* (G g) Gᵀ */
                        uu[4 * i + 0] = gg[i][0];
                        uu[4 * i + 1] = 0.5f * (gg[i][0] + gg[i][1] + gg[i][2]);
                        uu[4 * i + 2] = 0.5f * (gg[i][0] - gg[i][1] + gg[i][2]);
                        uu[4 * i + 3] = gg[i][2];
                    }
                }
                for (int xi = 0; xi < 16; xi++) u[(((size_t)xi * panels + cp) * cin + ci) * WMR + r] = uu[xi];
            }
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

/* The reads of one piece from an input plane: rows[i] (input row 2·trow − 1 + i of channel 0, or a zero row where
 * that row is outside the image) advanced by step[i] per channel, and the masks of the four 16-float reads at
 * columns c0, c0 + 16, c0 + 2, c0 + 18 (c0 = 2·tc0 − 1) that lie inside [0, w). */
typedef struct {
    const float *rows[4];
    size_t step[4];
    __mmask16 mask[4];
} piece_reads;

static _Thread_local float *zero_row;
static _Thread_local int zero_row_floats;

static piece_reads reads_of(const float *x, int h, int w, int trow, int tc0) {
    if (zero_row_floats < w + 64) {
        free(zero_row);
        zero_row_floats = w + 64;
        zero_row = calloc((size_t)zero_row_floats, sizeof(float));
        if (!zero_row) abort();
    }
    piece_reads r;
    int c0 = 2 * tc0 - 1;
    for (int i = 0; i < 4; i++) {
        int ih = 2 * trow - 1 + i;
        int inside = ih >= 0 && ih < h;
        r.rows[i] = inside ? x + (size_t)ih * w + c0 : zero_row + 1 + c0;
        r.step[i] = inside ? (size_t)h * w : 0;
    }
    r.mask[0] = columns_inside(c0, w);
    r.mask[1] = columns_inside(c0 + 16, w);
    r.mask[2] = columns_inside(c0 + 2, w);
    r.mask[3] = columns_inside(c0 + 18, w);
    return r;
}

static _Thread_local piece_reads *reads_buffer;
static _Thread_local int reads_capacity;

static piece_reads *piece_reads_buffer(int n) {
    if (n > reads_capacity) {
        free(reads_buffer);
        reads_capacity = 2 * n;
        reads_buffer = aligned_alloc(64, (sizeof(piece_reads) * (size_t)reads_capacity + 63) / 64 * 64);
        if (!reads_buffer) abort();
    }
    return reads_buffer;
}

/* v[4i + j] = (Bᵀ d B)[i, j] for the 16 tiles of a piece, channel c: d[i][j] lane l = input row i of the tile
 * at column 2l − 1 + j relative to the piece, read as two pairs of loads split into even and odd lanes. */
WF static inline void input_tiles(const piece_reads *p, size_t c, __m512 v[16]) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    __m512 d[4][4];
    for (int i = 0; i < 4; i++) {
        const float *row = p->rows[i] + c * p->step[i];
        __m512 a = _mm512_maskz_loadu_ps(p->mask[0], row), b = _mm512_maskz_loadu_ps(p->mask[1], row + 16);
        __m512 e = _mm512_maskz_loadu_ps(p->mask[2], row + 2), f = _mm512_maskz_loadu_ps(p->mask[3], row + 18);
        d[i][0] = _mm512_permutex2var_ps(a, even, b);
        d[i][1] = _mm512_permutex2var_ps(a, odd, b);
        d[i][2] = _mm512_permutex2var_ps(e, even, f);
        d[i][3] = _mm512_permutex2var_ps(e, odd, f);
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

/* A run of at most 16 tiles within one tile row: band tile row trow, tile columns tc0 …, block tiles t …. */
typedef struct { int trow, tc0, count, t; } tile_piece;

static _Thread_local tile_piece *piece_buffer;
static _Thread_local int piece_capacity;

/* The block's tiles as pieces (at most one per 16 tiles plus one per tile row), in order; returns how many. */
static int block_pieces(tile_block blk, tile_piece **out) {
    if (blk.tiles + 1 > piece_capacity) {
        free(piece_buffer);
        piece_capacity = 2 * blk.tiles + 16;
        piece_buffer = malloc(sizeof(tile_piece) * (size_t)piece_capacity);
        if (!piece_buffer) abort();
    }
    int n = 0;
    for (int t = 0; t < blk.tiles;) {
        int g = blk.first_tile + t, tc0 = g % blk.tiles_per_row;
        int count = blk.tiles_per_row - tc0 < 16 ? blk.tiles_per_row - tc0 : 16;
        if (count > blk.tiles - t) count = blk.tiles - t;
        piece_buffer[n++] = (tile_piece){g / blk.tiles_per_row, tc0, count, t};
        t += count;
    }
    *out = piece_buffer;
    return n;
}

/* V[ξ][c, t] (rows ldv apart, ξ-planes `plane` floats apart) for a block's pieces, every channel of x [cin, h, w]:
 * channel by channel, so that each of the 16 rows being written is written in sequence. */
WF static void transform_inputs(const float *x, int cin, int h, int w, int trow0, const tile_piece *pieces, int np,
                                float *V, size_t ldv, size_t plane) {
    piece_reads *reads = piece_reads_buffer(np);
    for (int k = 0; k < np; k++) reads[k] = reads_of(x, h, w, trow0 + pieces[k].trow, pieces[k].tc0);
    __m512 v[16];
    for (int c = 0; c < cin; c++) {
        float *row = V + (size_t)c * ldv;
        for (int k = 0; k < np; k++) {
            input_tiles(&reads[k], (size_t)c, v);
            __mmask16 m = first_lanes(pieces[k].count);
            float *dst = row + pieces[k].t;
            for (int q = 0; q < 16; q++) _mm512_mask_storeu_ps(dst + q * plane, m, v[q]);
        }
    }
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

/* Tiles per block: V and M of a block (16·(cin + coutp)·tiles floats) within about 512 KiB, a multiple of 48. */
static int forward_block_tiles(int cin, int coutp) {
    int tiles = (1 << 17) / (16 * (cin + coutp));
    tiles = tiles / WNR * WNR;
    return tiles < WNR ? WNR : tiles;
}

WF static void winograd_forward(const float *x, int cin, int h, int w, const float *u, int cout, int oh0, int oh1,
                                float beta, float *y, int ldy) {
    int coutp = round_up(cout, WMR), tiles_per_row = (w + 1) / 2, tile_rows = (oh1 - oh0 + 1) / 2;
    int total = tile_rows * tiles_per_row, bt = forward_block_tiles(cin, coutp);
    size_t ld = (size_t)bt, vplane = plane_floats(cin, ld), mplane = plane_floats(coutp, ld);
    float *V = work(16 * (vplane + mplane)), *M = V + 16 * vplane;
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for (int first = 0; first < total; first += bt) {
        tile_block blk = {tiles_per_row, first, total - first < bt ? total - first : bt};
        tile_piece *pieces;
        int np = block_pieces(blk, &pieces);
        transform_inputs(x, cin, h, w, oh0 / 2, pieces, np, V, ld, vplane);
        int panels = (blk.tiles + WNR - 1) / WNR;
        for (int xi = 0; xi < 16; xi++) {
            const float *vx = V + xi * vplane, *ux = u + (size_t)xi * coutp * cin;
            float *mx = M + xi * mplane;
            for (int jp = 0; jp < panels; jp++) {
                int columns = blk.tiles - jp * WNR < WNR ? blk.tiles - jp * WNR : WNR;
                for (int cp = 0; cp < coutp / WMR; cp++)
                    kernel_8x(columns, 0, cin, ux + (size_t)cp * cin * WMR, vx + (size_t)jp * WNR, ld,
                              mx + (size_t)cp * WMR * ld + (size_t)jp * WNR, ld);
            }
        }
        /* y = Aᵀ M A, two rows of 2·count columns per piece, one output channel at a time. */
        for (int co = 0; co < cout; co++)
            for (int k = 0; k < np; k++) {
                int trow = pieces[k].trow, count = pieces[k].count, t = pieces[k].t, c0 = 2 * pieces[k].tc0;
                int width = 2 * count < w - c0 ? 2 * count : w - c0;
                __mmask16 m0 = first_lanes(width), m1 = first_lanes(width - 16), store = first_lanes(count);
                const float *mt = M + (size_t)co * ld + t;
                __m512 m[16];
                for (int q = 0; q < 16; q++) m[q] = _mm512_maskz_loadu_ps(store, mt + q * mplane);
                __m512 s[2][4];
                for (int j = 0; j < 4; j++) {
                    s[0][j] = _mm512_add_ps(_mm512_add_ps(m[j], m[4 + j]), m[8 + j]);
                    s[1][j] = _mm512_sub_ps(_mm512_sub_ps(m[4 + j], m[8 + j]), m[12 + j]);
                }
                for (int a = 0; a < 2; a++) {
                    int oh = oh0 + 2 * trow + a;
                    if (oh >= oh1) break;
                    __m512 e = _mm512_add_ps(_mm512_add_ps(s[a][0], s[a][1]), s[a][2]);
                    __m512 o = _mm512_sub_ps(_mm512_sub_ps(s[a][1], s[a][2]), s[a][3]);
                    __m512 r0 = _mm512_permutex2var_ps(e, lo, o), r1 = _mm512_permutex2var_ps(e, hi, o);
                    float *yr = y + (size_t)co * ldy + (size_t)(oh - oh0) * w + c0;
                    if (beta != 0) {
                        __m512 vb = _mm512_set1_ps(beta);
                        r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, yr), r0);
                        r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, yr + 16), r1);
                    }
                    _mm512_mask_storeu_ps(yr, m0, r0);
                    _mm512_mask_storeu_ps(yr + 16, m1, r1);
                }
            }
    }
}

/* Tiles per block of the weight gradient: VT and the dM panels (16·(cinp + coutp)·tiles floats) within about
 * 1 MiB, a multiple of 16. */
static int weight_grad_block_tiles(int cinp, int coutp) {
    int tiles = (1 << 18) / (16 * (cinp + coutp));
    tiles = tiles / 16 * 16;
    return tiles < 16 ? 16 : tiles;
}

/* The 16 transformed dy vectors dM[ξ] (lanes: the piece's tiles) of output channel co: dM = A dy Aᵀ per 2×2 block
 * of dy, zero past the band's last row and the row's end. */
WF static inline void output_grad_tiles(const float *dy, size_t lddy, int w, int oh0, int oh1, tile_piece pc, int co,
                                        __m512 dm[16]) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    int c0 = 2 * pc.tc0, width = 2 * pc.count < w - c0 ? 2 * pc.count : w - c0;
    __mmask16 m0 = first_lanes(width), m1 = first_lanes(width - 16);
    __m512 e[2], o[2];
    for (int a = 0; a < 2; a++) {
        int oh = oh0 + 2 * pc.trow + a;
        if (oh >= oh1) {
            e[a] = o[a] = _mm512_setzero_ps();
            continue;
        }
        const float *row = dy + (size_t)co * lddy + (size_t)(oh - oh0) * w + c0;
        __m512 p = _mm512_maskz_loadu_ps(m0, row), q = _mm512_maskz_loadu_ps(m1, row + 16);
        e[a] = _mm512_permutex2var_ps(p, even, q);
        o[a] = _mm512_permutex2var_ps(p, odd, q);
    }
    __m512 zero = _mm512_setzero_ps();
    __m512 r[4][2] = {{e[0], o[0]},
                      {_mm512_add_ps(e[0], e[1]), _mm512_add_ps(o[0], o[1])},
                      {_mm512_sub_ps(e[0], e[1]), _mm512_sub_ps(o[0], o[1])},
                      {_mm512_sub_ps(zero, e[1]), _mm512_sub_ps(zero, o[1])}};
    for (int i = 0; i < 4; i++) {
        dm[4 * i + 0] = r[i][0];
        dm[4 * i + 1] = _mm512_add_ps(r[i][0], r[i][1]);
        dm[4 * i + 2] = _mm512_sub_ps(r[i][0], r[i][1]);
        dm[4 * i + 3] = _mm512_sub_ps(zero, r[i][1]);
    }
}

/* Per block, the two GEMM operands are written straight from the transforms, through 16 × 16 transposes of vectors
 * held in an L1 scratch: VT[ξ][t, c] (V transposed: tiles × channels, 16 channels a transpose) and the A panels
 * PA[ξ][cp][t, 8] of dM (8 output channels a transpose, the upper half zero); then dU[ξ] += dM[ξ]·V[ξ]ᵀ on the
 * micro-kernel. */
WF static void winograd_weight_grad(const float *x, int cin, int h, int w, const float *dy, int lddy, int cout,
                                    int oh0, int oh1, float *du) {
    int coutp, cinp;
    grad_layout(cout, cin, &coutp, &cinp);
    int tiles_per_row = (w + 1) / 2, tile_rows = (oh1 - oh0 + 1) / 2, total = tile_rows * tiles_per_row;
    int bt = weight_grad_block_tiles(cinp, coutp);
    size_t tplane = plane_floats(bt, (size_t)cinp), pplane = plane_floats(coutp, (size_t)bt);
    float *VT = work(16 * (tplane + pplane)), *PA = VT + 16 * tplane;
    __m512 scratch[16][16] __attribute__((aligned(64))), v[16];
    for (int first = 0; first < total; first += bt) {
        tile_block blk = {tiles_per_row, first, total - first < bt ? total - first : bt};
        tile_piece *pieces;
        int np = block_pieces(blk, &pieces);
        for (int k = 0; k < np; k++) {
            tile_piece pc = pieces[k];
            piece_reads reads = reads_of(x, h, w, oh0 / 2 + pc.trow, pc.tc0);
            for (int c0 = 0; c0 < cinp; c0 += 16) {
                for (int c = 0; c < 16; c++) {
                    if (c0 + c < cin) {
                        input_tiles(&reads, (size_t)(c0 + c), v);
                        for (int q = 0; q < 16; q++) scratch[q][c] = v[q];
                    } else {
                        for (int q = 0; q < 16; q++) scratch[q][c] = _mm512_setzero_ps();
                    }
                }
                for (int q = 0; q < 16; q++) {
                    transpose16(scratch[q]);
                    float *dst = VT + q * tplane + (size_t)pc.t * cinp + c0;
                    for (int i = 0; i < pc.count; i++) _mm512_storeu_ps(dst + (size_t)i * cinp, scratch[q][i]);
                }
            }
            for (int cp = 0; cp < coutp; cp += WMR) {
                for (int r = 0; r < WMR; r++) {
                    if (cp + r < cout) {
                        output_grad_tiles(dy, (size_t)lddy, w, oh0, oh1, pc, cp + r, v);
                        for (int q = 0; q < 16; q++) scratch[q][r] = v[q];
                    } else {
                        for (int q = 0; q < 16; q++) scratch[q][r] = _mm512_setzero_ps();
                    }
                }
                for (int q = 0; q < 16; q++) {
                    for (int r = WMR; r < 16; r++) scratch[q][r] = _mm512_setzero_ps();
                    transpose16(scratch[q]);
                    float *dst = PA + q * pplane + (size_t)cp * bt + (size_t)pc.t * WMR;
                    for (int i = 0; i < pc.count; i++)
                        _mm256_storeu_ps(dst + (size_t)i * WMR, _mm512_castps512_ps256(scratch[q][i]));
                }
            }
        }
        for (int xi = 0; xi < 16; xi++) {
            const float *vt = VT + xi * tplane, *pa = PA + xi * pplane;
            float *dux = du + (size_t)xi * coutp * cinp;
            for (int c0 = 0; c0 < cinp; c0 += WNR)
                for (int cp = 0; cp < coutp; cp += WMR)
                    kernel_8x(cinp - c0 < WNR ? cinp - c0 : WNR, 1, blk.tiles, pa + (size_t)cp * bt, vt + c0,
                              (size_t)cinp, dux + (size_t)cp * cinp + c0, (size_t)cinp);
        }
    }
}

void ck_winograd_f32_forward(const float *x, int cin, int h, int w, const float *u, int cout, int oh0, int oh1,
                             float beta, float *y, int ldy) {
    if (cout <= 0 || oh1 <= oh0 || h <= 0 || w <= 0) return;
    if (oh0 % 2) abort(); /* bands start on a tile row */
    winograd_forward(x, cin, h, w, u, cout, oh0, oh1, beta, y, ldy);
}

void ck_winograd_f32_weight_grad(const float *x, int cin, int h, int w, const float *dy, int lddy, int cout, int oh0,
                                 int oh1, float *du) {
    if (cout <= 0 || oh1 <= oh0 || h <= 0 || w <= 0) return;
    if (oh0 % 2) abort();
    winograd_weight_grad(x, cin, h, w, dy, lddy, cout, oh0, oh1, du);
}
#else
void ck_winograd_f32_forward(const float *x, int cin, int h, int w, const float *u, int cout, int oh0, int oh1,
                             float beta, float *y, int ldy) {
    (void)x; (void)cin; (void)h; (void)w; (void)u; (void)cout; (void)oh0; (void)oh1; (void)beta; (void)y; (void)ldy;
    abort();
}

void ck_winograd_f32_weight_grad(const float *x, int cin, int h, int w, const float *dy, int lddy, int cout, int oh0,
                                 int oh1, float *du) {
    (void)x; (void)cin; (void)h; (void)w; (void)dy; (void)lddy; (void)cout; (void)oh0; (void)oh1; (void)du;
    abort();
}
#endif

void ck_winograd_f32_weight_grad_finish(const float *du, int cout, int cin, float *dw) {
    /* dg = Gᵀ dU G for every (co, ci): dU[ξ = 4i + j] at du[(ξ·coutp + co)·cinp + ci]. */
    int coutp, cinp;
    grad_layout(cout, cin, &coutp, &cinp);
    size_t plane = (size_t)coutp * cinp;
    for (size_t p = 0; p < (size_t)cout * cin; p++) {
        size_t at = p / cin * cinp + p % cin;
        float d[4][4], r[3][4];
        for (int q = 0; q < 16; q++) d[q / 4][q % 4] = du[q * plane + at];
        for (int j = 0; j < 4; j++) { /* Gᵀ dU: rows 0..2 */
            r[0][j] = d[0][j] + 0.5f * (d[1][j] + d[2][j]);
            r[1][j] = 0.5f * (d[1][j] - d[2][j]);
            r[2][j] = 0.5f * (d[1][j] + d[2][j]) + d[3][j];
        }
        float *g = dw + p * 9;
        for (int i = 0; i < 3; i++) { /* (Gᵀ dU) G */
            g[3 * i + 0] += r[i][0] + 0.5f * (r[i][1] + r[i][2]);
            g[3 * i + 1] += 0.5f * (r[i][1] - r[i][2]);
            g[3 * i + 2] += 0.5f * (r[i][1] + r[i][2]) + r[i][3];
        }
    }
}
