import Criterion
import Datasets
import Evaluation
import Foundation
import Losses
import NeuralNet

extension Trainer {
    /// Trains as the options say and returns the summary; checkpoints and logs are in the run folder.
    public func run() throws -> TrainingSummary {
        if let t = options.threads {
            BLASRuntime.threads = t
            Parallel.workers = t
        }
        let fm = FileManager.default
        let out = options.out
        do { try fm.createDirectory(at: out, withIntermediateDirectories: true) } catch {
            throw DetectionError.io(out.path, "cannot create the run folder: \(error.localizedDescription)")
        }
        let (train, val) = try loadData()
        let classes = train.categories.map(\.name)

        // Model, optimizer and state: fresh, or from the checkpoint.
        var state = TrainingState(seed: options.seed)
        let detector: Detector
        let optimizer = AdamW(weightDecay: Float(options.weightDecay))
        if let resume = options.resume {
            let loaded = try Checkpoint.load(resume)
            guard loaded.detector.config.classNames == classes else {
                throw DetectionError.checkpoint(resume.path, "trained on classes \(loaded.detector.config.classNames), the data has \(classes)")
            }
            detector = loaded.detector
            state = loaded.state
            try optimizer.loadState(loaded.optimizerState, parameters: detector.parameters)
            say("resuming \(resume.path) at step \(state.step) (epoch \(state.epoch), batch \(state.stepInEpoch))")
        } else {
            detector = try Detector(config: try makeConfig(classes: classes, train: train), seed: options.seed)
        }
        let config = detector.config
        let weights = try classWeights(train, beta: config.classBalanceBeta)
        let step = TrainStep(detector: detector, optimizer: optimizer, classWeights: weights)
        step.clipNorm = Float(options.clipNorm)
        let params = detector.parameters
        say("model \(config.name): \(params.reduce(0) { $0 + $1.value.count }) parameters, input \(config.inputSize)², "
            + "set head \(config.setHead.rawValue) (\(config.hypotheses) hypotheses), \(detector.anchors.count) dense anchors; "
            + "OpenBLAS \(BLASRuntime.coreName) × \(BLASRuntime.threads)")

        var loaderOptions = BatchLoaderOptions()
        loaderOptions.batchSize = options.batchSize
        loaderOptions.inputSize = config.inputSize
        loaderOptions.seed = state.seed
        loaderOptions.skipBadImages = options.skipBadImages
        loaderOptions.augment = options.augment ? AugmentConfig() : .none
        loaderOptions.cacheImages = train.images.count <= 4000
        let loader = BatchLoader(dataset: train, options: loaderOptions)
        let perEpoch = loader.batchesPerEpoch
        guard perEpoch > 0 else {
            throw DetectionError.invalidOption("--batch-size", "\(options.batchSize) exceeds the \(train.images.count) training images")
        }
        let budget = options.minutes.map { $0 * 60 } ?? (options.epochs == nil && options.data == nil ? 12 * 60 : nil)
        let epochs = options.epochs ?? (budget == nil ? 30 : Int.max)
        if state.totalSteps == 0 || options.resume == nil {
            state.totalSteps = budget == nil ? epochs * perEpoch : 0
        }
        // `maxSteps` stops the run early without changing the schedule, so a stopped run resumes exactly.
        let schedule = LearningRateSchedule(base: Float(options.learningRate), warmupSteps: options.warmupSteps,
                                            decay: .cosine(floor: Float(options.learningRate) * 0.02))
        let log = try JSONLinesLog(url: out.appendingPathComponent("log.jsonl"), truncate: options.resume == nil)
        let last = out.appendingPathComponent("last.safetensors"), best = out.appendingPathComponent("best.safetensors")

        StopSignal.install()
        defer { StopSignal.uninstall() }
        loader.start(epoch: state.epoch, step: state.stepInEpoch)
        defer { loader.stop() }
        // Progress counts steps, or seconds of the budget in a time-budgeted run.
        let progress = ProgressReporter(total: budget.map { Int($0) } ?? state.totalSteps, plainInterval: 15)
        let trainedBefore = state.trainingSeconds
        var trainSeconds = 0.0, imagesThisRun = 0, nonFinite = 0, stoppedBy: String? = nil
        var evalSeconds = 0.0
        var lastMetrics: HeadMetrics? = nil

        training: while state.epoch < epochs {
            while state.stepInEpoch < perEpoch {
                if StopSignal.requested { stoppedBy = "signal"; break training }
                if let limit = options.maxSteps, state.step >= limit { break training }
                let elapsed = trainedBefore + trainSeconds
                if let b = budget, elapsed >= b { break training }
                let t0 = Date()
                let batch = try loader.next()
                let total: Int
                if let b = budget {
                    // Time budget: the schedule spans the steps the budget is expected to hold at the current pace.
                    let pace = elapsed > 0 && state.step > 0 ? elapsed / Double(state.step) : 1
                    total = max(state.step + 1, Int(b / pace))
                } else {
                    total = state.totalSteps
                }
                let lr = schedule.learningRate(step: state.step, totalSteps: total)
                let report = try step.run(TrainingBatch(batch), learningRate: lr)
                let seconds = Date().timeIntervalSince(t0)
                trainSeconds += seconds
                imagesThisRun += batch.count
                state.step += 1
                state.stepInEpoch += 1
                state.trainingSeconds = trainedBefore + trainSeconds
                var record: [String: Any] = ["step": state.step, "epoch": state.epoch, "lr": Double(lr), "seconds": seconds,
                                             "loss": report.total, "grad_norm": report.gradientNorm,
                                             "positives": report.positives, "unmatched_boxes": report.unmatchedBoxes]
                for (name, value) in report.losses { record[name] = value }
                if let why = report.skipped {
                    nonFinite += 1
                    state.skippedSteps += 1
                    record["skipped"] = why
                    progress.log("step \(state.step): skipped (\(why))")
                    if nonFinite >= options.maxNonFiniteSteps {
                        log.append(record)
                        throw DetectionError.diverged("\(nonFinite) steps in a row were not finite (last: \(why)); "
                            + "the last good checkpoint is \(last.path); try a lower --lr")
                    }
                } else {
                    nonFinite = 0
                }
                log.append(record)
                let terms = report.losses.map { String(format: "%@ %.3f", ($0.name.split(separator: ".").last.map(String.init) ?? $0.name) as NSString, $0.value) }
                let rate = Double(imagesThisRun) / max(trainSeconds, 1e-9)
                let done = budget.map { Int(min($0, trainedBefore + trainSeconds)) } ?? state.step
                let status = String(format: "epoch %d step %d loss %.3f (", state.epoch + 1, state.step, report.total)
                    + terms.joined(separator: ", ") + String(format: ") %.1f img/s", rate)
                progress.update(done: done, status: status)
            }
            state.epoch += 1
            state.stepInEpoch = 0
            try Checkpoint.save(detector, optimizer: optimizer, state: state, to: last)
            if let v = val, options.evalEvery > 0, state.epoch % options.evalEvery == 0, state.epoch < epochs {
                let e0 = Date()
                let m = try evaluate(detector, on: v)
                evalSeconds += Date().timeIntervalSince(e0)
                lastMetrics = m
                try recordEvaluation(m, state: &state, detector: detector, optimizer: optimizer, log: log, best: best)
                progress.log("epoch \(state.epoch): \(m.summaryLine)")
            }
            try writePlots()
        }
        progress.finish()
        try Checkpoint.save(detector, optimizer: optimizer, state: state, to: last)
        if stoppedBy != nil { say("stopped by a signal after step \(state.step); checkpoint \(last.path) (continue with --resume)") }
        if let v = val, stoppedBy == nil {
            let m = try evaluate(detector, on: v)
            lastMetrics = m
            try recordEvaluation(m, state: &state, detector: detector, optimizer: optimizer, log: log, best: best)
            try Checkpoint.save(detector, optimizer: optimizer, state: state, to: last)
            try writeMetrics(m, to: out.appendingPathComponent("metrics.json"), state: state)
            say("validation (\(v.images.count) images): \(m.summaryLine)")
            if let s = m.set { say("set head (no NMS):\n" + s.summary) }
            say("dense head (NMS \(PostProcessor().nmsIoU)):\n" + m.dense.summary)
        }
        try writePlots()
        let stats = loader.statistics
        say(String(format: "trained %d steps (%d epochs) in %.1f min (+%.1f min evaluating), %.1f images/s, data wait %.1f %%",
                   state.step, state.epoch, state.trainingSeconds / 60, evalSeconds / 60,
                   Double(imagesThisRun) / max(trainSeconds, 1e-9), 100 * stats.waitFraction)
            + (stats.skippedImages > 0 ? ", \(stats.skippedImages) unreadable images skipped" : ""))
        return TrainingSummary(steps: state.step, epochs: state.epoch, minutes: state.trainingSeconds / 60,
                               imagesPerSecond: Double(imagesThisRun) / max(trainSeconds, 1e-9),
                               dataWaitFraction: stats.waitFraction, metrics: lastMetrics, runFolder: out,
                               stoppedBy: stoppedBy, skippedImages: stats.skippedImages)
    }

    /// Class-balanced weights from the training set's class counts (nil when β = 0).
    func classWeights(_ data: DetectionDataset, beta: Double) throws -> [Double]? {
        guard beta > 0 else { return nil }
        let w = try Loss.classBalancedWeights(counts: data.classCounts.map { Double(max($0, 1)) }, beta: beta)
        say("class-balanced weights (β \(beta)): " + zip(data.categories, w).map { String(format: "%@ %.3f", $0.name as NSString, $1) }.joined(separator: ", "))
        return w
    }

    /// Both heads' COCO metrics on `data`.
    func evaluate(_ detector: Detector, on data: DetectionDataset) throws -> HeadMetrics {
        let predictor = Predictor(detector: detector, batchSize: options.batchSize)
        let (predictions, _) = try predictor.predict(dataset: data, skipBadImages: options.skipBadImages)
        return try data.evaluate(predictions, hasSetHead: detector.config.setHead != .none)
    }

    /// Logs an evaluation and keeps the best checkpoint (by the set head's AP50, or the dense head's without one).
    func recordEvaluation(_ m: HeadMetrics, state: inout TrainingState, detector: Detector, optimizer: Optimizer,
                          log: JSONLinesLog, best: URL) throws {
        var record: [String: Any] = ["eval_step": state.step, "epoch": state.epoch,
                                     "dense_ap": m.dense.stats[0], "dense_ap50": m.dense.stats[1]]
        if let s = m.set { record["set_ap"] = s.stats[0]; record["set_ap50"] = s.stats[1] }
        log.append(record)
        let key = m.set?.stats[1] ?? m.dense.stats[1]
        if key > state.bestAP50 {
            state.bestAP50 = key
            try Checkpoint.save(detector, optimizer: nil, state: state, to: best)
        }
    }

    /// `metrics.json`: the 12 COCO numbers of both heads.
    func writeMetrics(_ m: HeadMetrics, to url: URL, state: TrainingState) throws {
        var obj: [String: Any] = ["step": state.step, "epoch": state.epoch, "training_minutes": state.trainingSeconds / 60]
        let names = COCOEvaluation.statNames
        obj["dense"] = Dictionary(uniqueKeysWithValues: zip(names, m.dense.stats))
        if let s = m.set { obj["set"] = Dictionary(uniqueKeysWithValues: zip(names, s.stats)) }
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
        do { try data.write(to: url, options: .atomic) } catch {
            throw DetectionError.io(url.path, "cannot write metrics: \(error.localizedDescription)")
        }
    }

    /// `loss.svg` (every loss term, smoothed) and `ap.svg` (validation AP50/AP of both heads) from the log.
    func writePlots() throws {
        let records = try JSONLinesLog.read(options.out.appendingPathComponent("log.jsonl"))
        let steps = records.filter { $0["loss"] != nil }
        var names = Set<String>()
        for r in steps { for k in r.keys where k.hasPrefix("dense.") || k.hasPrefix("set.") { names.insert(k) } }
        let window = max(1, steps.count / 200)
        func smoothed(_ key: String) -> [(x: Double, y: Double)] {
            var out: [(x: Double, y: Double)] = [], acc = 0.0, n = 0
            for r in steps {
                guard let v = r[key] as? Double, let s = r["step"] as? Int else { continue }
                acc += v; n += 1
                if n == window { out.append((Double(s), acc / Double(n))); acc = 0; n = 0 }
            }
            return out
        }
        let lossPlot = SVGLinePlot(title: "Training loss", xLabel: "step", yLabel: "loss", logY: true,
                                   series: (["loss"] + names.sorted()).map { .init(name: $0, points: smoothed($0)) })
        try lossPlot.write(to: options.out.appendingPathComponent("loss.svg"))
        let evals = records.filter { $0["eval_step"] != nil }
        guard !evals.isEmpty else { return }
        let keys = ["set_ap50", "set_ap", "dense_ap50", "dense_ap"]
        let apPlot = SVGLinePlot(title: "Validation AP", xLabel: "step", yLabel: "AP", series: keys.compactMap { k in
            let pts = evals.compactMap { r -> (x: Double, y: Double)? in
                guard let v = r[k] as? Double, let s = r["eval_step"] as? Int else { return nil }
                return (Double(s), v)
            }
            return pts.isEmpty ? nil : SVGLinePlot.Series(name: k, points: pts)
        })
        try apPlot.write(to: options.out.appendingPathComponent("ap.svg"))
    }
}
