import Boxes
import Datasets
import DetectorModel
import DetectorTestSupport
@testable import Training
import Foundation
import XCTest

/// The input size fitted to the small boxes of a training set (`InputFitting`), and the `default` preset taking it.
final class InputFittingTests: XCTestCase {
    /// Images of `width × height` holding one square box of each side in `sides` (image pixels), and one crowd region.
    private func dataset(width: Int, height: Int, sides: [Double]) -> DetectionDataset {
        var images: [ImageRecord] = []
        for (i, side) in sides.enumerated() {
            images.append(ImageRecord(id: i + 1, file: URL(fileURLWithPath: "/x/\(i).png"), fileName: "\(i).png",
                                      width: width, height: height,
                                      annotations: [Annotation(box: Box(x1: 1, y1: 1, x2: 1 + side, y2: 1 + side), classIndex: 0)]))
        }
        images[0].annotations.append(Annotation(box: Box(x1: 0, y1: 0, x2: 2, y2: 2), classIndex: 0, isCrowd: true))
        return DetectionDataset(root: URL(fileURLWithPath: "/x"), source: URL(fileURLWithPath: "/x/a.json"),
                                images: images, categories: [Category(id: 1, name: "head")])
    }

    func testTheSmallTenthDecidesWithinTheRange() throws {
        // 20 boxes of 10…200 px in 400×250 images: the 10th percentile is the third smallest, 30 px, 0.075 of the
        // longer side; 12 px of it needs 160 — the lower bound 320.
        let sides = (1...20).map { 10.0 * Double($0) }
        XCTAssertEqual(InputFitting.inputSize(for: dataset(width: 400, height: 250, sides: sides)), 320)
        // Boxes of 6…120 px in 1000×600: the 10th percentile 18 px = 0.018 → 12 / 0.018 = 667 → the upper bound 640.
        XCTAssertEqual(InputFitting.inputSize(for: dataset(width: 1000, height: 600, sides: sides.map { $0 * 0.6 })), 640)
        // 9 px at the 10th percentile of 384-px images: 12 / (9 / 384) = 512, a multiple of 32.
        let heads = [8.0, 8.5, 9] + [Double](repeating: 20, count: 17)
        XCTAssertEqual(InputFitting.inputSize(for: dataset(width: 384, height: 256, sides: heads)), 512)
        // Between the bounds it rounds up to the next multiple of 32: 12 / (10 / 384) = 460.8 → 480.
        XCTAssertEqual(InputFitting.inputSize(for: dataset(width: 384, height: 256, sides: [9.5, 9.8, 10] + [Double](repeating: 20, count: 17))), 480)
        var empty = dataset(width: 384, height: 256, sides: [10])
        empty.images[0].annotations = []
        XCTAssertNil(InputFitting.inputSize(for: empty))
    }

    /// `default` on data of one's own takes the fitted side and rectangles, and fits its anchors at that side; a given
    /// `--input-size` keeps its size and the rectangles, a given `--no-rect` the fitted size and squares; another
    /// preset keeps its own.
    func testDefaultPresetFitsItsInputUnlessGiven() throws {
        var own = TrainOptions()
        own.data = DetectorFixtures.sample.appendingPathComponent("train.json")
        let trainer = try Trainer(options: own)
        let train = try trainer.loadData().train
        let fitted = try XCTUnwrap(InputFitting.inputSize(for: train))
        let d = try trainer.makeConfiguration(classes: DetectorFixtures.sampleClassNames, train: train).model
        XCTAssertEqual(d.name, "default")
        XCTAssertEqual(d.inputSize, fitted)
        XCTAssertTrue(d.rectangular)
        XCTAssertEqual(d.anchorSizes, AnchorFitting.sizes(for: train, inputSize: fitted, count: 3))

        var sized = own
        sized.model.set(.inputSize, \.inputSize, 352)
        let s = try Trainer(options: sized).makeConfiguration(classes: DetectorFixtures.sampleClassNames, train: train).model
        XCTAssertEqual(s.inputSize, 352)
        XCTAssertTrue(s.rectangular)
        XCTAssertEqual(s.anchorSizes, AnchorFitting.sizes(for: train, inputSize: 352, count: 3))
        var square = own
        square.model.set(.rectangular, \.rectangular, false)
        let q = try Trainer(options: square).makeConfiguration(classes: DetectorFixtures.sampleClassNames, train: train).model
        XCTAssertEqual(q.inputSize, fitted)
        XCTAssertFalse(q.rectangular)
        var reference = own
        reference.preset = .reference
        let r = try Trainer(options: reference).makeConfiguration(classes: DetectorFixtures.sampleClassNames, train: train).model
        XCTAssertEqual(r.inputSize, 320)
        XCTAssertFalse(r.rectangular)
    }
}
