import XCTest
import TestSupport
@testable import Boxes

/// IoU-family values against torchvision (float64) in `Tests/Fixtures/oracles/losses.json`.
final class OverlapTests: XCTestCase {
    private func oracleCase(_ name: String) throws -> (inputs: [[[Double]]], output: Any) {
        let root = try XCTUnwrap(Fixtures.json("oracles/losses.json") as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        let c = try XCTUnwrap(cases.first { $0["name"] as? String == name }, "no case \(name)")
        let inputs = try XCTUnwrap(c["inputs"] as? [[[Double]]])
        return (inputs, try XCTUnwrap(c["output"]))
    }

    private func boxes(_ rows: [[Double]]) -> [Box] {
        rows.map { Box(x1: $0[0], y1: $0[1], x2: $0[2], y2: $0[3]) }
    }

    private func checkLoss(_ name: String, _ value: (Box, Box) -> Double) throws {
        let (inputs, output) = try oracleCase(name)
        let expected = try XCTUnwrap(output as? [Double])
        let a = boxes(inputs[0]), b = boxes(inputs[1])
        XCTAssertEqual(a.count, expected.count)
        let losses = zip(a, b).map { 1 - value($0, $1) }
        assertClose(losses, expected, rtol: 1e-9, atol: 1e-12, name)
    }

    func testGIoUMatchesTorchvisionLoss() throws { try checkLoss("generalized_box_iou_loss") { giou($0, $1) } }
    func testDIoUMatchesTorchvisionLoss() throws { try checkLoss("distance_box_iou_loss") { diou($0, $1) } }
    func testCIoUMatchesTorchvisionLoss() throws { try checkLoss("complete_box_iou_loss") { ciou($0, $1) } }

    func testPairwiseIoUMatchesTorchvision() throws {
        let (inputs, output) = try oracleCase("box_iou_pairwise")
        let expected = try XCTUnwrap(output as? [[Double]]).flatMap { $0 }
        let got = pairwiseIoU(boxes(inputs[0]), boxes(inputs[1]))
        assertClose(got, expected, rtol: 1e-12, atol: 1e-15)
    }

    func testPairwiseGIoUMatchesTorchvision() throws {
        let (inputs, output) = try oracleCase("generalized_box_iou_pairwise")
        let expected = try XCTUnwrap(output as? [[Double]]).flatMap { $0 }
        let got = pairwiseGIoU(boxes(inputs[0]), boxes(inputs[1]))
        assertClose(got, expected, rtol: 1e-12, atol: 1e-15)
    }

    func testOnePairAgreesWithPairwiseUpToEps() {
        let a = [Box(x1: 0, y1: 0, x2: 4, y2: 2), Box(cx: 3, cy: 3, w: 2, h: 6)]
        let b = [Box(x: 1, y: 1, w: 5, h: 5), Box(x1: 10, y1: 10, x2: 11, y2: 12), Box(x1: 2, y1: 0, x2: 4, y2: 2)]
        let pi = pairwiseIoU(a, b), pg = pairwiseGIoU(a, b)
        for r in a.indices {
            for c in b.indices {
                XCTAssertEqual(iou(a[r], b[c]), pi[r * b.count + c], accuracy: 1e-7)
                XCTAssertEqual(giou(a[r], b[c]), pg[r * b.count + c], accuracy: 1e-7)
            }
        }
        // Hand values: [0,4]×[0,2] against [2,4]×[0,2]: I = 4, U = 8.
        XCTAssertEqual(pi[2], 0.5, accuracy: 1e-12)
        // Disjoint [0,4]×[0,2] and [10,11]×[10,12]: C = 11·12 = 132, U = 10.
        XCTAssertEqual(pg[1], -(132.0 - 10.0) / 132.0, accuracy: 1e-12)
    }

    func testDegenerateBoxesGiveFiniteValues() {
        let p = Box(x1: 1, y1: 1, x2: 1, y2: 1)
        XCTAssertEqual(pairwiseIoU([p], [p]), [0])
        XCTAssertEqual(pairwiseGIoU([p], [p]), [0])
        XCTAssertTrue(pairwiseIoU([], [p]).isEmpty)
        XCTAssertEqual(iou(p, p), 0)
    }

    func testFormatsRoundTrip() {
        let b = Box(x: 2, y: 3, w: 4, h: 6)
        XCTAssertEqual(b, Box(x1: 2, y1: 3, x2: 6, y2: 9))
        XCTAssertEqual(b, Box(cx: b.cx, cy: b.cy, w: b.width, h: b.height))
        XCTAssertEqual(b.area, 24)
        XCTAssertTrue(b.xywh == (2, 3, 4, 6))
        XCTAssertTrue(b.cxcywh == (4, 6, 4, 6))
        XCTAssertEqual(Box(x1: -5, y1: 2, x2: 30, y2: 50).clipped(width: 20, height: 40),
                       Box(x1: 0, y1: 2, x2: 20, y2: 40))
        let decoded = try? JSONDecoder().decode(Box.self, from: JSONEncoder().encode(b))
        XCTAssertEqual(decoded, b)
    }
}
