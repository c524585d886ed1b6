import Foundation

/// A JSON Lines file of typed records (one JSON object per line), flushed at every record so that a killed run
/// keeps everything logged before the kill.
public final class JSONLinesLog<Record: Codable> {
    /// The log file.
    public let url: URL
    private let handle: FileHandle
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    /// Opens `url` for appending (created when missing; `truncate` starts it empty).
    public init(url: URL, truncate: Bool) throws {
        self.url = url
        let fm = FileManager.default
        if truncate || !fm.fileExists(atPath: url.path) {
            guard fm.createFile(atPath: url.path, contents: nil) else {
                throw ReportingError.io(path: url.path, reason: "cannot create the log file")
            }
        }
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw ReportingError.io(path: url.path, reason: "cannot open the log file for writing: \(error.localizedDescription)")
        }
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    /// Writes one record as a line (keys sorted).
    public func append(_ record: Record) throws {
        let data: Data
        do { data = try encoder.encode(record) } catch {
            throw ReportingError.io(path: url.path, reason: "cannot encode a log record: \(error)")
        }
        handle.write(data + Data("\n".utf8))
    }

    /// The records of a JSON Lines file. A partial last line (a run killed mid-write) is left out; any other line
    /// that is not a record is an error naming the line.
    public static func read(_ url: URL) throws -> [Record] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ReportingError.io(path: url.path, reason: "cannot read the log: \(error.localizedDescription)")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let decoder = JSONDecoder()
        var records: [Record] = []
        for (i, line) in lines.enumerated() where !line.isEmpty {
            do { records.append(try decoder.decode(Record.self, from: Data(line.utf8))) } catch {
                if i == lines.count - 1 && !text.hasSuffix("\n") { break }  // cut short by a kill
                throw ReportingError.badRecord(path: url.path, line: i + 1, reason: "\(error)")
            }
        }
        return records
    }
}
