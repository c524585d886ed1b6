import Boxes
@testable import Datasets
import Foundation
import Imaging
import Inference
import XCTest
@testable import Training

/// `train_batch.png`: the batch's pixels with the normalisation undone, in a grid, boxes in class colours and
/// ignored ones in white.
final class TrainingBatchPictureTests: XCTestCase {
    /// A batch of `n` images of `w × h`, image k filled with grey level (20 k + 10) mod 256, one box of class k % 3 each and,
    /// in image 0, an ignored box.
    private func batch(_ n: Int, w: Int = 40, h: Int = 30) -> Batch {
        var images: [Float] = []
        for k in 0..<n {
            var floats = [Float](repeating: 0, count: 3 * w * h)
            let grey = UInt8((20 * k + 10) % 256)
            Image(width: w, height: h, fill: (grey, grey, grey))
                .writeCHWFloat(into: &floats, mean: BatchLoader.mean, std: BatchLoader.std)
            images += floats
        }
        var targets = (0..<n).map { k in ImageTargets(boxes: [Box(x1: 5, y1: 5, x2: 25, y2: 20)], classes: [k % 3]) }
        targets[0] = ImageTargets(boxes: [Box(x1: 5, y1: 5, x2: 25, y2: 20), Box(x1: 28, y1: 2, x2: 38, y2: 28)],
                                  classes: [0, 0], ignore: [false, true])
        let identity = InputTransform(originalWidth: w, originalHeight: h, scaleX: 1, scaleY: 1, inputSize: w,
                                      contentWidth: w, contentHeight: h, inputWidth: w, inputHeight: h)
        return Batch(images: images, count: n, inputSize: w, inputHeight: h, inputWidth: w, targets: targets,
                     imageIDs: Array(0..<n), transforms: Array(repeating: identity, count: n), epoch: 0, step: 0)
    }

    func testPixelsBoxesAndGrid() {
        let picture = TrainingBatchPictureHook.picture(batch(5))
        // 5 images: 3 columns, 2 rows, 4 pixels apart.
        XCTAssertEqual([picture.width, picture.height], [3 * 40 + 2 * 4, 2 * 30 + 4])
        for k in 0..<5 {
            let (x0, y0) = ((k % 3) * 44, (k / 3) * 34)
            let grey = UInt8(20 * k + 10)
            XCTAssertTrue(picture.pixel(x: x0 + 1, y: y0 + 1) == (grey, grey, grey), "image \(k): \(picture.pixel(x: x0 + 1, y: y0 + 1))")
            XCTAssertTrue(picture.pixel(x: x0 + 15, y: y0 + 5) == Image.classColor(k % 3), "image \(k)'s box edge")
        }
        XCTAssertTrue(picture.pixel(x: 33, y: 2) == Overlay.groundTruthColor, "the ignored box in white")
        XCTAssertTrue(picture.pixel(x: 41, y: 1) == (40, 40, 40), "the gap between tiles")
        XCTAssertEqual(TrainingBatchPictureHook.picture(batch(20)).width, 4 * 40 + 3 * 4, "at most 16 images, 4 columns")
    }
}
