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
        let logs = boxSides(of: dataset).map { log($0.side * (Double(inputSize) / $0.longerSide)) }
        return fit(logSides: logs, count: count, iterations: iterations).map { $0.map { (exp($0) * 2).rounded() / 2 } }
    }

    /// Every box's side `√(w·h)` and its image's longer side, in image pixels (crowd regions and empty boxes left
    /// out): what the anchor sides and the input side (`InputFitting`) are fitted to.
    static func boxSides(of dataset: DetectionDataset) -> [(side: Double, longerSide: Double)] {
        dataset.images.flatMap { image in
            let long = Double(max(image.width, image.height, 1))
            return image.annotations.filter { !$0.isCrowd && $0.box.width > 0 && $0.box.height > 0 }
                .map { (side: ($0.box.width * $0.box.height).squareRoot(), longerSide: long) }
        }
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
