import DetectorModel
import Boxes
import Datasets
import Evaluation
import Foundation

/// COCO evaluation (pycocotools rules, through `Evaluation`) of both heads' predictions on a dataset, and the crowd
/// metrics (MR⁻², JI) beside it.
public struct HeadMetrics: Sendable {
    /// Set head (no NMS).
    public var set: COCOEvaluation?
    /// Dense head (NMS).
    public var dense: COCOEvaluation
    /// Crowd metrics of the set head.
    public var setCrowd: CrowdMetrics?
    /// Crowd metrics of the dense head.
    public var denseCrowd: CrowdMetrics
    /// Each head's best-F1 score threshold on these predictions (`ThresholdDiagnostics.bestF1`).
    public var scoreThresholds: ScoreThresholds

    /// AP50 of the set head, or of the dense head without one: what training keeps its best checkpoint and chooses
    /// the inference input side by.
    public var keyAP50: Double { self.set?.stats[1] ?? dense.stats[1] }

    /// The detection limit above 100 the evaluations also hold figures at (`evaluate(_:hasSetHead:maxDetections:)`),
    /// or nil.
    public var extraDetectionLimit: Int? {
        dense.parameters.maxDetections.count > 3 ? dense.parameters.maxDetections.last : nil
    }

    /// `set AP50 … AP … [AP50@N …] MR⁻² … JI … | dense …`, with the AP50 at the limit above 100 where there is one.
    public var summaryLine: String {
        func f(_ e: COCOEvaluation, _ c: CrowdMetrics) -> String {
            let extra = extraDetectionLimit.map { String(format: "AP50@%d %.3f ", $0, e.statsAt(maxDetections: $0)[1]) } ?? ""
            return String(format: "AP50 %.3f AP %.3f ", e.stats[1], e.stats[0]) + extra + c.summaryLine
        }
        let setPart = set.flatMap { s in setCrowd.map { "set head \(f(s, $0)) | " } } ?? ""
        return setPart + "dense head \(f(dense, denseCrowd))"
    }
}

extension DetectionDataset {
    /// The dataset's ground truth for COCO evaluation: when the dataset came from a COCO file, that file as
    /// pycocotools reads it (its `area`, `iscrowd` and `ignore` fields); otherwise boxes from the annotations with
    /// `area = w·h`.
    public func cocoGroundTruth() throws -> COCOGroundTruth {
        if source.pathExtension.lowercased() == "json" { return try COCOGroundTruth(contentsOf: source) }
        let images = self.images.map { COCOImage(id: $0.id, fileName: $0.fileName, width: $0.width, height: $0.height) }
        let cats = categories.map { COCOCategory(id: $0.id, name: $0.name) }
        var anns: [COCOAnnotation] = []
        for r in self.images {
            for a in r.annotations {
                let b = COCOBox(x: a.box.x1, y: a.box.y1, width: a.box.width, height: a.box.height)
                anns.append(COCOAnnotation(id: anns.count + 1, imageID: r.id, categoryID: categories[a.classIndex].id,
                                           box: b, area: b.area, isCrowd: a.isCrowd, ignore: a.ignore))
            }
        }
        return COCOGroundTruth(images: images, categories: cats, annotations: anns)
    }

    /// Predictions as COCO detections (category ids of this dataset).
    public func cocoDetections(_ predictions: [ImagePrediction], head: KeyPath<ImagePrediction, [DetectedObject]>) -> [COCODetection] {
        predictions.flatMap { p in
            p[keyPath: head].map { d in
                COCODetection(imageID: p.imageID, categoryID: categories[d.classIndex].id,
                              box: COCOBox(x: d.box.x1, y: d.box.y1, width: d.box.width, height: d.box.height), score: d.score)
            }
        }
    }

    /// Evaluates both heads' predictions against this dataset's ground truth: COCO AP and the crowd metrics. With
    /// `maxDetections` above 100 the evaluation also holds the figures at that limit (`COCOEvaluation.statsAt`,
    /// pycocotools with `maxDets = [1, 10, 100, N]`); its 12 standard statistics stay those at 100.
    public func evaluate(_ predictions: [ImagePrediction], hasSetHead: Bool, maxDetections: Int = 100) throws -> HeadMetrics {
        let truth = try cocoGroundTruth()
        var parameters = COCOParameters()
        if maxDetections > 100 { parameters.maxDetections.append(maxDetections) }
        let evaluator = COCOEvaluator(groundTruth: truth, parameters: parameters)
        let denseDetections = cocoDetections(predictions, head: \.dense)
        let dense = try evaluator.evaluate(detections: denseDetections, source: "dense head")
        let denseCrowd = CrowdMetrics.evaluate(groundTruth: truth, detections: denseDetections)
        func bestThreshold(_ head: KeyPath<ImagePrediction, [DetectedObject]>) -> Double {
            ThresholdDiagnostics(predictions: predictions, head: head, dataset: self).bestF1.threshold
        }
        guard hasSetHead else {
            return HeadMetrics(set: nil, dense: dense, setCrowd: nil, denseCrowd: denseCrowd,
                               scoreThresholds: ScoreThresholds(set: nil, dense: bestThreshold(\.dense)))
        }
        let setDetections = cocoDetections(predictions, head: \.set)
        return HeadMetrics(set: try evaluator.evaluate(detections: setDetections, source: "set head"), dense: dense,
                           setCrowd: CrowdMetrics.evaluate(groundTruth: truth, detections: setDetections),
                           denseCrowd: denseCrowd,
                           scoreThresholds: ScoreThresholds(set: bestThreshold(\.set), dense: bestThreshold(\.dense)))
    }
}
