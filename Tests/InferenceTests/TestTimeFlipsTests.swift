import Boxes
import DetectorModel
import DetectorTestSupport
import Imaging
import TestSupport
import XCTest
@testable import Inference

/// Test-time flips (`TestTimeFlips`): the passes' mirrors, the merge, and the predictor's flipped passes.
final class TestTimeFlipsTests: XCTestCase {
    func testPassesMirrorPicturesAndMapBoxesBack() {
        let passes = TestTimeFlips.all.passes
        XCTAssertEqual(TestTimeFlips.horizontal.passes, Array(passes.prefix(2)))
        XCTAssertEqual(passes.map { [$0.horizontal, $0.vertical] },
                       [[false, false], [true, false], [false, true], [true, true]])
        var image = Image(width: 5, height: 3)
        image.pixels[(0 * 5 + 1) * 3] = 200   // red at (x 1, y 0)
        let want = [(1, 0), (3, 0), (1, 2), (3, 2)]
        let box = Box(x1: 10, y1: 20, x2: 30, y2: 50)
        let mapped = [Box(x1: 10, y1: 20, x2: 30, y2: 50), Box(x1: 70, y1: 20, x2: 90, y2: 50),
                      Box(x1: 10, y1: 30, x2: 30, y2: 60), Box(x1: 70, y1: 30, x2: 90, y2: 60)]
        for (k, pass) in passes.enumerated() {
            let m = pass.apply(image)
            XCTAssertEqual(m.pixel(x: want[k].0, y: want[k].1).0, 200, "pass \(k)")
            XCTAssertEqual(m.pixels.filter { $0 != 0 }.count, 1)
            XCTAssertEqual(pass.mapBack(box, width: 100, height: 80), mapped[k], "pass \(k)")
            XCTAssertEqual(pass.mapBack(mapped[k], width: 100, height: 80), box, "a mirror is its own inverse")
        }
    }

    func testSuppressionKeepsTheBestOfOverlappingBoxesOfAClass() {
        let a = DetectedObject(box: Box(x1: 0, y1: 0, x2: 10, y2: 10), score: 0.6, classIndex: 0)
        let aBetter = DetectedObject(box: Box(x1: 1, y1: 0, x2: 11, y2: 10), score: 0.9, classIndex: 0)   // IoU 0.82
        let otherClass = DetectedObject(box: a.box, score: 0.7, classIndex: 1)
        // IoU 0.5 with aBetter: kept, since NMS drops only boxes above the threshold.
        let halfOver = DetectedObject(box: Box(x1: 1, y1: 0, x2: 11, y2: 5), score: 0.5, classIndex: 0)
        let apart = DetectedObject(box: Box(x1: 50, y1: 50, x2: 60, y2: 60), score: 0.8, classIndex: 0)
        let passes = [[a, otherClass], [aBetter, halfOver, apart]]
        XCTAssertEqual(TestTimeFlips.suppressed(passes, iou: 0.5, maxDetections: 100),
                       [aBetter, apart, otherClass, halfOver])
        XCTAssertEqual(TestTimeFlips.merge(passes, by: .nms, iou: 0.5, maxDetections: 2), [aBetter, apart])
        XCTAssertEqual(TestTimeFlips.suppressed([[a], [aBetter]], iou: 0.9, maxDetections: 100), [aBetter, a])
        XCTAssertEqual(TestTimeFlips.suppressed([[], []], iou: 0.5, maxDetections: 100), [])
    }

    /// Two neighbours overlapping each other (IoU 0.54) found by both passes stay two detections, each the
    /// score-weighted mean of its pair with the mean score; NMS keeps one of the four boxes.
    func testMatchingKeepsNeighboursApartAndAveragesEachPair() {
        func det(_ x1: Double, _ x2: Double, _ score: Double, _ c: Int = 0) -> DetectedObject {
            DetectedObject(box: Box(x1: x1, y1: 0, x2: x2, y2: 10), score: score, classIndex: c)
        }
        let first = [det(0, 10, 0.9), det(3, 13, 0.8)], second = [det(1, 11, 0.7), det(3, 13, 0.6)]
        let merged = TestTimeFlips.merge([first, second], by: .match, iou: 0.5, maxDetections: 100)
        XCTAssertEqual(merged.count, 2)
        XCTAssertEqual(merged[0].score, 0.8, accuracy: 1e-12)
        XCTAssertEqual(merged[0].box.x1, 0.7 / 1.6, accuracy: 1e-12)
        XCTAssertEqual(merged[0].box.x2, (9 + 7.7) / 1.6, accuracy: 1e-12)
        XCTAssertEqual(merged[1].score, 0.7, accuracy: 1e-12)
        XCTAssertEqual(merged[1].box.x1, 3, accuracy: 1e-12)
        XCTAssertEqual(merged[1].box.x2, 13, accuracy: 1e-12)
        XCTAssertEqual(TestTimeFlips.merge([first, second], by: .nms, iou: 0.5, maxDetections: 100), [first[0]])

        // Found by one pass of two: half its score. Another class at the same place, or a box of IoU below the
        // threshold, starts a group of its own.
        let lone = TestTimeFlips.matched([[det(0, 10, 0.9)], [det(0, 10, 0.4, 1), det(5, 15, 0.6)]], iou: 0.5,
                                         maxDetections: 100)
        XCTAssertEqual(lone.map(\.score), [0.45, 0.3, 0.2])
        XCTAssertEqual(lone.map(\.classIndex), [0, 0, 1])
        XCTAssertEqual(lone.map(\.box.x1), [0, 5, 0])
        XCTAssertEqual(TestTimeFlips.matched([[det(0, 10, 0.9)], [det(5, 15, 0.6)]], iou: 0.3, maxDetections: 100)
            .count, 1, "IoU 0.33 joins at a threshold of 0.3")
        XCTAssertEqual(TestTimeFlips.matched([first, second], iou: 0.5, maxDetections: 1).count, 1)
        XCTAssertEqual(TestTimeFlips.matched([[], []], iou: 0.5, maxDetections: 100), [])
    }

    /// A picture and its mirror have the same passes, so their flipped predictions are mirrors of each other; without
    /// the boxes mapped back (or with the wrong axis) they are not.
    func testFlippedPredictionsOfMirroredPicturesAreMirrored() throws {
        let dir = try Fixtures.temporaryDirectory()
        let loaded = try Checkpoint.load(try DetectorFixtures.tinyCheckpoint(in: dir))
        let image = try ImageFile.read(DetectorFixtures.sample.appendingPathComponent("val/images/000001.png"))
        let (w, h) = (Double(image.width), Double(image.height))
        // One image per forward pass, so that a picture runs the same computation in either prediction.
        let predictor = Predictor(detector: loaded.detector, batchSize: 1)
        let plain = predictor.predict([(id: 0, image: image)])[0]
        // With more than two passes the one-to-one merge depends on the order of the passes, so a mirrored picture's
        // four passes are merged by NMS here.
        let lr = TestTimeFlips.Pass(horizontal: true, vertical: false)
        let cases: [(TestTimeFlips, TestTimeFlips.Merge, TestTimeFlips.Pass)] = [
            (.horizontal, .match, lr), (.horizontal, .nms, lr),
            (.all, .nms, TestTimeFlips.Pass(horizontal: false, vertical: true)),
            (.all, .nms, TestTimeFlips.Pass(horizontal: true, vertical: true)),
        ]
        for (flips, merge, mirror) in cases {
            predictor.flips = flips
            predictor.passMerge = merge
            let p = predictor.predict([(id: 4, image: image), (id: 9, image: mirror.apply(image))])
            XCTAssertEqual(p.map(\.imageID), [4, 9])
            for head in [\ImagePrediction.set, \ImagePrediction.dense] {
                let (a, b) = (p[0][keyPath: head], p[1][keyPath: head])
                XCTAssertGreaterThan(a.count, 0)
                XCTAssertEqual(a.count, b.count)
                XCTAssertNotEqual(a, plain[keyPath: head], "the passes change the detections")
                for (x, y) in zip(a, b) {
                    XCTAssertEqual(x.score, y.score)
                    XCTAssertEqual(x.classIndex, y.classIndex)
                    let m = mirror.mapBack(y.box, width: w, height: h)
                    for (u, v) in zip([x.box.x1, x.box.y1, x.box.x2, x.box.y2], [m.x1, m.y1, m.x2, m.y2]) {
                        XCTAssertEqual(u, v, accuracy: 1e-9)
                    }
                }
            }
        }
    }
}
