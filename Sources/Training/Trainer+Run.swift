import Datasets
import DetectorModel
import Distributed
import Foundation
import NeuralNet

extension Trainer {
    /// Trains as the options say and returns the summary; checkpoints and logs are in the run folder. Started by
    /// `mpirun`, the process joins the data-parallel job (`DataParallelJob`; one job per process).
    public func run() throws -> TrainingSummary {
        guard Communicator.launchedByMPI else { return try train(job: nil) }
        let job = try DataParallelJob(options: options)
        let summary = try Trainer(options: job.options).train(job: job)
        try job.finish()
        return summary
    }

    /// The hooks of the process that writes the run folder: log, checkpoints, validation, charts, results table,
    /// validation overlays, the first batch's picture.
    static func writerHooks() -> [TrainerHook] {
        [LogHook(), CheckpointHook(), EvaluationHook(), PlotHook(), ResultsTableHook(), ValidationOverlayHook(),
         TrainingBatchPictureHook()]
    }

    /// The training loop, alone or as one rank of `job`.
    func train(job: DataParallelJob?) throws -> TrainingSummary {
        let lock = try RunLock(folder: options.out)
        defer { lock.release() }
        for name in lock.removeStaleTemporaries() { say("removed \(name), left in \(options.out.path) by a killed run") }
        let run = try prepare(job: job)
        try job?.join(run)
        let hooks: [TrainerHook] = job?.hooks() ?? Trainer.writerHooks()
        StopSignal.install()
        defer { StopSignal.uninstall() }
        run.followMosaicPhase()
        run.loader.start(epoch: run.state.epoch, step: run.state.stepInEpoch)
        defer { run.loader.stop() }
        for h in hooks { try h.beforeTraining(run) }
        training: while run.state.epoch < run.epochs {
            while run.state.stepInEpoch < run.batchesPerEpoch {
                if try job?.agreeToStop(run) ?? run.shouldStop() { break training }
                let record = try trainOneStep(run)
                for h in hooks { try h.afterStep(run, record) }
            }
            run.state.epoch += 1
            run.state.stepInEpoch = 0
            for h in hooks { try h.afterEpoch(run) }
        }
        for h in hooks { try h.afterTraining(run) }
        say(run.closingLine)
        if let job { say(try job.report(run)) }
        return run.summary
    }

    /// One optimizer step on the next batch; the state and counters advance.
    func trainOneStep(_ run: TrainingRun) throws -> LogRecord.StepRecord {
        let t0 = Date()
        let batch = try run.loader.next()
        let lr = run.schedule.learningRate(step: run.state.step, totalSteps: run.scheduledSteps)
        let report = try run.replicaStep?.run(TrainingBatch(batch), learningRate: lr)
            ?? run.step.run(TrainingBatch(batch), learningRate: lr)
        KillPoint.reached(.step)
        let seconds = Date().timeIntervalSince(t0)
        run.trainSeconds += seconds
        run.imagesThisRun += batch.count
        run.state.step += 1
        run.state.stepInEpoch += 1
        run.state.trainingSeconds = run.elapsed
        run.followMosaicPhase()
        if report.skipped != nil {
            run.nonFiniteInARow += 1
            run.state.skippedSteps += 1
        } else {
            run.nonFiniteInARow = 0
            run.average?.update(from: run.detector)
        }
        return LogRecord.StepRecord(step: run.state.step, epoch: run.state.epoch, learningRate: Double(lr), seconds: seconds,
                                    loss: report.total, terms: report.losses, gradientNorm: report.gradientNorm,
                                    positives: report.positives, unmatchedBoxes: report.unmatchedBoxes, skipped: report.skipped)
    }

    /// Data, settings, model, optimizer and state: fresh, or from the checkpoint of `--resume`.
    func prepare(job: DataParallelJob? = nil) throws -> TrainingRun {
        if let t = options.threads {
            BLASRuntime.threads = t
            Parallel.workers = t
        }
        Precision.current = options.precision
        do { try FileManager.default.createDirectory(at: options.out, withIntermediateDirectories: true) } catch {
            throw TrainingError.io(path: options.out.path, reason: "cannot create the run folder: \(error.localizedDescription)")
        }
        // Rank 0 loads (and generates the synthetic default) first; the others then read what it wrote.
        if let job, job.rank > 0 { try job.communicator.barrier("rank 0 loading the data", timeout: job.waitTimeout) }
        let (train, val) = try loadData()
        if let job, job.rank == 0 { try job.communicator.barrier("rank 0 loading the data", timeout: job.waitTimeout) }
        let classes = train.categories.map(\.name)
        var state = TrainingState()
        let detector: Detector
        let configuration: RunConfiguration
        var optimizerState: [String: Tensor] = [:]
        var restoredAverage: WeightAverage?
        if let resume = options.resume {
            let loaded = try Checkpoint.load(resume)
            guard loaded.detector.config.classNames == classes else {
                throw TrainingError.resumeConflict(key: "data", path: resume.path,
                                                   reason: "the data has classes \(classes), the checkpoint \(loaded.detector.config.classNames)")
            }
            let stored = try loaded.metadata["training"].map { text -> TrainSettings in
                do { return try JSONDecoder().decode(TrainSettings.self, from: Data(text.utf8)) } catch {
                    throw ModelError.checkpoint(path: resume.path, reason: "unreadable training settings: \(error)")
                }
            }
            configuration = try RunConfiguration.resume(options, checkpoint: resume, model: loaded.detector.config,
                                                        training: stored, seed: loaded.state.seed)
            detector = configuration.model == loaded.detector.config
                ? loaded.detector : try Checkpoint.load(resume, config: configuration.model).detector
            state = DataParallelJob.adapt(loaded.state, storedRanks: loaded.metadata["ranks"].flatMap { Int($0) } ?? 1,
                                          storedBatch: stored?.batchSize ?? configuration.training.batchSize,
                                          ranks: job?.ranks ?? 1, batch: configuration.training.batchSize)
            if state != loaded.state {
                say("  images per step changed: continuing at step \(state.step) (epoch \(state.epoch), batch \(state.stepInEpoch))")
            }
            optimizerState = loaded.optimizerState
            let t = configuration.training
            if t.emaDecay > 0 {
                restoredAverage = try WeightAverage.restored(for: detector, from: loaded, path: resume.path, decay: t.emaDecay, tau: t.emaTau)
            }
            say("resuming \(resume.path) at step \(state.step) (epoch \(state.epoch), batch \(state.stepInEpoch))")
            for change in configuration.changes { say("  changed on resume: \(change)") }
            if let t = options.threads { say("  threads: \(t)") }
        } else {
            configuration = try makeConfiguration(classes: classes, train: train)
            state = TrainingState(seed: configuration.training.seed)
            detector = try Detector(config: configuration.model, seed: state.seed)
            if let w = options.weights {
                let moved = try Checkpoint.transfer(from: w, into: detector)
                say(String(format: "weights from %@: %d of %d tensors (%.1f %% of the values)", w.path as NSString,
                           moved.copied.count, moved.copied.count + moved.kept.count,
                           100 * Double(moved.copiedValues) / Double(max(1, moved.totalValues)))
                    + (moved.kept.isEmpty ? "" : "; initialised afresh (another shape or absent): "
                        + moved.kept.prefix(6).joined(separator: ", ") + (moved.kept.count > 6 ? ", …" : "")))
            }
        }
        let t = configuration.training
        let optimizer = AdamW(weightDecay: Float(t.weightDecay))
        if options.resume != nil { try optimizer.loadState(optimizerState, parameters: detector.parameters) }
        let average = t.emaDecay > 0
            ? try restoredAverage ?? WeightAverage(of: detector, decay: t.emaDecay, tau: t.emaTau) : nil
        let config = detector.config
        let step = TrainStep(detector: detector, optimizer: optimizer, classWeights: try classWeights(train, beta: config.classBalanceBeta))
        step.clipNorm = Float(t.clipNorm)
        let replicas = options.replicas.resolved(threads: options.threads, batchSize: t.batchSize, underMPI: job != nil)
        try ReplicaCount.check(replicas, batchSize: t.batchSize, underMPI: job != nil)
        let replicaStep = replicas > 1 ? try ReplicaStep(step, count: replicas) : nil
        say("model \(config.name): \(detector.parameters.reduce(0) { $0 + $1.value.count }) parameters, input \(config.inputSize)"
            + (config.rectangular ? " (rectangular, longer side)" : "²") + ", "
            + "set head \(config.setHead.rawValue) (\(config.hypotheses) hypotheses), \(detector.anchors.count) dense anchors"
            + (config.rectangular ? " at \(config.inputSize)²" : "")
            + (config.isPyramid ? " on strides \(config.pyramidStrides.map(String.init).joined(separator: "/"))" : "") + "; "
            + "OpenBLAS \(BLASRuntime.coreName) × \(BLASRuntime.threads); precision \(Precision.current.rawValue); "
            + (replicas > 1 ? "\(replicas) replicas × 1 thread, batch \(t.batchSize) split into shards of \(t.batchSize / replicas)"
                + (t.batchSize % replicas == 0 ? "" : "–\((t.batchSize + replicas - 1) / replicas)") : "1 replica"))

        var loaderOptions = BatchLoaderOptions()
        loaderOptions.batchSize = t.batchSize
        loaderOptions.inputSize = config.inputSize
        loaderOptions.rectangular = config.rectangular
        loaderOptions.seed = state.seed
        loaderOptions.skipBadImages = options.skipBadImages
        loaderOptions.augment = t.augmentConfig
        loaderOptions.cacheImages = train.images.count <= 4000
        let verbose = options.verbose
        loaderOptions.onDecodeWarning = { line in
            if verbose { FileHandle.standardError.write(Data(("warning: " + line + "\n").utf8)) }
        }
        if let job {
            // Across processes every image is seen once an epoch (`DataShard`).
            loaderOptions.shard = job.shard
            loaderOptions.dropLast = false
        }
        let loader = BatchLoader(dataset: train, options: loaderOptions)
        guard loader.batchesPerEpoch > 0 else {
            throw TrainingError.invalidSetting(key: "batchSize", reason: "\(t.batchSize) exceeds the \(train.images.count) training images")
        }
        return try TrainingRun(options: options, configuration: configuration, detector: detector, optimizer: optimizer,
                               average: average, step: step, replicaStep: replicaStep, loader: loader, validation: val,
                               state: state, say: say)
    }
}
