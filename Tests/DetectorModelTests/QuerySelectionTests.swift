import Boxes
import NeuralNet
import XCTest
import DetectorTestSupport
@testable import DetectorModel

/// The query head's anchor selection: plain top-K, peaks first, and proposal NMS.
final class QuerySelectionTests: XCTestCase {
    /// Tiny configuration: 8×8 locations (input 64), 2 anchors per location, 2 classes.
    private func detector() throws -> Detector {
        var c = DetectorFixtures.tinyConfig()
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
        let top = d.selector.topK(logits: l, k: 5)
        XCTAssertEqual(top[0], [37, 38, 36, 108, 28], "by score alone the neighbour and the second anchor come before the far peak")
        let peaks = d.selector.peaks(logits: l, k: 5)
        // Peaks: location 18 (best anchor 37) and location 54 (anchor 108); then the others by score: 38 (4.5), 36 (4), 28.
        XCTAssertEqual(peaks[0], [37, 108, 38, 36, 28])
        XCTAssertEqual(Set(d.selector.peaks(logits: l, k: 128)[0]), Set(0..<128), "all anchors, each once")
    }

    func testNMSKeepsNeighboursWithDifferentBoxesAndDropsDuplicates() throws {
        let d = try detector()
        // Zero deltas (boxes = anchors, centre ((x + ½)·8, (y + ½)·8), sides 8 and 16) except anchor 41 (location
        // (2, 4), side 16), shifted one width left onto anchor 37's box [12, 28]².
        var deltas = Tensor(shape: [1, 128, 4])
        deltas.data[41 * 4] = -1
        // 37: (2, 2) side 16, logit 5; 41: the duplicate, 4.8; 39: (2, 3) side 16, IoU 1/3 with 37, 4.5;
        // 36: (2, 2) side 8, IoU 1/4 with 37, 4; 108: (6, 6) side 8, 1.
        let l = logits([37: 5, 41: 4.8, 39: 4.5, 36: 4, 108: 1])
        XCTAssertEqual(d.selector.peaks(logits: l, k: 4)[0], [37, 41, 108, 39],
                       "peaks take the duplicate (the best of its own 3×3) before the neighbour at (2, 3)")
        let kept = d.selector.nms(logits: l, deltas: deltas, decoder: d.decoder, k: 4, iouThreshold: 0.6)
        XCTAssertEqual(kept[0], [37, 39, 36, 108], "the duplicate is dropped, both neighbours kept")
        XCTAssertEqual(d.selector.nms(logits: l, deltas: deltas, decoder: d.decoder, k: 4, iouThreshold: 0.3)[0], [37, 36, 108, 0],
                       "at IoU 0.3 the neighbour (1/3) is a duplicate too; the last slot goes to the next anchor by score")
        let all = d.selector.nms(logits: l, deltas: deltas, decoder: d.decoder, k: 128, iouThreshold: 0.6)[0]
        XCTAssertEqual(Set(all), Set(0..<128), "all anchors, each once")
        XCTAssertEqual(all.firstIndex(of: 41), all.count - 1 - all.reversed().firstIndex(of: 41)!)
    }

    func testNMSSelectionEqualsSuppressionOfEveryBox() throws {
        // Against the definition on random scores and deltas: torchvision-style NMS over all decoded boxes (Boxes.nms),
        // the first K kept, then the rest by score.
        let d = try detector()
        var g = SeededGenerator(seed: 7)
        let l = Tensor(shape: [2, 128, 2], initializer: .normal(std: 2), generator: &g)
        let deltas = Tensor(shape: [2, 128, 4], initializer: .normal(std: 0.5), generator: &g)
        let chosen = d.selector.nms(logits: l, deltas: deltas, decoder: d.decoder, k: 40, iouThreshold: 0.5)
        for b in 0..<2 {
            let best = QuerySelector.bestClassLogits(l, image: b)
            let boxes = (0..<128).map { d.decoder.box(anchor: $0, image: b, deltas: deltas) }
            let kept = nms(boxes: boxes, scores: best.map(Double.init), iouThreshold: 0.5)
            let expected = Array(kept.prefix(40)) + QuerySelector.byScore(Array(Set(0..<128).subtracting(kept)), best)
                .prefix(max(0, 40 - kept.count))
            XCTAssertEqual(chosen[b], expected, "image \(b)")
            XCTAssertGreaterThan(kept.count, 10, "the case exercises suppression")
            XCTAssertLessThan(kept.count, 128, "the case exercises suppression")
        }
    }

    func testAPlateauYieldsOnePeak() throws {
        let d = try detector()
        let l = logits([20 * 2: 3, 21 * 2: 3, 28 * 2: 3, 29 * 2: 3])
        let peaks = d.selector.peaks(logits: l, k: 2)
        XCTAssertEqual(peaks[0][0], 40, "the earliest location of the plateau is its peak")
        XCTAssertEqual(peaks[0][1], 42, "the next is taken by score, not as a second peak")
    }
}
