import Boxes
import Foundation

/// The weighted matching cost of DETR (Carion et al., "End-to-end object detection with transformers",
/// ECCV 2020, `HungarianMatcher`):
///
///     cost(i, j) = w_class · classCost(p_i[label_j]) + w_L1 · L1(b_i, g_j) + w_giou · (−GIoU(b_i, g_j))
///
/// with `L1` over `(cx, cy, w, h)` and GIoU as `torchvision.ops.generalized_box_iou`. The class cost is
/// `−p` (DETR, softmax probabilities) or, with `focal`, the focal-style cost of Deformable DETR
/// (Zhu et al., ICLR 2021) on sigmoid probabilities:
/// `α(1−p)^γ·(−log(p + 1e-8)) − (1−α)p^γ·(−log(1 − p + 1e-8))`. Rows are predictions, columns targets.
public struct DETRCost: Sendable, Equatable {
    /// Parameters of the focal-style class cost.
    public struct Focal: Sendable, Equatable {
        /// Weight of the positive term; default 0.25.
        public var alpha: Double
        /// Focusing exponent; default 2.
        public var gamma: Double
        /// Deformable DETR's values, α 0.25 and γ 2.
        public init(alpha: Double = 0.25, gamma: Double = 2) {
            self.alpha = alpha
            self.gamma = gamma
        }
    }

    /// Weight of the class term; default 1.
    public var classWeight: Double
    /// Weight of the L1 box term; default 5.
    public var l1Weight: Double
    /// Weight of the GIoU term; default 2.
    public var giouWeight: Double
    /// The focal-style class cost, or `nil` for `−p`; default `nil`.
    public var focal: Focal?

    /// A cost with DETR's default weights 1 / 5 / 2.
    public init(classWeight: Double = 1, l1Weight: Double = 5, giouWeight: Double = 2, focal: Focal? = nil) {
        self.classWeight = classWeight
        self.l1Weight = l1Weight
        self.giouWeight = giouWeight
        self.focal = focal
    }

    /// The class cost of a prediction whose probability for the target's class is `p`.
    @inlinable
    public func classCost(_ p: Double) -> Double {
        guard let f = focal else { return -p }
        let positive = f.alpha * pow(1 - p, f.gamma) * -log(p + 1e-8)
        let negative = (1 - f.alpha) * pow(p, f.gamma) * -log(1 - p + 1e-8)
        return positive - negative
    }

    /// The `boxes.count × targetBoxes.count` cost matrix.
    /// - Parameters:
    ///   - probabilities: `[boxes.count × classCount]` row-major class probabilities of the predictions.
    ///   - boxes: predicted boxes (any units, the same as the targets; DETR uses normalised coordinates).
    ///   - targetBoxes: ground-truth boxes.
    ///   - targetLabels: the class index of each target, in `0..<classCount`.
    public func matrix(probabilities: [Double], classCount: Int, boxes: [Box], targetBoxes: [Box],
                       targetLabels: [Int]) -> CostMatrix {
        precondition(probabilities.count == boxes.count * classCount,
                     "\(probabilities.count) probabilities for \(boxes.count) predictions × \(classCount) classes")
        precondition(targetLabels.count == targetBoxes.count,
                     "\(targetLabels.count) labels for \(targetBoxes.count) targets")
        let n = boxes.count, m = targetBoxes.count
        var values = giouWeight == 0 ? [Double](repeating: 0, count: n * m)
            : pairwiseGIoU(boxes, targetBoxes).map { -giouWeight * $0 }
        for i in 0..<n {
            for j in 0..<m {
                let label = targetLabels[j]
                precondition(label >= 0 && label < classCount, "target label \(label) outside 0..<\(classCount)")
                values[i * m + j] += classWeight * classCost(probabilities[i * classCount + label])
                    + l1Weight * boxes[i].l1CxcywhDistance(to: targetBoxes[j])
            }
        }
        return CostMatrix(rows: n, columns: m, values: values)
    }

    /// The cost matrix of single-class (objectness) predictions with scores `p` in `[0, 1]`.
    public func matrix(scores: [Double], boxes: [Box], targetBoxes: [Box]) -> CostMatrix {
        matrix(probabilities: scores, classCount: 1, boxes: boxes, targetBoxes: targetBoxes,
               targetLabels: [Int](repeating: 0, count: targetBoxes.count))
    }
}
