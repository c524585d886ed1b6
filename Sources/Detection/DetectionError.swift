/// Errors of the Detection module that a user can cause: bad files, bad options, a training run that
/// cannot go on. Messages name the file or value and say what to do.
public enum DetectionError: Error, CustomStringConvertible {
    /// Reading or writing `path` failed.
    case io(String, String)
    /// A checkpoint file is not usable.
    case checkpoint(String, String)
    /// An option has a value that cannot work.
    case invalidOption(String, String)
    /// Training stopped: too many non-finite losses in a row.
    case diverged(String)

    /// The message: the file or option, and what is wrong.
    public var description: String {
        switch self {
        case .io(let path, let why): return "\(path): \(why)"
        case .checkpoint(let path, let why): return "\(path): not a usable checkpoint: \(why)"
        case .invalidOption(let name, let why): return "option \(name): \(why)"
        case .diverged(let why): return "training stopped: \(why)"
        }
    }
}
