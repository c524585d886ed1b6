import DetectorTestSupport
import Foundation
import TestSupport
import XCTest

/// Every subcommand of the `detector` binary end to end on the committed sample, and its usage errors.
final class CLITests: XCTestCase {
    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    /// The `detector` binary of this build (beside the test bundle).
    static let binary: URL = {
        var dir = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("detector").path) && dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("detector")
    }()

    @discardableResult
    func run(_ arguments: [String], in dir: URL) throws -> Result {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = arguments
        p.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["DETECTOR_KEEP_OPENBLAS_CORETYPE"] = "1"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    let sample = DetectorFixtures.sample
    func exists(_ url: URL, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path), name, file: file, line: line)
    }

    /// train → evaluate → detect on the sample with a small network; then resume rules and usage errors of train.
    func testTrainEvaluateDetectAndTheirErrors() throws {
        let dir = try Fixtures.temporaryDirectory()
        let config = dir.appendingPathComponent("small.json")
        var object = try JSONSerialization.jsonObject(with: Data(DetectorFixtures.smallConfig().jsonString().utf8)) as! [String: Any]
        object["labelSmoothing"] = 0.1
        object["learningRate"] = 0.001
        try JSONSerialization.data(withJSONObject: object).write(to: config)
        let common = ["--data", sample.appendingPathComponent("train.json").path, "--threads", "1", "--batch-size", "4",
                      "--config", config.path]
        let train = try run(["train"] + common + ["--val", sample.appendingPathComponent("val.json").path, "--epochs", "1",
                                                  "--out", "run"], in: dir)
        XCTAssertEqual(train.status, 0, train.err)
        XCTAssertTrue(train.err.contains("precision fp32"), "train prints the precision (fp32 by default): \(train.err)")
        XCTAssertTrue(train.err.contains("set head AP50 by input side: 64 (trained)"), "the end tries other input sides: \(train.err)")
        let runDir = dir.appendingPathComponent("run")
        for f in ["log.jsonl", "loss.svg", "ap.svg", "last.safetensors", "best.safetensors", "metrics.json"] { exists(runDir, f) }
        let checkpoint = runDir.appendingPathComponent("last.safetensors").path
        XCTAssertTrue(try String(contentsOfFile: checkpoint, encoding: .isoLatin1).contains(#"\"labelSmoothing\":0.1"#),
                      "the config file's label smoothing reaches the checkpoint")

        let conflict = try run(["train"] + common + ["--resume", checkpoint, "--input-size", "128", "--out", "run"], in: dir)
        XCTAssertEqual(conflict.status, 1)
        XCTAssertTrue(conflict.err.contains("--input-size") && conflict.err.contains(checkpoint), conflict.err)
        let resumed = try run(["train", "--data", sample.appendingPathComponent("train.json").path, "--threads", "1",
                               "--resume", checkpoint, "--lr", "0.0005", "--epochs", "2", "--no-choose-input-size",
                               "--out", "run"], in: dir)
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertTrue(resumed.err.contains("learningRate: 0.001 → 0.0005"), resumed.err)
        XCTAssertTrue(resumed.err.contains("chooseInputSize: true → false"), resumed.err)

        let usage = try run(["train", "--set-head", "bogus"], in: dir)
        XCTAssertEqual(usage.status, 64)
        XCTAssertTrue(usage.err.contains("--set-head") && usage.err.contains("query"), usage.err)
        let badLR = try run(["train", "--lr", "-1"], in: dir)
        XCTAssertNotEqual(badLR.status, 0)
        XCTAssertTrue(badLR.err.contains("--lr"), badLR.err)
        let badFlip = try run(["train", "--vertical-flip", "1.5"], in: dir)
        XCTAssertNotEqual(badFlip.status, 0)
        XCTAssertTrue(badFlip.err.contains("--vertical-flip") && badFlip.err.contains("probability"), badFlip.err)
        let badMixup = try run(["train", "--mixup", "2"], in: dir)
        XCTAssertNotEqual(badMixup.status, 0)
        XCTAssertTrue(badMixup.err.contains("--mixup") && badMixup.err.contains("probability"), badMixup.err)
        let badPaste = try run(["train", "--copy-paste", "2"], in: dir)
        XCTAssertNotEqual(badPaste.status, 0)
        XCTAssertTrue(badPaste.err.contains("--copy-paste") && badPaste.err.contains("probability"), badPaste.err)
        let badNMS = try run(["evaluate", "--model", checkpoint, "--data", "x.json", "--nms-iou", "0"], in: dir)
        XCTAssertEqual(badNMS.status, 64)
        XCTAssertTrue(badNMS.err.contains("--nms-iou"), badNMS.err)
        let badAnchors = try run(["train", "--anchors", "16,x"], in: dir)
        XCTAssertEqual(badAnchors.status, 64)
        XCTAssertTrue(badAnchors.err.contains("--anchors"), badAnchors.err)

        let evaluate = try run(["evaluate", "--model", checkpoint, "--data", sample.appendingPathComponent("val.json").path,
                                "--out", "eval", "--overlays", "1", "--threads", "1"], in: dir)
        XCTAssertEqual(evaluate.status, 0, evaluate.err)
        XCTAssertTrue(evaluate.out.contains("Average Precision"), evaluate.out)
        for f in ["set_results.json", "set_metrics.json", "set_pr.svg", "dense_results.json"] { exists(dir.appendingPathComponent("eval"), f) }
        let results = try run(["evaluate", "--gt", sample.appendingPathComponent("val.json").path,
                               "--results", dir.appendingPathComponent("eval/dense_results.json").path], in: dir)
        XCTAssertEqual(results.status, 0, results.err)
        let halfUsage = try run(["evaluate", "--gt", "x.json"], in: dir)
        XCTAssertEqual(halfUsage.status, 64)
        XCTAssertTrue(halfUsage.err.contains("--results"), halfUsage.err)
        let badHead = try run(["evaluate", "--model", checkpoint, "--data", "x.json", "--head", "nms"], in: dir)
        XCTAssertEqual(badHead.status, 64)

        let detect = try run(["detect", "--model", checkpoint, sample.appendingPathComponent("val/images").path,
                              "--out", "det", "--threshold", "0.1"], in: dir)
        XCTAssertEqual(detect.status, 0, detect.err)
        exists(dir.appendingPathComponent("det"), "detections.json")
        // Tiles of 128 px over the 256-px sample images (3 × 3 tiles sharing 64 px): every box inside its picture.
        let tiled = try run(["detect", "--model", checkpoint, sample.appendingPathComponent("val/images").path,
                             "--out", "det-tiles", "--threshold", "0.1", "--tile", "128", "--tile-overlap", "64",
                             "--no-overlays"], in: dir)
        XCTAssertEqual(tiled.status, 0, tiled.err)
        let tiledJSON = try JSONSerialization.jsonObject(
            with: Data(contentsOf: dir.appendingPathComponent("det-tiles/detections.json"))) as! [[String: Any]]
        XCTAssertEqual(tiledJSON.count, 8)
        for entry in tiledJSON {
            for d in entry["detections"] as! [[String: Any]] {
                let b = d["box"] as! [Double]
                XCTAssertTrue(b[0] >= 0 && b[1] >= 0 && b[2] <= 256 && b[3] <= 256 && b[0] <= b[2] && b[1] <= b[3], "\(b)")
            }
        }
        let tiledEval = try run(["evaluate", "--model", checkpoint, "--data", sample.appendingPathComponent("val.json").path,
                                 "--out", "eval-tiles", "--tile", "128"], in: dir)
        XCTAssertEqual(tiledEval.status, 0, tiledEval.err)
        XCTAssertTrue(tiledEval.out.contains("Average Precision"), tiledEval.out)
        let valJSON = sample.appendingPathComponent("val.json").path
        let flippedEval = try run(["evaluate", "--model", checkpoint, "--data", valJSON,
                                   "--out", "eval-flips", "--tta", "hv", "--overlays", "0"], in: dir)
        XCTAssertEqual(flippedEval.status, 0, flippedEval.err)
        XCTAssertTrue(flippedEval.out.contains("test-time flips hv: 4 passes an image, merged per class one to one"),
                      flippedEval.out)
        XCTAssertTrue(flippedEval.out.contains("== set head (4 flipped passes merged one to one) =="), flippedEval.out)
        let suppressedEval = try run(["evaluate", "--model", checkpoint, "--data", valJSON, "--out", "eval-flips-nms",
                                      "--tta", "h", "--tta-merge", "nms", "--overlays", "0"], in: dir)
        XCTAssertEqual(suppressedEval.status, 0, suppressedEval.err)
        XCTAssertTrue(suppressedEval.out.contains("== dense head (2 flipped passes merged by NMS) =="),
                      suppressedEval.out)
        let ensembleEval = try run(["evaluate", "--model", checkpoint, "--model", checkpoint, "--data", valJSON,
                                    "--out", "eval-ensemble", "--tta", "h", "--overlays", "0"], in: dir)
        XCTAssertEqual(ensembleEval.status, 0, ensembleEval.err)
        XCTAssertTrue(ensembleEval.out.contains("test-time flips h and an ensemble of 2 models: 4 passes an image, "
                                                + "merged per class one to one"), ensembleEval.out)
        XCTAssertTrue(ensembleEval.out.contains("== set head (4 flipped and ensembled passes merged one to one) =="),
                      ensembleEval.out)
        let ensembleDetect = try run(["detect", "--model", checkpoint, "--model", checkpoint,
                                      sample.appendingPathComponent("val/images").path, "--out", "det-ensemble",
                                      "--tta-merge", "nms", "--no-overlays"], in: dir)
        XCTAssertEqual(ensembleDetect.status, 0, ensembleDetect.err)
        XCTAssertTrue(ensembleDetect.out.contains("chosen on one pass of \(checkpoint); the 2 merged passes"),
                      ensembleDetect.out)
        let mergeAlone = try run(["detect", "--model", checkpoint, "x.png", "--tta-merge", "nms"], in: dir)
        XCTAssertEqual(mergeAlone.status, 64)
        XCTAssertTrue(mergeAlone.err.contains("--tta-merge needs --tta or a second --model"), mergeAlone.err)
        let flippedDetect = try run(["detect", "--model", checkpoint, sample.appendingPathComponent("val/images").path,
                                     "--out", "det-flips", "--threshold", "0.1", "--tta", "h", "--no-overlays"],
                                    in: dir)
        XCTAssertEqual(flippedDetect.status, 0, flippedDetect.err)
        XCTAssertFalse(flippedDetect.out.contains("chosen on one pass"), "a given --threshold needs no note")
        let storedFlips = try run(["detect", "--model", checkpoint, sample.appendingPathComponent("val/images").path,
                                   "--out", "det-flips2", "--tta", "hv", "--no-overlays"], in: dir)
        XCTAssertEqual(storedFlips.status, 0, storedFlips.err)
        XCTAssertTrue(storedFlips.out.contains("that threshold was chosen on one pass of \(checkpoint); the 4 merged "
                                               + "passes"), storedFlips.out)
        exists(dir.appendingPathComponent("det-flips"), "detections.json")
        let badFlips = try run(["detect", "--model", checkpoint, "x.png", "--tta", "v"], in: dir)
        XCTAssertEqual(badFlips.status, 64)
        XCTAssertTrue(badFlips.err.contains("--tta"), badFlips.err)
        let badOverlap = try run(["detect", "--model", checkpoint, "x.png", "--tile", "128", "--tile-overlap", "128"], in: dir)
        XCTAssertEqual(badOverlap.status, 64)
        XCTAssertTrue(badOverlap.err.contains("--tile-overlap: must be in [0, 128)"), badOverlap.err)
        let overlapAlone = try run(["detect", "--model", checkpoint, "x.png", "--tile-overlap", "8"], in: dir)
        XCTAssertEqual(overlapAlone.status, 64)
        XCTAssertTrue(overlapAlone.err.contains("--tile-overlap needs --tile"), overlapAlone.err)
        let missing = try run(["detect", "--model", dir.appendingPathComponent("none.safetensors").path, "x.png"], in: dir)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("none.safetensors"), missing.err)
    }

    /// synth, dataset stats, match and bench on small inputs.
    func testDataMatchAndBenchCommands() throws {
        let dir = try Fixtures.temporaryDirectory()
        let synth = try run(["synth", "--out", "scenes", "--train", "2", "--val", "1", "--size", "64"], in: dir)
        XCTAssertEqual(synth.status, 0, synth.err)
        exists(dir.appendingPathComponent("scenes"), "train.json")
        let stats = try run(["dataset", "stats", sample.appendingPathComponent("train.json").path], in: dir)
        XCTAssertEqual(stats.status, 0, stats.err)
        XCTAssertTrue(stats.out.contains("16"), stats.out)
        let badStats = try run(["dataset", "stats", "missing.json"], in: dir)
        XCTAssertNotEqual(badStats.status, 0)
        XCTAssertTrue(badStats.err.contains("missing.json"), badStats.err)
        let match = try run(["match", Fixtures.url("matching/cost_3x3.json").path], in: dir)
        XCTAssertEqual(match.status, 0, match.err)
        XCTAssertTrue(match.out.contains("5"), match.out)
        let bench = try run(["bench", "train", "--data", "random", "--steps", "1", "--batch-size", "2", "--input-size", "64",
                             "--threads", "1"], in: dir)
        XCTAssertEqual(bench.status, 0, bench.err)
        XCTAssertTrue(bench.out.contains("images/s") && bench.out.contains("inputSize 64"), bench.out)
        let badBench = try run(["bench", "train", "--data", "csv"], in: dir)
        XCTAssertEqual(badBench.status, 64)
        let pyramid = try run(["bench", "train", "--data", "random", "--steps", "1", "--batch-size", "2", "--input-size", "64",
                               "--pyramid-strides", "4,8,16", "--threads", "1"], in: dir)
        XCTAssertEqual(pyramid.status, 0, pyramid.err)
        XCTAssertTrue(pyramid.out.contains("images/s") && pyramid.out.contains("pyramidStrides [4, 8, 16]"), pyramid.out)
        let badStrides = try run(["bench", "train", "--data", "random", "--steps", "1", "--pyramid-strides", "4,16"], in: dir)
        XCTAssertNotEqual(badStrides.status, 0)
        XCTAssertTrue(badStrides.err.contains("--pyramid-strides"), badStrides.err)
    }

    /// `bench train` for one step of batch 2 at 64² on one thread, without warm-up.
    static let oneTinyBenchStep = ["bench", "train", "--data", "random", "--steps", "1", "--warmup", "0", "--batch-size", "2",
                                   "--input-size", "64", "--threads", "1"]

    /// `--precision`: fp32 and auto print the mode in use (auto is bf16 exactly where /proc/cpuinfo lists
    /// avx512_bf16), bf16 runs or is a usage error naming AVX512_BF16, an unknown value is a usage error.
    func testPrecisionFlag() throws {
        let dir = try Fixtures.temporaryDirectory()
        let common = Self.oneTinyBenchStep
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let hasBF16 = cpuinfo.split(whereSeparator: \.isWhitespace).contains("avx512_bf16")
        let fp32 = try run(common + ["--precision", "fp32"], in: dir)
        XCTAssertEqual(fp32.status, 0, fp32.err)
        XCTAssertTrue(fp32.out.contains("precision: fp32"), fp32.out)
        let auto = try run(common + ["--precision", "auto"], in: dir)
        XCTAssertEqual(auto.status, 0, auto.err)
        XCTAssertTrue(auto.out.contains("precision: \(hasBF16 ? "bf16" : "fp32")"), auto.out)
        let bf16 = try run(common + ["--precision", "bf16"], in: dir)
        if hasBF16 {
            XCTAssertEqual(bf16.status, 0, bf16.err)
            XCTAssertTrue(bf16.out.contains("precision: bf16"), bf16.out)
        } else {
            XCTAssertEqual(bf16.status, 64)
            XCTAssertTrue(bf16.err.contains("AVX512_BF16"), bf16.err)
        }
        let bad = try run(common + ["--precision", "fp16"], in: dir)
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.err.contains("--precision"), bad.err)
    }

    /// `--replicas`: `bench train` reports the count it ran (auto at one thread is 1), and a count that cannot split
    /// the batch, or no count at all, is a usage error naming the flag.
    func testReplicasFlag() throws {
        let dir = try Fixtures.temporaryDirectory()
        let common = Self.oneTinyBenchStep
        let auto = try run(common, in: dir)
        XCTAssertEqual(auto.status, 0, auto.err)
        XCTAssertTrue(auto.out.contains("replicas: 1"), auto.out)
        let two = try run(common + ["--replicas", "2"], in: dir)
        XCTAssertEqual(two.status, 0, two.err)
        XCTAssertTrue(two.out.contains("replicas: 2 (1 thread each, batch shards of 1)"), two.out)
        for bad in ["3", "0", "two"] {
            let r = try run(common + ["--replicas", bad], in: dir)
            XCTAssertEqual(r.status, 64, bad)
            XCTAssertTrue(r.err.contains("--replicas"), r.err)
        }
    }

    /// `evaluate --max-dets 300`: pycocotools' 12 lines, the figures at 300, the crowd metrics, and all of them in the
    /// metrics file; a limit below 100 is a usage error. `train --config` takes at most one preset and one file.
    func testMaxDetsCrowdMetricsAndPresetNames() throws {
        let dir = try Fixtures.temporaryDirectory()
        let gt = Fixtures.url("evaluation/case_max_dets_gt.json").path, dt = Fixtures.url("evaluation/case_max_dets_dt.json").path
        let r = try run(["evaluate", "--gt", gt, "--results", dt, "--max-dets", "300", "--json", "m.json"], in: dir)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("maxDets=300 ]") && r.out.contains("maxDets=100 ]"), r.out)
        XCTAssertTrue(r.out.contains("MR⁻² = ") && r.out.contains("JI = "), r.out)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("m.json"))) as? [String: Any])
        XCTAssertNotNil(json["stats_at_max_dets"])
        XCTAssertNotNil((json["crowd"] as? [String: Any])?["MR-2"])
        let low = try run(["evaluate", "--gt", gt, "--results", dt, "--max-dets", "50"], in: dir)
        XCTAssertNotEqual(low.status, 0)
        XCTAssertTrue(low.err.contains("--max-dets"), low.err)
        let twoPresets = try run(["train", "--config", "reference", "--config", "default"], in: dir)
        XCTAssertNotEqual(twoPresets.status, 0)
        XCTAssertTrue(twoPresets.err.contains("--config"), twoPresets.err)
    }
}
