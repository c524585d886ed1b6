import Boxes
import Criterion
import DetectorTestSupport
import Foundation
import NeuralNet
import XCTest
@testable import DetectorModel
@testable import Training

/// Denoising queries (DN-DETR with DINO's negatives, `DetectorConfig.setDenoising`): noised copies of the boxes as a
/// training-only group of the set head, positives held to their box and negatives to no-object.
final class DenoisingTests: XCTestCase {
    private let boxes = [Box(x1: 10, y1: 10, x2: 30, y2: 20), Box(x1: 40, y1: 5, x2: 52, y2: 35),
                         Box(x1: 0, y1: 0, x2: 8, y2: 8)]

    /// How far each corner of `copy` moved from `box`, as a share of half the box's side.
    private func moves(_ copy: Box, _ box: Box) -> [Double] {
        [abs(copy.x1 - box.x1) / (box.width / 2), abs(copy.y1 - box.y1) / (box.height / 2),
         abs(copy.x2 - box.x2) / (box.width / 2), abs(copy.y2 - box.y2) / (box.height / 2)]
    }

    /// A tiny network with the one-to-many (repeats 2) and denoising (λ 0.4) groups, and a batch of two images.
    private func threeGroups() throws -> (DetectorConfig, Detector, TrainingBatch) {
        var c = DetectorFixtures.tinyConfig()
        c.setClassPrior = true
        c.setGeometry = true
        c.setOneToMany = 2
        c.setDenoising = 0.4
        return (c, try Detector(config: c, seed: 3), DetectorFixtures.randomBatch(config: c, n: 2, seed: 4))
    }

    /// Tokens cycle over the active boxes; even copies are positives (matched to their box, corners moved by less
    /// than λ), odd ones negatives (moved by λ to 2λ, unmatched); the same targets give the same copies.
    func testCopiesArePositivesAndNegatives() {
        let t = ImageTargets(boxes: boxes, classes: [0, 1, 0], ignore: [false, false, true])
        let group = Denoising.group([t], k: 12, noise: 0.4, height: 64, width: 64)
        XCTAssertEqual(group.boxes[0].count, 12)
        XCTAssertEqual(group.matches[0], [0, 1, 4, 5, 8, 9].map { SetMatch(hypothesis: $0, box: $0 % 2) })
        XCTAssertEqual(group.positives, 6)
        for (token, copy) in group.boxes[0].enumerated() {
            let box = boxes[token % 2], moved = moves(copy, box)
            if (token / 2) % 2 == 0 {
                XCTAssertTrue(moved.allSatisfy { $0 < 0.4 + 1e-9 }, "positive \(token): \(moved)")
            } else {
                XCTAssertTrue(moved.allSatisfy { $0 >= 0.4 - 1e-9 && $0 < 0.8 + 1e-9 }, "negative \(token): \(moved)")
            }
        }
        XCTAssertEqual(Denoising.group([t], k: 12, noise: 0.4, height: 64, width: 64), group)
        var other = t
        other.boxes[0].x1 = 11
        let moved = Denoising.group([other], k: 12, noise: 0.4, height: 64, width: 64)
        XCTAssertNotEqual(moved.boxes[0][1], group.boxes[0][1])
    }

    /// One box gets at most `positivesPerBox` positives; an image without boxes gets K unmatched negatives.
    func testPositivesAreCappedAndEmptyImagesGetNegatives() {
        let one = ImageTargets(boxes: [boxes[0]], classes: [1])
        let group = Denoising.group([one, .empty], k: 20, noise: 0.5, height: 48, width: 64)
        XCTAssertEqual(group.matches[0].map(\.hypothesis), [0, 2, 4, 6, 8])
        XCTAssertEqual(group.matches[1], [])
        XCTAssertEqual(group.boxes[1].count, 20)
        for b in group.boxes[1] {
            XCTAssertTrue(b.cx >= 0 && b.cx <= 64 && b.cy >= 0 && b.cy <= 48, "\(b)")
            XCTAssertTrue(b.width >= 0.05 * 48 - 1e-9 && b.width <= 0.25 * 48 + 1e-9, "\(b)")
        }
    }

    /// A training forward with the group: it comes last (after the one-to-many group), each token reads the anchor
    /// under its box, the K queries' outputs are unchanged, and the step reports the group's terms and leaves the
    /// detector without it.
    func testGroupFollowsTheQueriesInTrainingOnly() throws {
        let (c, d, b) = try threeGroups()
        let k = c.hypotheses, per = c.numClasses + 1
        let group = Denoising.group(b.targets, k: k, noise: 0.4, height: 64, width: 64)
        d.setTraining(true)
        let plain = d.forward(b.images)
        (d.oneToManyGroup, d.denoisingBoxes) = (true, group.boxes)
        let all = d.forward(b.images)
        (d.oneToManyGroup, d.denoisingBoxes) = (false, nil)
        XCTAssertEqual(all.setGroups, 3)
        XCTAssertEqual(all.setLogits.shape, [2 * 3 * k, per])
        for i in 0..<2 {
            let tokens = Array(all.selected[i][(2 * k)...])
            XCTAssertEqual(tokens, group.boxes[i].map { d.anchorUnder($0.clipped(width: 64, height: 64)) })
            for r in 0..<k {
                let (h, p) = (i * 3 * k + r, i * k + r)
                for j in 0..<per {
                    XCTAssertEqual(all.setLogits.data[h * per + j], plain.setLogits.data[p * per + j], accuracy: 1e-4)
                }
            }
        }
        // An anchor is the anchor under itself.
        for i in [0, 17, d.anchors.count - 1] { XCTAssertEqual(d.anchorUnder(d.anchors[i]), i) }
        let report = try TrainStep(detector: d, optimizer: SGD(momentum: 0), classWeights: nil).run(b, learningRate: 0)
        XCTAssertNil(report.skipped)
        XCTAssertEqual(report.losses.map(\.name).filter { $0.hasPrefix("set.") },
                       ["set.class", "set.l1", "set.giou", "set.o2m.class", "set.o2m.l1", "set.o2m.giou",
                        "set.dn.class", "set.dn.l1", "set.dn.giou"])
        XCTAssertTrue(report.losses.allSatisfy { $0.value.isFinite })
        XCTAssertNil(d.denoisingBoxes)
        XCTAssertEqual(d.forward(b.images).setGroups, 1)
    }

    /// The whole network's gradient with the three groups against central differences of the training loss (the
    /// denoising group held to its pairs and divided by its positives).
    func testGradientsMatchFiniteDifferences() throws {
        let (c, d, b) = try threeGroups()
        let step = TrainStep(detector: d, optimizer: SGD(momentum: 0), classWeights: nil)
        step.clipNorm = .infinity
        XCTAssertNil(try step.run(b, learningRate: 0).skipped)
        let group = Denoising.group(b.targets, k: c.hypotheses, noise: 0.4, height: 64, width: 64)
        d.pinnedQueries = d.lastQueries
        (d.oneToManyGroup, d.denoisingBoxes) = (true, group.boxes)
        defer { (d.oneToManyGroup, d.denoisingBoxes) = (false, nil) }
        let matches = try HybridMatchingTests.matches(step: step, batch: b, repeats: 2)
        let loss = { HybridMatchingTests.loss(step: step, batch: b, repeats: 2, matches: matches, denoising: group) }
        let picks = ["backbone.stem.conv.weight", "dense.cls.bias", "set.layer0.attn.q_proj.weight", "set.box.weight",
                     "set.cls.bias", "set.layer0.attn.geometry", "set.lateral.weight"]
        // Steps of 1e-3: the stem's loss curves enough over 1e-2 that its central difference is 7 % off there
        // (it converges to the analytic value as the step shrinks).
        try TrainStepGradientTests.checkGradients(of: picks, in: d.parameters, loss: loss, label: "denoising",
                                                  step: 1e-3)
    }

    /// The key is off (nil) by default and absent from the JSON; it must be in (0, 1] and needs the query head; a
    /// resumed run may change it.
    func testSettingIsOptionalAndChecked() throws {
        try HybridMatchingTests.checkOptionalSetting(\.setDenoising, named: "setDenoising", on: 0.4,
                                                     bad: [0, 1.5, -0.1, .nan])
    }
}
