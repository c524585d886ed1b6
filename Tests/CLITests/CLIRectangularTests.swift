import DetectorModel
import DetectorTestSupport
import Foundation
import TestSupport
import XCTest

extension CLITests {
    /// `--rect` / `--no-rect` set `rectangular` in the checkpoint; with the fc set head it is a usage error naming
    /// `--rect`; `export` writes a rectangular checkpoint as the square graph.
    func testRectangularFlag() throws {
        let dir = try Fixtures.temporaryDirectory()
        let config = try DetectorFixtures.smallConfigFile(in: dir)
        let common = ["train", "--data", sample.appendingPathComponent("train.json").path, "--threads", "1", "--batch-size", "4",
                      "--config", config.path, "--max-steps", "1", "--eval-every", "0"]
        let on = try run(common + ["--rect", "--out", "on"], in: dir)
        XCTAssertEqual(on.status, 0, on.err)
        XCTAssertTrue(on.err.contains("rectangular"), on.err)
        let onCheckpoint = dir.appendingPathComponent("on/last.safetensors")
        XCTAssertTrue(try Checkpoint.load(onCheckpoint).detector.config.rectangular)
        let off = try run(common + ["--no-rect", "--out", "off"], in: dir)
        XCTAssertEqual(off.status, 0, off.err)
        XCTAssertFalse(try Checkpoint.load(dir.appendingPathComponent("off/last.safetensors")).detector.config.rectangular)
        let fc = try run(common + ["--rect", "--set-head", "fc", "--out", "fc"], in: dir)
        XCTAssertNotEqual(fc.status, 0)
        XCTAssertTrue(fc.err.contains("--rect") && fc.err.contains("fc"), fc.err)
        let export = try run(["export", "--model", onCheckpoint.path, "--out", "on.onnx"], in: dir)
        XCTAssertEqual(export.status, 0, export.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("on.onnx").path))
    }
}
