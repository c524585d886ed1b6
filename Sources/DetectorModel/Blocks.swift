import NeuralNet

/// Convolution, BatchNorm, ReLU: the unit every backbone and dense-head convolution uses.
///
/// Shape key: `x: [N, Cin, H, W]` → `y: [N, Cout, H/s, W/s]`. Parameters `<name>.conv.weight`,
/// `<name>.bn.weight`, `<name>.bn.bias`; buffers `<name>.bn.running_mean`, `<name>.bn.running_var`.
/// The conv has no bias (BatchNorm's β plays that role).
public final class ConvBNReLU: UnaryLayer {
    /// The convolution.
    public let conv: Conv2D
    /// Its batch normalisation, with the ReLU fused into the same pass.
    public let bn: BatchNorm2D

    /// A `kernel`×`kernel` conv with `stride` and "same" padding, then BN and ReLU; the BatchNorm is named `bnName`
    /// (default `<name>.bn`).
    public init(name: String, in cin: Int, out cout: Int, kernel: Int = 3, stride: Int = 1, bnName: String? = nil,
                generator: inout SeededGenerator) {
        conv = Conv2D(name: name + ".conv", inChannels: cin, outChannels: cout, kernelSize: kernel, stride: stride,
                      bias: false, generator: &generator)
        bn = BatchNorm2D(name: bnName ?? name + ".bn", channels: cout, fusedReLU: true)
    }

    /// A unit that applies `other`'s convolution weights (shared, `Conv2D(sharing:)`) with a BatchNorm of its own
    /// named `bnName` (per-level statistics and affine parameters under shared convolutions, as EfficientDet's heads,
    /// Tan et al., CVPR 2020).
    public init(sharingConvOf other: ConvBNReLU, bnName: String) {
        conv = Conv2D(sharing: other.conv)
        bn = BatchNorm2D(name: bnName, channels: other.bn.channels, fusedReLU: true)
    }

    /// Conv weight, BN γ and β.
    public var parameters: [Parameter] { conv.parameters + bn.parameters }

    /// `relu(bn(conv(x)))`.
    public func forward(_ x: Tensor) -> Tensor { bn.forward(conv.forward(x)) }

    /// Gradient through ReLU and BN (one pass), then the conv.
    public func backward(_ dy: Tensor) -> Tensor { conv.backward(bn.backward(dy)) }
}

/// A residual block (He et al., CVPR 2016, "basic block"): `y = relu(x + bn₂(conv₂(relu(bn₁(conv₁(x))))))`,
/// both convs 3×3 with the channel count kept.
public final class ResidualBlock: UnaryLayer {
    /// First conv + BN + ReLU.
    public let first: ConvBNReLU
    /// Second conv (no bias).
    public let conv2: Conv2D
    /// Second BatchNorm (which also adds the skip and applies the ReLU: `forward(_:addingResidual:)`).
    public let bn2: BatchNorm2D

    /// A block of `channels` channels named `<name>.conv1/.conv2`.
    public init(name: String, channels: Int, generator: inout SeededGenerator) {
        first = ConvBNReLU(name: name + ".conv1", in: channels, out: channels, generator: &generator)
        conv2 = Conv2D(name: name + ".conv2.conv", inChannels: channels, outChannels: channels, kernelSize: 3,
                       bias: false, generator: &generator)
        bn2 = BatchNorm2D(name: name + ".conv2.bn", channels: channels)
    }

    /// All parameters in forward order.
    public var parameters: [Parameter] { first.parameters + conv2.parameters + bn2.parameters }

    /// `relu(x + bn₂(conv₂(first(x))))`, the BatchNorm, the sum and the ReLU in one pass.
    public func forward(_ x: Tensor) -> Tensor {
        bn2.forward(conv2.forward(first.forward(x)), addingResidual: x)
    }

    /// The skip passes the gradient through the ReLU straight on and adds it to the branch's input gradient.
    public func backward(_ dy: Tensor) -> Tensor {
        let (dBranch, ds) = bn2.backwardWithResidual(dy)
        var dx = first.backward(conv2.backward(dBranch))
        dx.add(ds)
        return dx
    }
}

/// Collects the BatchNorm layers of a model for mode switches and checkpoint buffers.
public protocol HasBatchNorm {
    /// Every BatchNorm layer, in a fixed order.
    var batchNorms: [BatchNorm2D] { get }
}

extension ConvBNReLU: HasBatchNorm {
    /// The one BatchNorm.
    public var batchNorms: [BatchNorm2D] { [bn] }
}

extension ResidualBlock: HasBatchNorm {
    /// Both BatchNorms.
    public var batchNorms: [BatchNorm2D] { [first.bn, bn2] }
}
