import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Splitting loops over the machine's cores with `DispatchQueue.concurrentPerform`.
///
/// Work below `minimumWork` elements runs on the calling thread: dispatching costs tens of microseconds.
public enum Parallel {
    /// Number of worker chunks used: this thread's own count while `withWorkers` runs on it, else the process-wide
    /// count (the active processor count, at least 1). Setting it sets the process-wide count; do so before
    /// training starts (e.g. to 1 for bit-exact single-threaded runs): it is read, not synchronised, by the kernels.
    public static var workers: Int {
        get {
            if let p = pthread_getspecific(threadWorkersKey) { return Int(bitPattern: p) }
            return processWorkers
        }
        set { processWorkers = max(1, newValue) }
    }

    nonisolated(unsafe) private static var processWorkers = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// The thread-specific worker count of `withWorkers`, stored as the pointer's bit pattern (unset: nil).
    private static let threadWorkersKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create failed (\(status))")
        return key
    }()

    /// Runs `body` with `workers` equal to `count` on the calling thread only (other threads keep theirs), then
    /// restores the thread's previous setting. Data-parallel replicas run each shard's step under
    /// `withWorkers(1)`, so that the kernels' loops stay on the replica's own thread.
    public static func withWorkers<R>(_ count: Int, _ body: () throws -> R) rethrows -> R {
        precondition(count >= 1, "Parallel.withWorkers: count must be positive, got \(count)")
        let previous = pthread_getspecific(threadWorkersKey)
        pthread_setspecific(threadWorkersKey, UnsafeRawPointer(bitPattern: count))
        defer { pthread_setspecific(threadWorkersKey, previous) }
        return try body()
    }

    /// Calls `body` on disjoint contiguous sub-ranges covering `0..<count`, concurrently when
    /// `count · workPerItem ≥ minimumWork` and more than one core is available.
    @inlinable
    public static func forEachChunk(
        _ count: Int, workPerItem: Int = 1, minimumWork: Int = 1 << 15, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let chunks = min(workers, count)
        if chunks <= 1 || count * workPerItem < minimumWork {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// A pointer that may be captured by the concurrent closures of `Parallel` (the caller guarantees that
/// workers touch disjoint elements).
@usableFromInline
struct SharedPointer<T>: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<T>
    @usableFromInline init(_ base: UnsafeMutablePointer<T>) { self.base = base }
}
