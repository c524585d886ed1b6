import Boxes
import Datasets
import Foundation
import Reporting

/// Confident detections on no labelled object: the places where the annotations may have missed an object, as
/// cleanlab's object-detection "missing label" issues and FiftyOne's `possible_missing` report them. When precision
/// stays low while recall is high, these are the first boxes to look at: an unlabelled object that the detector
/// finds counts as a false positive in COCO AP however right the detector is.
///
/// A detection is listed when its score is at least `threshold` and its IoU with every ground-truth box of the
/// image, of any class and crowd or ignored ones included, is below `maxIoU` (0.1 by default: it touches no
/// labelled object, so it is neither a duplicate nor a misplaced box of one).
public struct PossibleMissingLabels: Sendable {
    /// One listed detection.
    public struct Candidate: Sendable, Equatable, Codable {
        /// The image's id in the dataset.
        public var imageID: Int
        /// The image's path as written in the annotations.
        public var fileName: String
        /// The detected class's name and its id in the dataset.
        public var category: String, categoryID: Int
        /// The box `[x, y, width, height]` in the image's pixels (COCO's `bbox`).
        public var bbox: [Double]
        /// The detection's score.
        public var score: Double
        /// The highest IoU of the box with a ground-truth box of the image (0 when the image has none).
        public var maxIoU: Double

        enum CodingKeys: String, CodingKey {
            case imageID = "image_id", fileName = "file_name", category, categoryID = "category_id", bbox, score
            case maxIoU = "max_iou"
        }
    }

    /// The listed detections, highest score first.
    public var candidates: [Candidate]
    /// The lowest score listed.
    public var threshold: Double
    /// The IoU with ground truth at and above which a detection is not listed.
    public var maxIoU: Double

    /// The detections of `head` in `predictions` that score at least `threshold` and overlap every ground-truth box
    /// of `dataset` by less than `maxIoU`.
    public init(predictions: [ImagePrediction], head: KeyPath<ImagePrediction, [DetectedObject]>,
                dataset: DetectionDataset, threshold: Double, maxIoU: Double = 0.1) {
        self.threshold = threshold
        self.maxIoU = maxIoU
        candidates = []
        var recordOf: [Int: ImageRecord] = [:]
        for r in dataset.images { recordOf[r.id] = r }
        var found: [Candidate] = []
        for p in predictions {
            guard let record = recordOf[p.imageID] else { continue }
            for d in p[keyPath: head] {
                guard let overlap = listedOverlap(d, record) else { continue }
                let category = dataset.categories[d.classIndex]
                found.append(Candidate(imageID: p.imageID, fileName: record.fileName, category: category.name,
                                       categoryID: category.id, bbox: [d.box.x1, d.box.y1, d.box.width, d.box.height],
                                       score: d.score, maxIoU: overlap))
            }
        }
        candidates = found.sorted { ($0.score, -$0.imageID) > ($1.score, -$1.imageID) }
    }

    /// The highest IoU of `detection` with a ground-truth box of `record` when the detection is listed (its score at
    /// least `threshold`, that IoU below `maxIoU`), else nil.
    func listedOverlap(_ detection: DetectedObject, _ record: ImageRecord) -> Double? {
        guard detection.score >= threshold else { return nil }
        let overlap = record.annotations.map { iou(detection.box, $0.box) }.max() ?? 0
        return overlap < maxIoU ? overlap : nil
    }

    /// Images with listed detections and how many, most first (lower image id first on ties).
    public var images: [(imageID: Int, fileName: String, count: Int)] {
        var count: [Int: Int] = [:], name: [Int: String] = [:]
        for c in candidates {
            count[c.imageID, default: 0] += 1
            name[c.imageID] = c.fileName
        }
        return count.keys.sorted { (count[$0]!, -$0) > (count[$1]!, -$1) }.map { ($0, name[$0]!, count[$0]!) }
    }

    /// One line for a person: how many, in how many images, and the images with the most.
    public var summary: String {
        let top = images.prefix(3).map { "\($0.fileName) (\($0.count))" }.joined(separator: ", ")
        return String(format: "possible missing labels: %d detection(s) with score ≥ %.2f on no labelled object "
            + "(IoU < %.2f) in %d image(s)", candidates.count, threshold, maxIoU, images.count)
            + (top.isEmpty ? "" : "; most in \(top)")
    }

    /// Overlay pictures of the `count` images (at most) holding the most listed detections, most first, as
    /// `<folder>/<prefix><image stem>.png` (`Overlay.write`): the ground truth in white and only the listed
    /// detections in class colours, so that what is drawn in colour is what the annotations may lack. Returns the
    /// files written.
    public func writePictures(_ predictions: [ImagePrediction], head: KeyPath<ImagePrediction, [DetectedObject]>,
                              dataset: DetectionDataset, count: Int, to folder: URL,
                              prefix: String = "") throws -> [URL] {
        var predictionOf: [Int: ImagePrediction] = [:], recordOf: [Int: ImageRecord] = [:]
        for p in predictions { predictionOf[p.imageID] = p }
        for r in dataset.images { recordOf[r.id] = r }
        let worst = images.prefix(max(0, count)).compactMap { image -> ImagePrediction? in
            guard let p = predictionOf[image.imageID], let record = recordOf[image.imageID] else { return nil }
            let listed = p[keyPath: head].filter { listedOverlap($0, record) != nil }
            return ImagePrediction(imageID: p.imageID, set: listed, dense: listed)
        }
        return try Overlay.write(worst, head: head, dataset: dataset, count: worst.count, threshold: threshold,
                                 to: folder, prefix: prefix)
    }

    /// Writes `{"threshold", "max_iou", "images": [{"file_name", "count"}], "detections": [Candidate]}` to `url`
    /// atomically (`DurableFile`, as the run folder's other files).
    public func write(to url: URL) throws {
        struct File: Encodable {
            struct Image: Encodable {
                var fileName: String, count: Int
                enum CodingKeys: String, CodingKey { case fileName = "file_name", count }
            }
            var threshold: Double, maxIoU: Double, images: [Image], detections: [Candidate]
            enum CodingKeys: String, CodingKey { case threshold, maxIoU = "max_iou", images, detections }
        }
        let file = File(threshold: threshold, maxIoU: maxIoU,
                        images: images.map { File.Image(fileName: $0.fileName, count: $0.count) },
                        detections: candidates)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try DurableFile.write(try encoder.encode(file), to: url)
    }
}
