import Foundation
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

extension SafeTensors {
    /// Writes `tensors` (F32, in the given order) and `metadata` to `url`, atomically: the bytes go to a
    /// temporary file in the same folder, which is flushed to disk (`fsync`) and then renamed over `url`, so a
    /// crash leaves either the old file or the new one, never a torn one.
    ///
    /// Names must be non-empty, unique and not `__metadata__`. Throws `SafeTensorsError.invalidName` or
    /// `.cannotWrite`.
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL
    ) throws {
        let bytes = try encode(tensors, metadata: metadata, file: url.path)
        try writeAtomically(bytes, to: url)
    }

    /// The safetensors bytes of `tensors` and `metadata` (what `write` puts in the file); `file` names the
    /// destination in error messages.
    public static func encode(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], file: String = "<memory>"
    ) throws -> Data {
        var seen = Set<String>()
        for (name, _) in tensors {
            if name.isEmpty { throw SafeTensorsError.invalidName(file: file, tensor: name, reason: "empty name") }
            if name == metadataKey {
                throw SafeTensorsError.invalidName(file: file, tensor: name, reason: "the name is reserved")
            }
            if !seen.insert(name).inserted {
                throw SafeTensorsError.invalidName(file: file, tensor: name, reason: "the name appears twice")
            }
        }
        let header = encodeHeader(tensors.map { ($0.name, $0.tensor.shape) }, metadata: metadata)
        let payload = tensors.reduce(0) { $0 + 4 * $1.tensor.count }
        var data = Data(capacity: 8 + header.count + payload)
        var length = UInt64(header.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for (_, tensor) in tensors {
            #if _endian(little)
            tensor.data.withUnsafeBytes { data.append(contentsOf: $0) }
            #else
            for v in tensor.data {
                var bits = v.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
            }
            #endif
        }
        return data
    }

    /// Bytes per `write(2)` of `writeAtomically`.
    static let writeChunk = 1 << 20

    /// Called after each chunk `writeAtomically` writes, with the temporary file, the bytes written so far and the
    /// total: fault injection (a kill in the middle of a checkpoint write, `Training.KillPoint`). Nil otherwise.
    nonisolated(unsafe) public static var writeObserver: ((_ temporary: URL, _ written: Int, _ total: Int) -> Void)?

    /// Writes `bytes` to a temporary sibling of `url`, fsyncs it, renames it over `url`, and fsyncs the folder.
    static func writeAtomically(_ bytes: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        func failure(_ what: String) -> SafeTensorsError {
            .cannotWrite(file: url.path, reason: "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw failure("cannot create \(temporary.lastPathComponent)") }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                var done = 0
                while done < raw.count {
                    let n = systemWrite(fd, raw.baseAddress! + done, min(raw.count - done, writeChunk))
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw failure("write failed")
                    }
                    if n == 0 { errno = ENOSPC; throw failure("write failed") }
                    done += n
                    writeObserver?(temporary, done, raw.count)
                }
            }
            guard fsync(fd) == 0 else { throw failure("fsync failed") }
            closed = true
            guard close(fd) == 0 else { throw failure("close failed") }
            guard rename(temporary.path, url.path) == 0 else { throw failure("rename failed") }
        } catch {
            unlink(temporary.path)
            throw error
        }
        // Make the rename itself durable; failure here does not undo a completed write.
        let dirfd = open(folder.path, O_RDONLY)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }
}
