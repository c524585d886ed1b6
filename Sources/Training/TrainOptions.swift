import Datasets
import DetectorModel
import Foundation
import NeuralNet

/// What a training run is asked to do: data, folders, the machine, and the settings set explicitly. Settings of the
/// network (`DetectorConfig`) and of the run (`TrainSettings`) are not copied here: `model` and `training` hold only
/// the values given explicitly (the command line's flags), applied over the defaults and the `config` file
/// (`RunConfiguration.resolve`).
public struct TrainOptions: Sendable {
    /// Training annotations: a COCO `.json`, a YOLO folder or an `.idl` file; nil = the embedded synthetic default.
    public var data: URL?
    /// Image folder for `data`, when the images are not beside the annotations.
    public var images: URL?
    /// Validation annotations (same formats); nil = the synthetic default's `val.json`, or none for user data.
    public var val: URL?
    /// Image folder for `val`.
    public var valImages: URL?
    /// Run folder (log, plots, checkpoints). Default `runs/train`.
    public var out = URL(fileURLWithPath: "runs/train")
    /// Checkpoint to continue from.
    public var resume: URL?
    /// Checkpoint whose weights start a new run (`Checkpoint.transfer`: every tensor of matching name and shape, the
    /// rest initialised as usual); the run's settings, schedule and optimizer are its own. Not with `resume`.
    public var weights: URL?

    /// The checkpoint a `--weights` value names: a run folder is its `best.safetensors` (the network its validation
    /// chose, as `evaluate` and `detect` are pointed at); anything else is the checkpoint file itself.
    public static func checkpointForWeights(_ value: String) -> URL {
        checkpoint(value, orInFolder: "best.safetensors")
    }

    /// `value` as a path: a folder's `name`, or the file itself.
    private static func checkpoint(_ value: String, orInFolder name: String) -> URL {
        let url = URL(fileURLWithPath: value)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
            return url.appendingPathComponent(name)
        }
        return url
    }

    /// What a bare `--resume` stands for: the run folder's `last.safetensors`.
    public static let resumeLast = "<out>/last.safetensors"

    /// The checkpoint a `--resume` value names: `resumeLast` (the bare flag) is `out/last.safetensors`, as
    /// ultralytics' `resume=True` and Lightning's `ckpt_path="last"`; a folder is its `last.safetensors`; anything
    /// else is the checkpoint file itself.
    public static func checkpointToResume(_ value: String, out: URL) -> URL {
        if value == resumeLast { return out.appendingPathComponent("last.safetensors") }
        return checkpoint(value, orInFolder: "last.safetensors")
    }

    /// The preset the settings start from (`--config NAME`); nil = `synthetic` on the synthetic default, `default`
    /// on data of one's own.
    public var preset: Preset?
    /// JSON file of settings: keys of `DetectorConfig` and of `TrainSettings`.
    public var config: URL?
    /// Network and loss settings given explicitly (they override `config`).
    public var model = SettingPatch<DetectorConfig>()
    /// Run settings given explicitly (they override `config`).
    public var training = SettingPatch<TrainSettings>()
    /// Fit the anchor sides to the training boxes (`AnchorFitting`, as many as the configuration has).
    public var autoAnchors = false
    /// Threads for OpenBLAS and the kernels' parallel loops; nil = all cores. 1 gives bit-exact resumes.
    public var threads: Int?
    /// In-process data parallel (`ReplicaStep`): replicas that each train a contiguous shard of every batch on a
    /// thread of their own. Default `auto` (one per thread when the batch divides evenly; 1 under `mpirun`); 1 is
    /// one network threaded inside each operation. Not stored in checkpoints.
    public var replicas = ReplicaCount.auto
    /// Arithmetic of the convolutions and matrix products for the run (`NeuralNet.Precision`; set process-wide when
    /// the run starts). Default fp32, exact; bf16 needs `Precision.bf16Available`. Not stored in checkpoints.
    public var precision = Precision.fp32
    /// Skip unreadable images (counted and reported) instead of stopping.
    public var skipBadImages = false
    /// Which generated dataset a run without `data` trains on. Default `.scenes` (the synthetic default).
    public var synthetic = SyntheticDataset.scenes
    /// Folder of the generated dataset (created when missing); nil = `synthetic.defaultFolder`.
    public var syntheticFolder: URL?
    /// Synthetic default: training and validation images.
    public var syntheticTrain = 2000, syntheticVal = 200
    /// Consecutive non-finite steps that stop training.
    public var maxNonFiniteSteps = 10
    /// Stop after this many steps without changing the schedule (tests, benchmarks, a run to resume later).
    public var maxSteps: Int?
    /// Print progress to standard error.
    public var verbose = true
    /// Under `mpirun`: BatchNorm statistics over the global batch (PyTorch's `SyncBatchNorm`) instead of per process.
    public var syncBatchNorm = false
    /// Under `mpirun`: seconds a collective may wait for the other processes before the job is ended (a peer that
    /// hangs). Default 60.
    public var collectiveTimeout = 60.0
    /// Under `mpirun`: start each gradient bucket's allreduce during backward as soon as its gradients are final
    /// (PyTorch DDP's overlap) instead of summing the buckets after backward. Default true.
    public var overlapAllreduce = true
    /// Under `mpirun`: gradient bucket size in MiB (the first bucket is at most 1 MiB, as PyTorch DDP's). Default 25.
    public var bucketMegabytes = 25.0
    /// Validation overlay pictures per validation (`overlays/epoch_NNN/` in the run folder). Default 4; 0 for none.
    public var validationOverlays = 4

    /// Defaults: the synthetic default, its run folder, every setting at its default.
    public init() {}

    /// Whether the run trains on the embedded synthetic default.
    public var isSyntheticDefault: Bool { data == nil }

    /// Checks the options that are not settings.
    public func validate() throws {
        if let t = threads, t <= 0 {
            throw TrainingError.invalidSetting(key: "threads", reason: "must be positive, got \(t)")
        }
        if case let .fixed(n) = replicas, n <= 0 {
            throw TrainingError.invalidSetting(key: "replicas", reason: "must be positive, got \(n)")
        }
        if precision == .bf16 && !Precision.bf16Available {
            throw TrainingError.invalidSetting(key: "precision", reason: "bf16 needs a CPU with AVX512_BF16")
        }
        guard collectiveTimeout > 0 else {
            throw TrainingError.invalidSetting(key: "collectiveTimeout",
                                               reason: "must be positive, got \(collectiveTimeout)")
        }
        guard bucketMegabytes * 1_048_576 >= 4 else {
            throw TrainingError.invalidSetting(key: "bucketMegabytes",
                                               reason: "must hold a float, got \(bucketMegabytes) MiB")
        }
        if let m = maxSteps, m <= 0 {
            throw TrainingError.invalidSetting(key: "maxSteps", reason: "must be positive, got \(m)")
        }
        guard syntheticTrain > 0, syntheticVal >= 0 else {
            throw TrainingError.invalidSetting(key: "syntheticTrain", reason: "must be positive, got \(syntheticTrain)")
        }
        if let p = preset, resume != nil {
            throw TrainingError.invalidSetting(key: "config", reason: "preset \(p.rawValue) with a resumed run: the "
                + "checkpoint's settings are the base")
        }
        if val != nil && data == nil {
            throw TrainingError.invalidSetting(key: "val",
                                               reason: "a validation split needs training data of its own (--data)")
        }
        if let w = weights {
            guard resume == nil else {
                throw TrainingError.invalidSetting(key: "weights", reason: "starts a new run from a checkpoint's "
                    + "weights; --resume continues a run: give one of them")
            }
            guard FileManager.default.fileExists(atPath: w.path) else {
                throw TrainingError.invalidSetting(key: "weights", reason: "no checkpoint at \(w.path)")
            }
        }
        if let r = resume, !FileManager.default.fileExists(atPath: r.path) {
            throw TrainingError.invalidSetting(key: "resume", reason: "no checkpoint at \(r.path) (a bare --resume "
                + "continues --out's last.safetensors; train into that folder first or give the checkpoint's path)")
        }
    }
}
