import Boxes
import Foundation
import Imaging
import Matching

/// Test-time augmentation by flips: each image is predicted as it is and mirrored, each mirrored pass's boxes are
/// mirrored back, and each head's detections of all passes are merged per class (the flips of ultralytics'
/// `augment=True` and of Detectron2's test-time augmentation, without their rescaled passes, which measured no gain
/// on BCCD: docs/experiments.md, "Test-time flips").
///
/// Two merges (`Merge`). `match` pairs each pass's detections one to one with those of the passes before it
/// (the Hungarian assignment of `Matching`, as the set head is trained), so no NMS enters and neighbours in a crowd
/// stay apart. `nms`, ultralytics' merge, suppresses every box overlapping a better one of its class across all
/// passes, so the set head then has an NMS.
public enum TestTimeFlips: String, Sendable, CaseIterable {
    /// As it is and mirrored left to right: 2 passes.
    case horizontal = "h"
    /// As it is, mirrored left to right, top to bottom, and both: 4 passes, for pictures with no up (cells, aerial
    /// views).
    case all = "hv"

    /// One pass: which mirrors it applies.
    public struct Pass: Sendable, Equatable {
        /// Mirrored left to right.
        public var horizontal: Bool
        /// Mirrored top to bottom.
        public var vertical: Bool

        /// The picture as it is.
        public static let identity = Pass(horizontal: false, vertical: false)

        /// `image` mirrored as this pass says.
        public func apply(_ image: Image) -> Image {
            var out = horizontal ? image.flippedHorizontally() : image
            if vertical { out = out.flippedVertically() }
            return out
        }

        /// A box found on the mirrored picture of a `width × height` image, in the image's own pixels (a mirror is
        /// its own inverse).
        public func mapBack(_ box: Box, width: Double, height: Double) -> Box {
            let (x1, x2) = horizontal ? (width - box.x2, width - box.x1) : (box.x1, box.x2)
            let (y1, y2) = vertical ? (height - box.y2, height - box.y1) : (box.y1, box.y2)
            return Box(x1: x1, y1: y1, x2: x2, y2: y2)
        }
    }

    /// The passes, the unmirrored one first.
    public var passes: [Pass] {
        let h = [Pass.identity, Pass(horizontal: true, vertical: false)]
        switch self {
        case .horizontal: return h
        case .all: return h + [Pass(horizontal: false, vertical: true), Pass(horizontal: true, vertical: true)]
        }
    }

    /// How the passes' detections of one image become one list.
    public enum Merge: String, Sendable, CaseIterable {
        /// One to one across passes (`TestTimeFlips.matched`): no NMS.
        case match
        /// Class-aware NMS over every pass's detections (`TestTimeFlips.suppressed`), as ultralytics merges.
        case nms

        /// How the merge reads in a sentence: "one to one" or "by NMS".
        public var wording: String { self == .match ? "one to one" : "by NMS" }
    }

    /// One image's detections from every pass (boxes already in the image's pixels), merged by `merge` at `iou`.
    public static func merge(_ perPass: [[DetectedObject]], by merge: Merge, iou: Double,
                             maxDetections: Int) -> [DetectedObject] {
        switch merge {
        case .match: return matched(perPass, iou: iou, maxDetections: maxDetections)
        case .nms: return suppressed(perPass, iou: iou, maxDetections: maxDetections)
        }
    }

    /// Class-aware NMS at `iou` over every pass's detections, best first (ties: pass order, then each pass's
    /// order), at most `maxDetections`.
    public static func suppressed(_ perPass: [[DetectedObject]], iou: Double, maxDetections: Int) -> [DetectedObject] {
        let all = perPass.flatMap { $0 }
        let keep = batchedNMS(boxes: all.map(\.box), scores: all.map(\.score), classes: all.map(\.classIndex),
                              iouThreshold: iou)
        return keep.prefix(maxDetections).map { all[$0] }
    }

    /// One-to-one merge, class by class. The first pass's detections start one group each; every later pass's
    /// detections are assigned to the groups so far by the assignment of greatest total IoU (each group takes one
    /// detection of a pass at most), a pair with IoU ≥ `iou` joins its group and every other detection starts a group.
    /// A group becomes one detection: its box the score-weighted mean of its members', its score the sum of their
    /// scores over the number of passes (a detection found in one pass of four keeps a quarter of its score, so
    /// agreement ranks first, as weighted box fusion scores, Solovyev et al. 2019). Best first (ties: class, then
    /// the order groups began), at most `maxDetections`.
    public static func matched(_ perPass: [[DetectedObject]], iou: Double, maxDetections: Int) -> [DetectedObject] {
        var groups: [Int: [Group]] = [:]
        for pass in perPass {
            let byClass = Dictionary(grouping: pass, by: \.classIndex)
            for (c, dets) in byClass {
                var existing = groups[c] ?? []
                var joined = [Bool](repeating: false, count: dets.count)
                if !existing.isEmpty {
                    let overlaps = existing.flatMap { g in dets.map { Boxes.iou(g.box, $0.box) } }
                    let cost = CostMatrix(rows: existing.count, columns: dets.count, values: overlaps)
                    // Finite IoUs in [0, 1]: the assignment cannot fail.
                    if let a = try? linearSumAssignment(cost, maximize: true) {
                        for (g, j) in a.pairs where overlaps[g * dets.count + j] >= iou {
                            existing[g].add(dets[j])
                            joined[j] = true
                        }
                    }
                }
                for (j, d) in dets.enumerated() where !joined[j] { existing.append(Group(d)) }
                groups[c] = existing
            }
        }
        let passes = Double(max(perPass.count, 1))
        let all = groups.keys.sorted().flatMap { c in
            groups[c]!.map { DetectedObject(box: $0.box, score: $0.scoreSum / passes, classIndex: c) }
        }
        return PostProcessor.best(all, limit: maxDetections)
    }

    /// Detections of one class merged so far: the sum of their scores and their score-weighted box.
    struct Group {
        var scoreSum = 0.0
        var weighted = (x1: 0.0, y1: 0.0, x2: 0.0, y2: 0.0)
        var firstBox: Box

        init(_ d: DetectedObject) {
            firstBox = d.box
            add(d)
        }

        /// The score-weighted mean box (the first member's while every score is 0).
        var box: Box {
            guard scoreSum > 0 else { return firstBox }
            return Box(x1: weighted.x1 / scoreSum, y1: weighted.y1 / scoreSum, x2: weighted.x2 / scoreSum,
                       y2: weighted.y2 / scoreSum)
        }

        mutating func add(_ d: DetectedObject) {
            scoreSum += d.score
            weighted.x1 += d.score * d.box.x1; weighted.y1 += d.score * d.box.y1
            weighted.x2 += d.score * d.box.x2; weighted.y2 += d.score * d.box.y2
        }
    }
}
