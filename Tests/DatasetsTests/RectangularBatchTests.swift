import Boxes
@testable import Datasets
import Foundation
import Imaging
import TestSupport
import XCTest

/// Rectangular batches (YOLOv5/ultralytics `rect=True`): images grouped by aspect ratio, one shape per batch, batch
/// order shuffled per epoch from the seed.
final class RectangularBatchTests: XCTestCase {
    static let sizes = [(96, 48), (48, 96), (96, 64), (96, 96), (80, 40), (40, 80), (96, 72), (64, 96), (96, 50), (90, 60)]

    /// Ten PNGs of the shapes above (landscape, portrait, square), one box each.
    private func dataset() throws -> DetectionDataset {
        let dir = try Fixtures.temporaryDirectory()
        var records: [ImageRecord] = []
        for (i, (w, h)) in Self.sizes.enumerated() {
            let url = dir.appendingPathComponent("image\(i).png")
            try PNG.write(Image(width: w, height: h, fill: (UInt8(20 * i), 90, 160)), to: url)
            records.append(ImageRecord(id: 100 + i, file: url, fileName: url.lastPathComponent, width: w, height: h,
                                       annotations: [Annotation(box: Box(x1: 4, y1: 4, x2: 30, y2: 30), classIndex: 0)]))
        }
        return DetectionDataset(root: dir, source: dir, images: records, categories: [Category(id: 1, name: "object")])
    }

    private func options(seed: UInt64 = 7, dropLast: Bool = false) -> BatchLoaderOptions {
        var o = BatchLoaderOptions()
        o.batchSize = 3
        o.inputSize = 96
        o.rectangular = true
        o.seed = seed
        o.dropLast = dropLast
        return o
    }

    func testEveryImageOnceAnEpochInABatchShapeThatHoldsIt() throws {
        let ds = try dataset()
        let loader = BatchLoader(dataset: ds, options: options())
        XCTAssertEqual(loader.batchesPerEpoch, 4)
        for epoch in 0..<3 {
            XCTAssertEqual(loader.order(epoch: epoch).sorted(), Array(0..<10))
            var seen: [Int] = [], shapes = Set<[Int]>()
            for step in 0..<loader.batchesPerEpoch {
                let b = try loader.makeBatch(epoch: epoch, step: step)
                seen += b.imageIDs
                shapes.insert([b.inputHeight, b.inputWidth])
                XCTAssertEqual(b.images.count, b.count * 3 * b.inputHeight * b.inputWidth)
                XCTAssertEqual(max(b.inputHeight, b.inputWidth), 96)
                for (id, t) in zip(b.imageIDs, b.transforms) {
                    let (w, h) = Self.sizes[id - 100]
                    let r = InputTransform.rectangle(width: w, height: h, inputSize: 96)
                    XCTAssertTrue(r.width <= b.inputWidth && r.height <= b.inputHeight, "image \(id) in \(b.inputWidth)×\(b.inputHeight)")
                    XCTAssertEqual([t.inputWidth, t.inputHeight], [b.inputWidth, b.inputHeight])
                    XCTAssertTrue(t.contentWidth <= b.inputWidth && t.contentHeight <= b.inputHeight)
                }
            }
            XCTAssertEqual(seen.sorted(), Array(100..<110), "epoch \(epoch)")
            XCTAssertGreaterThan(shapes.count, 1, "epoch \(epoch): one shape for every batch")
        }
    }

    func testGroupsFollowTheAspectRatioAndTheSeed() throws {
        let ds = try dataset()
        let a = BatchLoader(dataset: ds, options: options()), b = BatchLoader(dataset: ds, options: options())
        for epoch in 0..<3 {
            XCTAssertEqual(a.order(epoch: epoch), b.order(epoch: epoch))
            for step in 0..<a.batchesPerEpoch {
                let x = try a.makeBatch(epoch: epoch, step: step), y = try b.makeBatch(epoch: epoch, step: step)
                XCTAssertEqual(x.images, y.images)
                XCTAssertEqual(x.imageIDs, y.imageIDs)
                XCTAssertEqual(x.transforms, y.transforms)
            }
        }
        XCTAssertNotEqual((0..<4).map { a.order(epoch: $0) }, (0..<4).map { _ in a.order(epoch: 0) }, "the batch order never changes")
        let other = BatchLoader(dataset: ds, options: options(seed: 8))
        XCTAssertNotEqual((0..<4).map { a.order(epoch: $0) }, (0..<4).map { other.order(epoch: $0) })
        // Each full batch is a run of consecutive images in aspect-ratio order.
        let sorted = (0..<10).sorted { BatchLoader.aspect(ds.images[$0]) < BatchLoader.aspect(ds.images[$1])
            || (BatchLoader.aspect(ds.images[$0]) == BatchLoader.aspect(ds.images[$1]) && $0 < $1) }
        for epoch in 0..<4 {
            let order = a.order(epoch: epoch)
            for g in 0..<3 {
                let ranks = order[(3 * g)..<(3 * g + 3)].map { sorted.firstIndex(of: $0)! }
                XCTAssertEqual(ranks.max()! - ranks.min()!, 2, "epoch \(epoch) batch \(g): \(ranks)")
            }
        }
        // Without shuffling: the sorted order itself.
        var plain = options()
        plain.shuffle = false
        XCTAssertEqual(BatchLoader(dataset: ds, options: plain).order(epoch: 3), sorted)
    }

    /// With `dropLast` the left-over images change from epoch to epoch; fewer pixels than square batches.
    func testDropLastLeavesOutDifferentImagesAndPadsLess() throws {
        let ds = try dataset()
        let loader = BatchLoader(dataset: ds, options: options(dropLast: true))
        XCTAssertEqual(loader.batchesPerEpoch, 3)
        let dropped = (0..<8).map { loader.order(epoch: $0)[9] }
        XCTAssertGreaterThan(Set(dropped).count, 1)
        var rectangular = 0
        for step in 0..<3 {
            let b = try loader.makeBatch(epoch: 0, step: step)
            rectangular += b.count * b.inputHeight * b.inputWidth
        }
        XCTAssertLessThan(rectangular, 9 * 96 * 96)
    }
}
