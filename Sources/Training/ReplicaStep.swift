import DetectorModel
import Foundation
import NeuralNet

/// Data-parallel training inside one process ("replicas"): each batch is cut into `count` contiguous shards, and
/// each shard's forward and backward pass runs on a thread of its own with a `Detector` replica holding the same
/// weights, OpenBLAS single-threaded and the kernels' loops serial inside the replica (`Parallel.withWorkers(1)`,
/// the dense criterion's per-image work too).
/// The gradients are combined as the processes of `mpirun` combine them (`MPIStepCoordinator`): every loss term is
/// normalised by the global counts (dense positives, set-head boxes, summed over the replicas before backward),
/// the gradients and loss terms are summed (replica 0's + replica 1's + …, in replica order, so that runs are
/// bit-identical; with two replicas the same single addition per element as a 2-rank allreduce), then replica 0
/// alone (the run's own `TrainStep`) clips and takes the optimizer step and its new weights are copied into the
/// others.
///
/// BatchNorm: each replica normalises with its own shard's statistics (PyTorch DDP's default, and the `mpirun`
/// path's without `--sync-bn`); the running statistics that checkpoints and validation use are replica 0's, updated
/// from shard 0 only, as rank 0's under `mpirun`; the other replicas' are never read.
///
/// Why: on two cores, two `mpirun` processes with one thread each trained 1.34× faster than one process with two
/// threads (`tools/bench-data-parallel 3 10 4`, idle): the element-wise loops, BatchNorm, the criteria and the
/// optimizer barely scale with threads, and small per-image products split badly. Replicas do the processes' work
/// in one process.
public final class ReplicaStep {
    /// Replica 0: the run's own step, network and optimizer (checkpoints, validation and the weight average use it).
    public let main: TrainStep
    /// Every replica's step, `main` first.
    public let replicas: [TrainStep]
    private let threads: ReplicaThreads
    private let exchange: ReplicaExchange

    /// Replicas of `main` (which must have no coordinator), `count` ≥ 2 in all: networks of the same configuration
    /// with `main`'s weights and BatchNorm buffers, the same criteria (class weights) and clip norm.
    public init(_ main: TrainStep, count: Int) throws {
        precondition(count >= 2, "ReplicaStep: at least 2 replicas, got \(count)")
        precondition(main.coordinator == nil, "ReplicaStep: the step already has a coordinator")
        var steps = [main]
        for _ in 1..<count {
            let step = TrainStep(detector: try Detector(config: main.detector.config, seed: 0), optimizer: main.optimizer,
                                 classWeights: main.classWeights)
            step.clipNorm = main.clipNorm
            steps.append(step)
        }
        replicas = steps
        self.main = main
        threads = ReplicaThreads(count: count)
        exchange = ReplicaExchange(parameters: steps.map(\.detector.parameters))
        for (r, step) in steps.enumerated() {
            step.coordinator = ReplicaCoordinator(exchange: exchange, replica: r)
            step.denseCriterion.configuration.parallel = false
        }
        copyWeights(buffers: true)
    }

    deinit {
        threads.stop()
        main.coordinator = nil
        main.denseCriterion.configuration.parallel = true
    }

    /// Replicas, replica 0 included.
    public var count: Int { replicas.count }

    /// Runs one step on `batch` (at least `count` images) at `learningRate`: the shards' gradients on the replicas'
    /// threads, their sum on replica 0, its clipped optimizer step, then its weights copied into the other replicas.
    /// The report is the whole batch's (summed loss terms, global counts); a step one replica skips, all skip.
    public func run(_ batch: TrainingBatch, learningRate: Float) throws -> StepReport {
        let shards = Self.shards(of: batch, count: count)
        let results = UnsafeMutablePointer<Result<StepReport, Error>?>.allocate(capacity: count)
        results.initialize(repeating: nil, count: count)
        defer { results.deinitialize(count: count); results.deallocate() }
        let steps = replicas
        BLASRuntime.withSingleThread {
            threads.run { r in
                let result = Result { try Parallel.withWorkers(1) { try steps[r].gradients(shards[r]) } }
                results[r] = result
            }
        }
        let reports = try (0..<count).map { try results[$0]!.get() }
        var report = reports[0]
        if report.skipped != nil {
            // Every replica skipped; report the reason of one that skipped of its own accord.
            report.skipped = reports.compactMap(\.skipped).first { $0 != TrainStep.agreedSkip } ?? report.skipped
            return report
        }
        report = main.update(report, learningRate: learningRate)
        if report.skipped == nil { copyWeights(buffers: false) }
        return report
    }

    /// Copies replica 0's parameter values (and with `buffers` its BatchNorm running statistics) into the others,
    /// into their existing storage.
    func copyWeights(buffers: Bool) {
        let source = main.detector
        for step in replicas.dropFirst() {
            for (from, to) in zip(source.parameters, step.detector.parameters) { Self.copy(from.value, into: &to.value) }
            guard buffers else { continue }
            for (from, to) in zip(source.batchNorms, step.detector.batchNorms) {
                Self.copy(from.runningMean, into: &to.runningMean)
                Self.copy(from.runningVar, into: &to.runningVar)
            }
        }
    }

    private static func copy(_ from: Tensor, into to: inout Tensor) {
        precondition(from.shape == to.shape, "ReplicaStep: replica shapes differ (\(from.shape) vs \(to.shape))")
        from.data.withUnsafeBufferPointer { src in
            to.data.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                d.update(from: s, count: src.count)
            }
        }
    }

    /// `batch` cut into `count` contiguous shards of `⌊r·N/count⌋ ..< ⌊(r+1)·N/count⌋` images, in order.
    public static func shards(of batch: TrainingBatch, count: Int) -> [TrainingBatch] {
        let n = batch.images.shape[0]
        precondition(n >= count, "ReplicaStep: a batch of \(n) images for \(count) replicas")
        let per = batch.images.count / max(n, 1), rest = Array(batch.images.shape.dropFirst())
        return (0..<count).map { r in
            let lo = n * r / count, hi = n * (r + 1) / count
            let images = Tensor(shape: [hi - lo] + rest, data: Array(batch.images.data[(lo * per)..<(hi * per)]))
            return TrainingBatch(images: images, targets: Array(batch.targets[lo..<hi]))
        }
    }
}
