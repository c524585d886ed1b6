import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A JSON Lines file of typed records (one JSON object per line), appended so that neither a kill nor a full disk
/// leaves a line that breaks a reader: each record goes out as one whole line in one `write(2)` on an `O_APPEND`
/// descriptor, and a write that fails part-way (`ENOSPC`) is cut back to the last whole line before the error is
/// thrown. A kill inside the kernel's copy can still cut the last line short; `read` leaves such a torn last line
/// out, and reopening with `init(url:keeping:)` (a resumed run) removes it from the file before appending.
public final class JSONLinesLog<Record: Codable> {
    /// The log file.
    public let url: URL
    /// What reopening repaired: bytes of a torn last line removed and whole records dropped (both 0 for a new log).
    public private(set) var repaired = (tornBytes: 0, droppedRecords: 0)
    private var fd: Int32 = -1
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    /// Opens `url` for appending (created when missing; `truncate` starts it empty).
    public init(url: URL, truncate: Bool) throws {
        self.url = url
        try openForAppend(truncate: truncate)
    }

    /// Reopens an existing log for appending after keeping only the records `keep` accepts (a resumed run keeps those
    /// up to its checkpoint's step) and removing a torn last line; the file is rewritten atomically only when
    /// something was removed (`repaired` says what). A bad line other than the last is an error naming the line.
    public init(url: URL, keeping keep: (Record) -> Bool) throws {
        self.url = url
        if FileManager.default.fileExists(atPath: url.path) {
            let (records, lines, torn) = try Self.parse(url)
            let kept = zip(records, lines).filter { keep($0.0) }.map(\.1)
            repaired = (torn, records.count - kept.count)
            if torn > 0 || kept.count < records.count {
                var text = Data()
                for line in kept { text.append(line); text.append(0x0A) }
                try DurableFile.write(text, to: url)
            }
        }
        try openForAppend(truncate: false)
    }

    private func openForAppend(truncate: Bool) throws {
        fd = open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0o644)
        guard fd >= 0 else {
            throw ReportingError.io(path: url.path, reason: "cannot open the log for writing: \(String(cString: strerror(errno)))")
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Writes one record as a line (keys sorted). On failure the file ends at the last whole record and the error
    /// names the log and the system's reason.
    public func append(_ record: Record) throws {
        var line: Data
        do { line = try encoder.encode(record) } catch {
            throw ReportingError.io(path: url.path, reason: "cannot encode a log record: \(error)")
        }
        line.append(0x0A)
        let end = lseek(fd, 0, SEEK_END)
        do {
            try DurableFile.writeAll(fd, line) { code in
                ReportingError.io(path: self.url.path, reason: "cannot append to the log: \(String(cString: strerror(code)))")
            }
        } catch {
            if end >= 0 { _ = ftruncate(fd, end) }
            throw error
        }
    }

    /// The records of a JSON Lines file. A torn last line (a kill inside a write) is left out; any other line that
    /// is not a record is an error naming the line.
    public static func read(_ url: URL) throws -> [Record] {
        try parse(url).records
    }

    /// Records, their lines' bytes (without the newline), and the length of a torn last line (0 when none).
    static func parse(_ url: URL) throws -> (records: [Record], lines: [Data], tornBytes: Int) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ReportingError.io(path: url.path, reason: "cannot read the log: \(error.localizedDescription)")
        }
        let decoder = JSONDecoder()
        var records: [Record] = [], lines: [Data] = []
        var start = data.startIndex, number = 0
        while start < data.endIndex {
            number += 1
            guard let newline = data[start...].firstIndex(of: 0x0A) else {
                // No newline: the last write was cut short. A whole record without its newline is kept out too,
                // since the file cannot be appended to as it is.
                return (records, lines, data.endIndex - start)
            }
            let line = data[start..<newline]
            start = newline + 1
            if line.isEmpty { continue }
            do { records.append(try decoder.decode(Record.self, from: line)) } catch {
                throw ReportingError.badRecord(path: url.path, line: number, reason: "\(error)")
            }
            lines.append(Data(line))
        }
        return (records, lines, 0)
    }
}
