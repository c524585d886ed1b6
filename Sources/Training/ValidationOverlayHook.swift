import Datasets
import Foundation
import Inference

/// Overlay pictures of the first `TrainOptions.validationOverlays` validation images after every validation, in
/// `overlays/epoch_NNN/` of the run folder (`NNN` the completed epochs, `final` for the end of the run): ground
/// truth in white, the set head's detections (the dense head's without a set head) scoring at least that
/// validation's best-F1 threshold (`ScoreThresholds`, what `detect` will use) in class colours, so a run can be
/// watched learning, as people look at ultralytics' `val_batch*_pred.jpg`.
public final class ValidationOverlayHook: TrainerHook {
    /// The lowest score drawn when the validation has no best-F1 threshold.
    public static let threshold = ScoreThresholds.fallback

    /// A validation overlay hook.
    public init() {}

    /// Draws the epoch's validation, when one ran after this epoch's last step.
    public func afterEpoch(_ run: TrainingRun) throws {
        try draw(run, folder: String(format: "epoch_%03d", run.state.epoch))
    }

    /// Lists the final validation's possible missing labels, then draws it.
    public func afterTraining(_ run: TrainingRun) throws {
        try listPossibleMissing(run)
        try draw(run, folder: "final")
    }

    /// The final validation's possible missing labels (`PossibleMissingLabels`: detections of the head drawn, at
    /// the same threshold, on no labelled object) in `possible_missing.json` of the run folder, one printed line,
    /// and pictures of the images holding most of them in `overlays/possible_missing/`: partly labelled
    /// data shows itself at the end of the run, where AP alone would only read low.
    func listPossibleMissing(_ run: TrainingRun) throws {
        guard let data = run.validation, run.lastValidationStep == run.state.step, !run.lastPredictions.isEmpty
        else { return }
        let (head, threshold) = headAndThreshold(run)
        let missing = PossibleMissingLabels(predictions: run.lastPredictions, head: head, dataset: data,
                                            threshold: threshold)
        let file = run.folder.appendingPathComponent(Self.possibleMissingFile)
        try missing.write(to: file)
        let folder = run.folder.appendingPathComponent("overlays/possible_missing")
        let pictures = try missing.writePictures(run.lastPredictions, head: head, dataset: data,
                                                 count: run.options.validationOverlays, to: folder)
        let name = head == \ImagePrediction.set ? "set" : "dense"
        run.say("validation, \(name) head: detections "
                + ErrorBreakdown(predictions: run.lastPredictions, head: head, dataset: data, threshold: threshold).summary)
        run.say("validation, \(name) head: " + missing.summary
                + "; list: \(file.path)" + (pictures.isEmpty ? "" : "; pictures: \(folder.path)"))
    }

    /// The name of the list of possible missing labels in the run folder.
    public static let possibleMissingFile = "possible_missing.json"

    /// The head drawn (the set head, the dense head without one) and the last validation's best-F1 threshold of it.
    func headAndThreshold(_ run: TrainingRun) -> (KeyPath<ImagePrediction, [DetectedObject]>, Double) {
        let hasSet = run.detector.config.setHead != .none
        let threshold = run.lastMetrics.flatMap { hasSet ? $0.scoreThresholds.set : $0.scoreThresholds.dense }
        return (hasSet ? \.set : \.dense, threshold ?? Self.threshold)
    }

    /// The pictures of the last validation into `overlays/<folder>`, when it ran after the current step.
    func draw(_ run: TrainingRun, folder: String) throws {
        guard let data = run.validation, run.options.validationOverlays > 0, run.lastValidationStep == run.state.step,
            !run.lastPredictions.isEmpty
        else { return }
        let (head, threshold) = headAndThreshold(run)
        _ = try Overlay.write(run.lastPredictions, head: head, dataset: data, count: run.options.validationOverlays,
                              threshold: threshold, to: run.folder.appendingPathComponent("overlays/\(folder)"))
        run.lastPredictions = []
    }
}
