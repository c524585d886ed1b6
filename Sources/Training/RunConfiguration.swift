import Datasets
import DetectorModel
import Foundation

/// The settings a run trains with, and how they were reached: defaults < the preset (`Preset`: the one named, else
/// `synthetic` without `--data` and `default` with it) < the `--config` file < explicit values. Under `--resume` the
/// checkpoint's network and settings are the base instead: a file or flag that would change the network is an error
/// naming the setting; one that changes the training objective or the run (learning rate, minutes, …) is applied and
/// reported in `changes`.
public struct RunConfiguration: Sendable {
    /// The network and loss configuration.
    public var model: DetectorConfig
    /// The run's hyperparameters.
    public var training: TrainSettings
    /// What the resumed run changed against the checkpoint (`key old → new`); empty for a new run.
    public var changes: [String] = []

    /// The synthetic default's network (`Preset.synthetic`).
    public static func syntheticPreset(classes: [String]) -> DetectorConfig { Preset.synthetic.model(classes: classes) }

    /// The preset a new run starts from: the one named (`--config NAME`), else on generated data its own
    /// (`synthetic`, `tiny-crowd`) and `default` on data of one's own.
    public static func preset(for options: TrainOptions) -> Preset {
        options.preset ?? (options.isSyntheticDefault ? (options.synthetic == .tinyCrowd ? .tinyCrowd : .synthetic) : .default)
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

    /// The configuration of a new run for `classes`. `train` is the training data the anchors are fitted to, under
    /// `autoAnchors` (then required) or a preset that fits them (`Preset.fitsAnchors`, skipped without data) unless
    /// the file or a flag gives `anchorSizes`; a preset that fits its input (`Preset.fitsInput`) also takes the
    /// longer side from the data (`InputFitting`) unless the file or a flag gives `inputSize`, and rectangular inputs
    /// unless they give `rectangular` (neither with the `fc` set head, which needs squares); `say` receives what was
    /// decided. The network's name
    /// is the preset's while no file or flag changed it, else `custom`.
    public static func resolve(_ options: TrainOptions, classes: [String], train: DetectionDataset? = nil,
                               say: (String) -> Void = { _ in }) throws -> RunConfiguration {
        let preset = preset(for: options)
        let base = preset.model(classes: classes)
        let layers = try layered(options, over: base, preset.training)
        var (model, training) = (layers.model, layers.training)
        let anchorsGiven = layers.given.contains(DetectorConfig.CodingKeys.anchorSizes.stringValue)
        let fits = options.autoAnchors || (preset.fitsAnchors && !anchorsGiven && train != nil)
        var layeredModel = model
        layeredModel.name = base.name
        let untouched = layeredModel == base   // the name stays the preset's when no file or flag changed the network
        let sizeGiven = layers.given.contains(DetectorConfig.CodingKeys.inputSize.stringValue)
        let shapeGiven = layers.given.contains(DetectorConfig.CodingKeys.rectangular.stringValue)
        if preset.fitsInput, model.setHead != .fc, let train {
            let side = sizeGiven ? nil : InputFitting.inputSize(for: train)
            if let side { model.inputSize = side }
            if !shapeGiven, sizeGiven || side != nil { model.rectangular = true }
            if let side {
                say("input fitted to the training boxes: longer side \(side)\(model.rectangular ? ", rectangular" : "") (the "
                    + String(format: "smallest tenth of the boxes at %g px or more, within %d–%d)", InputFitting.smallSide,
                             InputFitting.range.lowerBound, InputFitting.range.upperBound))
            }
        }
        if fits {
            guard let train else { throw TrainingError.invalidSetting(key: "anchorSizes", reason: "fitting anchors needs the training data") }
            if let fitted = AnchorFitting.sizes(for: train, inputSize: model.inputSize, count: model.anchorSizes.count) {
                model.anchorSizes = fitted
                say("anchor sides fitted to the training boxes: \(fitted.map { String(format: "%g", $0) }.joined(separator: ", ")) px")
            }
        }
        model.classNames = classes
        model.name = untouched ? preset.rawValue : "custom"
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
        let layers = try layered(options, over: model, training)
        (model, training) = (layers.model, layers.training)
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

    /// `model` and `training` with the `--config` file's entries and then the explicit values applied, and the keys
    /// the file and the flags gave.
    static func layered(_ options: TrainOptions, over model: DetectorConfig, _ training: TrainSettings) throws
        -> (model: DetectorConfig, training: TrainSettings, given: Set<String>) {
        var (model, training) = (model, training)
        var given = Set(options.model.entries.map(\.key) + options.training.entries.map(\.key))
        if let url = options.config {
            let file = try readConfigFile(url)
            model = try modelFromFile(file.model, source: url.path, base: model)
            training = try TrainSettings.from(entries: file.training, source: url.path, base: training)
            given.formUnion(file.model.keys)
            given.formUnion(file.training.keys)
        }
        return (options.model.applied(to: model), options.training.applied(to: training), given)
    }

    static func modelFromFile(_ entries: [String: Any], source: String, base: DetectorConfig) throws -> DetectorConfig {
        do { return try DetectorConfig.from(entries: entries, source: source, base: base) } catch let ModelError.invalidConfigFile(path, reason) {
            throw TrainingError.invalidConfigFile(path: path, reason: reason)
        }
    }
}
