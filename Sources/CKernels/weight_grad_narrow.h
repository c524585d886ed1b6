/*
 * The fp32 weight gradient of a convolution with few patch-matrix rows (the stem: R = cin·Kh·Kw = 27), where the
 * GEMM of gemm_f32.c would fill only R of its micro-kernel's 48 lanes and transpose every B panel. Private to
 * CKernels; x86-64 with AVX-512F only.
 */
#ifndef CKERNELS_WEIGHT_GRAD_NARROW_H
#define CKERNELS_WEIGHT_GRAD_NARROW_H

#include <stddef.h>

#include "patches.h"

/* Rows R and output channels up to which conv_f32_weight_grad_narrow is used. */
enum { NARROW_MAX_ROWS = 32, NARROW_MAX_COUT = 64 };

/* dw[co, r] += Σ_t dy[co, t]·col[r, t] over the columns t of g (dw [cout, R] row-major, dy rows lddy apart),
 * R ≤ NARROW_MAX_ROWS, cout ≤ NARROW_MAX_COUT. */
void conv_f32_weight_grad_narrow(const patches *g, int cout, const float *dy, size_t lddy, float *dw);

#endif
