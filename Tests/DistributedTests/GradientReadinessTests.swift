import DetectorModel
import DetectorTestSupport
import NeuralNet
import XCTest

/// The backward pass's gradient-ready notification (`GradientReadiness`), which starts the overlapped allreduce:
/// every parameter reported exactly once, after its last contribution, and the gradients unchanged by it.
final class GradientReadinessTests: XCTestCase {
    /// A parameter the forward pass used twice is reported after the second contribution only.
    func testAParameterUsedTwiceIsReportedAfterItsLastContribution() {
        let shared = Parameter(name: "shared", value: Tensor(shape: [3])), single = Parameter(name: "single", value: Tensor(shape: [2]))
        var reported: [[String]] = []
        let readiness = GradientReadiness { reported.append($0.map(\.name)) }
        readiness.beginForward()
        readiness.used([shared])
        readiness.used([shared, single])
        readiness.accumulated([shared, single])
        XCTAssertEqual(reported, [["single"]])
        XCTAssertEqual(readiness.outstanding.map(\.name), ["shared"])
        readiness.accumulated([shared])
        XCTAssertEqual(reported, [["single"], ["shared"]])
        XCTAssertTrue(readiness.outstanding.isEmpty)
        // A new forward pass starts the count again.
        readiness.beginForward()
        readiness.used([shared])
        readiness.accumulated([shared])
        XCTAssertEqual(reported, [["single"], ["shared"], ["shared"]])
    }

    /// Two backward passes of the small network (query head, global head, no set head, and the query head on a
    /// feature pyramid, whose dense head applies its convolutions once per level): each parameter is reported once per
    /// pass, its gradient at that moment is its final gradient (no contribution came later), and the gradients are
    /// bit-identical to those of the same network without a readiness object.
    func testEveryParameterIsReportedOnceWithItsFinalGradient() throws {
        for (head, strides) in [(DetectorConfig.SetHeadKind.query, [8]), (.fc, [8]), (.none, [8]), (.query, [4, 8, 16])] {
            var config = DetectorFixtures.smallConfig(setHead: head)
            config.pyramidStrides = strides
            let watched = try Detector(config: config, seed: 5), plain = try Detector(config: config, seed: 5)
            var counts: [String: Int] = [:], atReport: [String: [Float]] = [:], order: [String] = []
            let readiness = GradientReadiness { parameters in
                for p in parameters {
                    counts[p.name, default: 0] += 1
                    atReport[p.name] = p.grad.data
                    order.append(p.name)
                }
            }
            watched.gradientReadiness = readiness
            var g = SeededGenerator(seed: 11)
            for pass in 0..<2 {
                counts = [:]
                order = []
                let images = Tensor(shape: [2, 3, config.inputSize, config.inputSize], initializer: .normal(std: 1), generator: &g)
                var outputGradients: (Tensor, Tensor, [Float], Tensor)?
                for d in [watched, plain] {
                    d.setTraining(true)
                    for p in d.parameters { p.zeroGrad() }
                    let out = d.forward(images)
                    if outputGradients == nil {
                        var h = SeededGenerator(seed: UInt64(100 + pass))
                        outputGradients = (
                            Tensor(shape: out.denseLogits.shape, initializer: .normal(std: 0.01), generator: &h),
                            Tensor(shape: out.denseDeltas.shape, initializer: .normal(std: 0.01), generator: &h),
                            Tensor(shape: [out.setBoxes.count], initializer: .normal(std: 0.01), generator: &h).data,
                            Tensor(shape: out.setLogits.shape, initializer: .normal(std: 0.01), generator: &h))
                    }
                    let (a, b, c, e) = outputGradients!
                    d.backward(dDenseLogits: a, dDenseDeltas: b, dSetBoxes: c, dSetLogits: e)
                }
                let names = watched.parameters.map(\.name)
                XCTAssertEqual(Set(counts.keys), Set(names), "\(head) pass \(pass)")
                XCTAssertEqual(counts.values.filter { $0 != 1 }.count, 0, "\(head) pass \(pass): reported more than once")
                XCTAssertTrue(readiness.outstanding.isEmpty, "\(head) pass \(pass)")
                // Without a set head nothing reads the stride-16 features: stage 3 alone has zero gradients.
                let zero = watched.parameters.filter { !$0.grad.data.contains { $0 != 0 } }.map(\.name)
                XCTAssertEqual(zero, head == .none && strides == [8] ? names.filter { $0.hasPrefix("backbone.stage3.") } : [], "\(head)")
                for p in watched.parameters {
                    XCTAssertEqual(atReport[p.name], p.grad.data, "\(head) pass \(pass): \(p.name) changed after it was reported")
                }
                for (p, q) in zip(watched.parameters, plain.parameters) {
                    XCTAssertEqual(p.grad.data, q.grad.data, "\(head): \(p.name) differs with the notification")
                }
                // Backward reports the heads before the backbone, the stem last.
                XCTAssertEqual(order.last, "backbone.stem.bn.bias", "\(head)")
            }
        }
    }
}
