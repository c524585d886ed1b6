import Datasets
import DetectorModel
import Evaluation
import Foundation
import Inference
import Reporting

/// Something that acts around the training loop, as Detectron2's `HookBase` or Lightning's `Callback`: before the
/// first step, after every step, after every epoch and after the last step. Hooks run in the order the trainer
/// lists them (log, checkpoints, validation, plots).
public protocol TrainerHook: AnyObject {
    /// Before the first step of this process.
    func beforeTraining(_ run: TrainingRun) throws
    /// After each step, with what it logged.
    func afterStep(_ run: TrainingRun, _ record: LogRecord.StepRecord) throws
    /// After each completed epoch (`run.state.epoch` already counts it).
    func afterEpoch(_ run: TrainingRun) throws
    /// After the loop ends (finished, stopped by a signal, `maxSteps` or the time budget).
    func afterTraining(_ run: TrainingRun) throws
}

/// Hooks implement only the moments they act at; the others do nothing.
extension TrainerHook {
    /// Does nothing.
    public func beforeTraining(_ run: TrainingRun) throws {}
    /// Does nothing.
    public func afterStep(_ run: TrainingRun, _ record: LogRecord.StepRecord) throws {}
    /// Does nothing.
    public func afterEpoch(_ run: TrainingRun) throws {}
    /// Does nothing.
    public func afterTraining(_ run: TrainingRun) throws {}
}

/// A `LogRecord` in `log.jsonl` for every step, the progress line with ETA, and the divergence stop.
public final class LogHook: TrainerHook {
    /// A log hook.
    public init() {}

    /// Logs the step, shows it on the progress line, and stops the run after too many non-finite steps in a row.
    public func afterStep(_ run: TrainingRun, _ record: LogRecord.StepRecord) throws {
        KillPoint.beforeLogAppend(.step(record), to: run.log.url)
        try run.log.append(.step(record))
        if let why = record.skipped {
            run.progress.log("step \(record.step): skipped (\(why))")
            if run.nonFiniteInARow >= run.options.maxNonFiniteSteps {
                throw TrainingError.diverged("\(run.nonFiniteInARow) steps in a row were not finite (last: \(why)); "
                    + "the last good checkpoint is \(run.lastCheckpoint.path); try a lower --lr")
            }
        }
        let terms = record.terms.map { String(format: "%@ %.3f", Self.shortName($0.name) as NSString, $0.value) }
        let done = run.budget.map { Int(min($0, run.elapsed)) } ?? run.state.step
        let status = String(format: "epoch %d step %d loss %.3f (", run.state.epoch + 1, run.state.step, record.loss)
            + terms.joined(separator: ", ") + String(format: ") %.1f img/s", run.imagesPerSecond)
        run.progress.update(done: done, status: status)
    }

    /// Ends the progress line.
    public func afterTraining(_ run: TrainingRun) throws {
        run.progress.finish()
    }

    /// A loss term's name on the progress line: without its head (`dense.focal` → `focal`), but a hybrid matching
    /// term keeps its group (`set.o2m.class` → `o2m.class`).
    static func shortName(_ name: String) -> String {
        let parts = name.split(separator: ".").map(String.init)
        return parts.count > 1 ? parts.dropFirst().joined(separator: ".") : name
    }
}

/// `last.safetensors` after every epoch, or every `saveEvery` steps or minutes when set, and at the end (Ctrl-C
/// included), so a kill loses at most one interval.
public final class CheckpointHook: TrainerHook {
    private var savedAtStep = 0
    private var savedAt = Date()

    /// A checkpoint hook.
    public init() {}

    /// Starts the interval at the step the run begins (or resumes) at.
    public func beforeTraining(_ run: TrainingRun) throws {
        savedAtStep = run.state.step
        savedAt = Date()
    }

    /// Saves `last.safetensors` when `saveEvery` is due.
    public func afterStep(_ run: TrainingRun, _ record: LogRecord.StepRecord) throws {
        guard let every = run.configuration.training.saveEvery,
              every.isDue(stepsSince: run.state.step - savedAtStep, secondsSince: Date().timeIntervalSince(savedAt)) else { return }
        try save(run)
    }

    /// Saves `last.safetensors` after every epoch (without `saveEvery`).
    public func afterEpoch(_ run: TrainingRun) throws {
        if run.configuration.training.saveEvery == nil { try save(run) }
    }

    func save(_ run: TrainingRun) throws {
        KillPoint.beforeCheckpoint()
        try run.saveLast()
        savedAtStep = run.state.step
        savedAt = Date()
    }

    /// Saves `last.safetensors` and, after a stop signal, says how to continue.
    public func afterTraining(_ run: TrainingRun) throws {
        try run.saveLast()
        if run.stoppedBy != nil {
            run.say("stopped by a signal after step \(run.state.step); checkpoint \(run.lastCheckpoint.path) (continue with --resume)")
        }
    }
}

/// Validation every `evalEvery` epochs and at the end: COCO AP of both heads into the log, `best.safetensors` on a
/// new best AP50 (set head, or dense head without one), `metrics.json` and the printed summary at the end.
public final class EvaluationHook: TrainerHook {
    /// An evaluation hook.
    public init() {}

    /// The validation split when a validation is due after this epoch (every `evalEvery` epochs, not after the last
    /// one: the end validates), else nil. Every rank of a data-parallel job decides alike.
    static func dueAfterEpoch(_ run: TrainingRun) -> DetectionDataset? {
        let every = run.configuration.training.evalEvery
        guard let v = run.validation, every > 0, run.state.epoch % every == 0, run.state.epoch < run.epochs else { return nil }
        return v
    }

    /// The validation split when the final validation is due (unless stopped by a signal), else nil.
    static func dueAfterTraining(_ run: TrainingRun) -> DetectionDataset? {
        run.stoppedBy == nil ? run.validation : nil
    }

    /// Validates when the epoch is due.
    public func afterEpoch(_ run: TrainingRun) throws {
        guard let v = Self.dueAfterEpoch(run) else { return }
        let m = try evaluate(run, v).metrics
        run.progress.log("epoch \(run.state.epoch): \(m.summaryLine)")
    }

    /// The final validation (unless stopped by a signal): log, best checkpoint, the input side for inference
    /// (`InputSideSearch`), `metrics.json`, printed summary. With another side chosen, the figures reported and the
    /// score thresholds stored are those at that side, and `last.safetensors` (and `best.safetensors` when it holds
    /// the final weights) store the side. When an earlier validation wrote `best.safetensors`, its network gets the
    /// same search (`storeSideOfBest`).
    public func afterTraining(_ run: TrainingRun) throws {
        guard let v = Self.dueAfterTraining(run) else { return }
        let (m, savedBest) = try evaluate(run, v)
        let trials = try run.searchInputSide(v, trained: InputSideSearch.Trial(
            side: run.evaluated.config.inputSize, metrics: m, predictions: run.lastPredictions))
        try finish(run, v, trained: m, trials: trials, savedBest: savedBest)
        if !savedBest, let (best, bestTrials) = try run.searchInputSideOfBest(v) {
            try storeSideOfBest(run, best, bestTrials)
        }
    }

    /// The side chosen for the network `best.safetensors` holds when an earlier validation wrote it
    /// (`TrainingRun.searchInputSideOfBest`): stored in that file with the score thresholds at that side, its weights
    /// and training state unchanged, so `evaluate`, `detect` and `export` of the best checkpoint run at its own best
    /// side. The printed lines name its step. Returns the side stored, nil when the trained side stays.
    @discardableResult
    func storeSideOfBest(_ run: TrainingRun, _ best: Checkpoint.Loaded, _ trials: [InputSideSearch.Trial]) throws -> Int? {
        let trainedSide = best.detector.config.inputSize
        guard let chosen = InputSideSearch.choose(trials, trainedSide: trainedSide) else { return nil }
        let name = "best.safetensors (step \(best.state.step), epoch \(best.state.epoch))"
        run.say(name + ": " + InputSideSearch.line(trials, trainedSide: trainedSide, chosen: chosen.side))
        let stored = best.metadata[InferenceInput.metadataKey]
        guard chosen.side != trainedSide || stored != nil else { return nil }
        var metadata = best.metadata.merging(chosen.metrics.scoreThresholds.metadata) { _, new in new }
        metadata[InferenceInput.metadataKey] = chosen.side == trainedSide ? nil : String(chosen.side)
        try Checkpoint.save(best.detector, optimizer: nil, state: best.state, extraMetadata: metadata, to: run.bestCheckpoint)
        guard chosen.side != trainedSide else { return nil }
        run.say(name + " at input side \(chosen.side): " + chosen.metrics.summaryLine)
        return chosen.side
    }

    /// The end of the final validation of `trained` metrics (at the trained side) and the input-side `trials`
    /// (`TrainingRun.searchInputSide`, empty without a search): adopts the chosen side, saves `last.safetensors` (and
    /// `best.safetensors` again when `savedBest` and the side changed), writes `metrics.json` and prints the summary.
    func finish(_ run: TrainingRun, _ v: DetectionDataset, trained: HeadMetrics, trials: [InputSideSearch.Trial],
                savedBest: Bool) throws {
        var m = trained
        let trainedSide = run.evaluated.config.inputSize
        var sideNote = ""
        if let chosen = InputSideSearch.choose(trials, trainedSide: trainedSide) {
            run.say(InputSideSearch.line(trials, trainedSide: trainedSide, chosen: chosen.side))
            if chosen.side != trainedSide {
                m = chosen.metrics
                run.inferenceSize = chosen.side
                run.lastMetrics = m
                run.lastPredictions = chosen.predictions
                sideNote = ", input side \(chosen.side), trained at \(trainedSide)"
                if savedBest { try saveBest(run, m) }
            }
        }
        try run.saveLast()
        try writeMetrics(m, run: run, trials: trials)
        run.say("validation (\(v.images.count) images\(sideNote)): \(m.summaryLine)")
        let atLimit = { (e: COCOEvaluation) in m.extraDetectionLimit.map { e.summary(maxDetections: $0) } ?? "" }
        if let s = m.set, let c = m.setCrowd {
            run.say("set head (no NMS):\n" + s.summary + atLimit(s) + " " + c.summaryLine)
        }
        run.say("dense head (NMS \(PostProcessor().nmsIoU)):\n" + m.dense.summary + atLimit(m.dense) + " "
                + m.denseCrowd.summaryLine)
        let t = m.scoreThresholds
        run.say("score thresholds of the best F1, stored in the checkpoints for `detector detect`: "
                + (t.set.map { String(format: "set head %.2f, ", $0) } ?? "") + String(format: "dense head %.2f", t.dense))
    }

    /// Evaluates at the trained side, logs the record and keeps the best checkpoint; whether this validation wrote it.
    func evaluate(_ run: TrainingRun, _ data: DetectionDataset) throws -> (metrics: HeadMetrics, savedBest: Bool) {
        let start = Date()
        let m = try run.evaluate(on: data)
        KillPoint.reached(.evaluation)
        run.evaluationSeconds += Date().timeIntervalSince(start)
        run.lastMetrics = m
        try run.log.append(.evaluation(LogRecord.EvaluationRecord(
            step: run.state.step, epoch: run.state.epoch, denseAP: m.dense.stats[0], denseAP50: m.dense.stats[1],
            setAP: m.set?.stats[0], setAP50: m.set?.stats[1])))
        guard m.keyAP50 > run.state.bestAP50 else { return (m, false) }
        run.state.bestAP50 = m.keyAP50
        try saveBest(run, m)
        return (m, true)
    }

    /// Writes `best.safetensors`: the evaluated network with the metadata inference reads.
    func saveBest(_ run: TrainingRun, _ m: HeadMetrics) throws {
        try Checkpoint.save(run.evaluated, optimizer: nil, state: run.state, extraMetadata: run.inferenceMetadata(m),
                            to: run.bestCheckpoint)
    }

    /// `metrics.json`: the 12 COCO numbers, the crowd metrics (`MR-2`, `JI`, `JI_score_threshold`) and the best-F1 score
    /// threshold (`best_F1_score_threshold`, what `detect` uses by default) of both heads, at `input_size`
    /// (`trained_input_size` is the trained side); with an input-side search, `input_size_AP50` holds each side's
    /// key AP50 (`HeadMetrics.keyAP50`).
    func writeMetrics(_ m: HeadMetrics, run: TrainingRun, trials: [InputSideSearch.Trial] = []) throws {
        let url = run.folder.appendingPathComponent("metrics.json")
        let state = run.state
        let trained = run.evaluated.config.inputSize
        var obj: [String: Any] = ["step": state.step, "epoch": state.epoch, "training_minutes": state.trainingSeconds / 60,
                                  "input_size": run.inferenceSize ?? trained, "trained_input_size": trained]
        if !trials.isEmpty {
            obj["input_size_AP50"] = Dictionary(uniqueKeysWithValues: trials.map { (String($0.side), $0.metrics.keyAP50) })
        }
        let names = COCOEvaluation.statNames
        var dense = Dictionary(uniqueKeysWithValues: zip(names, m.dense.stats)).merging(m.denseCrowd.jsonObject) { a, _ in a }
        dense["best_F1_score_threshold"] = m.scoreThresholds.dense
        obj["dense"] = dense
        if let s = m.set, let c = m.setCrowd {
            var set = Dictionary(uniqueKeysWithValues: zip(names, s.stats)).merging(c.jsonObject) { a, _ in a }
            if let t = m.scoreThresholds.set { set["best_F1_score_threshold"] = t }
            obj["set"] = set
        }
        if let n = m.extraDetectionLimit {
            // The figures at the crowd-sized detection limit, as `detector evaluate --max-dets N` writes them.
            obj["dense_at_max_dets"] = m.dense.statsJSON(maxDetections: n)
            if let s = m.set { obj["set_at_max_dets"] = s.statsJSON(maxDetections: n) }
        }
        let data: Data
        do { data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys]) } catch {
            throw TrainingError.io(path: url.path, reason: "cannot encode metrics: \(error.localizedDescription)")
        }
        try DurableFile.write(data, to: url)
    }
}

/// `loss.svg` (the loss and every term, smoothed) and `ap.svg` (validation AP50 / AP of both heads) from the log,
/// after every epoch and at the end.
public final class PlotHook: TrainerHook {
    /// A plot hook.
    public init() {}

    /// Writes the charts so far.
    public func afterEpoch(_ run: TrainingRun) throws { try writePlots(run) }

    /// Writes the charts of the whole run.
    public func afterTraining(_ run: TrainingRun) throws { try writePlots(run) }

    /// Writes both charts from the run's log.
    public func writePlots(_ run: TrainingRun) throws {
        let records = try JSONLinesLog<LogRecord>.read(run.folder.appendingPathComponent("log.jsonl"))
        let charts = Self.charts(records)
        try charts.loss.write(to: run.folder.appendingPathComponent("loss.svg"))
        if let ap = charts.ap { try ap.write(to: run.folder.appendingPathComponent("ap.svg")) }
    }

    /// The loss chart (every term averaged over windows of 1/200 of the steps, log scale) and, when the log holds
    /// validations, the AP chart.
    public static func charts(_ records: [LogRecord]) -> (loss: LineChart, ap: LineChart?) {
        let steps = records.compactMap { if case let .step(s) = $0 { return s } else { return nil } }
        let evals = records.compactMap { if case let .evaluation(e) = $0 { return e } else { return nil } }
        let names = Set(steps.flatMap { $0.terms.map(\.name) }).sorted()
        let window = max(1, steps.count / 200)
        func smoothed(_ value: (LogRecord.StepRecord) -> Double?) -> [(x: Double, y: Double)] {
            var out: [(x: Double, y: Double)] = [], acc = 0.0, n = 0
            for r in steps {
                guard let v = value(r), v.isFinite else { continue }
                acc += v; n += 1
                if n == window { out.append((Double(r.step), acc / Double(n))); acc = 0; n = 0 }
            }
            return out
        }
        let lossSeries = [LineChart.Series(name: "loss", points: smoothed { $0.loss })]
            + names.map { name in LineChart.Series(name: name, points: smoothed { $0.term(name) }) }
        let loss = LineChart(title: "Training loss", xLabel: "step", yLabel: "loss", logY: true, series: lossSeries)
        guard !evals.isEmpty else { return (loss, nil) }
        let curves: [(String, (LogRecord.EvaluationRecord) -> Double?)] = [
            ("set_ap50", { $0.setAP50 }), ("set_ap", { $0.setAP }), ("dense_ap50", { $0.denseAP50 }), ("dense_ap", { $0.denseAP }),
        ]
        let apSeries = curves.compactMap { name, value -> LineChart.Series? in
            let points = evals.compactMap { e in value(e).map { (x: Double(e.step), y: $0) } }
            return points.isEmpty ? nil : LineChart.Series(name: name, points: points)
        }
        return (loss, LineChart(title: "Validation AP", xLabel: "step", yLabel: "AP", series: apSeries))
    }
}
