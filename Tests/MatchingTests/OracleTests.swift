import XCTest
import TestSupport
@testable import Matching

/// Every case of `Tests/Fixtures/oracles/lsa.json` (answers of `scipy.optimize.linear_sum_assignment`).
final class OracleTests: XCTestCase {
    struct OracleCase {
        var name: String
        var cost: CostMatrix
        var maximize: Bool
        var expectedTotal: Double?
        var expectedError: String?
    }

    /// The parsed cases, read once per test run.
    static let cachedCases: Result<[OracleCase], Error> = Result { try parseCases() }

    static func loadCases() throws -> [OracleCase] { try cachedCases.get() }

    private static func parseCases() throws -> [OracleCase] {
        let root = try XCTUnwrap(Fixtures.json("oracles/lsa.json") as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        return try cases.map { c in
            let rows = try XCTUnwrap(c["rows"] as? Int), cols = try XCTUnwrap(c["cols"] as? Int)
            var values = try XCTUnwrap(c["cost"] as? [Double])
            for s in try XCTUnwrap(c["special"] as? [[Any]]) {
                let i = try XCTUnwrap(s[0] as? Int), j = try XCTUnwrap(s[1] as? Int)
                let kind = try XCTUnwrap(s[2] as? String)
                values[i * cols + j] = kind == "inf" ? .infinity : kind == "-inf" ? -.infinity : .nan
            }
            let expected = try XCTUnwrap(c["expected"] as? [String: Any])
            return OracleCase(
                name: try XCTUnwrap(c["name"] as? String),
                cost: CostMatrix(rows: rows, columns: cols, values: values),
                maximize: try XCTUnwrap(c["maximize"] as? Bool),
                expectedTotal: expected["total"] as? Double,
                expectedError: expected["error"] as? String)
        }
    }

    func testEveryOracleCase() throws {
        let cases = try Self.loadCases()
        XCTAssertEqual(cases.count, 30)
        for c in cases {
            do {
                let a = try linearSumAssignment(c.cost, maximize: c.maximize)
                guard let total = c.expectedTotal else {
                    XCTFail("\(c.name): expected error \(c.expectedError ?? "?"), got total \(a.total)")
                    continue
                }
                XCTAssertTrue(isClose(a.total, total, rtol: 1e-9, atol: 1e-12),
                              "\(c.name): total \(a.total) ≠ scipy \(total)")
                assertValidAssignment(a, c.cost, maximize: c.maximize)
                XCTAssertLessThan(certificateViolation(a, c.cost, maximize: c.maximize), 1e-9, c.name)
            } catch let e as MatchingError {
                XCTAssertEqual(e.kind, c.expectedError, "\(c.name): \(e)")
            }
        }
    }

    func testOracleCasesThroughBatchAPI() throws {
        let cases = try Self.loadCases().filter { !$0.maximize }
        let results = linearSumAssignments(cases.map(\.cost))
        XCTAssertEqual(results.count, cases.count)
        for (c, r) in zip(cases, results) {
            switch r {
            case .success(let a):
                XCTAssertTrue(isClose(a.total, c.expectedTotal ?? .nan, rtol: 1e-9, atol: 1e-12), c.name)
            case .failure(let e):
                XCTAssertEqual(e.kind, c.expectedError, c.name)
            }
        }
    }
}
