import NeuralNet
import TestSupport
import XCTest

final class OverfitTests: XCTestCase {
    /// conv3×3 → BN → ReLU → conv3×3/2 → ReLU → flatten → Linear fits a fixed batch of 8 random images to
    /// random targets under mean-squared error with AdamW: the loss falls at least 100-fold in 300 steps.
    func testTinyNetworkOverfitsFixedBatch() {
        var g = SeededGenerator(seed: 30)
        let net = Sequential([
            Conv2D(name: "c1", inChannels: 3, outChannels: 8, kernelSize: 3, bias: false, generator: &g),
            BatchNorm2D(name: "bn1", channels: 8),
            ReLU(),
            Conv2D(name: "c2", inChannels: 8, outChannels: 8, kernelSize: 3, stride: 2, generator: &g),
            ReLU(),
            Flatten(),
            Linear(name: "fc", inFeatures: 8 * 4 * 4, outFeatures: 4, generator: &g),
        ])
        var d = TestData(seed: 31)
        let x = d.tensor([8, 3, 8, 8]), target = d.tensor([8, 4])
        let opt = AdamW(weightDecay: 0)
        var first = 0.0, last = 0.0
        for step in 0..<300 {
            zeroGradients(net.parameters)
            let y = net.forward(x)
            var loss = 0.0
            var dy = Tensor(shape: y.shape)
            for i in 0..<y.count {
                let e = Double(y.data[i] - target.data[i])
                loss += e * e / Double(y.count)
                dy.data[i] = Float(2 * e / Double(y.count))
            }
            if step == 0 { first = loss }
            last = loss
            _ = net.backward(dy)
            opt.step(net.parameters, learningRate: 0.01)
        }
        XCTAssertLessThan(last, first / 100, "loss \(first) → \(last)")
    }
}
