import Foundation
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Whole-file writes that a kill, a crash or a full disk cannot tear: the bytes go to a temporary sibling
/// (`.<name>.<uuid>.tmp`), which is written with `write(2)`, flushed with `fsync(2)` and renamed over the
/// destination. Any failure (`ENOSPC`, `EDQUOT`, `EIO`) removes the temporary file and throws, leaving the previous
/// file as it was.
public enum DurableFile {
    /// Writes `data` to `url` atomically; throws `ReportingError.io` naming `url` and the system's reason.
    public static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        func failure(_ what: String, _ code: Int32 = errno) -> ReportingError {
            .io(path: url.path, reason: "\(what): \(String(cString: strerror(code)))")
        }
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create a temporary file in \(folder.path)") }
        do {
            try writeAll(fd, data, failure: { failure("cannot write", $0) })
            guard fsync(fd) == 0 else { throw failure("cannot flush") }
            let closed = close(fd)
            guard closed == 0 else { throw failure("cannot close") }
            guard rename(temporary.path, url.path) == 0 else { throw failure("cannot rename the temporary file") }
        } catch {
            close(fd)  // harmless EBADF after a successful close
            unlink(temporary.path)
            throw error
        }
    }

    /// Writes all of `data` to `fd` (retrying short writes and `EINTR`); on an error throws `failure(errno)`.
    static func writeAll(_ fd: Int32, _ data: Data, failure: (Int32) -> Error) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.baseAddress else { return }
            var done = 0
            while done < raw.count {
                let n = systemWrite(fd, base + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failure(errno)
                }
                if n == 0 { throw failure(ENOSPC) }
                done += n
            }
        }
    }
}
