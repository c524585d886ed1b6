import Boxes
import Foundation
import NeuralNet

/// The query head's inputs: the selected anchors' dense boxes and scores, and hybrid matching's second group.
extension Detector {
    /// `queries` with, per image, a second group of anchors after its own (`selected`, its `proposals` `[N·K·4]` and
    /// `scores` `[N·K·C]`), the layout of `QuerySetHead.forward`'s groups.
    static func appending(_ selected: [[Int]], proposals: [Float], scores: [Float], to queries: Queries, classes: Int) -> Queries {
        var out = Queries(selected: [], proposals: [], scores: [])
        var (p, s) = (0, 0)
        for (b, second) in selected.enumerated() {
            let first = queries.selected[b].count
            out.selected.append(queries.selected[b] + second)
            out.proposals += queries.proposals[(p * 4)..<((p + first) * 4)]
            out.proposals += proposals[(s * 4)..<((s + second.count) * 4)]
            out.scores += queries.scores[(p * classes)..<((p + first) * classes)]
            out.scores += scores[(s * classes)..<((s + second.count) * classes)]
            p += first
            s += second.count
        }
        return out
    }

    /// For the selected anchors: dense boxes decoded and clipped to the input, as normalised `(cx, cy, w, h)`
    /// (`[N·K·4]`), and dense class probabilities (`[N·K·C]`).
    func proposalsFor(selected: [[Int]], logits: Tensor, deltas: Tensor) -> (boxes: [Float], scores: [Float]) {
        let (total, c) = (logits.shape[1], logits.shape[2])
        let s = Double(config.inputSize)
        var boxes: [Float] = [], scores: [Float] = []
        for (b, list) in selected.enumerated() {
            for i in list {
                let box = decoder.box(anchor: i, image: b, deltas: deltas)
                boxes += [Float(box.cx / s), Float(box.cy / s), Float(max(box.width, 1) / s), Float(max(box.height, 1) / s)]
                for j in 0..<c { scores.append(1 / (1 + exp(-logits.data[(b * total + i) * c + j]))) }
            }
        }
        return (boxes, scores)
    }
}
