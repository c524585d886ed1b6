import Losses
import TestSupport
import XCTest


/// Finite-difference checks of every loss's gradients on random inputs (away from kinks).
final class GradientTests: XCTestCase {
    var rng = SplitMix64(seed: 20_161_017)

    func uniform(_ n: Int, _ lo: Double, _ hi: Double) -> [Double] {
        (0..<n).map { _ in Double.random(in: lo..<hi, using: &rng) }
    }

    func classes(_ n: Int, _ c: Int) -> [Int] { (0..<n).map { _ in Int.random(in: 0..<c, using: &rng) } }

    func signs(_ n: Int) -> [Double] { (0..<n).map { _ in Bool.random(using: &rng) ? 1 : -1 } }

    /// Random xyxy boxes: `n` boxes near `(50, 50)` with sides in [5, 40], so pairs mostly overlap.
    func boxes(_ n: Int) -> [Double] {
        (0..<n).flatMap { _ -> [Double] in
            let x = Double.random(in: 30..<60, using: &rng), y = Double.random(in: 30..<60, using: &rng)
            return [x, y, x + Double.random(in: 5..<40, using: &rng), y + Double.random(in: 5..<40, using: &rng)]
        }
    }

    /// Compares `gradients[k]` of `f(inputs)` with central differences for every k in `wrt`.
    func checkGradients(
        _ label: String, _ inputs: [[Double]], wrt: [Int]? = nil, rtol: Double = 1e-5, atol: Double = 1e-7,
        file: StaticString = #filePath, line: UInt = #line, _ f: ([[Double]]) throws -> LossResult
    ) throws {
        let r = try f(inputs)
        let which = wrt ?? Array(inputs.indices)
        XCTAssertEqual(r.gradients.count, which.count, label, file: file, line: line)
        for (slot, k) in which.enumerated() {
            let numeric = numericalGradient(inputs[k], h: 1e-6) { xk in
                var all = inputs
                all[k] = xk
                return (try? f(all).value) ?? .nan
            }
            assertClose(r.gradients[slot], numeric, rtol: rtol, atol: atol, "\(label) input \(k)",
                        file: file, line: line)
        }
    }

    func testElementwise() throws {
        let n = 40
        let x = uniform(n, -4, 4), y = uniform(n, -4, 4), t = uniform(n, 0, 1)
        try checkGradients("mse", [x, y]) { try Loss.mse(input: $0[0], target: $0[1]) }
        try checkGradients("l1", [x, y]) { try Loss.l1(input: $0[0], target: $0[1], reduction: .sum) }
        // Differences of both signs inside and outside β.
        try checkGradients("smooth_l1", [x.map { $0 * 0.05 }, y.map { $0 * 0.05 }]) {
            try Loss.smoothL1(input: $0[0], target: $0[1], beta: 1.0 / 9)
        }
        try checkGradients("bce_with_logits", [x, t]) { try Loss.bceWithLogits(logits: $0[0], targets: $0[1]) }
        try checkGradients("bce", [uniform(n, 0.05, 0.95), t]) {
            try Loss.binaryCrossEntropy(probabilities: $0[0], targets: $0[1])
        }
        for (alpha, gamma) in [(0.25, 2.0), (-1, 1.5), (0.5, 0)] {
            try checkGradients("focal α\(alpha) γ\(gamma)", [x, t]) {
                try Loss.sigmoidFocal(logits: $0[0], targets: $0[1], alpha: alpha, gamma: gamma, reduction: .mean)
            }
        }
        try checkGradients("focal class weights", [x, t]) {
            try Loss.sigmoidFocal(logits: $0[0], targets: $0[1], classWeights: [0.5, 1.5, 1, 2], reduction: .sum)
        }
    }

    func testSoftmaxFamily() throws {
        let n = 9, c = 4
        let x = uniform(n * c, -3, 3), t = classes(n, c), w = uniform(c, 0.1, 2)
        try checkGradients("nll", [x]) {
            try Loss.nll(logProbabilities: $0[0], classes: c, targets: t, weights: w)
        }
        for eps in [0.0, 0.15] {
            try checkGradients("cross_entropy ε\(eps)", [x]) {
                try Loss.crossEntropy(logits: $0[0], classes: c, targets: t, weights: w, labelSmoothing: eps)
            }
            try checkGradients("cross_entropy unweighted ε\(eps)", [x]) {
                try Loss.crossEntropy(logits: $0[0], classes: c, targets: t, labelSmoothing: eps, reduction: .sum)
            }
        }
        try checkGradients("class_balanced_softmax", [x]) {
            try Loss.classBalancedSoftmax(logits: $0[0], classes: c, targets: t, weights: w)
        }
        try checkGradients("soft_f1", [x]) { try Loss.softF1(logits: $0[0], classes: c, targets: t) }
        let logp = uniform(n * c, -3, -0.1), q = uniform(n * c, 0.01, 1)
        for logTarget in [false, true] {
            try checkGradients("kl_div logTarget \(logTarget)", [logp, logTarget ? logp : q]) {
                try Loss.klDivergence(logInput: $0[0], target: $0[1], rows: n, logTarget: logTarget)
            }
        }
    }

    func testEmbeddingFamily() throws {
        let n = 12, d = 5
        let x1 = uniform(n, -2, 2), x2 = uniform(n, -2, 2), y = signs(n)
        try checkGradients("hinge_embedding", [x1], wrt: [0]) {
            try Loss.hingeEmbedding(input: $0[0], labels: y, margin: 0.7)
        }
        try checkGradients("margin_ranking", [x1, x2]) {
            try Loss.marginRanking(input1: $0[0], input2: $0[1], labels: y, margin: 0.3)
        }
        let a = uniform(n * d, -1, 1), p = uniform(n * d, -1, 1), m = uniform(n * d, -1, 1)
        for (norm, swap) in [(2.0, false), (1.5, true), (1, false), (3, true)] {
            try checkGradients("triplet p\(norm) swap \(swap)", [a, p, m]) {
                try Loss.tripletMargin(
                    anchor: $0[0], positive: $0[1], negative: $0[2], dimension: d, margin: 1.2, p: norm, swap: swap)
            }
        }
        try checkGradients("cosine_embedding", [a, p]) {
            try Loss.cosineEmbedding(input1: $0[0], input2: $0[1], labels: y, dimension: d, margin: -0.5)
        }
        let centres = uniform(3 * d, -1, 1), labels = classes(n, 3)
        try checkGradients("centre", [a, centres]) {
            try Loss.centre(features: $0[0], centres: $0[1], labels: labels, dimension: d)
        }
    }

    func testBoxFamily() throws {
        let pred = boxes(15), target = boxes(15)
        for kind in IoULossKind.allCases where kind != .ciou {
            try checkGradients("\(kind) loss", [pred, target], rtol: 1e-4, atol: 1e-8) {
                try Loss.boxIoU(kind, predicted: $0[0], target: $0[1], reduction: .mean)
            }
        }
        // CIoU holds α = v/(1 − IoU + v + eps) constant (torchvision): compare with DIoU + α₀·v, α₀ frozen.
        func aspect(_ b: [Double], _ g: [Double], _ i: Int) -> Double {
            let d = atan((g[4 * i + 2] - g[4 * i]) / (g[4 * i + 3] - g[4 * i + 1]))
                - atan((b[4 * i + 2] - b[4 * i]) / (b[4 * i + 3] - b[4 * i + 1]))
            return 4 / (Double.pi * Double.pi) * d * d
        }
        let iouLoss = try Loss.boxIoU(.iou, predicted: pred, target: target).values
        let alpha0 = iouLoss.indices.map { i in
            aspect(pred, target, i) / (iouLoss[i] + aspect(pred, target, i) + 1e-7)
        }
        let ciou = try Loss.boxIoU(.ciou, predicted: pred, target: target, reduction: .mean)
        let frozen = numericalGradient(pred) { p in
            let diou = (try? Loss.boxIoU(.diou, predicted: p, target: target, reduction: .mean).value) ?? .nan
            return diou + alpha0.indices.map { alpha0[$0] * aspect(p, target, $0) }.reduce(0, +) / 15
        }
        assertClose(ciou.gradients[0], frozen, rtol: 1e-4, atol: 1e-8, "ciou, α frozen")

        let b1 = boxes(5), b2 = boxes(4)
        try checkGradients("pairwise IoU", [b1, b2], rtol: 1e-4, atol: 1e-8) {
            try Loss.pairwiseIoU(boxes1: $0[0], boxes2: $0[1])
        }
        try checkGradients("pairwise GIoU", [b1, b2], rtol: 1e-4, atol: 1e-8) {
            try Loss.pairwiseGIoU(boxes1: $0[0], boxes2: $0[1])
        }
    }

    /// Degenerate predicted boxes (zero width) still give finite IoU-family losses and gradients.
    func testZeroWidthBoxes() throws {
        let pred = [10.0, 10, 10, 30, 5, 5, 5, 5.5], target = [8.0, 12, 20, 25, 0, 0, 10, 10]
        for kind in IoULossKind.allCases {
            let r = try Loss.boxIoU(kind, predicted: pred, target: target)
            XCTAssertTrue(r.values.allSatisfy(\.isFinite), "\(kind)")
            XCTAssertTrue(r.gradients.joined().allSatisfy(\.isFinite), "\(kind)")
        }
        XCTAssertThrowsError(try Loss.boxIoU(.ciou, predicted: [1, 1, 1, 1], target: [0, 0, 2, 2])) { error in
            guard case LossesError.nonFiniteResult = error else { return XCTFail("\(error)") }
        }
    }
}
