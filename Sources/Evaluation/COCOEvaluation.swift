import Foundation

/// The accumulated result of a COCO evaluation: pycocotools' `eval['precision']`, `eval['recall']` and the
/// summary statistics derived from them.
public struct COCOEvaluation: Sendable {
    /// The settings used.
    public let parameters: COCOParameters
    /// Evaluated categories (K), ascending by id; index k of the arrays below.
    public let categories: [COCOCategory]
    /// Number of ground-truth images.
    public let imageCount: Int
    /// Number of detections given (before truncation and before dropping unknown categories).
    public let detectionCount: Int
    /// Precision `[T][R][K][A][M]`, row-major (T IoU thresholds, R recall points, K categories, A area
    /// ranges, M detection limits); −1 where the setting has no relevant ground truth.
    public let precision: [Double]
    /// Recall `[T][K][A][M]`, row-major; −1 where the setting has no relevant ground truth.
    public let recall: [Double]

    /// Names of the 12 summary statistics, in pycocotools' order.
    public static let statNames = ["AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
                                   "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large"]

    /// Precision at IoU threshold t, recall point r, category k, area range a, detection limit m.
    public func precision(t: Int, r: Int, k: Int, a: Int, m: Int) -> Double {
        let p = parameters
        return precision[(((t * p.recallThresholds.count + r) * categories.count + k) * p.areaRanges.count + a)
            * p.maxDetections.count + m]
    }

    /// Recall at IoU threshold t, category k, area range a, detection limit m.
    public func recall(t: Int, k: Int, a: Int, m: Int) -> Double {
        let p = parameters
        return recall[((t * categories.count + k) * p.areaRanges.count + a) * p.maxDetections.count + m]
    }

    /// One summary value as pycocotools' `_summarize`: the mean of all entries > −1 over the selected
    /// thresholds (all when `iouThreshold` is nil), recall points and categories (or only `categoryIndex`),
    /// or −1 when there are none. The mean sums like numpy (pairwise) so the result is the same double.
    public func summarize(averagePrecision: Bool, iouThreshold: Double? = nil, area: String = "all",
                          maxDetections: Int? = nil, categoryIndex: Int? = nil) -> Double {
        let p = parameters
        guard let a = p.areaRanges.firstIndex(where: { $0.label == area }),
              let m = p.maxDetections.firstIndex(of: maxDetections ?? p.maxDetections.last!) else { return -1 }
        let ts = p.iouThresholds.indices.filter { iouThreshold == nil || p.iouThresholds[$0] == iouThreshold! }
        let ks = categoryIndex.map { [$0] } ?? Array(categories.indices)
        var values: [Double] = []
        for t in ts {
            if averagePrecision {
                for r in p.recallThresholds.indices {
                    for k in ks { let v = precision(t: t, r: r, k: k, a: a, m: m); if v > -1 { values.append(v) } }
                }
            } else {
                for k in ks { let v = recall(t: t, k: k, a: a, m: m); if v > -1 { values.append(v) } }
            }
        }
        return values.isEmpty ? -1 : numpySum(values[...]) / Double(values.count)
    }

    /// The 12 statistics of `COCOeval.summarize()` for bounding boxes, in `statNames` order, taken at the first three
    /// detection limits (`[1, 10, 100]` by default; with `[1, 10, 100, N]` the statistics stay those at 100, as
    /// pycocotools gives them, and `statsAt(maxDetections: N)` gives the figures at N).
    /// Requires at least three detection limits and the 0.5 / 0.75 thresholds (the defaults).
    public var stats: [Double] {
        let d = parameters.maxDetections
        precondition(d.count >= 3, "the standard summary needs three detection limits")
        return [
            summarize(averagePrecision: true, maxDetections: d[2]),
            summarize(averagePrecision: true, iouThreshold: 0.5, maxDetections: d[2]),
            summarize(averagePrecision: true, iouThreshold: 0.75, maxDetections: d[2]),
            summarize(averagePrecision: true, area: "small", maxDetections: d[2]),
            summarize(averagePrecision: true, area: "medium", maxDetections: d[2]),
            summarize(averagePrecision: true, area: "large", maxDetections: d[2]),
            summarize(averagePrecision: false, maxDetections: d[0]),
            summarize(averagePrecision: false, maxDetections: d[1]),
            summarize(averagePrecision: false, maxDetections: d[2]),
            summarize(averagePrecision: false, area: "small", maxDetections: d[2]),
            summarize(averagePrecision: false, area: "medium", maxDetections: d[2]),
            summarize(averagePrecision: false, area: "large", maxDetections: d[2]),
        ]
    }

    /// Names of the figures of `statsAt(maxDetections:)`.
    public static let maxDetectionStatNames = ["AP", "AP50", "AP75", "AR"]

    /// AP, AP50, AP75 and AR over all areas at the detection limit `n` (one of `parameters.maxDetections`; −1
    /// otherwise): the figures `detector evaluate --max-dets N` adds for crowds, where pycocotools' 100 cuts recall.
    public func statsAt(maxDetections n: Int) -> [Double] {
        [summarize(averagePrecision: true, maxDetections: n),
         summarize(averagePrecision: true, iouThreshold: 0.5, maxDetections: n),
         summarize(averagePrecision: true, iouThreshold: 0.75, maxDetections: n),
         summarize(averagePrecision: false, maxDetections: n)]
    }

    /// The lines of `statsAt(maxDetections: n)` in the layout of `summary`.
    public func summary(maxDetections n: Int) -> String {
        let t = parameters.iouThresholds
        let all = String(format: "%0.2f:%0.2f", t.first!, t.last!)
        let rows: [(Bool, String)] = [(true, all), (true, "0.50"), (true, "0.75"), (false, all)]
        return zip(rows, statsAt(maxDetections: n)).map { row, value in
            " " + pad(row.0 ? "Average Precision" : "Average Recall", 18) + (row.0 ? " (AP)" : " (AR)") + " @[ IoU="
                + pad(row.1, 9) + " | area=" + pad("all", 6, left: true) + " | maxDets=" + pad(String(n), 3, left: true)
                + " ] = " + String(format: "%0.3f", value)
        }.joined(separator: "\n") + "\n"
    }

    /// The 12 lines `COCOeval.summarize()` prints, character for character, e.g.
    /// ` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.283`.
    public var summary: String {
        let d = parameters.maxDetections
        let t = parameters.iouThresholds
        let all = String(format: "%0.2f:%0.2f", t.first!, t.last!)
        let rows: [(Bool, String, String, Int)] = [
            (true, all, "all", d[2]), (true, "0.50", "all", d[2]), (true, "0.75", "all", d[2]),
            (true, all, "small", d[2]), (true, all, "medium", d[2]), (true, all, "large", d[2]),
            (false, all, "all", d[0]), (false, all, "all", d[1]), (false, all, "all", d[2]),
            (false, all, "small", d[2]), (false, all, "medium", d[2]), (false, all, "large", d[2]),
        ]
        return zip(rows, stats).map { row, value in
            let (ap, iou, area, maxDets) = row
            let title = ap ? "Average Precision" : "Average Recall"
            let kind = ap ? "(AP)" : "(AR)"
            return " " + pad(title, 18) + " \(kind) @[ IoU=" + pad(iou, 9) + " | area=" + pad(area, 6, left: true)
                + " | maxDets=" + pad(String(maxDets), 3, left: true) + " ] = " + String(format: "%0.3f", value)
        }.joined(separator: "\n") + "\n"
    }
}

/// `text` padded with spaces to `width` (on the right, or on the left when `left`), as Python's `{:<n}` / `{:>n}`.
func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return left ? fill + text : text + fill
}

/// numpy's pairwise summation of a contiguous float64 array (`np.add.reduce`): blocks of up to 128 values
/// summed with 8 interleaved accumulators, larger arrays split in halves rounded down to a multiple of 8.
func numpySum(_ a: ArraySlice<Double>) -> Double {
    let n = a.count
    let s = a.startIndex
    if n < 8 {
        var r = 0.0
        for v in a { r += v }
        return r
    }
    if n <= 128 {
        var r = (a[s], a[s + 1], a[s + 2], a[s + 3], a[s + 4], a[s + 5], a[s + 6], a[s + 7])
        var i = 8
        while i < n - n % 8 {
            r.0 += a[s + i]; r.1 += a[s + i + 1]; r.2 += a[s + i + 2]; r.3 += a[s + i + 3]
            r.4 += a[s + i + 4]; r.5 += a[s + i + 5]; r.6 += a[s + i + 6]; r.7 += a[s + i + 7]
            i += 8
        }
        var res = ((r.0 + r.1) + (r.2 + r.3)) + ((r.4 + r.5) + (r.6 + r.7))
        while i < n { res += a[s + i]; i += 1 }
        return res
    }
    var half = n / 2
    half -= half % 8
    return numpySum(a[s..<(s + half)]) + numpySum(a[(s + half)...])
}
