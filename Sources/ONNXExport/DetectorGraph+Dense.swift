import Boxes
import DetectorModel
import Foundation

extension DetectorGraph {
    /// `DenseBoxDecoder` for every anchor: deltas `[N, A, 4]` → boxes `[N, A, 4]` `(x1, y1, x2, y2)` in input pixels,
    /// `cx = dx/wx·aw + ax`, `w = exp(min(dw/ww, clamp))·aw` (likewise y, h), corners `c ∓ w/2`, clipped to `[0, S]`.
    /// The anchors' widths, heights and centres are initializers `[A, 1]`.
    func decode(_ deltas: String) -> String {
        let anchors = detector.decoder.anchors, coder = detector.decoder.coder
        let n = anchors.count
        func column(_ name: String, _ f: (Box) -> Double) -> String {
            g.constant("anchor_" + name, floats: anchors.map { Float(f($0)) }, shape: [n, 1])
        }
        let aw = column("w", \.width), ah = column("h", \.height)
        let ax = column("cx", { $0.x1 + 0.5 * $0.width }), ay = column("cy", { $0.y1 + 0.5 * $0.height })
        func part(_ j: Int) -> String {
            let d = g.slice(deltas, axis: 2, from: j, to: j + 1)
            return coder.weights[j] == 1 ? d : g.op("Div", d, g.scalar("box_weight", Float(coder.weights[j])))
        }
        let (dx, dy) = (part(0), part(1))
        let clamp = g.scalar("dwh_clamp", Float(coder.clamp))
        let dw = g.op("Min", part(2), clamp), dh = g.op("Min", part(3), clamp)
        let cx = g.op("Add", g.op("Mul", dx, aw), ax), cy = g.op("Add", g.op("Mul", dy, ah), ay)
        let half = g.scalar("half", 0.5)
        let hw = g.op("Mul", g.op("Mul", g.op("Exp", dw), aw), half)
        let hh = g.op("Mul", g.op("Mul", g.op("Exp", dh), ah), half)
        let corners = g.concat([g.op("Sub", cx, hw), g.op("Sub", cy, hh), g.op("Add", cx, hw), g.op("Add", cy, hh)], axis: 2)
        let s = Float(detector.decoder.inputSize)
        return g.op("Clip", corners, g.scalar("zero", 0), g.scalar("input_size", s), name: "dense_box")
    }

    /// The set head's outputs from its boxes (normalised `(cx, cy, w, h)`, `[N, K, 4]`) and logits `[N, K, C + 1]`:
    /// `set_boxes` `(x1, y1, x2, y2)` in input pixels and `set_scores`, the softmax probabilities of the C real classes
    /// (as `PostProcessor.setDetections`).
    func setOutputs(boxes: String, logits: String) {
        let c = config.numClasses
        let pixels = g.op("Mul", boxes, g.scalar("input_size", Float(config.inputSize)))
        let centre = g.slice(pixels, axis: 2, from: 0, to: 2)
        let half = g.op("Mul", g.slice(pixels, axis: 2, from: 2, to: 4), g.scalar("half", 0.5))
        let corners = g.concat([g.op("Sub", centre, half), g.op("Add", centre, half)], axis: 2)
        g.output(corners, as: ONNXExporter.Name.setBoxes)
        let p = g.op("Softmax", logits, attributes: [.int("axis", -1)])
        g.output(g.slice(p, axis: 2, from: 0, to: c), as: ONNXExporter.Name.setScores)
    }

    /// The query head's proposals from the selected dense boxes `[N, K, 4]` (pixels): normalised
    /// `(cx, cy, max(w, 1), max(h, 1)) / S`, as `Detector.proposalsFor`.
    func proposals(selectedBoxes b: String) -> String {
        let s = g.scalar("input_size", Float(config.inputSize)), half = g.scalar("half", 0.5), one = g.scalar("one", 1)
        let lo = g.slice(b, axis: 2, from: 0, to: 2), hi = g.slice(b, axis: 2, from: 2, to: 4)
        let centre = g.op("Mul", g.op("Add", lo, hi), half)
        let size = g.op("Max", g.op("Sub", hi, lo), one)
        return g.op("Div", g.concat([centre, size], axis: 2), s, name: "proposals")
    }
}
