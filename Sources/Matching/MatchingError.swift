/// Errors of the Matching module: invalid cost matrices, infeasible problems and unreadable cost files.
public enum MatchingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A cost entry is `nan` or `−inf` (only finite values and `+inf`, meaning "forbidden", are allowed).
    case invalidEntry(row: Int, column: Int, value: Double)
    /// No assignment of every row (or of every column, when rows outnumber columns) avoids the forbidden
    /// `+inf` pairs. `line` names a row (`isRow`) or column that could not be matched, when known.
    case infeasible(line: Int, isRow: Bool)
    /// A cost matrix whose rows differ in length, or whose value count is not `rows × columns`.
    case malformedMatrix(String)
    /// A cost file that could not be read or parsed: the path and what is wrong with it.
    case unreadableFile(path: String, reason: String)

    /// The error kind used by the oracle fixtures: `"invalid"`, `"infeasible"`, `"malformed"` or `"file"`.
    public var kind: String {
        switch self {
        case .invalidEntry: return "invalid"
        case .infeasible: return "infeasible"
        case .malformedMatrix: return "malformed"
        case .unreadableFile: return "file"
        }
    }

    /// A message that names the offending value or file and says what to do.
    public var description: String {
        switch self {
        case let .invalidEntry(row, column, value):
            return "cost matrix entry [\(row), \(column)] is \(value); entries must be finite or +inf (forbidden pair)"
        case let .infeasible(line, isRow):
            return "cost matrix is infeasible: \(isRow ? "row" : "column") \(line) cannot be matched without "
                + "using a forbidden (+inf) pair"
        case let .malformedMatrix(reason):
            return "malformed cost matrix: \(reason)"
        case let .unreadableFile(path, reason):
            return "cannot read cost matrix '\(path)': \(reason)"
        }
    }
}
