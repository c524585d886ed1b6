import Boxes
import Foundation
import Losses
import Matching

extension SetCriterion {
    /// `(cx, cy, w, h)` of `box` divided by the image size.
    func normalisedBox(_ b: Box, _ size: (width: Double, height: Double)) -> [Double] {
        [b.cx / size.width, b.cy / size.height, b.width / size.width, b.height / size.height]
    }

    /// `[G × 4]` normalised boxes of the matchable boxes `active`.
    func normalised(_ t: ImageTargets, _ active: [Int], _ size: (width: Double, height: Double)) -> [Double] {
        active.flatMap { normalisedBox(t.boxes[$0], size) }
    }

    /// The optimal pairs of one image (hypotheses ascending).
    func match(
        _ image: Int, _ boxes: [Double], _ logits: [Double], _ truth: [Double], _ active: [Int],
        _ t: ImageTargets, _ ranks: [Int]?, _ size: (width: Double, height: Double)
    ) throws -> [SetMatch] {
        let k = boxes.count / 4
        guard k > 0, !active.isEmpty else { return [] }
        let c = configuration.classes
        var probabilities: [Double], classCount: Int, labels: [Int]
        if configuration.classification == .softmax {
            classCount = c + 1
            labels = active.map { t.classes[$0] }
            probabilities = [Double](repeating: 0, count: k * (c + 1))
            for i in 0..<k {
                let row = logits[i * (c + 1)..<(i + 1) * (c + 1)]
                let m = row.max()!
                let s = row.reduce(0) { $0 + exp($1 - m) }
                for j in 0...c { probabilities[i * (c + 1) + j] = exp(logits[i * (c + 1) + j] - m) / s }
            }
        } else {
            classCount = 1
            labels = [Int](repeating: 0, count: active.count)
            probabilities = logits.map { x in x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
        }
        let cost = configuration.matchCost.matrix(
            boxes: boxes, probabilities: probabilities, classCount: classCount, truth: truth, labels: labels,
            ranks: ranks, size: size)
        do {
            let a = try linearSumAssignment(cost)
            return a.pairs.map { SetMatch(hypothesis: $0.row, box: active[$0.column]) }
        } catch {
            throw CriterionError.matchingFailed(image: image, detail: "\(error)")
        }
    }

    /// Per matched pair, the IoU in [0, 1] of the hypothesis's box (`boxes`: `[K × 4]` normalised `(cx, cy, w, h)`)
    /// with its ground truth: the IoU-aware class targets (`Configuration.iouTargets`), constants of the loss.
    func matchedIoUs(
        _ boxes: [Double], pairs: [SetMatch], targets t: ImageTargets, _ size: (width: Double, height: Double)
    ) -> [Double] {
        pairs.map { p in
            let b = boxes[4 * p.hypothesis..<4 * p.hypothesis + 4].map { $0 }
            let predicted = Box(cx: b[0] * size.width, cy: b[1] * size.height,
                                w: max(0, b[2]) * size.width, h: max(0, b[3]) * size.height)
            let q = iou(predicted, t.boxes[p.box])
            return q.isFinite ? min(1, max(0, q)) : 0
        }
    }

    /// The summed classification loss of one image and its gradient (not yet divided by the normaliser).
    func classification(
        _ logits: [Double], k: Int, pairs: [SetMatch], targets t: ImageTargets, boxes: [Double],
        _ size: (width: Double, height: Double)
    ) throws -> (Double, [Double]) {
        guard k > 0 else { return (0, []) }
        let cfg = configuration, c = cfg.classes
        let quality = cfg.iouTargets ? matchedIoUs(boxes, pairs: pairs, targets: t, size) : nil
        switch cfg.classification {
        case .softmax where quality != nil:
            // Soft targets: q on the matched class and 1 − q on no-object, weighted by the class's weight;
            // unmatched rows: no-object, weighted eosCoef.
            var target = [Double](repeating: 0, count: k * (c + 1)), rows = [Double](repeating: cfg.eosCoef, count: k)
            for h in 0..<k { target[h * (c + 1) + c] = 1 }
            for (p, q) in zip(pairs, quality!) {
                let row = p.hypothesis * (c + 1), cls = t.classes[p.box]
                target[row + c] = 1 - q
                target[row + cls] = q
                rows[p.hypothesis] = cfg.classWeights?[cls] ?? 1
            }
            let r = try term("class") {
                try Loss.softCrossEntropy(logits: logits, classes: c + 1, targets: target, rowWeights: rows,
                                          reduction: .sum)
            }
            return (r.value, r.gradients[0])
        case .softmax:
            var classes = [Int](repeating: c, count: k)
            for p in pairs { classes[p.hypothesis] = t.classes[p.box] }
            let weights = (cfg.classWeights ?? [Double](repeating: 1, count: c)) + [cfg.eosCoef]
            let r = try term("class") {
                try Loss.crossEntropy(logits: logits, classes: c + 1, targets: classes, weights: weights,
                                      labelSmoothing: cfg.labelSmoothing, reduction: .sum)
            }
            return (r.value, r.gradients[0])
        case .objectnessBCE, .objectnessFocal:
            var target = [Double](repeating: 0, count: k), weight = [Double](repeating: cfg.eosCoef, count: k)
            for (n, p) in pairs.enumerated() { (target[p.hypothesis], weight[p.hypothesis]) = (quality?[n] ?? 1, 1) }
            let r = try term("objectness") { () throws -> LossResult in
                if case let .objectnessFocal(alpha, gamma) = cfg.classification {
                    return try Loss.sigmoidFocal(logits: logits, targets: target, alpha: alpha, gamma: gamma)
                }
                return try Loss.bceWithLogits(logits: logits, targets: target, reduction: .none)
            }
            let value = zip(r.values, weight).reduce(0) { $0 + $1.0 * $1.1 }
            return (value, zip(r.gradients[0], weight).map { $0 * $1 })
        }
    }

    /// Summed L1 and `1 − GIoU` of the matched pairs of one image, and the gradient of
    /// `w_L1·l1 + w_giou·giou` w.r.t. the `[K × 4]` normalised boxes (not yet divided by the normaliser).
    func boxTerms(
        _ boxes: [Double], pairs: [SetMatch], targets t: ImageTargets, _ size: (width: Double, height: Double)
    ) throws -> (Double, Double, [Double]) {
        var grad = [Double](repeating: 0, count: boxes.count)
        guard !pairs.isEmpty else { return (0, 0, grad) }
        var predicted = [Double](), truth = [Double]()
        for p in pairs {
            predicted += boxes[4 * p.hypothesis..<4 * p.hypothesis + 4]
            truth += normalisedBox(t.boxes[p.box], size)
        }
        func corners(_ b: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: b.count)
            for i in stride(from: 0, to: b.count, by: 4) {
                let hw: Double = 0.5 * b[i + 2], hh: Double = 0.5 * b[i + 3]
                out[i] = b[i] - hw
                out[i + 1] = b[i + 1] - hh
                out[i + 2] = b[i] + hw
                out[i + 3] = b[i + 1] + hh
            }
            return out
        }
        let l1 = try term("l1") { try Loss.l1(input: predicted, target: truth, reduction: .sum) }
        let giou = try term("giou") {
            try Loss.boxIoU(.giou, predicted: corners(predicted), target: corners(truth), reduction: .sum)
        }
        let wl = configuration.l1Weight, wg = configuration.giouWeight
        for (n, p) in pairs.enumerated() {
            let o = 4 * n, h = 4 * p.hypothesis
            let g = giou.gradients[0]
            // x1 = cx − w/2, x2 = cx + w/2 (and y): d/dcx = g_x1 + g_x2, d/dw = (g_x2 − g_x1)/2.
            let fromGIoU: [Double] = [
                g[o] + g[o + 2], g[o + 1] + g[o + 3], 0.5 * (g[o + 2] - g[o]), 0.5 * (g[o + 3] - g[o + 1]),
            ]
            for c in 0..<4 { grad[h + c] = wl * l1.gradients[0][o + c] + wg * fromGIoU[c] }
        }
        return (l1.value, giou.value, grad)
    }
}
