import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Wall-time accounting by named category, for benchmarks: where does a training step spend its time?
///
/// Disabled by default; then `measure` is one check of `isEnabled` and a direct call of its body. When enabled
/// (`start()`), every `measure(name)` adds its wall seconds and one call to an entry keyed by a path:
/// - measurements made by the thread that drives the step nest: `measure("gemm")` inside `measure("conv")`
///   is recorded under `conv/gemm`, one outside any other under `gemm`; each path's seconds are inclusive
///   (they contain the seconds of the paths below it);
/// - inside `concurrentPerform`, which splits work over the cores, measurements made by the workers are leaves
///   under the path open when the region began. Their thread-seconds are turned into wall seconds by the share
///   of the region's worker thread-seconds they took: `wall(region) · Σ leaf thread-seconds / Σ worker
///   thread-seconds`. So two workers that each spend 80 % of a 10 ms region in sgemm account 8 ms, not 16.
///
/// Each thread that drives kernels has its own nesting (data-parallel replicas drive one each, and their seconds
/// add up: thread-seconds, not wall seconds); inside a driving thread only `concurrentPerform` runs kernels on
/// several threads, and such regions neither nest nor run while another thread drives kernels (replicas run their
/// loops serially). Shared state is guarded by a lock, taken only when enabled.
/// Seconds come from the monotonic clock (`DispatchTime`).
public enum TimeAccounting {
    /// Category of `Conv2D.forward` and `Conv2D.backward` (whole layer).
    public static let conv = "conv"
    /// Category of `GEMM.sgemm` and `GEMM.bf16gemm`.
    public static let gemm = "gemm"
    /// Category of the set criterion's matching (cost matrices and assignments), recorded with `add`.
    public static let matching = "matching"

    /// Seconds and calls accumulated under one path.
    public struct Entry: Sendable, Equatable {
        /// Wall seconds (inclusive of nested paths).
        public var seconds = 0.0
        /// Number of measurements.
        public var calls = 0
    }

    /// Whether measurements are recorded. Set only while no kernel runs (it is read without synchronisation).
    nonisolated(unsafe) public private(set) static var isEnabled = false

    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var entries: [String: Entry] = [:]
        /// Paths of the open (nesting) measurements of each driving thread (by `pthread_self`), innermost last.
        var open: [UInt: [String]] = [:]
        /// The concurrent region in progress: leaf thread-seconds by path, worker thread-seconds, and the path open
        /// on the thread that started it.
        var regionLeaves: [String: Entry]? = nil
        var regionParent: String? = nil
        var regionThreadSeconds = 0.0
    }

    private static let state = State()

    /// Clears every entry and enables recording.
    public static func start() {
        reset()
        isEnabled = true
    }

    /// Disables recording; the entries stay readable.
    public static func stop() { isEnabled = false }

    /// Clears every entry (recording stays as it is).
    public static func reset() {
        state.lock.lock()
        state.entries = [:]
        state.open = [:]
        state.regionLeaves = nil
        state.regionParent = nil
        state.regionThreadSeconds = 0
        state.lock.unlock()
    }

    /// A copy of every entry by path (`conv`, `conv/gemm`, `gemm`, …).
    public static var entries: [String: Entry] {
        state.lock.lock(); defer { state.lock.unlock() }
        return state.entries
    }

    /// Seconds recorded under `path` (0 when none).
    public static func seconds(_ path: String) -> Double { entries[path]?.seconds ?? 0 }

    /// Runs `body`, adding its wall time to category `name` (nested under the open measurement) when enabled.
    @inlinable
    public static func measure<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        guard isEnabled else { return try body() }
        return try measureEnabled(name, body)
    }

    @usableFromInline
    static func measureEnabled<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        let s = state
        let thread = threadID()
        s.lock.lock()
        let leaf = s.regionLeaves != nil
        let parent = leaf ? s.regionParent : s.open[thread]?.last
        let path = parent.map { $0 + "/" + name } ?? name
        if !leaf { s.open[thread, default: []].append(path) }
        s.lock.unlock()
        let t0 = now()
        defer {
            let dt = now() - t0
            s.lock.lock()
            if leaf {
                s.regionLeaves?[path, default: Entry()].seconds += dt
                s.regionLeaves?[path, default: Entry()].calls += 1
            } else {
                s.open[thread]?.removeLast()
                s.entries[path, default: Entry()].seconds += dt
                s.entries[path, default: Entry()].calls += 1
            }
            s.lock.unlock()
        }
        return try body()
    }

    /// Adds `seconds` (measured elsewhere) and one call to category `name`, nested under the open measurement;
    /// nothing when disabled.
    public static func add(_ name: String, seconds: Double) {
        guard isEnabled else { return }
        let s = state, thread = threadID()
        s.lock.lock()
        let path = s.open[thread]?.last.map { $0 + "/" + name } ?? name
        s.entries[path, default: Entry()].seconds += seconds
        s.entries[path, default: Entry()].calls += 1
        s.lock.unlock()
    }

    /// `DispatchQueue.concurrentPerform(iterations:execute:)`, accounting the workers' measurements as
    /// described above when enabled.
    public static func concurrentPerform(iterations: Int, _ body: (Int) -> Void) {
        guard isEnabled else {
            DispatchQueue.concurrentPerform(iterations: iterations, execute: body)
            return
        }
        let s = state, thread = threadID()
        s.lock.lock()
        precondition(s.regionLeaves == nil, "TimeAccounting: concurrent regions do not nest")
        s.regionLeaves = [:]
        s.regionParent = s.open[thread]?.last
        s.regionThreadSeconds = 0
        s.lock.unlock()
        let t0 = now()
        DispatchQueue.concurrentPerform(iterations: iterations) { i in
            let w0 = now()
            body(i)
            let dt = now() - w0
            s.lock.lock()
            s.regionThreadSeconds += dt
            s.lock.unlock()
        }
        let wall = now() - t0
        s.lock.lock()
        let threadSeconds = s.regionThreadSeconds
        for (path, leaf) in s.regionLeaves ?? [:] {
            let share = threadSeconds > 0 ? min(1, leaf.seconds / threadSeconds) : 0
            s.entries[path, default: Entry()].seconds += wall * share
            s.entries[path, default: Entry()].calls += leaf.calls
        }
        s.regionLeaves = nil
        s.regionParent = nil
        s.lock.unlock()
    }

    /// The calling thread's identity, keying its nesting.
    static func threadID() -> UInt { UInt(pthread_self()) }

    /// Seconds on the monotonic clock.
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
}
