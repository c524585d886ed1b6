/// The affine projection `y = x·Wᵀ + b` of the attention layer, forward and backward, straight on `GEMM.sgemm`.
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
            GEMM.sgemm(transB: true, m: rows, n: o, k: i, a: x, lda: i, b: wp.baseAddress!, ldb: i,
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
            GEMM.sgemm(transA: true, m: o, n: i, k: rows, a: dy, lda: o, b: x, ldb: i,
                       beta: 1, c: dw.baseAddress!, ldc: i)
        }
        bias.grad.data.withUnsafeMutableBufferPointer { db in
            for r in 0..<rows {
                let row = dy + r * o
                for j in 0..<o { db[j] += row[j] }
            }
        }
        weight.value.data.withUnsafeBufferPointer { wp in
            GEMM.sgemm(m: rows, n: i, k: o, a: dy, lda: o, b: wp.baseAddress!, ldb: i, beta: 1, c: dx, ldc: i)
        }
    }
}

/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014): the seeded
/// source of the attention layer's initial weights, so that a seed fixes the model.
struct AttentionSeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Xavier/Glorot uniform (Glorot & Bengio, AISTATS 2010): `U(−a, a)` with `a = √(6 / (fanIn + fanOut))`,
    /// for a weight of shape `[fanOut, fanIn]`.
    mutating func xavierUniform(fanOut: Int, fanIn: Int) -> Tensor {
        let bound = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
        let values = (0..<(fanOut * fanIn)).map { _ in
            (2 * Float(next() >> 40) / Float(1 << 24) - 1) * bound
        }
        return Tensor(shape: [fanOut, fanIn], data: values)
    }
}
