import DetectorModel
import Foundation

/// `QuerySelector` as graph nodes. Every strategy yields `[N, K]` int64 anchor indices, best first; `TopK` breaks
/// ties by the lower index (ONNX's rule), as `QuerySelector.byScore` does.
extension DetectorGraph {
    /// The query head's K anchors per image from dense logits `[N, A, C]` and decoded boxes `[N, A, 4]`.
    func selectQueries(logits: String, boxes: String) -> String {
        let best = g.op("ReduceMax", logits, attributes: [.ints("axes", [2]), .int("keepdims", 0)], name: "best_logit")
        let k = config.hypotheses
        switch config.querySelection {
        case .topK:
            return topK(best, k)
        case .peaks:
            return chosenFirst(peakAnchors(best), best: best, k: k)
        case .nms:
            return chosenFirst(survivorsOfNMS(boxes: boxes, best: best, k: k), best: best, k: k)
        }
    }

    /// Indices of the `k` largest values along axis 1, largest first.
    func topK(_ x: String, _ k: Int) -> String {
        g.node("TopK", [x, g.constant("k", ints: [k])], [.int("axis", 1), .int("largest", 1), .int("sorted", 1)],
               outputs: 2, name: "topk")[1]
    }

    /// `QuerySelector.filled`: per image, the anchors of `mask` (`[N, A]` bool) by descending `best`, then the other
    /// anchors by descending `best`, K in all. Two `TopK`s over the masked scores, concatenated `[N, 2K]`; position
    /// `r` takes `r` from the first list while `r < min(P, K)` (P = chosen anchors) and `K + r − P` from the second.
    func chosenFirst(_ mask: String, best: String, k: Int) -> String {
        let negInf = g.scalar("minus_infinity", -.infinity)
        let first = topK(g.op("Where", mask, best, negInf), k)
        let rest = topK(g.op("Where", mask, negInf, best), k)
        let count = g.op("ReduceSum", g.op("Cast", mask, attributes: [.int("to", 7)]), g.constant("axes", ints: [1]),
                         attributes: [.int("keepdims", 1)], name: "chosen_count")
        let kc = g.constant("k", ints: [k])
        let p = g.op("Min", count, kc)
        let r = g.constant("positions", ints: Array(0..<k))
        let fromRest = g.op("Sub", g.op("Add", r, kc), p)
        let index = g.op("Where", g.op("Less", r, p), r, fromRest)
        return g.op("GatherElements", g.concat([first, rest], axis: 1), index, attributes: [.int("axis", 1)], name: "selected")
    }

    /// `QuerySelector.peaks`' candidates, `[N, A]` bool: the best anchor (first on ties, `ArgMax`) of each location
    /// whose best score is at least the peak threshold, not below any of its 3×3 neighbours (`MaxPool`, padding
    /// ignored) and not equal to an earlier neighbour (up-left, up, up-right, left).
    func peakAnchors(_ best: String) -> String {
        let f = config.featureSize, a = config.anchorsPerLocation
        let t = detector.selector.peakThreshold
        let perLocation = g.reshape(best, [0, f, f, a])
        let v = g.op("ReduceMax", perLocation, attributes: [.ints("axes", [3]), .int("keepdims", 0)], name: "location_best")
        let arg = g.op("ArgMax", perLocation, attributes: [.int("axis", 3), .int("keepdims", 1), .int("select_last_index", 0)])
        let pooled = g.op("MaxPool", g.unsqueeze(v, [1]), attributes: [.ints("kernel_shape", [3, 3]), .ints("strides", [1, 1]),
                                                                      .ints("pads", [1, 1, 1, 1])])
        let isMax = g.op("GreaterOrEqual", v, g.reshape(pooled, [0, f, f]))
        let confident = g.op("GreaterOrEqual", v, g.scalar("peak_logit", log(t / (1 - t))))
        let padded = g.op("Pad", v, g.constant("pads", ints: [0, 1, 1, 0, 1, 1]), g.scalar("minus_infinity", -.infinity))
        var tie: String?
        for (dy, dx) in [(-1, -1), (-1, 0), (-1, 1), (0, -1)] {
            let u = g.slice(padded, axes: [1, 2], starts: [1 + dy, 1 + dx], ends: [1 + dy + f, 1 + dx + f])
            let equal = g.op("Equal", v, u)
            tie = tie.map { g.op("Or", $0, equal) } ?? equal
        }
        let peak = g.op("And", g.op("And", isMax, confident), g.op("Not", tie!))
        let isBest = g.op("Equal", arg, g.constant("anchor_slot", ints: Array(0..<a)))
        let mask = g.op("And", g.unsqueeze(peak, [3]), isBest)
        return g.reshape(mask, [0, -1])
    }

    /// `QuerySelector.nms`' candidates, `[N, A]` bool: the boxes kept by the ONNX `NonMaxSuppression` operator (one
    /// class, scored by the best-class logit, IoU > `queryNMSIoU` suppresses, at most K kept), scattered into a mask.
    func survivorsOfNMS(boxes: String, best: String, k: Int) -> String {
        let selected = g.op("NonMaxSuppression", boxes, g.unsqueeze(best, [1]), g.constant("k", ints: [k]),
                            g.constant("nms_iou", floats: [Float(config.queryNMSIoU)], shape: [1]),
                            attributes: [.int("center_point_box", 0)], name: "query_nms")
        let imageAndBox = g.op("Gather", selected, g.constant("columns", ints: [0, 2]), attributes: [.int("axis", 1)])
        let kept = g.op("Slice", g.op("Shape", selected), g.constant("starts", ints: [0]), g.constant("ends", ints: [1]))
        let ones = g.op("ConstantOfShape", kept, attributes: [.tensor("value", floats: [1])])
        let zeros = g.op("ConstantOfShape", g.op("Shape", best), attributes: [.tensor("value", floats: [0])])
        let marked = g.op("ScatterND", zeros, imageAndBox, ones)
        return g.op("Greater", marked, g.scalar("half", 0.5), name: "nms_kept")
    }
}
