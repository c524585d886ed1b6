#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Layer normalisation over the last dimension (Ba, Kiros & Hinton, "Layer Normalization", 2016).
///
/// Shapes: `x: [R..., D]` (`R` rows in all), `weight: [D]`, `bias: [D]`, `y` like `x`.
/// Forward: `μ = mean(x[r, :])`, `σ² = mean((x[r, :] − μ)²)` (biased, as PyTorch), `rstd = 1/√(σ² + epsilon)`,
/// `x̂ = (x − μ)·rstd`, `y = x̂ · weight + bias`. Defaults: weight 1, bias 0, epsilon 1e-5; parameters
/// `<name>.weight` and `<name>.bias`, both without weight decay.
/// Backward: `dweight += Σ_r dy·x̂`, `dbias += Σ_r dy`, and with `g = dy·weight`,
/// `dx = rstd · (g − mean(g) − x̂ · mean(g·x̂))`.
public final class LayerNorm: UnaryLayer {
    /// Dotted name prefix of the parameters.
    public let name: String
    /// Scale γ, `[D]`, named `<name>.weight`.
    public let weight: Parameter
    /// Shift β, `[D]`, named `<name>.bias`.
    public let bias: Parameter
    /// Added to the variance before the square root.
    public let epsilon: Float

    /// What `backward` needs from the last `forward`: the normalised input and the per-row `1/σ`.
    private var saved: (xhat: [Float], rstd: [Float], shape: [Int])?

    /// A LayerNorm over `features` values per row, with weight 1 and bias 0.
    public init(name: String, features: Int, epsilon: Float = 1e-5) {
        precondition(features > 0, "LayerNorm \(name): features must be positive")
        self.name = name
        weight = Parameter(name: "\(name).weight", value: Tensor(shape: [features], repeating: 1), decays: false)
        bias = Parameter(name: "\(name).bias", value: Tensor(shape: [features]), decays: false)
        self.epsilon = epsilon
    }

    /// `[weight, bias]`.
    public var parameters: [Parameter] { [weight, bias] }

    /// Normalises each row of `x` (`[R..., D]`) and keeps `x̂` and `rstd` for `backward`.
    public func forward(_ x: Tensor) -> Tensor {
        let width = weight.value.count
        precondition(x.shape.last == width, "LayerNorm \(name): input \(x.shape) does not end in \(width)")
        let rows = x.count / width
        var y = Tensor(shape: x.shape)
        var xhat = [Float](repeating: 0, count: x.count)
        var rstd = [Float](repeating: 0, count: rows)
        let w = weight.value, b = bias.value
        x.data.withUnsafeBufferPointer { xp in
            w.data.withUnsafeBufferPointer { wp in
                b.data.withUnsafeBufferPointer { bp in
                    y.data.withUnsafeMutableBufferPointer { yp in
                        xhat.withUnsafeMutableBufferPointer { hp in
                            for r in 0..<rows {
                                let xr = xp.baseAddress! + r * width, hr = hp.baseAddress! + r * width
                                let yr = yp.baseAddress! + r * width
                                var mean: Float = 0
                                for j in 0..<width { mean += xr[j] }
                                mean /= Float(width)
                                var variance: Float = 0
                                for j in 0..<width {
                                    let c = xr[j] - mean
                                    variance += c * c
                                }
                                variance /= Float(width)
                                let s = 1 / sqrtf(variance + epsilon)
                                for j in 0..<width {
                                    let h = (xr[j] - mean) * s
                                    hr[j] = h
                                    yr[j] = h * wp[j] + bp[j]
                                }
                                rstd[r] = s
                            }
                        }
                    }
                }
            }
        }
        saved = (xhat, rstd, x.shape)
        return y
    }

    /// Accumulates `weight.grad` and `bias.grad` and returns `dX` for `dY` (the shape of the last input).
    public func backward(_ dY: Tensor) -> Tensor {
        guard let (xhat, rstd, shape) = saved else { preconditionFailure("LayerNorm.backward before forward") }
        precondition(dY.shape == shape, "LayerNorm.backward: dY \(dY.shape) for input \(shape)")
        let width = weight.value.count, rows = rstd.count
        var dX = Tensor(shape: shape)
        var dw = weight.grad, db = bias.grad
        let w = weight.value
        dY.data.withUnsafeBufferPointer { gp in
            xhat.withUnsafeBufferPointer { hp in
                w.data.withUnsafeBufferPointer { wp in
                    dX.data.withUnsafeMutableBufferPointer { dp in
                        dw.data.withUnsafeMutableBufferPointer { dwp in
                            db.data.withUnsafeMutableBufferPointer { dbp in
                                for r in 0..<rows {
                                    let g = gp.baseAddress! + r * width, h = hp.baseAddress! + r * width
                                    let d = dp.baseAddress! + r * width
                                    var meanG: Float = 0, meanGH: Float = 0
                                    for j in 0..<width {
                                        let gj = g[j] * wp[j]
                                        meanG += gj
                                        meanGH += gj * h[j]
                                        dwp[j] += g[j] * h[j]
                                        dbp[j] += g[j]
                                    }
                                    meanG /= Float(width)
                                    meanGH /= Float(width)
                                    let s = rstd[r]
                                    for j in 0..<width {
                                        d[j] += s * (g[j] * wp[j] - meanG - h[j] * meanGH)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        weight.grad = dw
        bias.grad = db
        return dX
    }

    /// The forward pass in Double with the textbook formula: the reference for tests.
    public func reference(_ x: Tensor) -> Tensor {
        let width = weight.value.count
        var out = [Float](repeating: 0, count: x.count)
        for r in 0..<(x.count / width) {
            let row = (0..<width).map { Double(x.data[r * width + $0]) }
            let mean = row.reduce(0, +) / Double(width)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(width)
            for j in 0..<width {
                let h = (row[j] - mean) / (variance + Double(epsilon)).squareRoot()
                out[r * width + j] = Float(h * Double(weight.value.data[j]) + Double(bias.value.data[j]))
            }
        }
        return Tensor(shape: x.shape, data: out)
    }
}
