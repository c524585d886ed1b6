import ArgumentParser
import Benchmarks
import Foundation
import Matching

/// `detector match FILE`: solves the linear sum assignment problem of a cost-matrix file and prints the
/// assignment and its total as JSON; `--bench` times the solver on each file instead.
struct MatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Solve a linear sum assignment problem from a cost-matrix file (.npy, .csv or JSON).",
        discussion: """
            Prints {"rows", "cols", "maximize", "row_ind", "col_ind", "total"} as JSON. +inf entries are \
            forbidden pairs; nan and -inf are errors; an infeasible problem exits non-zero.
            With --bench, prints one JSON line per file with the median seconds per call, timed in-process.
            """)

    @Argument(help: "Cost matrix files: .npy (float64/float32), .csv, or .json ([[...], ...]).")
    var files: [String]

    @Flag(help: "Maximise the total instead of minimising it.")
    var maximize = false

    @Flag(help: "Time the solver on each file (median of many calls) instead of printing the assignment.")
    var bench = false

    @Option(help: "Time budget per file for --bench, in seconds.")
    var benchSeconds: Double = 1

    func validate() throws {
        if files.isEmpty { throw ValidationError("give a cost matrix file") }
        if files.count > 1 && !bench { throw ValidationError("give one file (several only with --bench)") }
        if benchSeconds <= 0 { throw ValidationError("--bench-seconds must be positive") }
    }

    func run() throws {
        do {
            for path in files {
                let cost = try CostMatrix.read(path: path)
                if bench {
                    let t = try AssignmentBenchmark.time(cost, maximize: maximize, budgetSeconds: benchSeconds)
                    let name = path.replacingOccurrences(of: "\\", with: "\\\\")
                        .replacingOccurrences(of: "\"", with: "\\\"")
                    print(#"{"file": "\#(name)", "rows": \#(cost.rows), "cols": \#(cost.columns), "#
                        + #""median_seconds": \#(t.medianSeconds), "calls_per_block": \#(t.callsPerBlock), "#
                        + #""blocks": \#(t.blocks), "total": \#(t.total)}"#)
                } else {
                    let a = try linearSumAssignment(cost, maximize: maximize)
                    print(#"{"rows": \#(cost.rows), "cols": \#(cost.columns), "maximize": \#(maximize), "#
                        + #""row_ind": \#(a.rowIndices), "col_ind": \#(a.columnIndices), "total": \#(a.total)}"#)
                }
            }
        } catch let e as MatchingError {
            FileHandle.standardError.write(Data("error: \(e)\n".utf8))
            throw ExitCode(e.kind == "infeasible" ? 2 : 1)
        }
    }
}
