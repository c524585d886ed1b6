import Datasets
import Foundation

/// The input size fitted to a training set, as the `default` preset chooses it for data of one's own: the longer
/// side `S` (a multiple of 32 in `range`) at which the small objects (the `quantile` of the boxes' sides `√(w·h)`)
/// reach `smallSide` pixels after the letterbox scale `S / max(width, height)`. Small objects decide because the
/// network's finest grid has stride 8: a head of 8 px is one cell, and IoU 0.5 forgives it about 2 px. Data whose
/// objects are large keeps the lower bound (the fastest input); crowds of small objects get more pixels.
public enum InputFitting {
    /// Side, in input pixels, the `quantile` of the boxes should reach: 12.
    public static let smallSide = 12.0
    /// Which boxes count as the small ones: the 10th percentile of the sides.
    public static let quantile = 0.1
    /// The sizes chosen from: 320 (the reference input) to 640 (ultralytics' default `imgsz`).
    public static let range = 320...640

    /// The fitted longer side, or nil when the dataset has no boxes.
    public static func inputSize(for dataset: DetectionDataset, smallSide: Double = smallSide, quantile: Double = quantile,
                                 range: ClosedRange<Int> = range) -> Int? {
        let relative = AnchorFitting.boxSides(of: dataset).map { $0.side / $0.longerSide }.sorted()
        guard !relative.isEmpty else { return nil }
        let small = relative[min(relative.count - 1, Int(quantile * Double(relative.count)))]
        let wanted = Int((smallSide / small / 32).rounded(.up)) * 32
        return min(max(wanted, range.lowerBound), range.upperBound)
    }
}
