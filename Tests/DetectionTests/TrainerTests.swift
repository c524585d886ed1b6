import Foundation
import NeuralNet
import TestSupport
import XCTest
@testable import Detection

/// The trainer on the committed synthetic sample (`datasets/sample`), with a small network so that runs take seconds.
final class TrainerTests: XCTestCase {
    static let sample = Fixtures.packageRoot.appendingPathComponent("datasets/sample")

    /// The small configuration of `EvaluateModelTests` as a `--config` file.
    static func smallConfig(in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent("small.json")
        try EvaluateModelTests.smallConfig().jsonString().write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static func options(out: URL, config: URL) -> TrainOptions {
        var o = TrainOptions()
        o.data = sample.appendingPathComponent("train.json")
        o.val = sample.appendingPathComponent("val.json")
        o.config = config
        o.out = out
        o.batchSize = 4
        o.threads = 1
        o.evalEvery = 0
        o.verbose = false
        o.warmupSteps = 2
        return o
    }

    static func losses(_ url: URL) throws -> [Int: Double] {
        var out: [Int: Double] = [:]
        for r in try JSONLinesLog.read(url) {
            if let s = r["step"] as? Int, let l = r["loss"] as? Double { out[s] = l }
        }
        return out
    }

    /// With no data and no `--config`, the synthetic default's configuration (README, "Results"); a `--config`
    /// file or data of one's own starts from the reference configuration instead.
    func testSyntheticDefaultConfiguration() throws {
        let c = try Trainer(options: TrainOptions()).makeConfig(classes: ["circle", "rectangle", "triangle"])
        XCTAssertEqual(c.inputSize, 256)
        XCTAssertEqual(c.hypotheses, 100)
        XCTAssertEqual(c.anchorSizes, [16, 32, 64])
        XCTAssertEqual(c.denseAssignment, .atss)
        XCTAssertEqual(c.querySelection, .nms)
        XCTAssertEqual(c.queryNMSIoU, 0.6)
        XCTAssertEqual(c.matchCost, .reinspect)
        XCTAssertTrue(c.setClassPrior && c.setGeometry)
        XCTAssertEqual(c.name, "custom")
        var own = TrainOptions()
        own.data = Self.sample.appendingPathComponent("train.json")
        let reference = try Trainer(options: own).makeConfig(classes: ["object"])
        XCTAssertEqual(reference, DetectorConfig.reference(classes: ["object"]))
        XCTAssertEqual(reference.querySelection, .topK)
    }

    /// Resuming from a checkpoint continues exactly: the losses after the resume equal those of an uninterrupted
    /// run with the same seed (single-threaded).
    func testResumeEqualsUninterruptedRun() throws {
        let dir = try Fixtures.temporaryDirectory()
        let config = try Self.smallConfig(in: dir)
        var full = Self.options(out: dir.appendingPathComponent("full"), config: config)
        full.epochs = 2                      // 16 images / batch 4 = 4 steps per epoch
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

        let a = try Self.losses(full.out.appendingPathComponent("log.jsonl"))
        let b = try Self.losses(first.out.appendingPathComponent("log.jsonl"))
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

    /// A training run writes its log, plots, checkpoints and metrics, and the checkpoint reloads with the same outputs.
    func testRunFolderAndCheckpointRoundTrip() throws {
        let dir = try Fixtures.temporaryDirectory()
        var o = Self.options(out: dir.appendingPathComponent("run"), config: try Self.smallConfig(in: dir))
        o.maxSteps = 3
        o.epochs = 1
        let summary = try Trainer(options: o).run()
        XCTAssertNotNil(summary.metrics?.set)
        for f in ["log.jsonl", "loss.svg", "last.safetensors", "best.safetensors", "metrics.json", "ap.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: o.out.appendingPathComponent(f).path), f)
        }
        let loaded = try Checkpoint.load(o.out.appendingPathComponent("last.safetensors"))
        XCTAssertEqual(loaded.state.step, 3)
        XCTAssertFalse(loaded.optimizerState.isEmpty)
        XCTAssertEqual(loaded.detector.config.classNames, ["ellipse", "rectangle", "triangle"])
    }

    /// A checkpoint that lies about a tensor's shape, or lacks the configuration, is refused with the file named.
    func testBadCheckpointsAreRefused() throws {
        let dir = try Fixtures.temporaryDirectory()
        let url = dir.appendingPathComponent("x.safetensors")
        try SafeTensors.write([(name: "w", tensor: Tensor(shape: [2], data: [1, 2]))], metadata: [:], to: url)
        XCTAssertThrowsError(try Checkpoint.load(url)) { e in
            XCTAssertTrue("\(e)".contains(url.path), "\(e)")
            XCTAssertTrue("\(e)".contains("configuration"), "\(e)")
        }
        let truncated = dir.appendingPathComponent("t.safetensors")
        try Data([1, 2, 3]).write(to: truncated)
        XCTAssertThrowsError(try Checkpoint.load(truncated)) { e in XCTAssertTrue("\(e)".contains(truncated.path)) }
    }
}
