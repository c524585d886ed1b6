import Datasets
import DetectorModel
import Foundation
import Inference
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
    /// The settings the run trained with.
    public var configuration: RunConfiguration
}

/// The training loop of `detector train`: a short loop over steps and epochs (`Trainer+Run.swift`) and hooks that
/// do everything around it (`TrainerHooks.swift`: log and progress, checkpoints, validation, plots), as
/// Detectron2's `HookBase` or Lightning's callbacks.
///
/// Run folder: `log.jsonl` (one `LogRecord` per step and per validation), `loss.svg`, `ap.svg`, `last.safetensors`,
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
            let folder = options.syntheticFolder ?? options.synthetic.defaultFolder
            let scenes = options.synthetic.config
            if !SyntheticScenes.isGenerated(in: folder, trainCount: options.syntheticTrain, valCount: options.syntheticVal,
                                            seed: 2026, config: scenes) {
                say("generating the \(options.synthetic.rawValue) dataset in \(folder.path) "
                    + "(\(options.syntheticTrain) train + \(options.syntheticVal) val images)…")
                let report = try SyntheticScenes.generate(to: folder, trainCount: options.syntheticTrain,
                                                          valCount: options.syntheticVal, seed: 2026, config: scenes)
                say("  \(report)")
            }
            trainURL = folder.appendingPathComponent("train.json")
            if valURL == nil { valURL = folder.appendingPathComponent("val.json") }
        }
        guard let trainURL else { preconditionFailure("training data resolved above") }
        let validation = ValidationOptions()
        let train = try DetectionDataset.load(trainURL, imageDirectory: options.images, options: validation)
        say("training data: \(trainURL.path): \(train.images.count) images, \(train.annotationCount) boxes, "
            + "classes \(train.categories.map(\.name).joined(separator: ", "))")
        if !train.report.isClean { say("  \(train.report)") }
        var val: DetectionDataset? = nil
        if let v = valURL {
            let d = try DetectionDataset.load(v, imageDirectory: options.valImages, options: validation)
            guard d.categories.map(\.name) == train.categories.map(\.name) else {
                throw TrainingError.invalidSetting(
                    key: "val",
                    reason: "\(v.path) has classes \(d.categories.map(\.name)), training data has \(train.categories.map(\.name))")
            }
            say("validation data: \(v.path): \(d.images.count) images, \(d.annotationCount) boxes")
            val = d
        }
        return (train, val)
    }

    /// The configuration of a new run for `classes` (`RunConfiguration.resolve`); `train` is needed for `autoAnchors`.
    public func makeConfiguration(classes: [String], train: DetectionDataset? = nil) throws -> RunConfiguration {
        try RunConfiguration.resolve(options, classes: classes, train: train, say: say)
    }

    /// With `partialLabels`, marks the training images lacking a usual class as labelling it in part; says what it
    /// marked, and how many images label some class in part in all.
    func markPartialLabels(_ train: inout DetectionDataset, settings: TrainSettings) {
        if settings.partialLabels {
            for (c, images) in train.markImagesLackingUsualClasses() {
                say(String(format: "partial labels: %d image(s) without %@, which %.0f%% of the training images hold, "
                    + "train without counting its detections there", images.count, train.categories[c].name,
                    100 * Double(train.images.count - images.count) / Double(train.images.count)))
            }
        }
        let partial = train.images.filter { !$0.partialClasses.isEmpty }.count
        if partial > 0 { say("partial labels: \(partial) training image(s) label some class in part") }
    }

    /// Class-balanced weights from the training set's class counts (nil when β = 0).
    func classWeights(_ data: DetectionDataset, beta: Double) throws -> [Double]? {
        guard beta > 0 else { return nil }
        let w = try Loss.classBalancedWeights(counts: data.classCounts.map { Double(max($0, 1)) }, beta: beta)
        say("class-balanced weights (β \(beta)): " + zip(data.categories, w).map {
            String(format: "%@ %.3f", $0.name as NSString, $1)
        }.joined(separator: ", "))
        return w
    }
}
