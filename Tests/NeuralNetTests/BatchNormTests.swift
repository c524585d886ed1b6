import NeuralNet
import TestSupport
import XCTest

final class BatchNormTests: XCTestCase {
    func makeBN(_ c: Int, _ d: inout TestData) -> BatchNorm2D {
        let bn = BatchNorm2D(name: "m.bn", channels: c)
        bn.weight.value = d.tensor([c], scale: 1)
        bn.weight.value.data = bn.weight.value.data.map { $0 + 1.5 }
        bn.bias.value = d.tensor([c])
        return bn
    }

    /// Training forward equals the Double reference (rtol 1e-4, atol 1e-5); running statistics follow
    /// momentum 0.1 with the unbiased variance.
    func testTrainingForwardAndRunningStatistics() {
        var d = TestData(seed: 10)
        let bn = makeBN(4, &d)
        var x = d.tensor([3, 4, 5, 5], scale: 2)
        x.data = x.data.enumerated().map { $0.element + Float($0.offset % 7) * 0.3 }
        let y = bn.forward(x)
        let ref = Reference.batchNorm(x: x.doubles, xShape: x.shape, gamma: bn.weight.value.doubles, beta: bn.bias.value.doubles)
        assertTensorClose(y, ref, rtol: 1e-4, atol: 1e-5, "y")
        for c in 0..<4 {
            var vals: [Double] = []
            for n in 0..<3 { for i in 0..<25 { vals.append(Double(x.data[(n * 4 + c) * 25 + i])) } }
            let mean = vals.reduce(0, +) / 75
            let unbiased = vals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 74
            assertClose(Double(bn.runningMean.data[c]), 0.1 * mean, rtol: 1e-5, atol: 1e-6, "running mean")
            assertClose(Double(bn.runningVar.data[c]), 0.9 + 0.1 * unbiased, rtol: 1e-5, atol: 1e-6, "running var")
        }
        XCTAssertEqual(bn.buffers.map(\.0), ["m.bn.running_mean", "m.bn.running_var"])
        XCTAssertEqual(bn.parameters.map(\.decays), [false, false])
    }

    /// Training-mode gradients (through the batch statistics) against central differences of the Double
    /// reference, h = 1e-4: rtol 1e-3, atol 1e-4.
    func testTrainingGradients() {
        var d = TestData(seed: 11)
        let bn = makeBN(3, &d)
        let x = d.tensor([2, 3, 4, 3], scale: 2)
        let y = bn.forward(x)
        let r = d.tensor(y.shape).doubles
        let dx = bn.backward(Tensor(shape: y.shape, doubles: r))
        let g = bn.weight.value.doubles, b = bn.bias.value.doubles
        func loss(_ xv: [Double], _ gv: [Double], _ bv: [Double]) -> Double {
            dot(r, Reference.batchNorm(x: xv, xShape: x.shape, gamma: gv, beta: bv))
        }
        assertTensorClose(dx, numericalGradient(x.doubles, h: 1e-4) { loss($0, g, b) }, rtol: 1e-3, atol: 1e-4, "dx")
        assertTensorClose(bn.weight.grad, numericalGradient(g, h: 1e-4) { loss(x.doubles, $0, b) }, rtol: 1e-3, atol: 1e-4, "dγ")
        assertTensorClose(bn.bias.grad, numericalGradient(b, h: 1e-4) { loss(x.doubles, g, $0) }, rtol: 1e-3, atol: 1e-4, "dβ")
    }

    /// Evaluation mode uses the running statistics; its gradient is the fixed affine map's.
    func testEvaluationMode() {
        var d = TestData(seed: 12)
        let bn = makeBN(2, &d)
        bn.runningMean = Tensor(shape: [2], data: [0.5, -1])
        bn.runningVar = Tensor(shape: [2], data: [2, 0.25])
        bn.training = false
        let x = d.tensor([2, 2, 3, 3])
        let y = bn.forward(x)
        let dy = d.tensor(y.shape)
        let dx = bn.backward(dy)
        for i in 0..<x.count {
            let c = (i / 9) % 2
            let a = Double(bn.weight.value.data[c]) / (Double(bn.runningVar.data[c]) + 1e-5).squareRoot()
            let expected = (Double(x.data[i]) - Double(bn.runningMean.data[c])) * a + Double(bn.bias.value.data[c])
            assertClose(Double(y.data[i]), expected, rtol: 1e-5, atol: 1e-6)
            assertClose(Double(dx.data[i]), Double(dy.data[i]) * a, rtol: 1e-5, atol: 1e-6)
        }
        XCTAssertEqual(bn.runningMean.data, [0.5, -1], "evaluation leaves the running statistics alone")
    }

    /// A conv folded with an evaluation-mode BN gives the same output as the two in sequence (rtol 1e-4, atol 1e-5).
    func testFoldIntoConv() {
        var d = TestData(seed: 13)
        for withBias in [false, true] {
            let conv = Conv2D(name: "c", inChannels: 3, outChannels: 4, kernelSize: 3, stride: 2, bias: withBias,
                              initializer: .uniform(bound: 0.5), generator: &d.generator)
            if let b = conv.bias { b.value = d.tensor([4]) }
            let bn = makeBN(4, &d)
            bn.runningMean = d.tensor([4])
            bn.runningVar = Tensor(shape: [4], data: d.tensor([4]).data.map { $0 + 1.2 })
            bn.training = false
            let x = d.tensor([2, 3, 9, 8])
            let expected = bn.forward(conv.forward(x))
            let folded = bn.folded(into: conv)
            XCTAssertEqual(folded.parameters.map(\.name), ["c.weight", "c.bias"])
            assertTensorClose(folded.forward(x), expected.doubles, rtol: 1e-4, atol: 1e-5, "bias \(withBias)")
        }
    }
}

final class FusedBatchNormReLUTests: XCTestCase {
    /// BatchNorm2D with `fusedReLU` equals BatchNorm2D then ReLU: outputs, input gradients and γ/β gradients
    /// (rtol 1e-5, atol 1e-6), in training and in evaluation mode.
    func testFusedEqualsSequence() {
        for training in [true, false] {
            var d = TestData(seed: 14)
            let x = d.tensor([3, 4, 5, 7], scale: 2), dy = d.tensor([3, 4, 5, 7])
            let gamma = d.tensor([4]), beta = d.tensor([4], scale: 0.5)
            let fused = BatchNorm2D(name: "f", channels: 4, fusedReLU: true)
            let plain = BatchNorm2D(name: "p", channels: 4)
            let relu = ReLU()
            for bn in [fused, plain] {
                bn.weight.value = gamma; bn.bias.value = beta; bn.training = training
                bn.runningMean = Tensor(shape: [4], data: [0.1, -0.2, 0.3, 0]); bn.runningVar = Tensor(shape: [4], data: [1.5, 0.5, 2, 1])
            }
            let yf = fused.forward(x), yp = relu.forward(plain.forward(x))
            XCTAssertGreaterThan(yp.data.filter { $0 == 0 }.count, 10, "some outputs clipped")
            assertTensorClose(yf, yp.doubles, rtol: 1e-5, atol: 1e-6, "y training \(training)")
            let dxf = fused.backward(dy), dxp = plain.backward(relu.backward(dy))
            assertTensorClose(dxf, dxp.doubles, rtol: 1e-5, atol: 1e-6, "dx training \(training)")
            assertTensorClose(fused.weight.grad, plain.weight.grad.doubles, rtol: 1e-5, atol: 1e-6, "dγ")
            assertTensorClose(fused.bias.grad, plain.bias.grad.doubles, rtol: 1e-5, atol: 1e-6, "dβ")
        }
    }

    /// `forward(_:addingResidual:)` (the end of a residual block in one pass) equals BatchNorm2D, the sum and a ReLU
    /// one after the other, bit for bit: outputs, the input gradient, the residual's gradient and γ/β gradients, in
    /// training and in evaluation mode; a plain `backward` after it is refused by precondition (not tested here).
    func testResidualSumAndReLUEqualSequence() {
        for training in [true, false] {
            var d = TestData(seed: 15)
            let x = d.tensor([3, 4, 5, 7], scale: 2), r = d.tensor([3, 4, 5, 7]), dy = d.tensor([3, 4, 5, 7])
            let gamma = d.tensor([4]), beta = d.tensor([4], scale: 0.5)
            let fused = BatchNorm2D(name: "f", channels: 4), plain = BatchNorm2D(name: "p", channels: 4)
            let relu = ReLU()
            for bn in [fused, plain] {
                bn.weight.value = gamma; bn.bias.value = beta; bn.training = training
                bn.runningMean = Tensor(shape: [4], data: [0.1, -0.2, 0.3, 0]); bn.runningVar = Tensor(shape: [4], data: [1.5, 0.5, 2, 1])
            }
            var s = plain.forward(x)
            s.add(r)
            let yp = relu.forward(s), yf = fused.forward(x, addingResidual: r)
            XCTAssertGreaterThan(yp.data.filter { $0 == 0 }.count, 10, "some outputs clipped")
            XCTAssertEqual(yf.data, yp.data, "y training \(training)")
            let dsp = relu.backward(dy), dxp = plain.backward(dsp)
            let (dxf, dsf) = fused.backwardWithResidual(dy)
            XCTAssertEqual(dsf.data, dsp.data, "residual gradient training \(training)")
            XCTAssertEqual(dxf.data, dxp.data, "dx training \(training)")
            XCTAssertEqual(fused.weight.grad.data, plain.weight.grad.data, "dγ")
            XCTAssertEqual(fused.bias.grad.data, plain.bias.grad.data, "dβ")
        }
    }
}
