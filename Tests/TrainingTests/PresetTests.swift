import Datasets
import DetectorModel
import DetectorTestSupport
import Foundation
import TestSupport
import XCTest
@testable import Training

/// Named presets: each resolves, `reference` is the reference configuration byte for byte, `default` is what a run
/// on one's own data gets (anchors fitted unless given), and a preset sits under the file and the flags.
final class PresetTests: XCTestCase {
    private let classes = DetectorFixtures.sampleClassNames

    private func ownData(_ preset: Preset? = nil) -> TrainOptions {
        var o = TrainOptions()
        o.data = DetectorFixtures.sample.appendingPathComponent("train.json")
        o.preset = preset
        o.verbose = false
        return o
    }

    private func sampleTrain() throws -> DetectionDataset {
        try DetectionDataset.load(DetectorFixtures.sample.appendingPathComponent("train.json"), imageDirectory: nil,
                                  options: ValidationOptions())
    }

    /// Every name resolves to its preset, on the synthetic default and on one's own data, and builds a valid network.
    func testEveryPresetResolvesByName() throws {
        let train = try sampleTrain()
        for p in Preset.allCases {
            XCTAssertEqual(Preset.named(p.rawValue), p)
            for var o in [ownData(p), TrainOptions()] {
                o.preset = p
                let run = try RunConfiguration.resolve(o, classes: classes, train: train)
                XCTAssertEqual(run.model.name, p.rawValue, "\(p)")
                XCTAssertEqual(run.model.classNames, classes)
                XCTAssertNoThrow(try Detector(config: run.model, seed: 0).parameters.count, "\(p)")
            }
        }
        XCTAssertNil(Preset.named("config.json"))
        XCTAssertEqual(RunConfiguration.preset(for: TrainOptions()), .synthetic)
        XCTAssertEqual(RunConfiguration.preset(for: ownData()), .default)
    }

    /// `reference` is `DetectorConfig.reference` (the JSON the checkpoints store, byte for byte) with the run defaults,
    /// on one's own data too: no anchor fitting, 30 epochs, no search for an inference input side.
    func testReferenceIsTheReferenceConfiguration() throws {
        let run = try RunConfiguration.resolve(ownData(.reference), classes: classes, train: try sampleTrain())
        XCTAssertEqual(run.model, DetectorConfig.reference(classes: classes))
        XCTAssertEqual(run.model.jsonString(), DetectorConfig.reference(classes: classes).jsonString())
        var expected = TrainSettings()
        expected.epochs = 30
        expected.chooseInputSize = false
        XCTAssertEqual(run.training, expected)
    }

    /// `default` on one's own data: ATSS, proposal-NMS queries, geometric attention, 100 hypotheses, ReInspect cost,
    /// class prior, IoU-aware class targets, anchors fitted to the training boxes; a flag or file that gives the anchors keeps them (and names the network `custom`).
    func testDefaultFitsAnchorsUnlessGiven() throws {
        let train = try sampleTrain()
        let run = try RunConfiguration.resolve(ownData(), classes: classes, train: train)
        XCTAssertEqual(run.model.denseAssignment, .atss)
        XCTAssertEqual(run.model.querySelection, .nms)
        XCTAssertTrue(run.model.setGeometry)
        XCTAssertEqual(run.model.hypotheses, 100)
        XCTAssertEqual(run.model.matchCost, .reinspect)
        XCTAssertTrue(run.model.setClassPrior)
        XCTAssertEqual(run.model.setIoUTargets, true)
        let fitted = try XCTUnwrap(AnchorFitting.sizes(for: train, inputSize: 320, count: 3))
        XCTAssertEqual(run.model.anchorSizes, fitted)
        XCTAssertEqual(run.model.name, "default")
        XCTAssertEqual(run.training.mosaic, 0.5, "default trains with mosaics")
        XCTAssertEqual(try RunConfiguration.resolve(ownData(.reference), classes: classes, train: train).training.mosaic, 0)
        XCTAssertEqual(try RunConfiguration.resolve(TrainOptions(), classes: classes).training.mosaic, 0, "synthetic: none")

        var flagged = ownData()
        flagged.training.set(.mosaic, \.mosaic, 0.25)
        XCTAssertEqual(try RunConfiguration.resolve(flagged, classes: classes, train: train).training.mosaic, 0.25)
        flagged.training = SettingPatch<TrainSettings>()
        flagged.model.set(.anchorSizes, \.anchorSizes, [10, 20, 40])
        let byFlag = try RunConfiguration.resolve(flagged, classes: classes, train: train)
        XCTAssertEqual(byFlag.model.anchorSizes, [10, 20, 40])
        XCTAssertEqual(byFlag.model.name, "custom")

        let dir = try Fixtures.temporaryDirectory()
        var filed = ownData()
        filed.config = dir.appendingPathComponent("anchors.json")
        try JSONSerialization.data(withJSONObject: ["anchorSizes": [9, 18]]).write(to: filed.config!)
        XCTAssertEqual(try RunConfiguration.resolve(filed, classes: classes, train: train).model.anchorSizes, [9, 18])
    }

    /// Defaults < preset < file < flags: the file changes what it names over the preset, a flag changes the file's.
    func testPresetSitsUnderTheFileAndTheFlags() throws {
        let dir = try Fixtures.temporaryDirectory()
        var o = ownData(.tinyCrowd)
        o.config = dir.appendingPathComponent("c.json")
        try JSONSerialization.data(withJSONObject: ["hypotheses": 120, "eosCoef": 0.2, "batchSize": 8]).write(to: o.config!)
        o.model.set(.hypotheses, \.hypotheses, 130)
        let run = try RunConfiguration.resolve(o, classes: classes)
        let preset = Preset.tinyCrowd.model(classes: classes)
        XCTAssertEqual(run.model.hypotheses, 130, "flag over file")
        XCTAssertEqual(run.model.eosCoef, 0.2, "file over preset")
        XCTAssertEqual(run.training.batchSize, 8, "file over default")
        XCTAssertEqual(run.model.inputSize, preset.inputSize, "preset over default")
        XCTAssertEqual(run.model.anchorSizes, preset.anchorSizes, "tiny-crowd does not fit anchors")
        XCTAssertEqual(run.model.name, "custom")
    }

    /// `--synthetic tiny-crowd`: the trainer generates the tiny-crowd frames (512×288) in their own folder and the run
    /// starts from the `tiny-crowd` preset, with the generated data's 12-minute budget.
    func testTinyCrowdDataSelectsItsPreset() throws {
        var o = TrainOptions()
        o.synthetic = .tinyCrowd
        o.syntheticFolder = try Fixtures.temporaryDirectory().appendingPathComponent("tiny")
        o.syntheticTrain = 3
        o.syntheticVal = 1
        o.verbose = false
        XCTAssertEqual(RunConfiguration.preset(for: o), .tinyCrowd)
        let trainer = try Trainer(options: o)
        let (train, val) = try trainer.loadData()
        XCTAssertEqual(train.images.map { [$0.width, $0.height] }, [[512, 288], [512, 288], [512, 288]])
        XCTAssertEqual(val?.images.count, 1)
        let run = try trainer.makeConfiguration(classes: train.categories.map(\.name), train: train)
        XCTAssertEqual(run.model.name, "tiny-crowd")
        XCTAssertEqual(run.model.inputSize, 640)
        XCTAssertTrue(run.model.rectangular)
        XCTAssertEqual(run.training.minutes, 12)
    }

    /// A preset cannot be named for a resumed run: the checkpoint's settings are its base.
    func testPresetWithResumeIsAnError() {
        var o = ownData(.reference)
        o.resume = URL(fileURLWithPath: "/runs/x/last.safetensors")
        XCTAssertThrowsError(try o.validate()) { XCTAssertEqual(($0 as? TrainingError)?.settingKey, "config") }
    }
}
