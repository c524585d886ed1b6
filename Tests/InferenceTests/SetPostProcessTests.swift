import Datasets
import NeuralNet
import XCTest
import DetectorModel
import DetectorTestSupport
@testable import Inference

/// The set head's post-processing: no NMS, one detection per hypothesis and class (or per hypothesis), scores
/// the softmax probabilities, the best `maxDetections` kept.
final class SetPostProcessTests: XCTestCase {
    /// Two hypotheses, two real classes + no-object; input 100 = original 100×100.
    private func output() -> DetectorOutput {
        let logits = Tensor(shape: [2, 3], data: [2, 1, 0,    // hypothesis 0: class 0 likely, class 1 possible
                                                  -1, -1, 3]) // hypothesis 1: mostly no-object
        return DetectorOutput(denseLogits: Tensor(shape: [1, 0, 2]), denseDeltas: Tensor(shape: [1, 0, 4]),
                              setBoxes: [0.5, 0.5, 0.2, 0.4, 0.25, 0.25, 0.1, 0.1], setLogits: logits,
                              selected: [[0, 1]], hypotheses: 2)
    }

    func testEveryClassOfEveryHypothesisRankedByProbability() {
        let t = InputTransform.letterbox(width: 100, height: 100, inputSize: 100)
        var post = PostProcessor()
        let all = post.setDetections(output(), image: 0, transform: t)
        let z0 = exp(2.0) + exp(1.0) + exp(0.0), z1 = 2 * exp(-1.0) + exp(3.0)
        XCTAssertEqual(all.map(\.classIndex), [0, 1, 0, 1])
        let want = [exp(2.0) / z0, exp(1.0) / z0, exp(-1.0) / z1, exp(-1.0) / z1]
        for (d, w) in zip(all, want) { XCTAssertEqual(d.score, w, accuracy: 1e-6) }
        XCTAssertEqual(all[0].box.x1, 40, accuracy: 1e-4)
        XCTAssertEqual(all[0].box.y2, 70, accuracy: 1e-4)
        XCTAssertEqual(all[0].box, all[1].box, "both classes of one hypothesis share its box")

        post.maxDetections = 3
        XCTAssertEqual(post.setDetections(output(), image: 0, transform: t).count, 3)
        post.setEveryClass = false
        post.maxDetections = 100
        let best = post.setDetections(output(), image: 0, transform: t)
        XCTAssertEqual(best.map(\.classIndex), [0, 0], "the most probable real class of each hypothesis")
        post.scoreThreshold = 0.1
        XCTAssertEqual(post.setDetections(output(), image: 0, transform: t).count, 1)
    }
}
