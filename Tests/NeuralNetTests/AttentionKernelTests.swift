import NeuralNet
import TestSupport
import XCTest

/// Gather, Softmax, LayerNorm and BatchedMatMul: forward against the naive references, backward against central
/// finite differences (Float32, step 1e-2; tolerance `1e-4 + 1e-3·max|gradient|` unless stated).
final class AttentionKernelTests: XCTestCase {
    func testGatherMatchesReferenceAndScatterAddsRepeats() {
        var rng = AttentionTestRandom(seed: 1)
        let x = rng.tensor([7, 3, 2])
        let indices = [4, 0, 4, 6, 2, 4]
        let y = Gather.forward(x, indices: indices)
        XCTAssertEqual(y.shape, [6, 3, 2])
        XCTAssertEqual(y, Gather.reference(x, indices: indices))
        XCTAssertEqual(Array(y.data[6..<12]), Array(x.data[0..<6]))

        let dOut = rng.tensor(y.shape)
        var dX = Tensor(shape: x.shape, repeating: 0.5)
        var expected = dX
        Gather.backward(dOut: dOut, indices: indices, dX: &dX)
        Gather.referenceBackward(dOut: dOut, indices: indices, dX: &expected)
        XCTAssertEqual(dX, expected)
        // Row 4 was picked three times: its gradient is the sum of three rows of dOut on top of the 0.5 it held.
        for j in 0..<6 {
            let sum = 0.5 + dOut.data[j] + dOut.data[12 + j] + dOut.data[30 + j]
            XCTAssertEqual(dX.data[24 + j], sum, accuracy: 1e-6)
        }
        // Rows never picked keep what they held.
        XCTAssertEqual(Array(dX.data[6..<12]), [Float](repeating: 0.5, count: 6))
    }

    func testGatherGradientMatchesFiniteDifferences() {
        var rng = AttentionTestRandom(seed: 2)
        let x = rng.tensor([5, 4])
        let indices = [3, 1, 3, 0]
        let w = rng.tensor([4, 4])
        var dX = Tensor(shape: x.shape)
        Gather.backward(dOut: w, indices: indices, dX: &dX)
        let numeric = AttentionCheck.finiteDifference(x) {
            AttentionCheck.weightedSum(Gather.forward($0, indices: indices), w)
        }
        AttentionCheck.assertGradientClose(dX.data, numeric, "gather dX")
    }

    func testGatherCellsMatchesReferenceAndFiniteDifferences() {
        var rng = AttentionTestRandom(seed: 8)
        let x = rng.tensor([2, 3, 4, 5])  // [B, C, H, W]
        let cells = [[7, 19, 7, 0], [12, 3, 3, 18]]
        let y = Gather.cells(x, cells: cells)
        XCTAssertEqual(y.shape, [2, 4, 3])
        XCTAssertEqual(y, Gather.cellsReference(x, cells: cells))
        // Token 1 of image 1 is cell 3 = (h 0, w 3): channel c sits at x[1, c, 0, 3].
        for c in 0..<3 { XCTAssertEqual(y.data[(1 * 4 + 1) * 3 + c], x.data[(1 * 3 + c) * 20 + 3]) }

        let w = rng.tensor(y.shape)
        var dX = Tensor(shape: x.shape)
        Gather.cellsBackward(dOut: w, cells: cells, dX: &dX)
        let numeric = AttentionCheck.finiteDifference(x) {
            AttentionCheck.weightedSum(Gather.cells($0, cells: cells), w)
        }
        AttentionCheck.assertGradientClose(dX.data, numeric, "gather cells dX")
        // Cell 7 of image 0 was taken twice: both tokens' gradients land on it.
        XCTAssertEqual(dX.data[7], w.data[0] + w.data[2 * 3], accuracy: 1e-6)
    }

    func testSoftmaxRowsSumToOneAndMatchReference() {
        var rng = AttentionTestRandom(seed: 3)
        var x = rng.tensor([2, 3, 9], -4, 4)
        x.data[0] = 80  // exp(80) overflows Float; the max shift must keep the row finite
        x.data[9] = -1e30
        let y = Softmax.forward(x)
        let reference = Softmax.reference(x)
        assertClose(y.data.map(Double.init), reference.data.map(Double.init), rtol: 1e-5, atol: 1e-7)
        for r in 0..<6 {
            let row = y.data[(r * 9)..<(r * 9 + 9)]
            XCTAssertTrue(row.allSatisfy { $0.isFinite && $0 >= 0 })
            XCTAssertEqual(Double(row.reduce(0, +)), 1, accuracy: 1e-6, "row \(r)")
        }
        XCTAssertEqual(y.data[0], 1, accuracy: 1e-6)
    }

    func testSoftmaxGradientMatchesFiniteDifferences() {
        var rng = AttentionTestRandom(seed: 4)
        let x = rng.tensor([3, 6], -2, 2)
        let w = rng.tensor(x.shape)
        let y = Softmax.forward(x)
        var dX = Tensor(shape: x.shape, repeating: 0)
        Softmax.backward(dY: w, y: y, dX: &dX)
        let numeric = AttentionCheck.finiteDifference(x) { AttentionCheck.weightedSum(Softmax.forward($0), w) }
        AttentionCheck.assertGradientClose(dX.data, numeric, "softmax dX")
        // Backward accumulates.
        var twice = dX
        Softmax.backward(dY: w, y: y, dX: &twice)
        assertClose(twice.data.map(Double.init), dX.data.map { 2 * Double($0) }, rtol: 1e-6, atol: 1e-7)
    }

    func testLayerNormMatchesReferenceAndNormalises() {
        var rng = AttentionTestRandom(seed: 5)
        let norm = LayerNorm(name: "set.norm1", features: 8)
        XCTAssertEqual(norm.parameters.map(\.name), ["set.norm1.weight", "set.norm1.bias"])
        XCTAssertTrue(norm.parameters.allSatisfy { !$0.decays })
        let x = rng.tensor([2, 3, 8], -3, 5)
        let plain = norm.forward(x)
        for r in 0..<6 {
            let row = plain.data[(r * 8)..<(r * 8 + 8)].map(Double.init)
            let mean = row.reduce(0, +) / 8
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 8
            XCTAssertEqual(mean, 0, accuracy: 1e-6)
            XCTAssertEqual(variance, 1, accuracy: 1e-3)  // epsilon 1e-5 against a variance of a few units
        }
        norm.weight.value = rng.tensor([8], 0.5, 1.5)
        norm.bias.value = rng.tensor([8])
        let y = norm.forward(x)
        assertClose(y.data.map(Double.init), norm.reference(x).data.map(Double.init), rtol: 1e-5, atol: 1e-5)
    }

    func testLayerNormGradientsMatchFiniteDifferences() {
        var rng = AttentionTestRandom(seed: 6)
        let norm = LayerNorm(name: "ln", features: 6)
        norm.weight.value = rng.tensor([6], 0.5, 1.5)
        norm.bias.value = rng.tensor([6])
        let x = rng.tensor([4, 6], -2, 2)
        let w = rng.tensor(x.shape)
        _ = norm.forward(x)
        let dX = norm.backward(w)
        let numericX = AttentionCheck.finiteDifference(x) { AttentionCheck.weightedSum(norm.forward($0), w) }
        AttentionCheck.assertGradientClose(dX.data, numericX, "layernorm dX")

        for parameter in norm.parameters {
            let saved = parameter.value
            let numeric = AttentionCheck.finiteDifference(saved) { value in
                parameter.value = value
                return AttentionCheck.weightedSum(norm.forward(x), w)
            }
            parameter.value = saved
            AttentionCheck.assertGradientClose(parameter.grad.data, numeric, parameter.name)
        }
        // A second backward accumulates into the parameter gradients.
        let before = norm.weight.grad
        _ = norm.forward(x)
        _ = norm.backward(w)
        assertClose(norm.weight.grad.data.map(Double.init), before.data.map { 2 * Double($0) }, rtol: 1e-5, atol: 1e-6)
    }

    func testBatchedMatMulAllTransposesMatchReferenceAndFiniteDifferences() {
        var rng = AttentionTestRandom(seed: 7)
        let (batch, m, k, n) = (2, 3, 4, 5)
        for transA in [false, true] {
            for transB in [false, true] {
                let what = "transA \(transA) transB \(transB)"
                let a = rng.tensor(transA ? [batch, k, m] : [batch, m, k])
                let b = rng.tensor(transB ? [batch, n, k] : [batch, k, n])
                let c = BatchedMatMul.forward(a, b, transA: transA, transB: transB)
                XCTAssertEqual(c.shape, [batch, m, n])
                let reference = BatchedMatMul.reference(a, b, transA: transA, transB: transB)
                assertClose(c.data.map(Double.init), reference.data.map(Double.init), rtol: 1e-5, atol: 1e-6, what)

                let w = rng.tensor(c.shape)
                var dA = Tensor(shape: a.shape), dB = Tensor(shape: b.shape)
                BatchedMatMul.backward(dC: w, a: a, b: b, transA: transA, transB: transB, dA: &dA, dB: &dB)
                let numericA = AttentionCheck.finiteDifference(a) {
                    AttentionCheck.weightedSum(BatchedMatMul.forward($0, b, transA: transA, transB: transB), w)
                }
                let numericB = AttentionCheck.finiteDifference(b) {
                    AttentionCheck.weightedSum(BatchedMatMul.forward(a, $0, transA: transA, transB: transB), w)
                }
                AttentionCheck.assertGradientClose(dA.data, numericA, "dA \(what)")
                AttentionCheck.assertGradientClose(dB.data, numericB, "dB \(what)")
            }
        }
    }
}
