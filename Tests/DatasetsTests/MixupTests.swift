import Boxes
@testable import Datasets
import Foundation
import Imaging
import Seeding
import TestSupport
import XCTest

/// `Augmenter.mixup` and the loader's use of it: pixels are blended by the ratio, the boxes of both samples are
/// kept, and the loader's mixups are a function of the seed, absent at probability 0 and in the closing phase.
final class MixupTests: XCTestCase {
    /// A prepared sample of one colour with one box.
    private func sample(_ fill: (UInt8, UInt8, UInt8), box: Box, classIndex: Int) -> PreparedSample {
        let image = Image(width: 32, height: 24, fill: fill)
        let identity = InputTransform(originalWidth: 32, originalHeight: 24, scaleX: 1, scaleY: 1, inputSize: 32,
                                      contentWidth: 32, contentHeight: 24, inputWidth: 32, inputHeight: 24)
        return PreparedSample(image: image, annotations: [Annotation(box: box, classIndex: classIndex)],
                              transform: identity)
    }

    func testPixelsAreBlendedAndBothSamplesBoxesKept() {
        let a = sample((200, 100, 0), box: Box(x1: 1, y1: 2, x2: 10, y2: 12), classIndex: 0)
        let b = sample((0, 50, 100), box: Box(x1: 15, y1: 5, x2: 30, y2: 20), classIndex: 1)
        let m = Augmenter.mixup(a, b, ratio: 0.75)
        // 0.75 a + 0.25 b, rounded, at every pixel.
        XCTAssertEqual(m.image, Image(width: 32, height: 24, fill: (150, 88, 25)))
        XCTAssertEqual(m.annotations, a.annotations + b.annotations)
        XCTAssertEqual(m.transform, a.transform)
        XCTAssertEqual(Augmenter.mixup(a, b, ratio: 1).image, a.image)
        XCTAssertEqual(Augmenter.mixup(a, b, ratio: 0).image, b.image)
    }

    /// The loader with `mixupProbability` 1 (and no other augmentation, so no box is cut away): batches are a function
    /// of the seed, some sample holds two images' objects, every sample holds its image's two boxes and another
    /// image's two, and probability 0 and the closing phase (`mosaicEnd`) give the batches of a loader without mixup.
    func testLoaderMixupsAreDeterministicAndEndWithTheClosingPhase() throws {
        let batch = try MosaicTests.assertLoaderCombinesImages(\.mixupProbability, augment: .none)
        XCTAssertEqual(batch.targets.map(\.boxes.count), [4, 4, 4, 4])
    }
}
