import Benchmarks
import Foundation
import Imaging
import TestSupport
import XCTest

/// Runs the input-pipeline benchmark on a few BCCD images (skipped without `../shared`), printing images/s.
final class ImagingBenchmarkTests: XCTestCase {
    func testBenchmarkOnBCCDImages() throws {
        let folder = try Fixtures.shared("datasets/bccd/train/images")
        let result = try ImagingBenchmark.run(folder: folder, limit: 40, width: 320, height: 320)
        print(result)
        XCTAssertEqual(result.images, 40)
        XCTAssertGreaterThan(result.megapixelsPerImage, 0)
        XCTAssertTrue(result.pipelinePerSecond.isFinite && result.pipelinePerSecond > 0)
    }

    func testBenchmarkReportsBrokenFiles() {
        // bad_huge_header.png sorts first in the fixture folder and must be reported, not decoded.
        XCTAssertThrowsError(try ImagingBenchmark.run(folder: Fixtures.url("imaging"), limit: 3, width: 8, height: 8)) {
            guard case ImagingError.tooLarge = $0 else { return XCTFail("got \($0)") }
        }
    }
}
