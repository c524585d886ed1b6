import Criterion
import DetectorModel
import DetectorTestSupport
import NeuralNet
import XCTest
@testable import Training

/// Training steps on rectangular batches (`DetectorConfig.rectangular`): gradients against central differences and a
/// fixed batch overfitted.
final class RectangularTrainStepTests: XCTestCase {
    static func config(strides: [Int] = [8], assignment: DetectorConfig.DenseAssignmentKind = .maxIoU,
                       selection: DetectorConfig.QuerySelectionKind = .topK) -> DetectorConfig {
        var c = DetectorFixtures.tinyConfig()
        c.rectangular = true
        c.pyramidStrides = strides
        c.denseAssignment = assignment
        c.querySelection = selection
        return c
    }

    /// The whole network's gradient on 32×64 batches: one level (ATSS, 3×3 peaks on the 4×8 grid; proposal NMS) and a
    /// pyramid of strides 8 and 16 (its neck, the per-level gathers and the stride-16 lateral). On the pyramid the set
    /// box layer's first weights sit on kinks of the L1 cost at some seeds, on the square 64² input too (seed 5), so
    /// the pyramid case checks the set head through its embedding and lateral instead.
    func testGradientsMatchFiniteDifferencesOnARectangle() throws {
        let setPicks = ["set.layer0.attn.q_proj.weight", "set.lateral.weight", "set.embed1.weight"]
        let cases: [(DetectorConfig, UInt64, [String])] = [
            (Self.config(assignment: .atss, selection: .peaks), 4,
             ["backbone.stem.conv.weight", "backbone.stage3.block0.conv1.bn.weight", "dense.cls.bias", "dense.box.weight",
              "set.box.weight"] + setPicks),
            (Self.config(assignment: .atss, selection: .nms), 5, ["backbone.stage2.down.conv.weight", "dense.box.weight"] + setPicks),
            (Self.config(strides: [8, 16], assignment: .atss, selection: .nms), 4,
             ["backbone.stem.conv.weight", "fpn.lateral8.weight", "fpn.output16.conv.weight", "dense.conv1.bn16.weight",
              "dense.cls.bias", "dense.box.weight"] + setPicks),
        ]
        for (c, seed, picks) in cases {
            let d = try Detector(config: c, seed: 3)
            let b = DetectorFixtures.randomBatch(config: c, n: 2, seed: seed, height: 32, width: 64)
            let step = TrainStep(detector: d, optimizer: SGD(momentum: 0), classWeights: nil)
            step.clipNorm = .infinity
            let report = try step.run(b, learningRate: 0)
            XCTAssertNil(report.skipped)
            XCTAssertGreaterThan(report.positives, 0)
            d.pinnedQueries = d.lastQueries
            let matches = TrainStepGradientTests.matches(step: step, out: d.forward(b.images), batch: b)
            let loss = { () -> Double in
                TrainStepGradientTests.loss(step: step, out: d.forward(b.images), batch: b, matches: matches)
            }
            try TrainStepGradientTests.checkGradients(of: picks, in: d.parameters, loss: loss,
                                                      label: "rect \(c.pyramidStrides) \(c.querySelection) seed \(seed)")
        }
    }

    func testOverfitsAFixedRectangularBatch() throws {
        try TrainStepGradientTests.assertOverfitsFixedBatch(Self.config(), height: 32, width: 64)
    }

    /// Batches of different shapes one after another: the anchors, the ATSS level counts and backward follow each.
    func testStepsAlternateBetweenShapes() throws {
        let c = Self.config(strides: [8, 16], assignment: .atss, selection: .nms)
        let d = try Detector(config: c, seed: 8)
        let step = TrainStep(detector: d, optimizer: AdamW(weightDecay: 0), classWeights: nil)
        for (i, (h, w)) in [(32, 64), (64, 64), (64, 32), (48, 64)].enumerated() {
            let b = DetectorFixtures.randomBatch(config: c, n: 2, seed: UInt64(10 + i), height: h, width: w)
            let report = try step.run(b, learningRate: 1e-3)
            XCTAssertNil(report.skipped, "\(h)×\(w)")
            XCTAssertTrue(report.total.isFinite)
            XCTAssertEqual(d.anchors.count, c.levelAnchorCounts(height: h, width: w).reduce(0, +))
        }
    }
}
