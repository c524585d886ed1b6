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

    /// Draws the final validation.
    public func afterTraining(_ run: TrainingRun) throws { try draw(run, folder: "final") }

    /// The pictures of the last validation into `overlays/<folder>`, when it ran after the current step.
    func draw(_ run: TrainingRun, folder: String) throws {
        guard let data = run.validation, run.options.validationOverlays > 0, run.lastValidationStep == run.state.step,
            !run.lastPredictions.isEmpty
        else { return }
        let hasSet = run.detector.config.setHead != .none
        let head: KeyPath<ImagePrediction, [DetectedObject]> = hasSet ? \.set : \.dense
        let threshold = run.lastMetrics.flatMap { hasSet ? $0.scoreThresholds.set : $0.scoreThresholds.dense } ?? Self.threshold
        _ = try Overlay.write(run.lastPredictions, head: head, dataset: data, count: run.options.validationOverlays,
                              threshold: threshold, to: run.folder.appendingPathComponent("overlays/\(folder)"))
        run.lastPredictions = []
    }
}
