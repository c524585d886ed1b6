import Boxes
@testable import Datasets
import Foundation
import Imaging
import TestSupport
import XCTest

/// Datasets of JPEG images: the committed `datasets/sample_jpeg` (baseline, progressive, EXIF-rotated, grey and
/// CMYK files), YOLO and idl folders of JPEGs, reduced-size decoding in the loader, and bad JPEGs skipped.
final class JPEGDatasetTests: XCTestCase {
    let root = Fixtures.packageRoot.appendingPathComponent("datasets")

    func testJPEGSampleMatchesThePNGSampleItCameFrom() throws {
        let jpeg = try DetectionDataset.load(root.appendingPathComponent("sample_jpeg/train.json"))
        let png = try DetectionDataset.load(root.appendingPathComponent("sample/train.json"))
        XCTAssertEqual(jpeg.images.count, 8)
        for k in [0, 1, 2, 3, 7] {  // baseline, progressive, orientation 6, orientation 3, baseline
            let a = try ImageFile.decode(jpeg.images[k].file), b = try PNG.read(png.images[k].file)
            XCTAssertEqual([a.image.width, a.image.height], [b.width, b.height], jpeg.images[k].fileName)
            let mean = zip(a.image.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) } / b.pixels.count
            XCTAssertLessThanOrEqual(mean, 4, "\(jpeg.images[k].fileName): mean level difference \(mean)")
            XCTAssertEqual(jpeg.images[k].annotations.map(\.box), png.images[k].annotations.map(\.box))
        }
        // Image 7 is 256×160 upright, stored 160×256 with orientation 8: sizes follow the upright picture.
        let turned = try ImageFile.decode(jpeg.images[6].file)
        XCTAssertEqual(turned.orientation, 8)
        XCTAssertEqual([turned.originalWidth, turned.originalHeight], [jpeg.images[6].width, jpeg.images[6].height])
        XCTAssertEqual([jpeg.images[6].width, jpeg.images[6].height], [256, 160])
    }

    func testReducedDecodingKeepsGeometryAndChangesPixelsLittle() throws {
        let ds = try DetectionDataset.load(root.appendingPathComponent("sample_jpeg/train.json"))
        var o = BatchLoaderOptions()
        o.batchSize = 4
        o.inputSize = 96
        o.seed = 5
        let reduced = BatchLoader(dataset: ds, options: o)
        XCTAssertEqual(reduced.minimumLongSide, 120, "96 px input × 1.25 largest augmentation scale")
        o.reducedDecoding = false
        let full = BatchLoader(dataset: ds, options: o)
        XCTAssertNil(full.minimumLongSide)
        for step in 0..<2 {
            let a = try reduced.makeBatch(epoch: 0, step: step), b = try full.makeBatch(epoch: 0, step: step)
            XCTAssertEqual(a.transforms, b.transforms)
            XCTAssertEqual(a.targets, b.targets)
            let mean = zip(a.images, b.images).reduce(0) { $0 + Double(abs($1.0 - $1.1)) } / Double(a.images.count)
            XCTAssertLessThan(mean, 0.1, "mean normalised difference \(mean) (about \(mean * 0.226 * 255) levels)")
        }
    }

    func testYOLOAndIDLFoldersOfJPEGsUseUprightSizes() throws {
        let folder = try Fixtures.temporaryDirectory()
        let fm = FileManager.default
        try fm.createDirectory(at: folder.appendingPathComponent("images"), withIntermediateDirectories: true)
        try fm.createDirectory(at: folder.appendingPathComponent("labels"), withIntermediateDirectories: true)
        // orientation6.jpg is stored 16×24 and upright 24×16.
        try fm.copyItem(at: Fixtures.url("imaging/jpeg/orientation6.jpg"), to: folder.appendingPathComponent("images/turned.JPG"))
        try fm.copyItem(at: Fixtures.url("imaging/rgb8.png"), to: folder.appendingPathComponent("images/plain.png"))
        try "0 0.5 0.5 0.5 0.5\n".write(to: folder.appendingPathComponent("labels/turned.txt"), atomically: true, encoding: .utf8)
        let yolo = try DetectionDataset.load(folder)
        XCTAssertEqual(yolo.images.map(\.fileName), ["images/plain.png", "images/turned.JPG"])
        XCTAssertEqual([yolo.images[1].width, yolo.images[1].height], [24, 16])
        XCTAssertEqual(yolo.images[1].annotations.map(\.box), [Box(x1: 6, y1: 4, x2: 18, y2: 12)])

        let idl = folder.appendingPathComponent("list.idl")
        try "\"images/turned.JPG\": (1, 1, 10, 10);\n\"images/plain.png\".\n".write(to: idl, atomically: true, encoding: .utf8)
        let ds = try DetectionDataset.load(idl)
        XCTAssertEqual(ds.images.map { [$0.width, $0.height] }, [[24, 16], [13, 5]])

        try "not an image".write(to: folder.appendingPathComponent("images/notes.jpg"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DetectionDataset.load(folder)) { error in
            XCTAssertTrue("\(error)".hasPrefix(folder.appendingPathComponent("images/notes.jpg").path + ": "), "\(error)")
            XCTAssertTrue("\(error)".contains("neither PNG nor JPEG"), "\(error)")
        }
    }

    func testLoaderSkipsEveryBadJPEGAndReportsTheRecoverableOne() throws {
        let dir = Fixtures.url("imaging/jpeg")
        let names = ["baseline", "bad_truncated", "bad_huffman_table", "bad_empty", "bad_bomb", "bad_text", "bad_scan_data"]
        let records = names.enumerated().map { k, name in
            ImageRecord(id: k + 1, file: dir.appendingPathComponent("\(name).jpg"), fileName: "\(name).jpg", width: 64,
                        height: 48, annotations: [Annotation(box: Box(x1: 1, y1: 1, x2: 20, y2: 20), classIndex: 0)])
        }
        let ds = DetectionDataset(root: dir, source: dir, images: records, categories: [Category(id: 1, name: "x")])
        var o = BatchLoaderOptions()
        o.batchSize = names.count
        o.inputSize = 32
        o.shuffle = false
        for bad in 1..<6 {
            let one = DetectionDataset(root: dir, source: dir, images: [records[bad]], categories: ds.categories)
            o.batchSize = 1
            XCTAssertThrowsError(try BatchLoader(dataset: one, options: o).makeBatch(epoch: 0, step: 0)) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix(records[bad].file.path + ": cannot decode image: "), text)
                XCTAssertFalse(text.dropFirst(records[bad].file.path.count).contains(records[bad].file.path), "file named twice: \(text)")
            }
        }
        o.batchSize = names.count
        o.skipBadImages = true
        let warnings = WarningSink()
        o.onDecodeWarning = { warnings.add($0) }
        let loader = BatchLoader(dataset: ds, options: o)
        for _ in 0..<2 {
            let batch = try loader.makeBatch(epoch: 0, step: 0)
            XCTAssertEqual(batch.imageIDs, [1, 7])
        }
        XCTAssertEqual(loader.statistics.skippedImages, 5)
        XCTAssertEqual(loader.statistics.warnedImages, 1)
        XCTAssertEqual(warnings.lines.count, 1, "reported once per image, not per epoch")
        XCTAssertTrue(warnings.lines[0].hasPrefix(records[6].file.path + ": libjpeg-turbo: Corrupt JPEG data"), warnings.lines[0])
    }
}

/// Collects warning lines from loader threads.
final class WarningSink: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var lines: [String] = []
    func add(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
}
