/// Stochastic gradient descent with momentum, optional Nesterov, and L2 weight decay, with PyTorch's `SGD`
/// update (dampening 0):
///
/// `d = g + λθ` (λ only where `Parameter.decays`), `b ← μb + d` (`b = d` on the first step),
/// `d ← d + μb` (Nesterov) or `d ← b`, `θ ← θ − lr·d`. Defaults: `μ = 0.9`, no Nesterov, `λ = 0`.
/// State tensors: `<param>.momentum_buffer`.
public final class SGD: Optimizer {
    /// Momentum factor μ (0 for plain SGD).
    public var momentum: Float
    /// Whether to use Nesterov momentum (Sutskever et al., ICML 2013).
    public var nesterov: Bool
    /// L2 weight decay λ, added to the gradient.
    public var weightDecay: Float
    private var buffers: [String: Tensor] = [:]

    /// An SGD optimizer.
    public init(momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float = 0) {
        self.momentum = momentum; self.nesterov = nesterov; self.weightDecay = weightDecay
    }

    /// One SGD update of every parameter.
    public func step(_ parameters: [Parameter], learningRate lr: Float) {
        let mu = momentum
        for p in parameters {
            let lambda: Float = p.decays ? weightDecay : 0
            let first = buffers[p.name] == nil
            var b = buffers.removeValue(forKey: p.name) ?? Tensor(shape: p.value.shape)
            let grad = p.grad, nest = nesterov, useMomentum = mu != 0
            p.value.data.withUnsafeMutableBufferPointer { w in
                grad.data.withUnsafeBufferPointer { g in
                    b.data.withUnsafeMutableBufferPointer { bb in
                        for i in 0..<w.count {
                            var d = g[i] + lambda * w[i]
                            if useMomentum {
                                bb[i] = first ? d : mu * bb[i] + d
                                d = nest ? d + mu * bb[i] : bb[i]
                            }
                            w[i] -= lr * d
                        }
                    }
                }
            }
            if useMomentum { buffers[p.name] = b }
        }
    }

    /// `<param>.momentum_buffer` for every parameter stepped so far.
    public func stateTensors() -> [(String, Tensor)] {
        buffers.keys.sorted().map { ($0 + ".momentum_buffer", buffers[$0]!) }
    }

    /// Restores the momentum buffers.
    public func loadState(_ tensors: [String: Tensor], parameters: [Parameter]) throws {
        let state = try perParameterState(tensors, parameters: parameters, suffixes: ["momentum_buffer"], scalars: [])
        buffers = state.compactMapValues { $0["momentum_buffer"] }
    }
}
