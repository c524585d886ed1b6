import Losses
import TestSupport
import XCTest

/// Thrown errors for bad data, numerical stability, reductions and the parameter-free helpers.
final class ValidationTests: XCTestCase {
    /// Every loss rejects `nan` and `±inf` in each real-valued input with `LossesError.nonFinite` naming it.
    func testNonFiniteInputsThrow() {
        let v = [0.3, 0.2, 0.5, 0.1], b = [1.0, 2, 5, 6, 0, 0, 3, 3]
        let calls: [(String, ([Double]) throws -> LossResult)] = [
            ("mse", { try Loss.mse(input: $0, target: v) }),
            ("l1", { try Loss.l1(input: v, target: $0) }),
            ("smooth_l1", { try Loss.smoothL1(input: $0, target: v) }),
            ("bce_with_logits", { try Loss.bceWithLogits(logits: $0, targets: v) }),
            ("bce", { try Loss.binaryCrossEntropy(probabilities: v, targets: $0) }),
            ("focal", { try Loss.sigmoidFocal(logits: $0, targets: v) }),
            ("nll", { try Loss.nll(logProbabilities: $0, classes: 2, targets: [0, 1]) }),
            ("cross_entropy", { try Loss.crossEntropy(logits: $0, classes: 2, targets: [0, 1]) }),
            ("soft_f1", { try Loss.softF1(logits: $0, classes: 2, targets: [0, 1]) }),
            ("hinge", { try Loss.hingeEmbedding(input: $0, labels: [1, -1, 1, -1]) }),
            ("ranking", { try Loss.marginRanking(input1: v, input2: $0, labels: [1, -1, 1, -1]) }),
            ("triplet", { try Loss.tripletMargin(anchor: v, positive: v, negative: $0, dimension: 2) }),
            ("cosine", { try Loss.cosineEmbedding(input1: $0, input2: v, labels: [1, -1], dimension: 2) }),
            ("kl", { try Loss.klDivergence(logInput: $0, target: v, rows: 2) }),
            ("centre", { try Loss.centre(features: v, centres: $0, labels: [0, 1], dimension: 2) }),
            ("giou", { try Loss.boxIoU(.giou, predicted: $0 + $0, target: b) }),
            ("pairwise", { try Loss.pairwiseIoU(boxes1: b, boxes2: $0) }),
        ]
        for (label, call) in calls {
            XCTAssertNoThrow(try call(v), label)
            for bad in [Double.nan, .infinity, -.infinity] {
                var x = v
                x[2] = bad
                XCTAssertThrowsError(try call(x), label) { error in
                    guard case let LossesError.nonFinite(_, _, index, _) = error else {
                        return XCTFail("\(label): \(error)")
                    }
                    XCTAssertEqual(index, 2, label)
                    XCTAssertTrue("\(error)".contains("non-finite"), label)
                }
            }
        }
    }

    func testDomainErrors() {
        XCTAssertThrowsError(try Loss.crossEntropy(logits: [1, 2], classes: 2, targets: [2])) { error in
            guard case LossesError.classOutOfRange(_, 0, 2, 2) = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try Loss.binaryCrossEntropy(probabilities: [1.2], targets: [1]))
        XCTAssertThrowsError(try Loss.classBalancedWeights(counts: [3, 0], beta: 0.9))
        XCTAssertThrowsError(try Loss.classBalancedWeights(counts: [3, 4], beta: 1))
    }

    /// Logits far beyond ±30 keep exact, finite values and gradients.
    func testExtremeLogits() throws {
        let x = [-1000.0, -30, 30, 1000], t = [1.0, 0, 1, 0]
        let bce = try Loss.bceWithLogits(logits: x, targets: t, reduction: .none)
        assertClose(bce.values, [1000, log1p(exp(-30.0)), log1p(exp(-30.0)), 1000], rtol: 1e-12)
        assertClose(bce.gradients[0], [-1, 1 / (1 + exp(30.0)), -1 / (1 + exp(30.0)), 1], rtol: 1e-9)
        let focal = try Loss.sigmoidFocal(logits: x, targets: t, alpha: 0.25, gamma: 2)
        XCTAssertTrue((focal.values + focal.gradients.joined()).allSatisfy(\.isFinite))
        assertClose(focal.values[0], 0.25 * 1000, rtol: 1e-12)
        let ce = try Loss.crossEntropy(logits: [1000, -1000, 0], classes: 3, targets: [1])
        assertClose(ce.value, 2000, rtol: 1e-12)
        assertClose(ce.gradients[0], [1, -1, 0], atol: 1e-12)
    }

    /// `.sum` is the sum of `.none`, `.mean` divides by the count (by the weights of the targets for CE).
    func testReductions() throws {
        let x = [0.3, -1.2, 2.5, 0.1, -0.7, 1.9], y = [0.0, 1, 1, 0, 1, 0]
        let none = try Loss.sigmoidFocal(logits: x, targets: y, reduction: .none)
        let sum = try Loss.sigmoidFocal(logits: x, targets: y, reduction: .sum)
        let mean = try Loss.sigmoidFocal(logits: x, targets: y, reduction: .mean)
        assertClose(sum.value, none.values.reduce(0, +))
        assertClose(mean.value, sum.value / 6)
        assertClose(mean.gradients[0], sum.gradients[0].map { $0 / 6 })
        assertClose(sum.gradients[0], none.gradients[0])
        let w = [1.0, 0.1, 2]
        let ceNone = try Loss.crossEntropy(logits: x, classes: 3, targets: [2, 1], weights: w, reduction: .none)
        let ceMean = try Loss.crossEntropy(logits: x, classes: 3, targets: [2, 1], weights: w)
        assertClose(ceMean.value, ceNone.values.reduce(0, +) / 2.1)
        let kl = try Loss.klDivergence(logInput: x.map { -abs($0) }, target: y, rows: 2, reduction: .sum)
        let klBatch = try Loss.klDivergence(logInput: x.map { -abs($0) }, target: y, rows: 2)
        assertClose(klBatch.value, kl.value / 2)
    }

    func testClassBalancedWeights() throws {
        let counts = [1000.0, 100, 10]
        let w = try Loss.classBalancedWeights(counts: counts, beta: 0.99)
        assertClose(w.reduce(0, +), 3, rtol: 1e-12)
        XCTAssertTrue(w[0] < w[1] && w[1] < w[2], "rarer classes weigh more")
        let raw = counts.map { (1 - 0.99) / (1 - pow(0.99, $0)) }
        assertClose(w, raw.map { $0 * 3 / raw.reduce(0, +) }, rtol: 1e-12)
        assertClose(try Loss.classBalancedWeights(counts: counts, beta: 0), [1, 1, 1])
    }

    /// Wen et al. eq. 4: `c_j −= α·Σ(c_j − x_i)/(1 + n_j)`; a centre without samples stays put.
    func testCentreUpdate() throws {
        let centres = [0.0, 0, 10, 10, 5, 5], features = [2.0, 4, 4, 2, 9, 9]
        let updated = try Loss.updateCentres(
            centres: centres, features: features, labels: [0, 0, 1], dimension: 2, alpha: 0.5)
        // Centre 0: Σ(c − x) = (−6, −6), n = 2 → Δ = (−2, −2) → c = (1, 1). Centre 1: (1, 1)/2 → 9.75.
        assertClose(updated, [1, 1, 9.75, 9.75, 5, 5])
        let loss = try Loss.centre(features: features, centres: updated, labels: [0, 0, 1], dimension: 2)
        let before = try Loss.centre(features: features, centres: centres, labels: [0, 0, 1], dimension: 2)
        XCTAssertLessThan(loss.value, before.value)
    }
}
