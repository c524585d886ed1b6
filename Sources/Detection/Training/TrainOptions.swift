import Foundation

/// What a training run is asked to do: the options of `detector train`, as a library value.
public struct TrainOptions: Sendable {
    /// Training annotations: a COCO `.json`, a YOLO folder or an `.idl` file; nil = the embedded synthetic default.
    public var data: URL?
    /// Image folder for `data`, when the images are not beside the annotations.
    public var images: URL?
    /// Validation annotations (same formats); nil = the synthetic default's `val.json`, or none for user data.
    public var val: URL?
    /// Image folder for `val`.
    public var valImages: URL?
    /// Epochs to train; nil with `minutes` nil means 12 minutes on the synthetic default and 30 epochs otherwise.
    public var epochs: Int?
    /// Wall-clock budget in minutes; the LR schedule follows elapsed time over this budget.
    public var minutes: Double?
    /// Images per step.
    public var batchSize = 16
    /// Peak learning rate of AdamW.
    public var learningRate = 2e-3
    /// AdamW decoupled weight decay (not on BatchNorm/LayerNorm parameters or biases).
    public var weightDecay = 1e-4
    /// Linear warmup steps.
    public var warmupSteps = 100
    /// Maximum global gradient norm.
    public var clipNorm = 10.0
    /// Seed of initialisation, data order and augmentation.
    public var seed: UInt64 = 0
    /// Threads for OpenBLAS and the kernels' parallel loops; nil = all cores. 1 gives bit-exact resumes.
    public var threads: Int?
    /// Run folder (log, plots, checkpoints).
    public var out = URL(fileURLWithPath: "runs/train")
    /// Checkpoint to continue from.
    public var resume: URL?
    /// JSON file of `DetectorConfig` overrides.
    public var config: URL?
    /// Evaluate on the validation split every this many epochs (0 = only at the end).
    public var evalEvery = 1
    /// Skip unreadable images (counted and reported) instead of stopping.
    public var skipBadImages = false
    /// Class-balance β (Cui et al., CVPR 2019; 0 = off).
    public var classBalance = 0.0
    /// Label smoothing of the set head's class cross-entropy.
    public var labelSmoothing = 0.0
    /// Overrides of the configuration (nil = the configuration's value).
    public var inputSize: Int?
    /// Set head kind override.
    public var setHead: DetectorConfig.SetHeadKind?
    /// Number of hypotheses override.
    public var hypotheses: Int?
    /// Matching cost override.
    public var matchCost: DetectorConfig.MatchCostKind?
    /// Anchor sides override (input pixels, ascending).
    public var anchorSizes: [Double]?
    /// Random flips, scale jitter with crops and colour jitter on training images (`AugmentConfig()`); false feeds
    /// the letterboxed images as they are.
    public var augment = true
    /// Fit the anchor sides to the training boxes (`AnchorFitting`, as many as the configuration has).
    public var autoAnchors = false
    /// Folder of the synthetic default dataset (created when missing).
    public var syntheticFolder = URL(fileURLWithPath: "data/synthetic")
    /// Synthetic default: training and validation images.
    public var syntheticTrain = 2000, syntheticVal = 200
    /// Consecutive non-finite steps that stop training.
    public var maxNonFiniteSteps = 10
    /// Stop after this many steps (tests and benchmarks); nil = no limit.
    public var maxSteps: Int?
    /// Print progress to standard error.
    public var verbose = true

    /// Defaults.
    public init() {}

    /// Checks option values that cannot work, naming the option.
    public func validate() throws {
        func bad(_ name: String, _ why: String) -> DetectionError { .invalidOption(name, why) }
        if let e = epochs, e <= 0 { throw bad("--epochs", "must be positive, got \(e)") }
        if let m = minutes, !(m > 0) { throw bad("--minutes", "must be positive, got \(m)") }
        guard batchSize > 0 else { throw bad("--batch-size", "must be positive, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw bad("--lr", "must be positive, got \(learningRate)") }
        guard weightDecay >= 0 else { throw bad("--weight-decay", "must be ≥ 0, got \(weightDecay)") }
        if let t = threads, t <= 0 { throw bad("--threads", "must be positive, got \(t)") }
        guard (0..<1).contains(classBalance) else { throw bad("--class-balance", "β must be in [0, 1), got \(classBalance)") }
        guard (0..<1).contains(labelSmoothing) else { throw bad("--label-smoothing", "must be in [0, 1), got \(labelSmoothing)") }
        if let s = inputSize, s < 32 || s % 16 != 0 { throw bad("--input-size", "must be a multiple of 16, at least 32, got \(s)") }
        if let h = hypotheses, h <= 0 { throw bad("--hypotheses", "must be positive, got \(h)") }
        if let a = anchorSizes, a.isEmpty || !a.allSatisfy({ $0 > 0 && $0.isFinite }) {
            throw bad("--anchors", "sides must be positive numbers, got \(a)")
        }
        guard evalEvery >= 0 else { throw bad("--eval-every", "must be ≥ 0, got \(evalEvery)") }
    }
}
