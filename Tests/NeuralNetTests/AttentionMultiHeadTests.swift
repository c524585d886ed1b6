import Foundation
import NeuralNet
import TestSupport
import XCTest

/// MultiHeadSelfAttention: initialisation, forward against the Double reference, structural properties, and the
/// full backward (input and all eight parameters) against central finite differences (Float32, step 1e-2,
/// tolerance `1e-4 + 1e-3·max|gradient|`).
final class AttentionMultiHeadTests: XCTestCase {
    /// A layer with non-zero biases, so that the bias paths are exercised.
    private func layer(width: Int = 8, heads: Int = 2, seed: UInt64 = 21) -> MultiHeadSelfAttention {
        var generator = SeededGenerator(seed: seed)
        let attention = MultiHeadSelfAttention(name: "set.attn", width: width, heads: heads, generator: &generator)
        var rng = AttentionTestRandom(seed: seed &+ 1)
        for p in attention.parameters where p.name.hasSuffix("bias") { p.value = rng.tensor(p.value.shape, -0.5, 0.5) }
        return attention
    }

    func testParametersAreNamedAndXavierInitialisedFromTheGenerator() {
        let width = 32
        var generator = SeededGenerator(seed: 7)
        let attention = MultiHeadSelfAttention(name: "set.attn", width: width, heads: 4, generator: &generator)
        XCTAssertEqual(attention.parameters.map(\.name), [
            "set.attn.q_proj.weight", "set.attn.q_proj.bias", "set.attn.k_proj.weight", "set.attn.k_proj.bias",
            "set.attn.v_proj.weight", "set.attn.v_proj.bias", "set.attn.out_proj.weight", "set.attn.out_proj.bias",
        ])
        let bound = Float((6.0 / Double(2 * width)).squareRoot())
        for p in attention.parameters {
            if p.name.hasSuffix("weight") {
                XCTAssertEqual(p.value.shape, [width, width])
                XCTAssertTrue(p.decays)
                XCTAssertTrue(p.value.data.allSatisfy { abs($0) <= bound }, p.name)
                // U(−a, a) has variance a²/3; 1024 draws estimate it within a few percent.
                let variance = p.value.data.reduce(0.0) { $0 + Double($1 * $1) } / Double(p.value.count)
                XCTAssertEqual(variance, Double(bound * bound) / 3, accuracy: 0.15 * Double(bound * bound) / 3, p.name)
            } else {
                XCTAssertEqual(p.value, Tensor(shape: [width]))
                XCTAssertFalse(p.decays)
            }
        }
        var sameGenerator = SeededGenerator(seed: 7), otherGenerator = SeededGenerator(seed: 8)
        let same = MultiHeadSelfAttention(name: "x", width: width, heads: 4, generator: &sameGenerator)
        let other = MultiHeadSelfAttention(name: "x", width: width, heads: 4, generator: &otherGenerator)
        XCTAssertEqual(same.parameters.map(\.value), attention.parameters.map(\.value))
        XCTAssertNotEqual(other.parameters[0].value, attention.parameters[0].value)
        XCTAssertNotEqual(attention.parameters[0].value, attention.parameters[2].value,
                          "q and k draw different weights")
    }

    func testForwardMatchesReference() {
        for (width, heads) in [(8, 2), (12, 3), (6, 1)] {
            let attention = layer(width: width, heads: heads)
            var rng = AttentionTestRandom(seed: 31)
            let x = rng.tensor([3, 5, width], -2, 2)
            let y = attention.forward(x)
            XCTAssertEqual(y.shape, x.shape)
            assertClose(y.data.map(Double.init), attention.reference(x).data.map(Double.init), rtol: 1e-4, atol: 1e-5,
                        "width \(width) heads \(heads)")
        }
    }

    func testAttentionRowsSumToOneAndSetsAreIndependentAndPermutationEquivariant() throws {
        let attention = layer()
        var rng = AttentionTestRandom(seed: 41)
        let (batch, tokens, width) = (2, 6, 8)
        let x = rng.tensor([batch, tokens, width])
        let y = attention.forward(x)
        let p = try XCTUnwrap(attention.lastAttention)
        XCTAssertEqual(p.shape, [batch, 2, tokens, tokens])
        for r in 0..<(p.count / tokens) {
            XCTAssertEqual(Double(p.data[(r * tokens)..<((r + 1) * tokens)].reduce(0, +)), 1, accuracy: 1e-5)
        }
        // Changing set 1 leaves set 0 untouched.
        var changed = x
        for i in (tokens * width)..<(2 * tokens * width) { changed.data[i] += 1 }
        let y2 = attention.forward(changed)
        XCTAssertEqual(Array(y2.data[0..<(tokens * width)]), Array(y.data[0..<(tokens * width)]))
        // Reordering the tokens of a set reorders its outputs the same way (no positional information).
        let order = [3, 0, 5, 1, 4, 2]
        var permuted = x
        for b in 0..<batch {
            for (to, from) in order.enumerated() {
                for c in 0..<width {
                    permuted.data[(b * tokens + to) * width + c] = x.data[(b * tokens + from) * width + c]
                }
            }
        }
        let yp = attention.forward(permuted)
        for b in 0..<batch {
            for (to, from) in order.enumerated() {
                let got = (0..<width).map { Double(yp.data[(b * tokens + to) * width + $0]) }
                let want = (0..<width).map { Double(y.data[(b * tokens + from) * width + $0]) }
                assertClose(got, want, rtol: 1e-5, atol: 1e-6, "set \(b) token \(to)")
            }
        }
    }

    func testBackwardMatchesFiniteDifferencesForInputAndEveryParameter() {
        let attention = layer()
        var rng = AttentionTestRandom(seed: 51)
        let x = rng.tensor([2, 4, 8])
        let w = rng.tensor(x.shape)
        attention.zeroGrad()
        _ = attention.forward(x)
        let dX = attention.backward(w)
        let numericX = AttentionCheck.finiteDifference(x) { AttentionCheck.weightedSum(attention.forward($0), w) }
        AttentionCheck.assertGradientClose(dX.data, numericX, "attention dX")
        for parameter in attention.parameters {
            let saved = parameter.value
            let numeric = AttentionCheck.finiteDifference(saved) { value in
                parameter.value = value
                return AttentionCheck.weightedSum(attention.forward(x), w)
            }
            parameter.value = saved
            if parameter.name == "set.attn.k_proj.bias" {
                // Adding one vector to every key shifts each score row by a constant, which softmax ignores:
                // this gradient is zero, analytically and numerically.
                XCTAssertLessThan(parameter.grad.data.map(abs).max()!, 1e-5)
                XCTAssertLessThan(numeric.map(abs).max()!, 1e-3)
            } else {
                AttentionCheck.assertGradientClose(parameter.grad.data, numeric, parameter.name)
            }
        }
    }

    func testBackwardAccumulatesParameterGradients() {
        let attention = layer()
        var rng = AttentionTestRandom(seed: 61)
        let x = rng.tensor([2, 3, 8]), w = rng.tensor([2, 3, 8])
        attention.zeroGrad()
        _ = attention.forward(x)
        let first = attention.backward(w)
        let once = attention.parameters.map(\.grad)
        _ = attention.forward(x)
        let second = attention.backward(w)
        XCTAssertEqual(first, second, "dX is returned fresh, not accumulated")
        for (p, g) in zip(attention.parameters, once) {
            assertClose(p.grad.data.map(Double.init), g.data.map { 2 * Double($0) }, rtol: 1e-5, atol: 1e-6, p.name)
        }
    }

    func testSetHeadSizeRunsAndIsFinite() {
        // The set head's shape: 16 images × 50 hypotheses × 128 features, 4 heads.
        var generator = SeededGenerator(seed: 1)
        let attention = MultiHeadSelfAttention(name: "set.attn", width: 128, heads: 4, generator: &generator)
        var rng = AttentionTestRandom(seed: 71)
        let x = rng.tensor([16, 50, 128]), g = rng.tensor([16, 50, 128])
        _ = attention.forward(x)
        _ = attention.backward(g)
        let start = Date()
        let repeats = 5
        var dX = Tensor(shape: [])
        for _ in 0..<repeats {
            _ = attention.forward(x)
            dX = attention.backward(g)
        }
        let milliseconds = Date().timeIntervalSince(start) * 1000 / Double(repeats)
        print(String(format: "MultiHeadSelfAttention [16, 50, 128] × 4 heads: forward + backward %.2f ms",
                     milliseconds))
        XCTAssertTrue(dX.data.allSatisfy(\.isFinite))
        XCTAssertTrue(attention.parameters.allSatisfy { $0.grad.data.allSatisfy(\.isFinite) })
    }
}
