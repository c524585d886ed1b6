import Foundation
@testable import Imaging
import TestSupport
import XCTest

/// The fast encoding option and the single-pass output buffer.
final class PNGFastEncodeTests: XCTestCase {
    /// Uniform noise from a fixed linear congruential sequence: the least compressible input, which gives the
    /// largest encoded size relative to the bound.
    static func noise(width: Int, height: Int, seed: UInt64) -> Image {
        var image = Image(width: width, height: height)
        var state = seed
        for i in image.pixels.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            image.pixels[i] = UInt8(truncatingIfNeeded: state >> 56)
        }
        return image
    }

    func testFastEncodingDecodesToIdenticalPixels() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (w, h) in [(1, 1), (31, 17), (320, 320)] {
            for image in [Self.noise(width: w, height: h, seed: UInt64(w)), PNGWriteAndErrorTests.pattern(width: w, height: h)] {
                let fast = try PNG.encode(image, fast: true)
                let slow = try PNG.encode(image)
                XCTAssertEqual(try PNG.read(data: fast), image, "\(w)×\(h)")
                XCTAssertEqual(try PNG.read(data: slow), image, "\(w)×\(h)")
                XCTAssertNotEqual(fast, slow, "the fast flag changes the stream for \(w)×\(h)")
                let url = folder.appendingPathComponent("fast-\(w).png")
                try PNG.write(image, to: url, fast: true)
                XCTAssertEqual(try PNG.read(url), image)
                XCTAssertEqual(try Data(contentsOf: url), Data(fast), "write(fast:) stores the encode(fast:) bytes")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).count, 3)
    }

    func testFastEncodingOfOtherFormatsRoundTrips() throws {
        let w = 9, h = 5
        for format in PNG.SampleFormat.allCases {
            var samples = Self.noise(width: w, height: h * 2, seed: 3).pixels
            samples.removeSubrange((w * h * format.channels)...)
            if format == .rgba || format == .greyAlpha {
                // Opaque alpha, so the decoded RGB must equal the colour samples exactly.
                for p in 0..<(w * h) { samples[p * format.channels + format.channels - 1] = 255 }
            }
            let decoded = try PNG.read(data: PNG.encode(samples: samples, width: w, height: h, format: format, fast: true))
            for p in 0..<(w * h) {
                let c = p * format.channels
                let expected = format.channels >= 3 ? Array(samples[c..<(c + 3)]) : Array(repeating: samples[c], count: 3)
                XCTAssertEqual(Array(decoded.pixels[(p * 3)..<(p * 3 + 3)]), expected, "\(format) pixel \(p)")
            }
        }
    }

    func testSizeBoundCoversIncompressibleData() throws {
        for (w, h) in [(1, 1), (7, 300), (320, 320), (1000, 3)] {
            let image = Self.noise(width: w, height: h, seed: 99)
            for fast in [false, true] {
                let bytes = try PNG.encode(image, fast: fast)
                XCTAssertLessThanOrEqual(bytes.count, PNG.encodedSizeBound(height: h, rowBytes: w * 3), "\(w)×\(h)")
                XCTAssertGreaterThan(bytes.count, w * h * 3, "noise does not compress")
            }
        }
    }
}
