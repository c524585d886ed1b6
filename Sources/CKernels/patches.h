/*
 * The patch matrix of one image read in place (implicit im2col), shared by the GEMM packings of gemm_bf16.c and
 * gemm_f32.c. The idea of packing a GEMM operand straight from the image instead of materialising im2col is the
 * implicit-GEMM convolution (Chetlur et al., "cuDNN: Efficient Primitives for Deep Learning", 2014, §4).
 *
 * col[r, t] for row r = (c·Kh + kh)·Kw + kw and column t of the output rows oh0.., oh = oh0 + t / wo, ow = t % wo,
 * holds x[c, oh·s − ph + kh, ow·s − pw + kw], zero outside the image: for a square kernel (Kh = Kw = K) and
 * ph = pw = p exactly what Im2Col.im2col writes. The kernel may be Kh × Kw with its own top and left padding and
 * an output width wo given by the caller (rows and columns past the image's bottom and right edge read zero): the
 * parity sub-convolutions of a stride-2 input gradient (conv_f32_parity_input_grad in gemm_f32.c).
 * ih0[t] = oh·s − ph and iw0[t] = ow·s − pw are precomputed for the tile's columns (patch_offsets).
 * Private to CKernels (not under include/); x86-64 only, the functions compiled for AVX-512F.
 */
#ifndef CKERNELS_PATCHES_H
#define CKERNELS_PATCHES_H

#include <stdlib.h>
#include <string.h>

#include <immintrin.h>

typedef struct {
    const float *x;
    int channels, height, width, kernel_h, kernel_w, stride, pad_w, out_width, columns;
    const int *ih0, *iw0;
} patches;

/* Lanes l < count of 16 set. */
static inline __mmask16 first_lanes(int count) {
    return count >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (count > 0 ? count : 0)) - 1u);
}

/* col[r, t0 + l] for lanes l < count (1 ≤ count ≤ 16, t0 + count ≤ columns), zero in the other lanes. */
__attribute__((target("avx512f"))) static inline __m512 patch_row16(const patches *g, int r, int t0, int count) {
    int kk = g->kernel_h * g->kernel_w, c = r / kk, kh = (r % kk) / g->kernel_w, kw = r % g->kernel_w;
    const float *plane = g->x + (size_t)c * g->height * g->width;
    __mmask16 lanes = first_lanes(count);
    int ow0 = g->iw0[t0];
    if (g->stride == 1 && t0 % g->out_width + 16 <= g->out_width) { /* one output row, contiguous taps */
        int ih = g->ih0[t0] + kh, iw = ow0 + kw;
        if (ih < 0 || ih >= g->height) return _mm512_setzero_ps();
        int lo = iw < 0 ? -iw : 0, hi = g->width - iw < 16 ? g->width - iw : 16;
        if (hi <= lo) return _mm512_setzero_ps();
        __mmask16 m = lanes & (__mmask16)(first_lanes(hi) & ~first_lanes(lo));
        return _mm512_maskz_loadu_ps(m, plane + (ptrdiff_t)ih * g->width + iw);
    }
    __m512i ih = _mm512_add_epi32(_mm512_maskz_loadu_epi32(lanes, g->ih0 + t0), _mm512_set1_epi32(kh));
    __m512i iw = _mm512_add_epi32(_mm512_maskz_loadu_epi32(lanes, g->iw0 + t0), _mm512_set1_epi32(kw));
    __mmask16 in = lanes & _mm512_cmpge_epi32_mask(ih, _mm512_setzero_si512())
                   & _mm512_cmplt_epi32_mask(ih, _mm512_set1_epi32(g->height))
                   & _mm512_cmpge_epi32_mask(iw, _mm512_setzero_si512())
                   & _mm512_cmplt_epi32_mask(iw, _mm512_set1_epi32(g->width));
    __m512i index = _mm512_add_epi32(_mm512_mullo_epi32(ih, _mm512_set1_epi32(g->width)), iw);
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), in, index, plane, 4);
}

/* Columns [t0, t0 + count) of the patch matrix (1 ≤ count ≤ 16), decoded once for all the rows read there:
 * split = count when the columns lie in one output row and stride is 1 (one contiguous run of taps per row),
 * 0 < split < count when stride is 1 and they continue at the start of the next output row (two runs), and −1
 * otherwise (patch_tap_at then reads stride 2 within one output row by an even-lane permute, the rest by a gather). */
typedef struct {
    int t0, count, ih, iw, split;
    __mmask16 lanes;
} patch_columns;

static inline patch_columns patch_columns_at(const patches *g, int t0, int count) {
    patch_columns q = {t0, count, g->ih0[t0], g->iw0[t0], -1, first_lanes(count)};
    if (g->stride == 1) {
        int left = g->out_width - t0 % g->out_width; /* columns left in this output row */
        if (left >= count) q.split = count;
        else if (count - left <= g->out_width) q.split = left;
    }
    return q;
}

/* Lanes lo ≤ l < hi of 16 (empty when hi ≤ lo). */
static inline __mmask16 lane_range(int lo, int hi) {
    return hi <= lo ? 0 : (__mmask16)(first_lanes(hi) & ~first_lanes(lo));
}

/* How to read one tap (kh, kw) of a column chunk from any channel plane, decoded once per chunk and tap (the
 * same for every channel): kind 0, up to two masked contiguous runs (lanes m0 at plane + off0, lanes m1 at
 * plane + off1; stride 1); kind 1, stride 2 in one output row: 32 consecutive inputs from plane + off0 (lanes m0,
 * then m1 of the next 16) of which the even ones are kept; kind 2, a gather of the lanes `in` at `index`. */
typedef struct {
    __m512i index;
    ptrdiff_t off0, off1;
    __mmask16 m0, m1, in;
    int kind;
} patch_tap;

__attribute__((target("avx512f"))) static inline patch_tap patch_tap_at(const patches *g, const patch_columns *q,
                                                                       int kh, int kw) {
    patch_tap t;
    memset(&t, 0, sizeof t);
    t.index = _mm512_setzero_si512();
    int ih = q->ih + kh, iw = q->iw + kw;
    if (q->split > 0) {
        if (ih >= 0 && ih < g->height) {
            t.m0 = lane_range(iw < 0 ? -iw : 0, g->width - iw < q->split ? g->width - iw : q->split);
            t.off0 = (ptrdiff_t)ih * g->width + iw;
        }
        if (q->split < q->count && ih + 1 >= 0 && ih + 1 < g->height) {
            int iw1 = kw - g->pad_w, l1 = q->split;
            t.m1 = lane_range(l1 + (iw1 < 0 ? -iw1 : 0), l1 + g->width - iw1 < q->count ? l1 + g->width - iw1 : q->count);
            t.off1 = (ptrdiff_t)(ih + 1) * g->width + iw1 - l1;
        }
        return t;
    }
    if (g->stride == 2 && q->t0 % g->out_width + q->count <= g->out_width) {
        t.kind = 1;
        t.in = q->lanes;
        if (ih >= 0 && ih < g->height) {
            int span = 2 * q->count - 1, lo = iw < 0 ? -iw : 0, hi = g->width - iw < span ? g->width - iw : span;
            t.m0 = lane_range(lo, hi);
            t.m1 = lane_range(lo - 16, hi - 16);
            t.off0 = (ptrdiff_t)ih * g->width + iw;
        }
        return t;
    }
    t.kind = 2;
    __m512i vih = _mm512_add_epi32(_mm512_maskz_loadu_epi32(q->lanes, g->ih0 + q->t0), _mm512_set1_epi32(kh));
    __m512i viw = _mm512_add_epi32(_mm512_maskz_loadu_epi32(q->lanes, g->iw0 + q->t0), _mm512_set1_epi32(kw));
    t.in = q->lanes & _mm512_cmpge_epi32_mask(vih, _mm512_setzero_si512())
           & _mm512_cmplt_epi32_mask(vih, _mm512_set1_epi32(g->height))
           & _mm512_cmpge_epi32_mask(viw, _mm512_setzero_si512())
           & _mm512_cmplt_epi32_mask(viw, _mm512_set1_epi32(g->width));
    t.index = _mm512_add_epi32(_mm512_mullo_epi32(vih, _mm512_set1_epi32(g->width)), viw);
    return t;
}

/* The tap t of channel plane `plane` (16 lanes, zero where outside the image or past the chunk). */
__attribute__((target("avx512f"))) static inline __m512 patch_tap_load(const float *plane, const patch_tap *t) {
    if (t->kind == 0) {
        __m512 v = _mm512_maskz_loadu_ps(t->m0, plane + t->off0);
        return t->m1 ? _mm512_mask_loadu_ps(v, t->m1, plane + t->off1) : v;
    }
    if (t->kind == 1) {
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        __m512 a = _mm512_maskz_loadu_ps(t->m0, plane + t->off0), b = _mm512_maskz_loadu_ps(t->m1, plane + t->off0 + 16);
        return _mm512_maskz_permutex2var_ps(t->in, a, even, b);
    }
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), t->in, t->index, plane, 4);
}

/* One tap of a column chunk for channels [c_begin, c_end): out + (c − c_begin)·step = the 16 lanes of channel c,
 * the tap's masks and offsets held in registers across the channels (one loop per kind of read). */
__attribute__((target("avx512f"))) static inline void pack_tap_channels(patch_tap t, const float *x, size_t plane_size,
                                                                        int c_begin, int c_end, float *out, size_t step) {
    const float *plane = x + (size_t)c_begin * plane_size;
    int n = c_end - c_begin;
    if (t.kind == 0 && !t.m0 && !t.m1) {
        for (int i = 0; i < n; i++) _mm512_storeu_ps(out + (size_t)i * step, _mm512_setzero_ps());
    } else if (t.kind == 0 && !t.m1) {
        for (int i = 0; i < n; i++, plane += plane_size)
            _mm512_storeu_ps(out + (size_t)i * step, _mm512_maskz_loadu_ps(t.m0, plane + t.off0));
    } else if (t.kind == 0) {
        for (int i = 0; i < n; i++, plane += plane_size) {
            __m512 v = _mm512_maskz_loadu_ps(t.m0, plane + t.off0);
            _mm512_storeu_ps(out + (size_t)i * step, _mm512_mask_loadu_ps(v, t.m1, plane + t.off1));
        }
    } else if (t.kind == 1) {
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        for (int i = 0; i < n; i++, plane += plane_size) {
            __m512 a = _mm512_maskz_loadu_ps(t.m0, plane + t.off0), b = _mm512_maskz_loadu_ps(t.m1, plane + t.off0 + 16);
            _mm512_storeu_ps(out + (size_t)i * step, _mm512_maskz_permutex2var_ps(t.in, a, even, b));
        }
    } else {
        for (int i = 0; i < n; i++, plane += plane_size)
            _mm512_storeu_ps(out + (size_t)i * step, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), t.in, t.index, plane, 4));
    }
}

/* The column offsets of output rows [oh0, oh1): ih0 = o[t], iw0 = o[columns + 16 + t]; malloc'ed (free it). */
static inline int *patch_offsets(int oh0, int oh1, int wo, int stride, int pad_h, int pad_w) {
    int columns = (oh1 - oh0) * wo;
    int *o = malloc(sizeof(int) * 2 * ((size_t)columns + 16));
    if (!o) abort();
    for (int oh = oh0, t = 0; oh < oh1; oh++, t += wo) /* row by row: no division per column */
        for (int ow = 0; ow < wo; ow++) {
            o[t + ow] = oh * stride - pad_h;
            o[columns + 16 + t + ow] = ow * stride - pad_w;
        }
    return o;
}

/* The descriptor of one image's patch matrix over output rows [oh0, oh1) of width wo, kernel kh × kw, its offsets
 * (patch_offsets with the same pads) in `offsets`. */
static inline patches patch_matrix_rect(const float *x, int cin, int h, int w, int kh, int kw, int stride, int pad_w,
                                        int wo, int oh0, int oh1, const int *offsets) {
    int columns = (oh1 - oh0) * wo;
    patches g = {x, cin, h, w, kh, kw, stride, pad_w, wo, columns, offsets, offsets + columns + 16};
    return g;
}

/* The square-kernel case: kernel k, padding pad on every side, wo = (w + 2·pad − k) / stride + 1. */
static inline patches patch_matrix(const float *x, int cin, int h, int w, int k, int stride, int pad, int oh0,
                                   int oh1, const int *offsets) {
    return patch_matrix_rect(x, cin, h, w, k, k, stride, pad, (w + 2 * pad - k) / stride + 1, oh0, oh1, offsets);
}

#endif
