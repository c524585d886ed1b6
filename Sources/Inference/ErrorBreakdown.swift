import Boxes
import Datasets
import Foundation

/// Where a head's detections at one score threshold go, counted in the error kinds of TIDE (Bolya et al., "TIDE: A
/// General Toolbox for Identifying Object Detection Errors", ECCV 2020): in a crowd, duplicates are what NMS exists
/// for and what a set head must learn to leave out, so they are told apart from misplaced boxes, boxes on nothing
/// labelled and objects missed.
///
/// Per image, the detections scoring at least `threshold` are matched as the precision / recall curve of
/// `ThresholdDiagnostics` matches them (best first, pycocotools' greedy order), with IoU threshold `t` (0.5) and
/// background threshold `b` (0.1):
/// - true positive: IoU ≥ t with a box of its class that no better detection took (the box is then taken);
/// - ignored: else IoU ≥ t with a crowd or ignored box of its class (as COCO, neither right nor wrong);
/// and each false positive is the first of these that holds:
/// - duplicate: IoU ≥ t with a box of its class (one that a better detection took);
/// - wrong class: IoU ≥ t with a box of another class (crowd and ignored ones included);
/// - poorly placed: IoU in [b, t) with some box (of any class, crowd and ignored ones included);
/// - background: IoU below b with every box (`PossibleMissingLabels` lists these).
/// Boxes (not crowd, not ignored) that no detection took are missed. Partial regions are not boxes.
public struct ErrorBreakdown: Sendable, Equatable {
    /// The lowest score counted.
    public var threshold: Double
    /// The IoU of a true positive, and the IoU below which a detection touches no labelled object.
    public var iou: Double, backgroundIoU: Double
    /// Detections of each kind.
    public var truePositives = 0, duplicates = 0, ignored = 0, wrongClass = 0, poorlyPlaced = 0, background = 0
    /// Boxes (not crowd, not ignored) that no detection took.
    public var missed = 0

    /// The counts of `head` in `predictions` against `dataset` at `threshold`.
    public init(predictions: [ImagePrediction], head: KeyPath<ImagePrediction, [DetectedObject]>,
                dataset: DetectionDataset, threshold: Double, iou: Double = 0.5, backgroundIoU: Double = 0.1) {
        self.threshold = threshold
        self.iou = iou
        self.backgroundIoU = backgroundIoU
        var recordOf: [Int: ImageRecord] = [:]
        for r in dataset.images { recordOf[r.id] = r }
        var seen = Set<Int>()
        for p in predictions {
            guard let record = recordOf[p.imageID], seen.insert(p.imageID).inserted else { continue }
            count(p[keyPath: head], record.annotations.filter { !$0.isPartialRegion })
        }
        for r in dataset.images where !seen.contains(r.id) {
            missed += r.annotations.filter { !$0.isPartialRegion && !$0.isCrowd && !$0.ignore }.count
        }
    }

    /// Counts one image's detections against its boxes.
    private mutating func count(_ detections: [DetectedObject], _ boxes: [Annotation]) {
        let counted = boxes.map { !$0.isCrowd && !$0.ignore }
        var taken = [Bool](repeating: false, count: boxes.count)
        let matched = ThresholdDiagnostics.matchByScore(detections.filter { $0.score >= threshold }, boxes, iou: iou)
        for (d, match) in matched {
            switch match {
            case .object(let g):
                taken[g] = true
                truePositives += 1
            case .ignored:
                ignored += 1
            case .unmatched:
                let overlaps = boxes.map { Boxes.iou(d.box, $0.box) }
                if boxes.indices.contains(where: {
                    counted[$0] && boxes[$0].classIndex == d.classIndex && overlaps[$0] >= iou
                }) {
                    duplicates += 1
                } else if overlaps.contains(where: { $0 >= iou }) {
                    wrongClass += 1
                } else if overlaps.contains(where: { $0 >= backgroundIoU }) {
                    poorlyPlaced += 1
                } else {
                    background += 1
                }
            }
        }
        missed += boxes.indices.filter { counted[$0] && !taken[$0] }.count
    }

    /// One line for a person.
    public var summary: String {
        String(format: "at score ≥ %.2f, IoU %.2f: %d true positive(s); false positives: %d duplicate(s), %d poorly "
               + "placed (IoU %.2f–%.2f), %d on no labelled object, %d of the wrong class; %d ignored; %d box(es) "
               + "missed", threshold, iou, truePositives, duplicates, poorlyPlaced, backgroundIoU, iou, background,
               wrongClass, ignored, missed)
    }
}
