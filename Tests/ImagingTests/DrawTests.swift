import Imaging
import TestSupport
import XCTest

/// Rectangles and text: exact pixels, clipping, and the font table.
final class DrawTests: XCTestCase {
    let red: (UInt8, UInt8, UInt8) = (255, 0, 0)

    func inked(_ image: Image, _ x: Int, _ y: Int) -> Bool {
        let i = (y * image.width + x) * 3
        return image.pixels[i] != 0 || image.pixels[i + 1] != 0 || image.pixels[i + 2] != 0
    }

    func testRectangleOutlineExactPixels() {
        var image = Image(width: 10, height: 8)
        image.drawRectangle(x1: 2, y1: 1, x2: 6, y2: 5, color: red)
        for y in 0..<8 {
            for x in 0..<10 {
                let onEdge = (x == 2 || x == 6) && (1...5).contains(y) || (y == 1 || y == 5) && (2...6).contains(x)
                XCTAssertEqual(inked(image, x, y), onEdge, "(\(x), \(y))")
            }
        }
    }

    func testThickRectangleGrowsInwardAndCornersMaySwap() {
        var a = Image(width: 12, height: 12), b = Image(width: 12, height: 12)
        a.drawRectangle(x1: 1, y1: 1, x2: 10, y2: 10, color: red, thickness: 3)
        b.drawRectangle(x1: 10, y1: 10, x2: 1, y2: 1, color: red, thickness: 3)
        XCTAssertEqual(a, b)
        for y in 0..<12 {
            for x in 0..<12 {
                let inBox = (1...10).contains(x) && (1...10).contains(y)
                let inHole = (4...7).contains(x) && (4...7).contains(y)
                XCTAssertEqual(inked(a, x, y), inBox && !inHole, "(\(x), \(y))")
            }
        }
    }

    func testDrawingOutsideIsClippedNeverCrashes() {
        var image = Image(width: 6, height: 5)
        image.drawRectangle(x1: -10, y1: -10, x2: 100, y2: 2, color: red, thickness: 2)
        // Only the bottom edge (rows 1 and 2) falls inside.
        for y in 0..<5 { for x in 0..<6 { XCTAssertEqual(inked(image, x, y), y == 1 || y == 2) } }
        image.drawRectangle(x1: 50, y1: 50, x2: 60, y2: 60, color: red)
        image.drawText("far away", x: -500, y: 300, color: red, background: (0, 0, 255), scale: 3)
        image.drawText("edge", x: 4, y: 3, color: red, scale: 2)
        var empty = Image(width: 0, height: 0)
        empty.drawRectangle(x1: 0, y1: 0, x2: 3, y2: 3, color: red)
        empty.drawText("x", x: 0, y: 0, color: red, background: red)
        XCTAssertEqual(empty.pixels.count, 0)
    }

    func testTextRendersGlyphPixelsAtScale() {
        var image = Image(width: 30, height: 20)
        image.drawText("T", x: 2, y: 3, color: red, scale: 2)
        // 'T': top row fully inked (5 columns × 2 = 10 px wide), then the centre column.
        for x in 2..<12 { XCTAssertTrue(inked(image, x, 3) && inked(image, x, 4)) }
        XCTAssertTrue(inked(image, 6, 10) && inked(image, 7, 16))
        XCTAssertFalse(inked(image, 2, 10))
        XCTAssertFalse(inked(image, 12, 3))
        let count = stride(from: 0, to: image.pixels.count, by: 3).filter { image.pixels[$0] == 255 }.count
        XCTAssertEqual(count, (5 + 6) * 4)  // 11 font pixels, 2×2 each
    }

    func testTextBackgroundCoversInkAreaWithMargin() {
        var image = Image(width: 40, height: 20)
        image.drawText("ab", x: 5, y: 5, color: red, background: (0, 0, 200))
        let size = BitmapFont.size(of: "ab")
        XCTAssertEqual(size.width, 11)
        XCTAssertEqual(size.height, 7)
        for y in 0..<20 {
            for x in 0..<40 {
                XCTAssertEqual(inked(image, x, y), (4...16).contains(x) && (4...12).contains(y), "(\(x), \(y))")
            }
        }
    }

    func testFontCoversPrintableASCIIWithDistinctGlyphs() {
        var seen = Set<[UInt8]>()
        for code in 32...126 {
            let glyph = BitmapFont.glyph(Character(UnicodeScalar(UInt8(code))))
            XCTAssertEqual(glyph.count, 7, "code \(code)")
            XCTAssertTrue(glyph.allSatisfy { $0 < 32 }, "code \(code)")
            XCTAssertEqual(glyph.allSatisfy { $0 == 0 }, code == 32, "code \(code) ink")
            XCTAssertTrue(seen.insert(glyph).inserted, "code \(code) duplicates another glyph")
        }
        XCTAssertEqual(BitmapFont.glyph("é"), BitmapFont.glyph("?"))
    }

    func testClassColorsCycleAndDiffer() {
        let colors = (0..<10).map { Image.classColor($0) }
        XCTAssertEqual(Set(colors.map { [$0.0, $0.1, $0.2] }).count, 10)
        XCTAssertTrue(Image.classColor(12) == Image.classColor(2))
        XCTAssertTrue(Image.classColor(-1) == Image.classColor(9))
    }
}
