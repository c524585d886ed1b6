import Foundation
import NeuralNet

/// The dense anchor head (RetinaNet, Lin et al., ICCV 2017), on one feature level.
///
/// Shape key (reference): `c3: [N, 64, 40, 40]` → `headConvs` × conv3×3 + BN + ReLU → `features: [N, 64, 40, 40]`
/// → class conv → `logits: [N, A·C, 40, 40]`, box conv → `deltas: [N, A·4, 40, 40]`. The class conv's bias starts at
/// `−log((1 − π)/π)` with prior π = 0.01 and its weights at N(0, 0.01²), as in RetinaNet.
/// Parameters `dense.conv<k>…`, `dense.cls.weight/bias`, `dense.box.weight/bias`.
public final class DenseHead: Layer, HasBatchNorm {
    /// The shared convs.
    public let convs: [ConvBNReLU]
    /// Class logits conv.
    public let cls: Conv2D
    /// Box delta conv.
    public let box: Conv2D
    /// Anchors per location A and classes C.
    public let anchors: Int, classes: Int
    /// Told of each layer's use in forward and of its gradients in backward (data-parallel overlap); nil alone.
    public var readiness: GradientReadiness?

    /// A head over `inChannels` features with `width` channels, `depth` shared convs, A anchors, C classes.
    public init(inChannels: Int, width: Int, depth: Int, anchors: Int, classes: Int, generator: inout SeededGenerator) {
        var convs: [ConvBNReLU] = []
        for k in 0..<depth {
            convs.append(ConvBNReLU(name: "dense.conv\(k)", in: k == 0 ? inChannels : width, out: width, generator: &generator))
        }
        self.convs = convs
        self.anchors = anchors
        self.classes = classes
        let headIn = depth == 0 ? inChannels : width
        cls = Conv2D(name: "dense.cls", inChannels: headIn, outChannels: anchors * classes, kernelSize: 3,
                     initializer: .normal(std: 0.01), generator: &generator)
        box = Conv2D(name: "dense.box", inChannels: headIn, outChannels: anchors * 4, kernelSize: 3,
                     initializer: .normal(std: 0.01), generator: &generator)
        let prior = -Float(log((1 - 0.01) / 0.01))
        cls.bias!.value = Tensor(shape: [anchors * classes], repeating: prior)
    }

    /// All parameters in forward order.
    public var parameters: [Parameter] { convs.flatMap(\.parameters) + cls.parameters + box.parameters }

    /// The shared convs' BatchNorms.
    public var batchNorms: [BatchNorm2D] { convs.flatMap(\.batchNorms) }

    /// `c3` → shared features, class logits `[N, A·C, H, W]`, box deltas `[N, A·4, H, W]`.
    public func forward(_ c3: Tensor) -> (features: Tensor, logits: Tensor, deltas: Tensor) {
        var h = c3
        for conv in convs {
            readiness?.used(conv.parameters)
            h = conv.forward(h)
        }
        readiness?.used(cls.parameters)
        readiness?.used(box.parameters)
        return (h, cls.forward(h), box.forward(h))
    }

    /// Gradients w.r.t. logits, deltas and (from the set head) the shared features → gradient w.r.t. `c3`.
    public func backward(dLogits: Tensor, dDeltas: Tensor, dFeatures: Tensor?) -> Tensor {
        var d = cls.backward(dLogits)
        readiness?.accumulated(cls.parameters)
        d.add(box.backward(dDeltas))
        readiness?.accumulated(box.parameters)
        if let extra = dFeatures { d.add(extra) }
        for conv in convs.reversed() {
            d = conv.backward(d)
            readiness?.accumulated(conv.parameters)
        }
        return d
    }
}
