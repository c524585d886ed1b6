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

    /// The loader with `mixupProbability` 1 (and no other augmentation, so no box is cut away): each sample holds its
    /// image's two boxes and another image's two (one class per image); a second loader gives the same batch; probability 0 and the closing
    /// phase (`mosaicEnd`) give the batches of a loader without mixup.
    func testLoaderMixupsAreDeterministicAndEndWithTheClosingPhase() throws {
        let ds = try MosaicTests.partsDataset()
        var o = MosaicTests.loaderOptions
        o.augment = .none
        o.augment.mixupProbability = 1
        let loader = BatchLoader(dataset: ds, options: o)
        let b1 = try loader.makeBatch(epoch: 0, step: 0)
        let b2 = try BatchLoader(dataset: ds, options: o).makeBatch(epoch: 0, step: 0)
        XCTAssertEqual(b1.images, b2.images)
        XCTAssertEqual(b1.targets.map(\.boxes), b2.targets.map(\.boxes))
        let classes = b1.targets.map { Set($0.classes).count }
        XCTAssertGreaterThan(classes.max() ?? 0, 1, "no sample holds two images' objects: \(classes)")
        XCTAssertEqual(b1.targets.map(\.boxes.count), [4, 4, 4, 4])
        o.augment.mixupProbability = 0
        let plain = try BatchLoader(dataset: ds, options: o).makeBatch(epoch: 0, step: 0)
        XCTAssertEqual(plain.targets.map { Set($0.classes).count }.max(), 1)
        XCTAssertNotEqual(plain.images, b1.images)
        loader.mosaicEnd = 1
        XCTAssertEqual(try loader.makeBatch(epoch: 0, step: 0).images, b1.images, "before the end: mixups")
        let closing = try loader.makeBatch(epoch: 1, step: 0)
        let plainLater = try BatchLoader(dataset: ds, options: o).makeBatch(epoch: 1, step: 0)
        XCTAssertEqual(closing.images, plainLater.images)
        XCTAssertEqual(closing.targets.map(\.boxes), plainLater.targets.map(\.boxes))
    }
}
