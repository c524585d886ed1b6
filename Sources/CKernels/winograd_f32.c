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
 * 16 consecutive tiles that may continue on the next tile row (a row of 20 or 10 tiles would otherwise leave 3/8 of
 * the lanes empty; measured 3-8 % faster on the reference layers): an input row's 32 + 2 columns are read with two
 * pairs of masked loads (each one or two runs) and split into even and odd lanes, so tile l of the vector gets
 * columns 2l − 1 … 2l + 2 of its row. The GEMMs use an 8 × 16·nv
 * AVX-512 FMA micro-kernel (nv ≤ 3, as gemm_f32.c's 8 × 48): forward on the block's V rows in place, the weight
 * gradient (winograd_f32_grad.c) on dM packed in 8-row panels and V transposed to tiles × channels (16 × 16
 * in-register transposes); the shared pieces are in winograd.h. Single-threaded; callers split images and bands
 * over the cores. x86-64 with AVX-512F only.
 */
#include "CKernels.h"
#include "winograd.h"

#if defined(__x86_64__)
/* U[ξ] = (G g Gᵀ)[ξ] for every (co, ci), output channels in panels of 8 (the micro-kernel's rows) so that every
 * ξ-plane of u is written in order: the 8 output channels of a panel in the lanes of one vector, 9 gathers and 16
 * stores of 8 floats per (panel, ci) (128 scattered scalar stores took 2.5 % of a training step). */
WF static void weights_avx512(const float *wt, int cout, int cin, float *u) {
    int panels = round_up(cout, WMR) / WMR;
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256i rows = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(cin * 9));
    for (int cp = 0; cp < panels; cp++) {
        int live = cout - cp * WMR < WMR ? cout - cp * WMR : WMR;
        __m256 mask = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(live),
                                                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
        for (int ci = 0; ci < cin; ci++) {
            const float *base = wt + ((size_t)cp * WMR * cin + ci) * 9;
            __m256 g[9], gg[4][3], uu[16];
            for (int k = 0; k < 9; k++) g[k] = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base + k, rows, mask, 4);
            for (int j = 0; j < 3; j++) {
                gg[0][j] = g[j];
                gg[1][j] = _mm256_mul_ps(half, _mm256_add_ps(_mm256_add_ps(g[j], g[3 + j]), g[6 + j]));
                gg[2][j] = _mm256_mul_ps(half, _mm256_add_ps(_mm256_sub_ps(g[j], g[3 + j]), g[6 + j]));
                gg[3][j] = g[6 + j];
            }
            for (int i = 0; i < 4; i++) {
                uu[4 * i + 0] = gg[i][0];
                uu[4 * i + 1] = _mm256_mul_ps(half, _mm256_add_ps(_mm256_add_ps(gg[i][0], gg[i][1]), gg[i][2]));
                uu[4 * i + 2] = _mm256_mul_ps(half, _mm256_add_ps(_mm256_sub_ps(gg[i][0], gg[i][1]), gg[i][2]));
                uu[4 * i + 3] = gg[i][2];
            }
            for (int xi = 0; xi < 16; xi++)
                _mm256_storeu_ps(u + (((size_t)xi * panels + cp) * cin + ci) * WMR, uu[xi]);
        }
    }
}
#endif

void ck_winograd_f32_weights(const float *wt, int cout, int cin, float *u) {
#if defined(__x86_64__)
    weights_avx512(wt, cout, cin, u);
#else
    (void)wt; (void)cout; (void)cin; (void)u;
    abort();
#endif
}

#if defined(__x86_64__)
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

/* V[ξ][c, t] (rows ldv apart, ξ-planes `plane` floats apart) for a block's pieces, every channel of x [cin, h, w]:
 * channel by channel, so that each of the 16 rows being written is written in sequence. */
WF static void transform_inputs(const float *x, int cin, int h, int w, int trow0, const tile_piece *pieces, int np,
                                float *V, size_t ldv, size_t plane) {
    piece_reads *reads = piece_reads_buffer(np);
    for (int k = 0; k < np; k++) reads[k] = reads_of(x, h, w, trow0 + pieces[k].trow, pieces[k]);
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
        /* y = Aᵀ M A, two rows of 2·count columns per piece (the lanes of its second tile row two output rows
         * further down, from column 0), one output channel at a time. */
        for (int co = 0; co < cout; co++)
            for (int k = 0; k < np; k++) {
                tile_piece pc = pieces[k];
                int c0 = 2 * pc.tc0, s2 = 2 * pc.split, width = s2 < w - c0 ? s2 : w - c0;
                int wb = 2 * (pc.count - pc.split) < w ? 2 * (pc.count - pc.split) : w;
                __mmask16 ma[2], mb[2];
                for (int half = 0; half < 2; half++) { /* pair positions 16·half + l */
                    ma[half] = first_lanes(width - 16 * half);
                    mb[half] = (__mmask16)(first_lanes(s2 + wb - 16 * half) & ~first_lanes(s2 - 16 * half));
                }
                const float *mt = M + (size_t)co * ld + pc.t;
                __m512 m[16];
                for (int q = 0; q < 16; q++) m[q] = _mm512_maskz_loadu_ps(first_lanes(pc.count), mt + q * mplane);
                __m512 s[2][4];
                for (int j = 0; j < 4; j++) {
                    s[0][j] = _mm512_add_ps(_mm512_add_ps(m[j], m[4 + j]), m[8 + j]);
                    s[1][j] = _mm512_sub_ps(_mm512_sub_ps(m[4 + j], m[8 + j]), m[12 + j]);
                }
                for (int a = 0; a < 2; a++) {
                    int oh = oh0 + 2 * pc.trow + a;
                    if (oh >= oh1) break;
                    __mmask16 keep_b = oh + 2 < oh1 ? 0xffff : 0; /* the second tile row's output row */
                    __m512 e = _mm512_add_ps(_mm512_add_ps(s[a][0], s[a][1]), s[a][2]);
                    __m512 o = _mm512_sub_ps(_mm512_sub_ps(s[a][1], s[a][2]), s[a][3]);
                    __m512 r[2] = {_mm512_permutex2var_ps(e, lo, o), _mm512_permutex2var_ps(e, hi, o)};
                    float *ya = y + (size_t)co * ldy + (size_t)(oh - oh0) * w + c0, *yb = ya + 2 * (size_t)w - c0 - s2;
                    for (int half = 0; half < 2; half++) {
                        __mmask16 la = ma[half], lb = mb[half] & keep_b;
                        float *pa = ya + 16 * half, *pb = yb + 16 * half;
                        if (beta != 0) {
                            __m512 old = _mm512_mask_loadu_ps(_mm512_maskz_loadu_ps(la, pa), lb, pb);
                            r[half] = _mm512_fmadd_ps(_mm512_set1_ps(beta), old, r[half]);
                        }
                        _mm512_mask_storeu_ps(pa, la, r[half]);
                        if (lb) _mm512_mask_storeu_ps(pb, lb, r[half]);
                    }
                }
            }
    }
}

void ck_winograd_f32_forward(const float *x, int cin, int h, int w, const float *u, int cout, int oh0, int oh1,
                             float beta, float *y, int ldy) {
    if (cout <= 0 || oh1 <= oh0 || h <= 0 || w <= 0) return;
    if (oh0 % 2) abort(); /* bands start on a tile row */
    winograd_forward(x, cin, h, w, u, cout, oh0, oh1, beta, y, ldy);
}
#else
void ck_winograd_f32_forward(const float *x, int cin, int h, int w, const float *u, int cout, int oh0, int oh1,
                             float beta, float *y, int ldy) {
    (void)x; (void)cin; (void)h; (void)w; (void)u; (void)cout; (void)oh0; (void)oh1; (void)beta; (void)y; (void)ldy;
    abort();
}
#endif
