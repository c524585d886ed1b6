import Boxes
import Criterion
import TestSupport
import XCTest

final class SetCriterionTests: XCTestCase {
    let classes = 3, size = (width: 96.0, height: 96.0)

    /// Random hypotheses: `[K × 4]` normalised cxcywh and `[K × per]` logits.
    func hypotheses(_ s: inout Scenes, k: Int, per: Int) -> ([Float], [Float]) {
        var boxes = [Float]()
        for _ in 0..<k { boxes += s.floats(2, 0.2, 0.8) + s.floats(2, 0.05, 0.4) }
        return (boxes, s.floats(k * per, -2, 2))
    }

    /// Crowded image, empty image, more boxes than hypotheses, and zero-width hypotheses.
    func batch(k: Int, per: Int) -> ([[Float]], [[Float]], [ImageTargets], Set<Int>) {
        var s = Scenes(seed: 2016)
        var boxes = [[Float]](), logits = [[Float]]()
        for _ in 0..<4 {
            let (b, l) = hypotheses(&s, k: k, per: per)
            boxes.append(b)
            logits.append(l)
        }
        let zeroWidth: Set<Int> = [4 * 1 + 2, 4 * (k - 1) + 2]
        for i in zeroWidth { boxes[3][i] = 0 }
        var crowd = s.targets(6, classes: classes, size: 96)
        crowd.boxes.append(Box(x1: 0, y1: 0, x2: 30, y2: 30))
        crowd.classes.append(1)
        crowd.ignore.append(true)
        let targets = [crowd, .empty, s.targets(k + 4, classes: classes, size: 96), s.targets(3, classes: classes, size: 96)]
        return (boxes, logits, targets, zeroWidth)
    }

    func configurations() -> [SetCriterion.Configuration] {
        var softmax = SetCriterion.Configuration(classes: classes)
        softmax.labelSmoothing = 0.1
        softmax.classWeights = [1, 2, 0.5]
        var bce = SetCriterion.Configuration(classes: classes)
        bce.classification = .objectnessBCE
        var focal = SetCriterion.Configuration(classes: classes)
        focal.classification = .objectnessFocal(alpha: 0.25, gamma: 2)
        var reinspect = SetCriterion.Configuration(classes: classes)
        reinspect.matchCost = .reinspect()
        return [softmax, bce, focal, reinspect]
    }

    /// Gradients w.r.t. boxes and logits match finite differences with the assignment held fixed.
    func testGradientsMatchFiniteDifferences() throws {
        let k = 10
        for cfg in configurations() {
            let (boxes, logits, targets, zeroWidth) = batch(k: k, per: cfg.logitsPerHypothesis)
            let criterion = SetCriterion(cfg)
            let out = try criterion(boxes: boxes, logits: logits, targets: targets, imageSize: size)
            XCTAssertEqual(out.groundTruth, 6 + k + 4 + 3)
            XCTAssertEqual(out.unmatchedBoxes, 4)
            XCTAssertEqual(out.matches.map(\.count), [6, 0, k, 3])
            XCTAssertFalse(out.matches[0].contains { $0.box == 6 }, "ignore box matched")
            XCTAssertTrue((out.boxGradients + out.logitGradients).joined().allSatisfy(\.isFinite))
            for i in 0..<4 {
                func total(_ b: [Float], _ l: [Float]) -> Double {
                    (try? criterion(boxes: [b], logits: [l], targets: [targets[i]], imageSize: size,
                                    matches: [out.matches[i]], normaliser: out.normaliser).total) ?? .nan
                }
                // The GIoU loss has a kink at zero width (the intersection appears): skip those entries.
                let skip = i == 3 ? zeroWidth : []
                assertGradient(out.boxGradients[i], floatGradient(boxes[i], skip: skip) { total($0, logits[i]) },
                               skip: skip, "\(cfg.classification) boxes image \(i)")
                assertGradient(out.logitGradients[i], floatGradient(logits[i]) { total(boxes[i], $0) },
                               "\(cfg.classification) logits image \(i)")
            }
        }
    }

    /// A batch equals the sum of its images when the normaliser is shared.
    func testBatchEqualsSumOfImages() throws {
        for cfg in configurations() {
            let (boxes, logits, targets, _) = batch(k: 8, per: cfg.logitsPerHypothesis)
            let criterion = SetCriterion(cfg)
            let whole = try criterion(boxes: boxes, logits: logits, targets: targets, imageSize: size)
            var terms = [0.0, 0, 0]
            for i in 0..<4 {
                let one = try criterion(boxes: [boxes[i]], logits: [logits[i]], targets: [targets[i]],
                                        imageSize: size, normaliser: whole.normaliser)
                XCTAssertEqual(one.matches[0], whole.matches[i])
                XCTAssertEqual(one.boxGradients[0], whole.boxGradients[i])
                XCTAssertEqual(one.logitGradients[0], whole.logitGradients[i])
                for t in 0..<3 { terms[t] += one.terms[t].value }
            }
            assertClose(terms, whole.terms.map(\.value), rtol: 1e-12)
        }
    }

    /// The DETR cost of one pair, computed independently of the criterion.
    func detrCost(_ b: [Float], _ l: [Float], _ k: Int, _ t: ImageTargets, _ g: Int) -> Double {
        let row = (0...classes).map { Double(l[k * (classes + 1) + $0]) }
        let p = exp(row[t.classes[g]]) / row.reduce(0) { $0 + exp($1) }
        let box = t.boxes[g]
        let truth = [box.cx / 96, box.cy / 96, box.width / 96, box.height / 96]
        let pred = (0..<4).map { Double(b[4 * k + $0]) }
        let l1 = zip(pred, truth).reduce(0) { $0 + abs($1.0 - $1.1) }
        let a = Box(cx: pred[0], cy: pred[1], w: pred[2], h: pred[3])
        let c = Box(cx: truth[0], cy: truth[1], w: truth[2], h: truth[3])
        return -p + 5 * l1 - 2 * giou(a, c, eps: 0)
    }

    /// The ReInspect cost of one pair, computed independently of the criterion.
    func reinspectCost(_ b: [Float], _ k: Int, _ t: ImageTargets, _ g: Int) -> Double {
        let box = t.boxes[g]
        let cx = Double(b[4 * k]) * 96, cy = Double(b[4 * k + 1]) * 96
        let miss = abs(cx - box.cx) > 0.5 * box.width || abs(cy - box.cy) > 0.5 * box.height
        let px = [cx, cy, Double(b[4 * k + 2]) * 96, Double(b[4 * k + 3]) * 96]
        let l1 = zip(px, [box.cx, box.cy, box.width, box.height]).reduce(0) { $0 + abs($1.0 - $1.1) }
        return (miss ? 100 : 0) + Double(k) + l1 / 2000
    }

    /// Every injective map of the smaller side into the larger, as (hypothesis, box) pairs.
    func allMatchings(k: Int, g: Int) -> [[(Int, Int)]] {
        func extend(_ used: Set<Int>, _ i: Int, _ n: Int, _ m: Int) -> [[Int]] {
            if i == n { return [[]] }
            return (0..<m).filter { !used.contains($0) }.flatMap { j in
                extend(used.union([j]), i + 1, n, m).map { [j] + $0 }
            }
        }
        if g <= k { return extend([], 0, g, k).map { $0.enumerated().map { ($1, $0) } } }
        return extend([], 0, k, g).map { $0.enumerated().map { ($0, $1) } }
    }

    /// The criterion's matching has the least total cost over all matchings (brute force, both costs).
    func testMatchingEqualsBruteForce() throws {
        var s = Scenes(seed: 7)
        for (k, g) in [(5, 3), (4, 4), (2, 4), (6, 1)] {
            for detr in [true, false] {
                var cfg = SetCriterion.Configuration(classes: classes)
                if !detr { cfg.matchCost = .reinspect() }
                let (b, l) = hypotheses(&s, k: k, per: classes + 1)
                var t = s.targets(g, classes: classes, size: 96)
                
                let out = try SetCriterion(cfg)(boxes: [b], logits: [l], targets: [t], imageSize: size)
                func cost(_ pairs: [(Int, Int)]) -> Double {
                    pairs.reduce(0) { $0 + (detr ? detrCost(b, l, $1.0, t, $1.1) : reinspectCost(b, $1.0, t, $1.1)) }
                }
                let best = allMatchings(k: k, g: g).map(cost).min()!
                XCTAssertEqual(out.matches[0].count, min(k, g))
                assertClose(cost(out.matches[0].map { ($0.hypothesis, $0.box) }), best, rtol: 1e-12,
                            "K \(k) G \(g) detr \(detr)")
            }
        }
    }

    /// With no boxes, every hypothesis is trained to no-object and the box terms vanish.
    func testEmptyImage() throws {
        var s = Scenes(seed: 5)
        let (b, l) = hypotheses(&s, k: 6, per: classes + 1)
        let out = try SetCriterion(.init(classes: classes))(boxes: [b], logits: [l], targets: [.empty], imageSize: size)
        XCTAssertEqual(out.normaliser, 1)
        XCTAssertEqual(out.terms["l1"], 0)
        XCTAssertEqual(out.terms["giou"], 0)
        XCTAssertTrue(out.boxGradients[0].allSatisfy { $0 == 0 })
        var expected = 0.0
        for k in 0..<6 {
            let row = (0...classes).map { Double(l[k * (classes + 1) + $0]) }
            expected += 0.1 * -(row[classes] - log(row.reduce(0) { $0 + exp($1) }))
        }
        assertClose(out.total, expected, rtol: 1e-9)
    }

    func testNonFiniteOutputsThrow() {
        var (boxes, logits, targets, _) = batch(k: 5, per: classes + 1)
        boxes[2][7] = .infinity
        XCTAssertThrowsError(try SetCriterion(.init(classes: classes))(
            boxes: boxes, logits: logits, targets: targets, imageSize: size)) { error in
            guard case .nonFiniteOutput("boxes", 2, 7, _)? = error as? CriterionError else { return XCTFail("\(error)") }
        }
        boxes[2][7] = 0.5
        logits[0][0] = .nan
        XCTAssertThrowsError(try SetCriterion(.init(classes: classes))(
            boxes: boxes, logits: logits, targets: targets, imageSize: size)) { error in
            guard case .nonFiniteOutput("logits", 0, 0, _)? = error as? CriterionError else { return XCTFail("\(error)") }
        }
    }
}
