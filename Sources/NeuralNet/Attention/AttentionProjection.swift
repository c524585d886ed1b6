/// The affine projection `y = x·Wᵀ + b` of the attention layer, forward and backward, straight on `GEMM.matmul`.
///
/// Shapes: `x: [R, I]`, `weight: [O, I]` (PyTorch's `nn.Linear` layout, so checkpoints map one to one),
/// `bias: [O]`, `y: [R, O]`. Backward: `dW += dyᵀ·x`, `db += Σ_r dy`, `dx (+)= dy·W`.
struct AttentionProjection {
    /// `[O, I]`, named `<prefix>.weight`.
    let weight: Parameter
    /// `[O]`, named `<prefix>.bias`, without weight decay.
    let bias: Parameter

    /// A projection with the given initial weight and a zero bias.
    init(prefix: String, weight: Tensor) {
        precondition(weight.rank == 2, "AttentionProjection: weight must be [out, in]")
        self.weight = Parameter(name: "\(prefix).weight", value: weight)
        self.bias = Parameter(name: "\(prefix).bias", value: Tensor(shape: [weight.shape[0]]), decays: false)
    }

    var outputs: Int { weight.value.shape[0] }
    var inputs: Int { weight.value.shape[1] }

    /// `y[rows, O] = x[rows, I]·Wᵀ + b`.
    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let (o, i) = (outputs, inputs)
        bias.value.data.withUnsafeBufferPointer { bp in
            for r in 0..<rows { (y + r * o).update(from: bp.baseAddress!, count: o) }
        }
        weight.value.data.withUnsafeBufferPointer { wp in
            GEMM.matmul(transB: true, m: rows, n: o, k: i, a: x, lda: i, b: wp.baseAddress!, ldb: i,
                       beta: 1, c: y, ldc: o)
        }
    }

    /// Accumulates `weight.grad` and `bias.grad` from `dy[rows, O]` and the forward input `x[rows, I]`, and
    /// adds `dy·W` into `dx[rows, I]`.
    func backward(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, dx: UnsafeMutablePointer<Float>
    ) {
        let (o, i) = (outputs, inputs)
        weight.grad.data.withUnsafeMutableBufferPointer { dw in
            GEMM.matmul(transA: true, m: o, n: i, k: rows, a: dy, lda: o, b: x, ldb: i,
                       beta: 1, c: dw.baseAddress!, ldc: i)
        }
        bias.grad.data.withUnsafeMutableBufferPointer { db in
            for r in 0..<rows {
                let row = dy + r * o
                for j in 0..<o { db[j] += row[j] }
            }
        }
        weight.value.data.withUnsafeBufferPointer { wp in
            GEMM.matmul(m: rows, n: i, k: o, a: dy, lda: o, b: wp.baseAddress!, ldb: i, beta: 1, c: dx, ldc: i)
        }
    }
}
