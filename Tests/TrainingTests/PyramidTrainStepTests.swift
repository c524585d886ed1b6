import Boxes
import Criterion
import NeuralNet
import XCTest
import DetectorModel
import DetectorTestSupport
@testable import Training

/// The whole network on a feature pyramid: gradients against finite differences and a fixed batch overfitted.
final class PyramidTrainStepTests: XCTestCase {
    /// The tiny configuration on a pyramid, ATSS positives (per level) and proposal-NMS queries.
    static func config(strides: [Int]) -> DetectorConfig {
        var c = DetectorFixtures.tinyConfig()
        c.pyramidStrides = strides
        c.denseAssignment = .atss
        c.querySelection = .nms
        return c
    }

    /// As `TrainStepGradientTests.testGradientsMatchFiniteDifferences`, with parameters of every pyramid level: the
    /// neck's laterals and outputs, the shared head's convolutions and its per-level BatchNorms.
    func testPyramidGradientsMatchFiniteDifferences() throws {
        for strides in [[4, 8, 16], [8, 16]] {
            let c = Self.config(strides: strides)
            let d = try Detector(config: c, seed: 3)
            let b = DetectorFixtures.randomBatch(config: c, n: 2, seed: 4)
            let step = TrainStep(detector: d, optimizer: SGD(momentum: 0), classWeights: nil)
            step.clipNorm = .infinity
            let report = try step.run(b, learningRate: 0)
            XCTAssertNil(report.skipped)
            // The queries must come from more than one level for the set head's gather to be exercised across levels.
            let levels = Set(d.locate(try XCTUnwrap(d.lastQueries).selected).levels.joined())
            XCTAssertGreaterThan(levels.count, 1, "\(strides): queries from levels \(levels)")
            d.pinnedQueries = d.lastQueries
            let matches = TrainStepGradientTests.matches(step: step, out: d.forward(b.images), batch: b)
            let loss = { TrainStepGradientTests.loss(step: step, out: d.forward(b.images), batch: b, matches: matches) }
            let (fine, coarse) = (strides[0], strides[strides.count - 1])
            let picks = ["backbone.stem.conv.weight", "backbone.stage1.block0.conv2.conv.weight", "backbone.stage3.down.conv.weight",
                         "fpn.lateral\(fine).weight", "fpn.lateral\(coarse).bias", "fpn.output\(fine).conv.weight",
                         "fpn.output\(coarse).bn.weight", "dense.conv0.conv.weight", "dense.conv1.bn\(fine).bias",
                         "dense.conv1.bn\(coarse).weight", "dense.cls.bias", "dense.box.weight", "set.lateral.weight",
                         "set.embed1.weight", "set.box.weight"]
            try TrainStepGradientTests.checkGradients(of: picks, in: d.parameters, loss: loss, label: "\(strides)")
        }
    }

    /// A pyramid network overfits one fixed batch: the training loss falls by at least 10×.
    func testPyramidOverfitsFixedBatch() throws {
        try TrainStepGradientTests.assertOverfitsFixedBatch(Self.config(strides: [4, 8, 16]))
    }
}
