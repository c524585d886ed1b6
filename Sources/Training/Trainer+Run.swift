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
        for name in lock.removeStaleTemporaries() {
            say("removed \(name), left in \(options.out.path) by a killed run")
        }
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
        return LogRecord.StepRecord(step: run.state.step, epoch: run.state.epoch, learningRate: Double(lr),
                                    seconds: seconds, loss: report.total, terms: report.losses,
                                    gradientNorm: report.gradientNorm, positives: report.positives,
                                    unmatchedBoxes: report.unmatchedBoxes, skipped: report.skipped)
    }

    /// Data, settings, model, optimizer and state: fresh, or from the checkpoint of `--resume`.
    func prepare(job: DataParallelJob? = nil) throws -> TrainingRun {
        if let t = options.threads {
            BLASRuntime.threads = t
            Parallel.workers = t
        }
        Precision.current = options.precision
        do { try FileManager.default.createDirectory(at: options.out, withIntermediateDirectories: true) } catch {
            throw TrainingError.io(path: options.out.path,
                                   reason: "cannot create the run folder: \(error.localizedDescription)")
        }
        // Rank 0 loads (and generates the synthetic default) first; the others then read what it wrote.
        if let job, job.rank > 0 { try job.communicator.barrier("rank 0 loading the data", timeout: job.waitTimeout) }
        var (train, val) = try loadData()
        if let job, job.rank == 0 { try job.communicator.barrier("rank 0 loading the data", timeout: job.waitTimeout) }
        let classes = train.categories.map(\.name)
        let start = try options.resume.map { try restore($0, classes: classes, job: job) }
            ?? startFresh(classes: classes, train: train)
        let (configuration, detector, state) = (start.configuration, start.detector, start.state)
        let t = configuration.training
        markPartialLabels(&train, settings: t)
        let optimizer = AdamW(weightDecay: Float(t.weightDecay))
        if let saved = start.optimizerState { try optimizer.loadState(saved, parameters: detector.parameters) }
        let average = t.emaDecay > 0
            ? try start.average ?? WeightAverage(of: detector, decay: t.emaDecay, tau: t.emaTau) : nil
        let config = detector.config
        let step = TrainStep(detector: detector, optimizer: optimizer,
                             classWeights: try classWeights(train, beta: config.classBalanceBeta))
        step.clipNorm = Float(t.clipNorm)
        let replicas = options.replicas.resolved(threads: options.threads, batchSize: t.batchSize, underMPI: job != nil)
        try ReplicaCount.check(replicas, batchSize: t.batchSize, underMPI: job != nil)
        let replicaStep = replicas > 1 ? try ReplicaStep(step, count: replicas) : nil
        let parameterCount = detector.parameters.reduce(0) { $0 + $1.value.count }
        let strides = config.pyramidStrides.map(String.init).joined(separator: "/")
        let shards = "\(t.batchSize / replicas)"
            + (t.batchSize % replicas == 0 ? "" : "–\((t.batchSize + replicas - 1) / replicas)")
        say("model \(config.name): \(parameterCount) parameters, input \(config.inputSize)"
            + (config.rectangular ? " (rectangular, longer side)" : "²") + ", "
            + "set head \(config.setHead.rawValue) (\(config.hypotheses) hypotheses), "
            + "\(detector.anchors.count) dense anchors" + (config.rectangular ? " at \(config.inputSize)²" : "")
            + (config.isPyramid ? " on strides \(strides)" : "") + "; "
            + "OpenBLAS \(BLASRuntime.coreName) × \(BLASRuntime.threads); precision \(Precision.current.rawValue); "
            + (replicas > 1 ? "\(replicas) replicas × 1 thread, batch \(t.batchSize) split into shards of \(shards)"
                : "1 replica"))

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
            throw TrainingError.invalidSetting(
                key: "batchSize", reason: "\(t.batchSize) exceeds the \(train.images.count) training images")
        }
        return try TrainingRun(options: options, configuration: configuration, detector: detector, optimizer: optimizer,
                               average: average, step: step, replicaStep: replicaStep, loader: loader, validation: val,
                               state: state, say: say)
    }
}
