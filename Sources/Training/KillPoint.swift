import Foundation
import NeuralNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fault injection for the kill tests (`tools/kill-test`, `KillResumeTests`): with `DETECTOR_KILL_AT=PHASE:N` in
/// the environment, the run sends itself SIGKILL — exactly what `kill -9` does — the N-th time (1-based) it is in
/// PHASE, at a moment an outside killer cannot aim at:
///
/// - `step`: after the optimizer changed the weights in memory, before anything of the step is written;
/// - `evaluation`: after the validation predictions, before the record, the best checkpoint and the metrics;
/// - `checkpoint`: inside the write of `last.safetensors`, after the first chunk of the temporary file;
/// - `log`: inside the append of a `log.jsonl` line, after half of the line's bytes (what the kernel leaves when a
///   kill interrupts its copy).
///
/// Without the variable every call is one dictionary-free comparison.
public enum KillPoint {
    /// Where a run can be killed.
    public enum Phase: String, CaseIterable, Sendable {
        case step, evaluation, checkpoint, log
    }

    /// The phase and occurrence of `DETECTOR_KILL_AT`, or nil.
    static let target: (phase: Phase, occurrence: Int)? = {
        guard let text = ProcessInfo.processInfo.environment["DETECTOR_KILL_AT"] else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let phase = Phase(rawValue: String(parts[0])), let n = Int(parts[1]), n > 0 else { return nil }
        return (phase, n)
    }()

    nonisolated(unsafe) private static var seen = 0

    /// Whether this is the occurrence of `phase` the variable names (counts occurrences of that phase).
    static func due(_ phase: Phase) -> Bool {
        guard let t = target, t.phase == phase else { return false }
        seen += 1
        return seen == t.occurrence
    }

    /// Ends the process with SIGKILL now.
    static func kill() -> Never {
        raise(SIGKILL)
        fatalError("SIGKILL did not end the process")
    }

    /// Kills the process here when `phase` is due (`step`, `evaluation`).
    static func reached(_ phase: Phase) {
        if due(phase) { kill() }
    }

    /// Before a checkpoint write: when due, the write kills the process after its first chunk, before the rename.
    static func beforeCheckpoint() {
        guard due(.checkpoint) else { return }
        SafeTensors.writeObserver = { _, _, _ in kill() }
    }

    /// Before `record` is appended to the log at `url`: when due, writes the first half of its line and kills.
    static func beforeLogAppend(_ record: LogRecord, to url: URL) {
        guard due(.log) else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let line = ((try? encoder.encode(record)) ?? Data("{}".utf8)) + Data("\n".utf8)
        let fd = open(url.path, O_WRONLY | O_APPEND)
        if fd >= 0 {
            let half = line.prefix(line.count / 2)
            _ = half.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
        kill()
    }
}
