import Datasets
import Foundation

/// Anchor sizes fitted to a training set: one-dimensional k-means on the log of each box's side `√(w·h)` as the
/// network sees it (after the letterbox scale `inputSize / max(width, height)`), the "dimension clusters" of YOLOv2
/// (Redmon & Farhadi, "YOLO9000", CVPR 2017) reduced to square anchors, with distances in log space so that a
/// 16 px box is as far from 32 px as 32 px is from 64 px. Deterministic: centres start evenly spread over the range
/// of log sides (at `(i + ½)/k` of it), so a rare size (BCCD's white cells among ten times as many red ones) still
/// gets its own anchor.
public enum AnchorFitting {
    /// `count` anchor sides in input pixels, ascending, rounded to 0.5 px; nil when the dataset has no boxes.
    public static func sizes(for dataset: DetectionDataset, inputSize: Int, count: Int, iterations: Int = 50) -> [Double]? {
        var logs: [Double] = []
        for image in dataset.images {
            let scale = Double(inputSize) / Double(max(image.width, image.height, 1))
            for a in image.annotations where !a.isCrowd && a.box.width > 0 && a.box.height > 0 {
                logs.append(log((a.box.width * a.box.height).squareRoot() * scale))
            }
        }
        return fit(logSides: logs, count: count, iterations: iterations).map { $0.map { (exp($0) * 2).rounded() / 2 } }
    }

    /// k-means in one dimension: the `count` centres (ascending) of `logSides`; nil when empty.
    static func fit(logSides: [Double], count: Int, iterations: Int) -> [Double]? {
        guard !logSides.isEmpty, count > 0 else { return nil }
        let sorted = logSides.sorted()
        let (lo, hi) = (sorted.first!, sorted.last!)
        var centres = (0..<count).map { lo + (Double($0) + 0.5) / Double(count) * (hi - lo) }
        for _ in 0..<iterations {
            var sums = [Double](repeating: 0, count: count), counts = [Int](repeating: 0, count: count)
            for v in sorted {
                var best = 0
                for c in 1..<count where abs(v - centres[c]) < abs(v - centres[best]) { best = c }
                sums[best] += v
                counts[best] += 1
            }
            let next = (0..<count).map { counts[$0] > 0 ? sums[$0] / Double(counts[$0]) : centres[$0] }
            if next == centres { break }
            centres = next
        }
        return centres.sorted()
    }
}
