@testable import NeuralNet
import TestSupport
import XCTest

/// `Conv2D` with `Precision.current = .bf16` against the naive Double convolution, and the fp32 mode unchanged by
/// the bf16 one. The bf16 bound per output is 1e-2·Σ|terms| (each bf16 input is off by ≤ 2⁻⁹ relative, a product
/// by ≤ 2⁻⁸), the sum of absolute terms being the reference convolution of the absolute values.
final class ConvBF16Tests: XCTestCase {
    struct Case { var cin, cout, k, s, p, h, w, n: Int }

    /// Small odd shapes, a pointwise conv, and shapes with several tiles per image (rows past one patch tile).
    let cases = [
        Case(cin: 3, cout: 4, k: 3, s: 1, p: 1, h: 6, w: 5, n: 2),
        Case(cin: 3, cout: 5, k: 3, s: 2, p: 1, h: 7, w: 6, n: 2),
        Case(cin: 2, cout: 3, k: 1, s: 1, p: 0, h: 4, w: 5, n: 2),
        Case(cin: 2, cout: 2, k: 4, s: 3, p: 2, h: 8, w: 9, n: 2),
        Case(cin: 32, cout: 9, k: 3, s: 1, p: 1, h: 26, w: 24, n: 3),
        Case(cin: 6, cout: 64, k: 3, s: 1, p: 1, h: 9, w: 11, n: 2), // input gradient by transposed convolution
        Case(cin: 5, cout: 17, k: 3, s: 2, p: 1, h: 40, w: 37, n: 2),
    ]

    /// A convolution of case `c` with random weights and bias, and a random input for it.
    func convolution(_ c: Case, _ d: inout TestData) -> (Conv2D, Tensor) {
        let conv = Conv2D(name: "c", inChannels: c.cin, outChannels: c.cout, kernelSize: c.k, stride: c.s,
                          padding: c.p, initializer: .uniform(bound: 0.5), generator: &d.generator)
        conv.bias!.value = d.tensor([c.cout])
        return (conv, d.tensor([c.n, c.cin, c.h, c.w]))
    }

    func assertWithin(_ got: Tensor, _ ref: [Double], _ scale: [Double], _ label: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        for i in ref.indices where abs(Double(got.data[i]) - ref[i]) > 1e-2 * scale[i] + 1e-6 {
            XCTFail("\(label)[\(i)]: \(got.data[i]) ≠ \(ref[i]) (bound \(1e-2 * scale[i]))", file: file, line: line)
            return
        }
    }

    /// Forward, input gradient, weight and bias gradients in bf16 within the bf16 bound of the Double reference,
    /// and not equal to the fp32 result (so the bf16 kernel did run).
    func testBF16MatchesReferenceWithinRounding() throws {
        try XCTSkipUnless(Precision.bf16Available, "the CPU has no AVX512_BF16: the bf16 kernel cannot run here")
        var d = TestData(seed: 31)
        for c in cases {
            let (conv, x) = convolution(c, &d)
            let dy = d.tensor([c.n, c.cout, (c.h + 2 * c.p - c.k) / c.s + 1, (c.w + 2 * c.p - c.k) / c.s + 1])
            let (y, dxb) = Precision.with(.bf16) { () -> (Tensor, Tensor) in
                let y = conv.forward(x)
                return (y, conv.backward(dy))
            }
            let w = conv.weight.value.doubles, absW = w.map(abs), absX = x.doubles.map(abs)
            let ref = Reference.conv2d(x: x.doubles, xShape: x.shape, weight: w, outChannels: c.cout, kernel: c.k,
                                       bias: conv.bias!.value.doubles, stride: c.s, padding: c.p)
            let scale = Reference.conv2d(x: absX, xShape: x.shape, weight: absW, outChannels: c.cout, kernel: c.k,
                                         bias: nil, stride: c.s, padding: c.p)
            assertWithin(y, ref, scale, "y \(c)")
            let (rdx, rdw, rdb) = Reference.conv2dBackward(x: x.doubles, xShape: x.shape, weight: w, outChannels: c.cout,
                                                          kernel: c.k, stride: c.s, padding: c.p, dy: dy.doubles)
            let bound = Reference.conv2dBackward(x: absX, xShape: x.shape, weight: absW, outChannels: c.cout,
                                                 kernel: c.k, stride: c.s, padding: c.p, dy: dy.doubles.map(abs))
            assertWithin(dxb, rdx, bound.dx, "dx \(c)")
            assertWithin(conv.weight.grad, rdw, bound.dw, "dW \(c)")
            assertTensorClose(conv.bias!.grad, rdb, rtol: 1e-4, atol: 1e-4, "db (fp32 sums) \(c)")
            let y32 = Precision.with(.fp32) { conv.forward(x) }
            XCTAssertNotEqual(y.data, y32.data, "bf16 result equals fp32's: the bf16 kernel did not run \(c)")
        }
    }

    /// Reading the patch matrix in place (implicit im2col in the bf16 GEMM's packing) gives bit for bit what
    /// im2col followed by `GEMM.bf16gemm` gives: forward, input gradient and weight gradient.
    func testImplicitPatchesEqualExplicitIm2Col() throws {
        try XCTSkipUnless(Precision.bf16Available, "the CPU has no AVX512_BF16: the bf16 kernel cannot run here")
        var d = TestData(seed: 33)
        for c in cases {
            let (conv, x) = convolution(c, &d)
            func run(inPlace: Bool) -> (y: [Float], dx: [Float], dw: [Float], db: [Float]) {
                ConvKernels.readsPatchesInPlace = inPlace
                defer { ConvKernels.readsPatchesInPlace = true }
                conv.weight.grad = Tensor(shape: conv.weight.value.shape)
                conv.bias!.grad = Tensor(shape: [c.cout])
                return Precision.with(.bf16) {
                    let y = conv.forward(x)
                    let dx = conv.backward(Tensor(shape: y.shape, data: y.data.map { $0 * 0.5 - 0.1 }))
                    return (y.data, dx.data, conv.weight.grad.data, conv.bias!.grad.data)
                }
            }
            let implicit = run(inPlace: true), explicit = run(inPlace: false)
            XCTAssertEqual(implicit.y, explicit.y, "y \(c)")
            XCTAssertEqual(implicit.dx, explicit.dx, "dx \(c)")
            XCTAssertEqual(implicit.dw, explicit.dw, "dW \(c)")
            XCTAssertEqual(implicit.db, explicit.db, "db \(c)")
        }
    }

    /// In fp32 mode `GEMM.matmul` is OpenBLAS sgemm bit for bit, and a conv's forward and backward are bitwise the
    /// same before and after a bf16 pass (the mode leaves no state behind).
    func testFP32ModeIsBitIdentical() {
        var d = TestData(seed: 32)
        let a = d.tensor([37 * 29]).data, b = d.tensor([29 * 41]).data
        var viaMatmul = [Float](repeating: 0, count: 37 * 41), viaSgemm = viaMatmul
        Precision.with(.fp32) {
            GEMM.matmul(m: 37, n: 41, k: 29, a: a, lda: 29, b: b, ldb: 41, c: &viaMatmul, ldc: 41)
        }
        GEMM.sgemm(m: 37, n: 41, k: 29, a: a, lda: 29, b: b, ldb: 41, c: &viaSgemm, ldc: 41)
        XCTAssertEqual(viaMatmul, viaSgemm)

        let c = cases[4]
        let conv = Conv2D(name: "f", inChannels: c.cin, outChannels: c.cout, kernelSize: c.k, stride: c.s,
                          padding: c.p, initializer: .uniform(bound: 0.5), generator: &d.generator)
        let x = d.tensor([c.n, c.cin, c.h, c.w])
        func run() -> (y: [Float], dx: [Float], dw: [Float]) {
            conv.weight.grad = Tensor(shape: conv.weight.value.shape)
            let y = conv.forward(x)
            let dx = conv.backward(Tensor(shape: y.shape, data: y.data))
            return (y.data, dx.data, conv.weight.grad.data)
        }
        let before = Precision.with(.fp32, run)
        if Precision.bf16Available { _ = Precision.with(.bf16, run) }
        let after = Precision.with(.fp32, run)
        XCTAssertEqual(before.y, after.y)
        XCTAssertEqual(before.dx, after.dx)
        XCTAssertEqual(before.dw, after.dw)
    }

    /// `auto` resolves to bf16 exactly where the CPU has AVX512_BF16; `bf16` is refused (nil) where it has not.
    func testSettingResolution() {
        XCTAssertEqual(PrecisionSetting.fp32.resolved(), .fp32)
        XCTAssertEqual(PrecisionSetting.auto.resolved(), Precision.bf16Available ? .bf16 : .fp32)
        XCTAssertEqual(PrecisionSetting.bf16.resolved(), Precision.bf16Available ? .bf16 : nil)
        XCTAssertEqual(Precision.current, .fp32, "the library's default mode is fp32")
    }
}
