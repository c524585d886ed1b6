import Foundation
import NeuralNet
import TestSupport
import XCTest

/// MultiHeadSelfAttention with geometry maps (Relation Networks' geometric bias): forward against the Double
/// reference, the bias acting as a bias (a map that favours one key moves attention to it), and backward for the
/// input and every parameter, the geometry weights included, against central finite differences.
final class AttentionGeometryTests: XCTestCase {
    private func layer(maps: Int = 2, seed: UInt64 = 5) -> MultiHeadSelfAttention {
        var generator = SeededGenerator(seed: seed)
        let attention = MultiHeadSelfAttention(name: "set.attn", width: 8, heads: 2, geometryMaps: maps,
                                               geometryInit: [0.5, -1, 2, 0.25], generator: &generator)
        var rng = AttentionTestRandom(seed: seed &+ 1)
        for p in attention.parameters where p.name.hasSuffix("bias") { p.value = rng.tensor(p.value.shape, -0.5, 0.5) }
        return attention
    }

    func testGeometryParameterIsNamedWithoutDecayAndForwardMatchesReference() {
        let attention = layer()
        XCTAssertEqual(attention.parameters.last?.name, "set.attn.geometry")
        XCTAssertEqual(attention.parameters.last?.value.shape, [2, 2])
        XCTAssertEqual(attention.parameters.last?.decays, false)
        var rng = AttentionTestRandom(seed: 9)
        let x = rng.tensor([2, 5, 8], -2, 2), maps = rng.tensor([2, 2, 5, 5], 0, 1)
        let y = attention.forward(x, geometry: maps)
        assertClose(y.data.map(Double.init), attention.reference(x, geometry: maps).data.map(Double.init),
                    rtol: 1e-4, atol: 1e-5, "with geometry")
        // Zero maps give the plain layer's output.
        let zero = Tensor(shape: [2, 2, 5, 5])
        assertClose(attention.forward(x, geometry: zero).data.map(Double.init),
                    attention.reference(x).data.map(Double.init), rtol: 1e-4, atol: 1e-5, "zero maps")
    }

    func testALargeWeightOnAMapMovesAttentionToTheMarkedKey() throws {
        var generator = SeededGenerator(seed: 3)
        let attention = MultiHeadSelfAttention(name: "a", width: 8, heads: 1, geometryMaps: 1, geometryInit: [20],
                                               generator: &generator)
        var rng = AttentionTestRandom(seed: 4)
        let x = rng.tensor([1, 4, 8])
        var maps = Tensor(shape: [1, 1, 4, 4])
        for i in 0..<4 { maps.data[i * 4 + (i + 1) % 4] = 1 }  // token i is tied to token i + 1
        _ = attention.forward(x, geometry: maps)
        let p = try XCTUnwrap(attention.lastAttention)
        for i in 0..<4 { XCTAssertGreaterThan(p.data[i * 4 + (i + 1) % 4], 0.99, "row \(i)") }
    }

    func testBackwardMatchesFiniteDifferencesForInputAndEveryParameter() {
        let attention = layer()
        var rng = AttentionTestRandom(seed: 13)
        let x = rng.tensor([2, 4, 8]), maps = rng.tensor([2, 2, 4, 4], 0, 1)
        let w = rng.tensor(x.shape)
        attention.zeroGrad()
        _ = attention.forward(x, geometry: maps)
        let dX = attention.backward(w)
        let numericX = AttentionCheck.finiteDifference(x) { AttentionCheck.weightedSum(attention.forward($0, geometry: maps), w) }
        AttentionCheck.assertGradientClose(dX.data, numericX, "dX")
        for parameter in attention.parameters where parameter.name != "set.attn.k_proj.bias" {
            let saved = parameter.value
            let numeric = AttentionCheck.finiteDifference(saved) { value in
                parameter.value = value
                return AttentionCheck.weightedSum(attention.forward(x, geometry: maps), w)
            }
            parameter.value = saved
            AttentionCheck.assertGradientClose(parameter.grad.data, numeric, parameter.name)
        }
    }
}
