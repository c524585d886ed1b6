import NeuralNet
import TestSupport
import XCTest

final class OptimizerTests: XCTestCase {
    func parameter(_ name: String, _ v: [Float], decays: Bool = true) -> Parameter {
        Parameter(name: name, value: Tensor(shape: [v.count], data: v), decays: decays)
    }

    /// Three AdamW steps against PyTorch's AdamW formula written out in Double; no decay where
    /// `decays == false`. Tolerance rtol 1e-5.
    func testAdamWMatchesTorchFormula() {
        let w = parameter("w", [0.5, -1.0, 2.0]), b = parameter("b", [0.1, 0.2], decays: false)
        let opt = AdamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1)
        let grads: [[Double]] = [[0.1, -0.2, 0.3, 0.05, -0.4], [-0.3, 0.1, 0.2, 0.0, 0.7], [0.2, 0.2, -0.1, 1.0, 0.3]]
        let lrs: [Double] = [0.01, 0.02, 0.005]
        var theta: [Double] = [0.5, -1.0, 2.0, 0.1, 0.2]
        var m = [Double](repeating: 0, count: 5), v = m
        for t in 0..<3 {
            w.grad = Tensor(shape: [3], data: grads[t][0..<3].map { Float($0) })
            b.grad = Tensor(shape: [2], data: grads[t][3..<5].map { Float($0) })
            opt.step([w, b], learningRate: Float(lrs[t]))
            let lr = lrs[t], step = Double(t + 1)
            for i in 0..<5 {
                if i < 3 { theta[i] *= 1 - lr * 0.1 }
                m[i] = 0.9 * m[i] + 0.1 * grads[t][i]
                v[i] = 0.999 * v[i] + 0.001 * grads[t][i] * grads[t][i]
                let bc1 = 1 - pow(0.9, step), bc2 = 1 - pow(0.999, step)
                theta[i] -= lr / bc1 * m[i] / (v[i].squareRoot() / bc2.squareRoot() + 1e-8)
            }
            assertClose(w.value.doubles + b.value.doubles, theta, rtol: 1e-5, atol: 1e-7, "step \(t + 1)")
        }
        XCTAssertEqual(opt.stepCount, 3)
    }

    /// Exported state restores an identical optimizer: the next step matches bit for bit.
    func testAdamWStateRoundTrip() throws {
        let a = parameter("w", [1, 2, 3]), b = parameter("w", [1, 2, 3])
        let o1 = AdamW(), o2 = AdamW()
        a.grad = Tensor(shape: [3], data: [0.3, -0.1, 0.2])
        o1.step([a], learningRate: 0.1)
        try o2.loadState(Dictionary(uniqueKeysWithValues: o1.stateTensors()), parameters: [b])
        b.value = a.value
        a.grad = Tensor(shape: [3], data: [-0.5, 0.4, 0.1]); b.grad = a.grad
        o1.step([a], learningRate: 0.1); o2.step([b], learningRate: 0.1)
        XCTAssertEqual(a.value, b.value)
        XCTAssertEqual(o2.stepCount, 2)
        XCTAssertThrowsError(try o2.loadState(["w.exp_avg": Tensor(shape: [2])], parameters: [b]))
        XCTAssertThrowsError(try o2.loadState(["nope.exp_avg": Tensor(shape: [3])], parameters: [b]))
    }

    /// SGD with momentum, plain and Nesterov, with L2 decay, against PyTorch's formula in Double.
    func testSGDMatchesTorchFormula() {
        for nesterov in [false, true] {
            let w = parameter("w", [0.5, -1.0]), b = parameter("b", [0.3], decays: false)
            let opt = SGD(momentum: 0.9, nesterov: nesterov, weightDecay: 0.01)
            let grads: [[Double]] = [[0.1, -0.2, 0.5], [0.3, 0.1, -0.2], [-0.1, 0.4, 0.1]]
            var theta: [Double] = [0.5, -1.0, 0.3], buf = [Double](repeating: 0, count: 3)
            for t in 0..<3 {
                w.grad = Tensor(shape: [2], data: grads[t][0..<2].map { Float($0) })
                b.grad = Tensor(shape: [1], data: [Float(grads[t][2])])
                opt.step([w, b], learningRate: 0.1)
                for i in 0..<3 {
                    var dp = grads[t][i] + (i < 2 ? 0.01 * theta[i] : 0)
                    buf[i] = t == 0 ? dp : 0.9 * buf[i] + dp
                    dp = nesterov ? dp + 0.9 * buf[i] : buf[i]
                    theta[i] -= 0.1 * dp
                }
                assertClose(w.value.doubles + b.value.doubles, theta, rtol: 1e-5, atol: 1e-7, "nesterov \(nesterov) step \(t)")
            }
            XCTAssertEqual(opt.stateTensors().map(\.0), ["b.momentum_buffer", "w.momentum_buffer"])
        }
    }

    /// Clipping by global norm returns the norm before clipping and scales to `maxNorm`; small norms stay.
    func testClipGradientNorm() {
        let a = parameter("a", [0, 0]), b = parameter("b", [0])
        a.grad = Tensor(shape: [2], data: [3, 0]); b.grad = Tensor(shape: [1], data: [4])
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        assertClose(Double(norm), 5, rtol: 1e-6)
        assertClose(Double(gradientNorm([a, b])), 1, rtol: 1e-5)
        XCTAssertEqual(clipGradientNorm([a, b], maxNorm: 10), gradientNorm([a, b]))
        assertClose(Double(a.grad.data[0]), 0.6, rtol: 1e-5)
        zeroGradients([a, b])
        XCTAssertEqual(gradientNorm([a, b]), 0)
    }

    /// Warmup, cosine to a floor, step decay and constant at hand-computed points.
    func testSchedules() {
        let cos = LearningRateSchedule(base: 1, warmupSteps: 10, decay: .cosine(floor: 0.1))
        assertClose(Double(cos.learningRate(step: 0, totalSteps: 110)), 0.1, rtol: 1e-6)
        assertClose(Double(cos.learningRate(step: 4, totalSteps: 110)), 0.5, rtol: 1e-6)
        assertClose(Double(cos.learningRate(step: 10, totalSteps: 110)), 1, rtol: 1e-6)
        assertClose(Double(cos.learningRate(step: 60, totalSteps: 110)), 0.55, rtol: 1e-6)
        assertClose(Double(cos.learningRate(step: 110, totalSteps: 110)), 0.1, rtol: 1e-6)
        assertClose(Double(cos.learningRate(step: 500, totalSteps: 110)), 0.1, rtol: 1e-6)
        let st = LearningRateSchedule(base: 0.1, warmupSteps: 0, decay: .step(every: 30, gamma: 0.1))
        assertClose(Double(st.learningRate(step: 29, totalSteps: 100)), 0.1, rtol: 1e-6)
        assertClose(Double(st.learningRate(step: 30, totalSteps: 100)), 0.01, rtol: 1e-5)
        assertClose(Double(st.learningRate(step: 65, totalSteps: 100)), 0.001, rtol: 1e-5)
        XCTAssertEqual(LearningRateSchedule(base: 0.3, decay: .constant).learningRate(step: 7, totalSteps: 9), 0.3)
    }
}
