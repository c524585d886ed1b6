import Boxes
import Foundation
import NeuralNet

/// Picks the K dense anchors whose boxes and features become the query head's hypotheses (two-stage Deformable
/// DETR and RT-DETR select their queries from the encoder's dense proposals the same way). Three strategies
/// (`DetectorConfig.QuerySelectionKind`):
/// - `topK`: the K anchors with the highest best-class logit;
/// - `peaks`: confident 3×3 peaks of the score map first (CenterNet, Zhou et al., "Objects as Points", 2019), then
///   the rest by score;
/// - `nms`: the decoded dense boxes after greedy NMS first (the proposal NMS of Faster R-CNN's region proposal
///   network), then the rest by score.
/// Every strategy returns, per image, K distinct anchor indices best first (ties: lower index first); the order is
/// the hypotheses' rank (the ReInspect cost's rank term).
public struct QuerySelector: Sendable {
    /// The strategy.
    public var strategy: DetectorConfig.QuerySelectionKind
    /// Anchors picked per image (K).
    public var count: Int
    /// `nms`: the IoU above which a proposal is a duplicate of a better one.
    public var nmsIoU: Double
    /// `peaks`: the probability a peak needs to count as confident. Default 0.05.
    public var peakThreshold: Float = 0.05
    /// Side of the square stride-8 anchor grid (`peaks(logits:k:)` reads it; `select` takes a rectangular input's
    /// grid from its decoder; a pyramid's configuration refuses `peaks`).
    public let featureSize: Int
    /// Anchors per grid location.
    public let anchorsPerLocation: Int

    /// The selector of `config` (its `querySelection`, `hypotheses`, `queryNMSIoU` and anchor grid).
    public init(config: DetectorConfig) {
        strategy = config.querySelection
        count = config.hypotheses
        nmsIoU = config.queryNMSIoU
        featureSize = config.featureSize
        anchorsPerLocation = config.anchorsPerLocation
    }

    /// Per image, the K anchors of the strategy, from dense logits `[N, A, C]` and deltas `[N, A, 4]`.
    public func select(logits: Tensor, deltas: Tensor, decoder: DenseBoxDecoder) -> [[Int]] {
        switch strategy {
        case .topK: return topK(logits: logits, k: count)
        case .peaks: return peaks(logits: logits, k: count, gridHeight: decoder.inputHeight / 8, gridWidth: decoder.inputWidth / 8)
        case .nms: return nms(logits: logits, deltas: deltas, decoder: decoder, k: count, iouThreshold: nmsIoU)
        }
    }

    /// Per image, the indices of the K anchors with the highest best-class logit, best first (ties: lower index first).
    public func topK(logits: Tensor, k: Int) -> [[Int]] {
        (0..<logits.shape[0]).map { b in
            let best = Self.bestClassLogits(logits, image: b)
            return Array(Self.byScore(Array(best.indices), best).prefix(k))
        }
    }

    /// Per image, K anchors: first the confident local peaks (a location whose best anchor score is the highest of
    /// its 3×3 neighbourhood and at least `peakThreshold` as a probability; its best anchor, peaks ordered by score),
    /// then every other anchor by score. The peaks only order the candidates, so objects whose peak loses to a
    /// neighbour still enter through the second list.
    public func peaks(logits: Tensor, k: Int) -> [[Int]] {
        peaks(logits: logits, k: k, gridHeight: featureSize, gridWidth: featureSize)
    }

    /// `peaks(logits:k:)` on a `gridHeight × gridWidth` stride-8 grid (a rectangular input's `H/8 × W/8`).
    public func peaks(logits: Tensor, k: Int, gridHeight fh: Int, gridWidth f: Int) -> [[Int]] {
        let threshold = log(peakThreshold / (1 - peakThreshold))  // the probability as a logit
        let a = anchorsPerLocation
        precondition(logits.shape[1] == fh * f * a, "QuerySelector: \(logits.shape[1]) anchors ≠ \(fh)·\(f)·\(a)")
        return (0..<logits.shape[0]).map { b in
            let best = Self.bestClassLogits(logits, image: b)
            var locationBest = [Float](repeating: -.infinity, count: fh * f), locationAnchor = [Int](repeating: 0, count: fh * f)
            for l in 0..<(fh * f) {
                for s in 0..<a where best[l * a + s] > locationBest[l] { (locationBest[l], locationAnchor[l]) = (best[l * a + s], l * a + s) }
            }
            var peaks: [Int] = []
            for y in 0..<fh {
                for x in 0..<f {
                    let v = locationBest[y * f + x]
                    var isPeak = v >= threshold
                    for dy in -1...1 where isPeak {
                        for dx in -1...1 where !(dx == 0 && dy == 0) {
                            let (yy, xx) = (y + dy, x + dx)
                            guard yy >= 0, yy < fh, xx >= 0, xx < f else { continue }
                            let u = locationBest[yy * f + xx]
                            // Ties go to the earlier location, so a flat plateau yields one peak.
                            if u > v || (u == v && yy * f + xx < y * f + x) { isPeak = false; break }
                        }
                    }
                    if isPeak { peaks.append(locationAnchor[y * f + x]) }
                }
            }
            return Self.filled(Array(Self.byScore(peaks, best).prefix(k)), best: best, k: k)
        }
    }

    /// Per image, K anchors: first those whose decoded dense box survives greedy suppression (anchors visited by
    /// best-class score, ties by lower index; a box is dropped when its IoU with a kept box exceeds `iouThreshold`),
    /// then every other anchor by score. Suppression (`Boxes.nms`) stops once K boxes are kept.
    public func nms(logits: Tensor, deltas: Tensor, decoder: DenseBoxDecoder, k: Int, iouThreshold: Double) -> [[Int]] {
        (0..<logits.shape[0]).map { b in
            let best = Self.bestClassLogits(logits, image: b)
            let boxes = best.indices.map { decoder.box(anchor: $0, image: b, deltas: deltas) }
            let kept = Boxes.nms(boxes: boxes, scores: best.map(Double.init), iouThreshold: iouThreshold, maxKept: k)
            return Self.filled(kept, best: best, k: k)
        }
    }

    /// Image `b`'s best-class logit of every anchor (NaN counts as −∞), from dense logits `[N, A, C]`.
    public static func bestClassLogits(_ logits: Tensor, image b: Int) -> [Float] {
        let (total, c) = (logits.shape[1], logits.shape[2])
        var best = [Float](repeating: -.infinity, count: total)
        logits.data.withUnsafeBufferPointer { p in
            for i in 0..<total {
                let row = p.baseAddress! + (b * total + i) * c
                var m = row[0]
                for j in 1..<c where row[j] > m { m = row[j] }
                best[i] = m.isNaN ? -.infinity : m
            }
        }
        return best
    }

    /// `anchors` ordered by descending `best` score, ties by lower index.
    public static func byScore(_ anchors: [Int], _ best: [Float]) -> [Int] {
        anchors.sorted { best[$0] > best[$1] || (best[$0] == best[$1] && $0 < $1) }
    }

    /// `chosen` followed by the best-scoring other anchors, up to K in all.
    static func filled(_ chosen: [Int], best: [Float], k: Int) -> [Int] {
        guard chosen.count < k else { return chosen }
        let taken = Set(chosen)
        return chosen + byScore(best.indices.filter { !taken.contains($0) }, best).prefix(k - chosen.count)
    }
}
