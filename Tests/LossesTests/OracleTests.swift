import Losses
import TestSupport
import XCTest

/// Every case of the oracle files `losses.json` and `loss_catalogue.json` (PyTorch / torchvision in float64):
/// values and `grad_of_sum` gradients within 1e-6 relative. An unknown case name fails the test, so a case
/// added to the files cannot be skipped silently.
final class OracleTests: XCTestCase {
    func testLossesOracle() throws { try runOracle("oracles/losses.json", expectedCases: 15) }

    func testCatalogueOracle() throws { try runOracle("oracles/loss_catalogue.json", expectedCases: 21) }

    private func runOracle(_ file: String, expectedCases: Int) throws {
        let root = try XCTUnwrap(Fixtures.json(file) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, expectedCases, "\(file) lost cases")
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            let params = c["params"] as? [String: Any] ?? [:]
            let inputs = try XCTUnwrap(c["inputs"] as? [Any])
            guard let (result, differentiable) = try evaluate(name, params, inputs) else {
                XCTFail("\(file): unknown loss case '\(name)'")
                continue
            }
            assertClose(result.values, flatten(c["output"]!), rtol: 1e-6, atol: 1e-12, "\(name) value")
            // A gradient list shorter than the inputs leaves the trailing (integer) inputs without one.
            var expectedGrads = try XCTUnwrap(c["grad_of_sum"] as? [Any])
            XCTAssertLessThanOrEqual(expectedGrads.count, inputs.count, name)
            expectedGrads += [Any](repeating: NSNull(), count: max(0, inputs.count - expectedGrads.count))
            var k = 0
            for (j, g) in expectedGrads.enumerated() {
                if g is NSNull {
                    XCTAssertFalse(differentiable[j], "\(name): input \(j) has no oracle gradient")
                    continue
                }
                guard differentiable[j] else {
                    XCTFail("\(name): oracle has a gradient for input \(j), the loss does not")
                    continue
                }
                assertClose(result.gradients[k], flatten(g), rtol: 1e-6, atol: 1e-12, "\(name) gradient \(j)")
                k += 1
            }
            XCTAssertEqual(k, result.gradients.count, "\(name): gradients not all checked")
        }
    }

    /// The loss a case names, applied to its inputs; `nil` for an unknown name. `differentiable[j]` tells
    /// whether input j is real-valued (has an entry in `LossResult.gradients`).
    private func evaluate(
        _ name: String, _ params: [String: Any], _ inputs: [Any]
    ) throws -> (LossResult, [Bool])? {
        let x = inputs.map(flatten)
        let two = [true, true]
        func p(_ key: String) throws -> Double { try XCTUnwrap(params[key] as? Double, "\(name): param \(key)") }
        func cols(_ j: Int) throws -> Int { try XCTUnwrap((inputs[j] as? [[Any]])?.first?.count) }
        func ints(_ j: Int) -> [Int] { x[j].map { Int($0) } }
        switch name {
        case _ where name.hasPrefix("sigmoid_focal_loss"):
            return (try Loss.sigmoidFocal(logits: x[0], targets: x[1], alpha: p("alpha"), gamma: p("gamma")), two)
        case "bce_with_logits":
            return (try Loss.bceWithLogits(logits: x[0], targets: x[1], reduction: .none), two)
        case _ where name.hasPrefix("smooth_l1"):
            return (try Loss.smoothL1(input: x[0], target: x[1], beta: p("beta"), reduction: .none), two)
        case "l1":
            return (try Loss.l1(input: x[0], target: x[1], reduction: .none), two)
        case "generalized_box_iou_loss":
            return (try Loss.boxIoU(.giou, predicted: x[0], target: x[1], eps: p("eps")), two)
        case "distance_box_iou_loss":
            return (try Loss.boxIoU(.diou, predicted: x[0], target: x[1], eps: p("eps")), two)
        case "complete_box_iou_loss":
            return (try Loss.boxIoU(.ciou, predicted: x[0], target: x[1], eps: p("eps")), two)
        case "box_iou_pairwise":
            return (try Loss.pairwiseIoU(boxes1: x[0], boxes2: x[1]), two)
        case "generalized_box_iou_pairwise":
            return (try Loss.pairwiseGIoU(boxes1: x[0], boxes2: x[1]), two)
        case "cross_entropy_weighted_mean_no_object":
            let c = (params["num_classes"] as! Int) + 1, noObject = params["no_object_class"] as! Int
            var w = [Double](repeating: 1, count: c)
            w[noObject] = try p("eos_coef")
            return (try Loss.crossEntropy(logits: x[0], classes: c, targets: ints(1), weights: w), [true, false])
        case "mse":
            return (try Loss.mse(input: x[0], target: x[1], reduction: .none), two)
        case "nll":
            return (try Loss.nll(logProbabilities: x[0], classes: cols(0), targets: ints(1), reduction: .none),
                    [true, false])
        case _ where name == "cross_entropy" || name.hasPrefix("cross_entropy_label_smoothing"):
            let eps = params["label_smoothing"] as? Double ?? 0
            return (try Loss.crossEntropy(
                logits: x[0], classes: cols(0), targets: ints(1), labelSmoothing: eps, reduction: .none),
                    [true, false])
        case "bce_on_probabilities":
            return (try Loss.binaryCrossEntropy(probabilities: x[0], targets: x[1], reduction: .none), two)
        case _ where name.hasPrefix("hinge_embedding"):
            return (try Loss.hingeEmbedding(input: x[0], labels: x[1], margin: p("margin"), reduction: .none),
                    [true, false])
        case _ where name.hasPrefix("margin_ranking"):
            return (try Loss.marginRanking(
                input1: x[0], input2: x[1], labels: x[2], margin: p("margin"), reduction: .none), [true, true, false])
        case _ where name.hasPrefix("triplet_margin"):
            return (try Loss.tripletMargin(
                anchor: x[0], positive: x[1], negative: x[2], dimension: cols(0), margin: p("margin"),
                p: Double(params["p"] as! Int), eps: p("eps"), swap: params["swap"] as! Bool, reduction: .none),
                    [true, true, true])
        case _ where name.hasPrefix("cosine_embedding"):
            return (try Loss.cosineEmbedding(
                input1: x[0], input2: x[1], labels: x[2], dimension: cols(0), margin: p("margin"), reduction: .none),
                    [true, true, false])
        case "kl_div_batchmean":
            return (try Loss.klDivergence(
                logInput: x[0], target: x[1], rows: (inputs[0] as! [Any]).count, reduction: .batchMean), two)
        case _ where name.hasPrefix("class_balanced_softmax"):
            let counts = try XCTUnwrap(params["class_counts"] as? [Double])
            let w = try Loss.classBalancedWeights(counts: counts, beta: p("beta"))
            assertClose(w, try XCTUnwrap(params["weights"] as? [Double]), rtol: 1e-9, "\(name) weights")
            return (try Loss.classBalancedSoftmax(logits: x[0], classes: cols(0), targets: ints(1), weights: w),
                    [true, false])
        case _ where name.hasPrefix("class_balanced_focal"):
            let w = try XCTUnwrap(params["weights"] as? [Double])
            let r = try Loss.sigmoidFocal(
                logits: x[0], targets: x[1], alpha: p("alpha"), gamma: p("gamma"), classWeights: w)
            return (LossResult(values: r.values, gradients: [r.gradients[0]]), [true, false])
        case "soft_f1_loss":
            return (try Loss.softF1(logits: x[0], classes: cols(0), targets: ints(1), eps: p("eps")), [true, false])
        case "center_loss":
            return (try Loss.centre(features: x[0], centres: x[1], labels: ints(2), dimension: cols(0)),
                    [true, true, false])
        default:
            return nil
        }
    }
}

/// Row-major flattening of a JSON number or nested array of numbers.
func flatten(_ any: Any) -> [Double] {
    if let a = any as? [Any] { return a.flatMap(flatten) }
    if let d = any as? Double { return [d] }
    if let n = any as? NSNumber { return [n.doubleValue] }
    return []
}
