import Foundation

/// Progress of a long job on standard error: a single redrawn line with a bar and an ETA when standard error
/// is a terminal, plain lines at a limited rate otherwise (logs, CI).
public final class ProgressReporter {
    /// Total units of work (steps); 0 when unknown.
    public let total: Int
    private let start = Date()
    private let isTerminal: Bool
    private var lastPrint = Date.distantPast
    private let plainInterval: TimeInterval
    private var lastLineLength = 0
    /// Progress and time at the first update: a resumed run starts part-way, and its rate counts from there.
    private var firstUpdate: (done: Int, seconds: TimeInterval)?

    /// A reporter for `total` units; `plainInterval` is the minimum seconds between plain (non-terminal) lines.
    public init(total: Int, plainInterval: TimeInterval = 10) {
        self.total = total
        self.isTerminal = isatty(STDERR_FILENO) != 0
        self.plainInterval = plainInterval
    }

    /// Seconds since the reporter was created.
    public var elapsed: TimeInterval { Date().timeIntervalSince(start) }

    /// Estimated seconds left after `done` of `total` units at the average rate so far.
    public func eta(done: Int) -> TimeInterval? {
        guard done > 0, total > 0, done <= total else { return nil }
        let start = firstUpdate ?? (0, 0)
        guard done > start.done else { return nil }
        return (elapsed - start.seconds) / Double(done - start.done) * Double(total - done)
    }

    /// Reports `done` units with a free-form status (loss terms, images/s). `force` prints a plain line now.
    public func update(done: Int, status: String, force: Bool = false) {
        let now = Date()
        if firstUpdate == nil { firstUpdate = (done, elapsed) }
        let etaText = eta(done: done).map { " ETA " + Self.format(seconds: $0) } ?? ""
        let head = total > 0 ? "\(done)/\(total)" : "\(done)"
        if isTerminal {
            guard force || now.timeIntervalSince(lastPrint) >= 0.1 else { return }
            lastPrint = now
            let width = 24
            let filled = total > 0 ? min(width, done * width / max(total, 1)) : 0
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            var line = "\r[\(bar)] \(head) \(status)\(etaText) \(Self.format(seconds: elapsed))"
            let visible = line.count
            if visible < lastLineLength { line += String(repeating: " ", count: lastLineLength - visible) }
            lastLineLength = visible
            FileHandle.standardError.write(Data(line.utf8))
        } else {
            guard force || now.timeIntervalSince(lastPrint) >= plainInterval else { return }
            lastPrint = now
            let line = "[\(Self.format(seconds: elapsed))] \(head) \(status)\(etaText)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// Ends the redrawn line (terminal) so that following output starts on a fresh line.
    public func finish() {
        if isTerminal && lastLineLength > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        lastLineLength = 0
    }

    /// Prints a message on its own line without disturbing the progress line.
    public func log(_ message: String) {
        if isTerminal && lastLineLength > 0 {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            lastLineLength = 0
        }
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// `h:mm:ss` or `m:ss`.
    public static func format(seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds.rounded()))
        let (h, m, sec) = (s / 3600, (s / 60) % 60, s % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, sec) : String(format: "%d:%02d", m, sec)
    }
}
