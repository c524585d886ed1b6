import Imaging
import TestSupport
import XCTest

/// Flips, crops and padding.
final class GeometryTests: XCTestCase {
    func pixel(_ image: Image, _ x: Int, _ y: Int) -> [UInt8] {
        Array(image.pixels[((y * image.width + x) * 3)..<((y * image.width + x) * 3 + 3)])
    }

    func testHorizontalFlipMirrorsColumnsAndIsAnInvolution() {
        let image = PNGWriteAndErrorTests.pattern(width: 7, height: 4)
        let flipped = image.flippedHorizontally()
        for y in 0..<4 { for x in 0..<7 { XCTAssertEqual(pixel(flipped, x, y), pixel(image, 6 - x, y)) } }
        XCTAssertEqual(flipped.flippedHorizontally(), image)
        XCTAssertNotEqual(flipped, image)
    }

    func testVerticalFlipMirrorsRows() {
        let image = PNGWriteAndErrorTests.pattern(width: 5, height: 3)
        let flipped = image.flippedVertically()
        for y in 0..<3 { for x in 0..<5 { XCTAssertEqual(pixel(flipped, x, y), pixel(image, x, 2 - y)) } }
        XCTAssertEqual(flipped.flippedVertically(), image)
    }

    func testCropInsideCopiesTheRegion() {
        let image = PNGWriteAndErrorTests.pattern(width: 10, height: 8)
        let crop = image.cropped(x: 3, y: 2, width: 4, height: 5)
        XCTAssertEqual(crop.width, 4)
        XCTAssertEqual(crop.height, 5)
        for y in 0..<5 { for x in 0..<4 { XCTAssertEqual(pixel(crop, x, y), pixel(image, x + 3, y + 2)) } }
    }

    func testCropPastTheEdgesFillsOutside() {
        let image = PNGWriteAndErrorTests.pattern(width: 6, height: 5)
        let fill: (UInt8, UInt8, UInt8) = (1, 2, 3)
        let crop = image.cropped(x: -2, y: 3, width: 10, height: 4, fill: fill)
        for y in 0..<4 {
            for x in 0..<10 {
                let sx = x - 2, sy = y + 3
                let inside = sx >= 0 && sx < 6 && sy < 5
                XCTAssertEqual(pixel(crop, x, y), inside ? pixel(image, sx, sy) : [1, 2, 3], "(\(x), \(y))")
            }
        }
        // Wholly outside: all fill. Empty: no pixels.
        XCTAssertEqual(image.cropped(x: 50, y: 50, width: 2, height: 2, fill: fill),
                       Image(width: 2, height: 2, fill: fill))
        XCTAssertEqual(image.cropped(x: 0, y: 0, width: 0, height: 3).pixels.count, 0)
    }

    func testPadKeepsTopLeftAndFillsRightAndBottom() {
        let image = PNGWriteAndErrorTests.pattern(width: 4, height: 3)
        let padded = image.padded(toWidth: 6, height: 5, fill: (9, 9, 9))
        XCTAssertEqual(padded.width, 6)
        XCTAssertEqual(padded.height, 5)
        for y in 0..<5 {
            for x in 0..<6 {
                XCTAssertEqual(pixel(padded, x, y), x < 4 && y < 3 ? pixel(image, x, y) : [9, 9, 9])
            }
        }
        XCTAssertEqual(image.padded(toWidth: 4, height: 3), image)
    }
}
