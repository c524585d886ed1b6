import Foundation
import Imaging
import TestSupport
import XCTest

/// Broken JPEGs: each a thrown `ImagingError` naming the file, or, for damage libjpeg-turbo recovers from, the
/// decoded pixels with its warning (`Tests/Fixtures/imaging/jpeg/bad_*.jpg`).
final class JPEGBadInputTests: XCTestCase {
    func fixture(_ name: String) -> URL { Fixtures.url("imaging/jpeg/\(name).jpg") }

    /// The error `ImageFile.decode` throws for `name`, checking its message names the file.
    func decodeError(_ name: String, file: StaticString = #filePath, line: UInt = #line) -> ImagingError? {
        let url = fixture(name)
        do {
            _ = try ImageFile.decode(url)
            XCTFail("\(name) decoded without an error", file: file, line: line)
            return nil
        } catch let error as ImagingError {
            XCTAssertTrue(error.description.hasPrefix(url.path + ": "), error.description, file: file, line: line)
            return error
        } catch {
            XCTFail("\(name): unexpected \(error)", file: file, line: line)
            return nil
        }
    }

    func testTruncatedFileIsRejectedNotFilledWithGrey() {
        guard case let .truncated(_, reason)? = decodeError("bad_truncated") else { return XCTFail("not .truncated") }
        XCTAssertTrue(reason.contains("end-of-image marker"), reason)
    }

    func testBogusHuffmanTableIsCorrupt() {
        guard case let .unreadable(_, reason)? = decodeError("bad_huffman_table") else { return XCTFail("not .unreadable") }
        XCTAssertTrue(reason.contains("Huffman"), reason)
    }

    func testEmptyFile() {
        XCTAssertEqual(decodeError("bad_empty"), .emptyFile(file: fixture("bad_empty").path))
    }

    func testTextFileNamedJPGIsRecognisedAsNeither() {
        guard let e = decodeError("bad_text"), case .unrecognized = e else { return XCTFail("not .unrecognized") }
        XCTAssertTrue(e.description.contains("looks like text"), e.description)
    }

    func testPixelBombIsRejectedFromTheHeader() {
        let e = decodeError("bad_bomb")
        XCTAssertEqual(e, .tooLarge(file: fixture("bad_bomb").path, width: 65500, height: 65500,
                                    maxPixels: PNG.defaultMaxPixels))
        XCTAssertEqual(try ImageFile.size(of: fixture("bad_bomb")).width, 65500, "the header itself is readable")
    }

    func testRecoverableScanDamageDecodesWithAWarning() throws {
        let d = try ImageFile.decode(fixture("bad_scan_data"))
        XCTAssertEqual([d.image.width, d.image.height], [64, 48])
        XCTAssertEqual(d.warnings.count, 1)
        XCTAssertTrue(d.warnings[0].hasPrefix("libjpeg-turbo: Corrupt JPEG data"), d.warnings[0])
    }

    func testEveryPrefixOfAFileFailsCleanlyOrDecodes() throws {
        // Cuts at every 97th byte, plus single-byte flips: never a crash, only thrown errors or warnings.
        let data = try [UInt8](Data(contentsOf: fixture("baseline")))
        var errors = 0
        for cut in stride(from: 0, to: data.count, by: 97) {
            do { _ = try ImageFile.decode(data: Array(data.prefix(cut)), name: "cut\(cut)") } catch is ImagingError { errors += 1 }
        }
        XCTAssertEqual(errors, (data.count + 96) / 97, "every proper prefix lacks its end-of-image marker")
        for position in stride(from: 2, to: data.count, by: 13) {
            var flipped = data
            flipped[position] ^= 0x5A
            do { _ = try ImageFile.decode(data: flipped, name: "flip\(position)") } catch is ImagingError {}
        }
    }

    /// The jpeg fuzzer's one report (`Tests/Fixtures/fuzz/jpeg/`): 764 bytes declaring a 16 × 64,792 frame
    /// (1 Mi pixels, within the limit) with EXIF orientation 7. Not a hang: 0.24 s of CPU under AddressSanitizer and
    /// coverage instrumentation (`perf stat -e task-clock`), 13.7 s of wall time at `nice -n 19` on the busy
    /// machine, past libFuzzer's wall-clock timeout of 10 s; milliseconds in the release build. It decodes to the full frame, turned, with libjpeg-turbo's
    /// warning for the missing scan data.
    func testTallFrameFromTheFuzzerDecodesWithAWarning() throws {
        let d = try ImageFile.decode(Fixtures.url("fuzz/jpeg/tall_16x64792_orientation7.jpg"))
        XCTAssertEqual(d.orientation, 7)
        XCTAssertEqual([d.image.width, d.image.height, d.originalWidth, d.originalHeight], [64792, 16, 64792, 16])
        XCTAssertEqual(d.warnings, ["libjpeg-turbo: Corrupt JPEG data: premature end of data segment"])
    }
}
