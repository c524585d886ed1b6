import Foundation
import NeuralNet

/// The global set head (ReInspect-style fixed set from a global feature, kept for comparison): a 1×1 conv on the
/// stride-16 features, flatten, `Linear → 256`, ReLU, `Linear → K·(4 + C + 1)`.
///
/// Shape key (reference): `c4: [N, 128, 20, 20]` → conv1×1 → `[N, 16, 20, 20]` → flatten `[N, 6400]` → `[N, 256]` →
/// `[N, K·(4 + C + 1)]`, split per hypothesis into box `σ(·)` as normalised `(cx, cy, w, h)` and C + 1 class logits.
public final class GlobalSetHead: Layer {
    let reduce: Conv2D
    let reduceReLU = ReLU()
    let flatten = Flatten()
    let fc1: Linear
    let fcReLU = ReLU()
    let fc2: Linear
    /// Hypotheses K and classes C.
    public let hypotheses: Int, classes: Int
    private var boxes: [Float] = []
    /// Told of each layer's use in forward and of its gradients in backward (data-parallel overlap); nil alone.
    public var readiness: GradientReadiness?

    /// A head producing `hypotheses` boxes over `classes` classes from stride-16 features of the given size.
    public init(c4Channels: Int, c4Size: Int, hypotheses: Int, classes: Int, generator: inout SeededGenerator) {
        self.hypotheses = hypotheses
        self.classes = classes
        reduce = Conv2D(name: "set.reduce", inChannels: c4Channels, outChannels: 16, kernelSize: 1, generator: &generator)
        fc1 = Linear(name: "set.fc1", inFeatures: 16 * c4Size * c4Size, outFeatures: 256, generator: &generator)
        fc2 = Linear(name: "set.fc2", inFeatures: 256, outFeatures: hypotheses * (5 + classes),
                     initializer: .normal(std: 0.01), generator: &generator)
    }

    /// All parameters in forward order.
    public var parameters: [Parameter] { reduce.parameters + fc1.parameters + fc2.parameters }

    /// `c4` → boxes `[N·K·4]` (normalised cxcywh) and logits `[N·K, C + 1]`.
    public func forward(c4: Tensor) -> (boxes: [Float], logits: Tensor) {
        if let readiness { for layer in [reduce, fc1, fc2] as [Layer] { readiness.used(layer.parameters) } }
        let y = fc2.forward(fcReLU.forward(fc1.forward(flatten.forward(reduceReLU.forward(reduce.forward(c4))))))
        let n = c4.shape[0], k = hypotheses, stride = 5 + classes
        var boxes = [Float](repeating: 0, count: n * k * 4)
        var logits = Tensor(shape: [n * k, classes + 1])
        for r in 0..<(n * k) {
            for j in 0..<4 { boxes[r * 4 + j] = 1 / (1 + exp(-y.data[r * stride + j])) }
            for j in 0..<(classes + 1) { logits.data[r * (classes + 1) + j] = y.data[r * stride + 4 + j] }
        }
        self.boxes = boxes
        return (boxes, logits)
    }

    /// Gradients w.r.t. boxes and logits → gradient w.r.t. `c4`.
    public func backward(dBoxes: [Float], dLogits: Tensor) -> Tensor {
        let rows = dLogits.shape[0], stride = 5 + classes
        var dy = Tensor(shape: [rows / hypotheses, hypotheses * stride])
        for r in 0..<rows {
            for j in 0..<4 { dy.data[r * stride + j] = dBoxes[r * 4 + j] * boxes[r * 4 + j] * (1 - boxes[r * 4 + j]) }
            for j in 0..<(classes + 1) { dy.data[r * stride + 4 + j] = dLogits.data[r * (classes + 1) + j] }
        }
        let dHidden = fcReLU.backward(fc2.backward(dy))
        readiness?.accumulated(fc2.parameters)
        let dReduced = reduceReLU.backward(flatten.backward(fc1.backward(dHidden)))
        readiness?.accumulated(fc1.parameters)
        let dC4 = reduce.backward(dReduced)
        readiness?.accumulated(reduce.parameters)
        return dC4
    }
}
