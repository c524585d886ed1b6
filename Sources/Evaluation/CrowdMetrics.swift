import Foundation

/// The crowd-detection figures CrowdHuman reports beside AP (Shao et al., "CrowdHuman", 2018; its evaluation
/// toolkit as in CrowdDet and mmdetection's `CrowdHumanMetric`): the log-average miss rate MR⁻² and the Jaccard
/// index JI. Both are computed per category (a detection counts only against ground truth of its own category) and
/// averaged over the categories that have ground truth; for one class (people, heads) they are the toolkit's numbers.
///
/// Ground truth marked `iscrowd` or `ignore` is an ignore region, as CrowdHuman's `ignore` boxes. Boxes are clipped to
/// their image first (x₁ to [0, width − 1], x₂ to [0, width], likewise y), when the image's size is known.
public struct CrowdMetrics: Equatable, Sendable {
    /// The log-average miss rate over 9 FPPI points (`CrowdMetrics.fppiPoints`, 10⁻² … 10⁰): lower is better; −1
    /// without ground truth.
    public var missRate: Double
    /// The Jaccard index, the best over score thresholds 0.0, 0.1, … 0.9 of the mean per-image `k / (m + n − k)`:
    /// higher is better; −1 without ground truth.
    public var jaccardIndex: Double
    /// The score threshold at which `jaccardIndex` was reached (of the first category with ground truth).
    public var jaccardThreshold: Double

    /// The FPPI reference points of MR⁻² as CrowdHuman's toolkit lists them (`10^(−2 + i/4)` rounded to 4 digits).
    public static let fppiPoints = [0.0100, 0.0178, 0.03160, 0.0562, 0.1000, 0.1778, 0.3162, 0.5623, 1.000]
    /// The score thresholds JI is taken over: 0.1·i for i in 0…9 (a detection is kept when its score is above).
    public static let jaccardThresholds = (0..<10).map { 1e-1 * Double($0) }

    /// `MR⁻² 0.123 JI 0.456`.
    public var summaryLine: String {
        func f(_ v: Double) -> String { v < 0 ? "-" : String(format: "%.3f", v) }
        return "MR⁻² \(f(missRate)) JI \(f(jaccardIndex))"
    }

    /// The metrics as JSON values: `MR-2`, `JI`, `JI_score_threshold`.
    public var jsonObject: [String: Double] {
        ["MR-2": missRate, "JI": jaccardIndex, "JI_score_threshold": jaccardThreshold]
    }

    /// Both metrics of `detections` against `groundTruth` at IoU `iouThreshold` (CrowdHuman: 0.5).
    public static func evaluate(groundTruth: COCOGroundTruth, detections: [COCODetection],
                                iouThreshold: Double = 0.5) -> CrowdMetrics {
        let scenes = CrowdScenes(groundTruth: groundTruth, detections: detections)
        var rates: [Double] = [], jaccards: [(value: Double, threshold: Double)] = []
        for k in scenes.categories.indices {
            let images = scenes.images(category: k)
            guard images.contains(where: { $0.truth.contains { !$0.ignored } }) else { continue }
            rates.append(logAverageMissRate(images, iouThreshold: iouThreshold))
            jaccards.append(jaccardIndex(images, iouThreshold: iouThreshold))
        }
        guard !rates.isEmpty else { return CrowdMetrics(missRate: -1, jaccardIndex: -1, jaccardThreshold: 0) }
        return CrowdMetrics(missRate: rates.reduce(0, +) / Double(rates.count),
                            jaccardIndex: jaccards.map(\.value).reduce(0, +) / Double(jaccards.count),
                            jaccardThreshold: jaccards[0].threshold)
    }

    /// MR⁻² of one category: each image's detections, by descending score, are matched as Caltech's `compare`
    /// does (the unmatched ground truth box of highest IoU above the threshold, else the first ignore region whose
    /// intersection over the detection's area is above it, which drops the detection); all images' true and false
    /// positives are then merged by score (stable), giving a miss rate `1 − TP/G` and `FPPI = FP/images` after each.
    /// At each reference point the miss rate is taken at the first position whose FPPI reaches it (the last one if
    /// none does), and MR⁻² = exp(mean(log mr)). Without detections every object is missed: 1.
    static func logAverageMissRate(_ images: [CrowdScenes.Image], iouThreshold: Double) -> Double {
        var scored: [(score: Double, truePositive: Bool)] = []
        for image in images { scored += caltechMatches(image, iouThreshold: iouThreshold) }
        let order = scored.indices.sorted { scored[$0].score > scored[$1].score || (scored[$0].score == scored[$1].score && $0 < $1) }
        let objects = Double(images.reduce(0) { $0 + $1.truth.filter { !$0.ignored }.count })
        var tp = 0.0, fp = 0.0, fppi: [Double] = [], missRate: [Double] = []
        for i in order {
            if scored[i].truePositive { tp += 1 } else { fp += 1 }
            missRate.append(1 - tp / (tp + (objects - tp)))
            fppi.append(fp / Double(images.count))
        }
        guard !fppi.isEmpty else { return 1 }
        let samples = fppiPoints.map { point in missRate[fppi.firstIndex { $0 >= point } ?? fppi.count - 1] }
        return exp(numpySum(samples.map { log($0) }[...]) / Double(samples.count))
    }

    /// One image's detections as Caltech matches them: (score, true positive) for each detection not absorbed by
    /// an ignore region.
    static func caltechMatches(_ image: CrowdScenes.Image, iouThreshold: Double) -> [(score: Double, truePositive: Bool)] {
        let truth = image.truth.filter { !$0.ignored } + image.truth.filter(\.ignored)
        var taken = [Bool](repeating: false, count: truth.count)
        var out: [(score: Double, truePositive: Bool)] = []
        for d in image.detections.indices.sorted(by: { image.detections[$0].score > image.detections[$1].score || (image.detections[$0].score == image.detections[$1].score && $0 < $1) }) {
            let det = image.detections[d]
            var best = -1, bestOverlap = iouThreshold
            for (j, g) in truth.enumerated() where !taken[j] {
                if !g.ignored {
                    let iou = det.box.iou(g.box)
                    if iou > bestOverlap { bestOverlap = iou; best = j }
                } else {
                    if best >= 0 { break }
                    if det.box.intersectionOverOwnArea(g.box) > iouThreshold { best = j; break }
                }
            }
            if best >= 0 {
                if !truth[best].ignored {
                    taken[best] = true
                    out.append((det.score, true))
                }
            } else {
                out.append((det.score, false))
            }
        }
        return out
    }
}
