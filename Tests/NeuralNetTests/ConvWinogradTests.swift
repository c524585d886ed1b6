@testable import NeuralNet
import TestSupport
import XCTest

/// Winograd's F(4×4, 3×3) (forward and input gradient, `CKernels/winograd4_f32.c`) and F(2×2, 3×3) (weight gradient,
/// `CKernels/winograd_f32_grad.c`) for 3×3 stride-1 padding-1 convolutions (AVX-512F) against the naive Double
/// reference, central differences and the implicit GEMM, on the network's shapes and on the kernel's edges: odd heights
/// and widths (a last tile half outside), widths under 16 tiles and rows of 40 and 42 tiles (pieces of up to 16 tiles
/// over at most two tile rows: 4 and 6 tiles where rows have 2 and 3), blocks of tiles that end inside a tile row (the
/// 128-channel layers at 24² and more), channels 4 to 136, 9 and 20 (output channels not a multiple of the
/// micro-kernel's 8 rows), one image (bands of rows over the workers) and several, with and without bias.
final class ConvWinogradTests: XCTestCase {
    struct Case { var cin, cout, h, w, n: Int; var bias: Bool }

    let cases = [
        Case(cin: 32, cout: 32, h: 20, w: 20, n: 3, bias: true),
        Case(cin: 4, cout: 12, h: 9, w: 13, n: 2, bias: true),
        Case(cin: 16, cout: 36, h: 7, w: 5, n: 2, bias: false),
        Case(cin: 64, cout: 64, h: 12, w: 80, n: 2, bias: true),
        Case(cin: 128, cout: 128, h: 24, w: 24, n: 2, bias: false),
        Case(cin: 8, cout: 136, h: 11, w: 84, n: 1, bias: true),
        Case(cin: 136, cout: 8, h: 31, w: 17, n: 1, bias: true),
        Case(cin: 64, cout: 128, h: 40, w: 40, n: 1, bias: false),
        Case(cin: 64, cout: 9, h: 10, w: 12, n: 2, bias: true),
        Case(cin: 9, cout: 20, h: 9, w: 7, n: 2, bias: false),
    ]

    /// A 3×3 convolution of case `c` with uniform ±0.5 weights and bias, on the Winograd path.
    func make(_ c: Case, _ g: inout SeededGenerator) throws -> Conv2D {
        let conv = uniformConv("w", cin: c.cin, cout: c.cout, k: 3, bias: c.bias, algorithm: .winograd, generator: &g)
        let geometry = conv.geometry(for: [1, c.cin, c.h, c.w])
        try XCTSkipUnless(ConvKernels.usesWinograd(geometry, cout: c.cout, .winograd),
                          "no AVX-512F: the Winograd kernel does not run here")
        return conv
    }

    /// Forward, dx (the transposed convolution, itself on the Winograd path), dW and db against
    /// `Reference.conv2d` / `conv2dBackward` (rtol 1e-4, atol 1e-4; sums of up to 136·9 terms of magnitude ≤ 0.5).
    /// y and dx (F(4×4, 3×3), whose transforms multiply by up to 8 and 1/24) within atol 3e-4: measured errors up
    /// to 1.1e-4 on the 64- to 136-channel cases (F(2×2, 3×3) kept them within 1e-4).
    func testMatchesReference() throws {
        var d = TestData(seed: 51)
        for c in cases {
            let conv = try make(c, &d.generator)
            let x = d.tensor([c.n, c.cin, c.h, c.w])
            assertConvMatchesReference(conv, x: x, dy: d.tensor([c.n, c.cout, c.h, c.w]), "\(c)",
                                       activationTolerance: 3e-4)
        }
    }

    /// Gradients of `L = Σ r·conv(x)` against central differences of the Double reference (h = 1e-3, rtol 1e-3,
    /// atol 1e-4); a second backward doubles the parameter gradients (`+=`).
    func testGradientsMatchFiniteDifferences() throws {
        var d = TestData(seed: 52)
        for c in [Case(cin: 4, cout: 8, h: 5, w: 7, n: 2, bias: true), Case(cin: 8, cout: 4, h: 6, w: 3, n: 1, bias: true)] {
            let conv = try make(c, &d.generator)
            let x = d.tensor([c.n, c.cin, c.h, c.w])
            assertConvGradientsMatchFiniteDifferences(conv, x: x, r: d.tensor([c.n, c.cout, c.h, c.w]).doubles, "\(c)")
        }
    }

    /// On a reference shape (32 channels at 80², two images over the workers) Winograd agrees with the implicit
    /// GEMM, and differs from it in the last bits (so it ran: other sums than the GEMM's).
    func testAgreesWithImplicitGEMM() throws {
        var d = TestData(seed: 53)
        let c = Case(cin: 32, cout: 32, h: 80, w: 80, n: 2, bias: true)
        let conv = try make(c, &d.generator)
        let x = d.tensor([c.n, c.cin, c.h, c.w]), dy = d.tensor([c.n, c.cout, c.h, c.w])
        func run(_ algorithm: ConvAlgorithm) -> (y: Tensor, dx: Tensor, dw: Tensor) {
            conv.algorithm = algorithm
            conv.weight.grad.zero()
            let y = conv.forward(x)
            return (y, conv.backward(dy), conv.weight.grad)
        }
        let winograd = run(.winograd), implicit = run(.implicit)
        assertTensorClose(winograd.y, implicit.y.doubles, rtol: 1e-4, atol: 1e-4, "y")
        assertTensorClose(winograd.dx, implicit.dx.doubles, rtol: 1e-4, atol: 1e-4, "dx")
        assertTensorClose(winograd.dw, implicit.dw.doubles, rtol: 1e-4, atol: 1e-3, "dW")
        XCTAssertNotEqual(winograd.y.data, implicit.y.data, "the Winograd kernel did not run (same sums as the GEMM)")
    }

    /// Only 3×3 stride-1 padding-1 convolutions with at least 4 input and output channels, in fp32, take the Winograd
    /// path; the others fall to the implicit GEMM under `.winograd`.
    func testShapesItTakes() throws {
        try XCTSkipUnless(ConvAlgorithm.implicitAvailable, "no AVX-512F")
        func takes(cin: Int, cout: Int, k: Int, s: Int, p: Int) -> Bool {
            let g = Im2Col.Geometry(channels: cin, height: 16, width: 16, kernel: k, stride: s, padding: p)
            return ConvKernels.usesWinograd(g, cout: cout, .winograd)
        }
        XCTAssertTrue(takes(cin: 32, cout: 32, k: 3, s: 1, p: 1))
        XCTAssertFalse(takes(cin: 32, cout: 32, k: 3, s: 2, p: 1), "stride 2")
        XCTAssertFalse(takes(cin: 32, cout: 32, k: 1, s: 1, p: 0), "1×1")
        XCTAssertFalse(takes(cin: 3, cout: 16, k: 3, s: 1, p: 1), "3 input channels")
        XCTAssertTrue(takes(cin: 64, cout: 9, k: 3, s: 1, p: 1), "9 output channels (a dense head's 3 anchors × 3 classes)")
        XCTAssertFalse(takes(cin: 32, cout: 3, k: 3, s: 1, p: 1), "3 output channels")
        XCTAssertFalse(takes(cin: 32, cout: 32, k: 3, s: 1, p: 0), "padding 0")
        let g = Im2Col.Geometry(channels: 32, height: 16, width: 16, kernel: 3, stride: 1, padding: 1)
        XCTAssertFalse(ConvKernels.usesWinograd(g, cout: 32, .implicit), "only when asked for")
        XCTAssertTrue(ConvAlgorithm.winograd.usesImplicitKernel)
    }
}
