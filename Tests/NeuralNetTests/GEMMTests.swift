import NeuralNet
import TestSupport
import XCTest

final class GEMMTests: XCTestCase {
    /// OpenBLAS sgemm against the naive Double-accumulating loop, every transpose combination, with
    /// alpha/beta and leading dimensions larger than the rows. Tolerance: rtol 1e-4, atol 1e-5 (Float32 sums of ≤ 37 terms).
    func testSgemmMatchesReference() {
        var d = TestData(seed: 1)
        for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
            let m = 7, n = 13, k = 37, pad = 3
            let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
            let a = d.tensor([(transA ? k : m) * lda]).data
            let b = d.tensor([(transB ? n : k) * ldb]).data
            var c = d.tensor([m * ldc]).data
            var expected = c
            GEMM.reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: a, lda: lda, b: b, ldb: ldb,
                           beta: 0.3, c: &expected, ldc: ldc)
            GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: a, lda: lda, b: b, ldb: ldb,
                       beta: 0.3, c: &c, ldc: ldc)
            assertClose(c.map(Double.init), expected.map(Double.init), rtol: 1e-4, atol: 1e-5, "trans \(transA) \(transB)")
        }
    }
}
