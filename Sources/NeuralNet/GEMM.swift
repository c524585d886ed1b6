import COpenBLAS

/// Single-precision matrix multiply on row-major storage, through OpenBLAS.
public enum GEMM {
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
