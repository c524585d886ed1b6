import Foundation

/// Batch normalisation over the channels of an image batch (Ioffe & Szegedy, ICML 2015), as PyTorch's
/// `BatchNorm2d` with `eps = 1e-5`, `momentum = 0.1`.
///
/// Shape key: `x, y: [N, C, H, W]`, `weight (γ), bias (β), running_mean, running_var: [C]`, `M = N·H·W`.
/// Training: `μ_c = mean(x[:, c])`, `σ²_c = mean((x[:, c] − μ_c)²)` (biased), `x̂ = (x − μ)/√(σ² + ε)`,
/// `y = γ·x̂ + β`; running statistics `r ← (1 − m)·r + m·stat` with the unbiased variance `σ²·M/(M − 1)`.
/// Evaluation (`training == false`): the running statistics replace the batch statistics.
/// Backward (training): `dβ += Σ dy`, `dγ += Σ dy·x̂`, `dx = γ/(M·√(σ²+ε))·(M·dy − Σdy − x̂·Σ(dy·x̂))`.
/// Parameters `<name>.weight`, `<name>.bias` do not decay; buffers `<name>.running_mean`, `<name>.running_var`.
/// With `fusedReLU`, the layer computes `max(y, 0)` in the same pass, saving a full read and write of the
/// activation against a separate `ReLU`; backward masks `dy` where `y ≤ 0`, recomputed from `x` (the same `x·a + b`
/// in the same order, so the same mask bit for bit) instead of reading the output back.
public final class BatchNorm2D: Layer {
    /// Dotted name prefix.
    public let name: String
    /// Number of channels `C`.
    public let channels: Int
    /// Added to the variance before the square root.
    public let epsilon: Float
    /// Weight of the new batch statistic in the running averages.
    public let momentum: Float
    /// `γ: [C]`, initialised to 1.
    public let weight: Parameter
    /// `β: [C]`, initialised to 0.
    public let bias: Parameter
    /// Running mean `[C]`, initialised to 0.
    public var runningMean: Tensor
    /// Running (unbiased) variance `[C]`, initialised to 1.
    public var runningVar: Tensor
    /// Batch statistics (true) or running statistics (false) in `forward`.
    public var training = true
    /// Whether a ReLU follows inside this layer: `y = max(γ·x̂ + β, 0)`.
    public let fusedReLU: Bool
    /// Sums the statistics over a data-parallel job's processes in training mode (`--sync-bn`); nil: local.
    public var synchronizer: BatchNormSynchronizer?

    private var input: Tensor?
    private var savedMean: [Float] = [], savedInvStd: [Float] = []
    private var savedTraining = true
    /// The affine map `x·a + b` of the last forward pass when a ReLU follows: its sign is the ReLU's mask.
    private var savedAffine: (scale: [Float], shift: [Float])?
    /// The output of the last forward pass when it was `forward(_:addingResidual:)` (its sign is the ReLU's mask).
    private var savedResidualOutput: Tensor?

    /// γ and β.
    public var parameters: [Parameter] { [weight, bias] }

    /// The running statistics by dotted name, for checkpoints: `[(<name>.running_mean, …), (<name>.running_var, …)]`.
    public var buffers: [(String, Tensor)] {
        [(name + ".running_mean", runningMean), (name + ".running_var", runningVar)]
    }

    /// Replaces a running statistic by its dotted name (as listed in `buffers`); returns false when the name
    /// is not one of this layer's buffers or the shape differs.
    @discardableResult
    public func setBuffer(_ bufferName: String, _ value: Tensor) -> Bool {
        guard value.shape == [channels] else { return false }
        if bufferName == name + ".running_mean" { runningMean = value; return true }
        if bufferName == name + ".running_var" { runningVar = value; return true }
        return false
    }

    /// Batch normalisation of `channels` channels, followed by a ReLU when `fusedReLU`.
    public init(name: String, channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, fusedReLU: Bool = false) {
        self.name = name; self.channels = channels; self.epsilon = epsilon; self.momentum = momentum
        self.fusedReLU = fusedReLU
        weight = Parameter(name: name + ".weight", value: Tensor(shape: [channels], repeating: 1), decays: false)
        bias = Parameter(name: name + ".bias", value: Tensor(shape: [channels]), decays: false)
        runningMean = Tensor(shape: [channels])
        runningVar = Tensor(shape: [channels], repeating: 1)
    }

    /// Normalises `x` with batch statistics (training, updating the running ones) or running statistics.
    public func forward(_ x: Tensor) -> Tensor {
        let (a, b) = normalisation(x)
        savedAffine = fusedReLU ? (a, b) : nil
        savedResidualOutput = nil
        return BatchNormKernels.affine(x, scale: a, shift: b, relu: fusedReLU)
    }

    /// `max(bn(x) + residual, 0)`, the end of a residual block, in one pass over memory instead of three (the same
    /// values as `forward(x)`, then the sum, then a ReLU); `backwardWithResidual` is its backward pass. Not with
    /// `fusedReLU`.
    public func forward(_ x: Tensor, addingResidual residual: Tensor) -> Tensor {
        precondition(!fusedReLU, "BatchNorm2D \(name): a residual sum with a fused ReLU before it")
        precondition(residual.shape == x.shape, "BatchNorm2D \(name): residual \(residual.shape) ≠ x \(x.shape)")
        let (a, b) = normalisation(x)
        savedAffine = nil
        let y = BatchNormKernels.affineResidualReLU(x, scale: a, shift: b, residual: residual)
        savedResidualOutput = y
        return y
    }

    /// The statistics of `x` (batch statistics in training, which also updates the running ones; else the running
    /// statistics), saved for backward, and the affine map `y = x·a + b` they give.
    private func normalisation(_ x: Tensor) -> (scale: [Float], shift: [Float]) {
        precondition(x.rank == 4 && x.shape[1] == channels, "BatchNorm2D \(name): input \(x.shape), want [N, \(channels), H, W]")
        let n = x.shape[0], C = channels, P = x.shape[2] * x.shape[3], M = n * P
        var mean = [Float](repeating: 0, count: C), invStd = [Float](repeating: 0, count: C)
        if training {
            precondition(M > 1, "BatchNorm2D \(name): training needs more than one value per channel")
            var variance = [Float](repeating: 0, count: C)
            BatchNormKernels.statistics(x, mean: &mean, variance: &variance)
            let total = synchronizer?.combine(mean: &mean, variance: &variance, count: M) ?? M
            for c in 0..<C { invStd[c] = 1 / (variance[c] + epsilon).squareRoot() }
            let m = momentum, unbias = Float(total) / Float(total - 1)
            runningMean.data.withUnsafeMutableBufferPointer { rm in
                runningVar.data.withUnsafeMutableBufferPointer { rv in
                    for c in 0..<C {
                        rm[c] = (1 - m) * rm[c] + m * mean[c]
                        rv[c] = (1 - m) * rv[c] + m * variance[c] * unbias
                    }
                }
            }
        } else {
            for c in 0..<C {
                mean[c] = runningMean.data[c]
                invStd[c] = 1 / (runningVar.data[c] + epsilon).squareRoot()
            }
        }
        input = x; savedMean = mean; savedInvStd = invStd; savedTraining = training
        // y = x·a + b per channel, a = γ·invStd, b = β − μ·a
        var a = [Float](repeating: 0, count: C), b = [Float](repeating: 0, count: C)
        for c in 0..<C {
            a[c] = weight.value.data[c] * invStd[c]
            b[c] = bias.value.data[c] - mean[c] * a[c]
        }
        return (a, b)
    }

    /// Accumulates `weight.grad`, `bias.grad` from `dy` and returns `dx` (through the batch statistics when
    /// the forward pass was in training mode, else through the fixed affine map).
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(savedResidualOutput == nil, "BatchNorm2D \(name): forward(_:addingResidual:) needs backwardWithResidual")
        return gradients(dy).dx
    }

    /// The backward pass of `forward(_:addingResidual:)`: `dx` (through this layer) and the gradient of the
    /// residual (`dy` where the output is positive).
    public func backwardWithResidual(_ dy: Tensor) -> (dx: Tensor, dResidual: Tensor) {
        precondition(savedResidualOutput != nil, "BatchNorm2D \(name): backwardWithResidual after a plain forward")
        let (dx, masked) = gradients(dy)
        return (dx, masked)
    }

    private func gradients(_ dy: Tensor) -> (dx: Tensor, maskedDy: Tensor) {
        guard let x = input else { preconditionFailure("BatchNorm2D \(name): backward before forward") }
        precondition(dy.shape == x.shape, "BatchNorm2D \(name): dy \(dy.shape) ≠ x \(x.shape)")
        return BatchNormKernels.backward(
            x: x, dy: dy, mean: savedMean, invStd: savedInvStd, gamma: weight.value.data,
            dGamma: &weight.grad, dBeta: &bias.grad, throughStatistics: savedTraining, relu: savedAffine,
            residualOutput: savedResidualOutput, synchronizer: savedTraining ? synchronizer : nil)
    }

    /// The convolution equivalent to `conv` followed by this layer in evaluation mode: weights scaled by
    /// `a = γ/√(running_var + ε)` per output channel and bias `(b − running_mean)·a + β` (`b` = 0 without bias).
    /// The result has the convolution's name and always a bias.
    public func folded(into conv: Conv2D) -> Conv2D {
        precondition(conv.outChannels == channels, "BatchNorm2D \(name): \(channels) channels, conv \(conv.name) has \(conv.outChannels)")
        var g = SeededGenerator(seed: 0)
        let out = Conv2D(name: conv.name, inChannels: conv.inChannels, outChannels: conv.outChannels,
                         kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding, bias: true,
                         initializer: .constant(0), generator: &g)
        let per = conv.inChannels * conv.kernelSize * conv.kernelSize
        var w = conv.weight.value
        var b = Tensor(shape: [channels])
        for c in 0..<channels {
            let a = weight.value.data[c] / (runningVar.data[c] + epsilon).squareRoot()
            for i in 0..<per { w.data[c * per + i] *= a }
            let b0 = conv.bias?.value.data[c] ?? 0
            b.data[c] = (b0 - runningMean.data[c]) * a + bias.value.data[c]
        }
        out.weight.value = w
        out.bias!.value = b
        return out
    }
}
