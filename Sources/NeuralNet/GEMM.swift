import CKernels
import COpenBLAS

/// Matrix multiply on row-major storage: OpenBLAS sgemm (fp32), or the bfloat16 kernel of `CKernels/gemm_bf16.c`
/// (inputs rounded to bf16, fp32 accumulation); `matmul` picks by `Precision.current`.
public enum GEMM {
    /// `C = alpha · op(A) · op(B) + beta · C` in the arithmetic of `Precision.current`: `sgemm` for fp32,
    /// `bf16gemm` for bf16. The layers' products go through here; shapes as `sgemm`.
    @inlinable
    public static func matmul(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        switch Precision.current {
        case .fp32:
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c, ldc: ldc)
        case .bf16:
            bf16gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                     beta: beta, c: c, ldc: ldc)
        }
    }

    /// `C = alpha · op(A) · op(B) + beta · C` with A and B rounded to bfloat16 (round to nearest even) and the
    /// products summed in fp32 (`ck_gemm_bf16`: Goto/BLIS blocking, 8 × 48 vdpbf16ps micro-kernel). Shapes as
    /// `sgemm`. Called outside a parallel region (OpenBLAS running several threads) a large product is split into
    /// bands of rows, or of columns when m is small, one per worker; each band is single-threaded. Needs
    /// `Precision.bf16Available`. Timed under `TimeAccounting.gemm`.
    public static func bf16gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        precondition(Precision.bf16Available, "bf16gemm needs a CPU with AVX512_BF16")
        let ta: Int32 = transA ? 1 : 0, tb: Int32 = transB ? 1 : 0
        let workers = BLASRuntime.threads > 1 && m * n * k >= 1 << 22 ? min(Parallel.workers, BLASRuntime.threads) : 1
        func run(_ m: Int, _ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
            TimeAccounting.measure(TimeAccounting.gemm) {
                ck_gemm_bf16(ta, tb, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c,
                             Int32(ldc))
            }
        }
        if workers <= 1 { run(m, n, a, b, c); return }
        let byRows = m >= 32 * workers
        let units = byRows ? (m + 7) / 8 : (n + 47) / 48, unit = byRows ? 8 : 48, extent = byRows ? m : n
        let cs = SharedPointer(c)
        let aa = SharedPointer(UnsafeMutablePointer(mutating: a)), bb = SharedPointer(UnsafeMutablePointer(mutating: b))
        TimeAccounting.concurrentPerform(iterations: workers) { w in
            let lo = min(units * w / workers * unit, extent), hi = min(units * (w + 1) / workers * unit, extent)
            guard hi > lo else { return }
            if byRows {
                run(hi - lo, n, aa.base + (transA ? lo : lo * lda), bb.base, cs.base + lo * ldc)
            } else {
                run(m, hi - lo, aa.base, bb.base + (transB ? lo * ldb : lo), cs.base + lo)
            }
        }
    }

    /// Single-precision product through OpenBLAS, whatever `Precision.current` says.
    /// `C[m, n] = alpha · op(A) · op(B) + beta · C`, all row-major; `op(X)` is `Xᵀ` when its flag is set.
    ///
    /// Shapes: `op(A)` is `[m, k]` (A stored `[m, k]`, or `[k, m]` when transposed, with leading dimension `lda`),
    /// `op(B)` is `[k, n]` (B stored `[k, n]` or `[n, k]`, leading dimension `ldb`), C is `[m, n]` with `ldc`.
    /// Timed under `TimeAccounting.gemm` when accounting is enabled.
    @inlinable
    public static func sgemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        TimeAccounting.measure(TimeAccounting.gemm) {
            cblas_sgemm(
                CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
        }
    }

    /// The naive triple loop computing what `sgemm` computes, in Double accumulation: the reference for tests.
    public static func reference(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float = 0, c: inout [Float], ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                let prior = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                c[i * ldc + j] = Float(Double(alpha) * s + prior)
            }
        }
    }
}
