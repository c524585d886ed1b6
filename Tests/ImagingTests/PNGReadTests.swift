import Foundation
import Imaging
import TestSupport
import XCTest

/// Decoding of every PNG colour type and bit depth against the expected RGB committed beside each fixture
/// (`Tests/Fixtures/imaging/make_fixtures.py` derives the expected values from the sample arrays, not a decoder).
final class PNGReadTests: XCTestCase {
    struct Case: Decodable {
        let name: String
        let width: Int
        let height: Int
        let description: String
        let tolerance: Int
    }

    func loadCases() throws -> [Case] {
        let data = try Data(contentsOf: Fixtures.url("imaging/manifest.json"))
        return try JSONDecoder().decode([Case].self, from: data)
    }

    func testEveryColourTypeAndBitDepthDecodesToExpectedRGB() throws {
        let cases = try loadCases()
        XCTAssertEqual(cases.count, 16)
        for c in cases {
            let image = try PNG.read(Fixtures.url("imaging/\(c.name).png"))
            XCTAssertEqual(image.width, c.width, c.name)
            XCTAssertEqual(image.height, c.height, c.name)
            let expected = try [UInt8](Data(contentsOf: Fixtures.url("imaging/\(c.name).rgb")))
            XCTAssertEqual(image.pixels.count, expected.count, c.name)
            var worst = 0, worstIndex = 0
            for i in expected.indices {
                let d = abs(Int(image.pixels[i]) - Int(expected[i]))
                if d > worst { worst = d; worstIndex = i }
            }
            XCTAssertLessThanOrEqual(
                worst, c.tolerance,
                "\(c.name) (\(c.description)): byte \(worstIndex) is \(image.pixels[worstIndex]), "
                    + "expected \(expected[worstIndex])")
        }
    }

    func testReadFromMemoryMatchesReadFromFile() throws {
        for name in ["rgb8", "palette8_trns", "interlaced_grey2", "grey16"] {
            let url = Fixtures.url("imaging/\(name).png")
            let fromFile = try PNG.read(url)
            let fromMemory = try PNG.read(data: [UInt8](Data(contentsOf: url)), name: name)
            XCTAssertEqual(fromFile, fromMemory, name)
        }
    }

    func testSizeOfReadsHeaderOnly() throws {
        let size = try PNG.size(of: Fixtures.url("imaging/bad_huge_header.png"))
        XCTAssertEqual(size.width, 100_000)
        XCTAssertEqual(size.height, 100_000)
        let small = try PNG.size(of: Fixtures.url("imaging/grey1.png"))
        XCTAssertEqual(small.width, 13)
        XCTAssertEqual(small.height, 5)
    }

    func testConcurrentDecodingMatchesSerial() throws {
        // Datasets decode on several threads at once; libpng's simplified API keeps all state per call.
        let names = try loadCases().map(\.name)
        let serial = try names.map { try PNG.read(Fixtures.url("imaging/\($0).png")) }
        let results = UnsafeMutableBufferPointer<Image?>.allocate(capacity: names.count * 8)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: names.count * 8) { i in
            results[i] = try? PNG.read(Fixtures.url("imaging/\(names[i % names.count]).png"))
        }
        for i in 0..<(names.count * 8) { XCTAssertEqual(results[i], serial[i % names.count], names[i % names.count]) }
    }

    func testPixelAccessor() throws {
        let image = try PNG.read(Fixtures.url("imaging/rgb8.png"))
        let expected = try [UInt8](Data(contentsOf: Fixtures.url("imaging/rgb8.rgb")))
        let p = image.pixel(x: 4, y: 3)
        let i = (3 * 13 + 4) * 3
        XCTAssertEqual([p.0, p.1, p.2], Array(expected[i..<(i + 3)]))
    }
}
