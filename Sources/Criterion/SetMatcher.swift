import Boxes
import Foundation
import Matching

/// How the set criterion prices pairing hypothesis k with ground-truth box g before the assignment.
public enum SetMatchCost: Sendable, Equatable {
    /// DETR (Carion et al., ECCV 2020): `w_class·(−p_k(class_g)) + w_L1·‖b_k − b_g‖₁ + w_giou·(−GIoU)`, the L1
    /// on normalised `(cx, cy, w, h)`, GIoU of the corner boxes (torchvision `generalized_box_iou`), `p` the
    /// softmax probability of the box's class (or the objectness sigmoid). DETR's weights: 1 / 5 / 2.
    case detr(classWeight: Double = 1, l1Weight: Double = 5, giouWeight: Double = 2)
    /// ReInspect (Stewart & Andriluka, CVPR 2016): lexicographic `100·miss + rank_k + L1_px/2000`, where
    /// miss = the hypothesis centre lies outside the box scaled by `centreRatio` about its centre (0.5 in
    /// training), rank = the hypothesis's rank given by the caller (its index by default), and `L1_px` the
    /// L1 distance of `(cx, cy, w, h)` in pixels, which only breaks ties.
    case reinspect(centreRatio: Double = 0.5)
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
    ///   - probability: `p(k, g)`, the probability hypothesis k gives to the class of box g.
    ///   - targets: `[G × 4]` normalised `(cx, cy, w, h)` of the boxes.
    ///   - ranks: `[K]` ranks (ReInspect).
    ///   - size: image size in pixels (ReInspect's L1 and centre test).
    func matrix(
        boxes: [Double], probability: (Int, Int) -> Double, targets: [Double], ranks: [Int],
        size: (width: Double, height: Double)
    ) -> CostMatrix {
        let k = boxes.count / 4, g = targets.count / 4
        var values = [Double](repeating: 0, count: k * g)
        func corners(_ b: [Double], _ i: Int) -> Box {
            Box(cx: b[4 * i], cy: b[4 * i + 1], w: b[4 * i + 2], h: b[4 * i + 3])
        }
        switch self {
        case let .detr(wClass, wL1, wGIoU):
            let generalized = pairwiseGIoU((0..<k).map { corners(boxes, $0) }, (0..<g).map { corners(targets, $0) })
            for i in 0..<k {
                for j in 0..<g {
                    var l1 = 0.0
                    for c in 0..<4 { l1 += abs(boxes[4 * i + c] - targets[4 * j + c]) }
                    values[i * g + j] = -wClass * probability(i, j) + wL1 * l1 - wGIoU * generalized[i * g + j]
                }
            }
        case let .reinspect(ratio):
            let scale = [size.width, size.height, size.width, size.height]
            for i in 0..<k {
                let cx = boxes[4 * i] * size.width, cy = boxes[4 * i + 1] * size.height
                for j in 0..<g {
                    let gx = targets[4 * j] * size.width, gy = targets[4 * j + 1] * size.height
                    let hw = 0.5 * ratio * targets[4 * j + 2] * size.width
                    let hh = 0.5 * ratio * targets[4 * j + 3] * size.height
                    let inside = abs(cx - gx) <= hw && abs(cy - gy) <= hh
                    var l1 = 0.0
                    for c in 0..<4 { l1 += abs(boxes[4 * i + c] - targets[4 * j + c]) * scale[c] }
                    values[i * g + j] = (inside ? 0 : 100) + Double(ranks[i]) + l1 / 2000
                }
            }
        }
        return CostMatrix(rows: k, columns: g, values: values)
    }
}
