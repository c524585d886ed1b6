import CKernels
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The process heap as an arena reused from training step to training step, and the counters that show it.
///
/// A training step allocates its activations, gradients and scratch tiles afresh (Swift arrays). With glibc's
/// defaults every block above the dynamic mmap threshold (128 KiB to 32 MiB) is mmap'd, unmapped when freed and
/// faulted in again page by page on the next step: millions of minor page faults and seconds of system time per
/// minute of training. `configure()` turns that off (no mmap for large blocks, freed memory kept, one arena
/// for every thread), so a steady-state step reuses the pages of the step before and makes no page faults; the
/// resident size stays at the peak of one step. `DETECTOR_SYSTEM_ALLOCATOR=1` keeps glibc's defaults (to compare).
public enum MemoryArena {
    nonisolated(unsafe) private static var configured = false

    /// Applies the arena settings once per process; call it before other threads start. Returns whether they
    /// are in effect (false with `DETECTOR_SYSTEM_ALLOCATOR=1`, a C library without `mallopt`, or under
    /// AddressSanitizer or ThreadSanitizer, whose allocators replace glibc's).
    @discardableResult
    public static func configure() -> Bool {
        if configured { return true }
        if getenv("DETECTOR_SYSTEM_ALLOCATOR") != nil { return false }
        configured = ck_configure_heap_arena() == 1
        return configured
    }

    /// Whether `configure()` is in effect.
    public static var isConfigured: Bool { configured }
}

/// The process's resource counters from `getrusage(RUSAGE_SELF)`: page faults and CPU time, all threads.
public struct ResourceUsage: Sendable, Equatable {
    /// Page faults served without I/O (first touch of a fresh page) and with I/O.
    public var minorFaults, majorFaults: Int
    /// CPU seconds in user mode and in the kernel, summed over threads.
    public var userSeconds, systemSeconds: Double

    /// The counters now.
    public static func now() -> ResourceUsage {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return ResourceUsage(minorFaults: u.ru_minflt, majorFaults: u.ru_majflt,
                             userSeconds: seconds(u.ru_utime), systemSeconds: seconds(u.ru_stime))
    }

    /// Counter differences `self − earlier`.
    public func since(_ earlier: ResourceUsage) -> ResourceUsage {
        ResourceUsage(minorFaults: minorFaults - earlier.minorFaults, majorFaults: majorFaults - earlier.majorFaults,
                      userSeconds: userSeconds - earlier.userSeconds, systemSeconds: systemSeconds - earlier.systemSeconds)
    }

    /// User + system CPU seconds.
    public var cpuSeconds: Double { userSeconds + systemSeconds }
}
