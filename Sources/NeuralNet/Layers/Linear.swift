/// Fully connected layer, as PyTorch's `Linear`: `y = x·Wᵀ + b`.
///
/// Shape key: `x: [N, in]`, `weight: [out, in]`, `bias: [out]`, `y: [N, out]`.
/// Backward: `dW += dyᵀ·x` (`[out, N]·[N, in]`), `db += Σ_n dy`, `dx = dy·W` (`[N, out]·[out, in]`).
/// Parameters `<name>.weight` (decays), `<name>.bias` (no decay). Default initialisation: Kaiming uniform
/// with gain √(1/3) (PyTorch's default), bias `U(−1/√in, 1/√in)`.
public final class Linear: Layer {
    /// Dotted name prefix.
    public let name: String
    /// Input and output features.
    public let inFeatures, outFeatures: Int
    /// `[out, in]`.
    public let weight: Parameter
    /// `[out]` or nil.
    public let bias: Parameter?
    private var input: Tensor?

    /// Weight, then bias if any.
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    /// A layer mapping `inFeatures` to `outFeatures`.
    public init(
        name: String, inFeatures: Int, outFeatures: Int, bias: Bool = true,
        initializer: Initializer = .kaimingUniform(gain: 0.57735026), generator: inout SeededGenerator
    ) {
        self.name = name; self.inFeatures = inFeatures; self.outFeatures = outFeatures
        weight = Parameter(name: name + ".weight",
                           value: initializer.tensor(shape: [outFeatures, inFeatures], generator: &generator))
        let bound = 1 / Float(inFeatures).squareRoot()
        self.bias = bias ? Parameter(name: name + ".bias",
                                     value: Initializer.uniform(bound: bound).tensor(shape: [outFeatures], generator: &generator),
                                     decays: false) : nil
    }

    /// `x·Wᵀ + b` for `x: [N, in]`; keeps `x`.
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == inFeatures, "Linear \(name): input \(x.shape), want [N, \(inFeatures)]")
        input = x
        let n = x.shape[0], o = outFeatures, k = inFeatures
        return Tensor(shape: [n, o]) { y in
            var beta: Float = 0
            if let b = bias {
                for i in 0..<n { for j in 0..<o { y[i * o + j] = b.value.data[j] } }
                beta = 1
            }
            x.data.withUnsafeBufferPointer { xb in
                weight.value.data.withUnsafeBufferPointer { wb in
                    GEMM.matmul(transB: true, m: n, n: o, k: k, a: xb.baseAddress!, lda: k, b: wb.baseAddress!, ldb: k,
                               beta: beta, c: y.baseAddress!, ldc: o)
                }
            }
        }
    }

    /// Accumulates `dW`, `db` from `dy: [N, out]`; returns `dx: [N, in]`.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Linear \(name): backward before forward") }
        let n = x.shape[0], o = outFeatures, k = inFeatures
        precondition(dy.shape == [n, o], "Linear \(name): dy \(dy.shape), want [\(n), \(o)]")
        if let b = bias {
            b.grad.data.withUnsafeMutableBufferPointer { gb in
                dy.data.withUnsafeBufferPointer { d in
                    for i in 0..<n { for j in 0..<o { gb[j] += d[i * o + j] } }
                }
            }
        }
        return Tensor(shape: [n, k]) { dx in
            dy.data.withUnsafeBufferPointer { d in
                x.data.withUnsafeBufferPointer { xb in
                    weight.grad.data.withUnsafeMutableBufferPointer { gw in
                        GEMM.matmul(transA: true, m: o, n: k, k: n, a: d.baseAddress!, lda: o, b: xb.baseAddress!, ldb: k,
                                   beta: 1, c: gw.baseAddress!, ldc: k)
                    }
                }
                weight.value.data.withUnsafeBufferPointer { wb in
                    GEMM.matmul(m: n, n: k, k: o, a: d.baseAddress!, lda: o, b: wb.baseAddress!, ldb: k,
                               c: dx.baseAddress!, ldc: k)
                }
            }
        }
    }
}
