import Foundation
import NeuralNet

/// The dense anchor head (RetinaNet, Lin et al., ICCV 2017), on one feature level or shared across the levels of a
/// feature pyramid.
///
/// Shape key (reference): `c3: [N, 64, 40, 40]` → `headConvs` × conv3×3 + BN + ReLU → `features: [N, 64, 40, 40]`
/// → class conv → `logits: [N, A·C, 40, 40]`, box conv → `deltas: [N, A·4, 40, 40]`. The class conv's bias starts at
/// `−log((1 − π)/π)` with prior π = 0.01 and its weights at N(0, 0.01²), as in RetinaNet.
/// Parameters `dense.conv<k>…`, `dense.cls.weight/bias`, `dense.box.weight/bias`.
///
/// On a pyramid (`levelStrides` with more than one stride) every level goes through the same convolution weights
/// (RetinaNet's shared head; gradients of all levels accumulate into them), while each level has BatchNorms of its
/// own, `dense.conv<k>.bn<s>` for stride s (per-level statistics under shared convolutions, as EfficientDet's heads,
/// Tan et al., CVPR 2020): the levels' feature statistics differ, and one set of running statistics would serve none.
public final class DenseHead: Layer, HasBatchNorm {
    /// The shared convs (the first level's units; they own the convolution weights).
    public let convs: [ConvBNReLU]
    /// Class logits conv.
    public let cls: Conv2D
    /// Box delta conv.
    public let box: Conv2D
    /// Anchors per location A and classes C.
    public let anchors: Int, classes: Int
    /// Told of each layer's use in forward and of its gradients in backward (data-parallel overlap); nil alone.
    public var readiness: GradientReadiness?
    /// Per level, the units applied to it (level 0: `convs`; the others share their weights), and the class and box
    /// convs (sharing `cls`' and `box`' weights).
    let levelConvs: [[ConvBNReLU]], levelCls: [Conv2D], levelBox: [Conv2D]

    /// A head over `inChannels` features with `width` channels, `depth` shared convs, A anchors, C classes, applied to
    /// the levels of `levelStrides` (default one level).
    public init(inChannels: Int, width: Int, depth: Int, anchors: Int, classes: Int, levelStrides: [Int] = [8],
                generator: inout SeededGenerator) {
        let pyramid = levelStrides.count > 1
        var convs: [ConvBNReLU] = []
        for k in 0..<depth {
            convs.append(ConvBNReLU(name: "dense.conv\(k)", in: k == 0 ? inChannels : width, out: width,
                                    bnName: pyramid ? "dense.conv\(k).bn\(levelStrides[0])" : nil, generator: &generator))
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
        var levelConvs = [convs], levelCls = [cls], levelBox = [box]
        for s in levelStrides.dropFirst() {
            levelConvs.append(convs.enumerated().map { k, unit in ConvBNReLU(sharingConvOf: unit, bnName: "dense.conv\(k).bn\(s)") })
            levelCls.append(Conv2D(sharing: cls))
            levelBox.append(Conv2D(sharing: box))
        }
        self.levelConvs = levelConvs
        self.levelCls = levelCls
        self.levelBox = levelBox
    }

    /// All parameters in forward order (each shared convolution once, then the levels' BatchNorm parameters).
    public var parameters: [Parameter] {
        convs.indices.flatMap { k in convs[k].conv.parameters + levelConvs.flatMap { $0[k].bn.parameters } }
            + cls.parameters + box.parameters
    }

    /// The shared convs' BatchNorms, level by level.
    public var batchNorms: [BatchNorm2D] { levelConvs.flatMap { $0.map(\.bn) } }

    /// `c3` → shared features, class logits `[N, A·C, H, W]`, box deltas `[N, A·4, H, W]` (one level).
    public func forward(_ c3: Tensor) -> (features: Tensor, logits: Tensor, deltas: Tensor) { forward(level: 0, c3) }

    /// The head applied to every level's map `[N, F, H_l, W_l]`, in level order.
    public func forward(levels x: [Tensor]) -> [(features: Tensor, logits: Tensor, deltas: Tensor)] {
        precondition(x.count == levelConvs.count, "DenseHead: \(x.count) maps for \(levelConvs.count) levels")
        return x.indices.map { forward(level: $0, x[$0]) }
    }

    func forward(level l: Int, _ x: Tensor) -> (features: Tensor, logits: Tensor, deltas: Tensor) {
        var h = x
        for conv in levelConvs[l] {
            readiness?.used(conv.parameters)
            h = conv.forward(h)
        }
        readiness?.used(cls.parameters)
        readiness?.used(box.parameters)
        return (h, levelCls[l].forward(h), levelBox[l].forward(h))
    }

    /// Gradients w.r.t. logits, deltas and (from the set head) the shared features → gradient w.r.t. `c3` (one level).
    public func backward(dLogits: Tensor, dDeltas: Tensor, dFeatures: Tensor?) -> Tensor {
        backward(level: 0, dLogits: dLogits, dDeltas: dDeltas, dFeatures: dFeatures)
    }

    /// Per level, gradients w.r.t. logits, deltas and features (optional) → gradients w.r.t. the levels' inputs.
    public func backward(levels d: [(dLogits: Tensor, dDeltas: Tensor, dFeatures: Tensor?)]) -> [Tensor] {
        d.indices.map { backward(level: $0, dLogits: d[$0].dLogits, dDeltas: d[$0].dDeltas, dFeatures: d[$0].dFeatures) }
    }

    func backward(level l: Int, dLogits: Tensor, dDeltas: Tensor, dFeatures: Tensor?) -> Tensor {
        var d = levelCls[l].backward(dLogits)
        readiness?.accumulated(cls.parameters)
        d.add(levelBox[l].backward(dDeltas))
        readiness?.accumulated(box.parameters)
        if let extra = dFeatures { d.add(extra) }
        for conv in levelConvs[l].reversed() {
            d = conv.backward(d)
            readiness?.accumulated(conv.parameters)
        }
        return d
    }
}
