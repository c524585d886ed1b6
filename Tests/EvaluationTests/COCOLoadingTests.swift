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

    func testGroundTruthFileKeepsEachFieldAsFound() throws {
        let text = """
            {"images": [{"id": 7, "file_name": null, "width": "64"}],
             "categories": [{"id": 1}],
             "annotations": [{"id": 1, "image_id": true, "category_id": 1, "bbox": [1, 2, 3],
                              "area": 2.5, "iscrowd": "yes", "ignore": null, "segmentation": [[1, 2]]},
                             {"id": 2.5, "bbox": [0, 0, 4, 5], "iscrowd": 1, "note": "\(String(repeating: "x", count: 200))"}]}
            """
        let file = try COCOGroundTruthFile(contentsOf: try write(text, "gt.json"))
        let image = try XCTUnwrap(file.images.value?.first)
        XCTAssertEqual(image.id.value, 7)
        guard case let .mistyped(name) = image.fileName, case let .mistyped(width) = image.width else {
            return XCTFail("file_name and width should be mistyped")
        }
        XCTAssertTrue(name.isNull)
        XCTAssertEqual(width, COCOFoundValue(text: "\"64\"", position: JSONTextPosition(line: 1, column: 51)))
        guard case .absent = image.height, case .absent = try XCTUnwrap(file.categories.value?.first).name else {
            return XCTFail("height and name are absent")
        }
        let annotations = try XCTUnwrap(file.annotations.value)
        XCTAssertEqual(annotations.count, 2)
        XCTAssertEqual(annotations[0].imageID.value, 1, "true is the integer 1, as in Python")
        XCTAssertEqual(annotations[0].area.value, 2.5)
        XCTAssertEqual(annotations[0].ignore.value, false)
        guard case let .mistyped(box) = annotations[0].bbox, case let .mistyped(crowd) = annotations[0].isCrowd,
              case let .mistyped(id) = annotations[1].id else {
            return XCTFail("bbox, iscrowd and the fractional id should be mistyped")
        }
        XCTAssertEqual(box, COCOFoundValue(text: "[1, 2, 3]", position: JSONTextPosition(line: 3, column: 72)))
        XCTAssertEqual(crowd.text, "\"yes\"")
        XCTAssertEqual(crowd.position.line, 4)
        XCTAssertEqual(id.text, "2.5")
        XCTAssertEqual(id.position.line, 5)
        XCTAssertEqual(annotations[1].bbox.value, COCOBox(x: 0, y: 0, width: 4, height: 5))
        XCTAssertEqual(annotations[1].isCrowd.value, true)
        XCTAssertTrue(file.irregularities.isEmpty)
    }

    func testGroundTruthFileNotesIrregularTextAndGroundTruthRejectsTrailingCommas() throws {
        let text = "{\"images\": [{\"id\": 1, \"file_name\": \"a\\udc00\"},\n  ],\n \"categories\": [{\"id\": \"x\"}]}"
        let url = try write(text, "gt.json")
        let file = try COCOGroundTruthFile(contentsOf: url)
        XCTAssertEqual(file.irregularities.map(\.kind), [.unpairedSurrogate, .trailingComma])
        XCTAssertEqual(file.irregularities.map(\.position),
                       [JSONTextPosition(line: 1, column: 38), JSONTextPosition(line: 2, column: 3)],
                       "positions before a later mistyped value are still counted from the start")
        guard case let .mistyped(id) = try XCTUnwrap(file.categories.value?.first).id else { return XCTFail("id") }
        XCTAssertEqual(id.position, JSONTextPosition(line: 3, column: 24))
        XCTAssertEqual(file.images.value?.first?.fileName.value, "a\u{FFFD}")
        XCTAssertThrowsError(try COCOGroundTruth(contentsOf: url)) { error in
            XCTAssertEqual(error as? EvaluationError,
                           .malformedJSON(file: url.path, line: 2, column: 3, reason: "trailing comma before ']'"))
        }
        let withoutComma = try write(text.replacingOccurrences(of: ",\n  ]", with: "\n  ]"), "gt2.json")
        XCTAssertThrowsError(try COCOGroundTruth(contentsOf: withoutComma)) { error in
            XCTAssertEqual(error as? EvaluationError, .malformedJSON(file: withoutComma.path, line: 3, column: 24,
                                                                    reason: "categories[0].id must be an integer, found \"x\""))
        }
    }

    func testGroundTruthReadsByteOrderMarksAndUTF16() throws {
        let expected = try COCOGroundTruth(contentsOf: try write(gtText, "gt.json"))
        var utf16 = Data([0xFE, 0xFF])
        for unit in gtText.utf16 { utf16.append(contentsOf: [UInt8(unit >> 8), UInt8(unit & 0xFF)]) }
        for data in [Data([0xEF, 0xBB, 0xBF]) + Data(gtText.utf8), utf16] {
            let url = try Fixtures.temporaryDirectory().appendingPathComponent("gt.json")
            try data.write(to: url)
            let gt = try COCOGroundTruth(contentsOf: url)
            XCTAssertEqual(gt.images, expected.images)
            XCTAssertEqual(gt.categories, expected.categories)
            XCTAssertEqual(gt.annotations, expected.annotations)
        }
        let broken = try Fixtures.temporaryDirectory().appendingPathComponent("gt.json")
        try Data([0xFF, 0xFE, 0x7B, 0x00, 0x00, 0xD8, 0x7D, 0x00]).write(to: broken)  // "{", an unpaired surrogate, "}"
        XCTAssertThrowsError(try COCOGroundTruth(contentsOf: broken)) { error in
            XCTAssertEqual("\(error)", "\(broken.path): cannot read the file (the text looks like UTF-16LE but is not valid UTF-16LE)")
        }
    }

    func testGroundTruthFieldsOfTheWrongKindNameEntryAndPlace() throws {
        let cases: [(String, String)] = [
            (#"{"images": [{"id": 1, "width": 6.5}]}"#, ":1:32: invalid JSON: images[0].width must be an integer, found 6.5"),
            (#"{"images": {}}"#, ":1:12: invalid JSON: 'images' must be an array of objects, found {}"),
            (#"{"annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "area": 1}]}"#,
             "annotations[0].bbox must be 4 numbers [x, y, width, height], found [0, 0, 1]"),
            (#"{"annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]}"#,
             "not a COCO file: annotations[0] has no 'area'"),
            (#"{"annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": []}]}"#,
             "annotations[0].iscrowd must be a number or boolean, found []"),
            ("[]", "not a COCO file: the top level must be an object"),
        ]
        for (text, fragment) in cases {
            let url = try write(text, "gt.json")
            XCTAssertThrowsError(try COCOGroundTruth(contentsOf: url), text) { error in
                XCTAssertTrue("\(error)".hasPrefix(url.path), "\(error)")
                XCTAssertTrue("\(error)".contains(fragment), "\(error) should mention \(fragment)")
            }
        }
        let long = try write(#"{"images": [{"id": "\#(String(repeating: "7", count: 300))"}]}"#, "gt.json")
        XCTAssertThrowsError(try COCOGroundTruth(contentsOf: long)) { error in
            XCTAssertTrue("\(error)".hasSuffix("found \"" + String(repeating: "7", count: 79) + "…"), "\(error)")
        }
    }

    func testResultsRoundTrip() throws {
        let detections = [COCODetection(imageID: 3, categoryID: 2, box: COCOBox(x: 1.5, y: 2, width: 0.1, height: 4e-5),
                                        score: 0.123456789)]
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("r.json")
        try COCOResults.write(detections, to: url)
        XCTAssertEqual(try COCOResults.load(contentsOf: url), detections)
    }
}
