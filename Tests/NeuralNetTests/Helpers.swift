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

/// Forward, dx, dW and db of `conv` (stride and padding as constructed) on `x` and `dy` against
/// `Reference.conv2d` / `conv2dBackward` in Double (rtol 1e-4, atol 1e-4; atol `activationTolerance` for y and dx);
/// `conv`'s gradients start at zero.
func assertConvMatchesReference(_ conv: Conv2D, x: Tensor, dy: Tensor, _ label: String,
                                activationTolerance: Double = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
    let y = conv.forward(x)
    let w = conv.weight.value.doubles
    let ref = Reference.conv2d(x: x.doubles, xShape: x.shape, weight: w, outChannels: conv.outChannels,
                               kernel: conv.kernelSize, bias: conv.bias?.value.doubles, stride: conv.stride,
                               padding: conv.padding)
    assertTensorClose(y, ref, rtol: 1e-4, atol: activationTolerance, "y \(label)", file: file, line: line)
    let dx = conv.backward(dy)
    let (rdx, rdw, rdb) = Reference.conv2dBackward(x: x.doubles, xShape: x.shape, weight: w,
                                                  outChannels: conv.outChannels, kernel: conv.kernelSize,
                                                  stride: conv.stride, padding: conv.padding, dy: dy.doubles)
    assertTensorClose(dx, rdx, rtol: 1e-4, atol: activationTolerance, "dx \(label)", file: file, line: line)
    assertTensorClose(conv.weight.grad, rdw, rtol: 1e-4, atol: 1e-4, "dW \(label)", file: file, line: line)
    if let b = conv.bias { assertTensorClose(b.grad, rdb, rtol: 1e-4, atol: 1e-4, "db \(label)", file: file, line: line) }
}

/// Gradients of `L = Σ r·conv(x)` with respect to x, weight and bias against central differences of the Double
/// reference (h = 1e-3, rtol 1e-3, atol 1e-4); a second backward doubles the parameter gradients (`+=`).
func assertConvGradientsMatchFiniteDifferences(_ conv: Conv2D, x: Tensor, r: [Double], _ label: String,
                                               file: StaticString = #filePath, line: UInt = #line) {
    let y = conv.forward(x)
    let dx = conv.backward(Tensor(shape: y.shape, doubles: r))
    let w = conv.weight.value.doubles, b = conv.bias?.value.doubles
    func loss(_ xv: [Double], _ wv: [Double], _ bv: [Double]?) -> Double {
        dot(r, Reference.conv2d(x: xv, xShape: x.shape, weight: wv, outChannels: conv.outChannels,
                                kernel: conv.kernelSize, bias: bv, stride: conv.stride, padding: conv.padding))
    }
    assertTensorClose(dx, numericalGradient(x.doubles, h: 1e-3) { loss($0, w, b) }, rtol: 1e-3, atol: 1e-4,
                      "dx \(label)", file: file, line: line)
    let dw = numericalGradient(w, h: 1e-3) { loss(x.doubles, $0, b) }
    assertTensorClose(conv.weight.grad, dw, rtol: 1e-3, atol: 1e-4, "dW \(label)", file: file, line: line)
    if let b {
        assertTensorClose(conv.bias!.grad, numericalGradient(b, h: 1e-3) { loss(x.doubles, w, $0) },
                          rtol: 1e-3, atol: 1e-4, "db \(label)", file: file, line: line)
    }
    _ = conv.backward(Tensor(shape: y.shape, doubles: r))
    assertTensorClose(conv.weight.grad, dw.map { 2 * $0 }, rtol: 1e-3, atol: 2e-4, "dW accumulates \(label)",
                      file: file, line: line)
}

/// A convolution (padding `k / 2`) with weights and bias uniform in ±0.5, computed by `algorithm`.
func uniformConv(_ name: String, cin: Int, cout: Int, k: Int, stride: Int = 1, bias: Bool,
                 algorithm: ConvAlgorithm, generator g: inout SeededGenerator) -> Conv2D {
    let conv = Conv2D(name: name, inChannels: cin, outChannels: cout, kernelSize: k, stride: stride, bias: bias,
                      initializer: .uniform(bound: 0.5), generator: &g)
    if let b = conv.bias { b.value = Initializer.uniform(bound: 0.5).tensor(shape: [cout], generator: &g) }
    conv.algorithm = algorithm
    return conv
}
