import Datasets
import DetectorModel
import Foundation
import Inference

/// The input side a trained network runs at, chosen on the validation split at the end of training
/// (`TrainSettings.chooseInputSize`). The weights do not depend on the input side (`InferenceInput`), and a larger one
/// gives small objects more pixels, as ultralytics' `imgsz` at val/predict may differ from training's. On SCUT-HEAD's
/// crowds a network trained at 512 reached set head AP50 0.844 at 512 and 0.857 at 576; on BCCD's large cells larger
/// sides lost (docs/experiments.md, "The input side at inference"), so the split decides, as it decides the best-F1
/// score thresholds.
public enum InputSideSearch {
    /// The factors of the trained side tried beside it.
    public static let factors = [7.0 / 8, 9.0 / 8, 5.0 / 4]
    /// The AP50 (`HeadMetrics.keyAP50`) another side must gain over the trained side to be chosen: below it, a
    /// difference of a validation split's noise would change every later prediction's cost.
    public static let minimumGain = 0.002

    /// The sides tried beside `config`'s own: each factor times the trained side, rounded to a multiple of 32, that
    /// the configuration accepts; none for the `fc` set head, which runs at its own side only.
    public static func candidates(for config: DetectorConfig) -> [Int] {
        guard config.setHead != .fc else { return [] }
        var sides: [Int] = []
        for f in factors {
            let side = Int((Double(config.inputSize) * f / 32).rounded()) * 32
            var c = config
            c.inputSize = side
            guard side != config.inputSize, !sides.contains(side), (try? c.validate()) != nil else { continue }
            sides.append(side)
        }
        return sides.sorted()
    }

    /// One side's validation.
    public struct Trial: Sendable {
        /// The input side.
        public var side: Int
        /// Both heads' metrics at that side.
        public var metrics: HeadMetrics
        /// The predictions they were computed from.
        public var predictions: [ImagePrediction]

        /// A trial.
        public init(side: Int, metrics: HeadMetrics, predictions: [ImagePrediction]) {
            self.side = side
            self.metrics = metrics
            self.predictions = predictions
        }
    }

    /// The side of the highest key AP50 in `keys` (side → `HeadMetrics.keyAP50`): `trainedSide` unless another side
    /// gains at least `minimumGain` over it (the smaller side on equal keys).
    public static func chosenSide(_ keys: [Int: Double], trainedSide: Int) -> Int {
        let others = keys.filter { $0.key != trainedSide }.sorted { $0.key < $1.key }
        guard let best = others.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) else {
            return trainedSide
        }
        guard let own = keys[trainedSide] else { return best.key }
        return best.value >= own + minimumGain ? best.key : trainedSide
    }

    /// The trial of `chosenSide`, nil without trials.
    public static func choose(_ trials: [Trial], trainedSide: Int) -> Trial? {
        let keys = Dictionary(trials.map { ($0.side, $0.metrics.keyAP50) }) { a, _ in a }
        let side = chosenSide(keys, trainedSide: trainedSide)
        return trials.first { $0.side == side }
    }

    /// `input side 448: set AP50 0.824, 512 (trained): 0.844, 576: 0.857 (chosen)`: the key AP50 of each trial.
    public static func line(_ trials: [Trial], trainedSide: Int, chosen: Int) -> String {
        let head = trials.first?.metrics.set != nil ? "set" : "dense"
        let parts = trials.sorted { $0.side < $1.side }.map { t in
            String(format: "%d%@ %.3f", t.side, t.side == trainedSide ? " (trained)" : "", t.metrics.keyAP50)
                + (t.side == chosen ? " (chosen)" : "")
        }
        return "\(head) head AP50 by input side: " + parts.joined(separator: ", ")
    }
}

extension TrainingRun {
    /// Validates the network (`network`, by default `evaluated`) at `InputSideSearch.candidates` on `data` and returns
    /// every trial, the trained side's (`trained`, already computed) first; empty when the setting is off or no other
    /// side fits. The whole split is predicted by this process (rank 0 of a data-parallel job, while the others wait).
    func searchInputSide(_ data: DetectionDataset, trained: InputSideSearch.Trial, of network: Detector? = nil) throws
        -> [InputSideSearch.Trial]
    {
        guard configuration.training.chooseInputSize else { return [] }
        let evaluated = network ?? self.evaluated
        let sides = InputSideSearch.candidates(for: evaluated.config)
        guard !sides.isEmpty else { return [] }
        let start = Date()
        defer { evaluationSeconds += Date().timeIntervalSince(start) }
        var trials = [trained]
        for side in sides {
            let trial = try validationTrial(of: try InferenceInput.detector(evaluated, at: side, source: "the trained network"),
                                            on: data)
            progress.log(String(format: "input side %d: ", side) + trial.metrics.summaryLine)
            trials.append(trial)
        }
        return trials
    }

    /// `network` validated at its own input side on the whole of `data`, as validation runs it: its predictions and
    /// both heads' metrics.
    func validationTrial(of network: Detector, on data: DetectionDataset) throws -> InputSideSearch.Trial {
        let (predictions, _) = try validationPredictor(network).predict(dataset: data, skipBadImages: options.skipBadImages)
        let metrics = try data.evaluate(predictions, hasSetHead: network.config.setHead != .none,
                                        maxDetections: validationDetections)
        return InputSideSearch.Trial(side: network.config.inputSize, metrics: metrics, predictions: predictions)
    }

    /// The network `best.safetensors` holds, validated on `data` at its trained side and at the candidate sides
    /// (`searchInputSide`): the end's search for the best checkpoint when an earlier validation wrote it. Nil when the
    /// setting is off, there is no best checkpoint, or no other side fits.
    func searchInputSideOfBest(_ data: DetectionDataset) throws -> (best: Checkpoint.Loaded, trials: [InputSideSearch.Trial])? {
        guard configuration.training.chooseInputSize, FileManager.default.fileExists(atPath: bestCheckpoint.path) else {
            return nil
        }
        let best = try Checkpoint.load(bestCheckpoint, averaged: true)
        guard !InputSideSearch.candidates(for: best.detector.config).isEmpty else { return nil }
        let start = Date()
        let trained = try validationTrial(of: best.detector, on: data)
        evaluationSeconds += Date().timeIntervalSince(start)
        return (best, try searchInputSide(data, trained: trained, of: best.detector))
    }
}
