import NeuralNet

/// The reference backbone: stem conv3×3/2, then three stages of conv3×3/2 + residual blocks.
///
/// Shape key (reference widths 16/32/64/128, input 320): `x: [N, 3, 320, 320]` → stem `[N, 16, 160, 160]` →
/// stage 1 `[N, 32, 80, 80]` → stage 2 `c3: [N, 64, 40, 40]` (stride 8) → stage 3 `c4: [N, 128, 20, 20]`
/// (stride 16); `forwardStages` also returns stage 1's output (stride 4), the finest level of a feature pyramid.
/// Parameter names `backbone.stem…`, `backbone.stage<k>.down…`, `backbone.stage<k>.block<j>…`.
public final class Backbone: Layer, HasBatchNorm {
    /// The stem.
    public let stem: ConvBNReLU
    /// Told of each layer's use in forward and of its gradients in backward (data-parallel overlap); nil alone.
    public var readiness: GradientReadiness?
    /// Stages 1–3, each a strided conv then residual blocks.
    public let stages: [[UnaryLayer & HasBatchNorm]]

    /// A backbone with the given four widths and `blocks` residual blocks per stage.
    public init(widths: [Int], blocks: Int, generator: inout SeededGenerator) {
        precondition(widths.count == 4, "Backbone: four widths expected")
        stem = ConvBNReLU(name: "backbone.stem", in: 3, out: widths[0], stride: 2, generator: &generator)
        stem.conv.computesInputGradient = false
        var stages: [[UnaryLayer & HasBatchNorm]] = []
        for k in 1...3 {
            var stage: [UnaryLayer & HasBatchNorm] = [
                ConvBNReLU(name: "backbone.stage\(k).down", in: widths[k - 1], out: widths[k], stride: 2,
                           generator: &generator)
            ]
            for j in 0..<blocks {
                stage.append(ResidualBlock(name: "backbone.stage\(k).block\(j)", channels: widths[k], generator: &generator))
            }
            stages.append(stage)
        }
        self.stages = stages
    }

    /// All parameters in forward order.
    public var parameters: [Parameter] { stem.parameters + stages.flatMap { $0.flatMap(\.parameters) } }

    /// All BatchNorm layers.
    public var batchNorms: [BatchNorm2D] { stem.batchNorms + stages.flatMap { $0.flatMap(\.batchNorms) } }

    /// `x: [N, 3, S, S]` → `(c3: stride 8, c4: stride 16)`.
    public func forward(_ x: Tensor) -> (c3: Tensor, c4: Tensor) {
        let c = forwardStages(x)
        return (c[1], c[2])
    }

    /// `x: [N, 3, S, S]` → the outputs of stages 1–3: `[c2: [N, w₁, S/4, S/4], c3: [N, w₂, S/8, S/8],
    /// c4: [N, w₃, S/16, S/16]]` (strides 4, 8, 16).
    public func forwardStages(_ x: Tensor) -> [Tensor] {
        readiness?.used(stem.parameters)
        var h = stem.forward(x)
        var outputs: [Tensor] = []
        for stage in stages {
            for layer in stage {
                readiness?.used(layer.parameters)
                h = layer.forward(h)
            }
            outputs.append(h)
        }
        return outputs
    }

    /// Gradients of the loss w.r.t. `c3` and `c4` → parameter gradients (the image gradient is not needed).
    public func backward(dC3: Tensor, dC4: Tensor) {
        backward(stageGradients: [nil, dC3, dC4])
    }

    /// Gradients w.r.t. the outputs of stages 1–3 (nil: no gradient; the last one is required), as `forwardStages`
    /// returns them → parameter gradients.
    public func backward(stageGradients g: [Tensor?]) {
        precondition(g.count == 3, "Backbone.backward: 3 stage gradients expected")
        guard var d = g[2] else { preconditionFailure("Backbone.backward: the stride-16 gradient is required") }
        for (k, stage) in stages.enumerated().reversed() {
            if k < 2, let extra = g[k] { d.add(extra) }
            for layer in stage.reversed() {
                d = layer.backward(d)
                readiness?.accumulated(layer.parameters)
            }
        }
        _ = stem.backward(d)
        readiness?.accumulated(stem.parameters)
    }
}
