import Boxes
@testable import Datasets
import Foundation
import TestSupport
import XCTest

final class FormatTests: XCTestCase {
    func testCOCOSampleLoadsWithSortedCategoriesClippingAndFlags() throws {
        let ds = try DetectionDataset.load(Fixtures.url("datasets/sample.json"))
        XCTAssertEqual(ds.categories, [Category(id: 2, name: "blob"), Category(id: 5, name: "square")])
        XCTAssertEqual(ds.images.map(\.id), [7, 9])
        XCTAssertEqual(ds.images[0].file.lastPathComponent, "a.png")
        let a = ds.images[0].annotations
        XCTAssertEqual(a.count, 2)
        XCTAssertEqual(a[0], Annotation(box: Box(x1: 10, y1: 5, x2: 30, y2: 25), classIndex: 1))
        XCTAssertEqual(a[1], Annotation(box: Box(x1: 50, y1: 40, x2: 64, y2: 48), classIndex: 0, isCrowd: true))
        let b = ds.images[1].annotations
        XCTAssertEqual(b.count, 2, "the zero-width box is dropped, the duplicate kept")
        XCTAssertTrue(b[0].ignore)
        XCTAssertFalse(b[1].ignore)
        XCTAssertEqual(ds.report.clippedBoxes, 1)
        XCTAssertEqual(ds.report.droppedDegenerateBoxes, 1)
        XCTAssertEqual(ds.report.duplicateBoxes, 1)
        XCTAssertEqual(ds.classCounts, [1, 3])
    }

    func testCOCOWriteThenReadRoundTrips() throws {
        let ds = try DetectionDataset.load(Fixtures.url("datasets/sample.json"))
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("images"), withIntermediateDirectories: true)
        for name in ["a.png", "b.png"] {
            try FileManager.default.copyItem(at: Fixtures.url("datasets/images/\(name)"),
                                             to: dir.appendingPathComponent("images/\(name)"))
        }
        let out = dir.appendingPathComponent("copy.json")
        try COCOFormat.write(ds, to: out)
        let back = try DetectionDataset.load(out)
        XCTAssertEqual(back.images.map(\.annotations), ds.images.map(\.annotations))
        XCTAssertEqual(back.categories, ds.categories)
        let bytes1 = try Data(contentsOf: out)
        try COCOFormat.write(back, to: out)
        XCTAssertEqual(try Data(contentsOf: out), bytes1, "writing is deterministic")
    }

    func testCOCOFindsImagesInStemImagesFolderAndExplicitFolder() throws {
        let dir = try Fixtures.temporaryDirectory()
        let imgs = dir.appendingPathComponent("train/images")
        try FileManager.default.createDirectory(at: imgs, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.url("datasets/images/b.png"), to: imgs.appendingPathComponent("b.png"))
        let json = """
        {"images": [{"id": 1, "file_name": "b.png", "width": 32, "height": 32}], "annotations": [],
         "categories": [{"id": 1, "name": "x"}]}
        """
        try json.write(to: dir.appendingPathComponent("train.json"), atomically: true, encoding: .utf8)
        let ds = try DetectionDataset.load(dir.appendingPathComponent("train.json"))
        XCTAssertEqual(ds.images[0].file.standardizedFileURL.path, imgs.appendingPathComponent("b.png").standardizedFileURL.path)
        XCTAssertEqual(ds.report.imagesWithoutBoxes, 1)
        let explicit = try DetectionDataset.load(dir.appendingPathComponent("train.json"), imageDirectory: imgs)
        XCTAssertEqual(explicit.images[0].file.lastPathComponent, "b.png")
    }

    func testIDLParsesScoresIdsEmptyImagesAndFinalDot() throws {
        let ds = try DetectionDataset.load(Fixtures.url("datasets/sample.idl"))
        XCTAssertEqual(ds.images.map(\.fileName), ["images/a.png", "images/b.png", "images/c.png"])
        XCTAssertEqual(ds.images.map(\.width), [64, 32, 40])
        XCTAssertEqual(ds.images[0].annotations.map(\.box), [
            Box(x1: 10, y1: 5, x2: 30, y2: 25), Box(x1: 0.5, y1: 1.5, x2: 12, y2: 20), Box(x1: 40, y1: 10, x2: 64, y2: 40),
        ])
        XCTAssertTrue(ds.images[1].annotations.isEmpty)
        XCTAssertEqual(ds.images[2].annotations.map(\.box), [Box(x1: 1, y1: 2, x2: 11, y2: 12)])
        XCTAssertEqual(ds.report.clippedBoxes, 1)
        XCTAssertEqual(ds.categories.count, 1)
    }

    func testIDLLineVariants() throws {
        let cases: [(String, String, Int)] = [
            ("\"x.png\";", "x.png", 0),
            ("\"x.png\":;", "x.png", 0),
            ("\"x.png\".", "x.png", 0),
            ("\"d/x.png\": (1,2,3,4);", "d/x.png", 1),
            ("  \"x.png\" : (1.5, 2, 3, 4) : 0.25 / 7 ,(5,6,7,8)/2 . ", "x.png", 2),
            ("\"x.png\": (1, 2, 3, 4):-0.5e-1;", "x.png", 1),
        ]
        for (line, path, n) in cases {
            let (p, boxes) = try IDLFormat.parseLine(line.trimmingCharacters(in: .whitespaces), file: "t.idl", lineNumber: 1)
            XCTAssertEqual(p, path, line)
            XCTAssertEqual(boxes.count, n, line)
        }
    }

    func testYOLOFolderWithClassNames() throws {
        let ds = try DetectionDataset.load(Fixtures.url("datasets/yolo"))
        XCTAssertEqual(ds.categories.map(\.name), ["cat", "dog"])
        XCTAssertEqual(ds.images.map(\.fileName), ["images/a.png", "images/b.png"])
        XCTAssertEqual(ds.images[0].annotations, [
            Annotation(box: Box(x1: 24, y1: 12, x2: 40, y2: 36), classIndex: 0),
            Annotation(box: Box(x1: 0, y1: 0, x2: 16, y2: 24), classIndex: 1),
        ])
        XCTAssertTrue(ds.images[1].annotations.isEmpty)
    }

    func testYAMLNamesForms() {
        XCTAssertEqual(YOLOFormat.yamlNames("nc: 2\nnames: ['a b', \"c\"]\n"), ["a b", "c"])
        XCTAssertEqual(YOLOFormat.yamlNames("names:\n  - head\n  - person\ntrain: x\n"), ["head", "person"])
        XCTAssertEqual(YOLOFormat.yamlNames("names:\n  0: head\n  1: 'person'\n"), ["head", "person"])
        XCTAssertNil(YOLOFormat.yamlNames("nc: 2\n"))
    }

    func testFormatDetection() throws {
        XCTAssertEqual(AnnotationFormat.detect(URL(fileURLWithPath: "/x/train.json")), .coco)
        XCTAssertEqual(AnnotationFormat.detect(URL(fileURLWithPath: "/x/a.IDL")), .idl)
        XCTAssertEqual(AnnotationFormat.detect(Fixtures.url("datasets/yolo")), .yolo)
        XCTAssertNil(AnnotationFormat.detect(URL(fileURLWithPath: "/x/a.xml")))
    }

    func testSharedCOCODatasetsLoadWithREADMECounts() throws {
        let expected: [(String, Int, Int, [Int])] = [
            ("bccd/train.json", 292, 3935, [3342, 301, 292]), ("bccd/test.json", 72, 944, [804, 71, 69]),
            ("scut_head_b_small/train.json", 400, 7399, [7399]), ("scut_head_b_small/test.json", 100, 1854, [1854]),
        ]
        for (path, images, boxes, perClass) in expected {
            let ds = try DetectionDataset.load(try Fixtures.shared("datasets/" + path))
            XCTAssertEqual(ds.images.count, images, path)
            XCTAssertEqual(ds.annotationCount, boxes, path)
            XCTAssertEqual(ds.classCounts, perClass, path)
            XCTAssertTrue(FileManager.default.fileExists(atPath: ds.images[0].file.path), path)
            XCTAssertEqual(ds.report.droppedDegenerateBoxes, 0, "\(path): \(ds.report)")
        }
    }
}
