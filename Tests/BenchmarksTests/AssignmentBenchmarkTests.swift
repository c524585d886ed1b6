import Benchmarks
import Matching
import TestSupport
import XCTest

final class AssignmentBenchmarkTests: XCTestCase {
    func testBenchmarkTimesAndReportsTheTotal() throws {
        let m = try CostMatrix.read(path: Fixtures.url("matching/cost_3x3.json").path)
        let t = try AssignmentBenchmark.time(m, budgetSeconds: 0.01)
        XCTAssertEqual(t.total, 5)
        XCTAssertGreaterThan(t.medianSeconds, 0)
        XCTAssertGreaterThanOrEqual(t.blocks, 3)
    }
}
