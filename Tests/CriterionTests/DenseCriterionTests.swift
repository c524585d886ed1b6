import Boxes
import Criterion
import TestSupport
import XCTest

final class DenseCriterionTests: XCTestCase {
    let classes = 3
    let anchors = gridAnchors(cells: 6, stride: 16)

    /// A crowded image with an ignore region, an empty image, and one with a zero-width box (never matched).
    func batch() -> ([[Float]], [[Float]], [ImageTargets]) {
        var s = Scenes(seed: 17)
        var crowded = s.targets(8, classes: classes, size: 96)
        crowded.boxes.append(Box(x1: 60, y1: 0, x2: 96, y2: 30))
        crowded.classes.append(0)
        crowded.ignore.append(true)
        let third = ImageTargets(boxes: [Box(x1: 10, y1: 10, x2: 40, y2: 34), Box(x1: 50, y1: 50, x2: 50, y2: 70)],
                                 classes: [2, 1])
        let a = anchors.count
        let logits = (0..<3).map { _ in s.floats(a * classes, -3, 3) }
        let deltas = (0..<3).map { _ in s.floats(a * 4, -0.3, 0.3) }
        return (logits, deltas, [crowded, .empty, third])
    }

    func testAssignmentRules() {
        let anchors = [
            Box(x1: 0, y1: 0, x2: 10, y2: 10), Box(x1: 4, y1: 0, x2: 14, y2: 10), Box(x1: 100, y1: 100, x2: 110, y2: 110),
            Box(x1: 205, y1: 205, x2: 225, y2: 225), Box(x1: 305, y1: 305, x2: 315, y2: 315),
            Box(x1: 335, y1: 335, x2: 345, y2: 345),
        ]
        let t = ImageTargets(
            boxes: [Box(x1: 0, y1: 0, x2: 10, y2: 10), Box(x1: 200, y1: 200, x2: 220, y2: 220),
                    Box(x1: 300, y1: 300, x2: 340, y2: 340)],
            classes: [0, 1, 0], ignore: [false, false, true])
        let n = AnchorAssigner.negative, i = AnchorAssigner.ignored
        // IoU 1 → positive; 0.43 → ignored; 0 → background; box 1's best anchor (IoU 0.39) forced positive;
        // inside the ignore box → ignored; a quarter inside → background.
        XCTAssertEqual(AnchorAssigner().assign(anchors: anchors, targets: t), [0, i, n, 1, i, n])
        XCTAssertEqual(AnchorAssigner(forceBestAnchor: false).assign(anchors: anchors, targets: t), [0, i, n, n, i, n])
        XCTAssertEqual(AnchorAssigner().assign(anchors: anchors, targets: .empty), [n, n, n, n, n, n])
        // A box that overlaps no anchor forces nothing (torchvision would mark every IoU-0 anchor).
        let far = ImageTargets(boxes: [Box(x1: 900, y1: 900, x2: 920, y2: 920)], classes: [0])
        XCTAssertEqual(AnchorAssigner().assign(anchors: anchors, targets: far), [n, n, n, n, n, n])
    }

    /// `BoxCoder.decodeBackward` against central differences of `decode`, inside and beyond the clamp.
    func testDecodeBackward() {
        let coder = BoxCoder(weights: SIMD4(10, 10, 5, 5))
        let anchor = Box(x1: 10, y1: 20, x2: 42, y2: 36)
        let upstream = [0.3, -1.1, 0.7, 0.25]
        for d in [[0.4, -0.7, 1.3, -2.1], [0.1, 0.2, 30, 0.5]] {
            func f(_ x: [Double]) -> Double {
                let b = coder.decode(BoxDelta(dx: x[0], dy: x[1], dw: x[2], dh: x[3]), anchor: anchor)
                return zip([b.x1, b.y1, b.x2, b.y2], upstream).reduce(0) { $0 + $1.0 * $1.1 }
            }
            assertClose(coder.decodeBackward(d[...], anchor: anchor, gradient: upstream),
                        numericalGradient(d, h: 1e-6, f), rtol: 1e-6, atol: 1e-8, "\(d)")
        }
    }

    /// Gradients of the total w.r.t. logits and deltas match finite differences (assignment is fixed by
    /// the anchors and the ground truth).
    func testGradientsMatchFiniteDifferences() throws {
        let (logits, deltas, targets) = batch()
        var cfg = DenseCriterion.Configuration(classes: classes)
        cfg.classWeights = [0.4, 1.1, 1.5]
        let criterion = DenseCriterion(cfg)
        let out = try criterion(anchors: anchors, logits: logits, deltas: deltas, targets: targets)
        XCTAssertGreaterThan(out.positives, 8)
        XCTAssertGreaterThan(out.ignored, 0)
        XCTAssertTrue(out.labels[1].allSatisfy { $0 == AnchorAssigner.negative })
        XCTAssertFalse(out.labels[2].contains(1), "zero-width box matched")
        for name in ["focal", "smooth_l1", "giou"] { XCTAssertGreaterThan(out.terms[name] ?? 0, 0, name) }
        // Image by image with the batch's normaliser (a batch is the sum of its images, tested below).
        for i in 0..<3 {
            func total(_ l: [Float], _ d: [Float]) -> Double {
                (try? criterion(anchors: anchors, logits: [l], deltas: [d], targets: [targets[i]],
                                normaliser: out.normaliser).total) ?? .nan
            }
            let numericLogits = floatGradient(logits[i]) { total($0, deltas[i]) }
            assertGradient(out.logitGradients[i], numericLogits, "logits image \(i)")
            let numericDeltas = floatGradient(deltas[i]) { total(logits[i], $0) }
            assertGradient(out.deltaGradients[i], numericDeltas, "deltas image \(i)")
        }
    }

    /// A batch equals the sum of its images when the normaliser is shared.
    func testBatchEqualsSumOfImages() throws {
        let (logits, deltas, targets) = batch()
        let criterion = DenseCriterion(.init(classes: classes))
        let whole = try criterion(anchors: anchors, logits: logits, deltas: deltas, targets: targets)
        XCTAssertEqual(whole.normaliser, Double(whole.positives))
        var total = 0.0, positives = 0
        for i in 0..<3 {
            let one = try criterion(anchors: anchors, logits: [logits[i]], deltas: [deltas[i]], targets: [targets[i]],
                                    normaliser: whole.normaliser)
            total += one.total
            positives += one.positives
            XCTAssertEqual(one.logitGradients[0], whole.logitGradients[i])
            XCTAssertEqual(one.deltaGradients[0], whole.deltaGradients[i])
        }
        XCTAssertEqual(positives, whole.positives)
        assertClose(total, whole.total, rtol: 1e-12)
    }

    /// With no boxes anywhere, only the focal term remains, divided by 1.
    func testEmptyBatch() throws {
        var s = Scenes(seed: 3)
        let logits = [s.floats(anchors.count * classes, -2, 2)]
        let out = try DenseCriterion(.init(classes: classes))(
            anchors: anchors, logits: logits, deltas: [s.floats(anchors.count * 4, -1, 1)], targets: [.empty])
        XCTAssertEqual(out.positives, 0)
        XCTAssertEqual(out.normaliser, 1)
        XCTAssertEqual(out.terms["smooth_l1"], 0)
        XCTAssertEqual(out.terms["giou"], 0)
        XCTAssertTrue(out.deltaGradients[0].allSatisfy { $0 == 0 })
        let expected = logits[0].reduce(0.0) { sum, x in
            let p = 1 / (1 + exp(-Double(x)))
            return sum + 0.75 * p * p * -log(1 - p)
        }
        assertClose(out.total, expected, rtol: 1e-9)
    }

    func testNonFiniteOutputsThrow() {
        var (logits, deltas, targets) = batch()
        logits[2][5] = .nan
        XCTAssertThrowsError(try DenseCriterion(.init(classes: classes))(
            anchors: anchors, logits: logits, deltas: deltas, targets: targets)) { error in
            guard case .nonFiniteOutput("logits", 2, 5, _)? = error as? CriterionError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("logits"))
        }
        logits[2][5] = 0
        deltas[0][3] = .infinity
        XCTAssertThrowsError(try DenseCriterion(.init(classes: classes))(
            anchors: anchors, logits: logits, deltas: deltas, targets: targets)) { error in
            guard case .nonFiniteOutput("deltas", 0, 3, _)? = error as? CriterionError else { return XCTFail("\(error)") }
        }
        targets[1] = ImageTargets(boxes: [Box(x1: 0, y1: 0, x2: 5, y2: 5)], classes: [3])
        deltas[0][3] = 0
        XCTAssertThrowsError(try DenseCriterion(.init(classes: classes))(
            anchors: anchors, logits: logits, deltas: deltas, targets: targets))
    }
}
