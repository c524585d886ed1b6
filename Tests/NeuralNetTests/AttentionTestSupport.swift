import NeuralNet
import TestSupport
import XCTest

/// Seeded test data for the attention and safetensors tests, over the package's `SeededGenerator`.
struct AttentionTestRandom {
    private var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    /// Uniform in `[lo, hi)`.
    mutating func uniform(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * generator.nextUniform()
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
        _ actual: [Float], _ expected: [Double], rtol: Double = 1e-3, atol: Double = 1e-4, _ what: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        let scale = expected.map(abs).max() ?? 0
        XCTAssertGreaterThan(scale, 0, "\(what): the expected gradient is identically zero", file: file, line: line)
        let bound = atol + rtol * scale
        for i in expected.indices where abs(Double(actual[i]) - expected[i]) > bound {
            XCTFail("\(what)[\(i)]: analytic \(actual[i]) vs numerical \(expected[i]) (bound \(bound))",
                        file: file, line: line)
            return
        }
    }
}
