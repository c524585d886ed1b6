/*
 * The weight gradient of 3×3 stride-1 "same" convolutions (padding 1) by Winograd's minimal filtering F(2×2, 3×3),
 * after Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016): with the 4×4 input tile d
 * around each 2×2 block of outputs and
 *
 *   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 −1 −1],
 *
 * per block of tiles dU[ξ] += dM[ξ]·V[ξ]ᵀ (ξ = 4i + j) with dM = A dy Aᵀ and V = Bᵀ x B, summed over the band's
 * tiles; then, once per step, dw += Gᵀ dU G (ck_winograd_f32_weight_grad_finish). All coefficients are 0, ±1, ±½:
 * the transforms add no rounding beyond the reordered sums. (The forward pass and the input gradient, a transposed
 * convolution, run F(4×4, 3×3): winograd4_f32.c.)
 *
 * Tiles t of an image band (output rows [oh0, oh1), oh0 even) are numbered row-major over (tile row, tile column),
 * tiles per row ⌈wo/2⌉, and processed in blocks that keep the operands in L2 (about 1 MiB: smaller blocks measured
 * faster than 2 MiB). Transforms run channel by channel on pieces of 16 consecutive tiles that may continue on the
 * next tile row (a row of 20 or 10 tiles would otherwise leave 3/8 of the lanes empty; measured 3-8 % faster on the
 * reference layers): an input row's 32 + 2 columns are read with two pairs of masked loads (each one or two runs)
 * and split into even and odd lanes, so tile l of the vector gets columns 2l − 1 … 2l + 2 of its row. The two GEMM
 * operands are dM packed in 8-row panels and V transposed to tiles × channels, both written straight from the
 * transforms through 16 × 16 in-register transposes. Single-threaded; callers split images and bands over the cores.
 * x86-64 with AVX-512F only.
 */
#include "CKernels.h"
#include "winograd.h"

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

#if defined(__x86_64__)
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
    int c0 = 2 * pc.tc0, s2 = 2 * pc.split, width = s2 < w - c0 ? s2 : w - c0;
    int wb = 2 * (pc.count - pc.split) < w ? 2 * (pc.count - pc.split) : w;
    __m512 e[2], o[2];
    for (int a = 0; a < 2; a++) {
        int oh = oh0 + 2 * pc.trow + a; /* the second tile row's lanes: row oh + 2 */
        const float *ra = dy + (size_t)co * lddy + (size_t)(oh - oh0) * w + c0, *rb = ra + 2 * (size_t)w - c0 - s2;
        __m512 h[2];
        for (int half = 0; half < 2; half++) { /* pair positions 16·half + l */
            __mmask16 la = oh < oh1 ? first_lanes(width - 16 * half) : 0;
            __mmask16 lb = oh + 2 < oh1 ? (__mmask16)(first_lanes(s2 + wb - 16 * half) & ~first_lanes(s2 - 16 * half)) : 0;
            h[half] = _mm512_maskz_loadu_ps(la, ra + 16 * half);
            if (lb) h[half] = _mm512_mask_loadu_ps(h[half], lb, rb + 16 * half);
        }
        e[a] = _mm512_permutex2var_ps(h[0], even, h[1]);
        o[a] = _mm512_permutex2var_ps(h[0], odd, h[1]);
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
            piece_reads reads = reads_of(x, h, w, oh0 / 2 + pc.trow, pc);
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

void ck_winograd_f32_weight_grad(const float *x, int cin, int h, int w, const float *dy, int lddy, int cout, int oh0,
                                 int oh1, float *du) {
    if (cout <= 0 || oh1 <= oh0 || h <= 0 || w <= 0) return;
    if (oh0 % 2) abort();
    winograd_weight_grad(x, cin, h, w, dy, lddy, cout, oh0, oh1, du);
}
#else
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
