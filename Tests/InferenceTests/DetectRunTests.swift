import Foundation
import Imaging
import TestSupport
import XCTest
import DetectorModel
import DetectorTestSupport
@testable import Inference

/// `DetectRun` (`detector detect`) with a tiny untrained network on the sample's validation images.
final class DetectRunTests: XCTestCase {
    static let images = DetectorFixtures.sample.appendingPathComponent("val/images")

    func testFolderInputJSONAndThreshold() throws {
        let dir = try Fixtures.temporaryDirectory()
        let model = try DetectorFixtures.tinyCheckpoint(in: dir)
        let files = try DetectRun.imageFiles([Self.images])
        XCTAssertEqual(files.map(\.lastPathComponent), (1...8).map { String(format: "%06d.png", $0) })
        for head in DetectRun.Head.allCases {
            let threshold = 0.2
            let run = try DetectRun(checkpoint: model, threshold: threshold, head: head, batchSize: 3)
            let out = dir.appendingPathComponent("out-\(head.rawValue)")
            var progress: [Int] = []
            let results = try run.run(files, overlays: out) { done, total in
                XCTAssertEqual(total, 8)
                progress.append(done)
            }
            XCTAssertEqual(progress, [3, 6, 8])
            XCTAssertEqual(results.map(\.file), files)
            // Every score at or above the threshold; the lower threshold keeps a superset.
            let all = try DetectRun(checkpoint: model, threshold: 0, head: head, batchSize: 3).run(files)
            for (r, a) in zip(results, all) {
                XCTAssertTrue(r.detections.allSatisfy { $0.score >= threshold })
                XCTAssertEqual(r.detections, a.detections.filter { $0.score >= threshold })
            }
            XCTAssertGreaterThan(all.reduce(0) { $0 + $1.detections.count }, 0)

            let json = try JSONSerialization.jsonObject(with: try run.json(results)) as! [[String: Any]]
            XCTAssertEqual(json.count, 8)
            for (entry, r) in zip(json, results) {
                XCTAssertEqual(entry["file"] as? String, r.file.path)
                XCTAssertEqual(entry["width"] as? Int, 256)
                XCTAssertEqual(entry["height"] as? Int, 256)
                let dets = try XCTUnwrap(entry["detections"] as? [[String: Any]])
                XCTAssertEqual(dets.count, r.detections.count)
                for (d, o) in zip(dets, r.detections) {
                    let box = try XCTUnwrap(d["box"] as? [Double])
                    XCTAssertEqual(box.count, 4)
                    XCTAssertEqual(box[0], o.box.x1, accuracy: 0.006)
                    XCTAssertEqual(box[3], o.box.y2, accuracy: 0.006)
                    XCTAssertLessThanOrEqual(box[0], box[2])
                    XCTAssertGreaterThanOrEqual(try XCTUnwrap(d["score"] as? Double), threshold - 5e-5)
                    XCTAssertEqual(d["class_id"] as? Int, o.classIndex)
                    XCTAssertEqual(d["class"] as? String, DetectorFixtures.sampleClassNames[o.classIndex])
                }
            }
            for f in files {
                XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f.lastPathComponent).path))
            }
        }
    }

    func testMissingFileIsNamed() throws {
        let missing = Self.images.appendingPathComponent("no-such-image.png")
        XCTAssertThrowsError(try DetectRun.imageFiles([Self.images.appendingPathComponent("000001.png"), missing])) { e in
            XCTAssertTrue("\(e)".contains(missing.path), "\(e)")
        }
        let empty = try Fixtures.temporaryDirectory()
        XCTAssertThrowsError(try DetectRun.imageFiles([empty])) { e in
            XCTAssertTrue("\(e)".contains(empty.path) && "\(e)".contains("no .png"), "\(e)")
        }
    }

    func testUnreadableImageIsNamed() throws {
        let dir = try Fixtures.temporaryDirectory()
        let bad = dir.appendingPathComponent("broken.png")
        try Data("not a png".utf8).write(to: bad)
        let run = try DetectRun(checkpoint: try DetectorFixtures.tinyCheckpoint(in: dir), threshold: 0.3, head: .dense)
        XCTAssertThrowsError(try run.run([bad])) { e in XCTAssertTrue("\(e)".contains(bad.path), "\(e)") }
    }

    func testSetHeadOfModelWithoutOneIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory()
        let model = try DetectorFixtures.tinyCheckpoint(in: dir, setHead: .none)
        XCTAssertThrowsError(try DetectRun(checkpoint: model, threshold: 0.3, head: .set)) { e in
            XCTAssertTrue("\(e)".contains("no set head") && "\(e)".contains(model.path), "\(e)")
        }
        XCTAssertNoThrow(try DetectRun(checkpoint: model, threshold: 0.3, head: .dense))
    }

    func testMissingCheckpointIsNamed() {
        let model = URL(fileURLWithPath: "/nonexistent/model.safetensors")
        XCTAssertThrowsError(try DetectRun(checkpoint: model, threshold: 0.3, head: .dense)) { e in
            XCTAssertTrue("\(e)".contains(model.path), "\(e)")
        }
    }

    func testOverlaysNeverOverwriteInputs() throws {
        let dir = try Fixtures.temporaryDirectory()
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
        let files = [a.appendingPathComponent("x.png"), b.appendingPathComponent("x.png")]
        let names = try DetectRun.overlayFiles(for: files, in: dir.appendingPathComponent("out")).map(\.lastPathComponent)
        XCTAssertEqual(names, ["x.png", "x_2.png"])
        XCTAssertThrowsError(try DetectRun.overlayFiles(for: files, in: a)) { e in
            XCTAssertTrue("\(e)".contains("overwrite"), "\(e)")
        }
    }

    /// Without a threshold, detect takes the head's best-F1 threshold stored in the checkpoint; with none stored,
    /// 0.3; a given threshold wins. The stored threshold keeps exactly the detections a given one does.
    func testStoredScoreThresholdIsTheDefault() throws {
        let dir = try Fixtures.temporaryDirectory()
        let plain = try DetectorFixtures.tinyCheckpoint(in: dir)
        let loaded = try Checkpoint.load(plain)
        let stored = dir.appendingPathComponent("stored.safetensors")
        let t = ScoreThresholds(set: 0.004, dense: 0.02)
        try Checkpoint.save(loaded.detector, optimizer: nil, state: loaded.state, extraMetadata: t.metadata, to: stored)
        let files = Array(try DetectRun.imageFiles([Self.images]).prefix(3))
        for head in DetectRun.Head.allCases {
            let fallback = try DetectRun(checkpoint: plain, head: head)
            XCTAssertEqual(fallback.thresholdSource, .fallback)
            XCTAssertEqual(fallback.threshold, ScoreThresholds.fallback)
            let own = try DetectRun(checkpoint: stored, head: head, batchSize: 3)
            XCTAssertEqual(own.thresholdSource, .stored)
            XCTAssertEqual(own.threshold, t.threshold(of: head))
            let given = try DetectRun(checkpoint: stored, threshold: t.threshold(of: head), head: head, batchSize: 3)
            XCTAssertEqual(given.thresholdSource, .given)
            let a = try own.run(files), b = try given.run(files)
            XCTAssertEqual(a.map(\.detections.count), b.map(\.detections.count), "\(head)")
            XCTAssertTrue(a.allSatisfy { $0.detections.allSatisfy { $0.score >= own.threshold } })
            XCTAssertEqual(try DetectRun(checkpoint: stored, threshold: 0.9, head: head).threshold, 0.9)
        }
        let bad = dir.appendingPathComponent("bad.safetensors")
        try Checkpoint.save(loaded.detector, optimizer: nil, state: loaded.state,
                            extraMetadata: [ScoreThresholds.metadataKey: "{\"dense\": -1}"], to: bad)
        XCTAssertThrowsError(try DetectRun(checkpoint: bad, head: .dense)) { e in
            XCTAssertTrue("\(e)".contains(bad.path), "\(e)")
        }
    }
}
