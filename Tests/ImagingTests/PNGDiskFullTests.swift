import Foundation
import Imaging
import TestSupport
import XCTest

/// An overlay picture written on a full file system (a small tmpfs; skipped without root): a clear error, the
/// previous picture intact, no half-written temporary file.
final class PNGDiskFullTests: XCTestCase {
    func testWriteOnAFullDiskKeepsThePreviousPicture() throws {
        let fs = try Fixtures.smallFileSystem(bytes: 256 << 10)
        let url = fs.appendingPathComponent("overlay.png")
        try PNG.write(Image(width: 8, height: 8), to: url)
        let before = try Data(contentsOf: url)
        Fixtures.fill(fs)
        var noise = Image(width: 256, height: 256)
        var g = SplitMix64(seed: 3)
        for i in noise.pixels.indices { noise.pixels[i] = UInt8(truncatingIfNeeded: g.next()) }
        XCTAssertThrowsError(try PNG.write(noise, to: url)) {
            XCTAssertTrue("\($0)".contains(url.path), "\($0)")
            print("disk full, overlay: \($0)")
        }
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fs.path).filter { $0.hasSuffix(".tmp") }, [])
    }
}
