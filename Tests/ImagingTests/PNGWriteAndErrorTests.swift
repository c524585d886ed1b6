import Foundation
import Imaging
import TestSupport
import XCTest

/// Encoder round trips, the writer's other colour types, and clear errors on bad input.
final class PNGWriteAndErrorTests: XCTestCase {
    /// A deterministic RGB test pattern.
    static func pattern(width: Int, height: Int) -> Image {
        var image = Image(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                image.pixels[i] = UInt8((x * 37 + y * 11) & 255)
                image.pixels[i + 1] = UInt8((x * 5 + y * 71) & 255)
                image.pixels[i + 2] = UInt8((x * y * 13 + 7) & 255)
            }
        }
        return image
    }

    func testWriteThenReadRoundTripsExactly() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = Self.pattern(width: 31, height: 17)
        let url = folder.appendingPathComponent("pattern.png")
        try PNG.write(image, to: url)
        XCTAssertEqual(try PNG.read(url), image)
        XCTAssertEqual(try PNG.read(data: PNG.encode(image)), image)
        // Overwriting replaces the file; no temporary files are left behind.
        let other = Self.pattern(width: 5, height: 3)
        try PNG.write(other, to: url)
        XCTAssertEqual(try PNG.read(url), other)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["pattern.png"])
    }

    func testWriterHandlesGreyGreyAlphaAndRGBA() throws {
        let w = 6, h = 4
        let grey = (0..<(w * h)).map { UInt8($0 * 10) }
        let fromGrey = try PNG.read(data: PNG.encode(samples: grey, width: w, height: h, format: .grey))
        XCTAssertEqual(fromGrey.pixels, grey.flatMap { [$0, $0, $0] })

        // Opaque and fully transparent pixels are exact; a half-transparent one is composited on black.
        let ga: [UInt8] = [200, 255, 200, 0, 200, 128] + [UInt8](repeating: 90, count: (w * h - 3) * 2)
        let fromGA = try PNG.read(data: PNG.encode(samples: ga, width: w, height: h, format: .greyAlpha))
        XCTAssertEqual(Array(fromGA.pixels[0..<6]), [200, 200, 200, 0, 0, 0])
        // linear(200/255) = 0.5776, × 128/255 = 0.2899, sRGB → 0.5791 → 148.
        XCTAssertEqual(Int(fromGA.pixels[6]), 148, accuracy: 1)

        var rgba = [UInt8](), rgb = [UInt8]()
        for i in 0..<(w * h) {
            let c: [UInt8] = [UInt8(i), UInt8(2 * i), UInt8(3 * i)]
            rgba += c + [255]
            rgb += c
        }
        let fromRGBA = try PNG.read(data: PNG.encode(samples: rgba, width: w, height: h, format: .rgba))
        XCTAssertEqual(fromRGBA.pixels, rgb)
    }

    func testSixteenBitLinearWriterDecodesThroughSRGBCurve() throws {
        let samples: [UInt16] = [0, 65535, 32768, 6554]
        let bytes = try PNG.encode(linearSamples: samples, width: 4, height: 1, format: .grey)
        XCTAssertEqual(bytes[24], 16, "IHDR bit depth")
        let image = try PNG.read(data: bytes)
        // libpng encodes linear light with its sRGB approximation, the power 1/2.2:
        // 255 · 0.5^(1/2.2) = 186.1, 255 · 0.1^(1/2.2) = 89.6.
        let decoded = stride(from: 0, to: 12, by: 3).map { Int(image.pixels[$0]) }
        XCTAssertEqual(decoded[0], 0)
        XCTAssertEqual(decoded[1], 255)
        XCTAssertEqual(decoded[2], 186, accuracy: 1)
        XCTAssertEqual(decoded[3], 90, accuracy: 1)
    }

    func testTruncatedFileThrowsCorruptNamingTheFile() throws {
        let url = Fixtures.url("imaging/bad_truncated.png")
        XCTAssertThrowsError(try PNG.read(url)) { error in
            guard case ImagingError.corrupt(let file, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(file, url.path)
            XCTAssertTrue("\(error)".contains("bad_truncated.png"), "\(error)")
        }
    }

    func testNonPNGFileThrowsUnreadable() throws {
        let url = Fixtures.url("imaging/bad_not_png.png")
        XCTAssertThrowsError(try PNG.read(url)) { error in
            guard case ImagingError.unreadable(let file, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(file, url.path)
        }
        XCTAssertThrowsError(try PNG.read(data: [], name: "empty")) { error in
            XCTAssertTrue("\(error)".hasPrefix("empty:"), "\(error)")
        }
    }

    func testMissingFileThrowsUnreadable() {
        let url = URL(fileURLWithPath: "/nonexistent/folder/image.png")
        XCTAssertThrowsError(try PNG.read(url)) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/folder/image.png"), "\(error)")
        }
    }

    func testHugeHeaderIsRejectedBeforeAllocation() throws {
        let url = Fixtures.url("imaging/bad_huge_header.png")
        XCTAssertThrowsError(try PNG.read(url)) { error in
            XCTAssertEqual(error as? ImagingError, .tooLarge(
                file: url.path, width: 100_000, height: 100_000, maxPixels: PNG.defaultMaxPixels))
            XCTAssertTrue("\(error)".contains("100000×100000"), "\(error)")
        }
        // The same limit applies to genuine images when the caller lowers it.
        XCTAssertThrowsError(try PNG.read(Fixtures.url("imaging/rgb8.png"), maxPixels: 64))
        XCTAssertNoThrow(try PNG.read(Fixtures.url("imaging/rgb8.png"), maxPixels: 65))
    }

    func testWriteIntoMissingFolderThrows() {
        let url = URL(fileURLWithPath: "/nonexistent/folder/out.png")
        XCTAssertThrowsError(try PNG.write(Image(width: 2, height: 2), to: url)) { error in
            guard case ImagingError.writeFailed(let file, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(file, url.path)
        }
    }
}
