@testable import NeuralNet
import TestSupport
import XCTest

/// The direct convolution kernel (`CKernels/conv_direct.c`, AVX2 + FMA) against the naive Double reference and
/// finite differences, on shapes that exercise its edges: widths that are not a multiple of 8 or 16 (masked lanes),
/// zero padding on both sides, stride 2 (even-lane selection), 16 and 32 output channels, bias or none.
final class ConvDirectTests: XCTestCase {
    struct Case { var cin, cout, k, s, p, h, w: Int; var bias: Bool }

    let cases = [
        Case(cin: 3, cout: 16, k: 3, s: 2, p: 1, h: 9, w: 37, bias: false),
        Case(cin: 3, cout: 16, k: 3, s: 1, p: 1, h: 6, w: 5, bias: true),
        Case(cin: 5, cout: 32, k: 3, s: 1, p: 1, h: 7, w: 19, bias: true),
        Case(cin: 4, cout: 16, k: 3, s: 2, p: 1, h: 8, w: 33, bias: true),
        Case(cin: 2, cout: 16, k: 2, s: 2, p: 0, h: 6, w: 18, bias: false),
        Case(cin: 3, cout: 32, k: 3, s: 1, p: 0, h: 5, w: 40, bias: true),
        Case(cin: 2, cout: 16, k: 1, s: 2, p: 0, h: 5, w: 21, bias: true),
    ]

    func make(_ c: Case, _ g: inout SeededGenerator) throws -> Conv2D {
        let conv = Conv2D(name: "d", inChannels: c.cin, outChannels: c.cout, kernelSize: c.k, stride: c.s,
                          padding: c.p, bias: c.bias, initializer: .uniform(bound: 0.5), generator: &g)
        if let b = conv.bias { b.value = Initializer.uniform(bound: 0.5).tensor(shape: [c.cout], generator: &g) }
        conv.algorithm = .direct
        let geometry = conv.geometry(for: [1, c.cin, c.h, c.w])
        try XCTSkipUnless(ConvKernels.usesDirect(geometry, cout: c.cout, .direct), "no AVX2 + FMA: the direct kernel does not run here")
        return conv
    }

    /// Forward, dx, dW and db against `Reference.conv2d` / `conv2dBackward` (rtol 1e-4, atol 1e-4).
    func testMatchesReference() throws {
        var d = TestData(seed: 11)
        for c in cases {
            let conv = try make(c, &d.generator)
            let x = d.tensor([3, c.cin, c.h, c.w])
            let y = conv.forward(x)
            let ref = Reference.conv2d(x: x.doubles, xShape: x.shape, weight: conv.weight.value.doubles,
                                       outChannels: c.cout, kernel: c.k, bias: conv.bias?.value.doubles,
                                       stride: c.s, padding: c.p)
            assertTensorClose(y, ref, rtol: 1e-4, atol: 1e-4, "y \(c)")
            let dy = d.tensor(y.shape)
            let dx = conv.backward(dy)
            let (rdx, rdw, rdb) = Reference.conv2dBackward(
                x: x.doubles, xShape: x.shape, weight: conv.weight.value.doubles, outChannels: c.cout, kernel: c.k,
                stride: c.s, padding: c.p, dy: dy.doubles)
            assertTensorClose(dx, rdx, rtol: 1e-4, atol: 1e-4, "dx \(c)")
            assertTensorClose(conv.weight.grad, rdw, rtol: 1e-4, atol: 1e-4, "dW \(c)")
            if let b = conv.bias { assertTensorClose(b.grad, rdb, rtol: 1e-4, atol: 1e-4, "db \(c)") }
        }
    }

    /// Gradients of `L = Σ r·conv(x)` with respect to the weights and bias against central differences of the
    /// Double reference (h = 1e-3, rtol 1e-3, atol 1e-4); a second backward doubles them (`+=`).
    func testGradientsMatchFiniteDifferences() throws {
        var d = TestData(seed: 12)
        for c in cases.prefix(5) {
            let conv = try make(c, &d.generator)
            let x = d.tensor([2, c.cin, c.h, c.w])
            let y = conv.forward(x)
            let r = d.tensor(y.shape).doubles
            _ = conv.backward(Tensor(shape: y.shape, doubles: r))
            let w = conv.weight.value.doubles, b = conv.bias?.value.doubles
            func loss(_ wv: [Double], _ bv: [Double]?) -> Double {
                dot(r, Reference.conv2d(x: x.doubles, xShape: x.shape, weight: wv, outChannels: c.cout, kernel: c.k,
                                        bias: bv, stride: c.s, padding: c.p))
            }
            let dw = numericalGradient(w, h: 1e-3) { loss($0, b) }
            assertTensorClose(conv.weight.grad, dw, rtol: 1e-3, atol: 1e-4, "dW \(c)")
            if let b {
                assertTensorClose(conv.bias!.grad, numericalGradient(b, h: 1e-3) { loss(w, $0) }, rtol: 1e-3, atol: 1e-4,
                                  "db \(c)")
            }
            _ = conv.backward(Tensor(shape: y.shape, doubles: r))
            assertTensorClose(conv.weight.grad, dw.map { 2 * $0 }, rtol: 1e-3, atol: 2e-4, "dW accumulates \(c)")
        }
    }

    /// The direct path and im2col + sgemm agree on a reference-sized shape (32 channels, several row tiles).
    func testAgreesWithIm2Col() throws {
        var d = TestData(seed: 13)
        let c = Case(cin: 32, cout: 32, k: 3, s: 1, p: 1, h: 40, w: 40, bias: false)
        let conv = try make(c, &d.generator)
        let x = d.tensor([2, 32, 40, 40]), dy = d.tensor([2, 32, 40, 40])
        let y = conv.forward(x)
        _ = conv.backward(dy)
        let dw = conv.weight.grad
        conv.weight.grad.zero()
        conv.algorithm = .im2col
        let y2 = conv.forward(x)
        _ = conv.backward(dy)
        assertTensorClose(y, y2.doubles, rtol: 1e-4, atol: 1e-4, "y")
        assertTensorClose(dw, conv.weight.grad.doubles, rtol: 1e-4, atol: 1e-3, "dW")
    }
}
