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
}
