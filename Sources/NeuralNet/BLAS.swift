import COpenBLAS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What OpenBLAS runs on this machine, and the fix for CPUs it does not recognise.
///
/// Debian's OpenBLAS 0.3.21 picks a generic kernel on recent AVX-512 CPUs (4–5× slower sgemm) unless
/// `OPENBLAS_CORETYPE` names an AVX-512 kernel before the library loads; environments that set it to an older
/// core (e.g. `Haswell`) have the same effect. `ensureFastKernel(arguments:)` re-executes the running program
/// once with `OPENBLAS_CORETYPE=SkylakeX` when the CPU has AVX-512F and OpenBLAS runs a kernel without it.
/// `DETECTOR_KEEP_OPENBLAS_CORETYPE=1` keeps whatever the environment chose.
public enum BLASRuntime {
    /// The kernel family OpenBLAS selected, e.g. `SkylakeX`, `Haswell`, `Prescott`.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's build configuration string.
    public static var config: String {
        guard let c = openblas_get_config() else { return "unknown" }
        return String(cString: c)
    }

    /// Number of threads OpenBLAS uses.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// Whether the CPU reports AVX-512F in `/proc/cpuinfo` (false where that file does not exist).
    public static var cpuHasAVX512: Bool {
        // /proc files report size 0, so read them as a stream rather than by their size.
        guard let file = fopen("/proc/cpuinfo", "r") else { return false }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 8192)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            if text.hasPrefix("flags") { return text.contains(" avx512f") }
        }
        return false
    }

    /// Re-executes the current program with `OPENBLAS_CORETYPE=SkylakeX` when OpenBLAS did not pick an
    /// AVX-512 kernel on an AVX-512 CPU. Returns normally when nothing needs doing (or when re-executing
    /// fails, in which case the slower kernel stays in use).
    public static func ensureFastKernel(arguments: [String] = CommandLine.arguments) {
        if getenv("DETECTOR_KEEP_OPENBLAS_CORETYPE") != nil { return }
        // Already re-executed (or set by the user) and still not an AVX-512 kernel: this OpenBLAS lacks it.
        if let set = getenv("OPENBLAS_CORETYPE"), String(cString: set).lowercased() == "skylakex" { return }
        let core = coreName.lowercased()
        if core.contains("skylakex") || core.contains("cooperlake") || core.contains("sapphirerapids") { return }
        guard cpuHasAVX512 else { return }
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
        let path = "/proc/self/exe"
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv(path, &argv)
        // execv returns only on failure: keep running with the kernel we have.
    }
}
