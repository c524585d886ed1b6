import NeuralNet

/// The top-down feature pyramid of FPN (Lin et al., "Feature Pyramid Networks for Object Detection", CVPR 2017):
/// per level a lateral conv1×1 (with bias) to `width` channels; from the coarsest level down, the coarser merged map
/// upsampled 2× (nearest) and added; then per level a conv3×3 + BN + ReLU (the package's conv unit).
///
/// Shape key (strides 4, 8, 16, reference widths, head width 64, input 320): `c2: [N, 32, 80, 80]`,
/// `c3: [N, 64, 40, 40]`, `c4: [N, 128, 20, 20]` → `m₁₆ = lat₁₆(c4): [N, 64, 20, 20]`,
/// `m₈ = lat₈(c3) + up(m₁₆): [N, 64, 40, 40]`, `m₄ = lat₄(c2) + up(m₈): [N, 64, 80, 80]` → `p_s = out_s(m_s)`,
/// the same shapes. Parameters `fpn.lateral<s>.weight/bias`, `fpn.output<s>.conv.weight`, `fpn.output<s>.bn.…`.
public final class FeaturePyramid: Layer, HasBatchNorm {
    /// The levels' strides, ascending.
    public let strides: [Int]
    /// Lateral conv1×1 per level.
    public let laterals: [Conv2D]
    /// Output conv3×3 + BN + ReLU per level.
    public let outputs: [ConvBNReLU]
    /// Told of each layer's use in forward and of its gradients in backward (data-parallel overlap); nil alone.
    public var readiness: GradientReadiness?

    /// A pyramid over levels of `strides` whose backbone maps have `inChannels` channels, `width` channels out.
    public init(strides: [Int], inChannels: [Int], width: Int, generator: inout SeededGenerator) {
        precondition(strides.count == inChannels.count && strides.count > 1, "FeaturePyramid: one input width per level")
        self.strides = strides
        var laterals: [Conv2D] = [], outputs: [ConvBNReLU] = []
        for (s, c) in zip(strides, inChannels) {
            laterals.append(Conv2D(name: "fpn.lateral\(s)", inChannels: c, outChannels: width, kernelSize: 1, generator: &generator))
            outputs.append(ConvBNReLU(name: "fpn.output\(s)", in: width, out: width, generator: &generator))
        }
        self.laterals = laterals
        self.outputs = outputs
    }

    /// All parameters, level by level (lateral, then output).
    public var parameters: [Parameter] { zip(laterals, outputs).flatMap { $0.0.parameters + $0.1.parameters } }

    /// The output units' BatchNorms.
    public var batchNorms: [BatchNorm2D] { outputs.map(\.bn) }

    /// Backbone maps, finest first (`[N, C_l, S/s_l, S/s_l]`) → pyramid maps `[N, width, S/s_l, S/s_l]`.
    public func forward(_ c: [Tensor]) -> [Tensor] {
        precondition(c.count == strides.count, "FeaturePyramid: \(c.count) maps for \(strides.count) levels")
        var merged = [Tensor](repeating: Tensor(shape: [0]), count: c.count)
        for l in c.indices.reversed() {
            readiness?.used(laterals[l].parameters)
            var m = laterals[l].forward(c[l])
            if l + 1 < c.count { m.add(Self.upsample2x(merged[l + 1])) }
            merged[l] = m
        }
        return c.indices.map { l in
            readiness?.used(outputs[l].parameters)
            return outputs[l].forward(merged[l])
        }
    }

    /// Gradients w.r.t. the pyramid maps → gradients w.r.t. the backbone maps, finest first. The merged map of
    /// level l feeds its own output and (upsampled) the merged map of level l − 1, so its gradient is complete once
    /// the finer level's is: the levels are visited finest first.
    public func backward(_ d: [Tensor]) -> [Tensor] {
        var dMerged: [Tensor] = []
        for l in d.indices {
            var g = outputs[l].backward(d[l])
            readiness?.accumulated(outputs[l].parameters)
            if l > 0 { g.add(Self.upsample2xBackward(dMerged[l - 1])) }
            dMerged.append(g)
        }
        return d.indices.map { l in
            let dx = laterals[l].backward(dMerged[l])
            readiness?.accumulated(laterals[l].parameters)
            return dx
        }
    }

    /// Nearest-neighbour 2× upsampling: `x: [N, C, H, W]` → `y: [N, C, 2H, 2W]`, `y[n, c, i, j] = x[n, c, i/2, j/2]`
    /// (ONNX `Resize` with mode `nearest`, scale 2).
    public static func upsample2x(_ x: Tensor) -> Tensor {
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        var y = Tensor(shape: [x.shape[0], x.shape[1], 2 * h, 2 * w])
        x.data.withUnsafeBufferPointer { src in
            y.data.withUnsafeMutableBufferPointer { dst in
                for p in 0..<planes {
                    let s = src.baseAddress! + p * h * w, o = dst.baseAddress! + p * 4 * h * w
                    for i in 0..<(2 * h) {
                        let row = s + (i / 2) * w, out = o + i * 2 * w
                        for j in 0..<(2 * w) { out[j] = row[j / 2] }
                    }
                }
            }
        }
        return y
    }

    /// Backward of `upsample2x`: `dy: [N, C, 2H, 2W]` → `dx: [N, C, H, W]`, each cell the sum of its 2×2 block.
    public static func upsample2xBackward(_ dy: Tensor) -> Tensor {
        let (planes, h, w) = (dy.shape[0] * dy.shape[1], dy.shape[2] / 2, dy.shape[3] / 2)
        precondition(dy.shape[2] == 2 * h && dy.shape[3] == 2 * w, "FeaturePyramid: odd upsampled map \(dy.shape)")
        var dx = Tensor(shape: [dy.shape[0], dy.shape[1], h, w])
        dy.data.withUnsafeBufferPointer { src in
            dx.data.withUnsafeMutableBufferPointer { dst in
                for p in 0..<planes {
                    let s = src.baseAddress! + p * 4 * h * w, o = dst.baseAddress! + p * h * w
                    for i in 0..<(2 * h) {
                        let row = s + i * 2 * w, out = o + (i / 2) * w
                        for j in 0..<(2 * w) { out[j / 2] += row[j] }
                    }
                }
            }
        }
        return dx
    }
}
