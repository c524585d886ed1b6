import Boxes
@testable import Datasets
import Foundation
import Imaging
import Seeding
import TestSupport
import XCTest

/// Rectangular inputs (YOLOv5/ultralytics `rect=True`): the rectangle of an image, the letterbox into it, and the map
/// back to original pixels.
final class RectangularInputTests: XCTestCase {
    func testRectangleSizes() {
        func r(_ w: Int, _ h: Int, _ s: Int) -> [Int] {
            let x = InputTransform.rectangle(width: w, height: h, inputSize: s)
            return [x.width, x.height]
        }
        XCTAssertEqual(r(384, 256, 320), [320, 224])   // 256 · 320/384 = 213.3 → 213 → 224
        XCTAssertEqual(r(384, 288, 320), [320, 256])   // 240 → 256
        XCTAssertEqual(r(384, 288, 384), [384, 288])   // already a multiple of 32
        XCTAssertEqual(r(512, 288, 512), [512, 288])   // the tiny-crowd frames
        XCTAssertEqual(r(288, 512, 512), [288, 512])   // portrait: the width is the short side
        XCTAssertEqual(r(300, 300, 320), [320, 320])   // square stays square
        XCTAssertEqual(r(1000, 10, 320), [320, 32])    // at least one multiple
        XCTAssertEqual(r(400, 399, 320), [320, 320])   // 319 → 320, not above
        XCTAssertEqual(r(400, 399, 336), [336, 336])   // 335 → 352 would exceed inputSize: capped
        for (w, h) in [(384, 256), (256, 384), (640, 100), (100, 100), (333, 217)] {
            let x = InputTransform.rectangle(width: w, height: h, inputSize: 320)
            XCTAssertEqual(max(x.width, x.height), 320)
            XCTAssertEqual(min(x.width, x.height) % 32, 0)
            let l = InputTransform.letterbox(width: w, height: h, inputSize: 320)
            XCTAssertLessThanOrEqual(l.contentWidth, x.width)
            XCTAssertLessThanOrEqual(l.contentHeight, x.height)
            XCTAssertLessThan(min(x.width, x.height) - min(l.contentWidth, l.contentHeight), 32)
        }
    }

    func testBoxesMapForwardAndBackExactly() {
        let t = InputTransform.letterbox(width: 384, height: 256, inputSize: 320, inputWidth: 320, inputHeight: 224)
        XCTAssertEqual([t.inputWidth, t.inputHeight, t.contentWidth, t.contentHeight, t.inputSize], [320, 224, 320, 213, 320])
        let box = Box(x1: 12.5, y1: 30, x2: 200.25, y2: 255)
        let input = t.toInput(box)
        XCTAssertEqual(input.x1, 12.5 * 320 / 384, accuracy: 1e-9)
        XCTAssertEqual(input.y2, 255 * 213 / 256, accuracy: 1e-9)
        let back = t.toOriginal(input)
        for (a, b) in zip([back.x1, back.y1, back.x2, back.y2], [box.x1, box.y1, box.x2, box.y2]) { XCTAssertEqual(a, b, accuracy: 1e-9) }
        // Flipped and cropped (training augmentation) inside a rectangle: the same round trip.
        let f = InputTransform(originalWidth: 384, originalHeight: 256, scaleX: 0.9, scaleY: 0.9, offsetX: 7, offsetY: 3, flipped: true,
                               inputSize: 320, contentWidth: 320, contentHeight: 224, inputWidth: 320, inputHeight: 224)
        let g = f.toOriginal(f.toInput(box))
        for (a, b) in zip([g.x1, g.y1, g.x2, g.y2], [box.x1, box.y1, box.x2, box.y2]) { XCTAssertEqual(a, b, accuracy: 1e-9) }
    }

    func testLetterboxPlacesContentTopLeftAndPadsTheRest() {
        let image = Image(width: 384, height: 256, fill: (255, 0, 0))
        let ann = [Annotation(box: Box(x1: 0, y1: 0, x2: 384, y2: 256), classIndex: 0)]
        let p = Augmenter.letterbox(image, annotations: ann, inputSize: 320, inputWidth: 320, inputHeight: 224)
        XCTAssertEqual([p.image.width, p.image.height], [320, 224])
        XCTAssertEqual(p.transform, InputTransform.letterbox(width: 384, height: 256, inputSize: 320, inputWidth: 320, inputHeight: 224))
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { (0..<3).map { p.image.pixels[(y * 320 + x) * 3 + $0] } }
        XCTAssertEqual(pixel(0, 0), [255, 0, 0])
        XCTAssertEqual(pixel(319, 212), [255, 0, 0])   // the last content row
        let pad = Augmenter.padColor
        XCTAssertEqual(pixel(0, 213), [pad.0, pad.1, pad.2])   // padding below, none at the right
        XCTAssertEqual(pixel(319, 223), [pad.0, pad.1, pad.2])
        XCTAssertEqual(p.annotations.map(\.box), [Box(x1: 0, y1: 0, x2: 320, y2: 213)])
        // The square letterbox of the same image: 107 more padded rows.
        let square = Augmenter.letterbox(image, annotations: ann, inputSize: 320)
        XCTAssertEqual([square.image.width, square.image.height], [320, 320])
        XCTAssertEqual(square.transform.inputHeight, 320)
    }

    /// Training augmentation into a rectangle: the canvas's shape, boxes inside the content; with the canvas left out
    /// (square) the random draws and the result are those of a square canvas given explicitly.
    func testAugmentationFillsTheCanvas() {
        var pixels = [UInt8](repeating: 0, count: 384 * 256 * 3)
        for i in pixels.indices { pixels[i] = UInt8((i * 7) % 251) }
        let image = Image(width: 384, height: 256, pixels: pixels)
        let ann = [Annotation(box: Box(x1: 100, y1: 50, x2: 180, y2: 120), classIndex: 0)]
        var config = AugmentConfig()
        config.flipProbability = 1
        for seed in 0..<6 as Range<UInt64> {
            var rng = SplitMix64(seed: seed)
            let p = Augmenter.apply(image, annotations: ann, inputSize: 320, inputWidth: 320, inputHeight: 224, config: config, rng: &rng)
            XCTAssertEqual([p.image.width, p.image.height], [320, 224])
            XCTAssertLessThanOrEqual(p.transform.contentHeight, 224)
            for a in p.annotations { XCTAssertTrue(a.box.x2 <= Double(p.transform.contentWidth) && a.box.y2 <= Double(p.transform.contentHeight)) }
            var r1 = SplitMix64(seed: seed), r2 = SplitMix64(seed: seed)
            let a = Augmenter.apply(image, annotations: ann, inputSize: 96, config: config, rng: &r1)
            let b = Augmenter.apply(image, annotations: ann, inputSize: 96, inputWidth: 96, inputHeight: 96, config: config, rng: &r2)
            XCTAssertEqual(a.image.pixels, b.image.pixels)
            XCTAssertEqual(a.transform, b.transform)
        }
    }
}
