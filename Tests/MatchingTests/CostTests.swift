import Foundation
import XCTest
import TestSupport
import Boxes
@testable import Matching

/// The ReInspect and DETR matching costs, by hand values and through the solver.
final class CostTests: XCTestCase {
    func testReInspectCostTermsAndLexicographicMatching() throws {
        let truth = [Box(cx: 100, cy: 100, w: 40, h: 80), Box(cx: 300, cy: 100, w: 40, h: 80)]
        let hypotheses = [
            Box(cx: 500, cy: 500, w: 40, h: 80),  // misses both
            Box(cx: 310, cy: 130, w: 50, h: 70),  // centre inside truth 1 (|Δ| 10 ≤ 20, 30 ≤ 40)
            Box(cx: 101, cy: 99, w: 40, h: 80),   // inside truth 0, nearly exact
            Box(cx: 299, cy: 101, w: 40, h: 80),  // inside truth 1, nearly exact but ranked after 1
        ]
        let cost = ReInspectCost().matrix(hypotheses: hypotheses, groundTruth: truth)
        XCTAssertEqual(cost.rows, 4)
        XCTAssertEqual(cost.columns, 2)
        // Hypothesis 1 vs truth 1: rank 1 + L1 (10 + 30 + 10 + 10) / 2000.
        XCTAssertEqual(cost[1, 1], 1.0 + 60.0 / 2000, accuracy: 1e-12)
        // Hypothesis 0 vs truth 0: miss, rank 0, L1 (400 + 400) / 2000.
        XCTAssertEqual(cost[0, 0], 100.0 + 800.0 / 2000, accuracy: 1e-12)
        let l1: Double = 210 + 30 + 10 + 10
        XCTAssertEqual(cost[1, 0], 101 + l1 / 2000, accuracy: 1e-12)
        let a = try linearSumAssignment(cost)
        // Rank beats distance: hypothesis 1 takes truth 1 although hypothesis 3 is nearer.
        XCTAssertEqual(a.rowIndices, [1, 2])
        XCTAssertEqual(a.columnIndices, [1, 0])

        // IoU criterion (TensorBox, 0.25): hypothesis 1 vs truth 1 has IoU 1800 / 3500 ≈ 0.51 → no miss.
        let iouCost = ReInspectCost(miss: .iouBelow(threshold: 0.25))
        XCTAssertFalse(iouCost.isMiss(hypotheses[1], truth[1]))
        XCTAssertTrue(iouCost.isMiss(hypotheses[0], truth[1]))
        XCTAssertTrue(ReInspectCost(miss: .iouBelow(threshold: 0.6)).isMiss(hypotheses[1], truth[1]))
        let ranked = ReInspectCost().matrix(hypotheses: hypotheses, groundTruth: truth, ranks: [3, 2, 1, 0])
        XCTAssertEqual(ranked[3, 1], 2.0 / 2000, accuracy: 1e-12)  // rank 0, L1 1 + 1
    }

    func testDETRCostEntriesFollowTheFormula() throws {
        let boxes = [Box(cx: 0.5, cy: 0.5, w: 0.2, h: 0.4), Box(cx: 0.2, cy: 0.3, w: 0.1, h: 0.1)]
        let targets = [Box(cx: 0.45, cy: 0.5, w: 0.2, h: 0.3), Box(cx: 0.8, cy: 0.8, w: 0.1, h: 0.2),
                       Box(cx: 0.2, cy: 0.3, w: 0.1, h: 0.1)]
        let probabilities = [0.7, 0.2, 0.1, 0.1, 0.3, 0.6]  // 2 predictions × 3 classes
        let labels = [0, 2, 1]
        let detr = DETRCost()
        let cost = detr.matrix(probabilities: probabilities, classCount: 3, boxes: boxes, targetBoxes: targets,
                               targetLabels: labels)
        let g = pairwiseGIoU(boxes, targets)
        for i in 0..<2 {
            for j in 0..<3 {
                let p = probabilities[i * 3 + labels[j]]
                let dc: Double = abs(boxes[i].cx - targets[j].cx) + abs(boxes[i].cy - targets[j].cy)
                let ds: Double = abs(boxes[i].width - targets[j].width) + abs(boxes[i].height - targets[j].height)
                let l1 = dc + ds
                XCTAssertEqual(cost[i, j], -p + 5 * l1 - 2 * g[i * 3 + j], accuracy: 1e-12)
            }
        }
        // Prediction 1 coincides with target 2: GIoU 1, L1 0, p 0.3.
        XCTAssertEqual(cost[1, 2], -0.3 - 2, accuracy: 1e-12)
        let a = try linearSumAssignment(cost)
        XCTAssertEqual(a.columnIndices, [0, 2])
    }

    func testFocalClassCostMatchesDeformableDETR() {
        let focal = DETRCost(focal: .init())
        for p in [0.01, 0.3, 0.5, 0.9, 0.999] {
            let positive: Double = 0.25 * (1 - p) * (1 - p) * -log(p + 1e-8)
            let negative: Double = 0.75 * p * p * -log(1 - p + 1e-8)
            let expected = positive - negative
            XCTAssertEqual(focal.classCost(p), expected, accuracy: 1e-12)
        }
        // The focal cost falls as p rises, like −p.
        XCTAssertLessThan(focal.classCost(0.9), focal.classCost(0.2))
        let objectness = DETRCost(l1Weight: 0, giouWeight: 0, focal: .init())
            .matrix(scores: [0.2, 0.9], boxes: [Box(x1: 0, y1: 0, x2: 1, y2: 1), Box(x1: 0, y1: 0, x2: 1, y2: 1)],
                    targetBoxes: [Box(x1: 5, y1: 5, x2: 6, y2: 6)])
        XCTAssertEqual(objectness.values, [focal.classCost(0.2), focal.classCost(0.9)])
    }

    func testEmptyTargetsGiveEmptyMatrices() throws {
        let m = DETRCost().matrix(scores: [0.5], boxes: [Box(x1: 0, y1: 0, x2: 1, y2: 1)], targetBoxes: [])
        XCTAssertEqual(m.rows, 1)
        XCTAssertEqual(m.columns, 0)
        XCTAssertEqual(try linearSumAssignment(m).count, 0)
        XCTAssertEqual(ReInspectCost().matrix(hypotheses: [], groundTruth: [Box(x: 0, y: 0, w: 1, h: 1)]).rows, 0)
    }
}
