import Boxes
import Criterion
import DetectorModel
import Foundation
import NeuralNet
import TestSupport
import Reporting
import Training

/// Networks, batches and checkpoints shared by the model, training, inference, benchmark and command-line tests.
public enum DetectorFixtures {
    /// The committed synthetic sample (`datasets/sample`: 16 training and 8 validation images, 3 classes).
    public static let sample = Fixtures.packageRoot.appendingPathComponent("datasets/sample")
    /// The sample's class names, in category order.
    public static let sampleClassNames = ["ellipse", "rectangle", "triangle"]

    /// A tiny configuration with every part of the reference one: input 64 (8×8 stride-8 cells), 2 anchors per
    /// location, 2 classes — for gradient checks and query selection.
    public static func tinyConfig(setHead: DetectorConfig.SetHeadKind = .query) -> DetectorConfig {
        var c = DetectorConfig.reference(classes: ["a", "b"])
        c.inputSize = 64
        c.widths = [4, 8, 8, 16]
        c.headWidth = 8
        c.hypotheses = 12
        c.setWidth = 16
        c.attentionHeads = 2
        c.feedForward = 32
        c.anchorSizes = [8, 16]
        c.setHead = setHead
        return c
    }

    /// A small network with every part of the reference one (64-pixel input) for runs that take seconds.
    public static func smallConfig(classes: [String] = sampleClassNames, setHead: DetectorConfig.SetHeadKind = .query) -> DetectorConfig {
        var c = DetectorConfig()
        c.inputSize = 64
        c.widths = [8, 8, 16, 16]
        c.headWidth = 16
        c.hypotheses = 12
        c.setWidth = 32
        c.attentionHeads = 2
        c.feedForward = 64
        c.anchorSizes = [8, 16]
        c.classNames = classes
        c.setHead = setHead
        return c
    }

    /// The small network, untrained (seed 3), saved as `tiny.safetensors` in `folder`.
    public static func tinyCheckpoint(in folder: URL, setHead: DetectorConfig.SetHeadKind = .query,
                                      classes: [String] = sampleClassNames) throws -> URL {
        let c = smallConfig(classes: classes, setHead: setHead)
        let url = folder.appendingPathComponent("tiny.safetensors")
        try Checkpoint.save(try Detector(config: c, seed: 3), optimizer: nil, state: TrainingState(seed: 3), to: url)
        return url
    }

    /// The small configuration as a `--config` file `small.json` in `folder`.
    public static func smallConfigFile(in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent("small.json")
        try smallConfig().jsonString().write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// `n` normal random images for `config` with 3, 4, … random boxes of 6–19 px (classes alternating 0, 1), of
    /// `height × width` (default: the square `inputSize`; a rectangular configuration takes other shapes).
    public static func randomBatch(config c: DetectorConfig, n: Int, seed: UInt64, height: Int? = nil, width: Int? = nil) -> TrainingBatch {
        var g = SeededGenerator(seed: seed)
        let (h, w) = (height ?? c.inputSize, width ?? c.inputSize)
        let images = Tensor(shape: [n, 3, h, w], initializer: .normal(std: 1), generator: &g)
        var targets: [ImageTargets] = []
        for i in 0..<n {
            var boxes: [Box] = [], classes: [Int] = []
            for j in 0..<(3 + i) {
                let x = Double(g.next() % UInt64(w - 20)), y = Double(g.next() % UInt64(h - 20))
                let w = 6 + Double(g.next() % 14), h = 6 + Double(g.next() % 14)
                boxes.append(Box(x1: x, y1: y, x2: x + w, y2: y + h))
                classes.append(j % 2)
            }
            targets.append(ImageTargets(boxes: boxes, classes: classes))
        }
        return TrainingBatch(images: images, targets: targets)
    }

    /// Training options over the sample with a `--config` file, for runs of seconds: batch 4, one thread, no
    /// validation during training, quiet, 2 warmup steps.
    public static func sampleTrainOptions(out: URL, config: URL) -> TrainOptions {
        var o = TrainOptions()
        o.data = sample.appendingPathComponent("train.json")
        o.val = sample.appendingPathComponent("val.json")
        o.config = config
        o.out = out
        o.threads = 1
        o.verbose = false
        o.training.set(.batchSize, \.batchSize, 4)
        o.training.set(.evalEvery, \.evalEvery, 0)
        o.training.set(.warmupSteps, \.warmupSteps, 2)
        return o
    }

    /// Names of the tensors (parameters and BatchNorm buffers) whose values differ between two checkpoints.
    public static func differingWeights(_ a: URL, _ b: URL) throws -> [String] {
        let (x, y) = (try Checkpoint.load(a).detector, try Checkpoint.load(b).detector)
        var out = zip(x.parameters, y.parameters).filter { $0.0.value != $0.1.value }.map(\.0.name)
        for (p, q) in zip(x.batchNorms, y.batchNorms) {
            out += zip(p.buffers, q.buffers).filter { $0.0.1 != $0.1.1 }.map(\.0.0)
        }
        return out
    }

    /// The training step a checkpoint was saved at.
    public static func checkpointStep(_ url: URL) throws -> Int { try Checkpoint.load(url).state.step }

    /// The records of a run's `log.jsonl` (a torn last line left out, as every reader does).
    public static func logRecords(_ log: URL) throws -> [LogRecord] { try JSONLinesLog<LogRecord>.read(log) }

    /// Losses by step from a run's `log.jsonl`.
    public static func losses(_ log: URL) throws -> [Int: Double] {
        var out: [Int: Double] = [:]
        for case let .step(s) in try JSONLinesLog<LogRecord>.read(log) { out[s.step] = s.loss }
        return out
    }
}
