import DetectorModel
import Boxes
import Datasets
import Foundation
import NeuralNet

/// One detected object in original image pixels.
public struct DetectedObject: Sendable, Equatable, Codable {
    /// Box, xyxy in the original image's pixels.
    public var box: Box
    /// Confidence in `[0, 1]`.
    public var score: Double
    /// 0-based class index (`DetectorConfig.classNames`).
    public var classIndex: Int

    /// Creates a detection.
    public init(box: Box, score: Double, classIndex: Int) {
        self.box = box; self.score = score; self.classIndex = classIndex
    }
}

/// Turns network outputs into detections: the set head by thresholding alone (no NMS: duplicates are trained
/// away by the one-to-one matching), the dense head by decoding, a score threshold, top-k and class-aware NMS
/// (RetinaNet's inference: 0.05, 1000 candidates, NMS at IoU 0.5, 100 detections).
public struct PostProcessor: Sendable {
    /// Minimum score kept.
    public var scoreThreshold: Double = 0.001
    /// Dense head: candidates kept before NMS, per image.
    public var denseCandidates: Int = 1000
    /// Dense head: NMS IoU threshold.
    public var nmsIoU: Double = 0.5
    /// Detections kept per image (COCO's maxDets 100).
    public var maxDetections: Int = 100
    /// Set head: one detection per hypothesis and real class (score = that class's probability), the best
    /// `maxDetections` of all kept, as Deformable DETR's post-processing ranks query × class pairs; false keeps only
    /// each hypothesis's most probable class.
    public var setEveryClass = true

    /// Default settings.
    public init() {}

    /// Set-head detections of image `b`: per hypothesis, each real class (or only the most probable one, see
    /// `setEveryClass`) with its softmax probability as score; boxes mapped back to original pixels by `transform`
    /// (and clipped to the image).
    public func setDetections(_ out: DetectorOutput, image b: Int, transform: InputTransform) -> [DetectedObject] {
        let k = out.hypotheses
        guard k > 0 else { return [] }
        let c1 = out.setLogits.shape[1], s = Double(transform.inputSize)
        var dets: [DetectedObject] = []
        for h in 0..<k {
            let r = b * k + h
            var m = -Double.infinity
            for j in 0..<c1 { m = max(m, Double(out.setLogits.data[r * c1 + j])) }
            var z = 0.0, best = 0, bestValue = -Double.infinity
            for j in 0..<c1 {
                let e = exp(Double(out.setLogits.data[r * c1 + j]) - m)
                z += e
                if j < c1 - 1 && e > bestValue { bestValue = e; best = j }
            }
            let bx = out.setBoxes[(r * 4)..<(r * 4 + 4)].map { Double($0) * s }
            let box = transform.toOriginal(Box(cx: bx[0], cy: bx[1], w: bx[2], h: bx[3]))
            for j in (setEveryClass ? Array(0..<(c1 - 1)) : [best]) {
                let score = exp(Double(out.setLogits.data[r * c1 + j]) - m) / z
                if score >= scoreThreshold { dets.append(DetectedObject(box: box, score: score, classIndex: j)) }
            }
        }
        return top(dets)
    }

    /// Dense-head detections of image `b` after class-aware NMS.
    public func denseDetections(_ out: DetectorOutput, image b: Int, decoder: DenseBoxDecoder,
                                transform: InputTransform) -> [DetectedObject] {
        let (total, c) = (out.denseLogits.shape[1], out.denseLogits.shape[2])
        let logitThreshold = Float(log(scoreThreshold / (1 - scoreThreshold)))
        var cands: [(score: Float, anchor: Int, cls: Int)] = []
        out.denseLogits.data.withUnsafeBufferPointer { p in
            let base = p.baseAddress! + b * total * c
            for i in 0..<(total * c) where base[i] > logitThreshold { cands.append((base[i], i / c, i % c)) }
        }
        cands.sort { $0.score > $1.score || ($0.score == $1.score && $0.anchor * c + $0.cls < $1.anchor * c + $1.cls) }
        if cands.count > denseCandidates { cands.removeLast(cands.count - denseCandidates) }
        var boxes: [Box] = [], scores: [Double] = [], classes: [Int] = []
        for cand in cands {
            boxes.append(transform.toOriginal(decoder.box(anchor: cand.anchor, image: b, deltas: out.denseDeltas)))
            scores.append(1 / (1 + exp(-Double(cand.score))))
            classes.append(cand.cls)
        }
        let keep = batchedNMS(boxes: boxes, scores: scores, classes: classes, iouThreshold: nmsIoU)
        return top(keep.map { DetectedObject(box: boxes[$0], score: scores[$0], classIndex: classes[$0]) })
    }

    /// The `maxDetections` best, by descending score (stable).
    func top(_ dets: [DetectedObject]) -> [DetectedObject] { Self.best(dets, limit: maxDetections) }

    /// The `limit` best of `dets`, by descending score (stable: ties keep their order).
    static func best(_ dets: [DetectedObject], limit: Int) -> [DetectedObject] {
        let sorted = dets.enumerated().sorted { $0.element.score > $1.element.score || ($0.element.score == $1.element.score && $0.offset < $1.offset) }
        return sorted.prefix(limit).map(\.element)
    }
}
