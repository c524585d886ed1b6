import ArgumentParser
import Detection
import Foundation

/// `detector train`: the main job. Without `--data` it trains on the embedded synthetic default.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a detector (dense focal-loss head + Hungarian set head).",
        discussion: """
            With no arguments, generates the synthetic crowded-scene default in data/synthetic (once) and trains on it \
            for 12 minutes, then reports COCO AP of both heads on its validation split. Checkpoints, the JSON Lines log \
            and SVG plots go to --out. Ctrl-C finishes the step, saves a checkpoint and exits; --resume continues.
            """)

    @Option(help: "Training annotations: COCO .json, YOLO folder or .idl (default: the synthetic default).")
    var data: String?
    @Option(help: "Image folder of --data, when the images are not beside the annotations.")
    var images: String?
    @Option(help: "Validation annotations (same formats).")
    var val: String?
    @Option(help: "Image folder of --val.")
    var valImages: String?
    @Option(help: "Epochs to train (default: 30, or 12 minutes on the synthetic default).")
    var epochs: Int?
    @Option(help: "Wall-clock budget in minutes; the learning-rate schedule follows it.")
    var minutes: Double?
    @Option(help: "Images per step.")
    var batchSize = 16
    @Option(help: "Peak AdamW learning rate.")
    var lr = 2e-3
    @Option(help: "AdamW weight decay.")
    var weightDecay = 1e-4
    @Option(help: "Linear learning-rate warmup steps.")
    var warmupSteps = 100
    @Option(help: "Square network input size (multiple of 16).")
    var inputSize: Int?
    @Option(help: "Seed of initialisation, data order and augmentation.")
    var seed: UInt64 = 0
    @Option(help: "Threads (default: all cores; 1 makes resumed runs bit-exact).")
    var threads: Int?
    @Option(help: "Run folder for checkpoints, log and plots.")
    var out = "runs/train"
    @Option(help: "Checkpoint to continue from (e.g. runs/train/last.safetensors).")
    var resume: String?
    @Option(help: "JSON file of configuration overrides (keys of DetectorConfig).")
    var config: String?
    @Option(help: "Set head: query, fc or none.")
    var setHead: String?
    @Option(help: "Number of set hypotheses.")
    var hypotheses: Int?
    @Option(help: "Set matching cost: detr or reinspect.")
    var matchCost: String?
    @Option(help: "Evaluate on the validation split every N epochs (0: only at the end).")
    var evalEvery = 1
    @Option(help: "Class-balanced weighting β (Cui et al. 2019); 0 disables.")
    var classBalance = 0.0
    @Option(help: "Label smoothing of the set head's class cross-entropy.")
    var labelSmoothing = 0.0
    @Option(help: "Anchor sides in input pixels, comma-separated (e.g. 16,32,64), or 'auto' to fit them to the training boxes.")
    var anchors: String?
    @Option(help: "Stop after this many steps.")
    var maxSteps: Int?
    @Option(help: "Synthetic default: training images to generate.")
    var syntheticTrain = 2000
    @Flag(help: "Skip unreadable images (counted and reported) instead of stopping.")
    var skipBadImages = false
    @Flag(help: "Train on the images as they are: no flips, scale jitter or colour jitter.")
    var noAugment = false

    func validate() throws {
        if let s = setHead, DetectorConfig.SetHeadKind(rawValue: s) == nil {
            throw ValidationError("--set-head must be one of query, fc, none; got '\(s)'")
        }
        if let m = matchCost, DetectorConfig.MatchCostKind(rawValue: m) == nil {
            throw ValidationError("--match-cost must be detr or reinspect; got '\(m)'")
        }
        if let a = anchors, a != "auto", Self.anchorList(a) == nil {
            throw ValidationError("--anchors must be 'auto' or comma-separated positive numbers; got '\(a)'")
        }
        do { try options().validate() } catch { throw ValidationError("\(error)") }
    }

    func options() -> TrainOptions {
        var o = TrainOptions()
        let url = { (p: String) in URL(fileURLWithPath: p) }
        o.data = data.map(url); o.images = images.map(url); o.val = val.map(url); o.valImages = valImages.map(url)
        o.epochs = epochs; o.minutes = minutes; o.batchSize = batchSize; o.learningRate = lr
        o.weightDecay = weightDecay; o.warmupSteps = warmupSteps; o.inputSize = inputSize; o.seed = seed; o.threads = threads
        o.out = url(out); o.resume = resume.map(url); o.config = config.map(url)
        o.setHead = setHead.flatMap(DetectorConfig.SetHeadKind.init(rawValue:)); o.hypotheses = hypotheses
        o.matchCost = matchCost.flatMap(DetectorConfig.MatchCostKind.init(rawValue:))
        o.evalEvery = evalEvery; o.classBalance = classBalance; o.labelSmoothing = labelSmoothing
        o.maxSteps = maxSteps; o.skipBadImages = skipBadImages; o.syntheticTrain = syntheticTrain
        o.augment = !noAugment
        o.autoAnchors = anchors == "auto"; o.anchorSizes = anchors.flatMap(Self.anchorList)
        return o
    }

    /// `"16,32,64"` → `[16, 32, 64]`; nil unless every item is a positive number.
    static func anchorList(_ text: String) -> [Double]? {
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.map { $0! }
    }

    func run() throws {
        try reportingErrors { _ = try Trainer(options: options()).run() }
    }
}
