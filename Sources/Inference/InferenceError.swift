/// Errors of inference and dataset evaluation a user can cause. Settings are named by their key in the options
/// (`head`, `overlays`, `data`, …); the command line maps a key to the flag that sets it.
public enum InferenceError: Error, CustomStringConvertible, Equatable {
    /// The setting `key` has a value that cannot work.
    case invalidSetting(key: String, reason: String)
    /// Reading or writing `path` failed.
    case io(path: String, reason: String)

    /// The message: the setting or file, and what is wrong.
    public var description: String {
        switch self {
        case let .invalidSetting(key, reason): return "setting \(key): \(reason)"
        case let .io(path, reason): return "\(path): \(reason)"
        }
    }
}
