import Boxes
import Criterion
import DetectorTestSupport
import Foundation
import NeuralNet
import TestSupport
import XCTest
@testable import DetectorModel
@testable import Training

/// Hybrid matching (H-DETR, `DetectorConfig.setOneToMany`): a second group of hypotheses in training, matched to
/// repeated boxes, that neither sees nor changes the K queries.
final class HybridMatchingTests: XCTestCase {
    private func random(_ shape: [Int], _ g: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in g.nextNormal() })
    }

    /// Two groups in one pass give, row for row, what each group gives alone: attention (with its geometry maps)
    /// stays within a group; and the gradients of the pass are the sum of the two alone.
    func testGroupsAttendOnlyWithinThemselves() {
        var g = SeededGenerator(seed: 21)
        let head = QuerySetHead(featureWidth: 4, c4Channels: 4, classes: 2, width: 8, heads: 2, hidden: 16, layers: 2,
                                classPrior: true, geometry: true, generator: &g)
        let features = random([2, 4, 4, 4], &g), c4 = random([2, 4, 2, 2], &g)
        let cells = [[0, 5, 9, 3, 5, 15], [1, 2, 14, 14, 7, 6]], levels = cells.map { $0.map { _ in 0 } }
        let proposals: [Float] = (0..<(12 * 4)).map { (i: Int) -> Float in 0.2 + 0.6 * Float((i * 7) % 11) / 11 }
        let scores: [Float] = (0..<(12 * 2)).map { (i: Int) -> Float in 0.1 + 0.8 * Float((i * 5) % 13) / 13 }
        let both = head.forward(features: [features], c4: c4, levels: levels, cells: cells, strides: [8],
                                proposals: proposals, proposalScores: scores, groups: 2)
        let dBoxes = (0..<(12 * 4)).map { _ in g.nextNormal() }, dLogits = random([12, 3], &g)
        for p in head.parameters { p.grad = Tensor(shape: p.value.shape) }
        let dBoth = head.backward(dBoxes: dBoxes, dLogits: dLogits)
        let bothGrads = head.parameters.map(\.grad.data)
        var aloneFeatures = Tensor(shape: features.shape)
        for p in head.parameters { p.grad = Tensor(shape: p.value.shape) }
        for group in 0..<2 {
            // Rows of image b's group: b·6 + group·3 ..< +3.
            let rows = (0..<2).flatMap { b in (0..<3).map { b * 6 + group * 3 + $0 } }
            let part = (group * 3)..<(group * 3 + 3)
            let alone = head.forward(features: [features], c4: c4, levels: levels.map { Array($0[part]) },
                                     cells: cells.map { Array($0[part]) }, strides: [8],
                                     proposals: rows.flatMap { proposals[($0 * 4)..<($0 * 4 + 4)] },
                                     proposalScores: rows.flatMap { scores[($0 * 2)..<($0 * 2 + 2)] })
            for (i, r) in rows.enumerated() {
                let label = "group \(group) row \(r)"
                for j in 0..<4 { XCTAssertEqual(alone.boxes[i * 4 + j], both.boxes[r * 4 + j], accuracy: 1e-5, label) }
                for j in 0..<3 {
                    XCTAssertEqual(alone.logits.data[i * 3 + j], both.logits.data[r * 3 + j], accuracy: 1e-4, label)
                }
            }
            let partLogits = Tensor(shape: [6, 3], data: rows.flatMap { dLogits.data[($0 * 3)..<($0 * 3 + 3)] })
            let d = head.backward(dBoxes: rows.flatMap { dBoxes[($0 * 4)..<($0 * 4 + 4)] }, dLogits: partLogits)
            aloneFeatures.add(d.dFeatures[0])
        }
        for (p, sum) in zip(head.parameters, bothGrads) {
            for (a, b) in zip(p.grad.data, sum) { XCTAssertEqual(a, b, accuracy: 1e-3 * max(1, abs(b)), p.name) }
        }
        for (a, b) in zip(aloneFeatures.data, dBoth.dFeatures[0].data) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    /// A training forward adds the group of the K best-scoring anchors after the K queries; the queries' outputs are
    /// those of a forward without it, and the training step leaves the detector without it for evaluation.
    func testOneToManyGroupIsTrainingOnly() throws {
        var c = DetectorFixtures.tinyConfig()
        c.querySelection = .nms
        c.queryNMSIoU = 0.1  // neighbouring anchors overlap more: the two groups differ
        c.setClassPrior = true
        c.setGeometry = true
        c.setOneToMany = 2
        let d = try Detector(config: c, seed: 3)
        let b = DetectorFixtures.randomBatch(config: c, n: 2, seed: 4)
        d.setTraining(true)
        let plain = d.forward(b.images)
        XCTAssertEqual(plain.setGroups, 1)
        d.oneToManyGroup = true
        let hybrid = d.forward(b.images)
        d.oneToManyGroup = false
        let k = c.hypotheses, per = c.numClasses + 1
        XCTAssertEqual(hybrid.setGroups, 2)
        XCTAssertEqual(hybrid.setBoxes.count, 2 * 2 * k * 4)
        XCTAssertEqual(hybrid.setLogits.shape, [2 * 2 * k, per])
        let topK = d.selector.topK(logits: plain.denseLogits, k: k)
        for i in 0..<2 {
            XCTAssertEqual(Array(hybrid.selected[i][..<k]), plain.selected[i])
            XCTAssertEqual(Array(hybrid.selected[i][k...]), topK[i])
            XCTAssertNotEqual(plain.selected[i], topK[i], "proposal NMS and top-K should differ")
            for r in 0..<k {
                let (h, p) = ((i * 2 * k) + r, i * k + r)
                for j in 0..<4 { XCTAssertEqual(hybrid.setBoxes[h * 4 + j], plain.setBoxes[p * 4 + j], accuracy: 1e-5) }
                for j in 0..<per {
                    XCTAssertEqual(hybrid.setLogits.data[h * per + j], plain.setLogits.data[p * per + j], accuracy: 1e-4)
                }
            }
        }
        let step = TrainStep(detector: d, optimizer: SGD(momentum: 0), classWeights: nil)
        let report = try step.run(b, learningRate: 0)
        XCTAssertNil(report.skipped)
        for term in ["set.o2m.class", "set.o2m.l1", "set.o2m.giou"] {
            let v = try XCTUnwrap(report.losses.first { $0.name == term }, term).value
            XCTAssertTrue(v.isFinite && v > 0, "\(term) = \(v)")
        }
        // The progress line tells the groups' terms apart.
        XCTAssertEqual(LogHook.shortName("set.o2m.class"), "o2m.class")
        XCTAssertEqual(LogHook.shortName("dense.focal"), "focal")
        XCTAssertFalse(d.oneToManyGroup)
        XCTAssertEqual(d.forward(b.images).setGroups, 1)
        // Without the setting the step adds no group and no terms.
        c.setOneToMany = nil
        let off = TrainStep(detector: try Detector(config: c, seed: 3), optimizer: SGD(momentum: 0), classWeights: nil)
        XCTAssertFalse(try off.run(b, learningRate: 0).losses.contains { $0.name.hasPrefix("set.o2m") })
    }

    /// The one-to-many targets repeat every box (ignore flags too) as often as asked, as often as K hypotheses can
    /// take them all when fewer, and at least once.
    func testBoxesRepeatWithinTheHypotheses() {
        let boxes = [Box(x1: 0, y1: 0, x2: 5, y2: 5), Box(x1: 10, y1: 10, x2: 20, y2: 18),
                     Box(x1: 30, y1: 2, x2: 40, y2: 9)]
        let t = ImageTargets(boxes: boxes, classes: [0, 1, 0], ignore: [false, false, true])
        let three = TrainStep.repeated(t, 3, within: 12)  // two active boxes: 12 / 2 = 6 ≥ 3
        XCTAssertEqual(three.boxes, boxes + boxes + boxes)
        XCTAssertEqual(three.classes, [0, 1, 0, 0, 1, 0, 0, 1, 0])
        XCTAssertEqual(three.ignore, [false, false, true, false, false, true, false, false, true])
        XCTAssertEqual(TrainStep.repeated(t, 9, within: 12).boxes.count, 6 * 3)  // capped at 12 / 2 = 6
        XCTAssertEqual(TrainStep.repeated(t, 3, within: 3), t)  // 3 / 2 = 1: once
        XCTAssertEqual(TrainStep.repeated(.empty, 3, within: 12), .empty)
    }

    /// The whole network's gradient with both groups against central differences of the training loss (dense, set
    /// and one-to-many terms, queries and both assignments held fixed).
    func testGradientsMatchFiniteDifferences() throws {
        var c = DetectorFixtures.tinyConfig()
        c.setClassPrior = true
        c.setGeometry = true
        c.setOneToMany = 2
        let d = try Detector(config: c, seed: 3)
        let b = DetectorFixtures.randomBatch(config: c, n: 2, seed: 4)
        let step = TrainStep(detector: d, optimizer: SGD(momentum: 0), classWeights: nil)
        step.clipNorm = .infinity
        XCTAssertNil(try step.run(b, learningRate: 0).skipped)
        d.pinnedQueries = d.lastQueries
        d.oneToManyGroup = true
        defer { d.oneToManyGroup = false }
        let matches = try Self.matches(step: step, batch: b, repeats: 2)
        let loss = { Self.loss(step: step, batch: b, repeats: 2, matches: matches, denoising: nil) }
        let picks = ["backbone.stem.conv.weight", "dense.cls.bias", "set.layer0.attn.q_proj.weight", "set.box.weight",
                     "set.cls.bias", "set.layer0.attn.geometry"]
        try TrainStepGradientTests.checkGradients(of: picks, in: d.parameters, loss: loss, label: "hybrid")
    }

    /// The assignments of the K queries and of the one-to-many group (boxes repeated `repeats` times) in a forward
    /// pass of `step`'s detector on `b`.
    static func matches(step: TrainStep, batch b: TrainingBatch, repeats: Int) throws -> [[[SetMatch]]] {
        let out = step.detector.forward(b.images), k = step.detector.config.hypotheses
        let repeated = b.targets.map { TrainStep.repeated($0, repeats, within: k) }
        return try (0..<2).map { g in
            try step.setCriterion(group: g, of: out, targets: g == 0 ? b.targets : repeated).matches
        }
    }

    /// The training loss of a forward pass of `step`'s detector on `b` with the set assignments held to `matches`:
    /// dense terms, the K queries, the one-to-many group and, when given, the denoising group (its third group).
    static func loss(step: TrainStep, batch b: TrainingBatch, repeats: Int, matches: [[[SetMatch]]],
                     denoising: Denoising.Group?) -> Double {
        let d = step.detector, out = d.forward(b.images)
        let n = b.targets.count, a = out.denseLogits.shape[1], cl = d.config.numClasses
        let logits = (0..<n).map { Array(out.denseLogits.data[($0 * a * cl)..<(($0 + 1) * a * cl)]) }
        let deltas = (0..<n).map { Array(out.denseDeltas.data[($0 * a * 4)..<(($0 + 1) * a * 4)]) }
        var total = (try! step.denseCriterion(anchors: d.anchors, logits: logits, deltas: deltas,
                                              targets: b.targets)).total
        let repeated = b.targets.map { TrainStep.repeated($0, repeats, within: d.config.hypotheses) }
        for g in 0..<2 {
            let targets = g == 0 ? b.targets : repeated
            total += (try! step.setCriterion(group: g, of: out, targets: targets, matches: matches[g])).total
        }
        if let denoising {
            total += (try! step.setCriterion(group: 2, of: out, targets: b.targets, matches: denoising.matches,
                                             normaliser: Double(denoising.positives))).total
        }
        return total
    }

    /// The key is off (nil) by default and absent from the JSON; a config file turns it on; it must be at least 1
    /// and needs the query head; a resumed run may change it.
    func testSettingIsOptionalAndChecked() throws {
        try Self.checkOptionalSetting(\.setOneToMany, named: "setOneToMany", on: 3, bad: [0, -1])
    }

    /// A training-only group's setting: absent from the reference configuration and its JSON, an objective key, read
    /// from a config file, and refused at each of `bad` and with the fc set head, the error naming the key.
    static func checkOptionalSetting<T: Equatable>(_ key: WritableKeyPath<DetectorConfig, T?>, named name: String,
                                                   on value: T, bad: [T]) throws {
        let reference = DetectorConfig.reference(classes: ["a"])
        XCTAssertNil(reference[keyPath: key])
        XCTAssertFalse(reference.jsonString().contains(name))
        XCTAssertTrue(DetectorConfig.objectiveKeys.contains(name))
        let on = try DetectorConfig.from(json: "{\"\(name)\": \(value)}", source: "\(name).json", base: reference)
        XCTAssertEqual(on[keyPath: key], value)
        for b in bad {
            var c = reference
            c[keyPath: key] = b
            XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains(name), "\(b): \($0)") }
        }
        var fc = on
        fc.setHead = .fc
        XCTAssertThrowsError(try fc.validate()) { XCTAssertTrue("\($0)".contains(name), "\($0)") }
    }
}
