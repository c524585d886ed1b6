import Boxes
@testable import Datasets
import Foundation
import Imaging
import TestSupport
import XCTest

final class BatchLoaderTests: XCTestCase {
    private func sample() throws -> DetectionDataset {
        try DetectionDataset.load(Fixtures.packageRoot.appendingPathComponent("datasets/sample/train.json"))
    }

    private func options(seed: UInt64 = 3) -> BatchLoaderOptions {
        var o = BatchLoaderOptions()
        o.batchSize = 4
        o.inputSize = 96
        o.seed = seed
        return o
    }

    private func assertSame(_ a: Batch, _ b: Batch, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.images, b.images, file: file, line: line)
        XCTAssertEqual(a.targets, b.targets, file: file, line: line)
        XCTAssertEqual(a.imageIDs, b.imageIDs, file: file, line: line)
        XCTAssertEqual(a.transforms, b.transforms, file: file, line: line)
        XCTAssertEqual([a.epoch, a.step], [b.epoch, b.step], file: file, line: line)
    }

    func testSameSeedGivesSameBatchesAndOrdersDifferPerEpoch() throws {
        let ds = try sample()
        let a = BatchLoader(dataset: ds, options: options()), b = BatchLoader(dataset: ds, options: options())
        XCTAssertEqual(a.batchesPerEpoch, 4)
        XCTAssertEqual(a.order(epoch: 2), b.order(epoch: 2))
        XCTAssertNotEqual(a.order(epoch: 0), a.order(epoch: 1))
        XCTAssertEqual(Set(a.order(epoch: 1)), Set(0..<16))
        XCTAssertNotEqual(a.order(epoch: 0), BatchLoader(dataset: ds, options: options(seed: 4)).order(epoch: 0))
        let x = try a.makeBatch(epoch: 1, step: 2), y = try b.makeBatch(epoch: 1, step: 2)
        assertSame(x, y)
        XCTAssertEqual(x.count, 4)
        XCTAssertEqual(x.images.count, 4 * 3 * 96 * 96)
        XCTAssertEqual(x.imageIDs, a.order(epoch: 1)[8..<12].map { ds.images[$0].id })
        for (t, tr) in zip(x.targets, x.transforms) {
            for box in t.boxes { XCTAssertTrue(box.x2 <= Double(tr.contentWidth) + 1e-9 && box.y2 <= Double(tr.contentHeight) + 1e-9) }
        }
    }

    func testPrefetchedBatchesEqualDirectOnesAndResumeMatches() throws {
        let ds = try sample()
        let loader = BatchLoader(dataset: ds, options: options())
        loader.start(epoch: 0, step: 0)
        var fresh: [Batch] = []
        for _ in 0..<7 { fresh.append(try loader.next()) }  // crosses into epoch 1
        loader.stop()
        XCTAssertEqual(fresh.map(\.epoch), [0, 0, 0, 0, 1, 1, 1])
        XCTAssertEqual(fresh.map(\.step), [0, 1, 2, 3, 0, 1, 2])
        for b in fresh { assertSame(b, try loader.makeBatch(epoch: b.epoch, step: b.step)) }
        for k in [1, 3, 5] {
            let resumed = BatchLoader(dataset: ds, options: options())
            resumed.start(epoch: k / 4, step: k % 4)
            assertSame(try resumed.next(), fresh[k])
            assertSame(try resumed.next(), fresh[k + 1])
            let stats = resumed.statistics
            XCTAssertEqual(stats.batches, 2)
            XCTAssertTrue(stats.waitFraction >= 0 && stats.waitFraction <= 1)
            resumed.stop()
        }
    }

    func testCacheGivesTheSameBatches() throws {
        let ds = try sample()
        var o = options()
        o.cacheImages = true
        let cached = BatchLoader(dataset: ds, options: o), plain = BatchLoader(dataset: ds, options: options())
        for step in 0..<2 {
            assertSame(try cached.makeBatch(epoch: 0, step: step), try plain.makeBatch(epoch: 0, step: step))
        }
        assertSame(try cached.makeBatch(epoch: 0, step: 0), try plain.makeBatch(epoch: 0, step: 0))
    }

    func testEvaluationBatchesAreNormalisedLetterboxes() throws {
        let ds = try sample()
        var o = options()
        o.augment = .none
        o.shuffle = false
        o.dropLast = false
        o.batchSize = 5
        let loader = BatchLoader(dataset: ds, options: o)
        XCTAssertEqual(loader.batchesPerEpoch, 4)
        let last = try loader.makeBatch(epoch: 0, step: 3)
        XCTAssertEqual(last.count, 1)
        let first = try loader.makeBatch(epoch: 0, step: 0)
        XCTAssertEqual(first.imageIDs, [1, 2, 3, 4, 5])
        XCTAssertEqual(first.scales, [Double](repeating: 96.0 / 256, count: 5))
        // Channel 0 of pixel (0, 0) of image 0 equals the normalised decoded value.
        let png = try PNG.read(ds.images[0].file)
        let resized = png.resized(width: 96, height: 96)
        let expected = (Float(resized.pixels[0]) / 255 - BatchLoader.mean[0]) / BatchLoader.std[0]
        XCTAssertEqual(first.images[0], expected, accuracy: 1e-6)
        XCTAssertEqual(first.targets[0].boxes.count, ds.images[0].annotations.count)
        assertClose(first.targets[0].boxes[0].xyxy, ds.images[0].annotations[0].box.xyxy.map { $0 * 96 / 256 }, rtol: 1e-12)
    }

    func testSkipBadImagesSkipsATruncatedPNGAndCountsIt() throws {
        let dir = Fixtures.url("datasets")
        func record(_ id: Int, _ name: String) -> ImageRecord {
            ImageRecord(id: id, file: dir.appendingPathComponent("images/\(name)"), fileName: name, width: 64, height: 48,
                        annotations: [Annotation(box: Box(x1: 1, y1: 1, x2: 20, y2: 20), classIndex: 0)])
        }
        let ds = DetectionDataset(root: dir, source: dir, images: [record(1, "a.png"), record(2, "truncated.png"), record(3, "c.png")],
                                  categories: [Category(id: 1, name: "x")])
        var o = options()
        o.batchSize = 3
        o.shuffle = false
        XCTAssertThrowsError(try BatchLoader(dataset: ds, options: o).makeBatch(epoch: 0, step: 0)) { error in
            XCTAssertTrue("\(error)".contains("truncated.png"), "\(error)")
        }
        o.skipBadImages = true
        let loader = BatchLoader(dataset: ds, options: o)
        let batch = try loader.makeBatch(epoch: 0, step: 0)
        XCTAssertEqual(batch.count, 2)
        XCTAssertEqual(batch.imageIDs, [1, 3])
        XCTAssertEqual(loader.skippedImageCount, 1)
        loader.start()
        XCTAssertEqual(try loader.next().count, 2)
        XCTAssertEqual(loader.statistics.skippedImages, 1)
        loader.stop()
    }
}
