import Foundation
import XCTest
import TestSupport
@testable import Boxes

/// Anchors against hand-derived torchvision values, the box coder against its formulas, NMS against a
/// brute-force reference.
final class AnchorCoderNMSTests: XCTestCase {
    func testBaseAnchorsFollowTorchvisionRounding() {
        // sizes (32, 64), ratios (0.5, 1, 2): w = s/√r, h = s·√r, corners ±(w, h)/2 rounded half to even.
        // r = 0.5, s = 32: w = 45.2548, h = 22.6274 → (−23, −11, 23, 11); s = 64: (−45, −23, 45, 23).
        // r = 1: (−16, −16, 16, 16), (−32, −32, 32, 32); r = 2: (−11, −23, 11, 23), (−23, −45, 23, 45).
        let g = AnchorGenerator(sizes: [[32, 64]], aspectRatios: [[0.5, 1, 2]])
        let expected: [[Double]] = [[-23, -11, 23, 11], [-45, -23, 45, 23], [-16, -16, 16, 16],
                                    [-32, -32, 32, 32], [-11, -23, 11, 23], [-23, -45, 23, 45]]
        XCTAssertEqual(g.baseAnchors(level: 0).map(\.xyxy), expected)
        XCTAssertEqual(g.anchorsPerLocation(level: 0), 6)
        // Half-way values round to even: size 5, ratio 1 gives ±2.5 → ±2.
        XCTAssertEqual(AnchorGenerator(sizes: [[5]], aspectRatios: [[1]]).baseAnchors(level: 0).map(\.xyxy),
                       [[-2, -2, 2, 2]])
    }

    func testGridAnchorsAreOrderedByRowColumnAnchor() {
        // Image 32×48 (h×w), feature map 2×3: torchvision strides 32/2 = 16 and 48/3 = 16.
        let g = AnchorGenerator(sizes: [[16], [32]], aspectRatios: [[1, 2], [1]])
        let levels = g.anchors(imageHeight: 32, imageWidth: 48, featureSizes: [(2, 3), (1, 1)])
        XCTAssertEqual(levels.count, 2)
        XCTAssertEqual(levels[0].count, 2 * 3 * 2)
        // ratio 2, size 16: w = 11.31 → ±5.657 → ±6; h = 22.63 → ±11.31 → ±11.
        XCTAssertEqual(levels[0][0].xyxy, [-8, -8, 8, 8])
        XCTAssertEqual(levels[0][1].xyxy, [-6, -11, 6, 11])
        XCTAssertEqual(levels[0][2].xyxy, [8, -8, 24, 8])       // (y 0, x 1, anchor 0)
        XCTAssertEqual(levels[0][7].xyxy, [-6, 5, 6, 27])       // (y 1, x 0, anchor 1): shift (0, 16)
        XCTAssertEqual(levels[0][6].xyxy, [-8, 8, 8, 24])       // (y 1, x 0, anchor 0)
        XCTAssertEqual(levels[0][11].xyxy, [26, 5, 38, 27])     // (y 1, x 2, anchor 1)
        XCTAssertEqual(levels[1], [Box(x1: -16, y1: -16, x2: 16, y2: 16)])
    }

    func testCoderMatchesTorchvisionFormulas() {
        let coder = BoxCoder(weights: SIMD4(10, 10, 5, 5))
        let anchor = Box(x1: 10, y1: 20, x2: 50, y2: 40)   // centre (30, 30), size 40 × 20
        let box = Box(x1: 0, y1: 25, x2: 80, y2: 35)       // centre (40, 30), size 80 × 10
        let d = coder.encode(box, anchor: anchor)
        XCTAssertEqual(d.dx, 10 * 10.0 / 40, accuracy: 1e-12)
        XCTAssertEqual(d.dy, 0, accuracy: 1e-12)
        XCTAssertEqual(d.dw, 5 * log(2.0), accuracy: 1e-12)
        XCTAssertEqual(d.dh, 5 * log(0.5), accuracy: 1e-12)
        let back = coder.decode(d, anchor: anchor)
        assertClose(back.xyxy, box.xyxy, rtol: 1e-12, atol: 1e-12)
        // Clamp: dw beyond log(1000/16) decodes as exactly that.
        let wide = BoxCoder().decode(BoxDelta(dx: 0, dy: 0, dw: 50, dh: 0), anchor: anchor)
        XCTAssertEqual(wide.width, 40 * 1000 / 16, accuracy: 1e-9)
    }

    func testCoderRoundTripOnArrays() {
        var g = SystemRandomNumberGenerator()
        let anchors = (0..<50).map { _ in Box(cx: .random(in: 0...300, using: &g), cy: .random(in: 0...300, using: &g),
                                               w: .random(in: 4...90, using: &g), h: .random(in: 4...90, using: &g)) }
        let boxes = anchors.map { Box(cx: $0.cx + .random(in: -9...9), cy: $0.cy + .random(in: -9...9),
                                      w: $0.width * .random(in: 0.5...2), h: $0.height * .random(in: 0.5...2)) }
        let coder = BoxCoder()
        let flat = coder.encodeFlat(boxes, anchors: anchors)
        XCTAssertEqual(flat.count, 200)
        let decoded = coder.decode(flat: flat, anchors: anchors)
        XCTAssertEqual(coder.decode(coder.encode(boxes, anchors: anchors), anchors: anchors), decoded)
        assertClose(decoded.flatMap(\.xyxy), boxes.flatMap(\.xyxy), rtol: 1e-10, atol: 1e-9)
    }

    /// Reference: repeatedly take the best remaining box, drop every remaining box overlapping it by > t.
    private func bruteForceNMS(_ boxes: [Box], _ scores: [Double], _ t: Double) -> [Int] {
        let iou = pairwiseIoU(boxes, boxes)
        var remaining = Set(boxes.indices)
        var kept: [Int] = []
        while let best = remaining.max(by: { scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 > $1 }) {
            kept.append(best)
            remaining = remaining.filter { $0 != best && !(iou[best * boxes.count + $0] > t) }
        }
        return kept
    }

    func testNMSMatchesBruteForce() {
        var g = SystemRandomNumberGenerator()
        for trial in 0..<70 {
            // The last trials are proposal-sized: hundreds of boxes, the first 1 to 1000 of the kept ones asked for.
            let n = trial < 60 ? Int.random(in: 0...40, using: &g) : Int.random(in: 200...400, using: &g)
            let span = trial < 60 ? 60.0 : 300.0
            let boxes = (0..<n).map { _ in
                Box(cx: .random(in: 0...span, using: &g), cy: .random(in: 0...span, using: &g),
                    w: .random(in: 2...30, using: &g), h: .random(in: 2...30, using: &g))
            }
            // Ties on purpose: scores on a coarse grid.
            let scores = (0..<n).map { _ in Double(Int.random(in: 0...5, using: &g)) / 5 }
            let t = [0.3, 0.5, 0.7][trial % 3]
            let all = bruteForceNMS(boxes, scores, t)
            XCTAssertEqual(nms(boxes: boxes, scores: scores, iouThreshold: t), all)
            let m = trial < 60 ? trial % 7 : [1, 10, 50, 100, 1000][trial % 5]
            XCTAssertEqual(nms(boxes: boxes, scores: scores, iouThreshold: t, maxKept: m), Array(all.prefix(m)),
                           "the first \(m) kept")
            let classes = (0..<n).map { _ in Int.random(in: 0...2, using: &g) }
            var expected: [Int] = []
            for c in 0...2 {
                let members = (0..<n).filter { classes[$0] == c }
                expected += bruteForceNMS(members.map { boxes[$0] }, members.map { scores[$0] }, t).map { members[$0] }
            }
            expected.sort { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
            XCTAssertEqual(batchedNMS(boxes: boxes, scores: scores, classes: classes, iouThreshold: t), expected)
        }
    }

    func testNMSHandValues() {
        let boxes = [Box(x1: 0, y1: 0, x2: 10, y2: 10), Box(x1: 1, y1: 0, x2: 11, y2: 10),
                     Box(x1: 20, y1: 20, x2: 30, y2: 30), Box(x1: 0, y1: 0, x2: 10, y2: 10)]
        // IoU(0, 1) = 90/110 = 0.818; box 3 duplicates box 0 with the same score: the lower index wins.
        XCTAssertEqual(nms(boxes: boxes, scores: [0.9, 0.95, 0.5, 0.9], iouThreshold: 0.5), [1, 2])
        XCTAssertEqual(nms(boxes: boxes, scores: [0.9, 0.95, 0.5, 0.9], iouThreshold: 0.85), [1, 0, 2])
        XCTAssertEqual(batchedNMS(boxes: boxes, scores: [0.9, 0.95, 0.5, 0.9], classes: [0, 1, 0, 0],
                                  iouThreshold: 0.5), [1, 0, 2])
    }
}
