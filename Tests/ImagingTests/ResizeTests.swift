import Foundation
import Imaging
import TestSupport
import XCTest

/// Bilinear resize against a direct per-pixel reference (in `Double`) and against Pillow's bilinear upsampling.
final class ResizeTests: XCTestCase {
    /// The OpenCV `INTER_LINEAR` rule written out per output pixel: centre-aligned source position, clamped.
    static func naiveResize(_ image: Image, width outW: Int, height outH: Int) -> Image {
        func position(_ i: Int, _ input: Int, _ output: Int) -> (Int, Int, Double) {
            let s = (Double(i) + 0.5) * Double(input) / Double(output) - 0.5
            var i0 = Int(floor(s)), f = s - floor(s)
            if i0 < 0 { i0 = 0; f = 0 }
            if i0 >= input - 1 { i0 = input - 1; f = 0 }
            return (i0, min(i0 + 1, input - 1), f)
        }
        var out = Image(width: outW, height: outH)
        for y in 0..<outH {
            let (y0, y1, fy) = position(y, image.height, outH)
            for x in 0..<outW {
                let (x0, x1, fx) = position(x, image.width, outW)
                for c in 0..<3 {
                    func p(_ xx: Int, _ yy: Int) -> Double { Double(image.pixels[(yy * image.width + xx) * 3 + c]) }
                    let top = p(x0, y0) * (1 - fx) + p(x1, y0) * fx
                    let bottom = p(x0, y1) * (1 - fx) + p(x1, y1) * fx
                    out.pixels[(y * outW + x) * 3 + c] = UInt8((top * (1 - fy) + bottom * fy).rounded())
                }
            }
        }
        return out
    }

    static func maxDifference(_ a: Image, _ b: Image) -> Int {
        zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    func testMatchesNaiveReferenceWithinOneLevel() {
        let source = PNGWriteAndErrorTests.pattern(width: 23, height: 17)
        // Shrinking, enlarging, mixed, to one pixel, and non-integer ratios. Float arithmetic may round an exact
        // .5 the other way than the Double reference, hence a tolerance of one level.
        for (w, h) in [(11, 8), (40, 35), (7, 30), (1, 1), (23, 9), (64, 64)] {
            let fast = source.resized(width: w, height: h)
            let naive = Self.naiveResize(source, width: w, height: h)
            XCTAssertEqual(fast.width, w)
            XCTAssertEqual(fast.height, h)
            XCTAssertLessThanOrEqual(Self.maxDifference(fast, naive), 1, "\(w)×\(h)")
        }
    }

    func testMatchesPillowBilinearWhenEnlarging() throws {
        let src = try [UInt8](Data(contentsOf: Fixtures.url("imaging/resize_src.rgb")))
        let pillow = try [UInt8](Data(contentsOf: Fixtures.url("imaging/resize_pillow_13x9.rgb")))
        let ours = Image(width: 5, height: 4, pixels: src).resized(width: 13, height: 9)
        // Pillow uses fixed-point weights (22 fractional bits) and its own rounding: tolerance one level.
        XCTAssertLessThanOrEqual(Self.maxDifference(ours, Image(width: 13, height: 9, pixels: pillow)), 1)
    }

    func testSameSizeIsIdentityAndConstantStaysConstant() {
        let source = PNGWriteAndErrorTests.pattern(width: 9, height: 6)
        XCTAssertEqual(source.resized(width: 9, height: 6), source)
        let flat = Image(width: 10, height: 7, fill: (12, 200, 77))
        XCTAssertEqual(flat.resized(width: 33, height: 4), Image(width: 33, height: 4, fill: (12, 200, 77)))
    }

    func testHalvingAveragesPixelPairs() {
        // With an exact factor 2 every output pixel sits midway between two source pixels in each axis.
        let source = PNGWriteAndErrorTests.pattern(width: 8, height: 6)
        let half = source.resized(width: 4, height: 3)
        for y in 0..<3 {
            for x in 0..<4 {
                for c in 0..<3 {
                    var sum = 0
                    for dy in 0..<2 {
                        for dx in 0..<2 { sum += Int(source.pixels[((2 * y + dy) * 8 + 2 * x + dx) * 3 + c]) }
                    }
                    XCTAssertEqual(Int(half.pixels[(y * 4 + x) * 3 + c]), sum / 4, accuracy: 1)
                }
            }
        }
    }
}

/// The antialiased mode against Pillow's bilinear downsampling.
final class AntialiasedResizeTests: XCTestCase {
    func testMatchesPillowBilinearWhenShrinking() throws {
        let src = try [UInt8](Data(contentsOf: Fixtures.url("imaging/resize_src_23x17.rgb")))
        let image = Image(width: 23, height: 17, pixels: src)
        for (w, h) in [(9, 7), (10, 17), (4, 3)] {
            let pillow = try [UInt8](Data(contentsOf: Fixtures.url("imaging/resize_pillow_\(w)x\(h).rgb")))
            let ours = image.resized(width: w, height: h, antialias: true)
            // Pillow rounds to 8 bits between its two passes and uses fixed-point weights: tolerance one level.
            XCTAssertLessThanOrEqual(
                ResizeTests.maxDifference(ours, Image(width: w, height: h, pixels: pillow)), 1, "\(w)×\(h)")
            if w < 23 && h < 17 {
                // Without antialiasing, shrinking in both axes skips source pixels and departs from Pillow.
                let plain = image.resized(width: w, height: h)
                XCTAssertGreaterThan(ResizeTests.maxDifference(plain, Image(width: w, height: h, pixels: pillow)), 5)
            }
        }
    }

    func testEqualsPlainBilinearWhenEnlarging() {
        let image = PNGWriteAndErrorTests.pattern(width: 7, height: 5)
        let a = image.resized(width: 19, height: 11, antialias: true)
        let b = image.resized(width: 19, height: 11)
        XCTAssertLessThanOrEqual(ResizeTests.maxDifference(a, b), 1)
        XCTAssertEqual(image.resized(width: 5, height: 5, antialias: false), image.resized(width: 5, height: 5))
    }

    func testConstantImageStaysConstant() {
        let flat = Image(width: 31, height: 9, fill: (3, 250, 128))
        XCTAssertEqual(flat.resized(width: 7, height: 4, antialias: true),
                       Image(width: 7, height: 4, fill: (3, 250, 128)))
    }
}
