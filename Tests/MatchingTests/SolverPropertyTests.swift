import XCTest
import TestSupport
@testable import Matching

/// The solver against a brute-force oracle, its dual certificate, batching, empty and invalid inputs.
final class SolverPropertyTests: XCTestCase {
    private func randomMatrix(_ rows: Int, _ cols: Int, _ g: inout SplitMix64,
                              ties: Bool = false, forbiddenFraction: Double = 0) -> CostMatrix {
        let values = (0..<(rows * cols)).map { _ -> Double in
            if forbiddenFraction > 0, Double.random(in: 0..<1, using: &g) < forbiddenFraction { return .infinity }
            return ties ? Double(Int.random(in: 0...3, using: &g)) : Double.random(in: -1...1, using: &g)
        }
        return CostMatrix(rows: rows, columns: cols, values: values)
    }

    func testAgainstBruteForceOnSmallMatrices() throws {
        var g = SplitMix64(seed: 7)
        var infeasibleSeen = 0
        for trial in 0..<600 {
            let rows = Int.random(in: 1...7, using: &g), cols = Int.random(in: 1...7, using: &g)
            let ties = trial % 3 == 1
            let forbidden = trial % 4 == 3 ? 0.45 : 0
            let maximize = trial % 5 == 4
            var cost = randomMatrix(rows, cols, &g, ties: ties, forbiddenFraction: forbidden)
            if maximize { cost.values = cost.values.map { $0 == .infinity ? -.infinity : $0 } }
            let label = "trial \(trial) \(rows)×\(cols) ties \(ties) maximize \(maximize)"
            let expected = bruteForceTotal(cost, maximize: maximize)
            do {
                let a = try linearSumAssignment(cost, maximize: maximize)
                let best = try XCTUnwrap(expected, "\(label): solver found \(a.total) but no assignment exists")
                XCTAssertEqual(a.total, best, accuracy: 1e-12 * max(1, abs(best)), label)
                assertValidAssignment(a, cost, maximize: maximize)
                XCTAssertLessThan(certificateViolation(a, cost, maximize: maximize), 1e-12, label)
            } catch MatchingError.infeasible {
                XCTAssertNil(expected, "\(label): reported infeasible")
                infeasibleSeen += 1
            }
        }
        XCTAssertGreaterThan(infeasibleSeen, 5, "the forbidden-pair trials should include infeasible ones")
    }

    func testCertificateOnLargeRandomMatrices() throws {
        var g = SplitMix64(seed: 11)
        // 600 × 600 takes the row-reduction start; 700 × 120 is transposed into scratch, 400 × 120 read strided.
        let shapes = [(300, 300), (120, 400), (400, 120), (250, 250), (200, 201), (600, 600), (700, 120)]
        for (k, (r, c)) in shapes.enumerated() {
            let cost = randomMatrix(r, c, &g, ties: k == 3, forbiddenFraction: k == 4 ? 0.3 : 0)
            let a = try linearSumAssignment(cost)
            assertValidAssignment(a, cost)
            XCTAssertLessThan(certificateViolation(a, cost), 1e-10, "\(r)×\(c)")
            let m = try linearSumAssignment(cost.values.contains(.infinity)
                ? CostMatrix(rows: r, columns: c, values: cost.values.map { $0 == .infinity ? -.infinity : $0 })
                : cost, maximize: true)
            XCTAssertLessThan(certificateViolation(m, cost.values.contains(.infinity)
                ? CostMatrix(rows: r, columns: c, values: cost.values.map { $0 == .infinity ? -.infinity : $0 })
                : cost, maximize: true), 1e-10, "maximize \(r)×\(c)")
        }
    }

    func testBatchEqualsSingle() throws {
        var g = SplitMix64(seed: 3)
        let problems = (0..<40).map { k in
            randomMatrix(Int.random(in: 0...60, using: &g), Int.random(in: 0...12, using: &g), &g, ties: k % 2 == 0)
        }
        let batch = linearSumAssignments(problems)
        for (p, r) in zip(problems, batch) {
            XCTAssertEqual(try r.get(), try linearSumAssignment(p))
        }
        let big = (0..<6).map { _ in randomMatrix(150, 150, &g) }
        for (p, r) in zip(big, linearSumAssignments(big, maximize: true)) {
            XCTAssertEqual(try r.get(), try linearSumAssignment(p, maximize: true))
        }
        XCTAssertTrue(linearSumAssignments([]).isEmpty)
    }

    func testMatchedColumnsListsEveryRow() throws {
        let a = try linearSumAssignment(try CostMatrix([[5, 1], [1, 5], [9, 9]]))
        XCTAssertEqual(a.matchedColumns(rowCount: 3), [1, 0, nil])
    }

    func testEmptyInputs() throws {
        for (r, c) in [(0, 0), (0, 4), (3, 0)] {
            let a = try linearSumAssignment(CostMatrix(rows: r, columns: c, values: []))
            XCTAssertEqual(a.count, 0)
            XCTAssertEqual(a.total, 0)
            XCTAssertEqual(a.rowPotentials.count, r)
            XCTAssertEqual(a.columnPotentials.count, c)
        }
        XCTAssertEqual(try CostMatrix([]).rows, 0)
    }

    func testInvalidEntriesAreRejectedWithTheirPosition() {
        var cost = CostMatrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
        cost[1, 2] = .nan
        XCTAssertThrowsError(try linearSumAssignment(cost)) { e in
            guard case MatchingError.invalidEntry(1, 2, _) = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("[1, 2]"))
        }
        cost[1, 2] = -.infinity
        XCTAssertThrowsError(try linearSumAssignment(cost)) { XCTAssertEqual(($0 as? MatchingError)?.kind, "invalid") }
        XCTAssertEqual((try? linearSumAssignment(cost, maximize: true))?.total, 3 + 5)
        cost[1, 2] = .infinity
        XCTAssertThrowsError(try linearSumAssignment(cost, maximize: true))
        XCTAssertThrowsError(try CostMatrix([[1, 2], [3]]))
    }

    func testInvalidEntriesAreFoundInEveryShapeAndOutrankInfeasibility() {
        var g = SplitMix64(seed: 5)
        for (r, c) in [(1, 1), (3, 7), (7, 3), (6, 6), (60, 9), (600, 600), (300, 230)] {
            for bad in [Double.nan, -.infinity] {
                var cost = randomMatrix(r, c, &g)
                let k = Int.random(in: 0..<(r * c), using: &g)
                cost.values[k] = bad
                XCTAssertThrowsError(try linearSumAssignment(cost), "\(r)×\(c)") { e in
                    guard case MatchingError.invalidEntry(let row, let column, _) = e else { return XCTFail("\(e)") }
                    XCTAssertEqual(row * c + column, k)
                }
            }
        }
        // Row 0 is all forbidden (infeasible) and a nan sits in the last row: the nan is reported, as scipy does.
        var cost = randomMatrix(4, 6, &g)
        for j in 0..<6 { cost[0, j] = .infinity }
        cost[3, 5] = .nan
        XCTAssertThrowsError(try linearSumAssignment(cost)) { XCTAssertEqual(($0 as? MatchingError)?.kind, "invalid") }
    }

    func testInfeasibleNamesTheLineInTheCallersOrientation() {
        let inf = Double.infinity
        let tall = try! CostMatrix([[1, inf], [2, inf], [3, inf]])
        XCTAssertThrowsError(try linearSumAssignment(tall)) { e in
            guard case MatchingError.infeasible(_, let isRow) = e else { return XCTFail("\(e)") }
            XCTAssertFalse(isRow)
        }
        let square = try! CostMatrix([[inf, inf], [1, 2]])
        XCTAssertThrowsError(try linearSumAssignment(square)) { XCTAssertEqual(($0 as? MatchingError)?.kind, "infeasible") }
    }

    func testFloatEntryPointAndKnownAnswer() throws {
        // scipy's documentation example: optimal total 5 with rows 0,1,2 → columns 1,0,2.
        let a = try linearSumAssignment(rows: 3, columns: 3, floats: [4, 1, 3, 2, 0, 5, 3, 2, 2])
        XCTAssertEqual(a.columnIndices, [1, 0, 2])
        XCTAssertEqual(a.total, 5)
    }
}
