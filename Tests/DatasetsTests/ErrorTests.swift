import Boxes
@testable import Datasets
import Foundation
import TestSupport
import XCTest

/// Every bad input gives an error that names the file and says where and what.
final class ErrorTests: XCTestCase {
    private func writeCOCO(_ body: String, name: String = "bad.json", in dir: URL? = nil) throws -> URL {
        let d = try dir ?? Fixtures.temporaryDirectory()
        let u = d.appendingPathComponent(name)
        try body.write(to: u, atomically: true, encoding: .utf8)
        return u
    }

    private func message(_ body: () throws -> Any) -> String {
        do { _ = try body() } catch { return "\(error)" }
        XCTFail("expected an error")
        return ""
    }

    private let header = "{\"images\": [{\"id\": 1, \"file_name\": \"a.png\", \"width\": 64, \"height\": 48}],\n"
    private let categories = "\"categories\": [{\"id\": 1, \"name\": \"x\"}]}"

    func testMalformedJSONShowsFileAndLineColumn() throws {
        let u = try writeCOCO("{\"images\": [\n  {\"id\": 1,, \"file_name\": \"a.png\"}\n]}")
        let m = message { try DetectionDataset.load(u) }
        XCTAssertTrue(m.contains(u.path), m)
        XCTAssertTrue(m.contains("line 2, column"), m)
        XCTAssertTrue(m.contains("malformed JSON"), m)
    }

    func testTruncatedJSONShowsWhere() throws {
        let u = try writeCOCO("{\"images\": [\n  {\"id\": 1")
        let m = message { try DetectionDataset.load(u) }
        XCTAssertTrue(m.contains(u.path) && m.contains("line 2"), m)
    }

    func testNegativeBoxWidthNamesAnnotation() throws {
        let u = try writeCOCO(header + "\"annotations\": [{\"id\": 17, \"image_id\": 1, \"category_id\": 1, \"bbox\": [5, 5, -3, 4]}],\n" + categories)
        let m = message { try DetectionDataset.load(u, options: ValidationOptions(requireImageFiles: false)) }
        XCTAssertTrue(m.contains(u.path) && m.contains("annotations[0] (id 17)") && m.contains("negative width"), m)
    }

    func testUnknownCategoryListsOffendersWithCount() throws {
        var anns: [String] = []
        for i in 1...8 { anns.append("{\"id\": \(i), \"image_id\": 1, \"category_id\": \(i % 2 == 0 ? 1 : 9), \"bbox\": [1, 1, 4, 4]}") }
        let u = try writeCOCO(header + "\"annotations\": [\(anns.joined(separator: ","))],\n" + categories)
        let m = message { try DetectionDataset.load(u, options: ValidationOptions(requireImageFiles: false)) }
        XCTAssertTrue(m.contains(u.path) && m.contains("4 annotation(s)") && m.contains("category_id 9"), m)
    }

    func testMissingImageIsAnErrorListingIt() throws {
        let u = try writeCOCO(header + "\"annotations\": [],\n" + categories)
        let m = message { try DetectionDataset.load(u) }
        XCTAssertTrue(m.contains(u.path) && m.contains("1 image file(s) not found") && m.contains("a.png"), m)
        XCTAssertNoThrow(try DetectionDataset.load(u, options: ValidationOptions(requireImageFiles: false)))
    }

    func testPathEscapingTheRootIsRejected() throws {
        for path in ["../outside.png", "images/../../outside.png", "/etc/passwd"] {
            let u = try writeCOCO("{\"images\": [{\"id\": 1, \"file_name\": \"\(path)\", \"width\": 8, \"height\": 8}],\n"
                                  + "\"annotations\": [],\n" + categories)
            let m = message { try DetectionDataset.load(u, options: ValidationOptions(requireImageFiles: false)) }
            XCTAssertTrue(m.contains(u.path) && m.contains("leaves the dataset root") && m.contains(path), m)
        }
        let idl = try writeCOCO("\"../x.png\": (1, 1, 4, 4);\n", name: "e.idl")
        let m = message { try DetectionDataset.load(idl, options: ValidationOptions(requireImageFiles: false)) }
        XCTAssertTrue(m.contains("leaves the dataset root"), m)
    }

    private let noFiles = ValidationOptions(requireImageFiles: false)

    func testWrongKindOfValueNamesEntryKeyValueAndPlace() throws {
        let cases: [(String, String)] = [
            ("{\"images\": [{\"id\": 1.5, \"file_name\": \"a.png\", \"width\": 64, \"height\": 48}],\n" + categories,
             #"images[0]: "id" must be an integer, got 1.5 (line 1, column 20)"#),
            ("{\"images\": [{\"id\": 1, \"file_name\": null, \"width\": 64, \"height\": 48}],\n" + categories,
             #"images[0]: "file_name" must be a string, got null"#),
            ("{\"images\": [{\"id\": 1, \"file_name\": \"a.png\", \"width\": \"64\", \"height\": 48}],\n" + categories,
             #"images[0]: "width" must be an integer, got "64""#),
            (header + "\"annotations\": [\n{\"id\": 3, \"image_id\": 1, \"category_id\": 1,\n \"bbox\": [1, 2, 3]}],\n" + categories,
             #"annotations[0] (id 3): "bbox" must be an array of 4 numbers, got [1, 2, 3] (line 4, column 10)"#),
            (header + "\"annotations\": [{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1, 2, 3, 1e400]}],\n" + categories,
             #"annotations[0]: "bbox" has a non-finite number"#),
            (header + "\"annotations\": {},\n" + categories, #"top level: "annotations" must be an array of objects"#),
            ("{\"images\": [{\"id\": 1, \"file_name\": \"a.png\", \"width\": 64, \"height\": 48}, 3],\n" + categories,
             #"top level: missing array "images""#),
            (header + "\"annotations\": []}", #"top level: missing array "categories""#),
            ("[" + header + "]", "top level: expected a JSON object"),
        ]
        for (text, expected) in cases {
            let u = try writeCOCO(text)
            let m = message { try DetectionDataset.load(u, options: noFiles) }
            XCTAssertTrue(m.hasPrefix(u.path + ": "), m)
            XCTAssertTrue(m.contains(expected), "\(m)\nshould contain\n\(expected)")
        }
    }

    func testTextThatStrictJSONRejectsIsMalformed() throws {
        let bad: [(Data, String)] = [
            (Data(("{\"images\": [{\"id\": 1,\n \"file_name\": \"a").utf8) + Data([0xFF]) + Data(".png\"}]}".utf8),
             "line 2, column 15: a string holds bytes that are not valid UTF-8"),
            (Data("{\"images\": [{\"id\": 1,\n \"file_name\": \"a\\ud800b.png\"}]}".utf8),
             "line 2, column 17: a \\u escape holds a UTF-16 surrogate without its partner"),
        ]
        for (data, expected) in bad {
            let u = try Fixtures.temporaryDirectory().appendingPathComponent("bad.json")
            try data.write(to: u)
            let m = message { try DetectionDataset.load(u, options: noFiles) }
            XCTAssertTrue(m.contains(u.path) && m.contains("malformed JSON") && m.contains(expected), m)
        }
    }

    func testTrainingDataReadsWhatTheLoaderAlwaysAccepted() throws {
        // A trailing comma, booleans as numbers, no `area`, a non-string category name, non-numeric flags.
        let text = """
            {"images": [{"id": true, "file_name": "a.png", "width": 64, "height": 48,},],
             "annotations": [{"image_id": 1, "category_id": 4, "bbox": [1, 2, 10, 20], "iscrowd": "1", "ignore": 2},
                             {"image_id": 1, "category_id": 4, "bbox": [false, 0, 5, 5], "iscrowd": true, "ignore": null}],
             "categories": [{"id": 4, "name": 7}]}
            """
        let expected = [Annotation(box: Box(x1: 1, y1: 2, x2: 11, y2: 22), classIndex: 0, isCrowd: false, ignore: true),
                        Annotation(box: Box(x1: 0, y1: 0, x2: 5, y2: 5), classIndex: 0, isCrowd: true, ignore: false)]
        var utf16 = Data([0xFF, 0xFE])
        for unit in text.utf16 { utf16.append(contentsOf: [UInt8(unit & 0xFF), UInt8(unit >> 8)]) }
        for data in [Data(text.utf8), Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8), utf16] {
            let u = try Fixtures.temporaryDirectory().appendingPathComponent("lenient.json")
            try data.write(to: u)
            let ds = try DetectionDataset.load(u, options: noFiles)
            XCTAssertEqual(ds.images.map(\.id), [1])
            XCTAssertEqual(ds.categories, [Category(id: 4, name: "class4")])
            XCTAssertEqual(ds.images[0].annotations, expected)
        }
    }

    func testBadIDLLineNamesFileLineAndColumn() throws {
        let bad = [
            ("\"a.png\": (1, 2, 3);", "expected ','"),
            ("\"a.png\": (1, 2, 3, 4)", "missing ';'"),
            ("a.png: (1, 2, 3, 4);", "expected a quoted image path"),
            ("\"a.png\": (1, x, 3, 4);", "expected a number"),
            ("\"a.png\": (5, 2, 3, 4);", "negative size"),
            ("\"a.png\": (1, 2, 3, 4); junk", "unexpected text"),
        ]
        for (line, reason) in bad {
            let u = try writeCOCO("\"b.png\";\n\n" + line + "\n", name: "bad.idl")
            let m = message { try DetectionDataset.load(u, options: ValidationOptions(requireImageFiles: false)) }
            XCTAssertTrue(m.contains(u.path + ":3, column"), m)
            XCTAssertTrue(m.contains(reason), m)
        }
    }

    func testBadYOLOLineNamesFileAndLine() throws {
        let cases = [("0 0.5 0.5 0.2\n", "expected 5 fields"), ("0 0.5 0.5 0.2 x\n", "is not a number"),
                     ("7 0.5 0.5 0.2 0.2\n", "not among the 2 class names"), ("-1 0.5 0.5 0.2 0.2\n", "non-negative integer")]
        for (bad, reason) in cases {
            let dir = try Fixtures.temporaryDirectory()
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("images"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("labels"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Fixtures.url("datasets/images/a.png"), to: dir.appendingPathComponent("images/a.png"))
            try "a\nb\n".write(to: dir.appendingPathComponent("obj.names"), atomically: true, encoding: .utf8)
            let label = dir.appendingPathComponent("labels/a.txt")
            try ("1 0.5 0.5 0.1 0.1\n" + bad).write(to: label, atomically: true, encoding: .utf8)
            let m = message { try DetectionDataset.load(dir) }
            XCTAssertTrue(m.contains(label.path + ":2"), m)
            XCTAssertTrue(m.contains(reason), m)
        }
    }

    func testUnknownFormat() throws {
        let u = try writeCOCO("<xml/>", name: "a.xml")
        XCTAssertTrue(message { try DetectionDataset.load(u) }.contains("unknown annotation format"))
    }
}
