import Datasets
import DetectorModel
import Distributed
import Foundation
import NeuralNet

/// This process's place in an `mpirun -np N detector train …` job: data-parallel training (Horovod, PyTorch DDP).
///
/// Every rank holds the whole model (rank 0's weights are broadcast at the start), trains on its `DataShard` of each
/// global batch (`--batch-size` per rank, `N×` globally), and `TrainStep` sums the gradients through
/// `MPIStepCoordinator` (each bucket's allreduce started during backward), so every rank takes the same optimizer
/// step. BatchNorm statistics are local unless `syncBatchNorm`. Every rank predicts its share of each validation
/// (`ValidationSplit`) and rank 0 evaluates the gathered union; rank 0 alone writes the log, the plots and the
/// checkpoints (the others wait at the epoch's end); it also decides when to stop (signal, `maxSteps`, `--minutes`)
/// and the time budget's schedule, and broadcasts both. At every checkpoint a hash allreduce checks that the weights
/// are bit-identical on all ranks.
final class DataParallelJob {
    let communicator: Communicator
    let parallel: DataParallel
    let coordinator: MPIStepCoordinator
    /// Options of this rank: the user's, with the host's cores shared among its ranks unless `threads` is given;
    /// ranks other than 0 write into a scratch folder and print nothing.
    let options: TrainOptions
    /// Seconds a rank waits for rank 0's evaluation, data generation or checkpoint writing.
    let waitTimeout: Double
    private let scratch: URL?

    var rank: Int { communicator.rank }
    var ranks: Int { communicator.size }
    var shard: DataShard { DataShard(rank: rank, ranks: ranks) }

    /// Joins the job (`MPI_Init`) with the user's options.
    init(options user: TrainOptions) throws {
        communicator = try Communicator(timeout: user.collectiveTimeout)
        parallel = DataParallel(communicator: communicator, bucketBytes: Int(user.bucketMegabytes * 1_048_576))
        coordinator = MPIStepCoordinator(parallel)
        waitTimeout = max(user.collectiveTimeout, 1800)
        var o = user
        // Without --threads, the cores are shared among the ranks on this host.
        if o.threads == nil, let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap({ Int($0) }) {
            o.threads = max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, local))
        }
        if communicator.rank > 0 {
            let folder = FileManager.default.temporaryDirectory
                .appendingPathComponent("detector-rank\(communicator.rank)-\(ProcessInfo.processInfo.processIdentifier)")
            o.out = folder
            o.verbose = false
            scratch = folder
        } else {
            scratch = nil
        }
        options = o
    }

    /// Prepares a prepared run for the job: the step's coordinator, synchronised BatchNorm, rank 0's weights.
    func join(_ run: TrainingRun) throws {
        run.ranks = ranks
        run.step.coordinator = coordinator
        if options.overlapAllreduce { coordinator.attach(to: run.detector) }
        run.validationSplit = ValidationSplit(communicator: communicator, timeout: waitTimeout)
        if options.syncBatchNorm { for bn in run.detector.batchNorms { bn.synchronizer = communicator } }
        try parallel.broadcast(run.detector.parameters, batchNorms: run.detector.batchNorms)
        try parallel.checkIdenticalWeights(run.detector.parameters, at: "the start")
        if options.verbose || rank > 0 {
            FileHandle.standardError.write(Data("rank \(rank) of \(ranks) on host \(communicator.host), pid \(getpid())\n".utf8))
        }
        run.say("data parallel: \(ranks) processes (this is rank 0 on \(communicator.host)), batch \(run.configuration.training.batchSize) "
            + "per process = \(ranks * run.configuration.training.batchSize) per step, \(run.batchesPerEpoch) steps per epoch, "
            + "BatchNorm \(options.syncBatchNorm ? "synchronised" : "local"), collective timeout \(communicator.timeout) s, "
            + "gradient buckets \(bucketCount(run.detector.parameters)) "
            + (options.overlapAllreduce ? "(allreduce overlapped with backward)" : "(allreduce after backward)")
            + (run.validation.map { ", validation of \($0.images.count) images split in \(ranks) shares" } ?? ""))
    }

    /// Gradient buckets of `parameters` (`DataParallel.buckets`).
    private func bucketCount(_ parameters: [Parameter]) -> Int {
        DataParallel.buckets(parameters, bucketBytes: parallel.bucketBytes, firstBucketBytes: parallel.firstBucketBytes).count
    }

    /// The hooks of this rank: rank 0 logs, saves, evaluates and plots; the others predict their shares of each
    /// validation for it (`ValidationShareHook`); every rank checks the weights before a checkpoint and waits for
    /// rank 0 at the end of each epoch and of the run.
    func hooks() -> [TrainerHook] {
        let check = WeightCheckHook(parallel), wait = RankZeroWaitHook(self)
        return rank == 0 ? [check] + Trainer.writerHooks() + [wait] : [check, ValidationShareHook(), wait]
    }

    /// Rank 0's decision whether to stop before the next step, and the schedule's span, on every rank.
    func agreeToStop(_ run: TrainingRun) throws -> Bool {
        var v = [0.0, 0.0, 0.0]
        if rank == 0 {
            v = [run.shouldStop() ? 1 : 0, run.stoppedBy == nil ? 0 : 1, Double(run.scheduledSteps)]
        }
        try communicator.broadcast(&v)
        if v[1] == 1 && run.stoppedBy == nil { run.stoppedBy = "signal" }
        run.agreedScheduledSteps = Int(v[2])
        return v[0] == 1
    }

    /// The closing report: global images per second and, per step, the gradient communication backward did not hide
    /// (from the end of backward until the summed gradients are in place) and the time inside backward spent packing,
    /// starting and testing buckets (on rank 0).
    func report(_ run: TrainingRun) throws -> String {
        var images = [Double(run.imagesThisRun)]
        try communicator.sum(&images)
        let steps = Double(max(1, coordinator.gradientCalls))
        let exposed = coordinator.exposedSeconds, inside = coordinator.insideBackwardSeconds
        let how = coordinator.exchange.map {
            "overlapped, \($0.bucketCount) buckets, \($0.startedDuringBackward) started during backward and "
                + "\($0.startedAfterBackward) after"
        } ?? "after backward"
        return String(format: "data parallel: %d processes, %.1f images/s in all; gradient allreduce %.2f ms per step "
            + "waited after backward (%.1f %% of the step time), %.2f ms per step inside backward (",
            ranks, images[0] / max(run.trainSeconds, 1e-9), 1000 * exposed / steps,
            100 * exposed / max(run.trainSeconds, 1e-9), 1000 * inside / steps)
            + how + "), \(run.detector.parameters.reduce(0) { $0 + $1.value.count }) parameters"
    }

    /// Waits for every rank, finalises MPI and removes the scratch folder; call once after the run.
    func finish() throws {
        try communicator.barrier("the end", timeout: waitTimeout)
        communicator.finalize()
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    /// The state to continue from when the checkpoint was trained with `storedRanks × storedBatch` images per step
    /// and this run takes `ranks × batch`: the position in the epoch and the schedule keep their share of images
    /// (rounded down, so at most one global batch is seen again, none is missed) and the schedule's span is recomputed.
    static func adapt(_ state: TrainingState, storedRanks: Int, storedBatch: Int, ranks: Int, batch: Int) -> TrainingState {
        let before = storedRanks * storedBatch, now = ranks * batch
        guard before != now else { return state }
        var s = state
        s.stepInEpoch = state.stepInEpoch * before / now
        s.step = state.step * before / now
        s.totalSteps = 0
        return s
    }
}

/// Checks before every checkpoint that all ranks hold bit-identical weights (a hash allreduce).
final class WeightCheckHook: TrainerHook {
    let parallel: DataParallel
    init(_ parallel: DataParallel) { self.parallel = parallel }
    func afterEpoch(_ run: TrainingRun) throws {
        try parallel.checkIdenticalWeights(run.detector.parameters, at: "the end of epoch \(run.state.epoch)")
    }
    func afterTraining(_ run: TrainingRun) throws {
        try parallel.checkIdenticalWeights(run.detector.parameters, at: "the end of training (step \(run.state.step))")
    }
}

/// Every rank waits here for rank 0 to finish writing and validating (with the job's long `waitTimeout`).
final class RankZeroWaitHook: TrainerHook {
    unowned let job: DataParallelJob
    init(_ job: DataParallelJob) { self.job = job }
    func afterEpoch(_ run: TrainingRun) throws {
        try job.communicator.barrier("rank 0 checkpointing epoch \(run.state.epoch)", timeout: job.waitTimeout)
    }
    func afterTraining(_ run: TrainingRun) throws {
        try job.communicator.barrier("rank 0 validating and saving", timeout: job.waitTimeout)
    }
}
