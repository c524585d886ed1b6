import NeuralNet
import TestSupport
import XCTest

final class ConvTests: XCTestCase {
    struct Case { var cin, cout, k, s, p, h, w: Int; var bias: Bool }

    let cases = [
        Case(cin: 3, cout: 4, k: 3, s: 1, p: 1, h: 6, w: 5, bias: true),
        Case(cin: 3, cout: 5, k: 3, s: 2, p: 1, h: 7, w: 6, bias: false),
        Case(cin: 2, cout: 3, k: 1, s: 1, p: 0, h: 4, w: 5, bias: true),
        Case(cin: 2, cout: 3, k: 5, s: 1, p: 0, h: 6, w: 7, bias: true),
        Case(cin: 2, cout: 2, k: 4, s: 3, p: 2, h: 8, w: 9, bias: true),
        Case(cin: 2, cout: 3, k: 1, s: 2, p: 0, h: 5, w: 5, bias: false),
    ]

    func make(_ c: Case, _ g: inout SeededGenerator) -> Conv2D {
        let conv = Conv2D(name: "m.conv", inChannels: c.cin, outChannels: c.cout, kernelSize: c.k, stride: c.s,
                          padding: c.p, bias: c.bias, initializer: .uniform(bound: 0.5), generator: &g)
        if let b = conv.bias { b.value = Initializer.uniform(bound: 0.5).tensor(shape: [c.cout], generator: &g) }
        return conv
    }

    /// Forward equals the naive Double convolution (rtol 1e-4, atol 1e-5).
    func testForwardMatchesReference() {
        var d = TestData(seed: 2)
        for c in cases {
            let conv = make(c, &d.generator)
            let x = d.tensor([2, c.cin, c.h, c.w])
            let y = conv.forward(x)
            let ref = Reference.conv2d(x: x.doubles, xShape: x.shape, weight: conv.weight.value.doubles,
                                       outChannels: c.cout, kernel: c.k, bias: conv.bias?.value.doubles,
                                       stride: c.s, padding: c.p)
            XCTAssertEqual(y.shape, [2, c.cout, (c.h + 2 * c.p - c.k) / c.s + 1, (c.w + 2 * c.p - c.k) / c.s + 1])
            assertTensorClose(y, ref, rtol: 1e-4, atol: 1e-5, "\(c)")
        }
    }

    /// Gradients of `L = Σ r·conv(x)` with respect to x, weight and bias against central differences of the
    /// Double reference (h = 1e-3; the reference is linear in each argument so the difference is exact up to
    /// rounding). Tolerance: rtol 1e-3, atol 1e-4. A second backward doubles the parameter gradients (`+=`).
    func testGradientsMatchFiniteDifferences() {
        var d = TestData(seed: 3)
        for c in cases {
            let conv = make(c, &d.generator)
            let x = d.tensor([2, c.cin, c.h, c.w])
            let y = conv.forward(x)
            let r = d.tensor(y.shape).doubles
            let dx = conv.backward(Tensor(shape: y.shape, doubles: r))
            let w = conv.weight.value.doubles, b = conv.bias?.value.doubles
            func loss(_ xv: [Double], _ wv: [Double], _ bv: [Double]?) -> Double {
                dot(r, Reference.conv2d(x: xv, xShape: x.shape, weight: wv, outChannels: c.cout, kernel: c.k,
                                        bias: bv, stride: c.s, padding: c.p))
            }
            assertTensorClose(dx, numericalGradient(x.doubles, h: 1e-3) { loss($0, w, b) }, rtol: 1e-3, atol: 1e-4, "dx \(c)")
            let dw = numericalGradient(w, h: 1e-3) { loss(x.doubles, $0, b) }
            assertTensorClose(conv.weight.grad, dw, rtol: 1e-3, atol: 1e-4, "dW \(c)")
            if let b {
                let db = numericalGradient(b, h: 1e-3) { loss(x.doubles, w, $0) }
                assertTensorClose(conv.bias!.grad, db, rtol: 1e-3, atol: 1e-4, "db \(c)")
            }
            _ = conv.backward(Tensor(shape: y.shape, doubles: r))
            assertTensorClose(conv.weight.grad, dw.map { 2 * $0 }, rtol: 1e-3, atol: 2e-4, "dW accumulates \(c)")
        }
    }

    /// Shapes large enough for several row tiles per image and several images per worker: forward and all
    /// gradients against the direct-loop Double reference (rtol 1e-3, atol 1e-3 on sums of ~10⁴ terms).
    func testTiledShapesMatchReference() {
        var d = TestData(seed: 6)
        for (k, s, p) in [(3, 1, 1), (3, 2, 1), (1, 1, 0)] {
            let conv = Conv2D(name: "t", inChannels: 32, outChannels: 5, kernelSize: k, stride: s, padding: p,
                              initializer: .uniform(bound: 0.2), generator: &d.generator)
            conv.bias!.value = d.tensor([5])
            let x = d.tensor([5, 32, 26, 24])
            let y = conv.forward(x)
            let ref = Reference.conv2d(x: x.doubles, xShape: x.shape, weight: conv.weight.value.doubles, outChannels: 5,
                                       kernel: k, bias: conv.bias!.value.doubles, stride: s, padding: p)
            assertTensorClose(y, ref, rtol: 1e-3, atol: 1e-4, "y \(k) \(s)")
            let dy = d.tensor(y.shape)
            let dx = conv.backward(dy)
            let (rdx, rdw, rdb) = Reference.conv2dBackward(x: x.doubles, xShape: x.shape, weight: conv.weight.value.doubles,
                                                          outChannels: 5, kernel: k, stride: s, padding: p, dy: dy.doubles)
            assertTensorClose(dx, rdx, rtol: 1e-3, atol: 1e-4, "dx \(k) \(s)")
            assertTensorClose(conv.weight.grad, rdw, rtol: 1e-3, atol: 1e-3, "dW \(k) \(s)")
            assertTensorClose(conv.bias!.grad, rdb, rtol: 1e-3, atol: 1e-3, "db \(k) \(s)")
        }
    }

    /// At stride 1 the transposed-convolution input gradient equals the col2im one (rtol 1e-4, atol 1e-5).
    func testTransposedConvolutionMatchesCol2Im() {
        var d = TestData(seed: 7)
        for (k, p) in [(3, 1), (5, 2), (3, 0), (4, 1)] {
            let conv = Conv2D(name: "t", inChannels: 6, outChannels: 5, kernelSize: k, padding: p,
                              initializer: .uniform(bound: 0.3), generator: &d.generator)
            let x = d.tensor([3, 6, 11, 9])
            let y = conv.forward(x)
            let dy = d.tensor(y.shape)
            conv.useTransposedConvolution = true
            let a = conv.backward(dy)
            conv.useTransposedConvolution = false
            let b = conv.backward(dy)
            assertTensorClose(a, b.doubles, rtol: 1e-4, atol: 1e-5, "k \(k) p \(p)")
        }
    }

    /// Without input gradient the parameter gradients are unchanged and dx is zero.
    func testNoInputGradient() {
        var d = TestData(seed: 4)
        let conv = make(cases[1], &d.generator)
        conv.computesInputGradient = false
        let x = d.tensor([2, 3, 7, 6])
        let y = conv.forward(x)
        let dx = conv.backward(d.tensor(y.shape))
        XCTAssertEqual(dx.maxAbs(), 0)
        XCTAssertGreaterThan(conv.weight.grad.maxAbs(), 0)
    }

    /// Parameter names follow the dotted prefix.
    func testParameterNames() {
        var g = SeededGenerator(seed: 5)
        let conv = Conv2D(name: "backbone.stage2.block.conv1", inChannels: 2, outChannels: 3, kernelSize: 3, generator: &g)
        XCTAssertEqual(conv.parameters.map(\.name), ["backbone.stage2.block.conv1.weight", "backbone.stage2.block.conv1.bias"])
        XCTAssertEqual(conv.parameters.map(\.decays), [true, false])
    }
}
