/// Errors of a training run a user can cause: a setting that cannot work, a resume that would change the
/// checkpoint's network, files that cannot be read or written, a run that diverged. Settings are named by their key
/// in `TrainSettings`, `TrainOptions` or `DetectorConfig` (`learningRate`, `data`, `inputSize`, …); the command line
/// maps a key to the flag that sets it.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The setting `key` has a value that cannot work.
    case invalidSetting(key: String, reason: String)
    /// `--resume`: the setting `key` would change the network stored in the checkpoint at `path`.
    case resumeConflict(key: String, path: String, reason: String)
    /// The configuration file `path` is not valid (unknown keys, wrong types).
    case invalidConfigFile(path: String, reason: String)
    /// Reading or writing `path` failed.
    case io(path: String, reason: String)
    /// Training stopped: too many non-finite losses in a row.
    case diverged(String)
    /// The run folder `path` is being written by a live training run (`holder`: its pid and start time).
    case folderInUse(path: String, holder: String)

    /// The message: the setting or file, and what is wrong.
    public var description: String {
        switch self {
        case let .invalidSetting(key, reason): return "setting \(key): \(reason)"
        case let .resumeConflict(key, path, reason):
            return "setting \(key): \(reason); \(path) keeps the network it was trained with (start a new run to change it)"
        case let .invalidConfigFile(path, reason): return "\(path): \(reason)"
        case let .io(path, reason): return "\(path): \(reason)"
        case let .diverged(why): return "training stopped: \(why)"
        case let .folderInUse(path, holder):
            return "\(path) is in use by another detector train (\(holder)); wait for it to end, stop it, or choose another --out"
        }
    }

    /// The setting the error is about, if any.
    public var settingKey: String? {
        switch self {
        case let .invalidSetting(key, _), let .resumeConflict(key, _, _): return key
        default: return nil
        }
    }
}
