/// Errors of the ONNX export a user can cause.
public enum ExportError: Error, CustomStringConvertible, Equatable {
    /// The checkpoint's configuration has a setting the exporter cannot express in the graph.
    case unsupportedSetting(key: String, value: String)
    /// Reading or writing `path` failed.
    case io(path: String, reason: String)

    /// The message: the setting or file, and what is wrong.
    public var description: String {
        switch self {
        case let .unsupportedSetting(key, value):
            return "setting \(key) = \(value) cannot be exported to ONNX (the graph has no equivalent of it)"
        case let .io(path, reason): return "\(path): \(reason)"
        }
    }
}
