import DetectorModel
import Boxes
import Datasets
import Evaluation
import Foundation
import Imaging

/// `detector evaluate --model` as a library call: run a checkpoint over a COCO dataset's images and evaluate each
/// requested head with pycocotools' rules (set head without NMS, dense head with class-aware NMS), writing per head
/// `<head>_results.json` (COCO results format, the dataset's category ids), `<head>_metrics.json` and
/// `<head>_pr.svg`, the confusion matrix and P/R/F1 chart (`ThresholdDiagnostics`), `<head>_possible_missing.json`
/// (`PossibleMissingLabels`), plus overlay pictures of the first images.
public enum ModelEvaluation {
    /// Which heads to evaluate.
    public enum HeadChoice: String, Sendable, CaseIterable {
        /// The set head only (refused when the model has none).
        case set
        /// The dense head only.
        case dense
        /// Both heads; a model without a set head gives the dense head alone (with a note).
        case both
    }

    /// What to evaluate and where to write it.
    public struct Options: Sendable {
        /// Checkpoint written by `Checkpoint.save`.
        public var model: URL
        /// Further checkpoints of a model ensemble (`Predictor.ensemble`), their passes merged with `model`'s by
        /// `passMerge`. Default none.
        public var ensemble: [URL] = []
        /// Ground truth in COCO JSON.
        public var data: URL
        /// Folder of the images (default: resolved next to `data`, see `COCOFormat.load`).
        public var images: URL?
        /// Heads to evaluate. Default `.both`.
        public var heads: HeadChoice = .both
        /// Output folder (created).
        public var out: URL
        /// Overlay pictures of the first `overlays` images, per head, in `out/overlays/`. Default 0.
        public var overlays: Int = 0
        /// Minimum score of the boxes drawn in overlays (evaluation itself keeps every box down to 0.001); nil, the
        /// default: each head's best-F1 threshold on this data (`ThresholdDiagnostics.bestF1`, what `detect` uses).
        public var overlayThreshold: Double?
        /// Leave unreadable images out of the forward pass instead of stopping; their ground truth still counts
        /// (as misses). Default false.
        public var skipBadImages = false
        /// Images per forward pass. Default 16.
        public var batchSize = 16
        /// Detections kept per image and evaluated (pycocotools' `maxDets`, ≥ 100): above 100, each head keeps that
        /// many and the evaluation reports the figures at 100 (pycocotools' statistics) and at this limit. Default 100.
        public var maxDetections = 100
        /// Overlapping tiles for images larger than a tile (`Tiling`); nil (default) predicts whole images.
        public var tiling: Tiling?
        /// Input side the network runs at (`InferenceInput`); nil: the side training chose and stored, else the one it
        /// was trained at.
        public var inputSize: Int?
        /// IoU above which the dense head's NMS drops the lower-scored of two same-class boxes (`PostProcessor.nmsIoU`);
        /// nil: 0.5, torchvision's RetinaNet value.
        public var nmsIoU: Double?
        /// Test-time flips (`TestTimeFlips`); nil (default): one pass.
        public var flips: TestTimeFlips?
        /// How the passes of `flips` and `ensemble` are merged (`Predictor.passMerge`). Default `.match`.
        public var passMerge = TestTimeFlips.Merge.match

        /// Options with the defaults above.
        public init(model: URL, data: URL, out: URL) {
            self.model = model
            self.data = data
            self.out = out
        }
    }

    /// One head's evaluation and the files written for it.
    public struct HeadReport {
        /// The head.
        public var head: DetectRun.Head
        /// COCO metrics (12 stats, per-category table, precision–recall curves).
        public var evaluation: COCOEvaluation
        /// The crowd metrics (MR⁻², JI).
        public var crowd: CrowdMetrics
        /// `<head>_results.json`.
        public var resultsFile: URL
        /// `<head>_metrics.json`.
        public var metricsFile: URL
        /// `<head>_pr.svg`.
        public var plotFile: URL
        /// Overlay pictures written for this head.
        public var overlayFiles: [URL]
        /// The lowest score drawn in them.
        public var overlayThreshold: Double
        /// Confusion matrix and precision / recall / F1 against the score threshold.
        public var diagnostics: ThresholdDiagnostics
        /// `<head>_confusion.csv`, `<head>_confusion.svg` and `<head>_f1.svg`.
        public var confusionFile: URL, confusionPlotFile: URL, f1PlotFile: URL
        /// Detections scoring at least `overlayThreshold` on no labelled object, and `<head>_possible_missing.json`
        /// that lists them.
        public var possibleMissing: PossibleMissingLabels, possibleMissingFile: URL
        /// Overlay pictures `overlays/possible_missing/<head>_<image stem>.png` of the images holding most of them.
        public var missingOverlayFiles: [URL]
        /// The detections at `overlayThreshold` by kind (true positives, duplicates, …) and the boxes missed.
        public var errors: ErrorBreakdown
    }

    /// The outcome of a run.
    public struct Report {
        /// One entry per evaluated head, set head first.
        public var heads: [HeadReport]
        /// Images in the dataset.
        public var imageCount: Int
        /// Images left out because they could not be read (`skipBadImages`).
        public var skippedImages: Int
        /// Seconds spent predicting (decode, forward, post-processing).
        public var predictSeconds: Double
        /// Things the user should know (a head left out, class names that differ, …).
        public var notes: [String]
        /// What each head's detections are when an image had more than one pass (`Predictor.passCount`): "4 flipped
        /// passes merged one to one", "2 passes merged by NMS" (an ensemble), "8 flipped and ensembled passes …";
        /// nil for one pass.
        public var merged: String?
    }

    /// Loads the checkpoint and the dataset, predicts, evaluates and writes the files. `progress` gets
    /// (images done, total) during prediction.
    ///
    /// Errors: unreadable checkpoint or dataset (naming the file), `.set` on a model without set head, a model
    /// whose class count differs from the dataset's category count, models of an ensemble that predict other classes
    /// or heads than the first, unwritable output files.
    public static func run(_ options: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Report {
        let models = [options.model] + options.ensemble
        let members = try InferenceInput.loadEnsemble(models, inputSize: options.inputSize)
        let config = members[0].loaded.detector.config
        var notes: [String] = []
        for (url, (loaded, trainedSize, sideSource)) in zip(models, members)
        where loaded.detector.config.inputSize != trainedSize {
            let chosen = sideSource == .chosen ? ", chosen on the validation split at the end of training" : ""
            notes.append((models.count > 1 ? "\(url.lastPathComponent): " : "")
                + "input side \(loaded.detector.config.inputSize) (trained at \(trainedSize)\(chosen))")
        }
        let hasSet = config.setHead != .none
        var heads: [DetectRun.Head]
        switch options.heads {
        case .set:
            guard hasSet else {
                throw InferenceError.invalidSetting(key: "head", reason: "\(options.model.path) has no set head; use --head dense")
            }
            heads = [.set]
        case .dense: heads = [.dense]
        case .both:
            heads = hasSet ? [.set, .dense] : [.dense]
            if !hasSet { notes.append("\(options.model.lastPathComponent) has no set head: dense head only") }
        }
        guard options.maxDetections >= 100 else {
            throw InferenceError.invalidSetting(key: "maxDetections", reason: "must be at least 100 (pycocotools' default), got \(options.maxDetections)")
        }
        guard options.overlays >= 0 else { throw InferenceError.invalidSetting(key: "overlays", reason: "must be ≥ 0, got \(options.overlays)") }

        let dataset = try COCOFormat.load(options.data, imageDirectory: options.images,
                                          options: ValidationOptions(requireImageFiles: !options.skipBadImages))
        let names = dataset.categories.map(\.name)
        guard names.count == config.numClasses else {
            throw InferenceError.invalidSetting(key: "data", reason: "\(options.data.path) has \(names.count) categories "
                + "(\(names.joined(separator: ", "))) but \(options.model.path) predicts \(config.numClasses) classes "
                + "(\(config.classNames.joined(separator: ", ")))")
        }
        if names != config.classNames {
            notes.append("class names differ: model [\(config.classNames.joined(separator: ", "))], dataset "
                + "[\(names.joined(separator: ", "))]; class i of the model is scored as the dataset's i-th category by id")
        }

        var post = PostProcessor()
        post.maxDetections = options.maxDetections
        if let iou = options.nmsIoU { post.nmsIoU = iou }
        let predictor = Predictor(detector: members[0].loaded.detector, postProcessor: post,
                                  batchSize: options.batchSize)
        predictor.tiling = options.tiling
        predictor.flips = options.flips
        predictor.ensemble = members.dropFirst().map(\.loaded.detector)
        predictor.passMerge = options.passMerge
        var merged: String?
        if predictor.passCount > 1 {
            let parts = (options.flips.map { ["test-time flips \($0.rawValue)"] } ?? [])
                + (models.count > 1 ? ["an ensemble of \(models.count) models"] : [])
            notes.append(parts.joined(separator: " and ") + ": \(predictor.passCount) passes an image, merged per "
                + "class \(options.passMerge.wording) " + String(format: "at IoU %.2f", post.nmsIoU))
            let kind = options.flips == nil ? "" : models.count > 1 ? "flipped and ensembled " : "flipped "
            merged = "\(predictor.passCount) \(kind)passes merged \(options.passMerge.wording)"
        }
        let start = Date()
        let (predictions, skipped) = try predictor.predict(dataset: dataset, skipBadImages: options.skipBadImages,
                                                           progress: progress)
        let predictSeconds = Date().timeIntervalSince(start)
        if skipped > 0 {
            notes.append("\(skipped) unreadable image(s) skipped; their ground truth counts as missed")
        }
        for w in predictor.decodeWarnings { notes.append("decoded with warnings: " + w) }

        let fm = FileManager.default
        do { try fm.createDirectory(at: options.out, withIntermediateDirectories: true) } catch {
            throw InferenceError.io(path: options.out.path, reason: "cannot create the output folder: \(error.localizedDescription)")
        }
        let truth = try dataset.cocoGroundTruth()
        var parameters = COCOParameters()
        if options.maxDetections > 100 { parameters.maxDetections.append(options.maxDetections) }
        let evaluator = COCOEvaluator(groundTruth: truth, parameters: parameters)
        var reports: [HeadReport] = []
        for head in heads {
            let path: KeyPath<ImagePrediction, [DetectedObject]> = head == .set ? \.set : \.dense
            let detections = dataset.cocoDetections(predictions, head: path)
            let resultsFile = options.out.appendingPathComponent("\(head.rawValue)_results.json")
            try COCOResults.write(detections, to: resultsFile)
            let evaluation = try evaluator.evaluate(detections: detections, source: "\(head.rawValue) head")
            let metricsFile = options.out.appendingPathComponent("\(head.rawValue)_metrics.json")
            let crowd = CrowdMetrics.evaluate(groundTruth: truth, detections: detections)
            try evaluation.writeMetrics(to: metricsFile, crowd: crowd)
            let plotFile = options.out.appendingPathComponent("\(head.rawValue)_pr.svg")
            var plot = PrecisionRecallPlot(evaluation: evaluation, perCategory: names.count > 1)
            plot.title = "\(head.rawValue) head: " + plot.title
            try plot.write(to: plotFile)
            let diagnostics = ThresholdDiagnostics(predictions: predictions, head: path, dataset: dataset)
            let overlayThreshold = options.overlayThreshold ?? diagnostics.bestF1.threshold
            let overlayFiles = try writeOverlays(predictions, head: head, dataset: dataset, options: options,
                                                 threshold: overlayThreshold)
            let confusionFile = options.out.appendingPathComponent("\(head.rawValue)_confusion.csv")
            do { try Data(diagnostics.confusionCSV.utf8).write(to: confusionFile, options: .atomic) } catch {
                throw InferenceError.io(path: confusionFile.path, reason: "cannot write: \(error.localizedDescription)")
            }
            let confusionPlotFile = options.out.appendingPathComponent("\(head.rawValue)_confusion.svg")
            var confusionChart = diagnostics.confusionChart
            confusionChart.title = "\(head.rawValue) head: " + confusionChart.title
            try confusionChart.write(to: confusionPlotFile)
            let f1PlotFile = options.out.appendingPathComponent("\(head.rawValue)_f1.svg")
            try diagnostics.chart.write(to: f1PlotFile)
            let possibleMissing = PossibleMissingLabels(predictions: predictions, head: path, dataset: dataset,
                                                        threshold: overlayThreshold)
            let possibleMissingFile = options.out.appendingPathComponent("\(head.rawValue)_possible_missing.json")
            try possibleMissing.write(to: possibleMissingFile)
            let missingOverlayFiles = try possibleMissing.writePictures(
                predictions, head: path, dataset: dataset, count: options.overlays,
                to: options.out.appendingPathComponent("overlays/possible_missing"), prefix: "\(head.rawValue)_")
            reports.append(HeadReport(head: head, evaluation: evaluation, crowd: crowd,
                                      resultsFile: resultsFile, metricsFile: metricsFile,
                                      plotFile: plotFile, overlayFiles: overlayFiles, overlayThreshold: overlayThreshold,
                                      diagnostics: diagnostics,
                                      confusionFile: confusionFile, confusionPlotFile: confusionPlotFile,
                                      f1PlotFile: f1PlotFile, possibleMissing: possibleMissing,
                                      possibleMissingFile: possibleMissingFile,
                                      missingOverlayFiles: missingOverlayFiles,
                                      errors: ErrorBreakdown(predictions: predictions, head: path, dataset: dataset,
                                                             threshold: overlayThreshold)))
        }
        return Report(heads: reports, imageCount: dataset.images.count, skippedImages: skipped,
                      predictSeconds: predictSeconds, notes: notes, merged: merged)
    }

    /// Overlay pictures `out/overlays/<head>_<image stem>.png` of the first `options.overlays` predicted images:
    /// ground truth white, predictions scoring at least `threshold` in class colours with `class score` labels.
    static func writeOverlays(_ predictions: [ImagePrediction], head: DetectRun.Head, dataset: DetectionDataset,
                              options: Options, threshold: Double) throws -> [URL] {
        try Overlay.write(predictions, head: head == .set ? \.set : \.dense, dataset: dataset, count: options.overlays,
                          threshold: threshold, to: options.out.appendingPathComponent("overlays"),
                          prefix: "\(head.rawValue)_")
    }
}
