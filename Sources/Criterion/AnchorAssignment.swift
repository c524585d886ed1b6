import Boxes

/// Anchor ↔ ground-truth assignment of RetinaNet (Lin et al., ICCV 2017), torchvision's `Matcher` with
/// low-quality matches allowed, plus ignore regions.
///
/// Per anchor, its best IoU over the matchable boxes (not ignored, positive area) decides: `≥ positiveIoU`
/// positive (matched to that box), `< negativeIoU` background, in between ignored. With `forceBestAnchor`,
/// for every box the anchors reaching its highest IoU (when > 0) become positive, each matched to its own
/// best box (torchvision's rule). A background anchor with at least `ignoreOverlap` of its area inside an
/// ignore (crowd) box is ignored instead: it may well hold an unlabelled object.
///
/// With `atssTopK` set, the adaptive rule of ATSS (Zhang et al., "Bridging the Gap Between Anchor-based and
/// Anchor-free Detection via Adaptive Training Sample Selection", CVPR 2020) replaces the fixed thresholds: for each
/// box, the `atssTopK` anchors of each anchor shape whose centres lie nearest to the box's centre are candidates;
/// those whose IoU reaches the mean plus the standard deviation of the candidates' IoUs, and whose centre lies
/// inside the box, are positive; an anchor positive for several boxes takes the one of highest IoU; all other
/// anchors are background (ignore regions as above). `anchorShapes` says how many anchor shapes each location
/// holds (anchors ordered location-major, shape-minor, as `Detector.anchors`). On a feature pyramid
/// (`levelAnchorCounts` with more than one level, anchors level-major) the candidates are picked on every level, as in
/// the paper (k per level and shape), and the threshold is taken over all of a box's candidates.
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
    /// ATSS candidates per anchor shape (9 in the paper); nil = the fixed IoU thresholds.
    public var atssTopK: Int?
    /// Anchor shapes per location (for ATSS's per-shape candidates).
    public var anchorShapes: Int = 1
    /// Anchors of each feature level, level-major (ATSS picks candidates per level); empty = one level.
    public var levelAnchorCounts: [Int] = []

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
        if let k = atssTopK, !matchable.isEmpty {
            labels = adaptiveLabels(anchors: anchors, boxes: matchable.map { targets.boxes[$0] }, k: k).map {
                $0 >= 0 ? matchable[$0] : $0
            }
        } else if !matchable.isEmpty {
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
            for a in anchors.indices where labels[a] == Self.negative
                && regions.contains(where: { liesInside(anchors[a], $0, share: ignoreOverlap) }) {
                labels[a] = Self.ignored
            }
        }
        return labels
    }

    /// ATSS labels over `boxes` (indices into `boxes`, or `negative`).
    func adaptiveLabels(anchors: [Box], boxes: [Box], k: Int) -> [Int] {
        let shapes = max(1, anchorShapes), n = anchors.count
        var bestIoU = [Double](repeating: 0, count: n)
        var labels = [Int](repeating: Self.negative, count: n)
        precondition(n % shapes == 0, "AnchorAssigner: \(n) anchors is not a multiple of \(shapes) shapes")
        let counts = levelAnchorCounts.isEmpty ? [n] : levelAnchorCounts
        precondition(counts.reduce(0, +) == n && counts.allSatisfy { $0 % shapes == 0 },
                     "AnchorAssigner: level anchor counts \(counts) do not split \(n) anchors of \(shapes) shapes")
        for (j, box) in boxes.enumerated() {
            var candidates: [(anchor: Int, iou: Double)] = []
            var first = 0  // the level's first location
            for count in counts {
                // The level's k locations nearest to the box centre (all shapes of a location share its centre): a
                // running sorted list, O(locations · k).
                var nearest: [(distance: Double, location: Int)] = []
                nearest.reserveCapacity(k + 1)
                for l in first..<(first + count / shapes) {
                    let a = anchors[l * shapes]
                    let (dx, dy) = (a.cx - box.cx, a.cy - box.cy)
                    let d = dx * dx + dy * dy
                    if nearest.count == k, d >= nearest[k - 1].distance { continue }
                    var i = nearest.count
                    while i > 0 && nearest[i - 1].distance > d { i -= 1 }
                    nearest.insert((d, l), at: i)
                    if nearest.count > k { nearest.removeLast() }
                }
                for shape in 0..<shapes {
                    for c in nearest {
                        let a = c.location * shapes + shape
                        candidates.append((a, Boxes.iou(anchors[a], box, eps: 0)))
                    }
                }
                first += count / shapes
            }
            guard !candidates.isEmpty else { continue }
            let mean = candidates.reduce(0.0) { $0 + $1.iou } / Double(candidates.count)
            let variance = candidates.reduce(0.0) { $0 + ($1.iou - mean) * ($1.iou - mean) } / Double(candidates.count)
            let threshold = mean + variance.squareRoot()
            for c in candidates where c.iou >= threshold && c.iou > 0 {
                let a = anchors[c.anchor]
                guard a.cx > box.x1, a.cx < box.x2, a.cy > box.y1, a.cy < box.y2 else { continue }
                if labels[c.anchor] == Self.negative || c.iou > bestIoU[c.anchor] {
                    labels[c.anchor] = j
                    bestIoU[c.anchor] = c.iou
                }
            }
        }
        return labels
    }
}
