import XCTest

/// Whether `actual` is within `atol + rtol·|expected|` of `expected` (numpy's `isclose` rule).
/// Two non-finite values compare equal when they are the same value (both `+inf`, both `nan`, …).
public func isClose(_ actual: Double, _ expected: Double, rtol: Double = 1e-6, atol: Double = 1e-12) -> Bool {
    if !expected.isFinite || !actual.isFinite {
        return (actual.isNaN && expected.isNaN) || actual == expected
    }
    return abs(actual - expected) <= atol + rtol * abs(expected)
}

/// Asserts `isClose` element-wise, reporting the first offending index and both values.
public func assertClose(
    _ actual: [Double], _ expected: [Double], rtol: Double = 1e-6, atol: Double = 1e-12,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.count == expected.count else {
        XCTFail("count \(actual.count) ≠ expected \(expected.count) \(message())", file: file, line: line)
        return
    }
    for i in actual.indices where !isClose(actual[i], expected[i], rtol: rtol, atol: atol) {
        XCTFail("[\(i)]: \(actual[i]) ≠ expected \(expected[i]) (rtol \(rtol), atol \(atol)) \(message())",
                file: file, line: line)
        return
    }
}

/// Asserts `isClose` on one value.
public func assertClose(
    _ actual: Double, _ expected: Double, rtol: Double = 1e-6, atol: Double = 1e-12,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    assertClose([actual], [expected], rtol: rtol, atol: atol, message(), file: file, line: line)
}

/// Central finite-difference gradient of `f` at `x`: `(f(x + h·e_i) − f(x − h·e_i)) / 2h` for every i.
public func numericalGradient(_ x: [Double], h: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
    var g = [Double](repeating: 0, count: x.count)
    var xp = x
    for i in x.indices {
        let xi = x[i]
        xp[i] = xi + h
        let fp = f(xp)
        xp[i] = xi - h
        let fm = f(xp)
        xp[i] = xi
        g[i] = (fp - fm) / (2 * h)
    }
    return g
}
