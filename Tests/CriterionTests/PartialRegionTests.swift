import Boxes
import Criterion
import TestSupport
import XCTest

/// Partial regions (`ImageTargets.partialRegions`): where a class may hold objects without boxes, the dense criterion
/// does not count that class's scores against the network, and nothing else changes.
final class PartialRegionTests: XCTestCase {
    let classes = 3, size = (width: 96.0, height: 96.0)

    /// Which classes cover a box: at least half of its area inside a region of the class.
    func testCoveredClasses() {
        let t = ImageTargets(boxes: [], classes: [], partialRegions: [
            PartialRegion(box: Box(x1: 0, y1: 0, x2: 48, y2: 96), classIndex: 2),
            PartialRegion(box: Box(x1: 0, y1: 0, x2: 96, y2: 96), classIndex: 0),
            PartialRegion(box: Box(x1: 0, y1: 0, x2: 20, y2: 20), classIndex: 2),
        ])
        XCTAssertEqual(t.partialClasses(of: Box(x1: 10, y1: 10, x2: 30, y2: 30), overlap: 0.5), [0, 2])
        XCTAssertEqual(t.partialClasses(of: Box(x1: 38, y1: 10, x2: 58, y2: 30), overlap: 0.5), [0, 2], "half inside counts")
        XCTAssertEqual(t.partialClasses(of: Box(x1: 40, y1: 10, x2: 60, y2: 30), overlap: 0.5), [0], "40 % inside does not")
        XCTAssertEqual(t.partialClasses(of: Box(x1: 10, y1: 10, x2: 10, y2: 30), overlap: 0.5), [], "an empty box")
        XCTAssertEqual(ImageTargets.empty.partialClasses(of: Box(x1: 0, y1: 0, x2: 9, y2: 9), overlap: 0.5), [])
    }

    /// Dense head: a region of class 1 over the left half zeroes the class-1 column of the anchors mostly inside it,
    /// and leaves every other entry (other columns, anchors outside) as it was; a region of class 0 keeps the loss
    /// of class-0 positives inside it.
    func testDenseCriterionDropsTheRegionsClassOnly() throws {
        let anchors = gridAnchors(cells: 6, stride: 16)
        var s = Scenes(seed: 5)
        let logits = [s.floats(anchors.count * classes, -3, 3)], deltas = [s.floats(anchors.count * 4, -0.3, 0.3)]
        let box = Box(x1: 8, y1: 40, x2: 40, y2: 64)
        let plain = ImageTargets(boxes: [box], classes: [0])
        var partial = plain
        partial.partialRegions = [PartialRegion(box: Box(x1: 0, y1: 0, x2: 48, y2: 96), classIndex: 1),
                                  PartialRegion(box: Box(x1: 0, y1: 0, x2: 48, y2: 96), classIndex: 0)]
        let criterion = DenseCriterion(.init(classes: classes))
        let a = try criterion(anchors: anchors, logits: logits, deltas: deltas, targets: [plain])
        let b = try criterion(anchors: anchors, logits: logits, deltas: deltas, targets: [partial], normaliser: a.normaliser)
        XCTAssertEqual(a.labels, b.labels)
        var inside = 0, positivesInside = 0
        for (k, anchor) in anchors.enumerated() {
            let covered = min(anchor.x2, 48) - max(anchor.x1, 0) >= 0.5 * anchor.width
            let positive = a.labels[0][k] >= 0
            for c in 0..<classes {
                let i = k * classes + c
                if covered && (c == 1 || (c == 0 && !positive)) {
                    XCTAssertEqual(b.logitGradients[0][i], 0, "anchor \(k) class \(c)")
                } else {
                    XCTAssertEqual(b.logitGradients[0][i], a.logitGradients[0][i], "anchor \(k) class \(c)")
                }
            }
            if covered { inside += 1; if positive { positivesInside += 1 } }
        }
        XCTAssertGreaterThan(inside, 20)
        XCTAssertGreaterThan(positivesInside, 0, "a positive of class 0 inside keeps its loss")
        XCTAssertLessThan(b.terms[0].value, a.terms[0].value)
        XCTAssertEqual(b.deltaGradients, a.deltaGradients)
    }

    /// Set head: partial regions change nothing (an unmatched hypothesis keeps the no-object target, softmax or
    /// objectness), since the set target {no-object, c} cost the set head AP50 (docs/experiments.md).
    func testSetCriterionIgnoresRegions() throws {
        var s = Scenes(seed: 9)
        let k = 8
        var boxes = [Float]()
        for h in 0..<k { boxes += [h < 4 ? 0.2 : 0.75, Float(h % 4) * 0.2 + 0.15, 0.12, 0.12] }
        let plain = ImageTargets(boxes: [Box(cx: 19, cy: 14, w: 12, h: 12), Box(cx: 72, cy: 34, w: 12, h: 12)],
                                 classes: [0, 1])
        var partial = plain
        partial.partialRegions = [PartialRegion(box: Box(x1: 0, y1: 0, x2: 48, y2: 96), classIndex: 2)]
        var softmax = SetCriterion.Configuration(classes: classes)
        softmax.iouTargets = true
        var objectness = SetCriterion.Configuration(classes: classes)
        objectness.classification = .objectnessBCE
        for cfg in [softmax, objectness] {
            let logits = s.floats(k * cfg.logitsPerHypothesis, -2, 2)
            let criterion = SetCriterion(cfg)
            let a = try criterion(boxes: [boxes], logits: [logits], targets: [plain], imageSize: size)
            let b = try criterion(boxes: [boxes], logits: [logits], targets: [partial], imageSize: size)
            XCTAssertEqual(a.total, b.total)
            XCTAssertEqual(a.logitGradients, b.logitGradients)
            XCTAssertEqual(a.boxGradients, b.boxGradients)
        }
    }

    /// A region's class outside the classes is refused with the image named.
    func testRegionClassIsChecked() {
        let t = ImageTargets(boxes: [], classes: [], partialRegions: [PartialRegion(box: Box(x1: 0, y1: 0, x2: 9, y2: 9),
                                                                                     classIndex: 3)])
        XCTAssertThrowsError(try SetCriterion(.init(classes: classes))(boxes: [[0.5, 0.5, 0.1, 0.1]], logits: [[0, 0, 0, 0]],
                                                                        targets: [t], imageSize: size)) { error in
            XCTAssertTrue("\(error)".contains("partial region 0 has class 3"), "\(error)")
        }
    }
}
