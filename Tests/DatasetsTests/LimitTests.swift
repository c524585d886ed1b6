@testable import Datasets
import Foundation
import TestSupport
import XCTest

/// `DatasetLimits`: each limit is a clear error naming the file, the image and the limit.
final class LimitTests: XCTestCase {
    private let options = ValidationOptions(requireImageFiles: false)

    private func coco(images: [[String: Any]], boxes: [[String: Any]]) throws -> URL {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("limits.json")
        let object: [String: Any] = ["images": images, "annotations": boxes, "categories": [["id": 1, "name": "x"]]]
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return url
    }

    func testAnImageBeyondThePixelLimitIsRefusedBeforeDecoding() throws {
        let url = try coco(images: [["id": 1, "file_name": "huge.png", "width": 100_000, "height": 100_000]], boxes: [])
        XCTAssertThrowsError(try DetectionDataset.load(url, options: options)) {
            XCTAssertEqual("\($0)", "\(url.path): huge.png is 100000×100000: more than the limit of 67108864 pixels per image (README, Limits)")
        }
    }

    func testTooManyBoxesInOneImage() throws {
        let n = DatasetLimits.maxBoxesPerImage + 1
        let boxes = (0..<n).map { ["id": $0 + 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4]] as [String: Any] }
        let url = try coco(images: [["id": 1, "file_name": "a.png", "width": 64, "height": 64]], boxes: boxes)
        XCTAssertThrowsError(try DetectionDataset.load(url, options: options)) {
            XCTAssertTrue("\($0)".hasPrefix("\(url.path): \(n) boxes in a.png: more than the limit of 10000 boxes per image"), "\($0)")
        }
        // At the limit it loads.
        let atLimit = try coco(images: [["id": 1, "file_name": "a.png", "width": 64, "height": 64]], boxes: Array(boxes.dropLast()))
        XCTAssertEqual(try DetectionDataset.load(atLimit, options: options).annotationCount, n - 1)
    }

    func testTooManyImagesInOneFile() throws {
        let images = (1...3).map { ImageRecord(id: $0, file: URL(fileURLWithPath: "/x"), fileName: "\($0).png", width: 8, height: 8) }
        XCTAssertNoThrow(try DatasetLimits.check(images, file: "f.json", maxImages: 3))
        XCTAssertThrowsError(try DatasetLimits.check(images, file: "f.json", maxImages: 2)) {
            XCTAssertEqual("\($0)", "f.json: 3 images: more than the limit of 2 images per file (README, Limits)")
        }
    }
}
