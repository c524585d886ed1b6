import Foundation
import NeuralNet
import TestSupport
import XCTest
import DetectorModel
import DetectorTestSupport
import Evaluation
import Inference
@testable import Training

/// The trainer on the committed synthetic sample (`datasets/sample`), with a small network so that runs take seconds.
final class TrainerTests: XCTestCase {
    /// With no data and no `--config`, the synthetic default's configuration (`Preset.synthetic`; docs/experiments.md);
    /// data of one's own starts from the `default` preset, anchors fitted to it.
    func testSyntheticDefaultConfiguration() throws {
        let c = try Trainer(options: TrainOptions()).makeConfiguration(classes: ["circle", "rectangle", "triangle"]).model
        XCTAssertEqual(c.inputSize, 256)
        XCTAssertEqual(c.hypotheses, 100)
        XCTAssertEqual(c.anchorSizes, [16, 32, 64])
        XCTAssertEqual(c.denseAssignment, .atss)
        XCTAssertEqual(c.querySelection, .nms)
        XCTAssertEqual(c.queryNMSIoU, 0.6)
        XCTAssertEqual(c.matchCost, .reinspect)
        XCTAssertTrue(c.setClassPrior && c.setGeometry)
        XCTAssertEqual(c.name, "synthetic")
        var own = TrainOptions()
        own.data = DetectorFixtures.sample.appendingPathComponent("train.json")
        let trainer = try Trainer(options: own)
        let train = try trainer.loadData().train
        let d = try trainer.makeConfiguration(classes: DetectorFixtures.sampleClassNames, train: train).model
        XCTAssertEqual(d.name, "default")
        XCTAssertEqual(d.querySelection, .nms)
        XCTAssertNotEqual(d.anchorSizes, DetectorConfig().anchorSizes, "fitted to the sample's boxes")
    }

    /// Resuming from a checkpoint continues exactly: the losses after the resume equal those of an uninterrupted
    /// run with the same seed (single-threaded).
    func testResumeEqualsUninterruptedRun() throws {
        let dir = try Fixtures.temporaryDirectory()
        let config = try DetectorFixtures.smallConfigFile(in: dir)
        var full = DetectorFixtures.sampleTrainOptions(out: dir.appendingPathComponent("full"), config: config)
        full.training.set(.epochs, \.epochs, 2)                   // 16 images / batch 4 = 4 steps per epoch
        full.val = nil
        let summary = try Trainer(options: full).run()
        XCTAssertEqual(summary.steps, 8)

        var first = full
        first.out = dir.appendingPathComponent("part")
        first.maxSteps = 5                   // stops mid-epoch
        XCTAssertEqual(try Trainer(options: first).run().steps, 5)
        var second = first
        second.maxSteps = nil
        second.resume = first.out.appendingPathComponent("last.safetensors")
        XCTAssertEqual(try Trainer(options: second).run().steps, 8)

        let a = try DetectorFixtures.losses(full.out.appendingPathComponent("log.jsonl"))
        let b = try DetectorFixtures.losses(first.out.appendingPathComponent("log.jsonl"))
        XCTAssertEqual(a.count, 8)
        XCTAssertEqual(b.count, 8)
        for s in 1...8 { XCTAssertEqual(a[s], b[s], "loss at step \(s)") }
        // The final weights agree too.
        let wa = try Checkpoint.load(full.out.appendingPathComponent("last.safetensors"))
        let wb = try Checkpoint.load(first.out.appendingPathComponent("last.safetensors"))
        for (p, q) in zip(wa.detector.parameters, wb.detector.parameters) {
            XCTAssertTrue(p.value == q.value, "\(p.name) differs after the resume")
        }
    }

    /// `closeMosaic`: the last part of the schedule trains on single images; the loader's end of mosaics follows the
    /// schedule, and a run without mosaics or without the setting has none.
    func testClosingPhaseWithoutMosaics() throws {
        let dir = try Fixtures.temporaryDirectory()
        let config = try DetectorFixtures.smallConfigFile(in: dir)
        var o = DetectorFixtures.sampleTrainOptions(out: dir.appendingPathComponent("run"), config: config)
        o.training.set(.epochs, \.epochs, 2)                      // 8 steps
        o.training.set(.mosaic, \.mosaic, 1)
        o.training.set(.closeMosaic, \.closeMosaic, 0.25)
        o.val = nil
        let run = try Trainer(options: o).prepare()
        XCTAssertEqual(run.mosaicEndStep, 6)
        run.followMosaicPhase()
        XCTAssertEqual(run.loader.mosaicEnd, 6)
        XCTAssertEqual(try Trainer(options: o).run().steps, 8)
        var none = o
        none.training.set(.closeMosaic, \.closeMosaic, 0)
        XCTAssertNil(try Trainer(options: none).prepare().mosaicEndStep)
        none = o
        none.training.set(.mosaic, \.mosaic, 0)
        XCTAssertNil(try Trainer(options: none).prepare().mosaicEndStep)
    }

    /// A training run writes its log, plots, checkpoints and metrics, and the checkpoint reloads with the same outputs.
    func testRunFolderAndCheckpointRoundTrip() throws {
        let dir = try Fixtures.temporaryDirectory()
        var o = DetectorFixtures.sampleTrainOptions(out: dir.appendingPathComponent("run"), config: try DetectorFixtures.smallConfigFile(in: dir))
        o.maxSteps = 3
        o.training.set(.epochs, \.epochs, 1)
        let summary = try Trainer(options: o).run()
        XCTAssertNotNil(summary.metrics?.set)
        XCTAssertNil(summary.metrics?.extraDetectionLimit, "12 hypotheses: validation at pycocotools' 100 alone")
        for f in ["log.jsonl", "loss.svg", "last.safetensors", "best.safetensors", "metrics.json", "ap.svg", "train_batch.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: o.out.appendingPathComponent(f).path), f)
        }
        let loaded = try Checkpoint.load(o.out.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(loaded.state.step, 3)
        // The validation's best-F1 thresholds are in metrics.json and both checkpoints (`detect`'s default).
        let thresholds = try XCTUnwrap(summary.metrics?.scoreThresholds)
        XCTAssertNotNil(thresholds.set)
        for f in ["last.safetensors", "best.safetensors"] {
            let metadata = try Checkpoint.load(o.out.appendingPathComponent(f)).metadata
            XCTAssertEqual(try ScoreThresholds.stored(in: metadata, source: f), thresholds, f)
        }
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: o.out.appendingPathComponent("metrics.json"))) as! [String: Any]
        XCTAssertEqual((json["set"] as? [String: Any])?["best_F1_score_threshold"] as? Double, thresholds.set)
        XCTAssertEqual((json["dense"] as? [String: Any])?["best_F1_score_threshold"] as? Double, thresholds.dense)
        XCTAssertFalse(loaded.optimizerState.isEmpty)
        XCTAssertEqual(loaded.detector.config.classNames, ["ellipse", "rectangle", "triangle"])
        // The final validation's possible missing labels: the set head's, at its best-F1 threshold, with pictures of
        // the images holding most of them.
        let listed = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: o.out.appendingPathComponent("possible_missing.json"))) as? [String: Any])
        XCTAssertEqual(listed["threshold"] as? Double, thresholds.set)
        let images = try XCTUnwrap(listed["images"] as? [[String: Any]])
        let pictures = (try? FileManager.default.contentsOfDirectory(
            atPath: o.out.appendingPathComponent("overlays/possible_missing").path)) ?? []
        XCTAssertEqual(pictures.sorted(), images.prefix(o.validationOverlays).compactMap { $0["file_name"] as? String }
            .map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent + ".png" }.sorted())
    }

    /// A set head with more hypotheses than pycocotools' 100 is validated at its own limit too: validation keeps
    /// 120 detections an image, `metrics.json` and the summary hold the figures at 120 beside those at 100, and they
    /// are what the checkpoint's predictions give when evaluated the same way.
    func testCrowdSizedSetsAreValidatedAtTheirOwnDetectionLimit() throws {
        let dir = try Fixtures.temporaryDirectory()
        var config = DetectorFixtures.smallConfig()
        config.hypotheses = 120
        let file = dir.appendingPathComponent("crowd.json")
        try config.jsonString().write(to: file, atomically: true, encoding: .utf8)
        var o = DetectorFixtures.sampleTrainOptions(out: dir.appendingPathComponent("run"), config: file)
        o.maxSteps = 2
        o.training.set(.epochs, \.epochs, 1)
        let summary = try Trainer(options: o).run()
        let metrics = try XCTUnwrap(summary.metrics)
        XCTAssertEqual(metrics.extraDetectionLimit, 120)
        XCTAssertTrue(metrics.summaryLine.contains("AP50@120"), metrics.summaryLine)
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: o.out.appendingPathComponent("metrics.json"))) as! [String: Any]
        let atLimit = try XCTUnwrap(json["set_at_max_dets"] as? [String: Any])
        XCTAssertEqual(atLimit["max_dets"] as? Int, 120)
        XCTAssertNotNil(json["dense_at_max_dets"])

        // The same weights (the average, as validation uses), predictions kept to 120 an image and evaluated at 120.
        let loaded = try Checkpoint.load(o.out.appendingPathComponent("last.safetensors"), averaged: true)
        var post = PostProcessor()
        post.maxDetections = 120
        let data = try XCTUnwrap(try Trainer(options: o).loadData().val)
        let (predictions, _) = try Predictor(detector: loaded.detector, postProcessor: post, batchSize: 4).predict(dataset: data)
        XCTAssertGreaterThan(predictions.map(\.set.count).max() ?? 0, 100, "validation images with more than 100 set detections")
        let again = try data.evaluate(predictions, hasSetHead: true, maxDetections: 120)
        let want = try XCTUnwrap(again.set).statsAt(maxDetections: 120)
        for (name, v) in zip(COCOEvaluation.maxDetectionStatNames, want) {
            XCTAssertEqual(try XCTUnwrap(atLimit[name] as? Double), v, accuracy: 1e-6, name)
        }
        // At 100 the figures are pycocotools' standard ones, and 120 detections can only add recall.
        let set = try XCTUnwrap(metrics.set)
        XCTAssertGreaterThanOrEqual(set.statsAt(maxDetections: 120)[3], set.stats[8])
    }

    /// A safetensors file that is not a detector checkpoint, or a truncated one, is refused with the file named.
    func testBadCheckpointsAreRefused() throws {
        let dir = try Fixtures.temporaryDirectory()
        let url = dir.appendingPathComponent("x.safetensors")
        try SafeTensors.write([(name: "w", tensor: Tensor(shape: [2], data: [1, 2]))], metadata: [:], to: url)
        XCTAssertThrowsError(try Checkpoint.load(url)) { e in
            XCTAssertTrue("\(e)".contains(url.path), "\(e)")
            XCTAssertTrue("\(e)".contains("not a detector checkpoint (format missing)"), "\(e)")
        }
        let truncated = dir.appendingPathComponent("t.safetensors")
        try Data([1, 2, 3]).write(to: truncated)
        XCTAssertThrowsError(try Checkpoint.load(truncated)) { e in XCTAssertTrue("\(e)".contains(truncated.path)) }
    }
}
