import NeuralNet
import TestSupport
import XCTest

/// Random test data from a fixed seed.
struct TestData {
    var generator: SeededGenerator
    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    /// A tensor of `shape` with elements uniform in `[−scale, scale)`.
    mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        Initializer.uniform(bound: scale).tensor(shape: shape, generator: &generator)
    }
}

extension Tensor {
    /// Elements as Double.
    var doubles: [Double] { data.map(Double.init) }
    /// A Float tensor of `shape` from Double values.
    init(shape: [Int], doubles: [Double]) { self.init(shape: shape, data: doubles.map { Float($0) }) }
}

/// `Σ r·y`: the scalar whose gradient with respect to `y` is `r`.
func dot(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}

/// Asserts that a Float tensor matches Double reference values.
func assertTensorClose(
    _ t: Tensor, _ expected: [Double], rtol: Double, atol: Double, _ what: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    assertClose(t.doubles, expected, rtol: rtol, atol: atol, what, file: file, line: line)
}
