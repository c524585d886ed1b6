import Boxes
@testable import Datasets
import Foundation
import Imaging
import TestSupport
import XCTest

final class SyntheticTests: XCTestCase {
    func testRenderIsDeterministicAndSeedDependent() {
        let a = SyntheticScenes.render(index: 3, seed: 7)
        let b = SyntheticScenes.render(index: 3, seed: 7)
        let c = SyntheticScenes.render(index: 3, seed: 8)
        XCTAssertEqual(a.image, b.image)
        XCTAssertEqual(a.annotations, b.annotations)
        XCTAssertNotEqual(a.image, c.image)
    }

    func testSceneStatisticsAreCrowded() {
        let config = SyntheticSceneConfig()
        var boxes: [[Box]] = []
        var drawn = 0, hidden = 0
        let start = Date()
        for i in 0..<40 {
            let s = SyntheticScenes.render(index: i, seed: 1, config: config)
            boxes.append(s.annotations.map(\.box))
            drawn += s.drawnObjects; hidden += s.hiddenObjects
            XCTAssertLessThanOrEqual(s.drawnObjects, config.maxObjects)
            for a in s.annotations {
                XCTAssertTrue(a.box.width >= 16 && a.box.width <= 64 && a.box.height >= 16 && a.box.height <= 64)
                XCTAssertTrue(a.box.x1 >= 0 && a.box.y1 >= 0 && a.box.x2 <= 320 && a.box.y2 <= 320)
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        let share03 = DatasetStatistics.overlapShare(boxes, threshold: 0.3)
        let share05 = DatasetStatistics.overlapShare(boxes, threshold: 0.5)
        print("synthetic: \(boxes.count) images in \(elapsed)s, drawn \(drawn), hidden \(hidden), overlap>0.3 \(share03), >0.5 \(share05)")
        XCTAssertGreaterThan(share03, 0.1, "a large share of objects overlaps another at IoU > 0.3")
        XCTAssertGreaterThan(Double(drawn) / 40, 25, "crowded: tens of objects an image")
        XCTAssertGreaterThan(hidden, 0)
    }
}

final class SyntheticFilesTests: XCTestCase {
    func testGenerateIsByteIdenticalForTheSameSeed() throws {
        let a = try Fixtures.temporaryDirectory(), b = try Fixtures.temporaryDirectory()
        var config = SyntheticSceneConfig()
        config.imageSize = 96
        config.maxObjectSize = 32
        // One worker against two and against more workers than images: the files do not depend on the split of work.
        let ra = try SyntheticScenes.generate(to: a, trainCount: 5, valCount: 2, seed: 11, config: config, threads: 1)
        let rb = try SyntheticScenes.generate(to: b, trainCount: 5, valCount: 2, seed: 11, config: config, threads: 2)
        let d = try Fixtures.temporaryDirectory()
        _ = try SyntheticScenes.generate(to: d, trainCount: 5, valCount: 2, seed: 11, config: config, threads: 8)
        let names = ["train.json", "val.json"] + (1...5).map { "train/images/00000\($0).png" }
            + (1...2).map { "val/images/00000\($0).png" }
        for rel in names {
            let bytes = try Data(contentsOf: a.appendingPathComponent(rel))
            XCTAssertEqual(bytes, try Data(contentsOf: b.appendingPathComponent(rel)), rel)
            XCTAssertEqual(bytes, try Data(contentsOf: d.appendingPathComponent(rel)), rel)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: a.appendingPathComponent("train/images").path).count, 5)
        XCTAssertEqual([ra.boxes, ra.drawnObjects, ra.hiddenObjects], [rb.boxes, rb.drawnObjects, rb.hiddenObjects])
        XCTAssertEqual(ra.overlapShare03, rb.overlapShare03)
        XCTAssertEqual(ra.overlapShare05, rb.overlapShare05)
        let c = try Fixtures.temporaryDirectory()
        _ = try SyntheticScenes.generate(to: c, trainCount: 1, valCount: 0, seed: 12, config: config)
        XCTAssertNotEqual(try Data(contentsOf: a.appendingPathComponent("train/images/000001.png")),
                          try Data(contentsOf: c.appendingPathComponent("train/images/000001.png")))
        // The written COCO files load back with the reported counts and the images decode at the right size.
        let train = try DetectionDataset.load(a.appendingPathComponent("train.json"))
        let val = try DetectionDataset.load(a.appendingPathComponent("val.json"))
        XCTAssertEqual(train.images.count, 5)
        XCTAssertEqual(train.annotationCount + val.annotationCount, ra.boxes)
        XCTAssertEqual(train.categories.map(\.name), ["ellipse", "rectangle", "triangle"])
        XCTAssertTrue(train.report.isClean)
        let image = try PNG.read(train.images[0].file)
        XCTAssertEqual(image, SyntheticScenes.render(index: 0, split: 0, seed: 11, config: config).image)
    }

    func testGeneratedStampNamesCountsSeedAndSettings() throws {
        let folder = try Fixtures.temporaryDirectory()
        var config = SyntheticSceneConfig()
        config.imageSize = 64
        config.maxObjectSize = 24
        XCTAssertFalse(SyntheticScenes.isGenerated(in: folder, trainCount: 2, valCount: 1, seed: 3, config: config))
        _ = try SyntheticScenes.generate(to: folder, trainCount: 2, valCount: 1, seed: 3, config: config)
        XCTAssertTrue(SyntheticScenes.isGenerated(in: folder, trainCount: 2, valCount: 1, seed: 3, config: config))
        XCTAssertFalse(SyntheticScenes.isGenerated(in: folder, trainCount: 3, valCount: 1, seed: 3, config: config))
        XCTAssertFalse(SyntheticScenes.isGenerated(in: folder, trainCount: 2, valCount: 1, seed: 4, config: config))
        var other = config
        other.rowStep = 0.3
        XCTAssertFalse(SyntheticScenes.isGenerated(in: folder, trainCount: 2, valCount: 1, seed: 3, config: other),
                       "another generator setting means a stale folder")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("generated.json"))
        XCTAssertFalse(SyntheticScenes.isGenerated(in: folder, trainCount: 2, valCount: 1, seed: 3, config: config),
                       "an interrupted generation has no stamp")
    }

    func testPlacementRuleKeepsHalfOfEveryBoxUncovered() {
        let config = SyntheticSceneConfig()
        for i in 0..<20 {
            let scene = SyntheticScenes.render(index: i, seed: 5, config: config)
            let boxes = scene.annotations.map(\.box)
            // Painter's order: annotations keep drawing order, so box j covers the earlier boxes.
            for (a, box) in boxes.enumerated() {
                var covered = [Bool](repeating: false, count: Int(box.width * box.height))
                for later in boxes[(a + 1)...] where later.x1 < box.x2 && later.x2 > box.x1 && later.y1 < box.y2 && later.y2 > box.y1 {
                    for y in Int(max(box.y1, later.y1))..<Int(min(box.y2, later.y2)) {
                        for x in Int(max(box.x1, later.x1))..<Int(min(box.x2, later.x2)) {
                            covered[(y - Int(box.y1)) * Int(box.width) + x - Int(box.x1)] = true
                        }
                    }
                }
                let visible = Double(covered.filter { !$0 }.count) / Double(covered.count)
                XCTAssertGreaterThanOrEqual(visible, config.minVisibleBoxFraction - 1e-9, "image \(i) box \(a)")
            }
        }
    }

    func testCommittedSettingsAreTheDefaults() throws {
        let url = Fixtures.packageRoot.appendingPathComponent("datasets/synthetic.json")
        XCTAssertEqual(try SyntheticSceneConfig.load(url), SyntheticSceneConfig())
        XCTAssertThrowsError(try JSONDecoder().decode(SyntheticSceneConfig.self, from: Data("{\"classCount\": 5}".utf8)).validate())
    }

    func testCommittedSampleLoadsAndIsCrowded() throws {
        let root = Fixtures.packageRoot.appendingPathComponent("datasets/sample")
        let train = try DetectionDataset.load(root.appendingPathComponent("train.json"))
        XCTAssertEqual(train.images.count, 16)
        let stats = DatasetStatistics(train)
        XCTAssertGreaterThan(stats.overlapShare03, 0.1)
        XCTAssertEqual(stats.large, 0)
    }

    func testTrianglesAndEllipsesCoverTheirExpectedArea() {
        var canvas = SceneCanvas(width: 100, height: 100)
        let tri = canvas.paint(.triangle, x1: 10, y1: 10, x2: 70, y2: 50, fill: (255, 0, 0), edge: (0, 0, 0), outline: 1,
                               apexX: 30, object: 0)
        XCTAssertEqual(Double(tri), 60 * 40 / 2, accuracy: 40)
        let flipped = canvas.paint(.triangle, x1: 10, y1: 10, x2: 70, y2: 50, fill: (255, 0, 0), edge: (0, 0, 0),
                                   outline: 1, apexX: 30, flip: true, object: 1)
        XCTAssertEqual(Double(flipped), 60 * 40 / 2, accuracy: 40)
        let ell = canvas.paint(.ellipse, x1: 0, y1: 60, x2: 40, y2: 80, fill: (0, 255, 0), edge: (0, 0, 0), outline: 1,
                               object: 2)
        XCTAssertEqual(Double(ell), Double.pi * 20 * 10, accuracy: 20)
        let rect = canvas.paint(.rectangle, x1: 90, y1: 90, x2: 110, y2: 95, fill: (0, 0, 255), edge: (0, 0, 0),
                                outline: 1, object: 3)
        XCTAssertEqual(rect, 10 * 5, "clipped to the canvas")
        let visible = canvas.visibleCounts(4)
        XCTAssertEqual(visible[1], flipped)
        XCTAssertLessThan(visible[0], tri, "the flipped triangle covers part of the first")
    }
}

/// The tiny-crowd scenes: 512×288 frames, 30–90 objects of 6–16 px, crowded and partly occluded.
final class TinyCrowdTests: XCTestCase {
    func testTinyCrowdScenesAreSmallAndCrowded() throws {
        let config = SyntheticSceneConfig.tinyCrowd
        try config.validate()
        var boxes: [[Box]] = [], hidden = 0
        for i in 0..<12 {
            let s = SyntheticScenes.render(index: i, seed: 2026, config: config)
            XCTAssertEqual(s.image.width, 512)
            XCTAssertEqual(s.image.height, 288)
            XCTAssertLessThanOrEqual(s.drawnObjects, 90)
            for a in s.annotations {
                XCTAssertTrue((6...16).contains(a.box.width) && (6...16).contains(a.box.height), "\(a.box)")
                XCTAssertTrue(a.box.x1 >= 0 && a.box.y1 >= 0 && a.box.x2 <= 512 && a.box.y2 <= 288, "\(a.box)")
            }
            boxes.append(s.annotations.map(\.box))
            hidden += s.hiddenObjects
        }
        let perImage = Double(boxes.map(\.count).reduce(0, +)) / Double(boxes.count)
        XCTAssertGreaterThan(perImage, 30, "tens of objects a frame")
        XCTAssertGreaterThan(DatasetStatistics.overlapShare(boxes, threshold: 0.3), 0.05, "neighbours overlap")
        XCTAssertGreaterThan(hidden, 0, "some objects are hidden beyond the visibility rule")
    }

    /// Generated files carry the frame size; the default settings' stamp has no height (square, as before).
    func testGeneratedTinyCrowdRecordsItsFrameSize() throws {
        let dir = try Fixtures.temporaryDirectory()
        _ = try SyntheticScenes.generate(to: dir, trainCount: 2, valCount: 1, seed: 4, config: .tinyCrowd, threads: 1)
        let d = try DetectionDataset.load(dir.appendingPathComponent("train.json"), imageDirectory: nil, options: ValidationOptions())
        XCTAssertEqual(d.images.map(\.height), [288, 288])
        XCTAssertEqual(d.categories.map(\.name), ["ellipse"])
        XCTAssertTrue(SyntheticScenes.isGenerated(in: dir, trainCount: 2, valCount: 1, seed: 4, config: .tinyCrowd))
        XCTAssertFalse(try SyntheticSceneConfig().jsonText().contains("imageHeight"))
    }
}
