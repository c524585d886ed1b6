/// Batched matrix product with optional transposes, and its backward, through `GEMM.matmul`.
///
/// Shapes: `a: [B, M, K]` (`[B, K, M]` when `transA`), `b: [B, K, N]` (`[B, N, K]` when `transB`),
/// `c: [B, M, N]`. Forward: `c[i] = op(a[i]) · op(b[i])` for each batch entry `i`, `op(X) = Xᵀ` when its flag
/// is set.
/// Backward, from `dC`: `d op(A) = dC · op(B)ᵀ` and `d op(B) = op(A)ᵀ · dC`, written in the stored layout of
/// `a` and `b` and accumulated (`+=`, GEMM with `beta = 1`).
public enum BatchedMatMul {
    /// The batch size and matrix extents implied by the operands' shapes and transpose flags.
    struct Dims {
        var batch, m, k, n: Int
        /// Leading dimensions (row lengths) of `a` and `b` as stored.
        var lda: Int { transA ? m : k }
        var ldb: Int { transB ? k : n }
        var transA, transB: Bool
    }

    static func dims(_ a: [Int], _ b: [Int], transA: Bool, transB: Bool) -> Dims {
        precondition(a.count == 3 && b.count == 3, "BatchedMatMul: operands \(a), \(b) must be [B, rows, cols]")
        precondition(a[0] == b[0], "BatchedMatMul: batch sizes \(a[0]) and \(b[0]) differ")
        let (m, k) = transA ? (a[2], a[1]) : (a[1], a[2])
        let (kb, n) = transB ? (b[2], b[1]) : (b[1], b[2])
        precondition(k == kb, 
                     "BatchedMatMul: inner extents differ for \(a) × \(b) (transA \(transA), transB \(transB))")
        return Dims(batch: a[0], m: m, k: k, n: n, transA: transA, transB: transB)
    }

    /// `c[i] = op(a[i]) · op(b[i])`, shape `[B, M, N]`.
    public static func forward(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) -> Tensor {
        let d = dims(a.shape, b.shape, transA: transA, transB: transB)
        var c = Tensor(shape: [d.batch, d.m, d.n])
        guard d.k > 0 else { return c }
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                c.data.withUnsafeMutableBufferPointer { cp in
                    for i in 0..<d.batch {
                        GEMM.matmul(
                            transA: transA, transB: transB, m: d.m, n: d.n, k: d.k,
                            a: ap.baseAddress! + i * d.m * d.k, lda: d.lda,
                            b: bp.baseAddress! + i * d.k * d.n, ldb: d.ldb,
                            c: cp.baseAddress! + i * d.m * d.n, ldc: d.n)
                    }
                }
            }
        }
        return c
    }

    /// Accumulates `dA += ∂L/∂a` and `dB += ∂L/∂b` given `dC = ∂L/∂c` and the forward operands.
    public static func backward(
        dC: Tensor, a: Tensor, b: Tensor, transA: Bool = false, transB: Bool = false,
        dA: inout Tensor, dB: inout Tensor
    ) {
        let d = dims(a.shape, b.shape, transA: transA, transB: transB)
        precondition(dC.shape == [d.batch, d.m, d.n], "BatchedMatMul.backward: dC \(dC.shape)")
        precondition(dA.shape == a.shape && dB.shape == b.shape, "BatchedMatMul.backward: gradient shapes")
        guard d.m > 0, d.n > 0, d.k > 0 else { return }
        let (sa, sb, sc) = (d.m * d.k, d.k * d.n, d.m * d.n)
        dC.data.withUnsafeBufferPointer { gp in
            a.data.withUnsafeBufferPointer { ap in
                b.data.withUnsafeBufferPointer { bp in
                    dA.data.withUnsafeMutableBufferPointer { dap in
                        dB.data.withUnsafeMutableBufferPointer { dbp in
                            for i in 0..<d.batch {
                                let g = gp.baseAddress! + i * sc, av = ap.baseAddress! + i * sa
                                let bv = bp.baseAddress! + i * sb
                                let da = dap.baseAddress! + i * sa, db = dbp.baseAddress! + i * sb
                                if transA {  // A stored [K, M]: dA = op(B) · dCᵀ
                                    GEMM.matmul(transA: transB, transB: true, m: d.k, n: d.m, k: d.n,
                                               a: bv, lda: d.ldb, b: g, ldb: d.n, beta: 1, c: da, ldc: d.m)
                                } else {  // A stored [M, K]: dA = dC · op(B)ᵀ
                                    GEMM.matmul(transA: false, transB: !transB, m: d.m, n: d.k, k: d.n,
                                               a: g, lda: d.n, b: bv, ldb: d.ldb, beta: 1, c: da, ldc: d.k)
                                }
                                if transB {  // B stored [N, K]: dB = dCᵀ · op(A)
                                    GEMM.matmul(transA: true, transB: transA, m: d.n, n: d.k, k: d.m,
                                               a: g, lda: d.n, b: av, ldb: d.lda, beta: 1, c: db, ldc: d.k)
                                } else {  // B stored [K, N]: dB = op(A)ᵀ · dC
                                    GEMM.matmul(transA: !transA, transB: false, m: d.k, n: d.n, k: d.m,
                                               a: av, lda: d.lda, b: g, ldb: d.n, beta: 1, c: db, ldc: d.n)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Triple loop in Double over subscripts: the reference for `forward`.
    public static func reference(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) -> Tensor {
        let d = dims(a.shape, b.shape, transA: transA, transB: transB)
        var out = [Float](repeating: 0, count: d.batch * d.m * d.n)
        for i in 0..<d.batch {
            for r in 0..<d.m {
                for c in 0..<d.n {
                    var s = 0.0
                    for p in 0..<d.k {
                        let av = transA ? a.data[i * d.m * d.k + p * d.m + r] : a.data[i * d.m * d.k + r * d.k + p]
                        let bv = transB ? b.data[i * d.k * d.n + c * d.k + p] : b.data[i * d.k * d.n + p * d.n + c]
                        s += Double(av) * Double(bv)
                    }
                    out[(i * d.m + r) * d.n + c] = Float(s)
                }
            }
        }
        return Tensor(shape: [d.batch, d.m, d.n], data: out)
    }
}
