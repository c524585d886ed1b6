import NeuralNet
import XCTest
@testable import Detection

/// The query head's anchor selection: plain top-K and peaks first.
final class QuerySelectionTests: XCTestCase {
    /// Tiny configuration: 8×8 locations (input 64), 2 anchors per location, 2 classes.
    private func detector() throws -> Detector {
        var c = DetectorModelTests.tinyConfig()
        c.querySelection = .peaks
        return try Detector(config: c, seed: 1)
    }

    /// Logits `[1, 128, 2]`, all −10 except the given anchors' class-0 logits.
    private func logits(_ values: [Int: Float]) -> Tensor {
        var t = Tensor(shape: [1, 128, 2], data: [Float](repeating: -10, count: 256))
        for (anchor, v) in values { t.data[anchor * 2] = v }
        return t
    }

    func testPeaksComeFirstThenTheRestByScore() throws {
        let d = try detector()
        // Location (y, x) = (2, 2) → 18, its neighbour (2, 3) → 19, a far location (6, 6) → 54; two anchors each.
        // Location (1, 6) → 14 holds a peak below the 0.05 threshold (logit −4 ≈ 0.018): not a confident peak.
        let l = logits([18 * 2 + 1: 5, 18 * 2: 4, 19 * 2: 4.5, 54 * 2: 1, 14 * 2: -4])
        let top = d.topAnchors(logits: l, k: 5)
        XCTAssertEqual(top[0], [37, 38, 36, 108, 28], "by score alone the neighbour and the second anchor come before the far peak")
        let peaks = d.peakAnchors(logits: l, k: 5)
        // Peaks: location 18 (best anchor 37) and location 54 (anchor 108); then the others by score: 38 (4.5), 36 (4), 28.
        XCTAssertEqual(peaks[0], [37, 108, 38, 36, 28])
        XCTAssertEqual(Set(d.peakAnchors(logits: l, k: 128)[0]), Set(0..<128), "all anchors, each once")
    }

    func testAPlateauYieldsOnePeak() throws {
        let d = try detector()
        let l = logits([20 * 2: 3, 21 * 2: 3, 28 * 2: 3, 29 * 2: 3])
        let peaks = d.peakAnchors(logits: l, k: 2)
        XCTAssertEqual(peaks[0][0], 40, "the earliest location of the plateau is its peak")
        XCTAssertEqual(peaks[0][1], 42, "the next is taken by score, not as a second peak")
    }
}
