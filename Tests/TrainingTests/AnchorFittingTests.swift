import Boxes
import Datasets
import DetectorModel
import DetectorTestSupport
import Inference
@testable import Training
import Foundation
import XCTest

/// Anchor sides fitted by one-dimensional k-means in log space.
final class AnchorFittingTests: XCTestCase {
    /// Images of 640×480 (letterbox scale 0.5 at input 320) with boxes of three sizes in unequal numbers.
    private func dataset() -> DetectionDataset {
        var images: [ImageRecord] = []
        let sides: [(Double, Int)] = [(40, 30), (100, 300), (200, 25)]  // (side in image pixels, count)
        var id = 1
        for (side, count) in sides {
            for k in 0..<count {
                let jitter = 1 + 0.05 * Double(k % 5 - 2)
                let w = side * jitter
                let box = Box(x1: 10, y1: 10, x2: 10 + w, y2: 10 + w)
                images.append(ImageRecord(id: id, file: URL(fileURLWithPath: "/x/\(id).png"), fileName: "\(id).png",
                                          width: 640, height: 480, annotations: [Annotation(box: box, classIndex: 0)]))
                id += 1
            }
        }
        let crowd = Annotation(box: Box(x1: 0, y1: 0, x2: 600, y2: 400), classIndex: 0, isCrowd: true)
        images[0].annotations.append(crowd)
        return DetectionDataset(root: URL(fileURLWithPath: "/x"), source: URL(fileURLWithPath: "/x/a.json"),
                                images: images, categories: [Category(id: 1, name: "cell")])
    }

    func testThreeClustersAreFoundAtTheNetworkScaleWhateverTheirCounts() throws {
        let sizes = try XCTUnwrap(AnchorFitting.sizes(for: dataset(), inputSize: 320, count: 3))
        XCTAssertEqual(sizes.count, 3)
        for (got, want) in zip(sizes, [20.0, 50.0, 100.0]) {
            XCTAssertEqual(got, want, accuracy: want * 0.03, "\(sizes)")
        }
        // One anchor: the mean log side, pulled to the dominant 50 px cluster.
        let one = try XCTUnwrap(AnchorFitting.sizes(for: dataset(), inputSize: 320, count: 1))
        XCTAssertEqual(one.count, 1)
        XCTAssertGreaterThan(one[0], 40)
        XCTAssertLessThan(one[0], 60)
    }

    func testNoBoxesGiveNil() {
        let empty = DetectionDataset(root: URL(fileURLWithPath: "/x"), source: URL(fileURLWithPath: "/x/a.json"),
                                     images: [], categories: [Category(id: 1, name: "cell")])
        XCTAssertNil(AnchorFitting.sizes(for: empty, inputSize: 320, count: 3))
    }
}
