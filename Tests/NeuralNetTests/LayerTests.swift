import NeuralNet
import TestSupport
import XCTest

final class LayerTests: XCTestCase {
    /// Linear forward against the reference (rtol 1e-5) and gradients against central differences of it
    /// (h = 1e-3, exact for a bilinear map up to rounding; rtol 1e-3, atol 1e-4).
    func testLinear() {
        var d = TestData(seed: 20)
        let lin = Linear(name: "head.fc", inFeatures: 5, outFeatures: 3, generator: &d.generator)
        XCTAssertEqual(lin.parameters.map(\.name), ["head.fc.weight", "head.fc.bias"])
        let x = d.tensor([4, 5])
        let y = lin.forward(x)
        let w = lin.weight.value.doubles, b = lin.bias!.value.doubles
        func ref(_ xv: [Double], _ wv: [Double], _ bv: [Double]) -> [Double] {
            Reference.linear(x: xv, n: 4, weight: wv, inFeatures: 5, outFeatures: 3, bias: bv)
        }
        assertTensorClose(y, ref(x.doubles, w, b), rtol: 1e-5, atol: 1e-6, "y")
        let r = d.tensor(y.shape).doubles
        let dx = lin.backward(Tensor(shape: y.shape, doubles: r))
        assertTensorClose(dx, numericalGradient(x.doubles, h: 1e-3) { dot(r, ref($0, w, b)) }, rtol: 1e-3, atol: 1e-4, "dx")
        assertTensorClose(lin.weight.grad, numericalGradient(w, h: 1e-3) { dot(r, ref(x.doubles, $0, b)) }, rtol: 1e-3, atol: 1e-4, "dW")
        assertTensorClose(lin.bias!.grad, numericalGradient(b, h: 1e-3) { dot(r, ref(x.doubles, w, $0)) }, rtol: 1e-3, atol: 1e-4, "db")
    }

    /// Element-wise activations: values against their formulas in Double, gradients against central
    /// differences (h = 1e-4, inputs kept ≥ 0.01 from ReLU's kink; rtol 1e-3, atol 1e-4).
    func testActivations() {
        var d = TestData(seed: 21)
        var x = d.tensor([2, 3, 4, 5], scale: 3)
        x.data = x.data.map { abs($0) < 0.01 ? 0.5 : $0 }
        let specs: [(UnaryLayer, (Double) -> Double)] = [
            (ReLU(), { max($0, 0) }),
            (LeakyReLU(slope: 0.1), { $0 > 0 ? $0 : 0.1 * $0 }),
            (Sigmoid(), { 1 / (1 + exp(-$0)) }),
        ]
        for (layer, f) in specs {
            let y = layer.forward(x)
            assertTensorClose(y, x.doubles.map(f), rtol: 1e-5, atol: 1e-6, "\(type(of: layer)) y")
            let r = d.tensor(y.shape).doubles
            let dx = layer.backward(Tensor(shape: y.shape, doubles: r))
            let num = numericalGradient(x.doubles, h: 1e-4) { dot(r, $0.map(f)) }
            assertTensorClose(dx, num, rtol: 1e-3, atol: 1e-4, "\(type(of: layer)) dx")
        }
    }

    /// Max pooling (with and without padding, overlapping windows) against the reference and its
    /// finite-difference gradient (distinct inputs, h = 1e-5; rtol 1e-3, atol 1e-4).
    func testMaxPool() {
        var d = TestData(seed: 22)
        for (k, s, p) in [(2, 2, 0), (3, 2, 1), (3, 1, 1)] {
            let pool = MaxPool2D(kernelSize: k, stride: s, padding: p)
            let x = d.tensor([2, 2, 7, 6])
            let y = pool.forward(x)
            let ref = Reference.maxPool(x: x.doubles, xShape: x.shape, kernel: k, stride: s, padding: p)
            assertTensorClose(y, ref, rtol: 0, atol: 0, "pool \(k) \(s) \(p)")
            let r = d.tensor(y.shape).doubles
            let dx = pool.backward(Tensor(shape: y.shape, doubles: r))
            let num = numericalGradient(x.doubles, h: 1e-5) {
                dot(r, Reference.maxPool(x: $0, xShape: x.shape, kernel: k, stride: s, padding: p))
            }
            assertTensorClose(dx, num, rtol: 1e-3, atol: 1e-4, "pool dx \(k) \(s) \(p)")
        }
    }

    /// Upsample, Flatten and Add: values and gradients.
    func testUpsampleFlattenAdd() {
        var d = TestData(seed: 23)
        for f in [1, 2, 3] {
            let up = Upsample(factor: f)
            let x = d.tensor([2, 3, 4, 5])
            let y = up.forward(x)
            assertTensorClose(y, Reference.upsample(x: x.doubles, xShape: x.shape, factor: f), rtol: 0, atol: 0, "up \(f)")
            let r = d.tensor(y.shape).doubles
            let dx = up.backward(Tensor(shape: y.shape, doubles: r))
            let num = numericalGradient(x.doubles, h: 1e-3) { dot(r, Reference.upsample(x: $0, xShape: x.shape, factor: f)) }
            assertTensorClose(dx, num, rtol: 1e-4, atol: 1e-5, "up dx \(f)")
        }
        let flat = Flatten()
        let x = d.tensor([2, 3, 4, 5])
        let y = flat.forward(x)
        XCTAssertEqual(y.shape, [2, 60])
        XCTAssertEqual(y.data, x.data)
        XCTAssertEqual(flat.backward(y).shape, [2, 3, 4, 5])
        let add = Add()
        let a = d.tensor([3, 4]), b = d.tensor([3, 4])
        let s = add.forward(a, b)
        for i in 0..<12 { XCTAssertEqual(s.data[i], a.data[i] + b.data[i]) }
        let (da, db) = add.backward(b)
        XCTAssertEqual(da, b); XCTAssertEqual(db, b)
    }
}


final class EmptyTensorTests: XCTestCase {
    /// Element-wise layers, BatchNorm in evaluation mode and Add accept an empty batch.
    func testEmptyBatch() {
        let x = Tensor(shape: [0, 3, 4, 4])
        XCTAssertEqual(ReLU().forward(x).shape, [0, 3, 4, 4])
        XCTAssertEqual(Sigmoid().forward(x).count, 0)
        XCTAssertEqual(Add().forward(x, x).shape, [0, 3, 4, 4])
        let bn = BatchNorm2D(name: "bn", channels: 3)
        bn.training = false
        XCTAssertEqual(bn.forward(x).shape, [0, 3, 4, 4])
        var g = SeededGenerator(seed: 1)
        let conv = Conv2D(name: "c", inChannels: 3, outChannels: 2, kernelSize: 3, generator: &g)
        XCTAssertEqual(conv.forward(x).shape, [0, 2, 4, 4])
    }
}
