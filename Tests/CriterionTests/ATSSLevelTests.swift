import Boxes
import Criterion
import XCTest

/// ATSS on a feature pyramid: candidates per level (Zhang et al., CVPR 2020, §3.2), one threshold over all of them.
final class ATSSLevelTests: XCTestCase {
    /// Level 0: a 4×4 grid of stride 8 with 8-px anchors; level 1: a 2×2 grid of stride 16 with 16-px anchors.
    private let anchors: [Box] = {
        var out: [Box] = []
        for (n, s) in [(4, 8.0), (2, 16.0)] {
            for y in 0..<n {
                for x in 0..<n { out.append(Box(cx: (Double(x) + 0.5) * s, cy: (Double(y) + 0.5) * s, w: s, h: s)) }
            }
        }
        return out
    }()

    private func labels(_ box: Box, levels: [Int]) -> [Int] {
        var a = AnchorAssigner()
        a.atssTopK = 2
        a.levelAnchorCounts = levels
        return a.assign(anchors: anchors, targets: ImageTargets(boxes: [box], classes: [0]))
    }

    private func positives(_ labels: [Int]) -> [Int] { labels.indices.filter { labels[$0] >= 0 } }

    /// Box (0, 0, 16, 16): candidates per level are fine cells 0, 1 (IoU ¼ each; cell 4 ties with 1 and comes later)
    /// and coarse cells 0, 1 (IoU 1 and 0): mean 0.375, std 0.375, threshold 0.75 → the coarse anchor 16 alone.
    func testLargeBoxGoesToTheCoarseLevel() {
        XCTAssertEqual(positives(labels(Box(x1: 0, y1: 0, x2: 16, y2: 16), levels: [16, 4])), [16])
    }

    /// Box (0, 0, 16, 8): per level the candidates are fine cells 0 and 1 (IoU ½ each) and coarse cells 0 (½) and 1
    /// (0): mean 0.375, std ≈ 0.217, threshold ≈ 0.59, no positive. Over the concatenated list as one level the two
    /// nearest are the fine cells 0 and 1 alone (threshold ½), both positive: the levels change the statistics.
    func testCandidatesArePickedPerLevel() {
        let box = Box(x1: 0, y1: 0, x2: 16, y2: 8)
        XCTAssertEqual(positives(labels(box, levels: [16, 4])), [])
        XCTAssertEqual(positives(labels(box, levels: [])), [0, 1])
        XCTAssertEqual(labels(box, levels: []), labels(box, levels: [20]), "one level = no level split")
    }
}
