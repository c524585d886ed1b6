import Boxes
import Foundation
import NeuralNet

/// The query head's inputs: the selected anchors' dense boxes and scores, and the training-only groups after them
/// (hybrid matching's one-to-many group, the denoising group).
extension Detector {
    /// `queries` with, per image, the group `extra` after its own (`QuerySetHead.forward`'s layout of groups).
    static func appending(_ extra: Queries, to queries: Queries, classes: Int) -> Queries {
        var out = Queries(selected: [], proposals: [], scores: [])
        var (p, s) = (0, 0)
        for (b, second) in extra.selected.enumerated() {
            let first = queries.selected[b].count
            out.selected.append(queries.selected[b] + second)
            out.proposals += queries.proposals[(p * 4)..<((p + first) * 4)]
            out.proposals += extra.proposals[(s * 4)..<((s + second.count) * 4)]
            out.scores += queries.scores[(p * classes)..<((p + first) * classes)]
            out.scores += extra.scores[(s * classes)..<((s + second.count) * classes)]
            p += first
            s += second.count
        }
        return out
    }

    /// The queries of the selected anchors: their dense boxes and scores (`proposalsFor`).
    func queries(_ selected: [[Int]], logits: Tensor, deltas: Tensor) -> Queries {
        let (proposals, scores) = proposalsFor(selected: selected, logits: logits, deltas: deltas)
        return Queries(selected: selected, proposals: proposals, scores: scores)
    }

    /// The denoising group's queries: per image, each box (input pixels, clipped to the input) with the anchor under
    /// it, whose features it reads, and that anchor's dense class probabilities.
    func denoisingQueries(_ boxes: [[Box]], logits: Tensor) -> Queries {
        var q = Queries(selected: [], proposals: [], scores: [])
        for (b, list) in boxes.enumerated() {
            var anchors: [Int] = []
            for box in list {
                let clipped = box.clipped(width: Double(inputWidth), height: Double(inputHeight))
                let i = anchorUnder(clipped)
                anchors.append(i)
                q.proposals += proposal(clipped)
                q.scores += Self.probabilities(logits, image: b, anchor: i)
            }
            q.selected.append(anchors)
        }
        return q
    }

    /// The anchor under `box`'s centre that overlaps it most: on every level, the anchors of the cell holding the
    /// centre (ties: the first, level-major).
    public func anchorUnder(_ box: Box) -> Int {
        let shapes = config.levelShapes(height: inputHeight, width: inputWidth), a = config.anchorsPerLocation
        var (best, bestIoU, offset) = (0, -1.0, 0)
        for (l, shape) in shapes.enumerated() {
            let stride = Double(config.pyramidStrides[l])
            let x = min(max(Int(box.cx / stride), 0), shape.width - 1)
            let y = min(max(Int(box.cy / stride), 0), shape.height - 1)
            for j in 0..<a {
                let i = offset + (y * shape.width + x) * a + j, v = iou(anchors[i], box, eps: 1e-9)
                if v > bestIoU { (best, bestIoU) = (i, v) }
            }
            offset += shape.height * shape.width * a
        }
        return best
    }

    /// For the selected anchors: dense boxes decoded and clipped to the input, as normalised `(cx, cy, w, h)`
    /// (`[N·K·4]`), and dense class probabilities (`[N·K·C]`).
    func proposalsFor(selected: [[Int]], logits: Tensor, deltas: Tensor) -> (boxes: [Float], scores: [Float]) {
        var boxes: [Float] = [], scores: [Float] = []
        for (b, list) in selected.enumerated() {
            for i in list {
                boxes += proposal(decoder.box(anchor: i, image: b, deltas: deltas))
                scores += Self.probabilities(logits, image: b, anchor: i)
            }
        }
        return (boxes, scores)
    }

    /// A box in input pixels as the query head reads it: `(cx, cy, w, h)` normalised by `inputSize` (the longer
    /// side), width and height at least 1 px.
    func proposal(_ box: Box) -> [Float] {
        let s = Double(config.inputSize)
        return [Float(box.cx / s), Float(box.cy / s), Float(max(box.width, 1) / s), Float(max(box.height, 1) / s)]
    }

    /// Image `b`'s dense class probabilities of `anchor` `i`, from dense logits `[N, A, C]`.
    static func probabilities(_ logits: Tensor, image b: Int, anchor i: Int) -> [Float] {
        let (total, c) = (logits.shape[1], logits.shape[2])
        return (0..<c).map { j in 1 / (1 + exp(-logits.data[(b * total + i) * c + j])) }
    }
}
