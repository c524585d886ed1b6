import Benchmarks
import TestSupport
import XCTest

final class DataPipelineBenchmarkTests: XCTestCase {
    func testBenchmarkOnBCCDTrainImages() throws {
        let url = try Fixtures.shared("datasets/bccd/train.json")
        let r = try DataPipelineBenchmark.run(annotations: url, imageLimit: 32, batchSize: 8)
        print("data pipeline (bccd train): \(r)")
        XCTAssertEqual(r.images, 32)
        XCTAssertGreaterThan(r.batchImagesPerSecond, 0)
        XCTAssertGreaterThan(r.prefetchImagesPerSecond, 0)
        XCTAssertGreaterThan(r.cachedImagesPerSecond, 0)
    }
}
