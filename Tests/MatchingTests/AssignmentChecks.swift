import TestSupport
import XCTest
@testable import Matching

/// Asserts that `a` is a valid assignment of `cost`: `min(rows, columns)` pairs, rows ascending, no line
/// used twice, no forbidden pair, and `total` equal to the sum of the matched costs.
func assertValidAssignment(_ a: Assignment, _ cost: CostMatrix, maximize: Bool = false,
                           file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.rowIndices.count, min(cost.rows, cost.columns), "pair count", file: file, line: line)
    XCTAssertEqual(a.rowIndices.count, a.columnIndices.count, file: file, line: line)
    XCTAssertEqual(a.rowIndices, a.rowIndices.sorted(), "rows ascending", file: file, line: line)
    XCTAssertEqual(Set(a.rowIndices).count, a.rowIndices.count, "row used twice", file: file, line: line)
    XCTAssertEqual(Set(a.columnIndices).count, a.columnIndices.count, "column used twice", file: file, line: line)
    var sum = 0.0
    for (r, c) in zip(a.rowIndices, a.columnIndices) {
        guard r >= 0, r < cost.rows, c >= 0, c < cost.columns else {
            XCTFail("pair (\(r), \(c)) out of range", file: file, line: line)
            return
        }
        let x = cost[r, c]
        XCTAssertTrue(x.isFinite, "forbidden pair (\(r), \(c)) used", file: file, line: line)
        sum += x
    }
    XCTAssertEqual(a.total, sum, accuracy: 1e-9 * max(1, abs(sum)), "total", file: file, line: line)
}

/// Checks the dual certificate of optimality of a minimisation (`sign` −1 for a maximisation):
/// `u_i + v_j ≤ c_ij` everywhere, equality on matched pairs, and on the longer side potentials `≤ 0`
/// and `0` on unmatched lines. Returns the largest violation, relative to the largest finite |c|.
func certificateViolation(_ a: Assignment, _ cost: CostMatrix, maximize: Bool = false) -> Double {
    let s = maximize ? -1.0 : 1.0
    let scale = max(1, cost.values.lazy.filter { $0.isFinite }.map { abs($0) }.max() ?? 1)
    var worst = 0.0
    for r in 0..<cost.rows {
        for c in 0..<cost.columns {
            let x = s * cost[r, c]
            guard x.isFinite else { continue }
            worst = max(worst, s * (a.rowPotentials[r] + a.columnPotentials[c]) - x)
        }
    }
    for (r, c) in zip(a.rowIndices, a.columnIndices) {
        worst = max(worst, abs(s * (a.rowPotentials[r] + a.columnPotentials[c] - cost[r, c])))
    }
    if cost.rows != cost.columns {
        let longer = cost.rows > cost.columns ? a.rowPotentials : a.columnPotentials
        let matched = Set(cost.rows > cost.columns ? a.rowIndices : a.columnIndices)
        for (k, p) in longer.enumerated() {
            worst = max(worst, s * p)
            if !matched.contains(k) { worst = max(worst, abs(p)) }
        }
    }
    return worst / scale
}

/// The optimal total by trying every injection of the shorter side into the longer one, or `nil` when
/// every injection uses a forbidden pair. For problems with `min(rows, columns) ≤ 7` and `max ≤ 8`.
func bruteForceTotal(_ cost: CostMatrix, maximize: Bool = false) -> Double? {
    let t = cost.rows <= cost.columns ? cost : cost.transposed()
    var best: Double? = nil
    var used = [Bool](repeating: false, count: t.columns)
    func visit(_ r: Int, _ acc: Double) {
        if r == t.rows {
            if let b = best, maximize ? acc <= b : acc >= b { return }
            best = acc
            return
        }
        for c in 0..<t.columns where !used[c] {
            let x = t[r, c]
            if x == (maximize ? -Double.infinity : .infinity) { continue }
            used[c] = true
            visit(r + 1, acc + x)
            used[c] = false
        }
    }
    visit(0, 0)
    return best
}
