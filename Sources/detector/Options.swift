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
extension TestTimeFlips: ExpressibleByArgument {}
extension TestTimeFlips.Merge: ExpressibleByArgument {}

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

/// `--pyramid-strides`: positive integers, comma-separated (`4,8,16`); `DetectorConfig.validate` says which lists
/// build a network.
struct StrideList: ExpressibleByArgument, Equatable {
    /// The strides, in the order given.
    var values: [Int]

    init?(argument: String) {
        let values = argument.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        self.values = values.compactMap { $0 }
    }
}

/// The flag that sets each library setting key, for error messages: library errors name settings by key
/// (`learningRate`), the command line by flag (`--lr`).
enum FlagNames {
    static let byKey: [String: String] = [
        // TrainSettings
        "epochs": "--epochs", "minutes": "--minutes", "batchSize": "--batch-size", "learningRate": "--lr",
        "weightDecay": "--weight-decay", "warmupSteps": "--warmup-steps", "seed": "--seed", "evalEvery": "--eval-every",
        "augment": "--no-augment", "saveEvery": "--save-every", "chooseInputSize": "--choose-input-size",
        "verticalFlip": "--vertical-flip", "scaleJitter": "--scale-jitter", "mosaic": "--mosaic",
        "closeMosaic": "--close-mosaic", "mixup": "--mixup", "partialLabels": "--partial-labels",
        "copyPaste": "--copy-paste",
        // DetectorConfig
        "inputSize": "--input-size", "rectangular": "--rect", "setHead": "--set-head", "hypotheses": "--hypotheses", "matchCost": "--match-cost",
        "querySelection": "--query-selection", "denseAssignment": "--dense-assignment", "anchorSizes": "--anchors",
        "pyramidStrides": "--pyramid-strides",
        "classBalanceBeta": "--class-balance", "labelSmoothing": "--label-smoothing",
        // TrainOptions, inference options
        "data": "--data", "val": "--val", "config": "--config", "threads": "--threads", "replicas": "--replicas", "maxSteps": "--max-steps",
        "weights": "--weights", "resume": "--resume",
        "syntheticTrain": "--synthetic-train", "collectiveTimeout": "--mpi-timeout", "bucketMegabytes": "--bucket-mb",
        "head": "--head", "overlays": "--overlays", "out": "--out", "tile": "--tile", "tileOverlap": "--tile-overlap",
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
extension PrecisionSetting: ExpressibleByArgument {}

struct RuntimeOptions: ParsableArguments {
    @Option(help: "Threads for OpenBLAS and the kernels (default: all cores; 1 makes runs bit-exact across resumes).")
    var threads: Int?

    @Option(help: ArgumentHelp("Arithmetic of the convolutions and matrix products: fp32, bf16 (inputs rounded to "
        + "bfloat16, fp32 sums, as PyTorch's CPU autocast; needs AVX512_BF16) or auto (bf16 where the CPU has it). "
        + "Weights, optimizer, BatchNorm statistics and losses stay fp32."))
    var precision = PrecisionSetting.fp32

    func validate() throws {
        if let t = threads, t <= 0 { throw ValidationError("--threads must be positive, got \(t)") }
        if precision.resolved() == nil {
            throw ValidationError("--precision bf16: this CPU has no AVX512_BF16; use fp32 or auto")
        }
    }

    /// The precision mode `--precision` means on this CPU (validated).
    var resolvedPrecision: Precision { precision.resolved() ?? .fp32 }

    /// Applies the thread count to OpenBLAS and the parallel loops, and the precision to the layers.
    func apply() {
        Precision.current = resolvedPrecision
        guard let t = threads else { return }
        BLASRuntime.threads = t
        Parallel.workers = t
    }
}

extension ReplicaCount: ExpressibleByArgument {}

/// `--replicas`, shared by `train` and `bench train`: in-process data parallel (`Training.ReplicaStep`).
struct ReplicaOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Replicas of the network that each train a contiguous shard of every batch on a thread "
        + "of their own (OpenBLAS and the kernels single-threaded inside each), gradients summed as under mpirun: "
        + "'auto' (one per thread when the batch divides evenly, else 1; 1 under mpirun) or a count; 1 runs one "
        + "network threaded inside each operation."))
    var replicas = ReplicaCount.auto
}

/// Settings of the network and its losses (`DetectorConfig`) that have a flag, shared by `train` and `bench train`.
/// Each is nil unless given, so that a `--config` file's value stands unless a flag overrides it.
struct ModelOptions: ParsableArguments {
    @Option(help: "Square network input size (multiple of 16); with --rect, the longer side (multiple of 32). Default: the preset's; the default preset for --data fits it to the training boxes.")
    var inputSize: Int?
    @Flag(name: .customLong("rect"), inversion: .prefixedNo,
          help: ArgumentHelp("Rectangular inputs (YOLOv5 rect): each image keeps its aspect ratio, longer side --input-size, "
              + "shorter side rounded up to a multiple of 32; training batches group images of similar shape "
              + "(default: the preset's, off for reference)."))
    var rectangular: Bool?
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
    @Option(help: "Strides of the dense head's feature levels, comma-separated: 8 (one level, the default) or a feature pyramid of 4,8,16, 8,16 or 4,8.")
    var pyramidStrides: StrideList?
    @Option(help: "Class-balanced weighting β (Cui et al. 2019); 0 disables.")
    var classBalance: Double?
    @Option(help: "Label smoothing of the set head's class cross-entropy.")
    var labelSmoothing: Double?

    /// The values given, as a patch over the configuration.
    var patch: SettingPatch<DetectorConfig> {
        var p = SettingPatch<DetectorConfig>()
        if let v = inputSize { p.set(.inputSize, \.inputSize, v) }
        if let v = rectangular { p.set(.rectangular, \.rectangular, v) }
        if let v = setHead { p.set(.setHead, \.setHead, v) }
        if let v = hypotheses { p.set(.hypotheses, \.hypotheses, v) }
        if let v = matchCost { p.set(.matchCost, \.matchCost, v) }
        if let v = querySelection { p.set(.querySelection, \.querySelection, v) }
        if let v = denseAssignment { p.set(.denseAssignment, \.denseAssignment, v) }
        if case let .sizes(v) = anchors { p.set(.anchorSizes, \.anchorSizes, v) }
        if let v = pyramidStrides { p.set(.pyramidStrides, \.pyramidStrides, v.values) }
        if let v = classBalance { p.set(.classBalanceBeta, \.classBalanceBeta, v) }
        if let v = labelSmoothing { p.set(.labelSmoothing, \.labelSmoothing, v) }
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

/// How `detect` and `evaluate --model` feed images to the network: overlapping tiles for images larger than the input
/// (`Inference.Tiling`) and the input side (`Inference.InferenceInput`).
struct InputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Cut images larger than this many pixels (per side) into overlapping tiles of that side, "
        + "each letterboxed to the input; detections are kept by the tile that owns their centre and merged across "
        + "tile borders only (default: whole images)."))
    var tile: Int?
    @Option(help: "Pixels neighbouring tiles share (at least the largest object side; default a fifth of --tile).")
    var tileOverlap: Int?
    @Option(name: .customLong("input-size"),
            help: ArgumentHelp("Run the network at this input side (multiple of 16; of 32 for rectangular models) instead of the "
                + "one it was trained at, as ultralytics' imgsz at val/predict: larger sides give small objects more pixels "
                + "(default: the side training chose on its validation split and stored in the checkpoint, else the training side)."))
    var inputSize: Int?
    @Option(name: .customLong("nms-iou"),
            help: ArgumentHelp("Dense head: IoU above which NMS drops the lower-scored of two boxes of a class "
                + "(torchvision's box_nms_thresh, ultralytics' iou; default 0.5)."))
    var nmsIoU: Double?
    @Option(name: .customLong("tta"),
            help: ArgumentHelp("Test-time flips: each image predicted as it is and mirrored left to right "
                + "(h, 2 passes) or also top to bottom and both (hv, 4 passes, for pictures with no up such as cells), "
                + "each head's passes merged per class (see --tta-merge) at IoU --nms-iou, as ultralytics' "
                + "augment=True (default: one pass).",
                valueName: "h|hv"))
    var tta: TestTimeFlips?
    @Option(name: .customLong("tta-merge"),
            help: ArgumentHelp("How the passes of --tta and of several --model are merged: match (one to one by the "
                + "Hungarian assignment, no NMS: "
                + "neighbours stay apart) or nms (every box overlapping a better one of its class dropped, "
                + "ultralytics' merge)."))
    var ttaMerge = TestTimeFlips.Merge.match

    func validate() throws {
        if let iou = nmsIoU, !(iou > 0 && iou <= 1) { throw ValidationError("--nms-iou must be in (0, 1], got \(iou)") }
        if tile == nil && tileOverlap != nil { throw ValidationError("--tile-overlap needs --tile") }
        if let t = tile { _ = try tiling(side: t) }
    }

    private func tiling(side: Int) throws -> Tiling {
        do { return try Tiling(side: side, overlap: tileOverlap ?? side / 5) } catch let error as InferenceError {
            throw ValidationError(FlagNames.describe(error))
        }
    }

    /// Refuses `--tta-merge` when there is nothing to merge: no `--tta` and fewer than two models.
    func checkMerge(models: Int) throws {
        if tta == nil && models < 2 && ttaMerge != .match {
            throw ValidationError("--tta-merge needs --tta or a second --model")
        }
    }

    /// The tiling asked for, or nil.
    var tiling: Tiling? { tile.flatMap { try? tiling(side: $0) } }
}
