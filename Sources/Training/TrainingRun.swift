import Datasets
import DetectorModel
import Foundation
import Inference
import NeuralNet
import Reporting

/// Everything a training run holds while it runs: model, optimizer, step, data, schedule, state and counters. The
/// loop advances it; hooks read it and act (log, save, evaluate, plot).
public final class TrainingRun {
    /// The options of the run.
    public let options: TrainOptions
    /// The settings the run trains with.
    public let configuration: RunConfiguration
    /// The network.
    public let detector: Detector
    /// The optimizer.
    public let optimizer: AdamW
    /// The moving average of the weights (nil when `emaDecay` is 0).
    public let average: WeightAverage?
    /// The network validation scores and `best.safetensors` holds: the weight average, or the trained network.
    public var evaluated: Detector { average?.averaged ?? detector }
    /// The training step.
    public let step: TrainStep
    /// The step's replicas when the run trains each batch on several (`ReplicaStep`, whose replica 0 is `step`);
    /// nil: one.
    public let replicaStep: ReplicaStep?
    /// The training batches.
    public let loader: BatchLoader
    /// The validation split, if any.
    public let validation: DetectionDataset?
    /// The learning-rate schedule.
    public let schedule: LearningRateSchedule
    /// Where the run stands (saved in checkpoints).
    public var state: TrainingState
    /// Batches per epoch.
    public let batchesPerEpoch: Int
    /// Epochs to train (`Int.max` for a time budget alone).
    public let epochs: Int
    /// Seconds of training the run may take (nil without a time budget).
    public let budget: Double?
    /// Training seconds before this process (a resumed run).
    public let trainedBefore: Double
    /// Training seconds, images and consecutive non-finite steps of this process.
    public var trainSeconds = 0.0, imagesThisRun = 0, nonFiniteInARow = 0
    /// Seconds spent validating in this process.
    public var evaluationSeconds = 0.0
    /// Decoder warnings already printed (each file's once).
    var reportedWarnings = Set<String>()
    /// The last validation's metrics.
    public var lastMetrics: HeadMetrics?
    /// The last validation's predictions, and the step it ran after (0 before any).
    public var lastPredictions: [ImagePrediction] = [], lastValidationStep = 0
    /// Whether the closing phase without mosaics has been announced.
    var closingAnnounced = false
    /// The input side chosen on the validation split for inference (`InputSideSearch`) when it differs from the
    /// trained one; stored in the checkpoints written after the choice.
    public var inferenceSize: Int?
    /// Why the run ended early, or nil.
    public var stoppedBy: String?
    /// Processes of the data-parallel job (1 alone); stored in checkpoints as `ranks`.
    public internal(set) var ranks = 1
    /// How a data-parallel job splits validation across its processes (nil alone).
    var validationSplit: ValidationSplit?
    /// The schedule's span decided by rank 0 of a data-parallel job (a time budget's span depends on the clock).
    var agreedScheduledSteps: Int?
    /// The run folder.
    public var folder: URL { options.out }
    /// `last.safetensors` and `best.safetensors` in the run folder.
    public var lastCheckpoint: URL { folder.appendingPathComponent("last.safetensors") }
    /// The best checkpoint (by validation AP50).
    public var bestCheckpoint: URL { folder.appendingPathComponent("best.safetensors") }
    /// The progress line.
    public let progress: ProgressReporter
    /// `log.jsonl`: started empty for a new run, appended to on resume.
    public let log: JSONLinesLog<LogRecord>
    /// Prints a message (when verbose).
    public let say: (String) -> Void

    init(options: TrainOptions, configuration: RunConfiguration, detector: Detector, optimizer: AdamW,
         average: WeightAverage?, step: TrainStep, replicaStep: ReplicaStep? = nil, loader: BatchLoader, validation: DetectionDataset?,
         state: TrainingState, say: @escaping (String) -> Void) throws {
        self.options = options
        self.configuration = configuration
        self.detector = detector
        self.optimizer = optimizer
        self.average = average
        self.step = step
        self.replicaStep = replicaStep
        self.loader = loader
        self.validation = validation
        self.say = say
        let logURL = options.out.appendingPathComponent("log.jsonl")
        if options.resume == nil {
            log = try JSONLinesLog(url: logURL, truncate: true)
        } else {
            // The log continues from the checkpoint: records of steps after it (lost to a kill) and a torn last line go.
            let step = state.step
            log = try JSONLinesLog(url: logURL, keeping: { $0.step <= step })
            let r = log.repaired
            if r.tornBytes > 0 || r.droppedRecords > 0 {
                say("  \(logURL.path): removed \(r.droppedRecords) records after step \(step) and a torn last line of \(r.tornBytes) bytes")
            }
        }
        let t = configuration.training
        batchesPerEpoch = loader.batchesPerEpoch
        budget = t.minutes.map { $0 * 60 }
        epochs = t.epochs ?? Int.max
        var state = state
        if state.totalSteps == 0 || options.resume == nil {
            state.totalSteps = budget == nil ? epochs * batchesPerEpoch : 0
        }
        self.state = state
        trainedBefore = state.trainingSeconds
        schedule = LearningRateSchedule(base: Float(t.learningRate), warmupSteps: t.warmupSteps,
                                        decay: .cosine(floor: Float(t.learningRate) * 0.02))
        // Progress counts steps, or seconds of the budget in a time-budgeted run.
        progress = ProgressReporter(total: budget.map { Int($0) } ?? state.totalSteps, plainInterval: 15)
    }

    /// Images per second of this process's training steps.
    public var imagesPerSecond: Double { Double(imagesThisRun) / max(trainSeconds, 1e-9) }

    /// The closing line: steps, minutes, images/s, data wait, skipped images.
    var closingLine: String {
        let stats = loader.statistics
        return String(format: "trained %d steps (%d epochs) in %.1f min (+%.1f min evaluating), %.1f images/s, data wait %.1f %%",
                      state.step, state.epoch, state.trainingSeconds / 60, evaluationSeconds / 60, imagesPerSecond,
                      100 * stats.waitFraction)
            + (stats.skippedImages > 0 ? ", \(stats.skippedImages) unreadable images skipped" : "")
            + (stats.warnedImages > 0 ? ", \(stats.warnedImages) decoded with warnings" : "")
    }

    /// Training seconds so far, over resumed runs.
    public var elapsed: Double { trainedBefore + trainSeconds }

    /// Steps the schedule spans now: fixed by the epochs, or in a time budget the steps it is expected to hold at the
    /// current pace. (`maxSteps` stops the run early without changing the schedule, so a stopped run resumes exactly.)
    public var scheduledSteps: Int {
        if let agreed = agreedScheduledSteps { return agreed }
        guard let b = budget else { return state.totalSteps }
        let pace = elapsed > 0 && state.step > 0 ? elapsed / Double(state.step) : 1
        return max(state.step + 1, Int(b / pace))
    }

    /// The first step of the closing phase on single images (`TrainSettings.closeMosaic`) for the schedule's span
    /// now; nil when the run has no mosaics, copy-pastes or mixups, or keeps them to the end.
    public var mosaicEndStep: Int? {
        let close = configuration.training.closeMosaic
        guard loader.options.augment.combinesImages, close > 0 else { return nil }
        return Int((Double(scheduledSteps) * (1 - close)).rounded())
    }

    /// Moves the loader's end of mosaics to `mosaicEndStep` (a time budget's span follows the pace) and says once
    /// when the closing phase begins.
    func followMosaicPhase() {
        guard let end = mosaicEndStep else { return }
        loader.mosaicEnd = state.epoch * batchesPerEpoch + state.stepInEpoch + max(0, end - state.step)
        if !closingAnnounced, state.step >= end {
            closingAnnounced = true
            progress.log("step \(state.step): single images from here, no mosaics, copy-pastes or mixups (the last "
                         + "\(Int((100 * configuration.training.closeMosaic).rounded())) % of the schedule)")
        }
    }

    /// Whether the run is over before the next step: a stop signal, `maxSteps`, or the time budget.
    func shouldStop() -> Bool {
        if StopSignal.requested { stoppedBy = "signal"; return true }
        if let limit = options.maxSteps, state.step >= limit { return true }
        if let b = budget, elapsed >= b { return true }
        return false
    }

    /// The metadata `detect`, `evaluate` and `export` read beside the network: the run's settings (`training`), the
    /// score thresholds of `metrics` and the chosen input side (`InferenceInput.metadataKey`) when there is one.
    func inferenceMetadata(_ metrics: HeadMetrics?) -> [String: String] {
        ["training": configuration.training.jsonString()]
            .merging(metrics?.scoreThresholds.metadata ?? [:]) { a, _ in a }
            .merging(inferenceSize.map { [InferenceInput.metadataKey: String($0)] } ?? [:]) { a, _ in a }
    }

    /// Saves `last.safetensors` (model, optimizer, state, its number of processes, the weight average and
    /// `inferenceMetadata` of the last validation).
    public func saveLast() throws {
        let metadata = inferenceMetadata(lastMetrics).merging(["ranks": String(ranks)]) { a, _ in a }
            .merging(average?.metadata ?? [:]) { a, _ in a }
        try Checkpoint.save(detector, optimizer: optimizer, state: state, extraMetadata: metadata,
                            extraTensors: average?.tensors ?? [], to: lastCheckpoint)
    }

    /// Both heads' COCO and crowd metrics on `data`, of the weight average when there is one. In a data-parallel job
    /// (rank 0) the processes predict their shares and rank 0 evaluates the union (`predictValidation`).
    public func evaluate(on data: DetectionDataset) throws -> HeadMetrics {
        guard let predictions = try predictValidation(data) else {
            preconditionFailure("TrainingRun.evaluate on a rank other than 0")
        }
        lastPredictions = predictions
        lastValidationStep = state.step
        return try data.evaluate(predictions, hasSetHead: detector.config.setHead != .none,
                                 maxDetections: validationDetections)
    }

    /// Detections kept per image in validation: pycocotools' 100, or the number of hypotheses where the set head has
    /// more (crowd-sized sets), so that validation does not cut the recall of a crowd; the figures at 100 are
    /// reported as well.
    public var validationDetections: Int { max(100, detector.config.setHead == .none ? 0 : detector.config.hypotheses) }

    /// A predictor of `network` as validation runs it: the run's batch, `validationDetections` an image.
    func validationPredictor(_ network: Detector) -> Predictor {
        let predictor = Predictor(detector: network, batchSize: configuration.training.batchSize)
        predictor.postProcessor.maxDetections = validationDetections
        return predictor
    }

    /// The predictions of `data`'s images: alone, all of them; in a data-parallel job this process's share
    /// (`ValidationSplit`), gathered on rank 0, which gets all of them in order (the others get nil).
    func predictValidation(_ data: DetectionDataset) throws -> [ImagePrediction]? {
        let batch = configuration.training.batchSize
        let predictor = validationPredictor(evaluated)
        var part = data
        if let split = validationSplit {
            part.images = Array(data.images[split.share(of: data.images.count, batchSize: batch)])
        }
        let (predictions, _) = try predictor.predict(dataset: part, skipBadImages: options.skipBadImages)
        for w in predictor.decodeWarnings where !reportedWarnings.contains(w) {
            reportedWarnings.insert(w)
            progress.log("warning: " + w)
        }
        guard let split = validationSplit else { return predictions }
        return try split.gather(predictions)
    }

    /// What the run reports at its end.
    var summary: TrainingSummary {
        let stats = loader.statistics
        return TrainingSummary(steps: state.step, epochs: state.epoch, minutes: state.trainingSeconds / 60,
                               imagesPerSecond: imagesPerSecond,
                               dataWaitFraction: stats.waitFraction, metrics: lastMetrics, runFolder: folder,
                               stoppedBy: stoppedBy, skippedImages: stats.skippedImages, configuration: configuration)
    }
}
