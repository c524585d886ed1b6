import Evaluation
import Foundation
import Imaging
import TestSupport
import XCTest
import DetectorModel
import DetectorTestSupport
@testable import Inference

/// `ModelEvaluation.run` with a tiny untrained network on the committed synthetic sample (8 validation images,
/// 3 classes): files, their consistency with a fresh evaluation of the written results, overlays, errors.
final class EvaluateModelTests: XCTestCase {
    func testSampleClassNames() throws {
        let gt = try COCOGroundTruth(contentsOf: DetectorFixtures.sample.appendingPathComponent("val.json"))
        XCTAssertEqual(gt.categories.sorted { $0.id < $1.id }.map(\.name), DetectorFixtures.sampleClassNames)
    }

    func testBothHeadsWriteConsistentFiles() throws {
        let dir = try Fixtures.temporaryDirectory()
        let gtURL = DetectorFixtures.sample.appendingPathComponent("val.json")
        var options = ModelEvaluation.Options(model: try DetectorFixtures.tinyCheckpoint(in: dir), data: gtURL,
                                              out: dir.appendingPathComponent("eval"))
        options.overlays = 3
        options.batchSize = 4
        var calls: [(Int, Int)] = []
        let report = try ModelEvaluation.run(options) { calls.append(($0, $1)) }
        XCTAssertEqual(report.heads.map(\.head), [.set, .dense])
        XCTAssertEqual(report.imageCount, 8)
        XCTAssertEqual(report.skippedImages, 0)
        XCTAssertEqual(calls.last?.0, 8)
        XCTAssertEqual(calls.last?.1, 8)

        let gt = try COCOGroundTruth(contentsOf: gtURL)
        let imageIDs = Set(gt.images.map(\.id)), categoryIDs = Set(gt.categories.map(\.id))
        let evaluator = COCOEvaluator(groundTruth: gt)
        for h in report.heads {
            let name = h.head.rawValue
            XCTAssertEqual(h.resultsFile.lastPathComponent, "\(name)_results.json")
            XCTAssertEqual(h.metricsFile.lastPathComponent, "\(name)_metrics.json")
            XCTAssertEqual(h.plotFile.lastPathComponent, "\(name)_pr.svg")
            // The results file parses and names only known images and categories.
            let detections = try COCOResults.load(contentsOf: h.resultsFile)
            XCTAssertFalse(detections.isEmpty, "an untrained network still scores some boxes above 0.001")
            XCTAssertEqual(detections.count, h.evaluation.detectionCount)
            for d in detections {
                XCTAssertTrue(imageIDs.contains(d.imageID), "unknown image id \(d.imageID)")
                XCTAssertTrue(categoryIDs.contains(d.categoryID), "unknown category id \(d.categoryID)")
                XCTAssertTrue((0...1).contains(d.score))
            }
            if h.head == .dense {
                XCTAssertLessThanOrEqual(Dictionary(grouping: detections, by: \.imageID).values.map(\.count).max() ?? 0, 100)
            }
            // The metrics file holds the 12 stats of a fresh evaluation of the written results.
            let again = try evaluator.evaluate(detections: detections, source: h.resultsFile.path)
            let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: h.metricsFile)) as! [String: Any]
            let stats = try XCTUnwrap(metrics["stats_list"] as? [Double])
            XCTAssertEqual(stats.count, 12)
            for (a, b) in zip(stats, again.stats) { XCTAssertEqual(a, b, accuracy: 1e-12) }
            XCTAssertEqual(h.evaluation.stats, again.stats)
            XCTAssertEqual((metrics["per_category"] as? [Any])?.count, 3)
            XCTAssertEqual(h.confusionPlotFile.lastPathComponent, "\(name)_confusion.svg")
            XCTAssertTrue(try String(contentsOf: h.confusionPlotFile, encoding: .utf8).contains(">background</text>"))
            // The possible missing labels: at the overlay threshold, written where the other files are.
            XCTAssertEqual(h.possibleMissingFile.lastPathComponent, "\(name)_possible_missing.json")
            XCTAssertEqual(h.possibleMissing.threshold, h.overlayThreshold)
            let listed = try JSONSerialization.jsonObject(with: Data(contentsOf: h.possibleMissingFile)) as? [String: Any]
            XCTAssertEqual((listed?["detections"] as? [Any])?.count, h.possibleMissing.candidates.count)
            // Pictures of the images with most of them, most first.
            let worst = h.possibleMissing.images.prefix(3).map {
                "possible_missing/\(name)_" + URL(fileURLWithPath: $0.fileName).deletingPathExtension().lastPathComponent
                    + ".png"
            }
            XCTAssertFalse(worst.isEmpty, "an untrained network's confident boxes miss the ground truth")
            XCTAssertEqual(h.missingOverlayFiles.map { $0.deletingLastPathComponent().lastPathComponent + "/"
                + $0.lastPathComponent }, worst)
            for f in h.missingOverlayFiles { XCTAssertTrue(FileManager.default.fileExists(atPath: f.path)) }
            let svg = try String(contentsOf: h.plotFile, encoding: .utf8)
            XCTAssertTrue(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"))
            XCTAssertTrue(svg.contains("\(name) head"))
            // Overlays: the first three images, PNGs of the image's size.
            XCTAssertEqual(h.overlayFiles.map(\.lastPathComponent), ["000001", "000002", "000003"].map { "\(name)_\($0).png" })
            for f in h.overlayFiles {
                let size = try PNG.size(of: f)
                XCTAssertEqual(size.width, 256)
                XCTAssertEqual(size.height, 256)
            }
        }
    }

    /// `nmsIoU` reaches the dense head's NMS: a looser threshold keeps more of the untrained network's overlapping
    /// boxes that overlap beyond 0.5, a stricter one fewer beyond its own, and no value is the default 0.5.
    func testTheNMSThresholdReachesTheDenseHead() throws {
        let dir = try Fixtures.temporaryDirectory()
        let model = try DetectorFixtures.tinyCheckpoint(in: dir)
        func detections(_ iou: Double?) throws -> [COCODetection] {
            var options = ModelEvaluation.Options(model: model, data: DetectorFixtures.sample.appendingPathComponent("val.json"),
                                                  out: dir.appendingPathComponent("eval-\(iou ?? 0)"))
            options.heads = .dense
            options.nmsIoU = iou
            return try COCOResults.load(contentsOf: try XCTUnwrap(ModelEvaluation.run(options).heads.first).resultsFile)
        }
        let strict = try detections(0.2), plain = try detections(nil), loose = try detections(0.8)
        XCTAssertEqual(plain, try detections(0.5), "nil is torchvision's 0.5")
        // Same-image, same-class pairs overlapping by more than `t` (each image keeps its 100 best either way).
        func pairs(_ ds: [COCODetection], above t: Double) -> Int {
            var n = 0
            for group in Dictionary(grouping: ds, by: { "\($0.imageID)/\($0.categoryID)" }).values {
                for (i, a) in group.enumerated() {
                    for b in group[(i + 1)...] {
                        let iw = max(0, min(a.box.x + a.box.width, b.box.x + b.box.width) - max(a.box.x, b.box.x))
                        let ih = max(0, min(a.box.y + a.box.height, b.box.y + b.box.height) - max(a.box.y, b.box.y))
                        let inter = iw * ih
                        if inter / (a.box.width * a.box.height + b.box.width * b.box.height - inter) > t { n += 1 }
                    }
                }
            }
            return n
        }
        XCTAssertLessThan(pairs(strict, above: 0.25), pairs(plain, above: 0.25))
        XCTAssertLessThan(pairs(plain, above: 0.55), pairs(loose, above: 0.55))
    }

    func testOverlayShowsGroundTruthInWhite() throws {
        let dir = try Fixtures.temporaryDirectory()
        var options = ModelEvaluation.Options(model: try DetectorFixtures.tinyCheckpoint(in: dir),
                                              data: DetectorFixtures.sample.appendingPathComponent("val.json"),
                                              out: dir.appendingPathComponent("eval"))
        options.heads = .dense
        options.overlays = 1
        options.overlayThreshold = 1.01           // no predictions drawn: only the ground truth
        let report = try ModelEvaluation.run(options)
        let file = try XCTUnwrap(report.heads.first?.overlayFiles.first)
        let picture = try PNG.read(file)
        let original = try PNG.read(DetectorFixtures.sample.appendingPathComponent("val/images/000001.png"))
        var changed = 0, white = 0
        for i in 0..<picture.pixels.count where picture.pixels[i] != original.pixels[i] {
            changed += 1
            if picture.pixels[i] == 255 { white += 1 }
        }
        XCTAssertGreaterThan(changed, 0)
        XCTAssertEqual(white, changed, "only white ground-truth boxes differ from the image")
    }

    func testSetHeadOfModelWithoutOneIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory()
        let model = try DetectorFixtures.tinyCheckpoint(in: dir, setHead: .none)
        var options = ModelEvaluation.Options(model: model, data: DetectorFixtures.sample.appendingPathComponent("val.json"),
                                              out: dir.appendingPathComponent("eval"))
        options.heads = .set
        XCTAssertThrowsError(try ModelEvaluation.run(options)) { e in
            XCTAssertTrue("\(e)".contains("no set head"), "\(e)")
            XCTAssertTrue("\(e)".contains(model.path), "\(e)")
        }
        options.heads = .both
        let report = try ModelEvaluation.run(options)
        XCTAssertEqual(report.heads.map(\.head), [.dense])
        XCTAssertTrue(report.notes.contains { $0.contains("no set head") })
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("eval/set_results.json").path))
    }

    func testClassCountMismatchIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory()
        var options = ModelEvaluation.Options(model: try DetectorFixtures.tinyCheckpoint(in: dir, classes: ["a", "b"]),
                                              data: DetectorFixtures.sample.appendingPathComponent("val.json"),
                                              out: dir.appendingPathComponent("eval"))
        options.heads = .dense
        XCTAssertThrowsError(try ModelEvaluation.run(options)) { e in
            XCTAssertTrue("\(e)".contains("3 categories"), "\(e)")
            XCTAssertTrue("\(e)".contains("2 classes"), "\(e)")
        }
    }

    func testMissingImagesSkippedOrReported() throws {
        let dir = try Fixtures.temporaryDirectory()
        // A copy of the validation set with one image file missing.
        let data = dir.appendingPathComponent("val.json")
        try FileManager.default.copyItem(at: DetectorFixtures.sample.appendingPathComponent("val.json"), to: data)
        let images = dir.appendingPathComponent("images")
        try FileManager.default.copyItem(at: DetectorFixtures.sample.appendingPathComponent("val/images"), to: images)
        try FileManager.default.removeItem(at: images.appendingPathComponent("000004.png"))
        var options = ModelEvaluation.Options(model: try DetectorFixtures.tinyCheckpoint(in: dir), data: data,
                                              out: dir.appendingPathComponent("eval"))
        options.images = images
        options.heads = .dense
        XCTAssertThrowsError(try ModelEvaluation.run(options)) { e in XCTAssertTrue("\(e)".contains("000004.png"), "\(e)") }
        options.skipBadImages = true
        let report = try ModelEvaluation.run(options)
        XCTAssertEqual(report.skippedImages, 1)
        XCTAssertEqual(report.heads[0].evaluation.imageCount, 8, "the skipped image's ground truth still counts")
        XCTAssertFalse(try COCOResults.load(contentsOf: report.heads[0].resultsFile).contains { $0.imageID == 4 })
    }

    /// Without an overlay threshold, each head's overlays are drawn at its best-F1 threshold on the data.
    func testOverlaysDefaultToTheBestF1Threshold() throws {
        let dir = try Fixtures.temporaryDirectory()
        var options = ModelEvaluation.Options(model: try DetectorFixtures.tinyCheckpoint(in: dir),
                                              data: DetectorFixtures.sample.appendingPathComponent("val.json"),
                                              out: dir.appendingPathComponent("eval"))
        options.overlays = 1
        let report = try ModelEvaluation.run(options)
        XCTAssertEqual(report.heads.count, 2)
        for h in report.heads {
            XCTAssertEqual(h.overlayThreshold, h.diagnostics.bestF1.threshold, "\(h.head)")
        }
        options.overlayThreshold = 0.7
        XCTAssertEqual(try ModelEvaluation.run(options).heads.map(\.overlayThreshold), [0.7, 0.7])
    }
}
