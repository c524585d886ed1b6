import ArgumentParser
import Foundation
import Training

/// `detector train`: the main job. Without `--data` it trains on the embedded synthetic default.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a detector (dense focal-loss head + Hungarian set head).",
        discussion: """
            With no arguments, generates the synthetic crowded-scene default in data/synthetic (once) and trains on it \
            for 12 minutes, then reports COCO AP of both heads on its validation split. Checkpoints, the JSON Lines log \
            and SVG plots go to --out. Ctrl-C finishes the step, saves a checkpoint and exits; --resume continues.
            Settings: defaults < --config file (keys of DetectorConfig and TrainSettings) < flags. Under --resume the \
            checkpoint's settings are the base; a flag that would change its network is an error, others are applied \
            and logged.
            """)

    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Validation annotations (same formats).")
    var val: String?
    @Option(help: "Image folder of --val.")
    var valImages: String?
    @OptionGroup var schedule: ScheduleOptions
    @OptionGroup var model: ModelOptions
    @OptionGroup var runtime: RuntimeOptions
    @Option(help: "Run folder for checkpoints, log and plots.")
    var out = "runs/train"
    @Option(defaultAsFlag: TrainOptions.resumeLast, parsing: .next,
            help: "Continue a run: bare --resume takes --out's last.safetensors; or give a checkpoint or a run folder.")
    var resume: String?
    @Option(help: "JSON file of settings: keys of DetectorConfig and TrainSettings (docs/ARCHITECTURE.md).")
    var config: String?
    @Option(help: "Stop after this many steps (the schedule is unchanged, so the run can be resumed).")
    var maxSteps: Int?
    @Option(help: "Synthetic default: training images to generate.")
    var syntheticTrain = 2000
    @Flag(help: "Under mpirun: BatchNorm statistics over every process's batch (synchronised), not per process.")
    var syncBn = false
    @Option(help: "Under mpirun: seconds a collective waits for the other processes before the job is ended.")
    var mpiTimeout = 60.0

    func validate() throws {
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
        o.out = url(out); o.resume = resume.map { TrainOptions.checkpointToResume($0, out: url(out)) }; o.config = config.map(url)
        o.model = model.patch
        o.training = schedule.patch
        o.autoAnchors = model.anchors == .auto
        o.threads = runtime.threads
        o.maxSteps = maxSteps
        o.syntheticTrain = syntheticTrain
        o.syncBatchNorm = syncBn
        o.collectiveTimeout = mpiTimeout
        return o
    }

    func run() throws {
        try reportingErrors { _ = try Trainer(options: options()).run() }
    }
}
