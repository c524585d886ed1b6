/// Errors of the report files: a chart or log that cannot be written or read. Messages name the file.
public enum ReportingError: Error, CustomStringConvertible, Equatable {
    /// Writing or reading `path` failed.
    case io(path: String, reason: String)
    /// Line `line` of the JSON Lines file `path` is not a record of the expected kind.
    case badRecord(path: String, line: Int, reason: String)

    /// The message: the file (and line), and what is wrong.
    public var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .badRecord(path, line, reason): return "\(path):\(line): \(reason)"
        }
    }
}
