import Boxes
import Matching

/// How the set criterion prices pairing hypothesis k with ground-truth box g before the assignment
/// (both costs from `Matching`).
public enum SetMatchCost: Sendable, Equatable {
    /// DETR (Carion et al., ECCV 2020): `w_class·(−p) + w_L1·L1 + w_giou·(−GIoU)` on normalised
    /// `(cx, cy, w, h)` boxes, `p` the softmax probability of the box's class (or the objectness sigmoid);
    /// weights 1 / 5 / 2, focal-style class cost optional (`DETRCost.focal`).
    case detr(DETRCost = DETRCost())
    /// ReInspect (Stewart & Andriluka, CVPR 2016): lexicographic `100·miss + rank + L1_px/2000` on boxes in
    /// pixels, rank = the hypothesis's rank given by the caller (its index by default).
    case reinspect(ReInspectCost = ReInspectCost())
}

/// One matched pair of the set criterion.
public struct SetMatch: Sendable, Equatable, Hashable {
    /// Index of the hypothesis.
    public var hypothesis: Int
    /// Index of the box in `ImageTargets.boxes`.
    public var box: Int

    /// A pair.
    public init(hypothesis: Int, box: Int) {
        self.hypothesis = hypothesis
        self.box = box
    }
}

extension SetMatchCost {
    /// The `[K × G]` cost matrix (hypotheses × boxes).
    /// - Parameters:
    ///   - boxes: `[K × 4]` normalised `(cx, cy, w, h)` of the hypotheses.
    ///   - probabilities: `[K × classCount]` probabilities (softmax over the object classes and no-object,
    ///     or `[K × 1]` objectness).
    ///   - truth: `[G × 4]` normalised `(cx, cy, w, h)` of the boxes; `labels`: their classes (0 for
    ///     objectness).
    ///   - ranks: `[K]` ranks (ReInspect); `size`: image size in pixels (ReInspect works in pixels).
    func matrix(
        boxes: [Double], probabilities: [Double], classCount: Int, truth: [Double], labels: [Int], ranks: [Int]?,
        size: (width: Double, height: Double)
    ) -> CostMatrix {
        func corners(_ b: [Double], sx: Double, sy: Double) -> [Box] {
            stride(from: 0, to: b.count, by: 4).map { i in
                Box(cx: b[i] * sx, cy: b[i + 1] * sy, w: b[i + 2] * sx, h: b[i + 3] * sy)
            }
        }
        switch self {
        case let .detr(cost):
            return cost.matrix(probabilities: probabilities, classCount: classCount,
                               boxes: corners(boxes, sx: 1, sy: 1), targetBoxes: corners(truth, sx: 1, sy: 1),
                               targetLabels: labels)
        case let .reinspect(cost):
            return cost.matrix(hypotheses: corners(boxes, sx: size.width, sy: size.height),
                               groundTruth: corners(truth, sx: size.width, sy: size.height),
                               ranks: ranks?.map(Double.init))
        }
    }
}
