import Boxes
import Criterion
import Datasets
import DetectorModel
import Foundation
import NeuralNet
import Training

/// Times full training steps of a configuration, split into the phases of `TrainStep` (forward, dense criterion,
/// set criterion, backward, optimizer), the `TimeAccounting` categories inside them (conv, GEMM, matching) and
/// the wait for data, and reports each as a share of the step (`TrainBenchmark.Shares`).
///
/// Data: by default a real pipeline, as `detector train` feeds it: a small synthetic dataset
/// (`SyntheticScenes.generate`, into a temporary folder removed afterwards) served by a prefetching
/// `BatchLoader` with training augmentation and the decoded-image cache, so the wait for each batch is measured;
/// or one fixed batch of random images and random boxes, reused every step (no data cost at all).
public enum TrainBenchmark {
    /// Where the batches come from.
    public enum DataSource: Sendable, Equatable {
        /// One batch of normal random images with `boxesPerImage` random boxes (8–63 px), reused every step.
        case random(boxesPerImage: Int)
        /// `images` synthetic scenes at the input size, through a `BatchLoader`; the detector takes the
        /// dataset's class names.
        case synthetic(images: Int)
    }

    /// Seconds of the timed steps by phase, category and data.
    public struct Result {
        /// Images per batch.
        public var batchSize: Int
        /// Replicas that trained each batch (`ReplicaStep`; 1: one network).
        public var replicas: Int
        /// Timed steps.
        public var steps: Int
        /// Seconds of each phase (over all timed steps), in `TrainStep` order.
        public var phases: [(phase: TrainPhase, seconds: Double)]
        /// `TimeAccounting` entries of the timed steps by path (`conv`, `conv/gemm`, `gemm`, `matching`); with
        /// several replicas their thread-seconds divided by the replica count (one replica's share of the wall time,
        /// the replicas running side by side).
        public var accounting: [String: TimeAccounting.Entry]
        /// Seconds waiting in `BatchLoader.next()` (0 with random data).
        public var dataWait: Double
        /// Seconds turning loader batches into network tensors (0 with random data).
        public var batchAssembly: Double
        /// Wall seconds of the timed steps, data included.
        public var total: Double
        /// Images trained on in the timed steps.
        public var images: Int
        /// Steps the training step skipped (non-finite values); their time still counts.
        public var skippedSteps: Int
        /// One line describing the data source.
        public var dataDescription: String
        /// Page faults and CPU time of the whole process over the timed steps (`getrusage`).
        public var usage: ResourceUsage

        /// Images per second over the timed steps.
        public var imagesPerSecond: Double { Double(images) / total }
        /// Minor page faults per timed step (≈ 0 once `MemoryArena.configure()` is in effect).
        public var minorFaultsPerStep: Double { Double(usage.minorFaults) / Double(steps) }
        /// CPU seconds (user + system, all threads) per wall second: 2 means two cores busy all step.
        public var cpuPerWall: Double { total > 0 ? usage.cpuSeconds / total : 0 }
        /// The step's time broken into shares.
        public var shares: Shares { Shares(self) }
    }

    /// Runs `warmup` untimed and `steps` timed steps of `config` at `batchSize` on `data`, with time accounting
    /// enabled during the timed steps when `accounting` (and disabled again afterwards). Without accounting the
    /// categories stay empty (shares then count conv, GEMM and matching as other forward/backward and losses),
    /// which measures what the accounting itself costs. With `replicas` > 1 each batch is trained by that many
    /// replicas (`ReplicaStep`); the phases are replica 0's, which runs on the calling thread.
    public static func run(config: DetectorConfig, batchSize: Int, steps: Int, warmup: Int = 1,
                           data: DataSource = .synthetic(images: 64), accounting: Bool = true,
                           seed: UInt64 = 0, replicas: Int = 1) throws -> Result {
        precondition(batchSize > 0 && steps > 0 && warmup >= 0, "TrainBenchmark: batchSize and steps must be positive")
        try ReplicaCount.check(replicas, batchSize: batchSize, underMPI: false)
        var config = config
        var feed: Feed
        var folder: URL? = nil
        defer { if let folder { try? FileManager.default.removeItem(at: folder) } }
        switch data {
        case let .random(boxesPerImage):
            feed = .fixed(randomBatch(config: config, batchSize: batchSize, boxesPerImage: boxesPerImage, seed: seed))
        case let .synthetic(count):
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("detector-bench-\(UUID().uuidString)")
            folder = dir
            _ = try SyntheticScenes.generate(to: dir, trainCount: count, valCount: 0, seed: seed &+ 2026,
                                             size: config.inputSize)
            let dataset = try DetectionDataset.load(dir.appendingPathComponent("train.json"))
            config.classNames = dataset.categories.map(\.name)
            var options = BatchLoaderOptions()
            options.batchSize = batchSize
            options.inputSize = config.inputSize
            options.rectangular = config.rectangular
            options.seed = seed
            options.cacheImages = true
            let loader = BatchLoader(dataset: dataset, options: options)
            guard loader.batchesPerEpoch > 0 else {
                throw TrainingError.invalidSetting(key: "batchSize", reason: "\(batchSize) exceeds the \(count) synthetic images")
            }
            feed = .loader(loader)
        }
        let detector = try Detector(config: config, seed: seed)
        let step = TrainStep(detector: detector, optimizer: AdamW(weightDecay: 1e-4))
        let replicaStep = replicas > 1 ? try ReplicaStep(step, count: replicas) : nil
        if case let .loader(l) = feed { l.start() }
        defer { if case let .loader(l) = feed { l.stop() } }

        var assembly = 0.0, images = 0, skipped = 0
        func runStep() throws {
            let batch: TrainingBatch
            switch feed {
            case let .fixed(b): batch = b
            case let .loader(l):
                let b = try l.next()
                let t0 = Date()
                batch = TrainingBatch(b)
                assembly += Date().timeIntervalSince(t0)
            }
            images += batch.images.shape[0]
            let report = try replicaStep?.run(batch, learningRate: 1e-4) ?? step.run(batch, learningRate: 1e-4)
            if report.skipped != nil { skipped += 1 }
        }
        for _ in 0..<warmup { try runStep() }
        (assembly, images, skipped) = (0, 0, 0)
        var waitBefore = 0.0
        if case let .loader(l) = feed { waitBefore = l.statistics.waitSeconds }
        var phases: [TrainPhase: Double] = [:]
        step.phaseTimer = { phase, seconds in phases[phase, default: 0] += seconds }
        TimeAccounting.reset()
        if accounting {
            SetCriterion.matchingTimer = { TimeAccounting.add(TimeAccounting.matching, seconds: $0) }
            TimeAccounting.start()
        }
        defer {
            TimeAccounting.stop()
            SetCriterion.matchingTimer = nil
        }
        let usageBefore = ResourceUsage.now()
        let start = Date()
        for _ in 0..<steps { try runStep() }
        let total = Date().timeIntervalSince(start)
        let usage = ResourceUsage.now().since(usageBefore)
        TimeAccounting.stop()
        step.phaseTimer = nil
        var wait = 0.0, description = "one fixed random batch"
        if case let .loader(l) = feed {
            wait = l.statistics.waitSeconds - waitBefore
            description = "BatchLoader over \(l.dataset.images.count) synthetic images (\(l.options.workers) workers, "
                + "prefetch \(l.options.prefetch), augmentation, decoded-image cache)"
        }
        let perReplica = TimeAccounting.entries.mapValues { entry -> TimeAccounting.Entry in
            var e = entry
            e.seconds /= Double(replicas)
            return e
        }
        return Result(batchSize: batchSize, replicas: replicas, steps: steps,
                      phases: TrainPhase.allCases.map { ($0, phases[$0] ?? 0) }, accounting: perReplica, dataWait: wait, batchAssembly: assembly, total: total,
                      images: images, skippedSteps: skipped, dataDescription: description, usage: usage)
    }

    private enum Feed {
        case fixed(TrainingBatch)
        case loader(BatchLoader)
    }

    /// Normal random images `[B, 3, S, S]` with `boxesPerImage` random boxes of 8–63 px per image.
    static func randomBatch(config: DetectorConfig, batchSize: Int, boxesPerImage: Int, seed: UInt64) -> TrainingBatch {
        var g = SeededGenerator(seed: seed &+ 1)
        let s = config.inputSize, room = UInt64(max(1, s - 64))
        let images = Tensor(shape: [batchSize, 3, s, s], initializer: .normal(std: 1), generator: &g)
        var targets: [ImageTargets] = []
        for _ in 0..<batchSize {
            var boxes: [Box] = []
            for _ in 0..<boxesPerImage {
                let w = 8 + Double(g.next() % 56), h = 8 + Double(g.next() % 56)
                let x = Double(g.next() % room), y = Double(g.next() % room)
                boxes.append(Box(x1: x, y1: y, x2: min(Double(s), x + w), y2: min(Double(s), y + h)))
            }
            targets.append(ImageTargets(boxes: boxes, classes: boxes.indices.map { $0 % config.numClasses }))
        }
        return TrainingBatch(images: images, targets: targets)
    }
}
