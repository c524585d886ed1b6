import Datasets
import DetectorModel
import Foundation

/// The settings a run trains with, and how they were reached: defaults < the synthetic default's preset (without
/// `--data`) < the `--config` file < explicit values. Under `--resume` the checkpoint's network and settings are the
/// base instead: a file or flag that would change the network is an error naming the setting; one that changes the
/// training objective or the run (learning rate, minutes, …) is applied and reported in `changes`.
public struct RunConfiguration: Sendable {
    /// The network and loss configuration.
    public var model: DetectorConfig
    /// The run's hyperparameters.
    public var training: TrainSettings
    /// What the resumed run changed against the checkpoint (`key old → new`); empty for a new run.
    public var changes: [String] = []

    /// The synthetic default's network (256² scenes of up to 60 objects of 16–64 px): input at the scenes' size, room
    /// for every object, anchors spanning the object sizes, ATSS positives, queries from the dense proposals after
    /// NMS (grid peaks miss one of two neighbours in a crowd), the ReInspect cost, the dense-score class prior and
    /// IoU-aware attention (docs/experiments.md for what each choice measured).
    public static func syntheticPreset(classes: [String]) -> DetectorConfig {
        var c = DetectorConfig.reference(classes: classes)
        c.inputSize = SyntheticSceneConfig().imageSize
        c.hypotheses = 100
        c.anchorSizes = [16, 32, 64]
        c.denseAssignment = .atss
        c.querySelection = .nms
        c.matchCost = .reinspect
        c.setClassPrior = true
        c.setGeometry = true
        return c
    }

    /// Largest `--config` file accepted: 1 MiB (a configuration is a few hundred bytes).
    public static let maxConfigBytes = 1 << 20

    /// A `--config` file split into its `DetectorConfig` entries and its `TrainSettings` entries; a key of neither is
    /// an error naming the file and the key.
    public static func readConfigFile(_ url: URL) throws -> (model: [String: Any], training: [String: Any]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainingError.io(path: url.path, reason: "cannot read the configuration: \(error.localizedDescription)")
        }
        guard data.count <= maxConfigBytes else {
            throw TrainingError.invalidConfigFile(path: url.path, reason: "\(data.count) bytes, more than the limit of \(maxConfigBytes) for a configuration")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw TrainingError.invalidConfigFile(path: url.path, reason: "not a JSON object")
        }
        let modelKeys = Set(DetectorConfig.keys), trainingKeys = Set(TrainSettings.keys)
        let unknown = object.keys.filter { !modelKeys.contains($0) && !trainingKeys.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw TrainingError.invalidConfigFile(
                path: url.path, reason: "unknown keys \(unknown.joined(separator: ", ")) (keys are those of DetectorConfig and TrainSettings)")
        }
        return (object.filter { modelKeys.contains($0.key) }, object.filter { trainingKeys.contains($0.key) })
    }

    /// The configuration of a new run for `classes`; `train` is needed for `autoAnchors`; `say` receives what was
    /// decided (fitted anchors).
    public static func resolve(_ options: TrainOptions, classes: [String], train: DetectionDataset? = nil,
                               say: (String) -> Void = { _ in }) throws -> RunConfiguration {
        var model = options.isSyntheticDefault ? syntheticPreset(classes: classes) : .reference(classes: classes)
        var training = TrainSettings()
        (model, training) = try layered(options, over: model, training)
        if options.autoAnchors {
            guard let train else { throw TrainingError.invalidSetting(key: "anchorSizes", reason: "fitting anchors needs the training data") }
            if let fitted = AnchorFitting.sizes(for: train, inputSize: model.inputSize, count: model.anchorSizes.count) {
                model.anchorSizes = fitted
                say("anchor sides fitted to the training boxes: \(fitted.map { String(format: "%g", $0) }.joined(separator: ", ")) px")
            }
        }
        model.classNames = classes
        model.name = model == .reference(classes: classes) ? "reference" : "custom"
        if training.epochs == nil && training.minutes == nil {
            if options.isSyntheticDefault { training.minutes = 12 } else { training.epochs = 30 }
        }
        try model.validate()
        try training.validate()
        return RunConfiguration(model: model, training: training)
    }

    /// The configuration of a run resumed from a checkpoint trained with `model`, `training` (nil for checkpoints that
    /// did not store their settings: the defaults) and `seed`. Network settings and the seed may not change; objective
    /// and run settings may, and each change is listed in `changes`.
    public static func resume(_ options: TrainOptions, checkpoint: URL, model saved: DetectorConfig,
                              training stored: TrainSettings?, seed: UInt64) throws -> RunConfiguration {
        var savedTraining = stored ?? TrainSettings()
        savedTraining.seed = seed
        var model = saved
        var training = savedTraining
        if options.autoAnchors {
            throw TrainingError.resumeConflict(key: "anchorSizes", path: checkpoint.path,
                                               reason: "fitting anchors would change the checkpoint's anchors")
        }
        (model, training) = try layered(options, over: model, training)
        model.name = saved.name
        let modelChanges = model.changes(from: saved)
        if let change = modelChanges.first(where: { !DetectorConfig.objectiveKeys.contains($0.key) }) {
            throw TrainingError.resumeConflict(key: change.key, path: checkpoint.path,
                                               reason: "the checkpoint's value is \(change.old), not \(change.new)")
        }
        if training.seed != seed {
            throw TrainingError.resumeConflict(key: "seed", path: checkpoint.path,
                                               reason: "the run was seeded with \(seed); its data order continues from that seed")
        }
        try model.validate()
        try training.validate()
        let trainingChanges = SettingsCoding.changes(from: savedTraining, to: training, keys: TrainSettings.keys)
        return RunConfiguration(model: model, training: training, changes: (modelChanges + trainingChanges).map(\.description))
    }

    /// `model` and `training` with the `--config` file's entries and then the explicit values applied.
    static func layered(_ options: TrainOptions, over model: DetectorConfig, _ training: TrainSettings) throws
        -> (DetectorConfig, TrainSettings) {
        var (model, training) = (model, training)
        if let url = options.config {
            let file = try readConfigFile(url)
            model = try modelFromFile(file.model, source: url.path, base: model)
            training = try TrainSettings.from(entries: file.training, source: url.path, base: training)
        }
        return (options.model.applied(to: model), options.training.applied(to: training))
    }

    static func modelFromFile(_ entries: [String: Any], source: String, base: DetectorConfig) throws -> DetectorConfig {
        do { return try DetectorConfig.from(entries: entries, source: source, base: base) } catch let ModelError.invalidConfigFile(path, reason) {
            throw TrainingError.invalidConfigFile(path: path, reason: reason)
        }
    }
}
