import Foundation
import Reporting

/// `results.csv` beside `log.jsonl`: one row per epoch, as ultralytics' `results.csv` — the epoch (1-based), its
/// last step, the mean of every loss term and of the total over the epoch's finite steps, the validation AP50 / AP
/// of both heads when the epoch ended with a validation (empty otherwise), and the learning rate of its last step.
///
/// The table is rebuilt from the whole log after every epoch and at the end, and written atomically (`DurableFile`:
/// a temporary file flushed and renamed over the old one), so a kill never leaves a torn last line and a resumed
/// run's table continues the first run's rows. A validation belongs to the row whose last step it followed.
public enum ResultsTable {
    /// The CSV text for `records`: a header line, then one line per epoch that has steps.
    public static func csv(_ records: [LogRecord]) -> String {
        let steps = records.compactMap { if case let .step(s) = $0 { return s } else { return nil } }
        let evals = records.compactMap { if case let .evaluation(e) = $0 { return e } else { return nil } }
        let terms = Set(steps.flatMap { $0.terms.map(\.name) }).sorted()
        var header = ["epoch", "step"] + terms + ["loss", "set_ap50", "set_ap", "dense_ap50", "dense_ap", "lr"]
        header = header.map { $0.replacingOccurrences(of: ",", with: "_") }
        var lines = [header.joined(separator: ",")]
        var byEpoch: [Int: [LogRecord.StepRecord]] = [:]
        for s in steps { byEpoch[s.epoch, default: []].append(s) }
        for epoch in byEpoch.keys.sorted() {
            let rows = byEpoch[epoch]!.sorted { $0.step < $1.step }
            let last = rows[rows.count - 1]
            func mean(_ value: (LogRecord.StepRecord) -> Double?) -> String {
                let v = rows.compactMap(value).filter(\.isFinite)
                return v.isEmpty ? "" : number(v.reduce(0, +) / Double(v.count))
            }
            let e = evals.last { $0.step == last.step }
            var fields = [String(epoch + 1), String(last.step)]
            fields += terms.map { name in mean { $0.term(name) } }
            fields.append(mean { $0.loss })
            fields += [e?.setAP50, e?.setAP, e?.denseAP50, e?.denseAP].map { $0.map(number) ?? "" }
            fields.append(number(last.learningRate))
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A number in at most 6 significant digits (`%.6g`).
    static func number(_ v: Double) -> String { String(format: "%.6g", v) }

    /// Rebuilds `results.csv` in `folder` from its `log.jsonl`.
    public static func write(folder: URL) throws {
        let records = try JSONLinesLog<LogRecord>.read(folder.appendingPathComponent("log.jsonl"))
        let url = folder.appendingPathComponent("results.csv")
        try DurableFile.write(Data(csv(records).utf8), to: url)
    }
}

/// Writes `results.csv` (`ResultsTable`) after every epoch and at the end.
public final class ResultsTableHook: TrainerHook {
    /// A results-table hook.
    public init() {}

    /// Rewrites the table with the finished epoch.
    public func afterEpoch(_ run: TrainingRun) throws { try ResultsTable.write(folder: run.folder) }

    /// Rewrites the table with the final validation.
    public func afterTraining(_ run: TrainingRun) throws { try ResultsTable.write(folder: run.folder) }
}
