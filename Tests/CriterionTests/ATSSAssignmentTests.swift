import Boxes
import Criterion
import XCTest

/// The adaptive (ATSS) rule of `AnchorAssigner` against its definition, computed here by brute force.
final class ATSSAssignmentTests: XCTestCase {
    /// A 16×16 grid of stride 8 with three square sizes per location, location-major.
    private let sizes = [16.0, 32.0, 64.0]
    private var anchors: [Box] {
        var out: [Box] = []
        for y in 0..<16 {
            for x in 0..<16 {
                for s in sizes { out.append(Box(cx: (Double(x) + 0.5) * 8, cy: (Double(y) + 0.5) * 8, w: s, h: s)) }
            }
        }
        return out
    }

    private func assigner(k: Int = 9) -> AnchorAssigner {
        var a = AnchorAssigner()
        a.atssTopK = k
        a.anchorShapes = sizes.count
        return a
    }

    func testPositivesFollowTheDefinition() {
        let boxes = [Box(x1: 20, y1: 30, x2: 44, y2: 50), Box(x1: 70, y1: 60, x2: 120, y2: 118), Box(x1: 33, y1: 33, x2: 49, y2: 49)]
        let targets = ImageTargets(boxes: boxes, classes: [0, 1, 2])
        let anchors = self.anchors
        let labels = assigner().assign(anchors: anchors, targets: targets)
        // Expected, by brute force: per box, the 9 nearest locations (by centre distance) × 3 sizes as candidates.
        var expected = [Int](repeating: AnchorAssigner.negative, count: anchors.count)
        var bestIoU = [Double](repeating: 0, count: anchors.count)
        for (j, box) in boxes.enumerated() {
            let locations = (0..<256).sorted {
                let (a, b) = (anchors[$0 * 3], anchors[$1 * 3])
                let da = (a.cx - box.cx) * (a.cx - box.cx) + (a.cy - box.cy) * (a.cy - box.cy)
                let db = (b.cx - box.cx) * (b.cx - box.cx) + (b.cy - box.cy) * (b.cy - box.cy)
                return da < db || (da == db && $0 < $1)
            }.prefix(9)
            let candidates = locations.flatMap { l in (0..<3).map { l * 3 + $0 } }
            let ious = candidates.map { iou(anchors[$0], box, eps: 0) }
            let mean = ious.reduce(0, +) / Double(ious.count)
            let std = (ious.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(ious.count)).squareRoot()
            var positives = 0
            for (a, v) in zip(candidates, ious) where v >= mean + std && v > 0 {
                let c = anchors[a]
                guard c.cx > box.x1, c.cx < box.x2, c.cy > box.y1, c.cy < box.y2 else { continue }
                positives += 1
                if expected[a] == AnchorAssigner.negative || v > bestIoU[a] { (expected[a], bestIoU[a]) = (j, v) }
            }
            XCTAssertGreaterThan(positives, 0, "box \(j) gets positives")
        }
        XCTAssertEqual(labels, expected)
        XCTAssertFalse(labels.contains(AnchorAssigner.ignored), "ATSS has no ignore band")
        // Boxes 0 and 2 overlap: a shared candidate goes to the box it overlaps more.
        XCTAssertTrue(labels.contains(0) && labels.contains(1) && labels.contains(2))
    }

    func testIgnoreRegionsStillApplyAndEmptyTargetsGiveBackground() {
        let anchors = self.anchors
        let none = assigner().assign(anchors: anchors, targets: ImageTargets(boxes: [], classes: []))
        XCTAssertTrue(none.allSatisfy { $0 == AnchorAssigner.negative })
        let crowd = ImageTargets(boxes: [Box(x1: 0, y1: 0, x2: 64, y2: 64)], classes: [0], ignore: [true])
        let labels = assigner().assign(anchors: anchors, targets: crowd)
        XCTAssertEqual(labels[0], AnchorAssigner.ignored, "a small anchor inside the crowd region")
        XCTAssertEqual(labels[anchors.count - 1], AnchorAssigner.negative)
    }
}
