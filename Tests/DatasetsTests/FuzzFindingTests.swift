import Boxes
@testable import Datasets
import Foundation
import TestSupport
import XCTest

/// Inputs the fuzzers found (`tools/fuzz`, committed in `Tests/Fixtures/fuzz/<harness>/`), each with the outcome it
/// must have now: a clear error or a clean load, never a trap.
final class FuzzFindingTests: XCTestCase {
    /// yolo: `0 0. 2222…0 .5 0.0` — a box centred at y = 2.2·10²¹ with zero height. Its note printed the corners
    /// through `Int(_:)`, which traps beyond `Int.max`; the box is now dropped as degenerate and the note prints
    /// the corner as `1.06667e+24` (the centre times the 48 px height).
    func testYOLOBoxFarOutsideInt() throws {
        let folder = try Fixtures.temporaryDirectory()
        let fm = FileManager.default
        try fm.createDirectory(at: folder.appendingPathComponent("labels"), withIntermediateDirectories: true)
        try fm.copyItem(at: Fixtures.url("datasets/yolo/images"), to: folder.appendingPathComponent("images"))
        try fm.copyItem(at: Fixtures.url("datasets/yolo/classes.txt"), to: folder.appendingPathComponent("classes.txt"))
        try fm.copyItem(at: Fixtures.url("fuzz/yolo/huge_centre_zero_height.txt"), to: folder.appendingPathComponent("labels/a.txt"))
        let ds = try DetectionDataset.load(folder)
        XCTAssertEqual(ds.report.droppedDegenerateBoxes, 1)
        XCTAssertTrue(ds.report.notes.contains { $0.contains("dropped") && $0.contains("1.06667e+24") }, "\(ds.report.notes)")
        XCTAssertEqual(Validator.fmt(Box(x1: -.infinity, y1: 0, x2: 1e300, y2: 2.5)), "(-inf, 0, 1e+300, 2.50)")
    }

    /// idl: `"i"(1,4,8,1e40);` — a box reaching y = 10⁴⁰ on an image that is not on disk. The image's size was
    /// guessed from the boxes through `Int(_:)`, which traps beyond `Int.max`; it is now the pixel limit's error,
    /// naming the file, the image and its line.
    func testIDLBoxBeyondIntOnAMissingImage() throws {
        let url = Fixtures.url("fuzz/idl/corner_1e40_image_missing.idl")
        XCTAssertThrowsError(try DetectionDataset.load(url, options: ValidationOptions(requireImageFiles: false))) { error in
            guard case DatasetError.limitExceeded(let file, let what, let found, let limit) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(file, url.path)
            XCTAssertEqual(what, "pixels per image")
            XCTAssertEqual(limit, DatasetLimits.maxPixels)
            XCTAssertEqual(found, "i (line 1, not found) has boxes reaching 8.0×1e+40")
        }
        // Within the limit the size is still the boxes' reach.
        XCTAssertEqual(try IDLFormat.sizeFromBoxes([Box(x1: 0, y1: 0, x2: 10.2, y2: 3)], file: "f", image: "i", lineNumber: 1).0, 11)
    }
}
