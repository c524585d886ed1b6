import Foundation

/// Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay Regularization",
/// ICLR 2019), with PyTorch's `AdamW` update:
///
/// `θ ← θ·(1 − lr·λ)` (only where `Parameter.decays`), `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `θ ← θ − (lr/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε)`. Defaults: `β = (0.9, 0.999)`, `ε = 1e-8`, `λ = 0.01`.
/// State tensors: `<param>.exp_avg`, `<param>.exp_avg_sq`, and `step` (`[1]`).
public final class AdamW: Optimizer {
    /// Exponential decay rates of the moment estimates.
    public var beta1, beta2: Float
    /// Added to the denominator.
    public var epsilon: Float
    /// Decoupled weight-decay factor λ.
    public var weightDecay: Float
    /// Number of steps taken.
    public private(set) var stepCount = 0
    private var firstMoment: [String: Tensor] = [:]
    private var secondMoment: [String: Tensor] = [:]

    /// An AdamW optimizer.
    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay
    }

    /// One AdamW update of every parameter.
    public func step(_ parameters: [Parameter], learningRate lr: Float) {
        stepCount += 1
        let t = Double(stepCount)
        let bc1 = Float(1 - Foundation.pow(Double(beta1), t)), bc2 = Float(1 - Foundation.pow(Double(beta2), t))
        let stepSize = lr / bc1, sqrtBc2 = bc2.squareRoot()
        let b1 = beta1, b2 = beta2, eps = epsilon
        for p in parameters {
            var m = firstMoment[p.name] ?? Tensor(shape: p.value.shape)
            var v = secondMoment[p.name] ?? Tensor(shape: p.value.shape)
            firstMoment[p.name] = nil; secondMoment[p.name] = nil  // unique storage: no copy on write
            let decay: Float = p.decays ? 1 - lr * weightDecay : 1
            let grad = p.grad
            p.value.data.withUnsafeMutableBufferPointer { w in
                grad.data.withUnsafeBufferPointer { g in
                    m.data.withUnsafeMutableBufferPointer { mb in
                        v.data.withUnsafeMutableBufferPointer { vb in
                            for i in 0..<w.count {
                                let gi = g[i]
                                mb[i] = b1 * mb[i] + (1 - b1) * gi
                                vb[i] = b2 * vb[i] + (1 - b2) * gi * gi
                                w[i] = w[i] * decay - stepSize * mb[i] / (vb[i].squareRoot() / sqrtBc2 + eps)
                            }
                        }
                    }
                }
            }
            firstMoment[p.name] = m; secondMoment[p.name] = v
        }
    }

    /// `<param>.exp_avg`, `<param>.exp_avg_sq` for every parameter stepped so far, and `step`.
    public func stateTensors() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = [("step", Tensor(shape: [1], data: [Float(stepCount)]))]
        for name in firstMoment.keys.sorted() {
            out.append((name + ".exp_avg", firstMoment[name]!))
            out.append((name + ".exp_avg_sq", secondMoment[name]!))
        }
        return out
    }

    /// Restores moments and step count.
    public func loadState(_ tensors: [String: Tensor], parameters: [Parameter]) throws {
        let state = try perParameterState(tensors, parameters: parameters, suffixes: ["exp_avg_sq", "exp_avg"],
                                          scalars: ["step"])
        stepCount = Int(scalarState(tensors, "step") ?? 0)
        firstMoment = [:]; secondMoment = [:]
        for (name, s) in state {
            let shape = s.values.first!.shape
            firstMoment[name] = s["exp_avg"] ?? Tensor(shape: shape)
            secondMoment[name] = s["exp_avg_sq"] ?? Tensor(shape: shape)
        }
    }
}
