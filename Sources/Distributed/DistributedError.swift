/// What can go wrong in a data-parallel run.
public enum DistributedError: Error, CustomStringConvertible {
    /// libmpi could not be opened (each candidate's `dlerror`).
    case libraryMissing(String)
    /// libmpi lacks a symbol this package needs (not Open MPI 4.x?).
    case symbolMissing(library: String, symbol: String)
    /// An MPI call returned an error (with `MPI_ERRORS_RETURN` installed on `MPI_COMM_WORLD`).
    case call(name: String, code: Int, message: String)
    /// The processes disagree about something that must be identical (weights, settings, data).
    case mismatch(String)
    /// A setting that cannot work with this many processes.
    case invalid(String)

    public var description: String {
        switch self {
        case let .libraryMissing(reasons):
            return "cannot load Open MPI's libmpi (\(reasons)); install it with `apt-get install openmpi-bin libopenmpi-dev` "
                + "or set DETECTOR_LIBMPI to the library's path"
        case let .symbolMissing(library, symbol):
            return "\(library) has no symbol \(symbol); data-parallel training needs Open MPI 4.x (libmpi.so.40)"
        case let .call(name, code, message): return "\(name) failed (MPI error \(code)): \(message)"
        case let .mismatch(what): return "processes disagree: \(what)"
        case let .invalid(what): return what
        }
    }
}
