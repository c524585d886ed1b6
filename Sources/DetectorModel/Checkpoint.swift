import Foundation
import NeuralNet

/// Where a training run stands, saved in a checkpoint's metadata so that `--resume` continues exactly.
public struct TrainingState: Codable, Equatable, Sendable {
    /// Optimizer steps taken.
    public var step: Int = 0
    /// Completed epochs.
    public var epoch: Int = 0
    /// Steps taken in the current epoch (batches of the epoch already consumed).
    public var stepInEpoch: Int = 0
    /// Seed of the run (initialisation and data order).
    public var seed: UInt64 = 0
    /// Total steps the LR schedule spans.
    public var totalSteps: Int = 0
    /// Best validation AP50 so far (−1 before the first evaluation).
    public var bestAP50: Double = -1
    /// Seconds of training so far (summed over resumed runs).
    public var trainingSeconds: Double = 0
    /// Non-finite steps skipped so far.
    public var skippedSteps: Int = 0

    /// A fresh state.
    public init(seed: UInt64 = 0) { self.seed = seed }
}

/// A model checkpoint as one safetensors file: parameters and BatchNorm buffers under their dotted names,
/// optimizer state under `optimizer.<name>`, and `__metadata__` holding `format`, `config` (JSON of
/// `DetectorConfig`), `state` (JSON of `TrainingState`) and, from `detector train`, `training` (JSON of the run's
/// `TrainSettings`). Readable by Python's `safetensors`.
/// Written atomically (temporary file, fsync, rename): a kill at any moment leaves the previous or the new file.
public enum Checkpoint {
    /// Metadata value of `format`.
    public static let format = "swift-detector-checkpoint-1"

    /// Saves the model, optionally the optimizer, the training state, `extraMetadata` (e.g. the run's settings
    /// under `training`) and `extraTensors` (e.g. the weight average under `ema.<name>`).
    public static func save(_ detector: Detector, optimizer: Optimizer?, state: TrainingState,
                            extraMetadata: [String: String] = [:], extraTensors: [(name: String, tensor: Tensor)] = [],
                            to url: URL) throws {
        var tensors: [(name: String, tensor: Tensor)] = detector.parameters.map { ($0.name, $0.value) } + extraTensors
        for bn in detector.batchNorms { tensors += bn.buffers.map { (name: $0.0, tensor: $0.1) } }
        if let opt = optimizer { tensors += opt.stateTensors().map { (name: "optimizer." + $0.0, tensor: $0.1) } }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let stateJSON = String(decoding: try enc.encode(state), as: UTF8.self)
        let own = ["format": format, "config": detector.config.jsonString(), "state": stateJSON]
        let metadata = extraMetadata.merging(own) { _, own in own }
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            try SafeTensors.write(tensors, metadata: metadata, to: url)
        } catch let SafeTensorsError.cannotWrite(_, reason) {
            throw ModelError.io(path: url.path, reason: "cannot write the checkpoint (\(reason)); "
                + "the previous file, if any, is unchanged")
        } catch {
            throw ModelError.io(path: url.path, reason: "cannot write the checkpoint: \(error)")
        }
    }

    /// What a checkpoint holds.
    public struct Loaded {
        /// The model with the saved weights and running statistics.
        public var detector: Detector
        /// Optimizer state tensors (names without the `optimizer.` prefix); empty when none was saved.
        public var optimizerState: [String: Tensor]
        /// The training state.
        public var state: TrainingState
        /// Every metadata entry (`format`, `config`, `state` and any extra ones).
        public var metadata: [String: String]
        /// The weight average's tensors (names without the `ema.` prefix); empty when none was saved.
        public var averagedState: [String: Tensor] = [:]
    }

    /// Prefix of the weight average's tensors (`ema.<name>`, written by training beside the trained weights).
    public static let averagedPrefix = "ema."

    /// Loads a checkpoint; errors name the file and the tensor that does not fit.
    /// `config`, when given, replaces the stored configuration (it must build the same tensors: a resumed run that
    /// changes only loss settings). With `averaged`, the detector gets the weight average (`ema.` tensors) when the
    /// file holds one, as inference wants; otherwise the trained weights, as a resumed run needs.
    public static func load(_ url: URL, config override: DetectorConfig? = nil,
                            averaged: Bool = false) throws -> Loaded {
        let (contents, ema) = try readChecked(url)
        guard let configText = contents.metadata["config"] else {
            throw ModelError.checkpoint(path: url.path, reason: "no detector configuration in the metadata")
        }
        let config = try override ?? DetectorConfig.from(json: configText, source: url.path + " metadata")
        var state = TrainingState()
        if let s = contents.metadata["state"] {
            do { state = try JSONDecoder().decode(TrainingState.self, from: Data(s.utf8)) } catch {
                throw ModelError.checkpoint(path: url.path, reason: "unreadable training state: \(error)")
            }
        }
        let detector = try Detector(config: config, seed: state.seed)
        let source = averaged && !ema.isEmpty ? ema : contents.tensors
        for p in detector.parameters {
            guard let t = source[p.name] else {
                throw ModelError.checkpoint(path: url.path, reason: "tensor \(p.name) is missing")
            }
            guard t.shape == p.value.shape else {
                throw ModelError.checkpoint(path: url.path, reason: "tensor \(p.name) has shape \(t.shape), "
                    + "the model needs \(p.value.shape)")
            }
            p.value = t
        }
        for bn in detector.batchNorms {
            for (name, current) in bn.buffers {
                guard let t = source[name], t.shape == current.shape else {
                    throw ModelError.checkpoint(path: url.path,
                                                reason: "buffer \(name) is missing or has the wrong shape")
                }
                bn.setBuffer(name, t)
            }
        }
        var opt: [String: Tensor] = [:]
        for (name, t) in contents.tensors where name.hasPrefix("optimizer.") { opt[String(name.dropFirst(10))] = t }
        return Loaded(detector: detector, optimizerState: opt, state: state, metadata: contents.metadata,
                      averagedState: ema)
    }

    /// Reads the file at `url` as a detector checkpoint: its contents and its weight average (the `ema.` tensors,
    /// prefix removed; empty when none was saved). Errors name the file; a safetensors file of another kind (no or
    /// another `format` in its metadata) is refused.
    static func readChecked(_ url: URL) throws -> (contents: SafeTensors.Contents, averaged: [String: Tensor]) {
        let contents: SafeTensors.Contents
        do { contents = try SafeTensors.read(url) } catch {
            throw ModelError.checkpoint(path: url.path, reason: "\(error)")
        }
        guard contents.metadata["format"] == format else {
            throw ModelError.checkpoint(path: url.path, reason: "not a detector checkpoint (format "
                + "\(contents.metadata["format"] ?? "missing"))")
        }
        var averaged: [String: Tensor] = [:]
        for (name, t) in contents.tensors where name.hasPrefix(averagedPrefix) {
            averaged[String(name.dropFirst(averagedPrefix.count))] = t
        }
        return (contents, averaged)
    }
}
