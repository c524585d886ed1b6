import Losses
import TestSupport
import XCTest

/// `Loss.softCrossEntropy`: central-difference gradients and values held against a numpy computation.
final class SoftCrossEntropyTests: XCTestCase {
    /// Random logits, soft targets of varying mass (including zero entries) and row weights: the gradient matches
    /// central differences, for `.sum`, `.mean` and `.none` (summed).
    func testGradientMatchesCentralDifferences() throws {
        var rng = SplitMix64(seed: 2021)
        let n = 7, c = 4
        let x = (0..<n * c).map { _ in Double.random(in: -3..<3, using: &rng) }
        var t = (0..<n * c).map { _ in Double.random(in: 0..<1, using: &rng) }
        for i in stride(from: 0, to: t.count, by: 3) { t[i] = 0 }
        let r = (0..<n).map { _ in Double.random(in: 0.1..<2, using: &rng) }
        for reduction in [Reduction.sum, .mean] {
            let out = try Loss.softCrossEntropy(logits: x, classes: c, targets: t, rowWeights: r, reduction: reduction)
            let numeric = numericalGradient(x, h: 1e-6) {
                (try? Loss.softCrossEntropy(logits: $0, classes: c, targets: t, rowWeights: r, reduction: reduction).value) ?? .nan
            }
            assertClose(out.gradients[0], numeric, rtol: 1e-5, atol: 1e-8, "\(reduction)")
        }
        let rows = try Loss.softCrossEntropy(logits: x, classes: c, targets: t, rowWeights: r, reduction: .none)
        let sum = try Loss.softCrossEntropy(logits: x, classes: c, targets: t, rowWeights: r, reduction: .sum)
        XCTAssertEqual(rows.values.count, n)
        XCTAssertEqual(rows.values.reduce(0, +), sum.value, accuracy: 1e-12)
    }

    /// Two rows against numpy (float64):
    /// ```
    /// x = [[0.5, -1, 2], [1.5, 0.25, -0.75]]; t = [[0.7, 0, 0.3], [0, 0, 1]]; r = [2, 0.1]
    /// logp = x - log(exp(x).sum(1, keepdims=True)); v = -r * (t * logp).sum(1)
    /// g = r[:, None] * (t.sum(1, keepdims=True) * exp(logp) - t)
    /// ```
    func testAgainstNumpy() throws {
        let out = try Loss.softCrossEntropy(logits: [0.5, -1, 2, 1.5, 0.25, -0.75], classes: 3,
                                            targets: [0.7, 0, 0.3, 0, 0, 1], rowWeights: [2, 0.1], reduction: .none)
        assertClose(out.values, [2.582622593314314, 0.2580672609407224], rtol: 1e-12, atol: 0, "values")
        assertClose(out.gradients[0], [-1.0494192157199267, 0.0782251465413749, 0.9711940691785516,
                                       0.0718440341151065, 0.02058366039976516, -0.09242769451487165],
                    rtol: 1e-12, atol: 1e-15, "gradients")
        // A one-hot target is the ordinary cross-entropy.
        let ce = try Loss.crossEntropy(logits: [0.5, -1, 2], classes: 3, targets: [2], reduction: .sum)
        let soft = try Loss.softCrossEntropy(logits: [0.5, -1, 2], classes: 3, targets: [0, 0, 1], reduction: .sum)
        XCTAssertEqual(soft.value, ce.value, accuracy: 1e-14)
        assertClose(soft.gradients[0], ce.gradients[0], rtol: 1e-12, atol: 1e-15, "one-hot")
    }

    /// Negative or non-finite targets and weights are refused.
    func testRejectsInvalidTargets() {
        XCTAssertThrowsError(try Loss.softCrossEntropy(logits: [0, 1], classes: 2, targets: [-0.1, 1]))
        XCTAssertThrowsError(try Loss.softCrossEntropy(logits: [0, 1], classes: 2, targets: [.nan, 1]))
        XCTAssertThrowsError(try Loss.softCrossEntropy(logits: [0, 1], classes: 2, targets: [0, 1], rowWeights: [-1]))
    }
}
