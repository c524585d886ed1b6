import Criterion
import Datasets
import DetectorModel
import DetectorTestSupport
import Foundation
import NeuralNet
import TestSupport
import XCTest
@testable import Training

/// One source of truth for settings: defaults < preset < `--config` file < explicit values, and what a
/// resumed run may and may not change.
final class SettingsTests: XCTestCase {
    private func write(_ object: [String: Any], in dir: URL, name: String = "config.json") throws -> URL {
        let url = dir.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return url
    }

    private var ownData: TrainOptions {
        var o = TrainOptions()
        o.data = DetectorFixtures.sample.appendingPathComponent("train.json")
        return o
    }

    /// A config file's label smoothing and class-balance β stand when no flag sets them (they used to be reset to 0).
    func testConfigFileLossSettingsAreKept() throws {
        let dir = try Fixtures.temporaryDirectory()
        var o = ownData
        o.config = try write(["labelSmoothing": 0.1, "classBalanceBeta": 0.99], in: dir)
        let run = try RunConfiguration.resolve(o, classes: ["a"])
        XCTAssertEqual(run.model.labelSmoothing, 0.1)
        XCTAssertEqual(run.model.classBalanceBeta, 0.99)
        XCTAssertEqual(run.model.name, "custom")
    }

    /// `setIoUTargets`: off (nil) by default and absent from the JSON, so the reference configuration's JSON and older
    /// checkpoints' metadata are unchanged; a config file turns it on, and the training step's set criterion follows.
    func testSetIoUTargetsKeyIsOptional() throws {
        let reference = DetectorConfig.reference(classes: ["a"])
        XCTAssertNil(reference.setIoUTargets)
        XCTAssertFalse(reference.jsonString().contains("setIoUTargets"))
        XCTAssertEqual(try DetectorConfig.from(json: reference.jsonString(), source: "old"), reference)
        XCTAssertTrue(DetectorConfig.objectiveKeys.contains("setIoUTargets"))
        let dir = try Fixtures.temporaryDirectory()
        var o = ownData
        o.config = try write(["setIoUTargets": true], in: dir)
        let run = try RunConfiguration.resolve(o, classes: ["a"])
        XCTAssertEqual(run.model.setIoUTargets, true)
        XCTAssertTrue(TrainStep(detector: try Detector(config: run.model, seed: 0), optimizer: SGD(momentum: 0),
                                classWeights: nil).setCriterion.configuration.iouTargets)
        XCTAssertFalse(TrainStep(detector: try Detector(config: reference, seed: 0), optimizer: SGD(momentum: 0),
                                 classWeights: nil).setCriterion.configuration.iouTargets)
    }

    /// Defaults < file < flags, for network and run settings alike; what neither sets keeps its default.
    func testPrecedenceDefaultsFileFlags() throws {
        let dir = try Fixtures.temporaryDirectory()
        var o = ownData
        o.config = try write(["hypotheses": 20, "inputSize": 128, "learningRate": 0.001, "batchSize": 8, "labelSmoothing": 0.2], in: dir)
        o.model.set(.hypotheses, \.hypotheses, 30)
        o.model.set(.labelSmoothing, \.labelSmoothing, 0.05)
        o.training.set(.batchSize, \.batchSize, 4)
        let run = try RunConfiguration.resolve(o, classes: ["a", "b"])
        XCTAssertEqual(run.model.hypotheses, 30, "flag over file")
        XCTAssertEqual(run.model.labelSmoothing, 0.05, "flag over file")
        XCTAssertEqual(run.model.inputSize, 128, "file over default")
        XCTAssertEqual(run.model.setWidth, DetectorConfig().setWidth, "default")
        XCTAssertEqual(run.model.classNames, ["a", "b"], "classes come from the data")
        XCTAssertEqual(run.training.batchSize, 4, "flag over file")
        XCTAssertEqual(run.training.learningRate, 0.001, "file over default")
        XCTAssertEqual(run.training.weightDecay, TrainSettings().weightDecay, "default")
        XCTAssertEqual(run.training.epochs, 30, "user data without epochs or minutes: 30 epochs")
        XCTAssertNil(run.training.minutes)
    }

    /// The augmentation follows the settings: the defaults give `AugmentConfig()` (scale 0.75–1.25, no vertical
    /// flip, no mixup, no copy-paste), a file's `verticalFlip`, `scaleJitter`, `mixup` and `copyPaste` reach it, and
    /// `augment` false gives `.none`; stored settings without the four keys (older checkpoints) keep the defaults.
    func testAugmentationFollowsTheSettings() throws {
        var t = TrainSettings()
        XCTAssertEqual(t.augmentConfig, AugmentConfig())
        let dir = try Fixtures.temporaryDirectory()
        var o = ownData
        o.config = try write(["verticalFlip": 0.5, "scaleJitter": 0.5, "mixup": 0.2, "copyPaste": 0.3], in: dir)
        t = try RunConfiguration.resolve(o, classes: ["a"]).training
        XCTAssertEqual(t.augmentConfig.verticalFlipProbability, 0.5)
        XCTAssertEqual(t.augmentConfig.minScale, 0.5)
        XCTAssertEqual(t.augmentConfig.maxScale, 1.5)
        XCTAssertEqual(t.augmentConfig.mixupProbability, 0.2)
        XCTAssertEqual(t.augmentConfig.copyPasteProbability, 0.3)
        XCTAssertEqual(t.augmentConfig.mosaicProbability, Preset.defaultMosaic)
        t.augment = false
        XCTAssertEqual(t.augmentConfig, .none)
        var stored = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(TrainSettings().jsonString().utf8)) as? [String: Any])
        stored["verticalFlip"] = nil
        stored["scaleJitter"] = nil
        stored["mixup"] = nil
        stored["copyPaste"] = nil
        let old = try JSONDecoder().decode(TrainSettings.self, from: JSONSerialization.data(withJSONObject: stored))
        XCTAssertEqual(old, TrainSettings())
    }

    /// Without `--data` the synthetic preset sits between the defaults and the file: a file changes only what it names.
    func testSyntheticPresetUnderTheFile() throws {
        let dir = try Fixtures.temporaryDirectory()
        var o = TrainOptions()
        o.config = try write(["hypotheses": 80, "minutes": 3], in: dir)
        let run = try RunConfiguration.resolve(o, classes: ["a"])
        XCTAssertEqual(run.model.hypotheses, 80)
        XCTAssertEqual(run.model.querySelection, .nms, "the preset's")
        XCTAssertEqual(run.model.inputSize, 256, "the preset's")
        XCTAssertEqual(run.training.minutes, 3)
        XCTAssertNil(run.training.epochs)
        XCTAssertEqual(try RunConfiguration.resolve(TrainOptions(), classes: ["a"]).training.minutes, 12)
    }

    /// A file key of neither settings type is an error naming the file and the key; so is a value of the wrong type.
    func testUnknownOrMistypedFileKeysAreErrors() throws {
        let dir = try Fixtures.temporaryDirectory()
        var o = ownData
        o.config = try write(["hypotheses": 20, "learningRat": 0.1], in: dir)
        XCTAssertThrowsError(try RunConfiguration.resolve(o, classes: ["a"])) { e in
            XCTAssertTrue("\(e)".contains(o.config!.path) && "\(e)".contains("learningRat"), "\(e)")
        }
        o.config = try write(["hypotheses": "many"], in: dir, name: "typed.json")
        XCTAssertThrowsError(try RunConfiguration.resolve(o, classes: ["a"])) { e in
            XCTAssertTrue("\(e)".contains("typed.json") && "\(e)".contains("hypotheses"), "\(e)")
        }
    }

    /// A bad value from any source is an error naming the setting's key.
    func testInvalidValuesNameTheSetting() throws {
        var o = ownData
        o.training.set(.learningRate, \.learningRate, -1)
        XCTAssertThrowsError(try RunConfiguration.resolve(o, classes: ["a"])) {
            XCTAssertEqual(($0 as? TrainingError)?.settingKey, "learningRate")
        }
        o = ownData
        o.training.set(.closeMosaic, \.closeMosaic, 1)
        XCTAssertThrowsError(try RunConfiguration.resolve(o, classes: ["a"])) {
            XCTAssertEqual(($0 as? TrainingError)?.settingKey, "closeMosaic")
        }
        for (key, path, value) in [(TrainSettings.CodingKeys.verticalFlip, \TrainSettings.verticalFlip, 1.5),
                                   (.scaleJitter, \.scaleJitter, 1), (.mixup, \.mixup, -0.5),
                                   (.copyPaste, \.copyPaste, 1.5)] {
            o = ownData
            o.training.set(key, path, value)
            XCTAssertThrowsError(try RunConfiguration.resolve(o, classes: ["a"])) {
                XCTAssertEqual(($0 as? TrainingError)?.settingKey, key.stringValue)
            }
        }
        o = ownData
        o.model.set(.inputSize, \.inputSize, 100)
        XCTAssertThrowsError(try RunConfiguration.resolve(o, classes: ["a"])) {
            XCTAssertEqual($0 as? ModelError, .invalidSetting(key: "inputSize", reason: "100 must be a multiple of 16, at least 32"))
        }
    }

    /// Under `--resume` the checkpoint's network and settings are the base: a network flag that differs is an error
    /// naming it, a loss or run setting is applied and listed, and settings nobody changes keep the checkpoint's.
    func testResumeKeepsTheNetworkAndReportsChanges() throws {
        let saved = DetectorFixtures.smallConfig()
        var savedTraining = TrainSettings()
        savedTraining.learningRate = 5e-4
        savedTraining.epochs = 7
        let url = URL(fileURLWithPath: "/runs/x/last.safetensors")
        var o = ownData
        o.resume = url

        let same = try RunConfiguration.resume(o, checkpoint: url, model: saved, training: savedTraining, seed: 0)
        XCTAssertEqual(same.model, saved)
        XCTAssertEqual(same.training.learningRate, 5e-4, "the checkpoint's learning rate, not the default")
        XCTAssertEqual(same.training.epochs, 7)
        XCTAssertTrue(same.changes.isEmpty, "\(same.changes)")

        var network = o
        network.model.set(.inputSize, \.inputSize, saved.inputSize * 2)
        XCTAssertThrowsError(try RunConfiguration.resume(network, checkpoint: url, model: saved, training: savedTraining, seed: 0)) { e in
            XCTAssertEqual((e as? TrainingError)?.settingKey, "inputSize")
            XCTAssertTrue("\(e)".contains(url.path), "\(e)")
        }
        var sameValue = o
        sameValue.model.set(.inputSize, \.inputSize, saved.inputSize)
        XCTAssertNoThrow(try RunConfiguration.resume(sameValue, checkpoint: url, model: saved, training: savedTraining, seed: 0),
                         "a network flag equal to the checkpoint's value is no change")
        var anchors = o
        anchors.autoAnchors = true
        XCTAssertThrowsError(try RunConfiguration.resume(anchors, checkpoint: url, model: saved, training: savedTraining, seed: 0)) {
            XCTAssertEqual(($0 as? TrainingError)?.settingKey, "anchorSizes")
        }
        var seed = o
        seed.training.set(.seed, \.seed, 9)
        XCTAssertThrowsError(try RunConfiguration.resume(seed, checkpoint: url, model: saved, training: savedTraining, seed: 0)) {
            XCTAssertEqual(($0 as? TrainingError)?.settingKey, "seed")
        }

        var allowed = o
        allowed.model.set(.labelSmoothing, \.labelSmoothing, 0.1)
        allowed.training.set(.learningRate, \.learningRate, 1e-4)
        allowed.training.set(.minutes, \.minutes, 2)
        let changed = try RunConfiguration.resume(allowed, checkpoint: url, model: saved, training: savedTraining, seed: 0)
        XCTAssertEqual(changed.model.labelSmoothing, 0.1)
        XCTAssertEqual(changed.training.learningRate, 1e-4)
        XCTAssertEqual(changed.changes, ["labelSmoothing: 0 → 0.1", "minutes: none → 2", "learningRate: 0.0005 → 0.0001"])
    }

    /// End to end: a run resumed with a flag that changes the network stops before training, naming the flag's key;
    /// one resumed with a new learning rate trains with it and the checkpoint records it.
    func testTrainerResumeRules() throws {
        let dir = try Fixtures.temporaryDirectory()
        var first = DetectorFixtures.sampleTrainOptions(out: dir.appendingPathComponent("run"), config: try DetectorFixtures.smallConfigFile(in: dir))
        first.val = nil
        first.maxSteps = 2
        first.training.set(.epochs, \.epochs, 1)
        _ = try Trainer(options: first).run()
        var resumed = first
        resumed.config = nil
        resumed.maxSteps = 3
        resumed.resume = first.out.appendingPathComponent("last.safetensors")
        var bad = resumed
        bad.model.set(.hypotheses, \.hypotheses, 5)
        XCTAssertThrowsError(try Trainer(options: bad).run()) { XCTAssertEqual(($0 as? TrainingError)?.settingKey, "hypotheses") }
        resumed.training.set(.learningRate, \.learningRate, 1e-4)
        let summary = try Trainer(options: resumed).run()
        XCTAssertEqual(summary.steps, 3)
        XCTAssertEqual(summary.configuration.training.learningRate, 1e-4)
        XCTAssertEqual(summary.configuration.training.batchSize, 4, "the first run's batch size, from the checkpoint")
        let loaded = try Checkpoint.load(resumed.resume!)
        let stored = try JSONDecoder().decode(TrainSettings.self, from: Data(try XCTUnwrap(loaded.metadata["training"]).utf8))
        XCTAssertEqual(stored.learningRate, 1e-4)
    }
}
