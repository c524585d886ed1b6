import ArgumentParser
import Datasets
import Foundation
import Training

extension SyntheticDataset: ExpressibleByArgument {}

/// `detector train`: the main job. Without `--data` it trains on the embedded synthetic default.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a detector (dense focal-loss head + Hungarian set head).",
        discussion: """
            With no arguments, generates the synthetic crowded-scene default in data/synthetic (once) and trains on it \
            for 12 minutes, then reports COCO AP of both heads on its validation split. Checkpoints, the JSON Lines log \
            and SVG plots go to --out. Ctrl-C finishes the step, saves a checkpoint and exits; --resume continues.
            Settings: defaults < preset < --config file (keys of DetectorConfig and TrainSettings) < flags. The preset \
            is 'synthetic' without --data and 'default' (the best known configuration, anchors fitted to the data) \
            with it; --config NAME picks another (\(Preset.allCases.map(\.rawValue).joined(separator: ", ")); \
            'reference' is the configuration the speed benchmarks time), and --config may be given twice, a name and \
            a file. Under --resume the checkpoint's settings are the base; a flag that would change its network is an \
            error, others are applied and logged.
            """)

    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Validation annotations (same formats).")
    var val: String?
    @Option(help: "Image folder of --val.")
    var valImages: String?
    @OptionGroup var schedule: ScheduleOptions
    @OptionGroup var model: ModelOptions
    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var replicaOptions: ReplicaOptions
    @Option(help: "Run folder for checkpoints, log and plots.")
    var out = "runs/train"
    @Option(defaultAsFlag: TrainOptions.resumeLast, parsing: .next,
            help: "Continue a run: bare --resume takes --out's last.safetensors; or give a checkpoint or a run folder.")
    var resume: String?
    @Option(help: ArgumentHelp("Start a new run from the weights of a checkpoint or run folder (another run's "
        + "best.safetensors, its weight average when it holds one): tensors of the same name and shape are copied, the rest (a head for "
        + "other classes) initialised as usual; settings, schedule and optimizer are this run's (ultralytics' "
        + "model=….pt). Not with --resume."))
    var weights: String?
    @Option(help: ArgumentHelp("A preset by name (\(Preset.allCases.map(\.rawValue).joined(separator: ", "))) or a JSON "
        + "file of settings: keys of DetectorConfig and TrainSettings; at most one of each.", valueName: "name-or-file"))
    var config: [String] = []
    @Option(help: "Stop after this many steps (the schedule is unchanged, so the run can be resumed).")
    var maxSteps: Int?
    @Option(help: ArgumentHelp("Without --data, the generated dataset to train on: scenes (the synthetic default, 256²) "
        + "or tiny-crowd (512×288 frames of 30–90 objects of 6–16 px, with the tiny-crowd preset)."))
    var synthetic = SyntheticDataset.scenes
    @Option(help: "Generated dataset: training images to generate.")
    var syntheticTrain = 2000
    @Flag(help: "Under mpirun: BatchNorm statistics over every process's batch (synchronised), not per process.")
    var syncBn = false
    @Option(help: "Under mpirun: seconds a collective waits for the other processes before the job is ended.")
    var mpiTimeout = 60.0
    @Flag(inversion: .prefixedNo, help: "Under mpirun: start each gradient bucket's allreduce during backward as soon as its gradients are final.")
    var overlapAllreduce = true
    @Option(help: "Under mpirun: gradient bucket size in MiB (the first bucket is at most 1 MiB).")
    var bucketMb = 25.0

    /// The preset named by `--config` and the settings file, at most one of each.
    func configChoice() throws -> (preset: Preset?, file: String?) {
        let presets = config.compactMap(Preset.named), files = config.filter { Preset.named($0) == nil }
        guard presets.count <= 1, files.count <= 1 else {
            throw ValidationError("--config takes at most one preset name and one file, got \(config.joined(separator: ", "))")
        }
        return (presets.first, files.first)
    }

    func validate() throws {
        _ = try configChoice()
        do {
            let o = options()
            try o.validate()
            try o.training.applied(to: TrainSettings()).validate()
        } catch { throw ValidationError(FlagNames.describe(error)) }
    }

    func options() -> TrainOptions {
        var o = TrainOptions()
        let url = { (p: String) in URL(fileURLWithPath: p) }
        o.data = dataOptions.dataURL; o.images = dataOptions.imagesURL; o.skipBadImages = dataOptions.skipBadImages
        o.val = val.map(url); o.valImages = valImages.map(url)
        o.out = url(out); o.resume = resume.map { TrainOptions.checkpointToResume($0, out: url(out)) }
        o.weights = weights.map(TrainOptions.checkpointForWeights)
        let choice = try? configChoice()
        o.preset = choice?.preset; o.config = choice?.file.map(url)
        o.model = model.patch
        o.training = schedule.patch
        o.autoAnchors = model.anchors == .auto
        o.threads = runtime.threads
        o.replicas = replicaOptions.replicas
        o.precision = runtime.resolvedPrecision
        o.maxSteps = maxSteps
        o.syntheticTrain = syntheticTrain
        o.syncBatchNorm = syncBn
        o.collectiveTimeout = mpiTimeout
        o.overlapAllreduce = overlapAllreduce
        o.bucketMegabytes = bucketMb
        o.synthetic = synthetic
        return o
    }

    func run() throws {
        try reportingErrors { _ = try Trainer(options: options()).run() }
    }
}
