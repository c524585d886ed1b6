import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT / SIGTERM turned into a flag the trainer checks between steps: the step in flight finishes, a
/// checkpoint is saved, and the run exits. A second signal while stopping ends the process at once.
public enum StopSignal {
    nonisolated(unsafe) private static var count: sig_atomic_t = 0

    /// Whether a stop was requested since `install()`.
    public static var requested: Bool { count > 0 }

    /// Installs the handlers for SIGINT and SIGTERM.
    public static func install() {
        count = 0
        let handler: @convention(c) (Int32) -> Void = { sig in
            StopSignal.count += 1
            if StopSignal.count > 1 {
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }

    /// Restores the default handlers.
    public static func uninstall() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
