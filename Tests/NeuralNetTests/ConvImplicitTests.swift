@testable import NeuralNet
import TestSupport
import XCTest

/// The fp32 implicit-GEMM convolution (`CKernels/gemm_f32.c`: patches read in place inside the GEMM's packing,
/// AVX-512F) against the naive Double reference, finite differences and im2col + sgemm, on the network's shapes
/// and on shapes that reach the kernel's edges: strides 1 and 2, 1×1 (stride 2: not pointwise, so implicit) and
/// 3×3, widths under 16 and 20 / 40 wide rows (16-column chunks that continue on the next output row), channels
/// 3 / 16 / 32 / 64 / 128 and 136 (two A blocks), several row tiles per image and more than 3072 columns per tile
/// (two B blocks), batch > 1. Weight gradients with at most 32 patch rows and 64 output channels take the narrow
/// kernel (`CKernels/weight_grad_narrow.c`): 12, 18, 27 and 32 rows, 7 to 64 channels (blocks of 4 channels and
/// 6 rows with tails), strides 1 and 2, more than 256 columns per tile (several column blocks).
final class ConvImplicitTests: XCTestCase {
    struct Case { var cin, cout, k, s, h, w, n: Int; var bias: Bool }

    let cases = [
        Case(cin: 3, cout: 16, k: 3, s: 2, h: 17, w: 23, n: 2, bias: false),
        Case(cin: 16, cout: 32, k: 3, s: 2, h: 20, w: 21, n: 2, bias: true),
        Case(cin: 32, cout: 32, k: 3, s: 1, h: 20, w: 20, n: 3, bias: true),
        Case(cin: 5, cout: 7, k: 3, s: 1, h: 9, w: 13, n: 2, bias: true),
        Case(cin: 32, cout: 64, k: 3, s: 2, h: 16, w: 16, n: 2, bias: false),
        Case(cin: 64, cout: 64, k: 3, s: 1, h: 12, w: 40, n: 2, bias: true),
        Case(cin: 64, cout: 128, k: 3, s: 2, h: 10, w: 10, n: 2, bias: false),
        Case(cin: 128, cout: 128, k: 3, s: 1, h: 24, w: 24, n: 2, bias: true),
        Case(cin: 16, cout: 136, k: 3, s: 1, h: 7, w: 18, n: 2, bias: true),
        Case(cin: 12, cout: 24, k: 1, s: 2, h: 11, w: 15, n: 2, bias: true),
        Case(cin: 3, cout: 16, k: 3, s: 2, h: 160, w: 160, n: 2, bias: false),
        Case(cin: 2, cout: 7, k: 3, s: 1, h: 13, w: 37, n: 2, bias: true),
        Case(cin: 3, cout: 64, k: 3, s: 2, h: 33, w: 19, n: 1, bias: false),
        Case(cin: 32, cout: 10, k: 1, s: 2, h: 9, w: 8, n: 2, bias: false),
    ]

    /// A convolution of case `c` (padding `k / 2`) with uniform ±0.5 weights and bias, on the implicit path.
    func make(_ c: Case, _ g: inout SeededGenerator) throws -> Conv2D {
        try XCTSkipUnless(ConvAlgorithm.implicitAvailable, "no AVX-512F: the implicit fp32 kernel does not run here")
        let conv = uniformConv("i", cin: c.cin, cout: c.cout, k: c.k, stride: c.s, bias: c.bias, algorithm: .implicit,
                               generator: &g)
        XCTAssertTrue(ConvKernels.usesImplicitPatches(conv.geometry(for: [1, c.cin, c.h, c.w]), .implicit), "\(c)")
        return conv
    }

    /// Forward, dx, dW and db against `Reference.conv2d` / `conv2dBackward` (rtol 1e-4, atol 1e-4: fp32 sums of up
    /// to 1152 terms of magnitude ≤ 0.5 in blocks of 128).
    func testMatchesReference() throws {
        var d = TestData(seed: 41)
        for c in cases {
            let conv = try make(c, &d.generator)
            let x = d.tensor([c.n, c.cin, c.h, c.w])
            let dy = d.tensor([c.n, c.cout, (c.h + 2 * (c.k / 2) - c.k) / c.s + 1, (c.w + 2 * (c.k / 2) - c.k) / c.s + 1])
            assertConvMatchesReference(conv, x: x, dy: dy, "\(c)")
        }
    }

    /// Gradients of `L = Σ r·conv(x)` with respect to x, weight and bias against central differences of the
    /// Double reference (h = 1e-3, rtol 1e-3, atol 1e-4); a second backward doubles the parameter gradients (`+=`).
    func testGradientsMatchFiniteDifferences() throws {
        var d = TestData(seed: 42)
        let small = [Case(cin: 3, cout: 16, k: 3, s: 2, h: 9, w: 11, n: 2, bias: true),
                     Case(cin: 4, cout: 9, k: 3, s: 1, h: 6, w: 19, n: 2, bias: true),
                     Case(cin: 6, cout: 64, k: 3, s: 1, h: 5, w: 7, n: 2, bias: false),
                     Case(cin: 5, cout: 8, k: 1, s: 2, h: 7, w: 9, n: 2, bias: true)]
        for c in small {
            let conv = try make(c, &d.generator)
            let x = d.tensor([c.n, c.cin, c.h, c.w])
            let r = d.tensor([c.n, c.cout, (c.h + 2 * (c.k / 2) - c.k) / c.s + 1, (c.w + 2 * (c.k / 2) - c.k) / c.s + 1])
            assertConvGradientsMatchFiniteDifferences(conv, x: x, r: r.doubles, "\(c)")
        }
    }

    /// The implicit path agrees with im2col + sgemm on a reference shape (32 channels at 80², several row tiles,
    /// two workers), and a pointwise convolution, which needs no patch matrix, is im2col's sgemm bit for bit.
    func testAgreesWithIm2Col() throws {
        var d = TestData(seed: 43)
        for c in [Case(cin: 32, cout: 32, k: 3, s: 1, h: 80, w: 80, n: 2, bias: true),
                  Case(cin: 8, cout: 16, k: 1, s: 1, h: 9, w: 10, n: 2, bias: true)] {
            let conv = Conv2D(name: "a", inChannels: c.cin, outChannels: c.cout, kernelSize: c.k, stride: c.s,
                              initializer: .uniform(bound: 0.5), generator: &d.generator)
            try XCTSkipUnless(ConvAlgorithm.implicitAvailable, "no AVX-512F: the implicit fp32 kernel does not run here")
            let x = d.tensor([c.n, c.cin, c.h, c.w]), dy = d.tensor([c.n, c.cout, c.h, c.w])
            func run(_ algorithm: ConvAlgorithm) -> (y: Tensor, dx: Tensor, dw: Tensor) {
                conv.algorithm = algorithm
                conv.weight.grad.zero()
                let y = conv.forward(x)
                return (y, conv.backward(dy), conv.weight.grad)
            }
            let implicit = run(.implicit), explicit = run(.im2col)
            if c.k == 1 {
                XCTAssertEqual(implicit.y.data, explicit.y.data, "pointwise y")
                XCTAssertEqual(implicit.dw.data, explicit.dw.data, "pointwise dW")
            } else {
                assertTensorClose(implicit.y, explicit.y.doubles, rtol: 1e-4, atol: 1e-4, "y")
                assertTensorClose(implicit.dx, explicit.dx.doubles, rtol: 1e-4, atol: 1e-4, "dx")
                assertTensorClose(implicit.dw, explicit.dw.doubles, rtol: 1e-4, atol: 1e-3, "dW")
                XCTAssertNotEqual(implicit.y.data, explicit.y.data, "the implicit kernel did not run (same sums as sgemm)")
            }
        }
    }

    /// `preferred` is `.winograd` exactly where the CPU has AVX-512F, and a new `Conv2D` starts with it.
    func testPreferredAlgorithm() {
        XCTAssertEqual(ConvAlgorithm.preferred, ConvAlgorithm.implicitAvailable ? .winograd : .im2col)
        var g = SeededGenerator(seed: 44)
        XCTAssertEqual(Conv2D(name: "p", inChannels: 2, outChannels: 3, kernelSize: 3, generator: &g).algorithm,
                       ConvAlgorithm.preferred)
    }
}
