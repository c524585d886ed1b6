import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

extension Fixtures {
    /// A new empty tmpfs of `bytes` (rounded up to pages) mounted in a temporary folder, unmounted when the running
    /// test case finishes: a disk that fills. Skips the test unless the process may mount (root) and `mount` works.
    public static func smallFileSystem(bytes: Int) throws -> URL {
        guard getuid() == 0 else { throw XCTSkip("a full-disk test mounts a tmpfs, which needs root") }
        let folder = try temporaryDirectory().appendingPathComponent("fs")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let status = run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", folder.path])
        guard status == 0 else { throw XCTSkip("mount -t tmpfs failed (status \(status)); no full-disk test here") }
        // Unmounted before its temporary folder is removed (cleanup runs last-added first).
        TestCaseCleanup.shared.add { _ = run("/bin/umount", ["-l", folder.path]) }
        return folder
    }

    /// Fills the file system holding `folder` with `filler` until a write fails with `ENOSPC`; returns the bytes
    /// written. Slack in the last page of files already there is left free.
    @discardableResult
    public static func fill(_ folder: URL, name: String = "filler") -> Int {
        let fd = open(folder.appendingPathComponent(name).path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        defer { close(fd) }
        let block = [UInt8](repeating: 0x55, count: 4096)
        var total = 0
        for size in [4096, 1] {
            while true {
                let n = block.withUnsafeBytes { write(fd, $0.baseAddress, size) }
                if n <= 0 { break }
                total += n
            }
        }
        return total
    }

    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}
