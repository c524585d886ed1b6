import Foundation

/// The processes of an `mpirun` job (`MPI_COMM_WORLD`), with the few collectives data-parallel training needs.
///
/// Faults: `MPI_ERRORS_RETURN` is installed on the communicator, so a failed call comes back as a thrown
/// `DistributedError` (the process then exits non-zero and `mpirun` ends the job) instead of MPI's default abort
/// without a message. A peer that dies is noticed by `mpirun`, which kills the other ranks. A peer that hangs is
/// caught by the watchdog: every collective has a deadline (`timeout` seconds, or the call's own), and a process whose
/// collective outlives it prints which call it was in and exits with status 70, which `mpirun` turns into the end of
/// the whole job. Checkpoints are written atomically, so the last one stays intact.
public final class Communicator: @unchecked Sendable {
    /// This process's rank in `0..<size`.
    public let rank: Int
    /// Number of processes.
    public let size: Int
    /// The host name MPI reports for this process.
    public let host: String
    /// Seconds a collective may take before the watchdog ends the job.
    public let timeout: Double
    /// Seconds spent in collectives, and how many, since the start (for the step-time report).
    public private(set) var seconds = 0.0, calls = 0

    private let mpi: MPILibrary
    private let lock = NSLock()
    private var deadline: (Date, String)?

    /// Whether this process was started by Open MPI's `mpirun` (it sets `OMPI_COMM_WORLD_SIZE`), so that
    /// `world()` should be used.
    public static var launchedByMPI: Bool { ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil }

    /// Loads libmpi, calls `MPI_Init`, installs `MPI_ERRORS_RETURN` and starts the watchdog. Call once per process.
    public init(timeout: Double) throws {
        precondition(timeout > 0, "Communicator: timeout must be positive")
        mpi = try MPILibrary()
        try mpi.check(mpi.initialise(nil, nil), "MPI_Init")
        try mpi.check(mpi.setErrhandler(mpi.commWorld, mpi.errorsReturn), "MPI_Comm_set_errhandler")
        var r: Int32 = 0, s: Int32 = 0
        try mpi.check(mpi.commRank(mpi.commWorld, &r), "MPI_Comm_rank")
        try mpi.check(mpi.commSize(mpi.commWorld, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
        host = mpi.hostName()
        self.timeout = timeout
        let watchdog = Thread { [weak self] in
            while let me = self {
                me.checkDeadline()
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        watchdog.name = "MPI watchdog"
        watchdog.start()
    }

    /// Ends the process (status 70) when the current collective is past its deadline.
    private func checkDeadline() {
        lock.lock()
        let d = deadline
        lock.unlock()
        guard let (when, call) = d, Date() > when else { return }
        let message = "error: rank \(rank) on \(host): \(call) did not complete within its deadline; a peer process died "
            + "or hangs. Ending the job (the last checkpoint is intact).\n"
        FileHandle.standardError.write(Data(message.utf8))
        _exit(70)
    }

    /// Runs `body` (one MPI call) under the watchdog's deadline and counts its time.
    private func collective(_ name: String, timeout: Double? = nil, _ body: () -> Int32) throws {
        let start = Date()
        lock.lock()
        deadline = (start.addingTimeInterval(timeout ?? self.timeout), name)
        lock.unlock()
        let code = body()
        lock.lock()
        deadline = nil
        lock.unlock()
        seconds += Date().timeIntervalSince(start)
        calls += 1
        try mpi.check(code, name)
    }

    /// Replaces each element by its sum over all processes (`MPI_Allreduce`, `MPI_IN_PLACE`, `MPI_SUM`).
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = values.baseAddress, !values.isEmpty else { return }
        try collective("MPI_Allreduce(\(values.count) floats)") {
            mpi.allreduce(mpi.inPlace, base, Int32(values.count), mpi.float, mpi.sum, mpi.commWorld)
        }
    }

    /// Replaces each element by its sum over all processes.
    public func sum(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { try sum($0) }
    }

    /// A sum started by `startSum(_:)` and not yet waited for: its buffer belongs to MPI until `wait(_:)` returns.
    public final class PendingSum {
        /// Floats summed.
        public let count: Int
        /// Open MPI's `MPI_Request` (a pointer), null once complete.
        fileprivate var request: UnsafeMutableRawPointer?
        /// Whether `test(_:)` or `wait(_:)` saw it complete.
        public fileprivate(set) var isComplete = false
        fileprivate init(count: Int) { self.count = count }
    }

    /// Starts replacing each element of `values` by its sum over all processes without waiting (`MPI_Iallreduce`,
    /// `MPI_IN_PLACE`, `MPI_SUM`). Every process must start its collectives, blocking or not, in the same order
    /// (MPI-3.1 §5.12), and must not touch `values` until `wait(_:)` returns (the reduction is per element, as the
    /// blocking `MPI_Allreduce`).
    public func startSum(_ values: UnsafeMutableBufferPointer<Float>) throws -> PendingSum {
        let pending = PendingSum(count: values.count)
        let code = mpi.iallreduce(mpi.inPlace, values.baseAddress, Int32(values.count), mpi.float, mpi.sum, mpi.commWorld,
                                  &pending.request)
        try mpi.check(code, "MPI_Iallreduce(\(values.count) floats)")
        return pending
    }

    /// Whether `pending` is complete (`MPI_Test`, which returns at once). Open MPI 4.1's non-blocking collectives
    /// (the `libnbc` component) advance only inside MPI calls, so a caller that wants the sum to progress while it
    /// computes tests now and then.
    public func test(_ pending: PendingSum) throws -> Bool {
        guard !pending.isComplete else { return true }
        var flag: Int32 = 0
        try mpi.check(mpi.test(&pending.request, &flag, nil), "MPI_Test(MPI_Iallreduce of \(pending.count) floats)")
        pending.isComplete = flag != 0
        return pending.isComplete
    }

    /// Waits until `pending` is complete (`MPI_Wait`), under the watchdog's deadline like every blocking collective.
    public func wait(_ pending: PendingSum) throws {
        guard !pending.isComplete else { return }
        try collective("MPI_Wait(MPI_Iallreduce of \(pending.count) floats)") { mpi.wait(&pending.request, nil) }
        pending.isComplete = true
    }

    /// Every process's `values` concatenated in rank order on `root` (`MPI_Gather` of the counts, then
    /// `MPI_Gatherv`); nil on the other processes. Processes may pass different counts (also none).
    public func gather(_ values: [Double], root: Int = 0, timeout: Double? = nil) throws -> [Double]? {
        var mine = Int32(values.count)
        var counts = [Int32](repeating: 0, count: rank == root ? size : 0)
        try counts.withUnsafeMutableBufferPointer { c in
            try collective("MPI_Gather(counts)", timeout: timeout) {
                mpi.gather(&mine, 1, mpi.int32, c.baseAddress, 1, mpi.int32, Int32(root), mpi.commWorld)
            }
        }
        var offsets = [Int32](repeating: 0, count: counts.count)
        var total = 0
        for i in counts.indices {
            guard total + Int(counts[i]) <= Int(Int32.max) else {
                throw DistributedError.invalid("MPI_Gatherv: more than \(Int32.max) values to gather")
            }
            offsets[i] = Int32(total)
            total += Int(counts[i])
        }
        var all = [Double](repeating: 0, count: total)
        try values.withUnsafeBufferPointer { v in
            try all.withUnsafeMutableBufferPointer { a in
                try collective("MPI_Gatherv(\(values.count) doubles)", timeout: timeout) {
                    mpi.gatherv(v.baseAddress, mine, mpi.double, a.baseAddress, counts, offsets, mpi.double, Int32(root),
                                mpi.commWorld)
                }
            }
        }
        return rank == root ? all : nil
    }

    /// Replaces each element by its sum over all processes (in Double, for counts and statistics).
    public func sum(_ values: inout [Double]) throws {
        let n = Int32(values.count)
        try values.withUnsafeMutableBufferPointer { b in
            try collective("MPI_Allreduce(\(n) doubles)") {
                mpi.allreduce(mpi.inPlace, b.baseAddress, n, mpi.double, mpi.sum, mpi.commWorld)
            }
        }
    }

    /// The smallest and the largest `value` over all processes (equal when every process holds the same).
    public func range(_ value: UInt64) throws -> (min: UInt64, max: UInt64) {
        var lo = value, hi = value
        try collective("MPI_Allreduce(min)") { mpi.allreduce(mpi.inPlace, &lo, 1, mpi.uint64, mpi.min, mpi.commWorld) }
        try collective("MPI_Allreduce(max)") { mpi.allreduce(mpi.inPlace, &hi, 1, mpi.uint64, mpi.max, mpi.commWorld) }
        return (lo, hi)
    }

    /// Copies `root`'s values into every process's `values` (`MPI_Bcast`; every process passes the same count).
    public func broadcast(_ values: inout [Float], root: Int = 0) throws {
        let n = Int32(values.count)
        guard n > 0 else { return }
        try values.withUnsafeMutableBufferPointer { b in
            try collective("MPI_Bcast(\(n) floats)") { mpi.bcast(b.baseAddress, n, mpi.float, Int32(root), mpi.commWorld) }
        }
    }

    /// Copies `root`'s values into every process's `values`.
    public func broadcast(_ values: inout [Double], root: Int = 0) throws {
        let n = Int32(values.count)
        guard n > 0 else { return }
        try values.withUnsafeMutableBufferPointer { b in
            try collective("MPI_Bcast(\(n) doubles)") { mpi.bcast(b.baseAddress, n, mpi.double, Int32(root), mpi.commWorld) }
        }
    }

    /// Waits until every process arrives (`MPI_Barrier`), for at most `timeout` seconds (default: the communicator's).
    public func barrier(_ what: String, timeout: Double? = nil) throws {
        try collective("MPI_Barrier(\(what))", timeout: timeout) { mpi.barrier(mpi.commWorld) }
    }

    /// `MPI_Finalize`: call once, after the last collective, on every process.
    public func finalize() {
        _ = mpi.finalize()
    }

    /// Ends every process of the job with `code` (`MPI_Abort`), after a failure that others cannot see.
    public func abort(code: Int32) -> Never {
        _ = mpi.abort(mpi.commWorld, code)
        exit(code)
    }
}
