import Boxes

/// The lexicographic matching cost of ReInspect (Stewart, Andriluka & Ng, "End-to-end people detection in
/// crowded scenes", CVPR 2016) and of TensorBox's Hungarian layer:
///
///     cost(i, j) = missPenalty · miss(i, j) + rank(i) + distanceScale · L1(i, j)
///
/// with `L1` the distance between the `(cx, cy, w, h)` forms of hypothesis `i` and ground truth `j`
/// (pixels), `rank(i)` the hypothesis's rank (its index by default, or e.g. its confidence rank), and
/// `miss` one when the pair does not overlap enough. With the defaults (100, 1/2000) and image-sized
/// boxes (`L1 < 2000`) the terms are ordered: first avoid misses, then prefer earlier hypotheses, then
/// nearer ones. Rows are hypotheses, columns ground-truth boxes.
public struct ReInspectCost: Sendable, Equatable {
    /// When a hypothesis misses a ground-truth box.
    public enum MissCriterion: Sendable, Equatable {
        /// ReInspect's training criterion: a miss when the hypothesis centre lies outside the ground-truth
        /// box scaled by `2·ratio` about its centre, i.e. `|Δcx| > ratio·w_gt` or `|Δcy| > ratio·h_gt`
        /// (ratio 0.5 = outside the ground-truth box itself).
        case centreOutside(ratio: Double)
        /// TensorBox's criterion: a miss when `IoU < threshold` (TensorBox uses 0.25).
        case iouBelow(threshold: Double)
    }

    /// The miss criterion; default `.centreOutside(ratio: 0.5)` (ReInspect at training time).
    public var miss: MissCriterion
    /// Cost added for a miss; default 100.
    public var missPenalty: Double
    /// Factor of the L1 distance; default 1/2000.
    public var distanceScale: Double

    /// A cost with the given criterion and weights.
    public init(miss: MissCriterion = .centreOutside(ratio: 0.5), missPenalty: Double = 100,
                distanceScale: Double = 1.0 / 2000) {
        self.miss = miss
        self.missPenalty = missPenalty
        self.distanceScale = distanceScale
    }

    /// Whether hypothesis `p` misses ground truth `g` under `miss`.
    @inlinable
    public func isMiss(_ p: Box, _ g: Box) -> Bool {
        switch miss {
        case .centreOutside(let ratio):
            return abs(p.cx - g.cx) > ratio * g.width || abs(p.cy - g.cy) > ratio * g.height
        case .iouBelow(let threshold):
            let (i, u) = intersectionAndUnion(p, g)
            return !(u > 0 && i / u >= threshold)
        }
    }

    /// The `hypotheses.count × groundTruth.count` cost matrix. `ranks` (one per hypothesis) defaults to
    /// `0, 1, 2, …`.
    public func matrix(hypotheses: [Box], groundTruth: [Box], ranks: [Double]? = nil) -> CostMatrix {
        let ranks = ranks ?? hypotheses.indices.map(Double.init)
        precondition(ranks.count == hypotheses.count, "\(ranks.count) ranks for \(hypotheses.count) hypotheses")
        var values = [Double](repeating: 0, count: hypotheses.count * groundTruth.count)
        var k = 0
        for (i, p) in hypotheses.enumerated() {
            for g in groundTruth {
                values[k] = (isMiss(p, g) ? missPenalty : 0) + ranks[i] + distanceScale * p.l1CxcywhDistance(to: g)
                k += 1
            }
        }
        return CostMatrix(rows: hypotheses.count, columns: groundTruth.count, values: values)
    }
}
