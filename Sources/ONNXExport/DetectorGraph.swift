import DetectorModel
import Foundation
import NeuralNet

/// Emits the nodes of one `Detector` into a `GraphBuilder`, part by part in `Detector.forward`'s order:
/// backbone and dense head here, the dense decoding in `+Dense`, query selection in `+Selection`, the set heads in
/// `+SetHead`.
///
/// Shape key (reference, N images): `images: [N, 3, 320, 320]` → `c3: [N, 64, 40, 40]`, `c4: [N, 128, 20, 20]` →
/// dense features `[N, 64, 40, 40]` → logits `[N, 4800, C]`, deltas `[N, 4800, 4]` (anchor order `(y, x, a)`,
/// `HeadLayout`).
struct DetectorGraph {
    /// Where the nodes go.
    let g: GraphBuilder
    /// The network exported.
    let detector: Detector
    var config: DetectorConfig { detector.config }

    init(builder: GraphBuilder, detector: Detector) {
        g = builder
        self.detector = detector
    }

    /// Emits the whole network on the input `images`; names the graph outputs `ONNXExporter.Name`.
    /// Returns whether set outputs (boxes and scores) and the query head's anchors were emitted.
    func emit(images: String) -> (set: Bool, anchors: Bool) {
        let (c2, c3, c4) = backbone(images)
        let (features, logitsMap, deltasMap) = denseHead(c3)
        let a = config.anchorsPerLocation
        let logits = toAnchors(logitsMap, anchors: a, values: config.numClasses)
        let deltas = toAnchors(deltasMap, anchors: a, values: 4)
        let boxes = decode(deltas)
        let scores = g.op("Sigmoid", logits, name: "dense_probability")
        g.output(boxes, as: ONNXExporter.Name.denseBoxes)
        g.output(scores, as: ONNXExporter.Name.denseScores)
        switch config.setHead {
        case .query:
            let selected = selectQueries(logits: logits, boxes: boxes)
            let (setBoxes, setLogits) = querySetHead(features: features, c4: c4, fine: config.setFineFeatures ? c2 : nil,
                                                     selected: selected, boxes: boxes, scores: scores, logits: logits)
            setOutputs(boxes: setBoxes, logits: setLogits)
            g.output(selected, as: ONNXExporter.Name.setAnchors)
            return (true, true)
        case .fc:
            let (setBoxes, setLogits) = globalSetHead(c4: c4)
            setOutputs(boxes: setBoxes, logits: setLogits)
            return (true, false)
        case .none:
            return (false, false)
        }
    }

    // MARK: Convolutions

    /// A `Conv` node for `conv`, with `bn` (evaluation mode) folded into its weight and bias, then `Relu` if asked.
    func conv(_ x: String, _ conv: Conv2D, bn: BatchNorm2D? = nil, relu: Bool) -> String {
        let layer = bn?.folded(into: conv) ?? conv
        var inputs = [x, g.constant(conv.name + ".weight", layer.weight.value)]
        if let b = layer.bias { inputs.append(g.constant(conv.name + ".bias", b.value)) }
        let p = layer.padding, k = layer.kernelSize
        let y = g.node("Conv", inputs, [.ints("kernel_shape", [k, k]), .ints("strides", [layer.stride, layer.stride]),
                                        .ints("pads", [p, p, p, p]), .ints("dilations", [1, 1]), .int("group", 1)],
                       name: conv.name)[0]
        return relu ? g.op("Relu", y) : y
    }

    /// `relu(bn(conv(x)))`, BN folded.
    func convBNReLU(_ x: String, _ unit: ConvBNReLU) -> String { conv(x, unit.conv, bn: unit.bn, relu: true) }

    /// `relu(x + bn₂(conv₂(relu(bn₁(conv₁(x))))))`.
    func residual(_ x: String, _ block: ResidualBlock) -> String {
        let branch = conv(convBNReLU(x, block.first), block.conv2, bn: block.bn2, relu: false)
        return g.op("Relu", g.op("Add", branch, x))
    }

    /// The backbone: `images` → the outputs of stages 1–3 `(c2, c3, c4)`.
    func backbone(_ images: String) -> (c2: String, c3: String, c4: String) {
        let b = detector.backbone
        var h = convBNReLU(images, b.stem)
        var (c2, c3) = (h, h)
        for (k, stage) in b.stages.enumerated() {
            for layer in stage {
                if let unit = layer as? ConvBNReLU {
                    h = convBNReLU(h, unit)
                } else if let block = layer as? ResidualBlock {
                    h = residual(h, block)
                } else {
                    preconditionFailure("DetectorGraph: backbone layer \(type(of: layer)) has no ONNX form")
                }
            }
            if k == 0 { c2 = h }
            if k == 1 { c3 = h }
        }
        return (c2, c3, h)
    }

    /// The dense head: `c3` → shared features, class logits `[N, A·C, H, W]`, box deltas `[N, A·4, H, W]`.
    func denseHead(_ c3: String) -> (features: String, logits: String, deltas: String) {
        let d = detector.dense
        var h = c3
        for unit in d.convs { h = convBNReLU(h, unit) }
        return (h, conv(h, d.cls, relu: false), conv(h, d.box, relu: false))
    }

    /// `HeadLayout.toAnchors`: `[N, A·D, H, W]` → reshape `[N, A, D, H·W]` → transpose `[N, H·W, A, D]` →
    /// `[N, H·W·A, D]`.
    func toAnchors(_ x: String, anchors a: Int, values d: Int) -> String {
        let t = g.transpose(g.reshape(x, [0, a, d, -1]), [0, 3, 1, 2])
        return g.reshape(t, [0, -1, d])
    }
}
