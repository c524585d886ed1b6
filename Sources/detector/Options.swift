import ArgumentParser
import DetectorModel
import Foundation
import Inference
import NeuralNet
import Training

// Typed values on the command line: each enum of the library parses from its raw value, and an unknown value is a
// usage error listing the valid ones.
extension DetectorConfig.SetHeadKind: ExpressibleByArgument {}
extension SaveInterval: ExpressibleByArgument {
    public init?(argument: String) { self.init(text: argument) }
}
extension DetectorConfig.MatchCostKind: ExpressibleByArgument {}
extension DetectorConfig.QuerySelectionKind: ExpressibleByArgument {}
extension DetectorConfig.DenseAssignmentKind: ExpressibleByArgument {}
extension DetectRun.Head: ExpressibleByArgument {}
extension ModelEvaluation.HeadChoice: ExpressibleByArgument {}

/// `--anchors`: `auto` (fitted to the training boxes) or comma-separated sides in input pixels.
enum AnchorChoice: ExpressibleByArgument, Equatable {
    /// Fit the sides to the training boxes.
    case auto
    /// These sides.
    case sizes([Double])

    init?(argument: String) {
        if argument == "auto" { self = .auto; return }
        let values = argument.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? .infinity).isFinite }) else { return nil }
        self = .sizes(values.compactMap { $0 })
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// The flag that sets each library setting key, for error messages: library errors name settings by key
/// (`learningRate`), the command line by flag (`--lr`).
enum FlagNames {
    static let byKey: [String: String] = [
        // TrainSettings
        "epochs": "--epochs", "minutes": "--minutes", "batchSize": "--batch-size", "learningRate": "--lr",
        "weightDecay": "--weight-decay", "warmupSteps": "--warmup-steps", "seed": "--seed", "evalEvery": "--eval-every",
        "augment": "--no-augment", "saveEvery": "--save-every",
        // DetectorConfig
        "inputSize": "--input-size", "setHead": "--set-head", "hypotheses": "--hypotheses", "matchCost": "--match-cost",
        "querySelection": "--query-selection", "denseAssignment": "--dense-assignment", "anchorSizes": "--anchors",
        "classBalanceBeta": "--class-balance", "labelSmoothing": "--label-smoothing",
        // TrainOptions, inference options
        "data": "--data", "val": "--val", "config": "--config", "threads": "--threads", "maxSteps": "--max-steps",
        "syntheticTrain": "--synthetic-train", "collectiveTimeout": "--mpi-timeout", "bucketMegabytes": "--bucket-mb",
        "head": "--head", "overlays": "--overlays",
        "out": "--out",
    ]

    /// `message` with the leading `setting KEY:` of a library error replaced by the flag (or by the key in a config
    /// file, for settings without a flag).
    static func describe(_ error: Error) -> String {
        let key: String?
        switch error {
        case let e as TrainingError: key = e.settingKey
        case let ModelError.invalidSetting(k, _): key = k
        case let InferenceError.invalidSetting(k, _): key = k
        default: key = nil
        }
        let text = "\(error)"
        guard let key, text.hasPrefix("setting \(key):") else { return text }
        let name = byKey[key] ?? "configuration key \(key)"
        return "\(name):" + text.dropFirst("setting \(key):".count)
    }
}

/// `--threads`, shared by every command that runs the network.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Threads for OpenBLAS and the kernels (default: all cores; 1 makes runs bit-exact across resumes).")
    var threads: Int?

    func validate() throws {
        if let t = threads, t <= 0 { throw ValidationError("--threads must be positive, got \(t)") }
    }

    /// Applies the thread count to OpenBLAS and the parallel loops.
    func apply() {
        guard let t = threads else { return }
        BLASRuntime.threads = t
        Parallel.workers = t
    }
}

/// Settings of the network and its losses (`DetectorConfig`) that have a flag, shared by `train` and `bench train`.
/// Each is nil unless given, so that a `--config` file's value stands unless a flag overrides it.
struct ModelOptions: ParsableArguments {
    @Option(help: "Square network input size (multiple of 16).")
    var inputSize: Int?
    @Option(help: "Set head: \(DetectorConfig.SetHeadKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var setHead: DetectorConfig.SetHeadKind?
    @Option(help: "Number of set hypotheses.")
    var hypotheses: Int?
    @Option(help: "Set matching cost: \(DetectorConfig.MatchCostKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var matchCost: DetectorConfig.MatchCostKind?
    @Option(help: "How the query head picks its anchors: \(DetectorConfig.QuerySelectionKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var querySelection: DetectorConfig.QuerySelectionKind?
    @Option(help: "Positive anchors of the dense head: \(DetectorConfig.DenseAssignmentKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var denseAssignment: DetectorConfig.DenseAssignmentKind?
    @Option(help: "Anchor sides in input pixels, comma-separated (e.g. 16,32,64), or 'auto' to fit them to the training boxes.")
    var anchors: AnchorChoice?
    @Option(help: "Class-balanced weighting β (Cui et al. 2019); 0 disables.")
    var classBalance: Double?
    @Option(help: "Label smoothing of the set head's class cross-entropy.")
    var labelSmoothing: Double?

    /// The values given, as a patch over the configuration.
    var patch: SettingPatch<DetectorConfig> {
        var p = SettingPatch<DetectorConfig>()
        if let v = inputSize { p.set(.inputSize, \.inputSize, v) }
        if let v = setHead { p.set(.setHead, \.setHead, v) }
        if let v = hypotheses { p.set(.hypotheses, \.hypotheses, v) }
        if let v = matchCost { p.set(.matchCost, \.matchCost, v) }
        if let v = querySelection { p.set(.querySelection, \.querySelection, v) }
        if let v = denseAssignment { p.set(.denseAssignment, \.denseAssignment, v) }
        if case let .sizes(v) = anchors { p.set(.anchorSizes, \.anchorSizes, v) }
        if let v = classBalance { p.set(.classBalanceBeta, \.classBalanceBeta, v) }
        if let v = labelSmoothing { p.set(.labelSmoothing, \.labelSmoothing, v) }
        return p
    }
}

/// Settings of the run (`TrainSettings`) that have a flag; nil unless given.
struct ScheduleOptions: ParsableArguments {
    @Option(help: "Epochs to train (default: 30, or 12 minutes on the synthetic default).")
    var epochs: Int?
    @Option(help: "Wall-clock budget in minutes; the learning-rate schedule follows it.")
    var minutes: Double?
    @Option(help: "Images per step (default \(TrainSettings().batchSize)).")
    var batchSize: Int?
    @Option(help: "Peak AdamW learning rate (default \(TrainSettings().learningRate)).")
    var lr: Double?
    @Option(help: "AdamW weight decay (default \(TrainSettings().weightDecay)).")
    var weightDecay: Double?
    @Option(help: "Linear learning-rate warmup steps (default \(TrainSettings().warmupSteps)).")
    var warmupSteps: Int?
    @Option(help: "Seed of initialisation, data order and augmentation (default 0).")
    var seed: UInt64?
    @Option(help: "Evaluate on the validation split every N epochs (0: only at the end; default 1).")
    var evalEvery: Int?
    @Flag(inversion: .prefixedNo, help: "Random flips, scale jitter and colour jitter on training images (default on).")
    var augment: Bool?
    @Option(help: "Save last.safetensors every N steps (500) or minutes (10m) as well as at the end (default: every epoch).")
    var saveEvery: SaveInterval?

    /// The values given, as a patch over the run's settings.
    var patch: SettingPatch<TrainSettings> {
        var p = SettingPatch<TrainSettings>()
        if let v = epochs { p.set(.epochs, \.epochs, v) }
        if let v = minutes { p.set(.minutes, \.minutes, v) }
        if let v = batchSize { p.set(.batchSize, \.batchSize, v) }
        if let v = lr { p.set(.learningRate, \.learningRate, v) }
        if let v = weightDecay { p.set(.weightDecay, \.weightDecay, v) }
        if let v = warmupSteps { p.set(.warmupSteps, \.warmupSteps, v) }
        if let v = seed { p.set(.seed, \.seed, v) }
        if let v = evalEvery { p.set(.evalEvery, \.evalEvery, v) }
        if let v = augment { p.set(.augment, \.augment, v) }
        if let v = saveEvery { p.set(.saveEvery, \.saveEvery, v) }
        return p
    }
}

/// A dataset to read: annotations, the image folder, and what to do with unreadable images.
struct DataOptions: ParsableArguments {
    @Option(help: "Annotations: COCO .json, YOLO folder (images/ + labels/ + classes.txt) or Brainwash .idl (evaluate: COCO .json).")
    var data: String?
    @Option(help: "Image folder of --data, when the images are not beside the annotations.")
    var images: String?
    @Flag(help: "Skip unreadable images (counted and reported) instead of stopping.")
    var skipBadImages = false

    var dataURL: URL? { data.map { URL(fileURLWithPath: $0) } }
    var imagesURL: URL? { images.map { URL(fileURLWithPath: $0) } }
}
