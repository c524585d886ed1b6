import DetectorModel
import DetectorTestSupport
import Foundation
import TestSupport
import XCTest
@testable import Inference

/// A checkpoint applied at another input side than it was trained at (`InferenceInput`, `--input-size` of
/// `detector evaluate` and `detector detect`).
final class InferenceInputTests: XCTestCase {
    /// The same weights at the side asked for; the trained side is reported; no side or the trained one loads as is.
    func testSameWeightsAtAnotherSide() throws {
        let url = try DetectorFixtures.tinyCheckpoint(in: try Fixtures.temporaryDirectory())
        let (plain, trained, plainSource) = try InferenceInput.load(url, inputSize: nil)
        XCTAssertEqual(trained, plain.detector.config.inputSize)
        XCTAssertEqual(plainSource, .trained)
        let (larger, trainedToo, source) = try InferenceInput.load(url, inputSize: trained + 32)
        XCTAssertEqual(trainedToo, trained)
        XCTAssertEqual(source, .given)
        XCTAssertEqual(larger.detector.config.inputSize, trained + 32)
        XCTAssertEqual(larger.detector.anchors.count, plain.detector.anchors.count * (trained + 32) * (trained + 32) / (trained * trained))
        for (a, b) in zip(plain.detector.parameters, larger.detector.parameters) {
            XCTAssertEqual(a.name, b.name)
            XCTAssertEqual(a.value.data, b.value.data, a.name)
        }
        XCTAssertEqual(try InferenceInput.load(url, inputSize: trained).loaded.detector.config.inputSize, trained)
    }

    /// A side the network cannot take, and the fc head, are errors naming the key and the file.
    func testSidesTheNetworkCannotTakeAreRefused() throws {
        let dir = try Fixtures.temporaryDirectory()
        let url = try DetectorFixtures.tinyCheckpoint(in: dir)
        for side in [100, 8] {
            XCTAssertThrowsError(try InferenceInput.load(url, inputSize: side)) { error in
                guard case let InferenceError.invalidSetting(key, reason) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(key, "inputSize")
                XCTAssertTrue(reason.contains(url.path) && reason.contains("\(side)"), reason)
            }
        }
        let fc = try DetectorFixtures.tinyCheckpoint(in: try Fixtures.temporaryDirectory(), setHead: .fc)
        XCTAssertThrowsError(try InferenceInput.load(fc, inputSize: 96)) { error in
            XCTAssertTrue("\(error)".contains("fc set head"), "\(error)")
        }
    }

    /// `ModelEvaluation` runs at the side given and says so; the detections differ from those at the trained side.
    func testEvaluationAtAnotherSide() throws {
        let dir = try Fixtures.temporaryDirectory()
        let model = try DetectorFixtures.tinyCheckpoint(in: dir)
        let gt = DetectorFixtures.sample.appendingPathComponent("val.json")
        var options = ModelEvaluation.Options(model: model, data: gt, out: dir.appendingPathComponent("a"))
        options.heads = .dense
        let plain = try ModelEvaluation.run(options)
        options.out = dir.appendingPathComponent("b")
        options.inputSize = 96
        let larger = try ModelEvaluation.run(options)
        XCTAssertTrue(larger.notes.contains { $0.contains("input side 96") }, "\(larger.notes)")
        XCTAssertFalse(plain.notes.contains { $0.contains("input side") }, "\(plain.notes)")
        XCTAssertNotEqual(plain.heads[0].evaluation.detectionCount, 0)
        XCTAssertNotEqual(try Data(contentsOf: plain.heads[0].resultsFile), try Data(contentsOf: larger.heads[0].resultsFile))
    }

    /// The side training stored (`InferenceInput.metadataKey`) is the default; a given side overrides it; an
    /// unreadable entry is an error naming the file and the key; `ModelEvaluation` and `DetectRun` follow it.
    func testTheStoredSideIsTheDefault() throws {
        let dir = try Fixtures.temporaryDirectory()
        let config = DetectorFixtures.smallConfig()
        let url = dir.appendingPathComponent("chosen.safetensors")
        try Checkpoint.save(try Detector(config: config, seed: 3), optimizer: nil, state: TrainingState(seed: 3),
                            extraMetadata: [InferenceInput.metadataKey: "96"], to: url)
        let (loaded, trained, source) = try InferenceInput.load(url, inputSize: nil)
        XCTAssertEqual(loaded.detector.config.inputSize, 96)
        XCTAssertEqual(trained, 64)
        XCTAssertEqual(source, .chosen)
        XCTAssertEqual(try InferenceInput.load(url, inputSize: 64).loaded.detector.config.inputSize, 64)
        XCTAssertEqual(try InferenceInput.load(url, inputSize: 128).loaded.detector.config.inputSize, 128)
        XCTAssertEqual(try DetectRun(checkpoint: url, head: .set).predictor.detector.config.inputSize, 96)

        let gt = DetectorFixtures.sample.appendingPathComponent("val.json")
        var options = ModelEvaluation.Options(model: url, data: gt, out: dir.appendingPathComponent("eval"))
        options.heads = .dense
        let report = try ModelEvaluation.run(options)
        XCTAssertTrue(report.notes.contains { $0.contains("input side 96 (trained at 64, chosen on the validation split") },
                      "\(report.notes)")

        for bad in ["abc", "0", "-32"] {
            let file = dir.appendingPathComponent("bad.safetensors")
            try Checkpoint.save(try Detector(config: config, seed: 3), optimizer: nil, state: TrainingState(seed: 3),
                                extraMetadata: [InferenceInput.metadataKey: bad], to: file)
            XCTAssertThrowsError(try InferenceInput.load(file, inputSize: nil)) { error in
                guard case let InferenceError.invalidSetting(key, reason) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(key, InferenceInput.metadataKey)
                XCTAssertTrue(reason.contains(file.path) && reason.contains(bad), reason)
            }
        }
    }
}
