import Foundation

/// How many in-process replicas train each batch (`ReplicaStep`): `auto` or a fixed count (`--replicas`).
///
/// `auto` is one replica per thread (`--threads`, else the active cores) when the batch divides evenly among them,
/// else 1; under `mpirun` it is 1 (each process is one replica). Two processes with one thread each trained 1.34×
/// faster than one with two threads on two idle cores (`tools/bench-data-parallel`), and replicas do their work in
/// one process. A fixed count of 1 is the one-network path, threaded inside each operation.
public enum ReplicaCount: Equatable, Sendable, LosslessStringConvertible {
    /// One replica per thread when the batch divides among them, else 1; 1 under `mpirun`.
    case auto
    /// This many replicas (at least 1, at most the batch size).
    case fixed(Int)

    /// `auto`, or a positive count written in decimal.
    public init?(_ description: String) {
        if description == "auto" { self = .auto; return }
        guard let n = Int(description), n >= 1 else { return nil }
        self = .fixed(n)
    }

    /// `auto` or the count.
    public var description: String {
        switch self {
        case .auto: return "auto"
        case let .fixed(n): return String(n)
        }
    }

    /// The replicas of a run with `threads` threads (nil: the active cores) and batches of `batchSize` images, in a
    /// process of an `mpirun` job or not (`underMPI`).
    public func resolved(threads: Int?, batchSize: Int, underMPI: Bool) -> Int {
        switch self {
        case let .fixed(n): return n
        case .auto:
            let t = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
            return !underMPI && t > 1 && batchSize % t == 0 ? t : 1
        }
    }

    /// Throws `TrainingError.invalidSetting` (key `replicas`) unless `count` replicas can split batches of
    /// `batchSize` images, in a process of an `mpirun` job or not.
    public static func check(_ count: Int, batchSize: Int, underMPI: Bool) throws {
        guard count >= 1 else { throw TrainingError.invalidSetting(key: "replicas", reason: "must be positive, got \(count)") }
        guard count <= batchSize else {
            throw TrainingError.invalidSetting(key: "replicas", reason: "\(count) replicas cannot split a batch of \(batchSize) images")
        }
        guard count == 1 || !underMPI else {
            throw TrainingError.invalidSetting(key: "replicas", reason: "\(count) replicas per process under mpirun: "
                + "give --replicas 1 (each process is one replica) and start more processes instead")
        }
    }
}
