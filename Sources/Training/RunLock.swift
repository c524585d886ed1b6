import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One run folder, one writer: an exclusive `flock(2)` on `<run folder>/train.lock`, held while a training run
/// writes the folder. The kernel drops the lock when its process ends however it ends (`kill -9`, a crash, a power
/// cut), so a dead run never leaves the folder stuck: the file stays behind, the lock does not. A second run into the
/// folder, new or `--resume`d, fails at once with `TrainingError.folderInUse` naming the holder's process id.
///
/// The lock file holds the holder's `pid` and start time as text, for the message only; the lock itself is the
/// `flock`, not the file's presence or contents.
public final class RunLock {
    /// The lock file.
    public let url: URL
    private var fd: Int32

    /// The name of the lock file in a run folder.
    public static let fileName = "train.lock"

    /// Takes the lock of `folder` (created when missing); throws `TrainingError.folderInUse` when a live process
    /// holds it, `TrainingError.io` when the file cannot be opened.
    public init(folder: URL) throws {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw TrainingError.io(path: folder.path, reason: "cannot create the run folder: \(error.localizedDescription)")
        }
        url = folder.appendingPathComponent(Self.fileName)
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw TrainingError.io(path: url.path, reason: "cannot open the run lock: \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let code = errno
            let holder = Self.holder(fd)
            close(fd)
            fd = -1
            guard code == EWOULDBLOCK else {
                throw TrainingError.io(path: url.path, reason: "cannot lock the run folder: \(String(cString: strerror(code)))")
            }
            throw TrainingError.folderInUse(path: folder.path, holder: holder)
        }
        let stamp = "pid \(getpid()) since \(ISO8601DateFormatter().string(from: Date()))\n"
        _ = ftruncate(fd, 0)
        _ = stamp.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { release() }

    /// Removes the temporary files (`.<name>.<uuid>.tmp`) that a killed writer left in the locked folder and returns
    /// their names. Only the lock holder may call it: no other process writes the folder.
    public func removeStaleTemporaries() -> [String] {
        let folder = url.deletingLastPathComponent()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let stale = names.filter { $0.hasPrefix(".") && $0.hasSuffix(".tmp") }.sorted()
        for name in stale { unlink(folder.appendingPathComponent(name).path) }
        return stale
    }

    /// Whether this object still holds the lock.
    public var isHeld: Bool { fd >= 0 }

    /// Drops the lock (also done when the object goes away or the process ends). The file stays.
    public func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    /// What the holder wrote into the lock file (`pid N since …`), or `another process` when it is empty.
    static func holder(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 128)
        let n = pread(fd, &buffer, buffer.count, 0)
        let text = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        return text.isEmpty ? "another process" : text
    }
}
