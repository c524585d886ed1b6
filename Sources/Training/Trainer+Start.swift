import DetectorModel
import Datasets
import Foundation
import NeuralNet

extension Trainer {
    /// Where a run starts: its configuration, network and state, and from a resumed checkpoint its optimizer state
    /// and weight average.
    struct Start {
        var configuration: RunConfiguration
        var detector: Detector
        var state: TrainingState
        /// The checkpoint's optimizer state; nil for a new run.
        var optimizerState: [String: Tensor]?
        /// The checkpoint's weight average; nil for a new run (or a checkpoint without one).
        var average: WeightAverage?
    }

    /// A new run: settings resolved for the data, a network initialised from the seed and, with `--weights`, the
    /// tensors of that checkpoint which fit (`Checkpoint.transfer`).
    func startFresh(classes: [String], train: DetectionDataset) throws -> Start {
        let configuration = try makeConfiguration(classes: classes, train: train)
        let state = TrainingState(seed: configuration.training.seed)
        let detector = try Detector(config: configuration.model, seed: state.seed)
        if let w = options.weights {
            let moved = try Checkpoint.transfer(from: w, into: detector)
            say(String(format: "weights from %@: %d of %d tensors (%.1f %% of the values)", w.path as NSString,
                       moved.copied.count, moved.copied.count + moved.kept.count,
                       100 * Double(moved.copiedValues) / Double(max(1, moved.totalValues)))
                + (moved.kept.isEmpty ? "" : "; initialised afresh (another shape or absent): "
                    + moved.kept.prefix(6).joined(separator: ", ") + (moved.kept.count > 6 ? ", …" : "")))
        }
        return Start(configuration: configuration, detector: detector, state: state)
    }

    /// A resumed run: the checkpoint's network, settings (with the changes the options may make), state (adapted
    /// when the images per step changed, `DataParallelJob.adapt`), optimizer state and weight average.
    func restore(_ resume: URL, classes: [String], job: DataParallelJob?) throws -> Start {
        let loaded = try Checkpoint.load(resume)
        guard loaded.detector.config.classNames == classes else {
            throw TrainingError.resumeConflict(key: "data", path: resume.path,
                                               reason: "the data has classes \(classes), "
                                                   + "the checkpoint \(loaded.detector.config.classNames)")
        }
        let stored = try loaded.metadata["training"].map { text -> TrainSettings in
            do { return try JSONDecoder().decode(TrainSettings.self, from: Data(text.utf8)) } catch {
                throw ModelError.checkpoint(path: resume.path, reason: "unreadable training settings: \(error)")
            }
        }
        let configuration = try RunConfiguration.resume(options, checkpoint: resume, model: loaded.detector.config,
                                                        training: stored, seed: loaded.state.seed)
        let detector = configuration.model == loaded.detector.config
            ? loaded.detector : try Checkpoint.load(resume, config: configuration.model).detector
        let t = configuration.training
        let state = DataParallelJob.adapt(loaded.state, storedRanks: loaded.metadata["ranks"].flatMap { Int($0) } ?? 1,
                                          storedBatch: stored?.batchSize ?? t.batchSize, ranks: job?.ranks ?? 1,
                                          batch: t.batchSize)
        if state != loaded.state {
            say("  images per step changed: continuing at step \(state.step) (epoch \(state.epoch), "
                + "batch \(state.stepInEpoch))")
        }
        let average = t.emaDecay > 0
            ? try WeightAverage.restored(for: detector, from: loaded, path: resume.path, decay: t.emaDecay,
                                         tau: t.emaTau)
            : nil
        say("resuming \(resume.path) at step \(state.step) (epoch \(state.epoch), batch \(state.stepInEpoch))")
        for change in configuration.changes { say("  changed on resume: \(change)") }
        if let t = options.threads { say("  threads: \(t)") }
        return Start(configuration: configuration, detector: detector, state: state,
                     optimizerState: loaded.optimizerState, average: average)
    }
}
