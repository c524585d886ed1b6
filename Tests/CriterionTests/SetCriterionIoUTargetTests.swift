import Boxes
import Criterion
import TestSupport
import XCTest

/// IoU-aware class targets of the set criterion (`Configuration.iouTargets`): the matched hypothesis's target is
/// its box's IoU with its ground truth on the class and `1 − IoU` on no-object, a constant of the loss.
final class SetCriterionIoUTargetTests: XCTestCase {
    let classes = 3, size = (width: 96.0, height: 96.0)

    func configurations() -> [SetCriterion.Configuration] {
        var softmax = SetCriterion.Configuration(classes: classes)
        softmax.classWeights = [1, 2, 0.5]
        var bce = SetCriterion.Configuration(classes: classes)
        bce.classification = .objectnessBCE
        var focal = SetCriterion.Configuration(classes: classes)
        focal.classification = .objectnessFocal(alpha: 0.25, gamma: 2)
        return [softmax, bce, focal].map { var c = $0; c.iouTargets = true; return c }
    }

    /// The logit gradients match central differences (the IoU does not depend on the logits), and the box gradients
    /// are those without IoU targets: the target is detached, so the class term sends nothing to the boxes.
    func testGradientsWithDetachedTargets() throws {
        let k = 10
        for cfg in configurations() {
            var s = Scenes(seed: 2021)
            var boxes = [[Float]](), logits = [[Float]]()
            for _ in 0..<3 {
                var b = [Float]()
                for _ in 0..<k { b += s.floats(2, 0.2, 0.8) + s.floats(2, 0.05, 0.4) }
                boxes.append(b)
                logits.append(s.floats(k * cfg.logitsPerHypothesis, -2, 2))
            }
            let targets = [s.targets(6, classes: classes, size: 96), .empty, s.targets(k + 2, classes: classes, size: 96)]
            let criterion = SetCriterion(cfg)
            let out = try criterion(boxes: boxes, logits: logits, targets: targets, imageSize: size)
            var plain = cfg
            plain.iouTargets = false
            let without = try SetCriterion(plain)(boxes: boxes, logits: logits, targets: targets, imageSize: size,
                                                  matches: out.matches)
            XCTAssertEqual(out.boxGradients, without.boxGradients, "\(cfg.classification)")
            XCTAssertNotEqual(out.terms[0].value, without.terms[0].value, "\(cfg.classification)")
            for i in 0..<3 {
                let numeric = floatGradient(logits[i]) { l in
                    (try? criterion(boxes: [boxes[i]], logits: [l], targets: [targets[i]], imageSize: size,
                                    matches: [out.matches[i]], normaliser: out.normaliser).total) ?? .nan
                }
                assertGradient(out.logitGradients[i], numeric, "\(cfg.classification) logits image \(i)")
            }
        }
    }

    /// One ground truth `[20, 20, 60, 60]` (class 0) in a 100² image, hypothesis 0 at `(50, 40, 40, 40)` (IoU
    /// 1200 / 2000 = 0.6) matched to it, hypothesis 1 unmatched. Against numpy:
    /// ```
    /// X = [[1, -0.5, 0.2], [0.3, 0.1, 0.9]]; lp = X - log(exp(X).sum(1, keepdims=True)); q = 1200 / (2000 + 1e-7)
    /// -(q * lp[0, 0] + (1 - q) * lp[0, 2]) - 0.1 * lp[1, 2]   # 0.903516777667289
    /// ```
    func testSoftmaxClassTermAgainstNumpy() throws {
        var cfg = SetCriterion.Configuration(classes: 2)
        cfg.iouTargets = true
        let t = ImageTargets(boxes: [Box(x1: 20, y1: 20, x2: 60, y2: 60)], classes: [0])
        let out = try SetCriterion(cfg)(
            boxes: [[0.5, 0.4, 0.4, 0.4, 0.2, 0.7, 0.1, 0.1]], logits: [[1, -0.5, 0.2, 0.3, 0.1, 0.9]], targets: [t],
            imageSize: (100, 100), matches: [[SetMatch(hypothesis: 0, box: 0)]])
        XCTAssertEqual(out.terms[0].name, "class")
        XCTAssertEqual(out.terms[0].value, 0.903516777667289, accuracy: 1e-6)
        // A perfect box is trained to its class alone: target 1 on the class, as without IoU targets.
        let perfect = try SetCriterion(cfg)(
            boxes: [[0.4, 0.4, 0.4, 0.4]], logits: [[1, -0.5, 0.2]], targets: [t], imageSize: (100, 100))
        var plain = cfg
        plain.iouTargets = false
        let onehot = try SetCriterion(plain)(
            boxes: [[0.4, 0.4, 0.4, 0.4]], logits: [[1, -0.5, 0.2]], targets: [t], imageSize: (100, 100))
        XCTAssertEqual(perfect.terms[0].value, onehot.terms[0].value, accuracy: 1e-6)
    }
}
