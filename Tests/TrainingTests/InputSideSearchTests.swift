import Datasets
import DetectorModel
import DetectorTestSupport
import Foundation
import Inference
import TestSupport
import XCTest
@testable import Training

/// The input side inference runs at, chosen on the validation split at the end of training (`InputSideSearch`,
/// `TrainSettings.chooseInputSize`), and how the choice reaches the checkpoints, `metrics.json` and `evaluate`.
final class InputSideSearchTests: XCTestCase {
    /// 7/8, 9/8 and 5/4 of the trained side, rounded to multiples of 32, without the trained side itself or sides the
    /// configuration refuses; none for the fc set head.
    func testCandidates() throws {
        var scut = Preset.default.model(classes: ["head"])
        scut.inputSize = 512
        scut.rectangular = true
        XCTAssertEqual(InputSideSearch.candidates(for: scut), [448, 576, 640])
        var bccd = Preset.default.model(classes: ["RBC", "WBC", "Platelets"])
        bccd.inputSize = 320
        XCTAssertEqual(InputSideSearch.candidates(for: bccd), [288, 352, 416])
        // 64: 56 and 72 round back to 64; 80 rounds up to 96.
        XCTAssertEqual(InputSideSearch.candidates(for: DetectorFixtures.smallConfig()), [96])
        XCTAssertEqual(InputSideSearch.candidates(for: DetectorFixtures.smallConfig(setHead: .fc)), [])
    }

    /// The highest key AP50 wins only with a gain of at least `minimumGain` over the trained side; the smaller of equal
    /// other sides.
    func testChosenSide() {
        let scut = [448: 0.824, 512: 0.844, 576: 0.857, 640: 0.851]
        XCTAssertEqual(InputSideSearch.chosenSide(scut, trainedSide: 512), 576)
        XCTAssertEqual(InputSideSearch.chosenSide([512: 0.844, 576: 0.8455], trainedSide: 512), 512, "a gain below 0.002")
        XCTAssertEqual(InputSideSearch.chosenSide([512: 0.844, 576: 0.847], trainedSide: 512), 576)
        XCTAssertEqual(InputSideSearch.chosenSide([320: 0.91, 288: 0.88, 352: 0.89], trainedSide: 320), 320)
        XCTAssertEqual(InputSideSearch.chosenSide([512: 0.5, 640: 0.6, 576: 0.6], trainedSide: 512), 576)
        XCTAssertEqual(InputSideSearch.chosenSide([512: 0.5], trainedSide: 512), 512)
    }

    /// A run of the small network on the sample, prepared and validated once at its trained side (64) by an
    /// `EvaluationHook`, before the end's input-side choice.
    func validatedRun() throws -> (run: TrainingRun, hook: EvaluationHook, trained: HeadMetrics, savedBest: Bool) {
        let dir = try Fixtures.temporaryDirectory()
        var o = DetectorFixtures.sampleTrainOptions(out: dir.appendingPathComponent("run"), config: try DetectorFixtures.smallConfigFile(in: dir))
        o.training.set(.epochs, \.epochs, 1)
        let run = try Trainer(options: o).prepare()
        let hook = EvaluationHook()
        let (trained, savedBest) = try hook.evaluate(run, try XCTUnwrap(run.validation))
        return (run, hook, trained, savedBest)
    }

    /// The validation split's own boxes as predictions, and their metrics (AP50 1): a trial that must win.
    func groundTruthTrial(_ v: DetectionDataset) throws -> (predictions: [ImagePrediction], metrics: HeadMetrics) {
        let truth = v.images.map { image in
            let objects = image.annotations.map { DetectedObject(box: $0.box, score: 0.9, classIndex: $0.classIndex) }
            return ImagePrediction(imageID: image.id, set: objects, dense: objects)
        }
        let perfect = try v.evaluate(truth, hasSetHead: true)
        XCTAssertEqual(perfect.keyAP50, 1, accuracy: 1e-9)
        return (truth, perfect)
    }

    /// A side that wins is adopted: `last.safetensors` and `best.safetensors` (written by this validation) store it with
    /// its score thresholds, `metrics.json` holds its figures and every side's AP50, and `InferenceInput` loads the
    /// checkpoint at it. The winning trial here is the ground truth itself at side 96.
    func testAWinningSideIsStoredForInference() throws {
        let (run, hook, trained, savedBest) = try validatedRun()
        let (o, v) = (run.options, try XCTUnwrap(run.validation))
        XCTAssertTrue(savedBest, "the first validation writes best.safetensors")
        let (truth, perfect) = try groundTruthTrial(v)
        XCTAssertLessThan(trained.keyAP50, 0.5)
        try hook.finish(run, v, trained: trained, trials: [
            InputSideSearch.Trial(side: 64, metrics: trained, predictions: run.lastPredictions),
            InputSideSearch.Trial(side: 96, metrics: perfect, predictions: truth),
        ], savedBest: savedBest)

        XCTAssertEqual(run.inferenceSize, 96)
        XCTAssertEqual(run.lastMetrics?.keyAP50 ?? 0, 1, accuracy: 1e-9)
        for f in ["last.safetensors", "best.safetensors"] {
            let url = o.out.appendingPathComponent(f)
            let (loaded, trainedSide, source) = try InferenceInput.load(url, inputSize: nil)
            XCTAssertEqual(loaded.detector.config.inputSize, 96, f)
            XCTAssertEqual(trainedSide, 64, f)
            XCTAssertEqual(source, .chosen, f)
            XCTAssertEqual(try ScoreThresholds.stored(in: loaded.metadata, source: f), perfect.scoreThresholds, f)
            XCTAssertEqual(try Checkpoint.load(url).detector.config.inputSize, 64, "\(f): the configuration keeps the trained side")
        }
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: o.out.appendingPathComponent("metrics.json"))) as! [String: Any]
        XCTAssertEqual(json["input_size"] as? Int, 96)
        XCTAssertEqual(json["trained_input_size"] as? Int, 64)
        XCTAssertEqual((json["set"] as? [String: Any])?["AP50"] as? Double ?? 0, 1, accuracy: 1e-9)
        let sides = try XCTUnwrap(json["input_size_AP50"] as? [String: Double])
        XCTAssertEqual(Set(sides.keys), ["64", "96"])
        XCTAssertEqual(sides["64"] ?? -1, trained.keyAP50, accuracy: 1e-12)
    }

    /// A side that gains less than `minimumGain` is not adopted: nothing is stored and the figures stay the trained
    /// side's.
    func testASideWithoutGainIsNotStored() throws {
        let (run, hook, trained, savedBest) = try validatedRun()
        let (o, v) = (run.options, try XCTUnwrap(run.validation))
        try hook.finish(run, v, trained: trained, trials: [
            InputSideSearch.Trial(side: 64, metrics: trained, predictions: run.lastPredictions),
            InputSideSearch.Trial(side: 96, metrics: trained, predictions: run.lastPredictions),
        ], savedBest: savedBest)
        XCTAssertNil(run.inferenceSize)
        let last = try InferenceInput.load(o.out.appendingPathComponent("last.safetensors"), inputSize: nil)
        XCTAssertEqual(last.loaded.detector.config.inputSize, 64)
        XCTAssertEqual(last.source, .trained)
        XCTAssertNil(last.loaded.metadata[InferenceInput.metadataKey])
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: o.out.appendingPathComponent("metrics.json"))) as! [String: Any]
        XCTAssertEqual(json["input_size"] as? Int, 64)
    }

    /// A whole run searches the sides (the trained one and 96 for the small network) and `detector evaluate` of its
    /// `last.safetensors` reproduces the final figures at the side it stored; with the setting off nothing is tried.
    func testARunSearchesAndEvaluateFollows() throws {
        let dir = try Fixtures.temporaryDirectory()
        var o = DetectorFixtures.sampleTrainOptions(out: dir.appendingPathComponent("run"), config: try DetectorFixtures.smallConfigFile(in: dir))
        o.maxSteps = 3
        o.training.set(.epochs, \.epochs, 1)
        let summary = try Trainer(options: o).run()
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: o.out.appendingPathComponent("metrics.json"))) as! [String: Any]
        let sides = try XCTUnwrap(json["input_size_AP50"] as? [String: Double])
        XCTAssertEqual(Set(sides.keys), ["64", "96"])
        let chosen = InputSideSearch.chosenSide(Dictionary(uniqueKeysWithValues: sides.map { (Int($0.key)!, $0.value) }),
                                                trainedSide: 64)
        XCTAssertEqual(json["input_size"] as? Int, chosen)
        let last = o.out.appendingPathComponent("last.safetensors")
        let stored = try Checkpoint.load(last).metadata[InferenceInput.metadataKey]
        XCTAssertEqual(stored, chosen == 64 ? nil : String(chosen))
        var options = ModelEvaluation.Options(model: last, data: try XCTUnwrap(o.val), out: dir.appendingPathComponent("eval"))
        options.heads = .set
        let report = try ModelEvaluation.run(options)
        XCTAssertEqual(report.heads[0].evaluation.stats[1], try XCTUnwrap(summary.metrics?.set?.stats[1]), accuracy: 1e-3)

        var off = o
        off.out = dir.appendingPathComponent("off")
        off.training.set(.chooseInputSize, \.chooseInputSize, false)
        _ = try Trainer(options: off).run()
        let offJSON = try JSONSerialization.jsonObject(
            with: Data(contentsOf: off.out.appendingPathComponent("metrics.json"))) as! [String: Any]
        XCTAssertNil(offJSON["input_size_AP50"])
        XCTAssertEqual(offJSON["input_size"] as? Int, 64)
        XCTAssertFalse(Preset.reference.training.chooseInputSize)
        XCTAssertTrue(Preset.default.training.chooseInputSize)
    }

    /// When an earlier validation wrote `best.safetensors` and the final weights differ, the end searches the side of
    /// the network in that file: the trained side's figures are the earlier validation's (the file's weights, not the
    /// final ones); a winning side is stored in the file with its thresholds while its weights and step stay; a later
    /// search that keeps the trained side takes the stored side away; and the end itself leaves the file's network be.
    func testTheBestCheckpointGetsItsOwnSide() throws {
        let (run, hook, trained, savedBest) = try validatedRun()
        let (o, v) = (run.options, try XCTUnwrap(run.validation))
        XCTAssertTrue(savedBest)
        let url = o.out.appendingPathComponent("best.safetensors")
        let before = try Checkpoint.load(url)
        for p in run.evaluated.parameters { p.value.data = p.value.data.map { $0 * 0.5 } }
        run.state.step += 7
        let (best, trials) = try XCTUnwrap(run.searchInputSideOfBest(v))
        XCTAssertEqual(trials.map(\.side), [64, 96])
        XCTAssertEqual(trials[0].metrics.dense.stats, trained.dense.stats, "the file's network at its trained side")
        XCTAssertEqual(best.state.step, before.state.step)

        let (truth, perfect) = try groundTruthTrial(v)
        XCTAssertEqual(try hook.storeSideOfBest(run, best, [trials[0], InputSideSearch.Trial(side: 96, metrics: perfect,
                                                                                             predictions: truth)]), 96)
        let (loaded, trainedSide, source) = try InferenceInput.load(url, inputSize: nil)
        XCTAssertEqual(loaded.detector.config.inputSize, 96)
        XCTAssertEqual(trainedSide, 64)
        XCTAssertEqual(source, .chosen)
        XCTAssertEqual(try ScoreThresholds.stored(in: loaded.metadata, source: "best"), perfect.scoreThresholds)
        let after = try Checkpoint.load(url)
        XCTAssertEqual(after.state.step, before.state.step)
        XCTAssertEqual(after.detector.parameters.map(\.value.data), before.detector.parameters.map(\.value.data))

        XCTAssertNil(try hook.storeSideOfBest(run, try Checkpoint.load(url, averaged: true), [trials[0]]))
        XCTAssertEqual(try InferenceInput.load(url, inputSize: nil).source, .trained)

        run.state.bestAP50 = 2
        try hook.afterTraining(run)
        let end = try Checkpoint.load(url)
        XCTAssertEqual(end.state.step, before.state.step, "the end does not write the final weights over the best")
        XCTAssertEqual(end.detector.parameters.map(\.value.data), before.detector.parameters.map(\.value.data))
    }
}

