import DetectorModel
import DetectorTestSupport
import Foundation
import NeuralNet
import TestSupport
import XCTest
@testable import Training

/// The exponential moving average of the weights: ultralytics' formula, applied after every step, used for
/// validation and `best.safetensors`, saved in `last.safetensors` and continued exactly by `--resume`.
final class WeightAverageTests: XCTestCase {
    /// Two updates by hand: v₁ = d₁·w₀ + (1 − d₁)·w₁ with d_u = 0.9999·(1 − exp(−u/2000)), then v₂ likewise; the
    /// BatchNorm running statistics are averaged too.
    func testUpdatesFollowTheRampedDecay() throws {
        let detector = try Detector(config: DetectorFixtures.tinyConfig(), seed: 1)
        let average = try WeightAverage(of: detector, decay: 0.9999, tau: 2000)
        let w0 = detector.parameters.map(\.value.data)
        XCTAssertEqual(average.decay(at: 1), 0.9999 * (1 - exp(-1.0 / 2000)))
        var expected = w0
        for u in 1...2 {
            for p in detector.parameters { for i in p.value.data.indices { p.value.data[i] += Float(u) * 0.01 } }
            let bn = detector.batchNorms[0]
            let (name, mean) = bn.buffers[0]
            XCTAssertTrue(bn.setBuffer(name, Tensor(shape: mean.shape, data: mean.data.map { $0 + 1 })))
            average.update(from: detector)
            let d = Float(average.decay(at: u))
            for (k, p) in detector.parameters.enumerated() {
                for i in expected[k].indices { expected[k][i] = d * expected[k][i] + (1 - d) * p.value.data[i] }
            }
        }
        XCTAssertEqual(average.updates, 2)
        for (k, p) in average.averaged.parameters.enumerated() { XCTAssertEqual(p.value.data, expected[k], p.name) }
        let averagedMean = average.averaged.batchNorms[0].buffers[0].1.data[0]
        let trainedMean = detector.batchNorms[0].buffers[0].1.data[0]
        XCTAssertTrue(averagedMean < trainedMean && averagedMean > trainedMean - 2, "the running mean is averaged")
        XCTAssertEqual(average.tensors.count, detector.parameters.count + detector.batchNorms.reduce(0) { $0 + $1.buffers.count })
    }

    /// A run keeps the average beside the trained weights in `last.safetensors` (`ema.` tensors, update count = steps),
    /// validates it (`best.safetensors` holds it) and a run stopped and resumed ends with the same average as an
    /// uninterrupted one; `emaDecay` 0 keeps none.
    func testAverageIsUsedSavedAndResumed() throws {
        let dir = try Fixtures.temporaryDirectory()
        let config = try DetectorFixtures.smallConfigFile(in: dir)
        var full = DetectorFixtures.sampleTrainOptions(out: dir.appendingPathComponent("full"), config: config)
        full.training.set(.epochs, \.epochs, 2)                   // 4 steps per epoch
        full.training.set(.emaTau, \.emaTau, 3)                   // a short ramp, so the average differs from the weights
        XCTAssertEqual(try Trainer(options: full).run().steps, 8)
        let last = try Checkpoint.load(full.out.appendingPathComponent("last.safetensors"))
        XCTAssertTrue(try XCTUnwrap(last.metadata["ema"]).contains("\"updates\":8"), "\(last.metadata["ema"] ?? "")")
        let averaged = try Checkpoint.load(full.out.appendingPathComponent("last.safetensors"), averaged: true)
        let best = try Checkpoint.load(full.out.appendingPathComponent("best.safetensors"))
        var differs = false
        for ((a, b), t) in zip(zip(averaged.detector.parameters, best.detector.parameters), last.detector.parameters) {
            XCTAssertEqual(a.value.data, b.value.data, "best.safetensors holds the average: \(a.name)")
            XCTAssertEqual(last.averagedState[a.name]?.data, a.value.data)
            differs = differs || a.value.data != t.value.data
        }
        XCTAssertTrue(differs, "the average is not the trained weights")

        var first = full
        first.out = dir.appendingPathComponent("part")
        first.val = nil
        first.maxSteps = 5
        _ = try Trainer(options: first).run()
        var second = first
        second.maxSteps = nil
        second.resume = first.out.appendingPathComponent("last.safetensors")
        XCTAssertEqual(try Trainer(options: second).run().steps, 8)
        let resumed = try Checkpoint.load(first.out.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(resumed.metadata["ema"], last.metadata["ema"])
        for p in last.detector.parameters { XCTAssertEqual(resumed.averagedState[p.name]?.data, last.averagedState[p.name]?.data, p.name) }

        var off = full
        off.out = dir.appendingPathComponent("off")
        off.val = nil
        off.maxSteps = 2
        off.training.set(.emaDecay, \.emaDecay, 0)
        _ = try Trainer(options: off).run()
        let plain = try Checkpoint.load(off.out.appendingPathComponent("last.safetensors"))
        XCTAssertTrue(plain.averagedState.isEmpty)
        XCTAssertNil(plain.metadata["ema"])
    }

    /// Settings stored by a version without the average decode with its defaults; bad values name the key.
    func testSettingsDecodeWithoutTheAverageKeys() throws {
        let old = #"{"augment":true,"batchSize":8,"clipNorm":10,"evalEvery":1,"learningRate":0.002,"seed":3,"warmupSteps":100,"weightDecay":0.0001}"#
        let s = try JSONDecoder().decode(TrainSettings.self, from: Data(old.utf8))
        XCTAssertEqual(s.batchSize, 8)
        XCTAssertEqual(s.emaDecay, 0.998)
        XCTAssertEqual(s.emaTau, 200)
        var bad = TrainSettings()
        bad.emaDecay = 1
        XCTAssertThrowsError(try bad.validate()) { XCTAssertEqual(($0 as? TrainingError)?.settingKey, "emaDecay") }
    }
}
