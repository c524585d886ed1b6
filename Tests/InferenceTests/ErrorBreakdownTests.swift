import Boxes
import Datasets
import Foundation
import Inference
import XCTest

/// `ErrorBreakdown` on a hand-built scene with one detection of every kind, in pycocotools' greedy order.
final class ErrorBreakdownTests: XCTestCase {
    private func box(_ x: Double, _ y: Double = 0) -> Box { Box(x1: x, y1: y, x2: x + 10, y2: y + 10) }

    /// Image 1: cats at 0 and 30, an ignored cat at 60, a crowd of cats at 90, a dog at 120 and a partial region;
    /// image 2: a cat that no prediction covers (its image has no prediction at all).
    private func dataset() -> DetectionDataset {
        let root = URL(fileURLWithPath: "/nonexistent")
        let one = ImageRecord(id: 1, file: root, fileName: "1.png", width: 200, height: 40, annotations: [
            Annotation(box: box(0), classIndex: 0), Annotation(box: box(30), classIndex: 0),
            Annotation(box: box(60), classIndex: 0, ignore: true),
            Annotation(box: box(90), classIndex: 0, isCrowd: true),
            Annotation(box: box(120), classIndex: 1),
            Annotation(box: Box(x1: 150, y1: 0, x2: 200, y2: 40), classIndex: 0, isPartialRegion: true),
        ])
        let two = ImageRecord(id: 2, file: root, fileName: "2.png", width: 200, height: 40,
                              annotations: [Annotation(box: box(0), classIndex: 0)])
        return DetectionDataset(root: root, source: root, images: [one, two],
                                categories: [Category(id: 1, name: "cat"), Category(id: 2, name: "dog")])
    }

    func testEveryDetectionFindsItsKind() {
        func det(_ b: Box, _ score: Double, _ c: Int = 0) -> DetectedObject {
            DetectedObject(box: b, score: score, classIndex: c)
        }
        let detections = [
            det(box(1), 0.6),          // the cat at 0, IoU 0.82, but a better detection takes it first: duplicate
            det(box(0), 0.9),          // the cat at 0, IoU 1: true positive
            det(box(60), 0.8),         // the ignored cat: ignored
            det(box(91), 0.85),        // the crowd: ignored
            det(box(120), 0.7),        // a cat on the dog: wrong class
            det(box(60), 0.55, 1),     // a dog on the ignored cat: not ignored (another class), so wrong class
            det(box(36), 0.75),        // 6 px off the cat at 30, IoU 0.25: poorly placed
            det(box(170, 20), 0.65),   // inside the partial region, on no box: background
            det(box(30), 0.2),         // the cat at 30, below the threshold: not counted, so that cat is missed
        ]
        let predictions = [ImagePrediction(imageID: 1, set: detections, dense: [])]
        let e = ErrorBreakdown(predictions: predictions, head: \.set, dataset: dataset(), threshold: 0.5)
        XCTAssertEqual([e.truePositives, e.duplicates, e.ignored, e.wrongClass, e.poorlyPlaced, e.background],
                       [1, 1, 2, 2, 1, 1])
        XCTAssertEqual(e.missed, 3, "the cat at 30, the dog and image 2's cat")
        XCTAssertTrue(e.summary.contains("1 duplicate(s)"), e.summary)
        XCTAssertTrue(e.summary.contains("3 box(es) missed"), e.summary)
        // Lower, the cat at 30 is found and nothing else changes.
        let low = ErrorBreakdown(predictions: predictions, head: \.set, dataset: dataset(), threshold: 0.1)
        XCTAssertEqual([low.truePositives, low.duplicates, low.wrongClass, low.poorlyPlaced, low.missed],
                       [2, 1, 2, 1, 2])
        // The other head predicted nothing: every counted box is missed.
        let dense = ErrorBreakdown(predictions: predictions, head: \.dense, dataset: dataset(), threshold: 0.5)
        XCTAssertEqual([dense.truePositives, dense.duplicates, dense.background, dense.missed], [0, 0, 0, 4])
    }
}
