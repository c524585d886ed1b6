extension BLASRuntime {
    /// Runs `body` with OpenBLAS limited to one thread, so that several threads can each run their own
    /// single-threaded products side by side; restores the previous thread count afterwards.
    public static func withSingleThread<R>(_ body: () throws -> R) rethrows -> R {
        let previous = threads
        if previous == 1 { return try body() }
        threads = 1
        defer { threads = previous }
        return try body()
    }
}
