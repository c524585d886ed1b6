import Boxes
@testable import Datasets
import Evaluation
import Foundation
import TestSupport
import XCTest

/// The committed COCO files load as they always have, and a dataset is what Evaluation's reader read.
final class COCOReadingTests: XCTestCase {
    private func sample(_ name: String) -> URL {
        Fixtures.packageRoot.appendingPathComponent("datasets/sample/\(name)")
    }

    /// `x1 + 2·y1 + 3·x2 + 5·y2 + 7·class` summed over every box (exact: the coordinates are whole pixels).
    private func weightedSum(_ ds: DetectionDataset) -> Double {
        ds.images.flatMap(\.annotations).reduce(0) { s, a in
            s + a.box.x1 + 2 * a.box.y1 + 3 * a.box.x2 + 5 * a.box.y2 + 7 * Double(a.classIndex)
        }
    }

    func testCommittedSampleLoadsWithItsKeyFields() throws {
        // Figures taken from the JSONSerialization-based loader this one replaced.
        let cases: [(String, [Int], Double, Box, Int, Box, Int, [Int])] = [
            ("train.json", [17, 40, 28, 26, 47, 15, 35, 39, 35, 19, 39, 38, 53, 20, 24, 37], 764_386,
             Box(x1: 192, y1: 135, x2: 256, y2: 183), 1, Box(x1: 2, y1: 54, x2: 28, y2: 79), 2, [165, 175, 172]),
            ("val.json", [29, 35, 27, 23, 47, 17, 22, 25], 334_840,
             Box(x1: 113, y1: 187, x2: 151, y2: 220), 2, Box(x1: 15, y1: 29, x2: 33, y2: 48), 2, [74, 78, 73]),
        ]
        for (name, perImage, sum, firstBox, firstClass, lastBox, lastClass, perClass) in cases {
            let ds = try DetectionDataset.load(sample(name))
            XCTAssertEqual(ds.categories, [Category(id: 1, name: "ellipse"), Category(id: 2, name: "rectangle"),
                                           Category(id: 3, name: "triangle")], name)
            XCTAssertEqual(ds.images.map(\.id), Array(1...perImage.count), name)
            XCTAssertEqual(ds.images.map(\.fileName), (1...perImage.count).map { String(format: "%06d.png", $0) }, name)
            XCTAssertTrue(ds.images.allSatisfy { $0.width == 256 && $0.height == 256 }, name)
            XCTAssertEqual(ds.images[0].file.standardizedFileURL.path,
                           sample("\(name.dropLast(5))/images/000001.png").standardizedFileURL.path, name)
            XCTAssertEqual(ds.images.map(\.annotations.count), perImage, name)
            XCTAssertEqual(ds.images.first?.annotations.first, Annotation(box: firstBox, classIndex: firstClass), name)
            XCTAssertEqual(ds.images.last?.annotations.last, Annotation(box: lastBox, classIndex: lastClass), name)
            XCTAssertEqual(ds.classCounts, perClass, name)
            XCTAssertFalse(ds.images.flatMap(\.annotations).contains { $0.isCrowd || $0.ignore }, name)
            XCTAssertEqual(weightedSum(ds), sum, name)
            XCTAssertEqual(ds.report, ValidationReport(), name)
        }
    }

    func testDatasetHoldsWhatTheGroundTruthReaderRead() throws {
        for url in [sample("train.json"), sample("val.json"), Fixtures.url("datasets/sample.json")] {
            let gt = try COCOGroundTruth(contentsOf: url)
            let ds = try COCOFormat.load(url, options: ValidationOptions(minBoxSize: 0, requireImageFiles: false))
            let name = url.lastPathComponent
            XCTAssertEqual(ds.images.map(\.id), gt.images.map(\.id), name)
            XCTAssertEqual(ds.images.map(\.fileName), gt.images.map(\.fileName), name)
            XCTAssertEqual(ds.images.map { [$0.width, $0.height] }, gt.images.map { [$0.width, $0.height] }, name)
            XCTAssertEqual(ds.categories.map(\.id), gt.categories.map(\.id).sorted(), name)
            XCTAssertEqual(Set(ds.categories.map(\.name)), Set(gt.categories.map(\.name)), name)
            for image in ds.images {
                let expected = gt.annotations.filter { $0.imageID == image.id }
                    .compactMap { a -> Annotation? in
                        let b = a.box
                        let clipped = Box(x1: min(max(b.x, 0), Double(image.width)), y1: min(max(b.y, 0), Double(image.height)),
                                          x2: min(max(b.x + b.width, 0), Double(image.width)),
                                          y2: min(max(b.y + b.height, 0), Double(image.height)))
                        guard clipped.x2 > clipped.x1, clipped.y2 > clipped.y1 else { return nil }
                        return Annotation(box: clipped, classIndex: ds.categories.firstIndex { $0.id == a.categoryID }!,
                                          isCrowd: a.isCrowd, ignore: a.ignore)
                    }
                XCTAssertEqual(image.annotations, expected, "\(name) image \(image.id)")
            }
        }
    }
}
