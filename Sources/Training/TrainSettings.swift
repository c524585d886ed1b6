import DetectorModel
import Datasets
import Foundation

/// The hyperparameters of a training run that are not part of the network: schedule, optimizer, batch, evaluation,
/// augmentation. Defaults here are the package's defaults; a `--config` file may set any of them by key (beside the
/// `DetectorConfig` keys), and each checkpoint stores them, so a resumed run continues with the same values unless a
/// flag changes one (then the change is logged).
public struct TrainSettings: Codable, Equatable, Sendable {
    /// Epochs to train; nil with `minutes` nil means 12 minutes on the synthetic default and 30 epochs otherwise.
    public var epochs: Int?
    /// Wall-clock budget in minutes; the learning-rate schedule follows elapsed time over this budget.
    public var minutes: Double?
    /// Images per step. Default 16.
    public var batchSize = 16
    /// Peak learning rate of AdamW. Default 2·10⁻³.
    public var learningRate = 2e-3
    /// AdamW decoupled weight decay (not on normalisation parameters or biases). Default 10⁻⁴.
    public var weightDecay = 1e-4
    /// Linear warmup steps. Default 100.
    public var warmupSteps = 100
    /// Maximum global gradient norm. Default 10.
    public var clipNorm = 10.0
    /// Seed of initialisation, data order and augmentation. Default 0.
    public var seed: UInt64 = 0
    /// Evaluate on the validation split every this many epochs (0 = only at the end). Default 1.
    public var evalEvery = 1
    /// Random flips, scale jitter with crops and colour jitter on training images (`augmentConfig`); false feeds the
    /// letterboxed images as they are. Default true.
    public var augment = true
    /// With `augment`, the probability of a vertical flip (ultralytics' `flipud`), for data without an up such as
    /// cells on a slide or aerial views; 0 = never (a crowd's heads are not seen upside down). Default 0.
    public var verticalFlip = 0.0
    /// With `augment`, the amplitude of the random scale: each image is scaled by `U(1 − s, 1 + s)` times its
    /// letterbox scale (ultralytics' `scale`, 0.5 there). Default 0.25.
    public var scaleJitter = 0.25
    /// With `augment`, the probability that a training sample is a mosaic of four images (`Augmenter.mosaic`,
    /// YOLOv4's mosaic); 0 = off. Default 0.
    public var mosaic = 0.0
    /// With `mosaic`, the fraction of the schedule, at its end, trained on single images only (ultralytics'
    /// `close_mosaic`, which counts epochs): the network finishes on images as inference sees them. 0 = mosaics to
    /// the end. Default 0.
    public var closeMosaic = 0.0
    /// With `augment`, the probability that a training sample is blended with a second one (`Augmenter.mixup`,
    /// ultralytics' `mixup`, for which `closeMosaic`'s closing phase also ends it); 0 = off. Default 0.
    public var mixup = 0.0
    /// With `augment`, the probability that objects of another training image are pasted onto a sample
    /// (`Augmenter.copyPaste`, Ghiasi et al.'s copy-paste with boxes for masks; `closeMosaic`'s closing phase also
    /// ends it); 0 = off. Default 0.
    public var copyPaste = 0.0
    /// Checkpoint interval between epochs (`--save-every 500` steps or `10m`); nil saves after every epoch only.
    /// Default nil.
    public var saveEvery: SaveInterval?
    /// Decay of the exponential moving average of the weights that validation, `best.safetensors` and inference use
    /// (`WeightAverage`, as YOLOv5 / ultralytics' `ModelEMA`); 0 = no average. Default 0.998: an average over about
    /// the last 500 steps, a fifth to a half of this package's usual runs (ultralytics' 0.9999 is made for runs of
    /// 10⁵ steps; in a run of 2000 its ramp leaves an average of the last few steps).
    public var emaDecay = 0.998
    /// Time constant τ, in steps, of the average's decay ramp `emaDecay · (1 − exp(−step/τ))`. Default 200.
    public var emaTau = 200.0
    /// At the end of a run with a validation split, also validate the network at a few other input sides
    /// (`InputSideSearch`) and store the best in the checkpoints for `evaluate`, `detect` and `export` (ultralytics
    /// lets `imgsz` at val/predict differ from training's; here the split picks it). Default true; false in the
    /// `reference` preset.
    public var chooseInputSize = true
    /// Train on an image lacking a class that 90 % or more of the training images hold as if that class were only
    /// partly labelled there (`DetectionDataset.markImagesLackingUsualClasses`, the images `detector dataset stats`
    /// lists): the dense head's loss does not count that class's scores in it against the network. For data whose
    /// annotators skipped a class in some images. LVIS-style `not_exhaustive_category_ids` and `neg_category_ids`
    /// in a COCO file always count. Default false.
    public var partialLabels = false

    /// The defaults.
    public init() {}

    /// Keys of the settings, as in JSON.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case epochs, minutes, batchSize, learningRate, weightDecay, warmupSteps, clipNorm, seed, evalEvery, augment
        case saveEvery, emaDecay, emaTau, mosaic, closeMosaic, chooseInputSize, verticalFlip, scaleJitter, mixup
        case partialLabels, copyPaste
    }

    /// Decodes stored settings; the weight-average, mosaic, input-side, vertical-flip, scale, mixup, partial-label and
    /// copy-paste keys, which older checkpoints lack, keep their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
        minutes = try c.decodeIfPresent(Double.self, forKey: .minutes)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        weightDecay = try c.decode(Double.self, forKey: .weightDecay)
        warmupSteps = try c.decode(Int.self, forKey: .warmupSteps)
        clipNorm = try c.decode(Double.self, forKey: .clipNorm)
        seed = try c.decode(UInt64.self, forKey: .seed)
        evalEvery = try c.decode(Int.self, forKey: .evalEvery)
        augment = try c.decode(Bool.self, forKey: .augment)
        saveEvery = try c.decodeIfPresent(SaveInterval.self, forKey: .saveEvery)
        emaDecay = try c.decodeIfPresent(Double.self, forKey: .emaDecay) ?? emaDecay
        emaTau = try c.decodeIfPresent(Double.self, forKey: .emaTau) ?? emaTau
        mosaic = try c.decodeIfPresent(Double.self, forKey: .mosaic) ?? mosaic
        closeMosaic = try c.decodeIfPresent(Double.self, forKey: .closeMosaic) ?? closeMosaic
        chooseInputSize = try c.decodeIfPresent(Bool.self, forKey: .chooseInputSize) ?? chooseInputSize
        verticalFlip = try c.decodeIfPresent(Double.self, forKey: .verticalFlip) ?? verticalFlip
        scaleJitter = try c.decodeIfPresent(Double.self, forKey: .scaleJitter) ?? scaleJitter
        mixup = try c.decodeIfPresent(Double.self, forKey: .mixup) ?? mixup
        partialLabels = try c.decodeIfPresent(Bool.self, forKey: .partialLabels) ?? partialLabels
        copyPaste = try c.decodeIfPresent(Double.self, forKey: .copyPaste) ?? copyPaste
    }

    /// The keys (as in JSON) of every setting.
    public static var keys: [String] { CodingKeys.allCases.map(\.stringValue) }

    /// Checks values that cannot work; throws naming the key.
    public func validate() throws {
        func bad(_ key: CodingKeys, _ why: String) -> TrainingError { .invalidSetting(key: key.stringValue, reason: why) }
        if let e = epochs, e <= 0 { throw bad(.epochs, "must be positive, got \(e)") }
        if let m = minutes, !(m > 0 && m.isFinite) { throw bad(.minutes, "must be positive, got \(m)") }
        guard batchSize > 0 else { throw bad(.batchSize, "must be positive, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw bad(.learningRate, "must be positive, got \(learningRate)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw bad(.weightDecay, "must be ≥ 0, got \(weightDecay)") }
        guard warmupSteps >= 0 else { throw bad(.warmupSteps, "must be ≥ 0, got \(warmupSteps)") }
        guard clipNorm > 0 else { throw bad(.clipNorm, "must be positive, got \(clipNorm)") }
        guard evalEvery >= 0 else { throw bad(.evalEvery, "must be ≥ 0, got \(evalEvery)") }
        if let why = saveEvery?.problem { throw bad(.saveEvery, why) }
        guard emaDecay >= 0, emaDecay < 1 else { throw bad(.emaDecay, "must be in [0, 1), got \(emaDecay)") }
        guard emaTau > 0, emaTau.isFinite else { throw bad(.emaTau, "must be positive, got \(emaTau)") }
        guard mosaic >= 0, mosaic <= 1 else { throw bad(.mosaic, "must be a probability in [0, 1], got \(mosaic)") }
        guard verticalFlip >= 0, verticalFlip <= 1 else {
            throw bad(.verticalFlip, "must be a probability in [0, 1], got \(verticalFlip)")
        }
        guard mixup >= 0, mixup <= 1 else { throw bad(.mixup, "must be a probability in [0, 1], got \(mixup)") }
        guard copyPaste >= 0, copyPaste <= 1 else {
            throw bad(.copyPaste, "must be a probability in [0, 1], got \(copyPaste)")
        }
        guard scaleJitter >= 0, scaleJitter < 1 else { throw bad(.scaleJitter, "must be in [0, 1), got \(scaleJitter)") }
        guard closeMosaic >= 0, closeMosaic < 1 else {
            throw bad(.closeMosaic, "must be a fraction of the schedule in [0, 1), got \(closeMosaic)")
        }
    }

    /// The training augmentation these settings give: `AugmentConfig()` with their vertical flip, scale, mosaic,
    /// mixup and copy-paste probabilities, or `.none` without `augment`.
    public var augmentConfig: AugmentConfig {
        guard augment else { return .none }
        var c = AugmentConfig()
        c.verticalFlipProbability = verticalFlip
        c.minScale = 1 - scaleJitter
        c.maxScale = 1 + scaleJitter
        c.mosaicProbability = mosaic
        c.mixupProbability = mixup
        c.copyPasteProbability = copyPaste
        return c
    }

    /// JSON text, keys sorted (checkpoint metadata).
    public func jsonString() -> String { SettingsCoding.jsonString(self) }

    /// Settings from a JSON object's entries over `base` (missing keys keep `base`'s values); every entry must be a
    /// key of `TrainSettings`; `source` names the file in errors.
    public static func from(entries user: [String: Any], source: String, base: TrainSettings = TrainSettings()) throws -> TrainSettings {
        do {
            return try SettingsCoding.merge(user, over: base, keys: Set(keys), source: source)
        } catch let ModelError.invalidConfigFile(path, reason) {
            throw TrainingError.invalidConfigFile(path: path, reason: reason)
        }
    }
}

/// Values set explicitly for some settings of a `Root` (`DetectorConfig` or `TrainSettings`), by key: the flags a
/// person typed, applied over the defaults and a `--config` file. Each entry knows its key, its value as text (for
/// logs) and whether a given root already holds that value (for `--resume`).
public struct SettingPatch<Root>: Sendable {
    /// One explicit value.
    public struct Entry: Sendable {
        /// The setting's key (as in JSON).
        public let key: String
        /// The value, printed.
        public let value: String
        let apply: @Sendable (inout Root) -> Void
        let holds: @Sendable (Root) -> Bool
    }

    /// The entries, in the order they were set (a later entry for the same key replaces an earlier one).
    public private(set) var entries: [Entry] = []

    /// An empty patch.
    public init() {}

    /// Sets the setting at `path` (key `key`) to `value`.
    public mutating func set<V: Equatable & Sendable>(_ key: String, _ path: WritableKeyPath<Root, V> & Sendable, _ value: V) {
        entries.removeAll { $0.key == key }
        entries.append(Entry(key: key, value: "\(value)", apply: { $0[keyPath: path] = value },
                             holds: { $0[keyPath: path] == value }))
    }

    /// Whether the patch sets `key`.
    public func sets(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// `root` with every entry applied.
    public func applied(to root: Root) -> Root {
        var r = root
        for e in entries { e.apply(&r) }
        return r
    }

    /// The entries whose value differs from `root`'s.
    public func changes(from root: Root) -> [Entry] { entries.filter { !$0.holds(root) } }
}

extension SettingPatch where Root == DetectorConfig {
    /// Sets the `DetectorConfig` setting `key` to `value`.
    public mutating func set<V: Equatable & Sendable>(_ key: DetectorConfig.CodingKeys, _ path: WritableKeyPath<Root, V> & Sendable, _ value: V) {
        set(key.stringValue, path, value)
    }
}

extension SettingPatch where Root == TrainSettings {
    /// Sets the `TrainSettings` setting `key` to `value`.
    public mutating func set<V: Equatable & Sendable>(_ key: TrainSettings.CodingKeys, _ path: WritableKeyPath<Root, V> & Sendable, _ value: V) {
        set(key.stringValue, path, value)
    }
}
