import Boxes

/// Anchor ↔ ground-truth assignment of RetinaNet (Lin et al., ICCV 2017), torchvision's `Matcher` with
/// low-quality matches allowed, plus ignore regions.
///
/// Per anchor, its best IoU over the matchable boxes (not ignored, positive area) decides: `≥ positiveIoU`
/// positive (matched to that box), `< negativeIoU` background, in between ignored. With `forceBestAnchor`,
/// for every box the anchors reaching its highest IoU (when > 0) become positive, each matched to its own
/// best box (torchvision's rule). A background anchor with at least `ignoreOverlap` of its area inside an
/// ignore (crowd) box is ignored instead: it may well hold an unlabelled object.
public struct AnchorAssigner: Sendable, Equatable {
    /// Label of a background anchor.
    public static let negative = -1
    /// Label of an ignored anchor (no classification loss).
    public static let ignored = -2

    /// IoU at or above which an anchor is positive (0.5).
    public var positiveIoU: Double
    /// IoU below which an anchor is background (0.4).
    public var negativeIoU: Double
    /// Whether each box's best anchors are forced positive.
    public var forceBestAnchor: Bool
    /// Fraction of a background anchor's area inside an ignore box that makes it ignored (0.5).
    public var ignoreOverlap: Double

    /// An assigner with RetinaNet's thresholds.
    public init(positiveIoU: Double = 0.5, negativeIoU: Double = 0.4, forceBestAnchor: Bool = true,
                ignoreOverlap: Double = 0.5) {
        precondition(negativeIoU <= positiveIoU, "AnchorAssigner: negativeIoU > positiveIoU")
        self.positiveIoU = positiveIoU
        self.negativeIoU = negativeIoU
        self.forceBestAnchor = forceBestAnchor
        self.ignoreOverlap = ignoreOverlap
    }

    /// Label of each anchor: the index (into `targets.boxes`) of its box when positive, else
    /// `AnchorAssigner.negative` or `AnchorAssigner.ignored`.
    public func assign(anchors: [Box], targets: ImageTargets) -> [Int] {
        let matchable = targets.boxes.indices.filter {
            !targets.ignore[$0] && targets.boxes[$0].width > 0 && targets.boxes[$0].height > 0
        }
        var labels = [Int](repeating: Self.negative, count: anchors.count)
        if !matchable.isEmpty {
            let g = matchable.count
            let iou = pairwiseIoU(anchors, matchable.map { targets.boxes[$0] })  // [A × G]
            var best = [Int](repeating: 0, count: anchors.count)
            var columnMax = [Double](repeating: 0, count: g)
            for a in anchors.indices {
                var bj = 0, bv = iou[a * g]
                for j in 0..<g {
                    let v = iou[a * g + j]
                    if v > bv { (bj, bv) = (j, v) }
                    columnMax[j] = max(columnMax[j], v)
                }
                best[a] = bj
                if bv >= positiveIoU {
                    labels[a] = matchable[bj]
                } else if bv >= negativeIoU {
                    labels[a] = Self.ignored
                }
            }
            if forceBestAnchor {
                for a in anchors.indices {
                    for j in 0..<g where columnMax[j] > 0 && iou[a * g + j] == columnMax[j] {
                        labels[a] = matchable[best[a]]
                    }
                }
            }
        }
        let regions = targets.boxes.indices.filter { targets.ignore[$0] }.map { targets.boxes[$0] }
        if !regions.isEmpty {
            for a in anchors.indices where labels[a] == Self.negative {
                let anchor = anchors[a]
                guard anchor.area > 0 else { continue }
                for r in regions {
                    let w = min(anchor.x2, r.x2) - max(anchor.x1, r.x1)
                    let h = min(anchor.y2, r.y2) - max(anchor.y1, r.y1)
                    if w > 0, h > 0, w * h >= ignoreOverlap * anchor.area {
                        labels[a] = Self.ignored
                        break
                    }
                }
            }
        }
        return labels
    }
}
