import NeuralNet
import TestSupport
import XCTest

/// SplitMix64 (Steele, Lea & Flood 2014): a small seeded generator so that every attention test sees the same data.
struct AttentionTestRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    mutating func uniform(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }

    /// A tensor of `shape` with uniform values in `[lo, hi)`.
    mutating func tensor(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in uniform(lo, hi) })
    }

    /// Uniform integer in `0..<n`.
    mutating func index(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Gradient-check helpers shared by the attention kernel tests.
enum AttentionCheck {
    /// `Σ w·y` in Double: a scalar loss whose gradient with respect to `y` is `w`.
    static func weightedSum(_ y: Tensor, _ w: Tensor) -> Double {
        zip(y.data, w.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Central differences of `loss` with respect to every element of `x` (in Float, step `h`).
    static func finiteDifference(_ x: Tensor, h: Float = 1e-2, _ loss: (Tensor) -> Double) -> [Double] {
        var g = [Double](repeating: 0, count: x.count)
        var probe = x
        for i in 0..<x.count {
            let xi = x.data[i]
            probe.data[i] = xi + h
            let plus = loss(probe)
            probe.data[i] = xi - h
            let minus = loss(probe)
            probe.data[i] = xi
            g[i] = (plus - minus) / Double((xi + h) - (xi - h))
        }
        return g
    }

    /// Asserts `actual` matches `expected` within `atol + rtol·max|expected|` (a scale-aware bound suited to Float32
    /// finite differences, whose error grows with the size of the gradient as a whole, not each entry).
    static func assertGradientClose(
        _ actual: [Float], _ expected: [Double], rtol: Double = 2e-2, atol: Double = 2e-3, _ what: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        let scale = expected.map(abs).max() ?? 0
        XCTAssertGreaterThan(scale, 0, "\(what): the expected gradient is identically zero", file: file, line: line)
        let bound = atol + rtol * scale
        for i in expected.indices where abs(Double(actual[i]) - expected[i]) > bound {
            XCTFail("\(what)[\(i)]: analytic \(actual[i]) vs numerical \(expected[i]) (bound \(bound))", file: file, line: line)
            return
        }
    }
}
