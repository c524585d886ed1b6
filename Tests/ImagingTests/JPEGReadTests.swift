import Foundation
import Imaging
import TestSupport
import XCTest

/// JPEG decoding against Pillow's decode of the same files (`Tests/Fixtures/imaging/jpeg/make_jpeg_fixtures.py`):
/// baseline, progressive, grey, CMYK and every EXIF orientation; DCT scaling; sniffing by content.
final class JPEGReadTests: XCTestCase {
    struct Case: Decodable {
        let name: String
        let width: Int
        let height: Int
        let orientation: Int
        let description: String
        let tolerance: Int
    }

    func fixture(_ name: String) -> URL { Fixtures.url("imaging/jpeg/\(name)") }

    func testEveryKindMatchesPillowsDecode() throws {
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: fixture("manifest.json")))
        XCTAssertEqual(cases.count, 12)
        for c in cases {
            let d = try ImageFile.decode(fixture("\(c.name).jpg"))
            XCTAssertEqual(d.format, .jpeg, c.name)
            XCTAssertEqual(d.orientation, c.orientation, c.name)
            XCTAssertEqual([d.image.width, d.image.height, d.originalWidth, d.originalHeight],
                           [c.width, c.height, c.width, c.height], c.name)
            XCTAssertTrue(d.warnings.isEmpty, "\(c.name): \(d.warnings)")
            let expected = try [UInt8](Data(contentsOf: fixture("\(c.name).rgb")))
            let worst = zip(d.image.pixels, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
            XCTAssertEqual(d.image.pixels.count, expected.count, c.name)
            XCTAssertLessThanOrEqual(worst, c.tolerance, "\(c.name) (\(c.description)) differs from Pillow by \(worst)")
        }
    }

    func testOrientationsAllGiveTheSameUprightPicture() throws {
        let upright = try ImageFile.read(fixture("orientation1.jpg"))
        XCTAssertGreaterThan(Int(upright.pixel(x: 1, y: 1).0), 200, "the red block marks the top-left corner")
        for tag in 2...8 {
            let image = try ImageFile.read(fixture("orientation\(tag).jpg"))
            XCTAssertEqual([image.width, image.height], [24, 16], "tag \(tag)")
            let worst = zip(image.pixels, upright.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 24, "tag \(tag): upright picture differs by \(worst) levels")
            let size = try ImageFile.size(of: fixture("orientation\(tag).jpg"))
            XCTAssertEqual([size.width, size.height], [24, 16], "header size after orientation, tag \(tag)")
        }
    }

    func testOrientedMapsPixelsAsDocumented() {
        // A 3×2 image whose pixels hold their own coordinates (red = x, green = y).
        var image = Image(width: 3, height: 2)
        for y in 0..<2 { for x in 0..<3 { let i = (y * 3 + x) * 3; image.pixels[i] = UInt8(x); image.pixels[i + 1] = UInt8(y) } }
        let sourceOf: [(tag: Int, source: (Int, Int) -> (Int, Int))] = [
            (2, { x, y in (2 - x, y) }), (3, { x, y in (2 - x, 1 - y) }), (4, { x, y in (x, 1 - y) }),
            (5, { x, y in (y, x) }), (6, { x, y in (y, 1 - x) }), (7, { x, y in (2 - y, 1 - x) }), (8, { x, y in (2 - y, x) }),
        ]
        for (tag, source) in sourceOf {
            let out = image.oriented(exif: tag)
            XCTAssertEqual([out.width, out.height], tag >= 5 ? [2, 3] : [3, 2], "tag \(tag)")
            for y in 0..<out.height {
                for x in 0..<out.width {
                    let (sx, sy) = source(x, y), p = out.pixel(x: x, y: y)
                    XCTAssertEqual([Int(p.0), Int(p.1)], [sx, sy], "tag \(tag) at (\(x), \(y))")
                }
            }
        }
        XCTAssertEqual(image.oriented(exif: 1), image)
        XCTAssertEqual(image.oriented(exif: 9), image)
    }

    func testDCTScalingPicksTheCoarsestFactorThatKeepsTheTarget() throws {
        let picture = Self.gradient(width: 400, height: 300)
        let data = try JPEG.encode(picture, quality: 90)
        let cases: [(Int?, Int, Int)] = [(nil, 1, 400), (400, 1, 400), (201, 1, 400), (200, 2, 200), (100, 4, 100),
                                         (51, 4, 100), (50, 8, 50), (10, 8, 50)]
        for (target, denom, side) in cases {
            let d = try ImageFile.decode(data: data, name: "gradient", options: DecodeOptions(minimumLongSide: target))
            XCTAssertEqual(d.scale.denom, denom, "target \(String(describing: target))")
            XCTAssertEqual(d.image.width, side, "target \(String(describing: target))")
            XCTAssertEqual(d.image.height, (300 + denom - 1) / denom)
            XCTAssertEqual([d.originalWidth, d.originalHeight], [400, 300])
        }
        // The 1/4 decode is close to a box average of the full decode (a smooth picture).
        let full = try JPEG.decode(data: data, name: "gradient").image
        let quarter = try JPEG.decode(data: data, name: "gradient", options: DecodeOptions(minimumLongSide: 100)).image
        var worst = 0
        for y in 0..<quarter.height { for x in 0..<quarter.width {
            var sum = 0
            for dy in 0..<4 { for dx in 0..<4 { sum += Int(full.pixel(x: 4 * x + dx, y: 4 * y + dy).1) } }
            worst = max(worst, abs(sum / 16 - Int(quarter.pixel(x: x, y: y).1)))
        } }
        XCTAssertLessThanOrEqual(worst, 6)
    }

    static func gradient(width: Int, height: Int) -> Image {
        var image = Image(width: width, height: height)
        for y in 0..<height { for x in 0..<width {
            let i = (y * width + x) * 3
            image.pixels[i] = UInt8(x * 255 / width); image.pixels[i + 1] = UInt8(y * 255 / height); image.pixels[i + 2] = 128
        } }
        return image
    }

    func testEncoderRoundTripsEveryFormat() throws {
        let picture = Self.gradient(width: 40, height: 24)
        for progressive in [false, true] {
            let back = try ImageFile.read(writeTemporary(try JPEG.encode(picture, quality: 98, progressive: progressive)))
            XCTAssertLessThanOrEqual(zip(back.pixels, picture.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0, 8)
        }
        let grey = picture.pixels.enumerated().filter { $0.offset % 3 == 1 }.map(\.element)
        let g = try JPEG.decode(data: JPEG.encode(samples: grey, width: 40, height: 24, format: .grey, quality: 98), name: "grey").image
        XCTAssertLessThanOrEqual(zip(g.pixels.enumerated().filter { $0.offset % 3 == 0 }.map(\.element), grey)
            .map { abs(Int($0) - Int($1)) }.max() ?? 0, 3)
        // CMYK as TurboJPEG stores it (no Adobe inversion on write): C = 255 − R, …, K = 0 is read back as RGB
        // through the inverted-CMYK rule because TurboJPEG writes an Adobe marker, so store the inverted samples.
        var cmyk: [UInt8] = []
        for i in stride(from: 0, to: picture.pixels.count, by: 3) { cmyk += [picture.pixels[i], picture.pixels[i + 1], picture.pixels[i + 2], 255] }
        let c = try JPEG.decode(data: JPEG.encode(samples: cmyk, width: 40, height: 24, format: .cmyk, quality: 98), name: "cmyk").image
        XCTAssertLessThanOrEqual(zip(c.pixels, picture.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0, 8)
    }

    func testFormatIsRecognisedByContentNotName() throws {
        let folder = try Fixtures.temporaryDirectory()
        let jpegNamedPNG = folder.appendingPathComponent("photo.png")
        try Data(contentsOf: fixture("baseline.jpg")).write(to: jpegNamedPNG)
        XCTAssertEqual(try ImageFile.decode(jpegNamedPNG).format, .jpeg)
        let pngNamedJPG = folder.appendingPathComponent("picture.jpg")
        try Data(contentsOf: Fixtures.url("imaging/rgb8.png")).write(to: pngNamedJPG)
        XCTAssertEqual(try ImageFile.decode(pngNamedJPG).format, .png)
        XCTAssertEqual(try ImageFile.read(pngNamedJPG), try PNG.read(Fixtures.url("imaging/rgb8.png")))
        XCTAssertEqual(ImageFormat.sniff([0xFF, 0xD8, 0xFF, 0xE0]), .jpeg)
        XCTAssertNil(ImageFormat.sniff([0xFF, 0xD8]))
        XCTAssertNil(ImageFormat.sniff(Array("GIF89a".utf8)))
    }

    func writeTemporary(_ bytes: [UInt8]) throws -> URL {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("x.jpg")
        try Data(bytes).write(to: url)
        return url
    }
}
