import Criterion
import Datasets
import Foundation
import Losses
import NeuralNet

/// What a finished (or stopped) training run reports.
public struct TrainingSummary: Sendable {
    /// Optimizer steps taken in total (including before a resume).
    public var steps: Int
    /// Completed epochs.
    public var epochs: Int
    /// Training minutes (excluding evaluation), summed over resumed runs.
    public var minutes: Double
    /// Images per second of the training steps of this run.
    public var imagesPerSecond: Double
    /// Share of this run's step time spent waiting for data.
    public var dataWaitFraction: Double
    /// Final validation metrics of both heads (nil without a validation split).
    public var metrics: HeadMetrics?
    /// The run folder.
    public var runFolder: URL
    /// Why the run ended early (a stop signal), or nil.
    public var stoppedBy: String?
    /// Images skipped as unreadable.
    public var skippedImages: Int
}

/// The training loop of `detector train`: data, model, AdamW with warmup and cosine decay, logs, plots,
/// validation, checkpoints, stop signals and exact resumes (see `TrainOptions`).
///
/// Run folder: `log.jsonl` (one record per step and per evaluation), `loss.svg`, `ap.svg`, `last.safetensors`,
/// `best.safetensors` (best validation AP50 of the set head, or of the dense head without one), `metrics.json`.
public final class Trainer {
    /// The options.
    public let options: TrainOptions

    /// A trainer; throws when an option cannot work.
    public init(options: TrainOptions) throws {
        try options.validate()
        self.options = options
    }

    func say(_ message: String) {
        if options.verbose { FileHandle.standardError.write(Data((message + "\n").utf8)) }
    }

    /// Loads the training and validation datasets, generating the synthetic default when needed.
    public func loadData() throws -> (train: DetectionDataset, val: DetectionDataset?) {
        var trainURL = options.data, valURL = options.val
        if trainURL == nil {
            let folder = options.syntheticFolder
            let trainJSON = folder.appendingPathComponent("train.json"), valJSON = folder.appendingPathComponent("val.json")
            if !SyntheticScenes.isGenerated(in: folder, trainCount: options.syntheticTrain, valCount: options.syntheticVal,
                                            seed: 2026) {
                say("generating the synthetic default dataset in \(folder.path) (\(options.syntheticTrain) train + \(options.syntheticVal) val images)…")
                let report = try SyntheticScenes.generate(to: folder, trainCount: options.syntheticTrain,
                                                          valCount: options.syntheticVal, seed: 2026)
                say("  \(report)")
            }
            trainURL = trainJSON
            if valURL == nil { valURL = valJSON }
        }
        let validation = ValidationOptions()
        let train = try DetectionDataset.load(trainURL!, imageDirectory: options.images, options: validation)
        say("training data: \(trainURL!.path): \(train.images.count) images, \(train.annotationCount) boxes, "
            + "classes \(train.categories.map(\.name).joined(separator: ", "))")
        if !train.report.isClean { say("  \(train.report)") }
        var val: DetectionDataset? = nil
        if let v = valURL {
            let d = try DetectionDataset.load(v, imageDirectory: options.valImages, options: validation)
            guard d.categories.map(\.name) == train.categories.map(\.name) else {
                throw DetectionError.invalidOption("--val", "\(v.path) has classes \(d.categories.map(\.name)), training data has \(train.categories.map(\.name))")
            }
            say("validation data: \(v.path): \(d.images.count) images, \(d.annotationCount) boxes")
            val = d
        }
        return (train, val)
    }

    /// The configuration for `classes`: the reference one, then `--config`, then explicit options; `train` is
    /// needed for `autoAnchors`.
    public func makeConfig(classes: [String], train: DetectionDataset? = nil) throws -> DetectorConfig {
        var c = DetectorConfig.reference(classes: classes)
        if let url = options.config {
            let text: String
            do { text = try String(contentsOf: url, encoding: .utf8) } catch {
                throw DetectionError.io(url.path, "cannot read the configuration: \(error.localizedDescription)")
            }
            c = try DetectorConfig.from(json: text, source: url.path, base: c)
            c.classNames = classes
        }
        if options.data == nil && options.config == nil {
            // The synthetic default (256² scenes of up to 60 objects of 16–64 px): input at the scenes' size, room
            // for every object, anchors spanning the object sizes, ATSS positives, queries from the dense proposals
            // after NMS (grid peaks miss one of two neighbours in a crowd), the ReInspect cost (the best-ranked
            // hypothesis on an object is its match, which the head learns faster than DETR's cost), the dense-score
            // class prior and IoU-aware attention (README, "Results", for what each choice measured).
            c.inputSize = SyntheticSceneConfig().imageSize
            c.hypotheses = 100
            c.anchorSizes = [16, 32, 64]
            c.denseAssignment = .atss
            c.querySelection = .nms
            c.matchCost = .reinspect
            c.setClassPrior = true
            c.setGeometry = true
        }
        if let s = options.inputSize { c.inputSize = s }
        if let h = options.setHead { c.setHead = h }
        if let k = options.hypotheses { c.hypotheses = k }
        if let m = options.matchCost { c.matchCost = m }
        if let a = options.anchorSizes { c.anchorSizes = a }
        if options.autoAnchors, let train,
           let fitted = AnchorFitting.sizes(for: train, inputSize: c.inputSize, count: c.anchorSizes.count) {
            c.anchorSizes = fitted
            say("anchor sides fitted to the training boxes: \(fitted.map { String(format: "%g", $0) }.joined(separator: ", ")) px")
        }
        c.labelSmoothing = options.labelSmoothing
        c.classBalanceBeta = options.classBalance
        if c != DetectorConfig.reference(classes: classes) { c.name = "custom" }
        try c.validate()
        return c
    }
}
