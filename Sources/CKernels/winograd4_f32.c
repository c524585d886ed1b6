/*
 * The forward pass of 3×3 stride-1 "same" convolutions (padding 1) by Winograd's F(4×4, 3×3) (Lavin & Gray, CVPR
 * 2016, the points 0, ±1, ±2): each 4×4 block of outputs of one channel pair is Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A from the
 * 6×6 input tile d around it, 36 multiplications instead of 144 (F(2×2, 3×3): 64 for the same outputs), with
 *
 *   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
 *   G  = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1],
 *   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
 *
 * As in winograd_f32_grad.c (F(2×2, 3×3), the weight gradient), the products summed over input channels are 36
 * GEMMs M[ξ] = U[ξ]·V[ξ], ξ = 6i + j, on the same 8 × 16·nv micro-kernel, over blocks of tiles that keep V and M in
 * L2, and the input gradient (a transposed convolution) is this forward pass with the flipped, transposed kernel.
 * The coefficients (up to 8, and ⅙, 1/24 in G) round more than F(2×2)'s 0, ±1, ±½: measured within 1e-4 of the
 * naive Double convolution on sums of up to 136·9 terms (ConvWinogradTests).
 *
 * Tiles: 4 output rows by 4 columns, ⌈w/4⌉ to a tile row, numbered row-major over a band (output rows [oh0, oh1),
 * oh0 a multiple of 4); transforms run channel by channel on pieces of 16 tiles over at most two tile rows
 * (winograd.h). An input row's 64 + 2 columns of a piece are read with five masked loads (each one or two runs) and
 * split by column modulo 4 with two rounds of two-source permutes, so tile l gets columns 4l − 1 … 4l + 4 of its
 * row. Single-threaded; x86-64 with AVX-512F only.
 */
#include "CKernels.h"
#include "winograd.h"

#if defined(__x86_64__)
/* The 1-D weight transform (G g) of one column (g0, g1, g2), 8 output channels in the lanes. */
WF static inline void weight_column(__m256 g0, __m256 g1, __m256 g2, __m256 out[6]) {
    const __m256 quarter = _mm256_set1_ps(0.25f), sixth = _mm256_set1_ps(1.0f / 6), twelfth = _mm256_set1_ps(1.0f / 12),
                 twentyfourth = _mm256_set1_ps(1.0f / 24);
    __m256 outer = _mm256_add_ps(g0, g2);
    out[0] = _mm256_mul_ps(quarter, g0);
    out[1] = _mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), sixth), _mm256_add_ps(outer, g1));
    out[2] = _mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), sixth), _mm256_sub_ps(outer, g1));
    __m256 even = _mm256_add_ps(_mm256_mul_ps(twentyfourth, g0), _mm256_mul_ps(sixth, g2));
    out[3] = _mm256_add_ps(even, _mm256_mul_ps(twelfth, g1));
    out[4] = _mm256_sub_ps(even, _mm256_mul_ps(twelfth, g1));
    out[5] = g2;
}

/* U[ξ] = (G g Gᵀ)[ξ], ξ = 6i + j, output channels in panels of 8 (the micro-kernel's rows), each ξ-plane written in
 * order: the 8 output channels of a panel in the lanes of one vector. */
WF static void weights4(const float *wt, int cout, int cin, float *u) {
    int panels = round_up(cout, WMR) / WMR;
    const __m256i rows = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(cin * 9));
    for (int cp = 0; cp < panels; cp++) {
        int live = cout - cp * WMR < WMR ? cout - cp * WMR : WMR;
        __m256 mask = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(live),
                                                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
        for (int ci = 0; ci < cin; ci++) {
            const float *base = wt + ((size_t)cp * WMR * cin + ci) * 9;
            __m256 g[9], gg[3][6], uu[6];
            for (int k = 0; k < 9; k++) g[k] = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base + k, rows, mask, 4);
            for (int b = 0; b < 3; b++) weight_column(g[b], g[3 + b], g[6 + b], gg[b]); /* gg[b][i] = (G g)[i][b] */
            for (int i = 0; i < 6; i++) {
                weight_column(gg[0][i], gg[1][i], gg[2][i], uu);
                for (int j = 0; j < 6; j++)
                    _mm256_storeu_ps(u + (((size_t)(6 * i + j) * panels + cp) * cin + ci) * WMR, uu[j]);
            }
        }
    }
}

/* The reads of one piece from an input plane, for each of the 6 input rows i and the five 16-float loads k (quad
 * positions 16k …; position q belongs to tile lane q / 4, columns 4l − 1 + q % 4): lanes of the first tile row at
 * a[i] + 16k with masks ma[k], of the second at b[i] + 16k with masks mb[k]; a[i], b[i] advance by sa[i], sb[i] per
 * channel. Positions 4·split and 4·split + 1 are read from the second row (its first tile's columns −1 and 0); the
 * last tile of the first row needs its own columns there as inputs 4 and 5: lane split − 1 of d4 and d5 is then
 * reloaded from the first row at fix (mask fix4, fix5: the lane when that column is inside the image). */
typedef struct {
    const float *a[6], *b[6];
    size_t sa[6], sb[6];
    __mmask16 ma[5], mb[5], fix_lane, fix4, fix5;
    int fix;
} piece_reads4;

static piece_reads4 reads4_of(const float *x, int h, int w, int trow, tile_piece pc) {
    ensure_zero_row(w);
    piece_reads4 r;
    int c0 = 4 * pc.tc0 - 1, s4 = 4 * pc.split, b0 = -1 - s4, second = pc.split < pc.count;
    for (int i = 0; i < 6; i++) {
        r.a[i] = input_row(x, h, w, 4 * trow - 1 + i, c0, &r.sa[i]);
        r.b[i] = input_row(x, h, w, 4 * trow + 3 + i, b0, &r.sb[i]);
    }
    int end_a = second ? s4 : s4 + 2, end_b = 4 * pc.count + 2;
    for (int k = 0; k < 5; k++) {
        r.ma[k] = columns_inside(c0 + 16 * k, w) & first_lanes(end_a - 16 * k);
        r.mb[k] = second ? (__mmask16)(columns_inside(b0 + 16 * k, w) & first_lanes(end_b - 16 * k) &
                                       ~first_lanes(s4 - 16 * k))
                         : 0;
    }
    int lane = pc.split - 1, col = c0 + s4;
    r.fix_lane = second ? (__mmask16)(1u << lane) : 0;
    r.fix4 = second && col >= 0 && col < w ? r.fix_lane : 0;
    r.fix5 = second && col + 1 >= 0 && col + 1 < w ? r.fix_lane : 0;
    r.fix = s4 - lane;
    return r;
}

/* t = Bᵀ d for six vectors (one column or row of six tiles' inputs). */
WF static inline void input_1d(const __m512 d[6], __m512 t[6]) {
    const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
    t[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
    t[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
    __m512 s12 = _mm512_add_ps(d[1], d[2]), s34 = _mm512_add_ps(d[3], d[4]);
    __m512 d12 = _mm512_sub_ps(d[1], d[2]), d43 = _mm512_sub_ps(d[4], d[3]);
    t[1] = _mm512_fnmadd_ps(four, s12, s34);
    t[2] = _mm512_fmadd_ps(four, d12, d43);
    __m512 d42 = _mm512_sub_ps(d[4], d[2]), d31 = _mm512_sub_ps(d[3], d[1]);
    t[3] = _mm512_fmadd_ps(two, d31, d42);
    t[4] = _mm512_fnmadd_ps(two, d31, d42);
}

/* v[6i + j] = (Bᵀ d B)[i, j] for the 16 tiles of a piece, channel c. */
WF static inline void input_tiles4(const piece_reads4 *p, size_t c, __m512 v[36]) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i next0 = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    const __m512i next1 = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17);
    __m512 r[6][6]; /* r[i] = (d B) of input row i: d[i] transformed along the columns */
    for (int i = 0; i < 6; i++) {
        const float *ra = p->a[i] + c * p->sa[i], *rb = p->b[i] + c * p->sb[i];
        __m512 l[5], d[6];
        for (int k = 0; k < 5; k++) {
            l[k] = _mm512_maskz_loadu_ps(p->ma[k], ra + 16 * k);
            if (p->mb[k]) l[k] = _mm512_mask_loadu_ps(l[k], p->mb[k], rb + 16 * k);
        }
        __m512 e01 = _mm512_permutex2var_ps(l[0], even, l[1]), o01 = _mm512_permutex2var_ps(l[0], odd, l[1]);
        __m512 e23 = _mm512_permutex2var_ps(l[2], even, l[3]), o23 = _mm512_permutex2var_ps(l[2], odd, l[3]);
        d[0] = _mm512_permutex2var_ps(e01, even, e23);
        d[1] = _mm512_permutex2var_ps(o01, even, o23);
        d[2] = _mm512_permutex2var_ps(e01, odd, e23);
        d[3] = _mm512_permutex2var_ps(o01, odd, o23);
        d[4] = _mm512_permutex2var_ps(d[0], next0, l[4]);
        d[5] = _mm512_permutex2var_ps(d[1], next1, l[4]);
        if (p->fix_lane) {
            d[4] = _mm512_mask_mov_ps(d[4], p->fix_lane, _mm512_setzero_ps());
            d[5] = _mm512_mask_mov_ps(d[5], p->fix_lane, _mm512_setzero_ps());
            d[4] = _mm512_mask_loadu_ps(d[4], p->fix4, ra + p->fix);
            d[5] = _mm512_mask_loadu_ps(d[5], p->fix5, ra + p->fix + 1);
        }
        input_1d(d, r[i]);
    }
    for (int j = 0; j < 6; j++) {
        __m512 col[6], t[6];
        for (int i = 0; i < 6; i++) col[i] = r[i][j];
        input_1d(col, t);
        for (int i = 0; i < 6; i++) v[6 * i + j] = t[i];
    }
}

/* y = Aᵀ m for six vectors. */
WF static inline void output_1d(const __m512 m[6], __m512 y[4]) {
    const __m512 two = _mm512_set1_ps(2.0f), four = _mm512_set1_ps(4.0f), eight = _mm512_set1_ps(8.0f);
    __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
    __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
    y[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
    y[1] = _mm512_fmadd_ps(two, d34, d12);
    y[2] = _mm512_fmadd_ps(four, s34, s12);
    y[3] = _mm512_add_ps(_mm512_fmadd_ps(eight, d34, d12), m[5]);
}

static _Thread_local piece_reads4 *reads4_buffer;
static _Thread_local int reads4_capacity;

static piece_reads4 *piece_reads4_buffer(int n) {
    if (n > reads4_capacity) {
        free(reads4_buffer);
        reads4_capacity = 2 * n;
        reads4_buffer = aligned_alloc(64, (sizeof(piece_reads4) * (size_t)reads4_capacity + 63) / 64 * 64);
        if (!reads4_buffer) abort();
    }
    return reads4_buffer;
}

/* Tiles per block: V and M of a block (36·(cin + coutp)·tiles floats) within about 512 KiB, a multiple of 48. */
static int forward4_block_tiles(int cin, int coutp) {
    int tiles = (1 << 17) / (36 * (cin + coutp));
    tiles = tiles / WNR * WNR;
    return tiles < WNR ? WNR : tiles;
}

WF static void winograd4_forward(const float *x, int cin, int h, int w, const float *u, int cout, int oh0, int oh1,
                                 float beta, float *y, int ldy) {
    int coutp = round_up(cout, WMR), tiles_per_row = (w + 3) / 4, tile_rows = (oh1 - oh0 + 3) / 4;
    int total = tile_rows * tiles_per_row, bt = forward4_block_tiles(cin, coutp);
    size_t ld = (size_t)bt, vplane = plane_floats(cin, ld), mplane = plane_floats(coutp, ld);
    float *V = work(36 * (vplane + mplane)), *M = V + 36 * vplane;
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for (int first = 0; first < total; first += bt) {
        tile_block blk = {tiles_per_row, first, total - first < bt ? total - first : bt};
        tile_piece *pieces;
        int np = block_pieces(blk, &pieces);
        piece_reads4 *reads = piece_reads4_buffer(np);
        for (int k = 0; k < np; k++) reads[k] = reads4_of(x, h, w, oh0 / 4 + pieces[k].trow, pieces[k]);
        __m512 v[36];
        for (int c = 0; c < cin; c++) /* V[ξ][c, t], channel by channel: the 36 rows written in sequence */
            for (int k = 0; k < np; k++) {
                input_tiles4(&reads[k], (size_t)c, v);
                __mmask16 m = first_lanes(pieces[k].count);
                float *dst = V + (size_t)c * ld + pieces[k].t;
                for (int q = 0; q < 36; q++) _mm512_mask_storeu_ps(dst + q * vplane, m, v[q]);
            }
        int panels = (blk.tiles + WNR - 1) / WNR;
        for (int xi = 0; xi < 36; xi++) {
            const float *vx = V + xi * vplane, *ux = u + (size_t)xi * coutp * cin;
            float *mx = M + xi * mplane;
            for (int jp = 0; jp < panels; jp++) {
                int columns = blk.tiles - jp * WNR < WNR ? blk.tiles - jp * WNR : WNR;
                for (int cp = 0; cp < coutp / WMR; cp++)
                    kernel_8x(columns, 0, cin, ux + (size_t)cp * cin * WMR, vx + (size_t)jp * WNR, ld,
                              mx + (size_t)cp * WMR * ld + (size_t)jp * WNR, ld);
            }
        }
        /* y = Aᵀ M A: four rows of 4·count columns per piece (the lanes of its second tile row four output rows
         * further down, from column 0), the four columns of a tile interleaved back by two rounds of permutes. */
        for (int co = 0; co < cout; co++)
            for (int k = 0; k < np; k++) {
                tile_piece pc = pieces[k];
                int c0 = 4 * pc.tc0, s4 = 4 * pc.split, width = s4 < w - c0 ? s4 : w - c0;
                int wb = 4 * (pc.count - pc.split) < w ? 4 * (pc.count - pc.split) : w;
                const float *mt = M + (size_t)co * ld + pc.t;
                __m512 s[4][6];
                for (int j = 0; j < 6; j++) { /* along the rows: s[a][j] = (Aᵀ M)[a, j] */
                    __m512 m[6];
                    for (int i = 0; i < 6; i++) m[i] = _mm512_maskz_loadu_ps(first_lanes(pc.count), mt + (6 * i + j) * mplane);
                    __m512 t[4];
                    output_1d(m, t);
                    for (int a = 0; a < 4; a++) s[a][j] = t[a];
                }
                for (int a = 0; a < 4; a++) {
                    int oh = oh0 + 4 * pc.trow + a;
                    if (oh >= oh1) break;
                    __mmask16 keep_b = oh + 4 < oh1 ? 0xffff : 0; /* the second tile row's output row */
                    __m512 o[4];
                    output_1d(s[a], o); /* o[p] lane l: output column 4l + p of the piece */
                    __m512 e_lo = _mm512_permutex2var_ps(o[0], lo, o[2]), e_hi = _mm512_permutex2var_ps(o[0], hi, o[2]);
                    __m512 f_lo = _mm512_permutex2var_ps(o[1], lo, o[3]), f_hi = _mm512_permutex2var_ps(o[1], hi, o[3]);
                    __m512 z[4] = {_mm512_permutex2var_ps(e_lo, lo, f_lo), _mm512_permutex2var_ps(e_lo, hi, f_lo),
                                   _mm512_permutex2var_ps(e_hi, lo, f_hi), _mm512_permutex2var_ps(e_hi, hi, f_hi)};
                    float *ya = y + (size_t)co * ldy + (size_t)(oh - oh0) * w + c0, *yb = ya + 4 * (size_t)w - c0 - s4;
                    for (int q = 0; q < 4; q++) { /* positions 16q + l */
                        __mmask16 la = first_lanes(width - 16 * q);
                        __mmask16 lb = (__mmask16)(first_lanes(s4 + wb - 16 * q) & ~first_lanes(s4 - 16 * q)) & keep_b;
                        float *pa = ya + 16 * q, *pb = yb + 16 * q;
                        if (beta != 0) {
                            __m512 old = _mm512_mask_loadu_ps(_mm512_maskz_loadu_ps(la, pa), lb, pb);
                            z[q] = _mm512_fmadd_ps(_mm512_set1_ps(beta), old, z[q]);
                        }
                        if (la) _mm512_mask_storeu_ps(pa, la, z[q]);
                        if (lb) _mm512_mask_storeu_ps(pb, lb, z[q]);
                    }
                }
            }
    }
}
#endif

void ck_winograd4_f32_weights(const float *wt, int cout, int cin, float *u) {
#if defined(__x86_64__)
    weights4(wt, cout, cin, u);
#else
    (void)wt; (void)cout; (void)cin; (void)u;
    abort();
#endif
}

void ck_winograd4_f32_forward(const float *x, int cin, int h, int w, const float *u, int cout, int oh0, int oh1,
                              float beta, float *y, int ldy) {
#if defined(__x86_64__)
    if (cout <= 0 || oh1 <= oh0 || h <= 0 || w <= 0) return;
    if (oh0 % 4) abort(); /* bands start on a tile row */
    winograd4_forward(x, cin, h, w, u, cout, oh0, oh1, beta, y, ldy);
#else
    (void)x; (void)cin; (void)h; (void)w; (void)u; (void)cout; (void)oh0; (void)oh1; (void)beta; (void)y; (void)ldy;
    abort();
#endif
}
