import Boxes
import DetectorTestSupport
import NeuralNet
import XCTest
@testable import DetectorModel

/// The detector's anchors come from `Boxes.AnchorGenerator` alone, in the order `HeadLayout` reads head outputs.
final class AnchorLayoutTests: XCTestCase {
    /// Hand values: cell centres at `(x + ½)·8`, exact sizes, ratio-major within a cell, cells row by row.
    func testAnchorsArePinnedToCellCentresAndRatioMajorOrder() throws {
        var c = DetectorFixtures.tinyConfig()
        c.anchorSizes = [8, 16]
        c.anchorRatios = [1, 4]
        c.hypotheses = 4
        let d = try Detector(config: c, seed: 0)
        XCTAssertEqual(d.anchors.count, 8 * 8 * 4)
        // Cell (0, 0), centre (4, 4): ratio 1 sizes 8 and 16, then ratio 4 (h = 2·s, w = s/2).
        XCTAssertEqual(d.anchors[0].xyxy, [0, 0, 8, 8])
        XCTAssertEqual(d.anchors[1].xyxy, [-4, -4, 12, 12])
        XCTAssertEqual(d.anchors[2].xyxy, [2, -4, 6, 12])
        XCTAssertEqual(d.anchors[3].xyxy, [0, -12, 8, 20])
        // Cell (y 1, x 2): index (1·8 + 2)·4, centre (20, 12).
        XCTAssertEqual(d.anchors[(1 * 8 + 2) * 4].xyxy, [16, 8, 24, 16])
        XCTAssertEqual(d.anchors, c.anchorGenerator.anchors(level: 0, gridHeight: 8, gridWidth: 8, strideY: 8, strideX: 8))
    }

    /// Non-integer sizes stay exact (the generator's torchvision rounding is off for the detector).
    func testFittedSizesAreNotRounded() throws {
        var c = DetectorFixtures.tinyConfig()
        c.anchorSizes = [8.5]
        let d = try Detector(config: c, seed: 0)
        XCTAssertEqual(d.anchors[0].xyxy, [-0.25, -0.25, 8.25, 8.25])
    }

    /// A head conv's channel `a·D + d` at cell `(y, x)` lands on the anchor whose box is `anchors[(y·W + x)·A + a]`.
    func testHeadLayoutOrderMatchesTheAnchors() {
        let (a, d, h, w) = (2, 3, 2, 4)
        var map = Tensor(shape: [1, a * d, h, w])
        for ch in 0..<(a * d) { for y in 0..<h { for x in 0..<w { map.data[(ch * h + y) * w + x] = Float(ch * 1000 + y * 10 + x) } } }
        let perAnchor = HeadLayout.toAnchors(map, anchors: a)
        for y in 0..<h { for x in 0..<w { for ai in 0..<a { for di in 0..<d {
            XCTAssertEqual(perAnchor.data[((y * w + x) * a + ai) * d + di], Float((ai * d + di) * 1000 + y * 10 + x))
        } } } }
        XCTAssertEqual(HeadLayout.fromAnchors(perAnchor, anchors: a, height: h, width: w).data, map.data)
    }
}
