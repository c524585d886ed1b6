import Foundation
import TestSupport
import XCTest
@testable import Evaluation

/// Loading ground truth and results files: pycocotools' behaviour, or an error naming the file.
final class COCOLoadingTests: XCTestCase {
    private func write(_ text: String, _ name: String) throws -> URL {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private let gtText = """
        {"info": {"year": 2024}, "images": [{"id": 7, "file_name": "a.png", "width": 64, "height": 48}],
         "categories": [{"id": 1, "name": "cell"}],
         "annotations": [{"id": 1, "image_id": 7, "category_id": 1, "bbox": [1, 2, 30, 40], "area": 1200.5,
                          "iscrowd": 0, "segmentation": [[1, 2, 3, 4]]}]}
        """

    func testGroundTruthFieldsAreRead() throws {
        let gt = try COCOGroundTruth(contentsOf: try write(gtText, "gt.json"))
        XCTAssertEqual(gt.images, [COCOImage(id: 7, fileName: "a.png", width: 64, height: 48)])
        XCTAssertEqual(gt.categories, [COCOCategory(id: 1, name: "cell")])
        XCTAssertEqual(gt.annotations.first?.box, COCOBox(x: 1, y: 2, width: 30, height: 40))
        XCTAssertEqual(gt.annotations.first?.area, 1200.5)
    }

    func testUnknownImageIDNamesTheFileAndTheID() throws {
        let gt = try COCOGroundTruth(contentsOf: try write(gtText, "gt.json"))
        let dt = try write(#"[{"image_id": 8, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}]"#, "dt.json")
        XCTAssertThrowsError(try COCOEvaluator(groundTruth: gt).evaluate(
            detections: try COCOResults.load(contentsOf: dt), source: dt.path)) { error in
            XCTAssertEqual(error as? EvaluationError, .unknownImage(file: dt.path, imageID: 8))
            XCTAssertTrue("\(error)".contains("dt.json"))
            XCTAssertTrue("\(error)".contains("image_id 8"))
        }
    }

    func testNegativeWidthKeepsPycocotoolsArea() throws {
        let dt = try write(#"[{"image_id": 7, "category_id": 1, "bbox": [40, 2, -30, 40], "score": 0.9}]"#, "dt.json")
        let detections = try COCOResults.load(contentsOf: dt)
        XCTAssertEqual(detections.first?.box.area, -1200)
        // The negative-area detection is ignored in every area range (area < 0), so nothing is a false
        // positive and the one ground truth is missed: AP 0, as pycocotools gives.
        let gt = try COCOGroundTruth(contentsOf: try write(gtText, "gt.json"))
        let stats = try COCOEvaluator(groundTruth: gt).evaluate(detections: detections).stats
        XCTAssertEqual(stats[0], 0)
        XCTAssertEqual(stats[3], -1)
    }

    func testEmptyResultsGiveZeroWhereThereIsGroundTruth() throws {
        let gt = try COCOGroundTruth(contentsOf: try write(gtText, "gt.json"))
        let detections = try COCOResults.load(contentsOf: try write("[ ]", "dt.json"))
        XCTAssertTrue(detections.isEmpty)
        let stats = try COCOEvaluator(groundTruth: gt).evaluate(detections: detections).stats
        // The object's area 1200.5 is medium: small and large have no ground truth (−1).
        XCTAssertEqual(stats, [0, 0, 0, -1, 0, -1, 0, 0, 0, -1, 0, -1])
    }

    func testMissingFieldsAndBadJSONNameTheFile() throws {
        let cases: [(String, String)] = [
            (#"[{"image_id": 7, "category_id": 1, "bbox": [0, 0, 5, 5]}]"#, "'score'"),
            (#"[{"image_id": 7, "category_id": 1, "bbox": [0, 0, 5], "score": 1}]"#, "3 numbers"),
            (#"{"image_id": 7}"#, "JSON array"),
            (#"[{"image_id": 7, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5},]"#, "invalid JSON"),
            ("[{\"image_id\": 7,\n \"score\": 0.5e}]", ":2:"),
        ]
        for (text, fragment) in cases {
            let url = try write(text, "bad.json")
            XCTAssertThrowsError(try COCOResults.load(contentsOf: url), text) { error in
                XCTAssertTrue("\(error)".contains(url.path), "\(error)")
                XCTAssertTrue("\(error)".contains(fragment), "\(error) should mention \(fragment)")
            }
        }
        let noArea = try write(#"{"images": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]}"#, "gt.json")
        XCTAssertThrowsError(try COCOGroundTruth(contentsOf: noArea)) { error in
            XCTAssertTrue("\(error)".contains("'area'"), "\(error)")
        }
        let missing = URL(fileURLWithPath: "/nonexistent/gt.json")
        XCTAssertThrowsError(try COCOGroundTruth(contentsOf: missing)) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/gt.json"))
        }
    }

    func testNumbersParseToTheNearestDouble() throws {
        let texts = ["0.1", "-0.0", "123.456", "1e-7", "2.5E+3", "0.30000000000000004", "12345678901234567890.5",
                     "4.9406564584124654e-324", "1.7976931348623157e308", "99999999999999999999e-20", "0.000123"]
        let url = try write("[" + texts.joined(separator: ",") + "]", "n.json")
        let values: [Double] = try JSONReader.withContents(of: url) { reader in
            var out: [Double] = []
            try reader.forEachElement { out.append(try $0.readDouble()) }
            return out
        }
        XCTAssertEqual(values.map(\.bitPattern), texts.map { Double($0)!.bitPattern })
    }

    func testStringsDecodeEscapes() throws {
        let url = try write(#"["a\"b\\c\/\n", "\u00e9\ud83d\ude00", "plain"]"#, "s.json")
        let values: [String] = try JSONReader.withContents(of: url) { reader in
            var out: [String] = []
            try reader.forEachElement { out.append(try $0.readString()) }
            return out
        }
        XCTAssertEqual(values, ["a\"b\\c/\n", "é😀", "plain"])
    }

    func testResultsRoundTrip() throws {
        let detections = [COCODetection(imageID: 3, categoryID: 2, box: COCOBox(x: 1.5, y: 2, width: 0.1, height: 4e-5),
                                        score: 0.123456789)]
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("r.json")
        try COCOResults.write(detections, to: url)
        XCTAssertEqual(try COCOResults.load(contentsOf: url), detections)
    }
}
