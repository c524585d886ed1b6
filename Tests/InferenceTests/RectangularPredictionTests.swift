import Boxes
import Datasets
import DetectorModel
import DetectorTestSupport
import Imaging
import NeuralNet
import XCTest
@testable import Inference

/// Prediction on rectangular inputs (`DetectorConfig.rectangular`): the batch's shape, and detections at a known
/// place of the input mapped back to the original image.
final class RectangularPredictionTests: XCTestCase {
    private func config() -> DetectorConfig {
        var c = DetectorFixtures.tinyConfig()
        c.rectangular = true
        return c
    }

    func testInputBatchTakesTheImagesRectangle() {
        let wide = Image(width: 128, height: 64, fill: (200, 10, 10)), narrow = Image(width: 100, height: 40)
        let (one, t1) = Predictor.inputBatch([wide], inputSize: 64, rectangular: true)
        XCTAssertEqual(one.shape, [1, 3, 32, 64])
        XCTAssertEqual(t1[0].scaleX, 0.5)
        let (two, t2) = Predictor.inputBatch([wide, narrow], inputSize: 64, rectangular: true)
        XCTAssertEqual(two.shape, [2, 3, 32, 64])   // 40 · 0.64 = 25.6 → 26 → 32
        XCTAssertEqual(t2[1].contentHeight, 26)
        let (mixed, _) = Predictor.inputBatch([wide, Image(width: 64, height: 128)], inputSize: 64, rectangular: true)
        XCTAssertEqual(mixed.shape, [2, 3, 64, 64])   // landscape and portrait together: the square
        let (square, _) = Predictor.inputBatch([wide], inputSize: 64)
        XCTAssertEqual(square.shape, [1, 3, 64, 64])
        // The same content, padded less: the rectangle is the square's top rows.
        XCTAssertEqual(Array(one.data[0..<(32 * 64)]), Array(square.data[0..<(32 * 64)]))
    }

    /// A dense anchor and a set box at cell (y 2, x 6) of the 4×8 stride-8 grid of a 128×64 image's 64×32 input come
    /// back at twice their input coordinates.
    func testDetectionsMapBackToTheOriginalImage() throws {
        let c = config()
        let d = try Detector(config: c, seed: 2)
        let image = Image(width: 128, height: 64, fill: (90, 90, 90))
        let (tensor, transforms) = Predictor.inputBatch([image], inputSize: 64, rectangular: true)
        _ = d.forward(tensor)
        let a = c.anchorsPerLocation, anchors = 4 * 8 * a
        let index = (2 * 8 + 6) * a + 1   // the 16-px anchor of cell (2, 6)
        var logits = Tensor(shape: [1, anchors, 2], data: [Float](repeating: -10, count: anchors * 2))
        logits.data[index * 2 + 1] = 10
        let out = DetectorOutput(denseLogits: logits, denseDeltas: Tensor(shape: [1, anchors, 4]),
                                 setBoxes: [52 / 64, 20 / 64, 16 / 64, 16 / 64], setLogits: Tensor(shape: [1, 3], data: [-10, 10, -10]),
                                 selected: [[index]], hypotheses: 1)
        var post = PostProcessor()
        post.scoreThreshold = 0.5
        let dense = post.denseDetections(out, image: 0, decoder: d.decoder, transform: transforms[0])
        let set = post.setDetections(out, image: 0, transform: transforms[0])
        let want = Box(x1: 88, y1: 24, x2: 120, y2: 56)   // input (44, 12, 60, 28) · 2
        for found in [dense, set] {
            XCTAssertEqual(found.count, 1)
            XCTAssertEqual(found.first?.classIndex, 1)
            let b = try XCTUnwrap(found.first?.box)
            for (x, y) in zip([b.x1, b.y1, b.x2, b.y2], [want.x1, want.y1, want.x2, want.y2]) { XCTAssertEqual(x, y, accuracy: 1e-4) }
        }
        // The whole predictor: rectangular forward passes, every box inside the original image.
        let predictor = Predictor(detector: d)
        let p = predictor.predict([(id: 1, image: image), (id: 2, image: Image(width: 60, height: 120))])
        XCTAssertEqual(p.map(\.imageID), [1, 2])
        XCTAssertEqual([d.inputHeight, d.inputWidth], [64, 64])
        for (pred, (w, h)) in zip(p, [(128.0, 64.0), (60.0, 120.0)]) {
            for det in pred.set + pred.dense { XCTAssertTrue(det.box.x2 <= w && det.box.y2 <= h && det.box.x1 >= 0 && det.box.y1 >= 0) }
        }
        let alone = predictor.predict([(id: 3, image: Image(width: 60, height: 120))])
        XCTAssertEqual(alone.count, 1)
        XCTAssertEqual([d.inputHeight, d.inputWidth], [64, 32])
    }
}
