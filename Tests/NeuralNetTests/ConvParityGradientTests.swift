@testable import NeuralNet
import TestSupport
import XCTest

/// The stride-2 input gradient by parity sub-convolutions (`Conv2D+ParityGradient`, `ck_conv_f32_input_grad_stride2`)
/// against the naive Double reference, central differences and col2im: kernels 1–5 and 7, paddings from 0 to past
/// `K/2` (sub-kernels with negative padding), even and odd heights and widths (parity classes of unequal size),
/// widths under 16 and over 48, channel counts that are not multiples of the micro-kernel's 8 rows or 16 lanes, a
/// 1×1 kernel (two parity classes receive no tap: zeros) and batch > 1.
final class ConvParityGradientTests: XCTestCase {
    struct Case { var cin, cout, k, p, h, w, n: Int }

    let cases = [
        Case(cin: 3, cout: 16, k: 3, p: 1, h: 17, w: 23, n: 2),
        Case(cin: 16, cout: 32, k: 3, p: 1, h: 20, w: 21, n: 2),
        Case(cin: 32, cout: 64, k: 3, p: 1, h: 16, w: 16, n: 2),
        Case(cin: 64, cout: 128, k: 3, p: 1, h: 10, w: 10, n: 2),
        Case(cin: 13, cout: 11, k: 3, p: 0, h: 15, w: 12, n: 2),
        Case(cin: 9, cout: 20, k: 3, p: 2, h: 7, w: 9, n: 1),
        Case(cin: 12, cout: 24, k: 1, p: 0, h: 11, w: 15, n: 2),
        Case(cin: 5, cout: 7, k: 2, p: 0, h: 10, w: 13, n: 2),
        Case(cin: 6, cout: 10, k: 4, p: 1, h: 12, w: 11, n: 2),
        Case(cin: 7, cout: 9, k: 5, p: 2, h: 19, w: 18, n: 2),
        Case(cin: 3, cout: 8, k: 7, p: 3, h: 21, w: 100, n: 2),
        Case(cin: 24, cout: 40, k: 3, p: 1, h: 6, w: 130, n: 1),
    ]

    /// A stride-2 convolution of case `c` with uniform ±0.5 weights on the implicit path.
    func make(_ c: Case, _ g: inout SeededGenerator) throws -> Conv2D {
        try XCTSkipUnless(ConvAlgorithm.implicitAvailable, "no AVX-512F: the parity input gradient does not run here")
        let conv = Conv2D(name: "q", inChannels: c.cin, outChannels: c.cout, kernelSize: c.k, stride: 2, padding: c.p,
                          bias: false, initializer: .uniform(bound: 0.5), generator: &g)
        conv.algorithm = .implicit
        return conv
    }

    /// dx against `Reference.conv2dBackward` on every case, with the parity split taken (rtol 1e-4, atol 1e-4).
    func testMatchesReference() throws {
        var d = TestData(seed: 51)
        for c in cases {
            let conv = try make(c, &d.generator)
            XCTAssertTrue(conv.takesParityInputGradient, "\(c)")
            let x = d.tensor([c.n, c.cin, c.h, c.w])
            let y = conv.forward(x)
            let dy = d.tensor(y.shape)
            let dx = conv.backward(dy)
            let (rdx, _, _) = Reference.conv2dBackward(x: x.doubles, xShape: x.shape, weight: conv.weight.value.doubles,
                                                      outChannels: c.cout, kernel: c.k, stride: 2, padding: c.p,
                                                      dy: dy.doubles)
            assertTensorClose(dx, rdx, rtol: 1e-4, atol: 1e-4, "dx \(c)")
        }
    }

    /// dx of `L = Σ r·conv(x)` against central differences of the Double reference (h = 1e-3, rtol 1e-3,
    /// atol 1e-4) on small cases.
    func testMatchesFiniteDifferences() throws {
        var d = TestData(seed: 52)
        for c in [Case(cin: 3, cout: 10, k: 3, p: 1, h: 9, w: 11, n: 2), Case(cin: 4, cout: 5, k: 5, p: 2, h: 8, w: 7, n: 1),
                  Case(cin: 2, cout: 6, k: 2, p: 0, h: 7, w: 6, n: 1), Case(cin: 3, cout: 4, k: 3, p: 2, h: 5, w: 6, n: 1)] {
            let conv = try make(c, &d.generator)
            let x = d.tensor([c.n, c.cin, c.h, c.w])
            let y = conv.forward(x)
            let r = d.tensor(y.shape).doubles
            let dx = conv.backward(Tensor(shape: y.shape, doubles: r))
            let w = conv.weight.value.doubles
            let numeric = numericalGradient(x.doubles, h: 1e-3) { xv in
                dot(r, Reference.conv2d(x: xv, xShape: x.shape, weight: w, outChannels: c.cout, kernel: c.k, bias: nil,
                                        stride: 2, padding: c.p))
            }
            assertTensorClose(dx, numeric, rtol: 1e-3, atol: 1e-4, "dx \(c)")
        }
    }

    /// With `useParityInputGradient` false, and in `.im2col` mode, dx is col2im's and matches the parity split; the
    /// parity split's sums differ from col2im's in order, so equal bits would mean it did not run.
    func testAgreesWithCol2Im() throws {
        var d = TestData(seed: 53)
        let c = Case(cin: 32, cout: 64, k: 3, p: 1, h: 40, w: 40, n: 2)
        let conv = try make(c, &d.generator)
        let x = d.tensor([c.n, c.cin, c.h, c.w])
        let dy = d.tensor([c.n, c.cout, 20, 20])
        func dx(parity: Bool, _ algorithm: ConvAlgorithm) -> Tensor {
            conv.useParityInputGradient = parity
            conv.algorithm = algorithm
            XCTAssertEqual(conv.takesParityInputGradient, parity && algorithm == .implicit)
            _ = conv.forward(x)
            return conv.backward(dy)
        }
        let parity = dx(parity: true, .implicit), col2im = dx(parity: false, .implicit)
        let fallback = dx(parity: true, .im2col)
        assertTensorClose(parity, col2im.doubles, rtol: 1e-4, atol: 1e-4, "parity vs col2im")
        XCTAssertEqual(col2im.data, fallback.data, "col2im dx depends only on the input-gradient path")
        XCTAssertNotEqual(parity.data, col2im.data, "the parity split did not run")
    }

    /// The parity weights are a permutation of the kernel: every weight appears once.
    func testParityWeightsPermuteTheKernel() {
        for (k, p) in [(1, 0), (2, 0), (3, 1), (3, 0), (4, 1), (5, 2), (7, 3)] {
            let cout = 3, cin = 2, count = cout * cin * k * k
            let w = (0..<count).map { Float($0 + 1) }
            let sub = Conv2D.parityWeights(w, outChannels: cout, inChannels: cin, kernel: k, padding: p)
            XCTAssertEqual(sub.sorted(), w, "k \(k) p \(p)")
        }
    }
}
