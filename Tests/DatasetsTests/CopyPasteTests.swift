import Boxes
@testable import Datasets
import Foundation
import Imaging
import Seeding
import TestSupport
import XCTest

/// `Augmenter.copyPaste` (Ghiasi et al.'s copy-paste, with boxes for masks) and the loader's use of it: the pasted
/// rectangles carry the second sample's pixels and boxes, a paste that would hide too much of a box is refused, and
/// the loader's copy-pastes are a function of the seed, absent at probability 0 and in the closing phase.
final class CopyPasteTests: XCTestCase {
    /// A 64 × 48 sample of one colour with `boxes` of class `classIndex`.
    private func sample(_ fill: (UInt8, UInt8, UInt8), boxes: [Box], classIndex: Int) -> PreparedSample {
        let identity = InputTransform(originalWidth: 64, originalHeight: 48, scaleX: 1, scaleY: 1, inputSize: 64,
                                      contentWidth: 64, contentHeight: 48, inputWidth: 64, inputHeight: 48)
        return PreparedSample(image: Image(width: 64, height: 48, fill: fill),
                              annotations: boxes.map { Annotation(box: $0, classIndex: classIndex) },
                              transform: identity)
    }

    func testObjectsArePastedWithTheirPixelsUnlessTheyHideABox() {
        let kept = Box(x1: 10, y1: 10, x2: 30, y2: 30)
        let a = sample((200, 0, 0), boxes: [kept], classIndex: 0)
        let free = Box(x1: 40.5, y1: 4, x2: 50.2, y2: 14)          // on no box: pasted as x 40..<51
        let hiding = Box(x1: 12, y1: 12, x2: 28, y2: 20)           // 128 of the kept box's 400 px²: 32 % > 30 %
        let grazing = Box(x1: 26, y1: 26, x2: 40, y2: 40)          // 16 px² of it: pasted
        var region = Annotation(box: Box(x1: 0, y1: 0, x2: 64, y2: 48), classIndex: 1)
        region.isPartialRegion = true
        var b = sample((0, 0, 250), boxes: [free, hiding, grazing], classIndex: 1)
        b.annotations.append(region)
        var rng = SplitMix64(seed: 1)
        let out = Augmenter.copyPaste(b, onto: a, share: 1, rng: &rng)
        XCTAssertEqual(out.annotations.map(\.box), [kept, free, grazing])
        XCTAssertEqual(out.annotations.map(\.classIndex), [0, 1, 1])
        XCTAssertEqual(out.transform, a.transform)
        let pasted = [Box(x1: 40, y1: 4, x2: 51, y2: 14), grazing]
        for y in 0..<48 {
            for x in 0..<64 {
                let start = (y * 64 + x) * 3
                let (px, py) = (Double(x), Double(y))
                let isBlue = pasted.contains { px >= $0.x1 && px < $0.x2 && py >= $0.y1 && py < $0.y2 }
                let want: [UInt8] = isBlue ? [0, 0, 250] : [200, 0, 0]
                XCTAssertEqual(Array(out.image.pixels[start..<start + 3]), want, "pixel (\(x), \(y))")
            }
        }
        // Share 0 offers nothing: the first sample as it is.
        let none = Augmenter.copyPaste(b, onto: a, share: 0, rng: &rng)
        XCTAssertEqual(none.image, a.image)
        XCTAssertEqual(none.annotations, a.annotations)
    }

    /// Covered areas add up: two pastes each hiding 20 % of a box are not both taken.
    func testCoverAddsUpOverPastes() {
        let kept = Box(x1: 0, y1: 0, x2: 20, y2: 20)
        let a = sample((200, 0, 0), boxes: [kept], classIndex: 0)
        let first = Box(x1: 16, y1: 0, x2: 30, y2: 20), second = Box(x1: 16, y1: 20, x2: 30, y2: 40)
        let third = Box(x1: 0, y1: 16, x2: 16, y2: 30)             // another 64 px² of the kept box
        let b = sample((0, 0, 250), boxes: [first, second, third], classIndex: 1)
        var rng = SplitMix64(seed: 2)
        let out = Augmenter.copyPaste(b, onto: a, share: 1, rng: &rng)
        // `first` covers 80 px² (20 %), `second` none of it; `third` would add 64 px² (16 %): 36 % > 30 %.
        XCTAssertEqual(out.annotations.map(\.box), [kept, first, second])
    }

    /// At the default share about half the objects are offered, as a function of the seed.
    func testDefaultShareOffersAboutHalf() {
        let a = sample((200, 0, 0), boxes: [], classIndex: 0)
        var boxes: [Box] = []
        for i in 0..<8 {
            for j in 0..<6 {
                let (x, y) = (Double(8 * i), Double(8 * j))
                boxes.append(Box(x1: x, y1: y, x2: x + 6, y2: y + 6))
            }
        }
        let b = sample((0, 0, 250), boxes: boxes, classIndex: 1)
        var r1 = SplitMix64(seed: 3), r2 = SplitMix64(seed: 3)
        let out = Augmenter.copyPaste(b, onto: a, rng: &r1)
        XCTAssertEqual(out.annotations, Augmenter.copyPaste(b, onto: a, rng: &r2).annotations)
        XCTAssertTrue((14...34).contains(out.annotations.count), "\(out.annotations.count) of 48 pasted")
    }

    /// A configuration that pastes combines images, so that the closing phase ends it as it ends mosaics and mixups.
    func testCopyPasteCountsAsCombiningImages() {
        var config = AugmentConfig()
        XCTAssertFalse(config.combinesImages)
        config.copyPasteProbability = 0.3
        XCTAssertTrue(config.combinesImages)
        config = AugmentConfig()
        config.mosaicProbability = 0.5
        XCTAssertTrue(config.combinesImages)
        config = AugmentConfig()
        config.mixupProbability = 0.1
        XCTAssertTrue(config.combinesImages)
    }

    /// The loader with `copyPasteProbability` 1: batches are a function of the seed, some sample holds objects of
    /// two images, and probability 0 and the closing phase give the batches of a loader without copy-paste.
    func testLoaderCopyPastesAreDeterministicAndEndWithTheClosingPhase() throws {
        _ = try MosaicTests.assertLoaderCombinesImages(\.copyPasteProbability)
    }
}
