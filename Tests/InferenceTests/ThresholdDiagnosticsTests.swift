import Boxes
import Datasets
import Foundation
@testable import Inference
import XCTest

/// Confusion matrix and the precision / recall / F1 curve on hand-counted cases.
final class ThresholdDiagnosticsTests: XCTestCase {
    /// Two classes; image 1 holds a cat (class 0) and a dog (class 1) and an ignored cat; image 2 one dog.
    func dataset() -> DetectionDataset {
        let root = URL(fileURLWithPath: "/nonexistent")
        func box(_ x: Double) -> Box { Box(x1: x, y1: 0, x2: x + 10, y2: 10) }
        let one = ImageRecord(id: 1, file: root, fileName: "1.jpg", width: 100, height: 20, annotations: [
            Annotation(box: box(0), classIndex: 0), Annotation(box: box(20), classIndex: 1),
            Annotation(box: box(60), classIndex: 0, ignore: true),
        ])
        let two = ImageRecord(id: 2, file: root, fileName: "2.jpg", width: 100, height: 20,
                              annotations: [Annotation(box: box(0), classIndex: 1)])
        return DetectionDataset(root: root, source: root, images: [one, two],
                                categories: [Category(id: 1, name: "cat"), Category(id: 2, name: "dog")])
    }

    func testCountsByHand() {
        func det(_ x: Double, _ score: Double, _ c: Int) -> DetectedObject {
            DetectedObject(box: Box(x1: x, y1: 0, x2: x + 10, y2: 10), score: score, classIndex: c)
        }
        let predictions = [
            // cat found (0.9), dog called a cat (0.8), ignored cat hit (0.7, counts neither way), a stray dog (0.2)
            ImagePrediction(imageID: 1, set: [det(0, 0.9, 0), det(20, 0.8, 0), det(60, 0.7, 0), det(40, 0.2, 1)], dense: []),
            // the dog found at 0.6, and a duplicate of it at 0.5
            ImagePrediction(imageID: 2, set: [det(0, 0.6, 1), det(1, 0.5, 1)], dense: []),
        ]
        let d = ThresholdDiagnostics(predictions: predictions, head: \.set, dataset: dataset(), confusionThreshold: 0.3)
        // Rows predicted (cat, dog, background), columns true (cat, dog, background). At ≥ 0.3: cat→cat, dog
        // predicted cat, image 2's dog→dog, its duplicate → (dog, background); the stray dog is below 0.3.
        XCTAssertEqual(d.confusion, [[1, 1, 0], [0, 1, 1], [0, 0, 0]])
        // Class-aware: TP 0.9, FP 0.8, (0.7 ignored), TP 0.6, FP 0.5, FP 0.2; 3 objects.
        func at(_ t: Double) -> (Double, Double) {
            let i = d.thresholds.firstIndex { abs($0 - t) < 1e-9 }!
            return (d.precision[i], d.recall[i])
        }
        XCTAssertEqual(at(0.85).0, 1); XCTAssertEqual(at(0.85).1, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(at(0.55).0, 2.0 / 3, accuracy: 1e-12); XCTAssertEqual(at(0.55).1, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(at(0.1).0, 2.0 / 5, accuracy: 1e-12); XCTAssertEqual(at(0.1).1, 2.0 / 3, accuracy: 1e-12)
        let best = d.bestF1
        XCTAssertEqual(best.f1, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(best.threshold, 0.51, accuracy: 1e-12, "F1 is highest from 0.51 to 0.60; the lowest threshold wins")
        XCTAssertTrue(d.confusionCSV.hasPrefix("predicted\\true,cat,dog,background\ncat,1,1,0\n"), d.confusionCSV)
        XCTAssertTrue(d.chart.svg.contains("F1"))
    }

    func testNoDetectionsGiveZeroRecallAndFullMisses() {
        let d = ThresholdDiagnostics(predictions: [ImagePrediction(imageID: 1, set: [], dense: []),
                                                   ImagePrediction(imageID: 2, set: [], dense: [])],
                                     head: \.set, dataset: dataset())
        XCTAssertEqual(d.confusion[2], [1, 2, 0])
        XCTAssertEqual(Set(d.recall), [0])
        XCTAssertEqual(d.bestF1.f1, 0)
    }

    /// Evaluation gives each head's best-F1 threshold (what training stores in checkpoints for `detect`).
    func testEvaluationCarriesEachHeadsBestThreshold() throws {
        func det(_ x: Double, _ score: Double, _ c: Int) -> DetectedObject {
            DetectedObject(box: Box(x1: x, y1: 0, x2: x + 10, y2: 10), score: score, classIndex: c)
        }
        let predictions = [
            ImagePrediction(imageID: 1, set: [det(0, 0.9, 0), det(20, 0.8, 0), det(60, 0.7, 0), det(40, 0.2, 1)],
                            dense: [det(0, 0.9, 0)]),
            ImagePrediction(imageID: 2, set: [det(0, 0.6, 1), det(1, 0.5, 1)],
                            dense: [det(0, 0.4, 1), det(50, 0.45, 1), det(70, 0.3, 1)]),
        ]
        // Dense: TP 0.9, FP 0.45, TP 0.4, FP 0.3 of 3 objects: F1 0.5 above 0.45, 0.4 at 0.41–0.45, 2/3 at 0.31–0.40,
        // 4/7 from 0.30 down.
        let m = try dataset().evaluate(predictions, hasSetHead: true)
        XCTAssertEqual(try XCTUnwrap(m.scoreThresholds.set), 0.51, accuracy: 1e-12)
        XCTAssertEqual(m.scoreThresholds.dense, 0.31, accuracy: 1e-12)
        XCTAssertEqual(m.scoreThresholds.dense,
                       ThresholdDiagnostics(predictions: predictions, head: \.dense, dataset: dataset()).bestF1.threshold)
        let denseOnly = try dataset().evaluate(predictions, hasSetHead: false)
        XCTAssertNil(denseOnly.scoreThresholds.set)
        XCTAssertEqual(denseOnly.scoreThresholds.dense, 0.31, accuracy: 1e-12)
    }

    /// Stored thresholds round-trip through checkpoint metadata; a bad entry is refused with its source named.
    func testStoredThresholdsRoundTripAndBadOnesAreNamed() throws {
        let t = ScoreThresholds(set: 0.23, dense: 0.41)
        XCTAssertEqual(try ScoreThresholds.stored(in: t.metadata, source: "m.safetensors"), t)
        XCTAssertNil(try ScoreThresholds.stored(in: [:], source: "m.safetensors"))
        XCTAssertEqual(t.threshold(of: .set), 0.23)
        XCTAssertEqual(t.threshold(of: .dense), 0.41)
        for bad in ["{\"dense\": 1.5}", "not json", "{\"set\": 0.2}"] {
            XCTAssertThrowsError(try ScoreThresholds.stored(in: [ScoreThresholds.metadataKey: bad], source: "m.safetensors")) { e in
                XCTAssertTrue("\(e)".contains("m.safetensors") && "\(e)".contains("scoreThresholds"), "\(e)")
            }
        }
    }
}
