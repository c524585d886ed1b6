import Foundation

/// Per-category figures of a COCO evaluation (all areas, the largest detection limit).
public struct COCOCategoryMetrics: Equatable, Sendable {
    /// The category.
    public var category: COCOCategory
    /// AP over IoU 0.50:0.95 (−1 when the category has no relevant ground truth).
    public var ap: Double
    /// AP at IoU 0.50.
    public var ap50: Double
    /// AP at IoU 0.75.
    public var ap75: Double
    /// Recall averaged over IoU 0.50:0.95.
    public var ar: Double
}

/// A precision–recall curve sampled at the recall points (pycocotools' interpolated precision).
public struct PrecisionRecallCurve: Equatable, Sendable {
    /// Legend text, e.g. `AP50 (all categories)`.
    public var label: String
    /// Recall points (R values).
    public var recall: [Double]
    /// Interpolated precision at each recall point.
    public var precision: [Double]
    /// The area under the sampled curve: the mean of `precision` (the AP of this curve).
    public var averagePrecision: Double { precision.isEmpty ? -1 : numpySum(precision[...]) / Double(precision.count) }
}

extension COCOEvaluation {
    /// AP, AP50, AP75 and AR per category, over all areas at the largest detection limit.
    public var perCategory: [COCOCategoryMetrics] {
        let last = parameters.maxDetections.last!
        return categories.indices.map { k in
            COCOCategoryMetrics(
                category: categories[k],
                ap: summarize(averagePrecision: true, maxDetections: last, categoryIndex: k),
                ap50: summarize(averagePrecision: true, iouThreshold: 0.5, maxDetections: last, categoryIndex: k),
                ap75: summarize(averagePrecision: true, iouThreshold: 0.75, maxDetections: last, categoryIndex: k),
                ar: summarize(averagePrecision: false, maxDetections: last, categoryIndex: k))
        }
    }

    /// A plain-text table of `perCategory` (id, name, AP, AP50, AP75, AR); `-` marks categories without
    /// ground truth.
    public var categoryTable: String {
        let rows = perCategory
        let nameWidth = max(8, rows.map(\.category.name.count).max() ?? 0)
        func cell(_ v: Double) -> String { v < 0 ? pad("-", 7, left: true) : String(format: "%7.3f", v) }
        var text = pad("id", 5, left: true) + "  " + pad("category", nameWidth) + "       AP    AP50    AP75      AR\n"
        for r in rows {
            text += pad(String(r.category.id), 5, left: true) + "  " + pad(r.category.name, nameWidth) + " "
                + cell(r.ap) + " " + cell(r.ap50) + " " + cell(r.ap75) + " " + cell(r.ar) + "\n"
        }
        return text
    }

    /// The precision–recall curve at IoU threshold `iouThreshold` (0.5 → AP50), area range `area`, the
    /// largest detection limit; for one category (`categoryIndex`) or averaged over the categories that have
    /// ground truth. Nil when no category has ground truth or the threshold is not evaluated.
    public func precisionRecallCurve(iouThreshold: Double, categoryIndex: Int? = nil,
                                     area: String = "all") -> PrecisionRecallCurve? {
        let p = parameters
        guard let t = p.iouThresholds.firstIndex(of: iouThreshold),
              let a = p.areaRanges.firstIndex(where: { $0.label == area }) else { return nil }
        let m = p.maxDetections.count - 1
        let ks = categoryIndex.map { [$0] } ?? Array(categories.indices)
        let valid = ks.filter { precision(t: t, r: 0, k: $0, a: a, m: m) > -1 }
        guard !valid.isEmpty else { return nil }
        let values = p.recallThresholds.indices.map { r in
            valid.reduce(0.0) { $0 + precision(t: t, r: r, k: $1, a: a, m: m) } / Double(valid.count)
        }
        let iouText = String(format: "%.0f", iouThreshold * 100)
        let who = categoryIndex.map { categories[$0].name } ?? "all categories"
        return PrecisionRecallCurve(label: "AP\(iouText) (\(who))", recall: p.recallThresholds, precision: values)
    }

    /// The metrics as a JSON object: `stats` (name → value), `stats_list` (pycocotools order),
    /// `per_category`, `images`, `detections`; with a detection limit above 100, `stats_at_max_dets` (`max_dets` and
    /// `statsAt(maxDetections:)` by name); with `crowd`, `crowd` (`MR-2`, `JI`, `JI_score_threshold`).
    public func metricsJSON(crowd: CrowdMetrics? = nil) throws -> Data {
        var statsByName: [String: Double] = [:]
        let values = stats
        for (n, v) in zip(Self.statNames, values) { statsByName[n] = v }
        var object: [String: Any] = [
            "stats": statsByName,
            "stats_list": values,
            "stats_names": Self.statNames,
            "per_category": perCategory.map {
                ["id": $0.category.id, "name": $0.category.name, "AP": $0.ap, "AP50": $0.ap50, "AP75": $0.ap75,
                 "AR100": $0.ar] as [String: Any]
            },
            "images": imageCount,
            "detections": detectionCount,
        ]
        if let n = parameters.maxDetections.last, n > 100 { object["stats_at_max_dets"] = statsJSON(maxDetections: n) }
        if let crowd { object["crowd"] = crowd.jsonObject }
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    /// The figures at a detection limit `n` as a JSON object: `max_dets` (= `n`) and `statsAt(maxDetections:)` by
    /// name (`maxDetectionStatNames`); `metrics.json` of `detector evaluate --max-dets` and of training share it.
    public func statsJSON(maxDetections n: Int) -> [String: Any] {
        var entry: [String: Any] = ["max_dets": n]
        for (name, v) in zip(Self.maxDetectionStatNames, statsAt(maxDetections: n)) { entry[name] = v }
        return entry
    }

    /// Writes `metricsJSON(crowd:)` to `url`.
    public func writeMetrics(to url: URL, crowd: CrowdMetrics? = nil) throws {
        do {
            try metricsJSON(crowd: crowd).write(to: url, options: .atomic)
        } catch {
            throw EvaluationError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }
}
