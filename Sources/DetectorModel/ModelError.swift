/// Errors of the model a user can cause: a configuration that cannot build a network, a checkpoint that cannot be
/// read or written. Settings are named by their `DetectorConfig` key (`inputSize`, `hypotheses`, …); the command line
/// maps a key to the flag that sets it.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// The configuration key `key` has a value that cannot work.
    case invalidSetting(key: String, reason: String)
    /// A configuration file (or a checkpoint's configuration) is not a valid `DetectorConfig`.
    case invalidConfigFile(path: String, reason: String)
    /// A checkpoint file is not usable.
    case checkpoint(path: String, reason: String)
    /// Writing `path` failed.
    case io(path: String, reason: String)

    /// The message: the setting or file, and what is wrong.
    public var description: String {
        switch self {
        case let .invalidSetting(key, reason): return "setting \(key): \(reason)"
        case let .invalidConfigFile(path, reason): return "\(path): \(reason)"
        case let .checkpoint(path, reason): return "\(path): not a usable checkpoint: \(reason)"
        case let .io(path, reason): return "\(path): \(reason)"
        }
    }
}
