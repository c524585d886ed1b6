import Imaging
import TestSupport
import XCTest

/// Colour jitter against the torchvision formulas, and planar float conversion.
final class ColorTests: XCTestCase {
    let image = PNGWriteAndErrorTests.pattern(width: 9, height: 7)

    func testFactorOneIsIdentity() {
        XCTAssertEqual(image.jittered(), image)
        XCTAssertEqual(image.jittered(brightness: 1, contrast: 1, saturation: 1), image)
    }

    func testBrightnessMultipliesAndClamps() {
        let out = image.jittered(brightness: 1.5)
        for i in image.pixels.indices {
            XCTAssertEqual(out.pixels[i], UInt8(min((Float(image.pixels[i]) * 1.5).rounded(), 255)))
        }
        XCTAssertEqual(image.jittered(brightness: 0), Image(width: 9, height: 7))
    }

    func testContrastBlendsWithMeanGrey() {
        var sum = 0.0
        for p in stride(from: 0, to: image.pixels.count, by: 3) {
            sum += 0.2989 * Double(image.pixels[p]) + 0.587 * Double(image.pixels[p + 1])
                + 0.114 * Double(image.pixels[p + 2])
        }
        let mean = sum / Double(image.width * image.height)
        let out = image.jittered(contrast: 0.6)
        for i in image.pixels.indices {
            let expected = min(max(0.6 * Double(image.pixels[i]) + 0.4 * mean, 0), 255)
            XCTAssertEqual(Double(out.pixels[i]), expected, accuracy: 0.5 + 1e-3)
        }
        // Contrast 0: every channel of every pixel becomes the mean grey.
        let flat = image.jittered(contrast: 0)
        XCTAssertTrue(flat.pixels.allSatisfy { abs(Double($0) - mean) <= 0.5 + 1e-3 })
    }

    func testSaturationZeroGivesGreyscaleAndTwoExtrapolates() {
        let grey = image.jittered(saturation: 0)
        let doubled = image.jittered(saturation: 2)
        for p in stride(from: 0, to: image.pixels.count, by: 3) {
            let g = 0.2989 * Double(image.pixels[p]) + 0.587 * Double(image.pixels[p + 1])
                + 0.114 * Double(image.pixels[p + 2])
            for c in 0..<3 {
                XCTAssertEqual(Double(grey.pixels[p + c]), g, accuracy: 0.5 + 1e-3)
                let expected = min(max(2 * Double(image.pixels[p + c]) - g, 0), 255)
                XCTAssertEqual(Double(doubled.pixels[p + c]), expected, accuracy: 0.5 + 1e-3)
            }
        }
    }

    /// The three steps together (as training draws them) against the formulas in `Double`, on an image of random
    /// bytes: each step clamped to [0, 255], the contrast mean over the brightness-adjusted image, one rounding.
    func testTheThreeStepsTogetherFollowTheFormulas() {
        var g = SeededGenerator(seed: 5)
        let (w, h) = (31, 17)
        let bytes = (0..<(3 * w * h)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        let random = Image(width: w, height: h, pixels: bytes)
        for (b, c, s) in [(1.3, 0.7, 1.4), (0.6, 1.5, 0.3), (1.0, 0.8, 1.0), (1.8, 1.0, 0.0)] {
            let out = random.jittered(brightness: Float(b), contrast: Float(c), saturation: Float(s))
            let bright = random.pixels.map { min(Double($0) * b, 255) }
            var sum = 0.0
            for p in stride(from: 0, to: bright.count, by: 3) {
                sum += 0.2989 * bright[p] + 0.587 * bright[p + 1] + 0.114 * bright[p + 2]
            }
            let mean = sum / Double(w * h)
            let contrasted = bright.map { min(max(c * $0 + (1 - c) * mean, 0), 255) }
            for p in stride(from: 0, to: bright.count, by: 3) {
                let grey = 0.2989 * contrasted[p] + 0.587 * contrasted[p + 1] + 0.114 * contrasted[p + 2]
                for k in 0..<3 {
                    let expected = min(max(s * contrasted[p + k] + (1 - s) * grey, 0), 255)
                    XCTAssertEqual(Double(out.pixels[p + k]), expected, accuracy: 0.5 + 1e-3,
                                   "\((b, c, s)) at \(p + k)")
                }
            }
        }
    }

    func testToCHWFloatLayoutAndNormalisation() {
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        let chw = image.toCHWFloat(mean: mean, std: std)
        XCTAssertEqual(chw.count, 3 * 9 * 7)
        for y in 0..<7 {
            for x in 0..<9 {
                for c in 0..<3 {
                    let v = Float(image.pixels[(y * 9 + x) * 3 + c])
                    XCTAssertEqual(chw[c * 63 + y * 9 + x], (v / 255 - mean[c]) / std[c], accuracy: 1e-6)
                }
            }
        }
    }

    func testWriteCHWFloatWithStridesFillsOnlyTheImage() {
        // Place the 9×7 image at the top-left of a 12×10 canvas pre-filled with a sentinel.
        var canvas = [Float](repeating: -99, count: 3 * 12 * 10)
        canvas.withUnsafeMutableBufferPointer {
            image.writeCHWFloat(into: $0.baseAddress!, rowStride: 12, planeStride: 120)
        }
        let plain = image.toCHWFloat()
        for c in 0..<3 {
            for y in 0..<10 {
                for x in 0..<12 {
                    let value = canvas[c * 120 + y * 12 + x]
                    if x < 9 && y < 7 {
                        XCTAssertEqual(value, plain[c * 63 + y * 9 + x])
                    } else {
                        XCTAssertEqual(value, -99)
                    }
                }
            }
        }
    }
}
