import Boxes
import Criterion
import DetectorTestSupport
import NeuralNet
import TestSupport
import XCTest
@testable import DetectorModel
@testable import Training

/// Progressive acceptance (`DetectorConfig.setProgressive`): hypotheses the first stage accepts keep its outputs; the
/// others are refined by a second stage trained against the boxes no accepted hypothesis took.
final class ProgressiveTests: XCTestCase {
    /// The best object-class probability of every row of `logits` `[R, C + 1]`.
    private static func objectProbabilities(_ logits: Tensor, classes: Int) -> [Float] {
        let c1 = classes + 1
        return (0..<logits.shape[0]).map { r in
            let row = Array(logits.data[(r * c1)..<((r + 1) * c1)]), m = row.max()!
            let sum = row.reduce(Float(0)) { $0 + exp($1 - m) }
            return exp(row.prefix(classes).max()! - m) / sum
        }
    }

    /// A configuration whose threshold lies in the widest gap between the middle half of the first stage's
    /// probabilities on `images` (the first stage does not depend on the threshold), so that about half the
    /// hypotheses are accepted and small changes of the weights flip none.
    private static func configuration(images: Tensor, seed: UInt64) throws -> (DetectorConfig, Float) {
        var c = DetectorFixtures.tinyConfig()
        c.setClassPrior = true
        c.setGeometry = true
        c.setProgressive = 0.5
        let probe = try Detector(config: c, seed: seed)
        probe.progressiveTraining = true
        let p = objectProbabilities(probe.forward(images).setLogits, classes: c.numClasses).sorted()
        let middle = (p.count / 4)..<(3 * p.count / 4)
        let i = middle.max { p[$0 + 1] - p[$0] < p[$1 + 1] - p[$1] }!
        let threshold = (p[i] + p[i + 1]) / 2
        c.setProgressive = Double(threshold)
        return (c, Float(c.setProgressive!))
    }

    /// Apart (training), the first stage's outputs stand in `setBoxes`/`setLogits` and the second's in `refined`,
    /// with the accepted flags of the threshold; merged (evaluation), each row takes the first stage's outputs when
    /// accepted and the second's otherwise. The other weights are those of the network without the stage.
    func testOnlyHypothesesNotAcceptedTakeTheSecondStage() throws {
        let images = DetectorFixtures.randomBatch(config: DetectorFixtures.tinyConfig(), n: 2, seed: 4).images
        let (c, threshold) = try Self.configuration(images: images, seed: 3)
        let d = try Detector(config: c, seed: 3)
        d.progressiveTraining = true
        let apart = d.forward(images)
        d.progressiveTraining = false
        let merged = d.forward(images)
        let refined = try XCTUnwrap(apart.refined)
        XCTAssertNil(merged.refined)
        let rows = 2 * c.hypotheses, per = c.numClasses + 1
        let p = Self.objectProbabilities(apart.setLogits, classes: c.numClasses)
        XCTAssertEqual(refined.accepted, p.map { $0 > threshold })
        let accepted = refined.accepted.filter { $0 }.count
        XCTAssertTrue(accepted > 0 && accepted < rows, "\(accepted) of \(rows) accepted")
        var changed = 0
        for r in 0..<rows {
            let (boxes, logits) = refined.accepted[r]
                ? (apart.setBoxes, apart.setLogits.data) : (refined.boxes, refined.logits.data)
            XCTAssertEqual(Array(merged.setBoxes[(r * 4)..<(r * 4 + 4)]), Array(boxes[(r * 4)..<(r * 4 + 4)]),
                           "row \(r)")
            XCTAssertEqual(Array(merged.setLogits.data[(r * per)..<(r * per + per)]),
                           Array(logits[(r * per)..<(r * per + per)]), "row \(r)")
            if merged.setLogits.data[r * per] != apart.setLogits.data[r * per] { changed += 1 }
        }
        XCTAssertEqual(changed, rows - accepted, "every row not accepted is refined")
        var plainConfig = c
        plainConfig.setProgressive = nil
        let plain = try Detector(config: plainConfig, seed: 3)
        XCTAssertEqual(d.parameters.count - plain.parameters.count, d.querySet!.progressive!.parameters.count)
        for (a, b) in zip(plain.parameters, d.parameters) {
            XCTAssertEqual(a.name, b.name)
            XCTAssertEqual(a.value.data, b.value.data, a.name)
        }
        XCTAssertTrue(d.parameters.suffix(from: plain.parameters.count).allSatisfy { $0.name.hasPrefix("set.stage2.") })
    }

    /// The second stage's criterion drops the hypotheses accepted and the boxes they were matched to; the rest are
    /// matched among themselves, divided by the first stage's normaliser, and accepted rows get no gradient.
    func testSecondStageTargetsLeaveOutWhatWasAccepted() throws {
        var c = DetectorFixtures.tinyConfig()
        c.setProgressive = 0.5
        let step = TrainStep(detector: try Detector(config: c, seed: 1), optimizer: SGD(momentum: 0), classWeights: nil)
        var g = SeededGenerator(seed: 7)
        let k = c.hypotheses, per = c.numClasses + 1
        let boxes = (0..<(k * 4)).map { i in i % 4 < 2 ? 0.2 + 0.6 * g.nextUniform() : 0.1 + 0.2 * g.nextUniform() }
        let logits = (0..<(k * per)).map { _ in g.nextNormal() }
        let truth = [Box(x1: 2, y1: 2, x2: 14, y2: 12), Box(x1: 20, y1: 30, x2: 34, y2: 44),
                     Box(x1: 40, y1: 8, x2: 56, y2: 20), Box(x1: 10, y1: 40, x2: 22, y2: 58)]
        let targets = [ImageTargets(boxes: truth, classes: [0, 1, 1, 0])]
        let s = Double(c.inputSize)
        let first = try step.setCriterion(boxes: [boxes], logits: [logits], targets: targets, imageSize: (s, s),
                                          matches: [[SetMatch(hypothesis: 0, box: 0), SetMatch(hypothesis: 3, box: 1),
                                                     SetMatch(hypothesis: 5, box: 2), SetMatch(hypothesis: 7, box: 3)]])
        var accepted = [Bool](repeating: false, count: k)
        for h in [0, 2, 5] { accepted[h] = true }  // 2 is accepted but matched to nothing
        let refined = RefinedHypotheses(boxes: boxes, logits: Tensor(shape: [k, per], data: logits), accepted: accepted)
        let out = try step.secondStageCriterion(refined, first: first, targets: targets)
        XCTAssertEqual(out.normaliser, first.normaliser)
        XCTAssertEqual(Set(out.matches[0].map(\.box)), [1, 3])
        XCTAssertTrue(out.matches[0].allSatisfy { !accepted[$0.hypothesis] }, "\(out.matches[0])")
        for h in 0..<k {
            let grads = out.logitGradients[0][(h * per)..<(h * per + per)] + out.boxGradients[0][(h * 4)..<(h * 4 + 4)]
            if accepted[h] { XCTAssertTrue(grads.allSatisfy { $0 == 0 }, "row \(h)") }
            else { XCTAssertTrue(grads.contains { $0 != 0 }, "row \(h)") }
        }
        // The same as the criterion on the reduced problem written out.
        let open = (0..<k).filter { !accepted[$0] }
        let reduced = try step.setCriterion(
            boxes: [open.flatMap { boxes[($0 * 4)..<($0 * 4 + 4)] }],
            logits: [open.flatMap { logits[($0 * per)..<($0 * per + per)] }],
            targets: [ImageTargets(boxes: [truth[1], truth[3]], classes: [1, 0])], imageSize: (s, s), ranks: [open],
            normaliser: first.normaliser)
        XCTAssertEqual(out.total, reduced.total, accuracy: 1e-12)
    }

    /// The whole network's gradient with both stages against central differences of the training loss (dense terms,
    /// both stages; queries, both assignments and the second stage's inputs from the first, which carry no gradient,
    /// held fixed).
    func testGradientsMatchFiniteDifferences() throws {
        let b = DetectorFixtures.randomBatch(config: DetectorFixtures.tinyConfig(), n: 2, seed: 4)
        let (c, _) = try Self.configuration(images: b.images, seed: 3)
        let d = try Detector(config: c, seed: 3)
        // The second stage's output layers start near zero; larger weights let its gradient reach the first stage.
        var g = SeededGenerator(seed: 5)
        for p in d.parameters where p.name == "set.stage2.box.weight" || p.name == "set.stage2.cls.weight" {
            p.value = Tensor(shape: p.value.shape, data: p.value.data.map { _ in 0.5 * g.nextNormal() })
        }
        let step = TrainStep(detector: d, optimizer: SGD(momentum: 0), classWeights: nil)
        step.clipNorm = .infinity
        let report = try step.run(b, learningRate: 0)
        XCTAssertNil(report.skipped)
        for term in ["set.stage2.class", "set.stage2.l1", "set.stage2.giou"] {
            let v = try XCTUnwrap(report.losses.first { $0.name == term }, term).value
            XCTAssertTrue(v.isFinite && v > 0, "\(term) = \(v)")
        }
        XCTAssertFalse(d.progressiveTraining, "the step leaves the detector merging, for evaluation")
        d.pinnedQueries = d.lastQueries
        d.progressiveTraining = true
        defer { d.progressiveTraining = false }
        let out = d.forward(b.images)
        let first = try step.setCriterion(group: 0, of: out, targets: b.targets)
        let second = try step.secondStageCriterion(out.refined!, first: first, targets: b.targets)
        let k = c.hypotheses, per = c.numClasses + 1
        d.querySet!.pinnedFirstStage = (Array(out.setBoxes[..<(2 * k * 4)]),
                                        Tensor(shape: [2 * k, per], data: Array(out.setLogits.data[..<(2 * k * per)])))
        let loss = { () -> Double in
            let o = d.forward(b.images)
            let f = try! step.setCriterion(group: 0, of: o, targets: b.targets, matches: first.matches)
            let s = try! step.secondStageCriterion(o.refined!, first: f, targets: b.targets, matches: second.matches)
            return TrainStepGradientTests.loss(step: step, out: o, batch: b, matches: first.matches) + s.total
        }
        let picks = ["backbone.stem.conv.weight", "set.layer0.attn.q_proj.weight", "set.stage2.mark",
                     "set.stage2.layer.attn.q_proj.weight", "set.stage2.layer.attn.geometry", "set.stage2.box.weight",
                     "set.stage2.cls.bias"]
        try TrainStepGradientTests.checkGradients(of: picks, in: d.parameters, loss: loss, label: "progressive")
    }

    /// With hybrid matching's group after the K queries, the second stage reads the K queries alone: its outputs are
    /// those of a pass without the group, and a training step has both groups' terms.
    func testSecondStageReadsTheQueriesBesideAnotherGroup() throws {
        let b = DetectorFixtures.randomBatch(config: DetectorFixtures.tinyConfig(), n: 2, seed: 4)
        var (c, _) = try Self.configuration(images: b.images, seed: 3)
        c.setOneToMany = 2
        let d = try Detector(config: c, seed: 3)
        d.setTraining(true)
        d.progressiveTraining = true
        let alone = try XCTUnwrap(d.forward(b.images).refined)
        d.oneToManyGroup = true
        let beside = try XCTUnwrap(d.forward(b.images).refined)
        (d.oneToManyGroup, d.progressiveTraining) = (false, false)
        XCTAssertEqual(beside.accepted, alone.accepted)
        for (x, y) in zip(beside.boxes, alone.boxes) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        for (x, y) in zip(beside.logits.data, alone.logits.data) { XCTAssertEqual(x, y, accuracy: 1e-4) }
        let report = try TrainStep(detector: d, optimizer: SGD(momentum: 0), classWeights: nil).run(b, learningRate: 0)
        XCTAssertNil(report.skipped)
        for term in ["set.o2m.class", "set.stage2.class", "set.stage2.giou"] {
            let v = try XCTUnwrap(report.losses.first { $0.name == term }, term).value
            XCTAssertTrue(v.isFinite && v > 0, "\(term) = \(v)")
        }
    }

    /// Off by default and absent from the JSON; read from a config file; a threshold must lie in (0, 1) and needs the
    /// query head; it shapes the network (not an objective key).
    func testSettingIsOptionalAndChecked() throws {
        let reference = DetectorConfig.reference(classes: ["a"])
        XCTAssertNil(reference.setProgressive)
        XCTAssertFalse(reference.jsonString().contains("setProgressive"))
        XCTAssertFalse(DetectorConfig.objectiveKeys.contains("setProgressive"))
        let on = try DetectorConfig.from(json: "{\"setProgressive\": 0.7}", source: "p.json", base: reference)
        XCTAssertEqual(on.setProgressive, 0.7)
        XCTAssertTrue(on.jsonString().contains("setProgressive"), on.jsonString())
        for bad in [0.0, 1.0, -0.2, 1.5] {
            var c = on
            c.setProgressive = bad
            XCTAssertThrowsError(try c.validate()) {
                XCTAssertTrue("\($0)".contains("setProgressive"), "\(bad): \($0)")
            }
        }
        var fc = on
        fc.setHead = .fc
        XCTAssertThrowsError(try fc.validate()) { XCTAssertTrue("\($0)".contains("setProgressive"), "\($0)") }
    }
}
