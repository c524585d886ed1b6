import Boxes
import Datasets
import Foundation
import Reporting

/// What a detector does at a working score threshold, beside COCO AP (which integrates over all thresholds): a
/// confusion matrix at one threshold and precision, recall and F1 against the threshold, as ultralytics'
/// `ConfusionMatrix` and `F1_curve.png`.
///
/// Matching (both parts): per image, detections at or above the threshold are matched one-to-one to ground truth
/// at IoU ≥ `iouThreshold` (0.5). Crowd and ignored ground truth is left out of the counts; a detection matched to it
/// counts neither way.
/// - Confusion matrix: matching ignores classes; pairs are taken greedily by IoU, highest first. Row = predicted
///   class, column = true class, the last row and column are "background": a missed object counts in (background,
///   its class), a detection matching nothing in (its class, background).
/// - Precision / recall / F1: matching is within a class, detections taken by score, highest first, each to the
///   unmatched object of highest IoU (COCO's rule at one IoU); since that order does not depend on the threshold,
///   each detection is matched once and the curve is a cumulative count: `P = TP / (TP + FP)`, `R = TP / N`,
///   `F1 = 2PR / (P + R)`, for thresholds 0.01, 0.02, …, 0.99.
public struct ThresholdDiagnostics: Sendable {
    /// Class names, in class order.
    public var classNames: [String]
    /// `(C + 1) × (C + 1)` counts, `matrix[predicted][true]`, index `C` = background.
    public var confusion: [[Int]]
    /// The score threshold of the confusion matrix.
    public var confusionThreshold: Double
    /// Thresholds of the curve and precision, recall, F1 at each.
    public var thresholds: [Double], precision: [Double], recall: [Double], f1: [Double]

    /// Counts for `predictions` of one head against `dataset`'s annotations (original pixels).
    public init(predictions: [ImagePrediction], head: KeyPath<ImagePrediction, [DetectedObject]>,
                dataset: DetectionDataset, confusionThreshold: Double = 0.25, iouThreshold: Double = 0.5) {
        let classes = dataset.categories.count
        classNames = dataset.categories.map(\.name)
        self.confusionThreshold = confusionThreshold
        var annotationsOf: [Int: [Annotation]] = [:]
        for r in dataset.images { annotationsOf[r.id] = r.annotations }
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classes + 1), count: classes + 1)
        var scored: [(score: Double, truePositive: Bool)] = []
        var objects = 0
        for p in predictions {
            let gt = annotationsOf[p.imageID] ?? []
            let detections = p[keyPath: head]
            objects += gt.filter { !($0.ignore || $0.isCrowd) }.count
            Self.confuse(detections.filter { $0.score >= confusionThreshold }, gt, iou: iouThreshold, into: &matrix)
            scored += Self.matchByScore(detections, gt, iou: iouThreshold).compactMap { d, match in
                match == .ignored ? nil : (d.score, match != .unmatched)
            }
        }
        confusion = matrix
        thresholds = (1...99).map { Double($0) / 100 }
        scored.sort { $0.score > $1.score }
        var tp = 0, fp = 0, k = 0
        precision = []; recall = []; f1 = []
        for t in thresholds.reversed() {
            while k < scored.count && scored[k].score >= t {
                if scored[k].truePositive { tp += 1 } else { fp += 1 }
                k += 1
            }
            let p = tp + fp > 0 ? Double(tp) / Double(tp + fp) : 1, r = objects > 0 ? Double(tp) / Double(objects) : 0
            precision.append(p); recall.append(r); f1.append(p + r > 0 ? 2 * p * r / (p + r) : 0)
        }
        precision.reverse(); recall.reverse(); f1.reverse()
    }

    /// The threshold of the highest F1 (the lowest such threshold on ties) and the three values there.
    public var bestF1: (threshold: Double, f1: Double, precision: Double, recall: Double) {
        let i = f1.indices.max { f1[$0] < f1[$1] || (f1[$0] == f1[$1] && $0 > $1) } ?? 0
        return (thresholds[i], f1[i], precision[i], recall[i])
    }

    /// Class-agnostic greedy matching by IoU into the confusion matrix.
    static func confuse(_ detections: [DetectedObject], _ gt: [Annotation], iou threshold: Double, into m: inout [[Int]]) {
        let background = m.count - 1
        var pairs: [(iou: Double, d: Int, g: Int)] = []
        for (d, det) in detections.enumerated() {
            for (g, a) in gt.enumerated() {
                let v = iou(det.box, a.box)
                if v >= threshold { pairs.append((v, d, g)) }
            }
        }
        pairs.sort { $0.iou > $1.iou }
        var usedD = Set<Int>(), usedG = Set<Int>()
        for pair in pairs where !usedD.contains(pair.d) && !usedG.contains(pair.g) {
            usedD.insert(pair.d); usedG.insert(pair.g)
            let a = gt[pair.g]
            if !(a.ignore || a.isCrowd) { m[detections[pair.d].classIndex][a.classIndex] += 1 }
        }
        for (g, a) in gt.enumerated() where !usedG.contains(g) && !(a.ignore || a.isCrowd) { m[background][a.classIndex] += 1 }
        for (d, det) in detections.enumerated() where !usedD.contains(d) { m[det.classIndex][background] += 1 }
    }

    /// What per-class matching by score made of a detection.
    enum ScoreMatch: Equatable {
        /// It took this object (an index into the ground truth), not crowd, not ignored.
        case object(Int)
        /// It took no object but overlaps a crowd or ignored object of its class: it counts neither way.
        case ignored
        /// A false positive.
        case unmatched
    }

    /// Per-class matching by score: the detections, highest score first, each with what it matched.
    static func matchByScore(_ detections: [DetectedObject], _ gt: [Annotation], iou threshold: Double)
        -> [(detection: DetectedObject, match: ScoreMatch)]
    {
        var used = [Bool](repeating: false, count: gt.count)
        var out: [(detection: DetectedObject, match: ScoreMatch)] = []
        for det in detections.sorted(by: { $0.score > $1.score }) {
            // A real object first (the unmatched one of highest IoU); else an ignored one, which may absorb many.
            var best = -1, bestIoU = threshold
            for (g, a) in gt.enumerated() where a.classIndex == det.classIndex && !used[g] && !(a.ignore || a.isCrowd) {
                let v = iou(det.box, a.box)
                if v >= bestIoU { best = g; bestIoU = v }
            }
            if best >= 0 {
                used[best] = true
                out.append((det, .object(best)))
            } else if gt.contains(where: { ($0.ignore || $0.isCrowd) && $0.classIndex == det.classIndex
                && iou(det.box, $0.box) >= threshold }) {
                out.append((det, .ignored))
            } else {
                out.append((det, .unmatched))
            }
        }
        return out
    }

    /// The confusion matrix as CSV: a header `predicted\true,<classes>,background`, then one row per predicted class.
    public var confusionCSV: String {
        let names = classNames + ["background"]
        var lines = [(["predicted\\true"] + names).joined(separator: ",")]
        for (i, row) in confusion.enumerated() { lines.append(([names[i]] + row.map(String.init)).joined(separator: ",")) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The confusion matrix as an aligned text table (predicted rows, true columns).
    public var confusionTable: String {
        let names = classNames + ["background"]
        let width = max(10, names.map(\.count).max() ?? 0) + 1
        func pad(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        var s = pad("pred\\true") + names.map(pad).joined() + "\n"
        for (i, row) in confusion.enumerated() { s += pad(names[i]) + row.map { pad(String($0)) }.joined() + "\n" }
        return s
    }

    /// The confusion matrix as a chart (predicted rows, true columns, each cell shaded by its share of the true class).
    public var confusionChart: MatrixChart {
        let names = classNames + ["background"]
        return MatrixChart(title: String(format: "Confusion at score ≥ %.2f, IoU ≥ 0.5", confusionThreshold),
                           rowAxis: "predicted", columnAxis: "true", rowLabels: names, columnLabels: names,
                           counts: confusion)
    }

    /// Precision, recall and F1 against the score threshold.
    public var chart: LineChart {
        func series(_ name: String, _ v: [Double]) -> LineChart.Series {
            LineChart.Series(name: name, points: zip(thresholds, v).map { (x: $0, y: $1) })
        }
        let best = bestF1
        var c = LineChart(title: String(format: "F1 %.3f at score %.2f", best.f1, best.threshold), xLabel: "score threshold",
                          yLabel: "value", series: [series("precision", precision), series("recall", recall), series("F1", f1)])
        c.xRange = 0...1
        c.yRange = 0...1
        return c
    }
}
