import Foundation

/// Appends one JSON object per line to a file (JSON Lines), flushing every record so that a killed run
/// keeps everything logged before the kill.
public final class JSONLinesLog {
    /// The log file.
    public let url: URL
    private let handle: FileHandle

    /// Opens `url` for appending (created when missing; `truncate` starts it empty).
    public init(url: URL, truncate: Bool) throws {
        self.url = url
        let fm = FileManager.default
        if truncate || !fm.fileExists(atPath: url.path) {
            guard fm.createFile(atPath: url.path, contents: nil) else {
                throw DetectionError.io(url.path, "cannot create the log file")
            }
        }
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw DetectionError.io(url.path, "cannot open the log file for writing: \(error.localizedDescription)")
        }
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    /// Writes one record: keys sorted, numbers as JSON numbers (non-finite values as `null`).
    public func append(_ record: [String: Any]) {
        let clean = record.mapValues { v -> Any in
            if let d = v as? Double, !d.isFinite { return NSNull() }
            if let f = v as? Float, !f.isFinite { return NSNull() }
            return v
        }
        guard let data = try? JSONSerialization.data(withJSONObject: clean, options: [.sortedKeys]) else { return }
        handle.write(data)
        handle.write(Data("\n".utf8))
    }

    /// Reads the records of a JSON Lines file, skipping a partial last line (a run killed mid-write).
    public static func read(_ url: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }
}
