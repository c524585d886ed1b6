import Foundation

/// Splitting loops over the machine's cores with `DispatchQueue.concurrentPerform`.
///
/// Work below `minimumWork` elements runs on the calling thread: dispatching costs tens of microseconds.
public enum Parallel {
    /// Number of worker chunks used (the active processor count, at least 1). Set it before training starts
    /// (e.g. to 1 for bit-exact single-threaded runs); it is read, not synchronised, by the kernels.
    nonisolated(unsafe) public static var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

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
