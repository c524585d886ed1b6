import NeuralNet
import TestSupport
import XCTest

/// `GEMM.bf16gemm` (CKernels/gemm_bf16.c) against two references: the fp32 product (`GEMM.reference`) within the
/// error bf16 rounding allows, and a scalar loop that rounds the inputs to bf16 itself (round to nearest even) and
/// sums in Double, which the kernel must match to fp32 accumulation error — a kernel that truncated, or rounded
/// ties away from zero, misses it by ~2⁻⁹ relative.
final class GEMMBF16Tests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Precision.bf16Available, "the CPU has no AVX512_BF16: the bf16 kernel cannot run here")
    }

    /// fp32 → bf16 → fp32, round to nearest with ties to even, written from the definition (independent of the C code).
    static func bf16(_ x: Float) -> Float {
        if x.isNaN { return x }
        let u = x.bitPattern, lower = u & 0xffff, upper = u & 0xffff_0000
        let roundUp = lower > 0x8000 || (lower == 0x8000 && (u >> 16) & 1 == 1)
        return Float(bitPattern: roundUp ? upper &+ 0x1_0000 : upper)
    }

    struct Problem {
        var transA, transB: Bool
        var m, n, k: Int
        var alpha, beta: Float
        var a, b, c: [Float]
        var lda, ldb, ldc: Int

        init(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, alpha: Float, beta: Float, _ d: inout TestData) {
            self.transA = transA; self.transB = transB; self.m = m; self.n = n; self.k = k
            self.alpha = alpha; self.beta = beta
            lda = (transA ? m : k) + 3; ldb = (transB ? k : n) + 1; ldc = n + 2
            a = d.tensor([(transA ? k : m) * lda]).data
            b = d.tensor([(transB ? n : k) * ldb]).data
            c = d.tensor([m * ldc]).data
        }

        func a(_ i: Int, _ p: Int) -> Float { transA ? a[p * lda + i] : a[i * lda + p] }
        func b(_ p: Int, _ j: Int) -> Float { transB ? b[j * ldb + p] : b[p * ldb + j] }

        /// The kernel's result.
        func bf16() -> [Float] {
            var out = c
            GEMM.bf16gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
                          ldb: ldb, beta: beta, c: &out, ldc: ldc)
            return out
        }

        /// `(alpha·Σ_p round(a)·round(b) + beta·c, alpha·Σ_p |a·b| + |beta·c|)` with `round` = `round(x)`, in Double.
        func reference(_ round: (Float) -> Float) -> (value: [Double], scale: [Double]) {
            var value = c.map(Double.init), scale = [Double](repeating: 0, count: c.count)
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0, abs = 0.0
                    for p in 0..<k {
                        let prod = Double(round(a(i, p))) * Double(round(b(p, j)))
                        s += prod; abs += Swift.abs(prod)
                    }
                    let prior = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                    value[i * ldc + j] = Double(alpha) * s + prior
                    scale[i * ldc + j] = Swift.abs(Double(alpha)) * abs + Swift.abs(prior)
                }
            }
            return (value, scale)
        }
    }

    /// Odd and edge shapes around the 8 × 48 micro-tile and the 256-deep k blocks, k odd and even.
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (3, 5, 2), (8, 48, 2), (9, 49, 3), (7, 47, 255), (17, 100, 257), (16, 97, 513), (33, 50, 64),
    ]

    func check(_ p: Problem, _ got: [Float], against ref: (value: [Double], scale: [Double]), relative: Double,
               _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        for i in 0..<p.m {
            for j in 0..<p.n {
                let e = i * p.ldc + j
                let bound = relative * ref.scale[e] + 1e-30
                if abs(Double(got[e]) - ref.value[e]) > bound {
                    XCTFail("\(label) [\(i), \(j)]: \(got[e]) ≠ \(ref.value[e]) (bound \(bound))", file: file, line: line)
                    return
                }
            }
        }
        for i in 0..<p.m {
            for j in p.n..<p.ldc where got[i * p.ldc + j] != p.c[i * p.ldc + j] {
                XCTFail("\(label): C written past column n at [\(i), \(j)]", file: file, line: line)
                return
            }
        }
    }

    /// Equal to the bf16-rounding scalar reference within fp32 accumulation error: |Δ| ≤ 1e-5·(|α|·Σ|a·b| + |β·c|),
    /// every transpose combination, alpha and beta (beta 0 included), leading dimensions past the rows.
    func testMatchesBF16RoundingReference() {
        var d = TestData(seed: 21)
        for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
            for (q, s) in Self.shapes.enumerated() {
                let alpha: Float = q % 2 == 0 ? 1 : -0.7, beta: Float = [0, 1, 0.3][q % 3]
                let p = Problem(transA, transB, s.m, s.n, s.k, alpha: alpha, beta: beta, &d)
                check(p, p.bf16(), against: p.reference(Self.bf16), relative: 1e-5, "bf16 ref \(transA) \(transB) \(s)")
            }
        }
    }

    /// Within bf16 rounding of the fp32 product (`GEMM.reference`): each input is off by ≤ 2⁻⁹ relative, so each
    /// product by ≤ 2⁻⁸; the bound is 1e-2·(|α|·Σ|a·b| + |β·c|), which grows with k as the sum does.
    func testCloseToFP32Reference() {
        var d = TestData(seed: 22)
        for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
            for s in Self.shapes {
                let p = Problem(transA, transB, s.m, s.n, s.k, alpha: 0.5, beta: -1, &d)
                var exact = p.c
                GEMM.reference(transA: transA, transB: transB, m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: p.a,
                               lda: p.lda, b: p.b, ldb: p.ldb, beta: p.beta, c: &exact, ldc: p.ldc)
                let scale = p.reference { $0 }.scale
                check(p, p.bf16(), against: (exact.map(Double.init), scale), relative: 1e-2, "fp32 ref \(transA) \(transB) \(s)")
            }
        }
    }

    /// The rounding is to nearest with ties to even: a product whose inputs sit exactly halfway between two
    /// bf16 values, and the reference's own rounding on known values.
    func testRoundsTiesToEven() {
        XCTAssertEqual(Self.bf16(1 + 0x1p-8), 1)                // tie, even below
        XCTAssertEqual(Self.bf16(1 + 3 * 0x1p-8), 1 + 0x1p-6)   // tie, even above
        XCTAssertEqual(Self.bf16(1 + 0x1p-8 + 0x1p-20), 1 + 0x1p-7)
        XCTAssertEqual(Self.bf16(-(1 + 3 * 0x1p-8)), -(1 + 0x1p-6))
        let a: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, 1 + 0x1p-9], b: [Float] = [1, 1, 1]
        var c: [Float] = [0]
        GEMM.bf16gemm(m: 1, n: 1, k: 3, a: a, lda: 3, b: b, ldb: 1, c: &c, ldc: 1)
        XCTAssertEqual(c[0], 1 + (1 + 0x1p-6) + 1)
    }

    /// Large enough to be split over the workers (rows, then columns): equal to the bf16-rounding reference.
    func testSplitOverWorkersMatchesReference() {
        var d = TestData(seed: 23)
        for (m, n, k) in [(130, 150, 230), (9, 2000, 240)] {
            let p = Problem(false, true, m, n, k, alpha: 1, beta: 0.5, &d)
            check(p, p.bf16(), against: p.reference(Self.bf16), relative: 1e-5, "split \(m)×\(n)×\(k)")
        }
    }
}
