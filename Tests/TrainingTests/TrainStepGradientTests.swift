import Boxes
import Criterion
import NeuralNet
import XCTest
import DetectorModel
import DetectorTestSupport
import Inference
@testable import Training

final class TrainStepGradientTests: XCTestCase {
    func testForwardShapes() throws {
        let c = DetectorFixtures.tinyConfig()
        let d = try Detector(config: c, seed: 1)
        let b = DetectorFixtures.randomBatch(config: c, n: 2, seed: 2)
        let out = d.forward(b.images)
        let anchors = (c.inputSize / 8) * (c.inputSize / 8) * c.anchorsPerLocation
        XCTAssertEqual(out.denseLogits.shape, [2, anchors, 2])
        XCTAssertEqual(out.denseDeltas.shape, [2, anchors, 4])
        XCTAssertEqual(out.setBoxes.count, 2 * 12 * 4)
        XCTAssertEqual(out.setLogits.shape, [24, 3])
        XCTAssertEqual(d.anchors.count, anchors)
        XCTAssertTrue(out.setBoxes.allSatisfy { $0 > 0 && $0 < 1 })
        // Selected anchors are the best-scoring ones, best first.
        for (i, sel) in out.selected.enumerated() {
            let best = { (a: Int) -> Float in (0..<2).map { out.denseLogits.data[(i * anchors + a) * 2 + $0] }.max()! }
            XCTAssertEqual(Set(sel).count, sel.count)
            for j in 1..<sel.count { XCTAssertGreaterThanOrEqual(best(sel[j - 1]), best(sel[j])) }
        }
    }

    /// The whole network's analytic gradient against central differences of the training loss, for a few
    /// parameters of every part (backbone, dense head, set head), with BatchNorm in training mode.
    func testGradientsMatchFiniteDifferences() throws {
        for (head, prior, geometry, fine) in [(DetectorConfig.SetHeadKind.query, false, false, false), (.query, true, true, false),
                                              (.query, true, true, true), (.fc, false, false, false)] {
            var c = DetectorFixtures.tinyConfig(setHead: head)
            c.setClassPrior = prior
            c.setGeometry = geometry
            c.setFineFeatures = fine
            let d = try Detector(config: c, seed: 3)
            let b = DetectorFixtures.randomBatch(config: c, n: 2, seed: 4)
            let step = TrainStep(detector: d, optimizer: SGD(momentum: 0), classWeights: nil)
            // Learning rate 0: the step computes gradients and leaves the weights unchanged.
            step.clipNorm = .infinity
            let report = try step.run(b, learningRate: 0)
            XCTAssertNil(report.skipped)
            // Hold fixed what carries no gradient by design: the query selection with its dense boxes and scores,
            // and the set assignment.
            d.pinnedQueries = d.lastQueries
            let matches = Self.matches(step: step, out: d.forward(b.images), batch: b)
            let loss = { () -> Double in
                let out = d.forward(b.images)
                return Self.loss(step: step, out: out, batch: b, matches: matches)
            }
            let params = d.parameters
            let picks = ["backbone.stem.conv.weight", "backbone.stage2.block0.conv2.bn.weight", "dense.cls.bias",
                         "dense.box.weight", head == .query ? "set.layer0.attn.q_proj.weight" : "set.fc1.weight",
                         head == .query ? "set.box.weight" : "set.fc2.bias", head == .query ? "set.lateral.weight" : "set.reduce.weight"]
                + (geometry ? ["set.layer0.attn.geometry"] : [])
                // Stage 1's output reaches the loss through stage 2 and, with fine features, through the set head.
                + (fine ? ["backbone.stage1.down.conv.weight", "set.embed1.weight"] : [])
            try Self.checkGradients(of: picks, in: params, loss: loss, label: "\(head) prior \(prior) fine \(fine)")
        }
    }

    /// Central differences of `loss` (steps of `step`) at the first, middle and last element of each parameter named
    /// in `picks` against the gradients already accumulated in `params`.
    static func checkGradients(of picks: [String], in params: [Parameter], loss: () -> Double, label: String,
                               step: Float = 1e-2) throws {
        for name in picks {
            let p = try XCTUnwrap(params.first { $0.name == name }, name)
            for idx in [0, p.value.count / 2, p.value.count - 1] {
                let analytic = Double(p.grad.data[idx])
                let numeric = CentralDifference.derivative(of: loss, at: p, index: idx, step: step)
                // Float32 forward and central differences across ReLU kinks: a few per cent of slack; a wrong
                // backward is off by far more (tens of per cent or a sign).
                XCTAssertEqual(analytic, numeric, accuracy: 4e-2 * max(1, abs(numeric)) + 2e-3, "\(label) \(name)[\(idx)]")
            }
        }
    }

    static func loss(step: TrainStep, out: DetectorOutput, batch b: TrainingBatch, matches: [[SetMatch]]?) -> Double {
        let c = step.detector.config
        let n = b.images.shape[0], a = out.denseLogits.shape[1], cl = c.numClasses
        let logits = (0..<n).map { Array(out.denseLogits.data[($0 * a * cl)..<(($0 + 1) * a * cl)]) }
        let deltas = (0..<n).map { Array(out.denseDeltas.data[($0 * a * 4)..<(($0 + 1) * a * 4)]) }
        var total = (try! step.denseCriterion(anchors: step.detector.anchors, logits: logits, deltas: deltas, targets: b.targets)).total
        let k = out.hypotheses, per = cl + 1
        let boxes = (0..<n).map { Array(out.setBoxes[($0 * k * 4)..<(($0 + 1) * k * 4)]) }
        let sl = (0..<n).map { Array(out.setLogits.data[($0 * k * per)..<(($0 + 1) * k * per)]) }
        let s = Double(c.inputSize)
        total += (try! step.setCriterion(boxes: boxes, logits: sl, targets: b.targets, imageSize: (s, s),
                                         ranks: (0..<n).map { _ in Array(0..<k) }, matches: matches)).total
        return total
    }

    static func matches(step: TrainStep, out: DetectorOutput, batch b: TrainingBatch) -> [[SetMatch]] {
        let c = step.detector.config
        let n = b.images.shape[0], k = out.hypotheses, per = c.numClasses + 1, s = Double(c.inputSize)
        let boxes = (0..<n).map { Array(out.setBoxes[($0 * k * 4)..<(($0 + 1) * k * 4)]) }
        let sl = (0..<n).map { Array(out.setLogits.data[($0 * k * per)..<(($0 + 1) * k * per)]) }
        return (try! step.setCriterion(boxes: boxes, logits: sl, targets: b.targets, imageSize: (s, s),
                                       ranks: (0..<n).map { _ in Array(0..<k) })).matches
    }

    /// A tiny network overfits one fixed batch: the training loss falls by at least 10×.
    func testOverfitsFixedBatch() throws {
        try Self.assertOverfitsFixedBatch(DetectorFixtures.tinyConfig())
    }

    /// A network of `c` trained 300 steps on one fixed batch of 2 (of `height × width`, default the square input): the
    /// loss falls by at least 10×.
    static func assertOverfitsFixedBatch(_ c: DetectorConfig, height: Int? = nil, width: Int? = nil) throws {
        let d = try Detector(config: c, seed: 5)
        let b = DetectorFixtures.randomBatch(config: c, n: 2, seed: 6, height: height, width: width)
        let step = TrainStep(detector: d, optimizer: AdamW(weightDecay: 0), classWeights: nil)
        let first = try step.run(b, learningRate: 3e-3).total
        var last = first
        for _ in 0..<300 { last = try step.run(b, learningRate: 3e-3).total }
        XCTAssertLessThan(last, first / 10, "loss \(first) → \(last)")
    }
}
