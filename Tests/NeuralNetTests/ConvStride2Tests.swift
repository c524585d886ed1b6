@testable import NeuralNet
import TestSupport
import XCTest

/// The direct stride-2 kernel (`CKernels/conv_s2_f32.c`: 3×3, stride 2, padding 1, forward, AVX-512F), which
/// `.winograd` uses for image stems (at most 3 input channels), against the naive Double reference and the implicit
/// GEMM: 1 to 3 input channels, 3 to 136 output channels (not always a multiple of the kernel's blocks of 8), odd and
/// even heights and widths (outputs whose last input column lies outside), rows of more than 48 outputs (several row
/// blocks with a tail), one image (bands of rows over the workers) and several, with and without bias.
final class ConvStride2Tests: XCTestCase {
    struct Case { var cin, cout, h, w, n: Int; var bias: Bool }

    let cases = [
        Case(cin: 3, cout: 16, h: 17, w: 23, n: 2, bias: true),
        Case(cin: 3, cout: 32, h: 20, w: 20, n: 1, bias: false),
        Case(cin: 3, cout: 12, h: 9, w: 130, n: 2, bias: true),
        Case(cin: 2, cout: 136, h: 10, w: 7, n: 1, bias: true),
        Case(cin: 1, cout: 3, h: 3, w: 2, n: 3, bias: false),
    ]

    /// A 3×3 stride-2 convolution of case `c` with uniform ±0.5 weights and bias, on the direct kernel.
    func make(_ c: Case, _ algorithm: ConvAlgorithm, _ g: inout SeededGenerator) throws -> Conv2D {
        let conv = uniformConv("s", cin: c.cin, cout: c.cout, k: 3, stride: 2, bias: c.bias, algorithm: algorithm,
                               generator: &g)
        if algorithm == .winograd {
            try XCTSkipUnless(ConvKernels.usesStride2Direct(conv.geometry(for: [1, c.cin, c.h, c.w]), .winograd),
                              "no AVX-512F: the direct stride-2 kernel does not run here")
        }
        return conv
    }

    /// Forward (the direct kernel), dx and dW (the implicit GEMM's parity and patch paths) against
    /// `Reference.conv2d` / `conv2dBackward` (rtol 1e-4, atol 1e-4).
    func testMatchesReference() throws {
        var d = TestData(seed: 61)
        for c in cases {
            let conv = try make(c, .winograd, &d.generator)
            let x = d.tensor([c.n, c.cin, c.h, c.w])
            let g = conv.geometry(for: x.shape)
            assertConvMatchesReference(conv, x: x, dy: d.tensor([c.n, c.cout, g.outHeight, g.outWidth]), "\(c)")
        }
    }

    /// The direct kernel's outputs agree with the implicit GEMM's on stem-like shapes.
    func testAgreesWithImplicitGEMM() throws {
        var d = TestData(seed: 62)
        for c in [Case(cin: 3, cout: 16, h: 64, w: 96, n: 2, bias: true), Case(cin: 3, cout: 24, h: 40, w: 41, n: 1, bias: false)] {
            let direct = try make(c, .winograd, &d.generator)
            let implicit = Conv2D(sharing: direct)
            implicit.algorithm = .implicit
            let x = d.tensor([c.n, c.cin, c.h, c.w])
            assertTensorClose(direct.forward(x), implicit.forward(x).doubles, rtol: 1e-5, atol: 1e-5, "\(c)")
        }
    }

    /// Only 3×3 stride-2 padding-1 convolutions of at most 3 input channels in fp32 under `.winograd` take the direct
    /// kernel.
    func testShapesItTakes() throws {
        try XCTSkipUnless(ConvAlgorithm.implicitAvailable, "no AVX-512F")
        func takes(k: Int, s: Int, p: Int, cin: Int = 3, _ algorithm: ConvAlgorithm = .winograd) -> Bool {
            ConvKernels.usesStride2Direct(Im2Col.Geometry(channels: cin, height: 16, width: 16, kernel: k, stride: s,
                                                          padding: p), algorithm)
        }
        XCTAssertTrue(takes(k: 3, s: 2, p: 1))
        XCTAssertFalse(takes(k: 3, s: 2, p: 1, cin: 16), "16 input channels (a downsampling layer)")
        XCTAssertFalse(takes(k: 3, s: 1, p: 1), "stride 1")
        XCTAssertFalse(takes(k: 1, s: 2, p: 0), "1×1")
        XCTAssertFalse(takes(k: 3, s: 2, p: 0), "padding 0")
        XCTAssertFalse(takes(k: 3, s: 2, p: 1, .implicit), "only under .winograd")
    }
}
