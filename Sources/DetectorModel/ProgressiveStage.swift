import Foundation
import NeuralNet

/// The second stage of progressive acceptance (`DetectorConfig.setProgressive`; after Zheng et al., "Progressive
/// End-to-End Object Detection in Crowded Scenes", CVPR 2022, whose decoder accepts the confident hypotheses and
/// refines only the rest, conditioned on what was accepted).
///
/// Shape key (N images, K hypotheses, width D, C classes): the first stage's tokens `[N·K, D]` (the K queries after
/// the attention blocks), boxes `[N·K·4]` and logits `[N·K, C + 1]`. A hypothesis is accepted when its best
/// object-class probability exceeds `threshold`; accepted tokens get a learnt vector `mark` added, so that the others
/// can tell them apart. One more attention block (with the geometry maps of the first stage's boxes, when the head
/// has them) → box offsets added to the logit of the first stage's box, `σ(logit(b₁) + Δ)`, and class logits added
/// to the first stage's (a prior without gradient), so the stage starts where the first one ends. Only the outputs
/// of the hypotheses not accepted are used; the accepted ones keep their first-stage outputs.
final class ProgressiveStage {
    /// The acceptance threshold on the best object-class probability.
    let threshold: Float
    /// Number of classes C.
    let classes: Int
    /// `[D]`, added to the tokens of the accepted hypotheses.
    let mark: Parameter
    let block: QuerySetHead.AttentionBlock
    let boxOut, classOut: Linear
    let geometry: Bool

    private struct Saved {
        var accepted: [Bool], boxes: [Float], n: Int, k: Int
    }
    private var saved: Saved?

    init(threshold: Float, classes: Int, width: Int, heads: Int, hidden: Int, geometry: Bool,
         generator: inout SeededGenerator) {
        self.threshold = threshold
        self.classes = classes
        self.geometry = geometry
        mark = Parameter(name: "set.stage2.mark", value: Tensor(shape: [width]), decays: false)
        block = QuerySetHead.AttentionBlock(prefix: "set.stage2.layer", width: width, heads: heads, hidden: hidden,
                                            geometryMaps: geometry ? 2 : 0, generator: &generator)
        boxOut = Linear(name: "set.stage2.box", inFeatures: width, outFeatures: 4, initializer: .normal(std: 0.001),
                        generator: &generator)
        classOut = Linear(name: "set.stage2.cls", inFeatures: width, outFeatures: classes + 1,
                          initializer: .normal(std: 0.001), generator: &generator)
    }

    /// All parameters in forward order.
    var parameters: [Parameter] { [mark] + block.parameters + boxOut.parameters + classOut.parameters }

    /// Whether each row of `logits` (`[R, C + 1]`, last = no-object) has an object-class probability above
    /// `threshold`.
    func accepted(_ logits: Tensor) -> [Bool] {
        let c1 = classes + 1
        return (0..<logits.shape[0]).map { r in
            let row = logits.data[(r * c1)..<((r + 1) * c1)]
            let m = row.max() ?? 0
            let sum = row.reduce(Float(0)) { $0 + exp($1 - m) }
            let best = row.prefix(classes).max() ?? -.infinity
            return exp(best - m) / sum > threshold
        }
    }

    /// The second stage on the first stage's `tokens` `[N·K, D]`, `boxes` `[N·K·4]` and `logits` `[N·K, C + 1]`.
    func forward(tokens: Tensor, boxes: [Float], logits: Tensor, n: Int, k: Int)
        -> (boxes: [Float], logits: Tensor, accepted: [Bool])
    {
        let d = tokens.shape[1], rows = n * k
        let accepted = accepted(logits)
        var x = tokens
        for r in 0..<rows where accepted[r] {
            for j in 0..<d { x.data[r * d + j] += mark.value.data[j] }
        }
        let maps = geometry ? QuerySetHead.geometryMaps(boxes: boxes, n: n, k: k) : nil
        let y = block.forward(x.reshaped([n, k, d]), geometry: maps).reshaped([rows, d])
        let delta = boxOut.forward(y)
        var out = classOut.forward(y)
        out.add(logits)
        let refined = QuerySetHead.refined(boxes, by: delta)
        saved = Saved(accepted: accepted, boxes: refined, n: n, k: k)
        return (refined, out, accepted)
    }

    /// Gradients w.r.t. the refined boxes and logits → gradient w.r.t. the first stage's tokens (none reaches its
    /// boxes or logits, which enter without gradient).
    func backward(dBoxes: [Float], dLogits: Tensor) -> Tensor {
        guard let s = saved else { preconditionFailure("ProgressiveStage.backward before forward") }
        let rows = s.n * s.k
        var dy = classOut.backward(dLogits)
        dy.add(boxOut.backward(QuerySetHead.offsetGradient(dBoxes, refined: s.boxes)))
        let d = dy.shape[1]
        let dx = block.backward(dy.reshaped([s.n, s.k, d])).reshaped([rows, d])
        for r in 0..<rows where s.accepted[r] {
            for j in 0..<d { mark.grad.data[j] += dx.data[r * d + j] }
        }
        return dx
    }
}

/// The second stage's outputs for the K queries of every image (`DetectorConfig.setProgressive`).
public struct RefinedHypotheses {
    /// `[N·K·4]` normalised `(cx, cy, w, h)`.
    public var boxes: [Float]
    /// `[N·K, C + 1]`.
    public var logits: Tensor
    /// `[N·K]`: whether the first stage accepted the hypothesis (its first-stage outputs stand).
    public var accepted: [Bool]
}
