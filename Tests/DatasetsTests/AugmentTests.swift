import Boxes
@testable import Datasets
import Foundation
import Imaging
import TestSupport
import XCTest

final class AugmentTests: XCTestCase {
    /// A black image with white filled rectangles at the given boxes.
    private func picture(_ w: Int, _ h: Int, boxes: [Box]) -> Image {
        var img = Image(width: w, height: h)
        for b in boxes {
            for y in Int(b.y1)..<Int(b.y2) {
                for x in Int(b.x1)..<Int(b.x2) {
                    let o = (y * w + x) * 3
                    img.pixels[o] = 255; img.pixels[o + 1] = 255; img.pixels[o + 2] = 255
                }
            }
        }
        return img
    }

    /// Two boxes, one against the top edge, on a white-on-black picture 64 px wide, and their annotations.
    private func twoBoxScene(height: Int) -> (boxes: [Box], annotations: [Annotation], image: Image) {
        let boxes = [Box(x1: 3, y1: 4, x2: 20, y2: 30), Box(x1: 40, y1: 0, x2: 64, y2: 10)]
        return (boxes, boxes.map { Annotation(box: $0, classIndex: 1) }, picture(64, height, boxes: boxes))
    }

    /// `Augmenter.apply` into a 64² input with flips only, each always or never.
    private func flip(_ image: Image, _ annotations: [Annotation], horizontal: Bool, vertical: Bool) -> PreparedSample {
        var config = AugmentConfig.none
        config.flipProbability = horizontal ? 1 : 0
        config.verticalFlipProbability = vertical ? 1 : 0
        var rng = SplitMix64(seed: 1)
        return Augmenter.apply(image, annotations: annotations, inputSize: 64, config: config, rng: &rng)
    }

    func testFlipTwiceIsIdentity() {
        let (_, anns, img) = twoBoxScene(height: 64)
        let once = flip(img, anns, horizontal: true, vertical: false)
        XCTAssertNotEqual(once.image, img)
        XCTAssertEqual(once.annotations[0].box, Box(x1: 44, y1: 4, x2: 61, y2: 30))
        let twice = flip(once.image, once.annotations, horizontal: true, vertical: false)
        XCTAssertEqual(twice.image, img)
        XCTAssertEqual(twice.annotations, anns)
        XCTAssertEqual(img.flippedHorizontally().flippedHorizontally(), img)
    }

    func testCropClipsPartlyCutBoxesAndDropsMostlyCutOnes() {
        // Scale 2 and a crop window starting at (20, 0) of width/height 100 in scaled pixels.
        let t = InputTransform(originalWidth: 100, originalHeight: 100, scaleX: 2, scaleY: 2, offsetX: 20, offsetY: 0,
                               inputSize: 100, contentWidth: 100, contentHeight: 100)
        let anns = [
            Annotation(box: Box(x1: 20, y1: 10, x2: 30, y2: 20), classIndex: 0),  // → (20, 20, 40, 40) inside
            Annotation(box: Box(x1: 5, y1: 10, x2: 15, y2: 20), classIndex: 1),   // → (-10, 20, 10, 40): half inside, kept
            Annotation(box: Box(x1: 2, y1: 10, x2: 12, y2: 20), classIndex: 2),   // → (-16, 20, 4, 40): 20% inside, dropped
            Annotation(box: Box(x1: 55, y1: 45, x2: 65, y2: 55), classIndex: 3, ignore: true),  // → (90, 90, 110, 110): 25%
            Annotation(box: Box(x1: 55, y1: 10, x2: 70, y2: 20), classIndex: 4),  // → (90, 20, 120, 40): 33%, dropped
        ]
        let kept = Augmenter.mapBoxes(anns, transform: t, minKeptFraction: 0.4, minBoxSize: 2)
        XCTAssertEqual(kept.map(\.classIndex), [0, 1])
        XCTAssertEqual(kept[0].box, Box(x1: 20, y1: 20, x2: 40, y2: 40))
        XCTAssertEqual(kept[1].box, Box(x1: 0, y1: 20, x2: 10, y2: 40))
        let lenient = Augmenter.mapBoxes(anns, transform: t, minKeptFraction: 0.2, minBoxSize: 2)
        XCTAssertEqual(lenient.map(\.classIndex), [0, 1, 2, 3, 4])
        XCTAssertTrue(lenient[3].ignore)
    }

    func testLetterboxKeepsAspectPadsRightBottomAndMapsBack() {
        let box = Box(x1: 100, y1: 50, x2: 300, y2: 250)
        let img = picture(512, 384, boxes: [box])
        let p = Augmenter.letterbox(img, annotations: [Annotation(box: box, classIndex: 0)], inputSize: 320)
        XCTAssertEqual(p.image.width, 320)
        XCTAssertEqual(p.transform.contentWidth, 320)
        XCTAssertEqual(p.transform.contentHeight, 240)
        XCTAssertEqual(p.transform.scaleX, 0.625)
        XCTAssertEqual(p.annotations[0].box, Box(x1: 62.5, y1: 31.25, x2: 187.5, y2: 156.25))
        XCTAssertTrue(p.image.pixel(x: 10, y: 300) == Augmenter.padColor, "bottom is padding")
        XCTAssertTrue(p.image.pixel(x: 125, y: 90) == (255, 255, 255))
        let back = p.transform.toOriginal(p.annotations[0].box)
        assertClose(back.xyxy, box.xyxy, rtol: 0, atol: 1e-9)
    }

    func testRandomAugmentationKeepsBoxesOnTheirPixels() {
        let boxes = [Box(x1: 30, y1: 40, x2: 90, y2: 100), Box(x1: 200, y1: 20, x2: 260, y2: 70), Box(x1: 120, y1: 150, x2: 180, y2: 190)]
        let img = picture(300, 200, boxes: boxes)
        var config = AugmentConfig()
        config.brightness = 0; config.contrast = 0; config.saturation = 0
        config.minScale = 0.6; config.maxScale = 1.8
        var flips = 0, dropped = 0
        for seed in 0..<30 {
            var rng = SplitMix64(seed: UInt64(seed))
            let p = Augmenter.apply(img, annotations: boxes.map { Annotation(box: $0, classIndex: 0) }, inputSize: 160,
                                    config: config, rng: &rng)
            if p.transform.flipped { flips += 1 }
            dropped += boxes.count - p.annotations.count
            XCTAssertEqual(p.image.width, 160)
            for a in p.annotations {
                XCTAssertTrue(a.box.x1 >= 0 && a.box.y1 >= 0 && a.box.x2 <= Double(p.transform.contentWidth) && a.box.y2 <= Double(p.transform.contentHeight))
                let (r, _, _) = p.image.pixel(x: Int(a.box.cx), y: Int(a.box.cy))
                XCTAssertGreaterThan(r, 200, "seed \(seed): box centre \(a.box) is not on its white rectangle")
                // Just outside the box (where inside the content) the picture is black.
                let ox = Int(a.box.x2) + 2
                if ox < p.transform.contentWidth && a.box.x2 < Double(p.transform.contentWidth) - 3 {
                    XCTAssertLessThan(p.image.pixel(x: ox, y: Int(a.box.cy)).0, 60, "seed \(seed)")
                }
            }
        }
        XCTAssertTrue(flips > 5 && flips < 25, "flip probability 0.5: \(flips) of 30")
        XCTAssertGreaterThan(dropped, 0, "some crops cut boxes away")
    }

    func testAugmentationIsAFunctionOfTheSeed() {
        let img = picture(120, 90, boxes: [Box(x1: 10, y1: 10, x2: 50, y2: 40)])
        let anns = [Annotation(box: Box(x1: 10, y1: 10, x2: 50, y2: 40), classIndex: 0)]
        var r1 = SplitMix64(seed: 5), r2 = SplitMix64(seed: 5), r3 = SplitMix64(seed: 6)
        let a = Augmenter.apply(img, annotations: anns, inputSize: 96, config: AugmentConfig(), rng: &r1)
        let b = Augmenter.apply(img, annotations: anns, inputSize: 96, config: AugmentConfig(), rng: &r2)
        let c = Augmenter.apply(img, annotations: anns, inputSize: 96, config: AugmentConfig(), rng: &r3)
        XCTAssertEqual(a.image, b.image)
        XCTAssertEqual(a.annotations, b.annotations)
        XCTAssertNotEqual(a.image, c.image)
    }

    /// A vertical flip (`verticalFlipProbability` 1) moves boxes with their pixels, composes with the horizontal
    /// flip, and `toOriginal` undoes both.
    func testVerticalFlipMovesBoxesWithThePixelsAndMapsBack() {
        let (boxes, anns, img) = twoBoxScene(height: 48)
        let up = flip(img, anns, horizontal: false, vertical: true)
        XCTAssertEqual(up.image.cropped(x: 0, y: 0, width: 64, height: 48), img.flippedVertically())
        XCTAssertEqual(up.annotations.map(\.box), [Box(x1: 3, y1: 18, x2: 20, y2: 44), Box(x1: 40, y1: 38, x2: 64, y2: 48)])
        XCTAssertTrue(up.transform.flippedVertically)
        let both = flip(img, anns, horizontal: true, vertical: true)
        XCTAssertEqual(both.image.cropped(x: 0, y: 0, width: 64, height: 48),
                       img.flippedHorizontally().flippedVertically())
        XCTAssertEqual(both.annotations[0].box, Box(x1: 44, y1: 18, x2: 61, y2: 44))
        for (a, b) in zip(both.annotations, boxes) {
            assertClose(both.transform.toOriginal(a.box).xyxy, b.xyxy, rtol: 0, atol: 1e-9)
        }
        XCTAssertEqual(img.flippedVertically().flippedVertically(), img)
    }

    /// With random scales, crops and both flips at probability 0.5, every kept box stays on its white rectangle; at
    /// probability 0 no vertical flip is drawn, so a seed gives the images it gave before the setting existed.
    func testRandomVerticalFlipsKeepBoxesOnTheirPixels() {
        let boxes = [Box(x1: 30, y1: 40, x2: 90, y2: 100), Box(x1: 200, y1: 20, x2: 260, y2: 70), Box(x1: 120, y1: 150, x2: 180, y2: 190)]
        let img = picture(300, 200, boxes: boxes)
        let anns = boxes.map { Annotation(box: $0, classIndex: 0) }
        var config = AugmentConfig()
        config.brightness = 0; config.contrast = 0; config.saturation = 0
        config.verticalFlipProbability = 0.5
        var flips = 0
        for seed in 0..<30 {
            var rng = SplitMix64(seed: UInt64(seed))
            let p = Augmenter.apply(img, annotations: anns, inputSize: 160, config: config, rng: &rng)
            if p.transform.flippedVertically { flips += 1 }
            for a in p.annotations {
                XCTAssertGreaterThan(p.image.pixel(x: Int(a.box.cx), y: Int(a.box.cy)).0, 200, "seed \(seed): \(a.box)")
                let oy = Int(a.box.y2) + 2
                if a.box.y2 < Double(p.transform.contentHeight) - 3 {
                    XCTAssertLessThan(p.image.pixel(x: Int(a.box.cx), y: oy).0, 60, "seed \(seed): below \(a.box)")
                }
            }
        }
        XCTAssertTrue(flips > 5 && flips < 25, "vertical flip probability 0.5: \(flips) of 30")
        // Probability 0 draws nothing: the generator is where the same draws without the setting leave it.
        var plain = SplitMix64(seed: 3), drawn = SplitMix64(seed: 3)
        _ = Augmenter.apply(img, annotations: anns, inputSize: 160, config: AugmentConfig(), rng: &plain)
        var tiny = AugmentConfig()
        tiny.verticalFlipProbability = 1e-300
        _ = Augmenter.apply(img, annotations: anns, inputSize: 160, config: tiny, rng: &drawn)
        XCTAssertNotEqual(plain.next(), drawn.next(), "a positive probability draws once more")
    }
}
