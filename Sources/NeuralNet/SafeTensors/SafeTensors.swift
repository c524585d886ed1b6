import Foundation

/// Reading and writing the safetensors format (Hugging Face), the checkpoint format of this package.
///
/// Layout: an 8-byte little-endian unsigned header length `N`; `N` bytes of UTF-8 JSON mapping each tensor name to
/// `{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}` (offsets relative to the byte buffer), plus an
/// optional `"__metadata__"` object of string values; then the byte buffer, little-endian. Only `F32` is read
/// and written; other dtypes are reported by name. Files written here pad the header with spaces to a multiple of
/// 8 bytes (as the Python library does), so PyTorch, numpy and the Rust crate read them.
public enum SafeTensors {
    /// The largest header accepted (the Rust reference implementation's limit).
    public static let maximumHeaderLength: UInt64 = 100_000_000

    /// The contents of a safetensors file.
    public typealias Contents = (tensors: [String: Tensor], order: [String], metadata: [String: String])

    /// Reads every tensor of the file at `url`.
    ///
    /// Returns the tensors by name, their names in byte-buffer order, and the `__metadata__` map (empty when absent).
    /// Throws `SafeTensorsError` for anything wrong with the file; never traps on hostile input.
    /// Gaps between tensors in the buffer are tolerated; overlaps are not.
    public static func read(_ url: URL) throws -> Contents {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SafeTensorsError.cannotRead(file: url.path, reason: "\(error.localizedDescription)")
        }
        return try decode(data, file: url.path)
    }

    /// Decodes safetensors bytes already in memory; `file` names the source in error messages.
    public static func decode(_ data: Data, file: String = "<memory>") throws -> Contents {
        let size = data.count, start = data.startIndex
        guard size >= 8 else { throw SafeTensorsError.truncated(file: file, size: size) }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(data[start + i]) << (8 * UInt64(i)) }
        guard length <= maximumHeaderLength, length <= UInt64(size - 8) else {
            throw SafeTensorsError.headerLengthBeyondFile(file: file, headerLength: length, fileSize: size)
        }
        let headerEnd = 8 + Int(length)
        let header = try parseHeader(data.subdata(in: (start + 8)..<(start + headerEnd)), file: file)
        let bufferSize = size - headerEnd

        // Validate every entry before touching the buffer.
        var ranges: [(name: String, begin: Int, end: Int, shape: [Int])] = []
        for (name, entry) in header.entries {
            guard entry.dtype == "F32" else {
                throw SafeTensorsError.unsupportedDType(file: file, tensor: name, dtype: entry.dtype)
            }
            let count = try elementCount(entry.shape, file: file, tensor: name)
            let offsets = entry.dataOffsets
            guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bufferSize else {
                throw SafeTensorsError.offsetsOutOfBuffer(
                    file: file, tensor: name, offsets: offsets, bufferSize: bufferSize)
            }
            let (bytesNeeded, overflow) = count.multipliedReportingOverflow(by: 4)
            guard !overflow, bytesNeeded == offsets[1] - offsets[0] else {
                throw SafeTensorsError.sizeMismatch(
                    file: file, tensor: name, shape: entry.shape,
                    expectedBytes: overflow ? Int.max : bytesNeeded, actualBytes: offsets[1] - offsets[0])
            }
            ranges.append((name, offsets[0], offsets[1], entry.shape))
        }
        ranges.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for i in ranges.indices.dropFirst() where ranges[i].begin < ranges[i - 1].end {
            throw SafeTensorsError.overlapping(file: file, tensor: ranges[i - 1].name, other: ranges[i].name)
        }

        var tensors: [String: Tensor] = [:]
        data.withUnsafeBytes { raw in
            for (name, begin, end, shape) in ranges {
                let values = loadFloats(raw, from: headerEnd + begin, count: (end - begin) / 4)
                tensors[name] = Tensor(shape: shape, data: values)
            }
        }
        return (tensors, ranges.map(\.name), header.metadata)
    }

    /// Element count of `shape`, or a thrown `invalidShape` for negative extents and overflow.
    static func elementCount(_ shape: [Int], file: String, tensor: String) throws -> Int {
        var count = 1
        for extent in shape {
            guard extent >= 0 else {
                throw SafeTensorsError.invalidShape(file: file, tensor: tensor, shape: shape, reason: "negative extent")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow else {
                throw SafeTensorsError.invalidShape(
                    file: file, tensor: tensor, shape: shape, reason: "element count overflows")
            }
            count = product
        }
        return count
    }

    /// `count` little-endian Float32 values starting at byte `offset` of `raw`.
    private static func loadFloats(_ raw: UnsafeRawBufferPointer, from offset: Int, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            #if _endian(little)
            if count > 0 {
                UnsafeMutableRawPointer(out.baseAddress!).copyMemory(
                    from: raw.baseAddress! + offset, byteCount: count * 4)
            }
            #else
            for i in 0..<count {
                let bits = raw.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self)
                out[i] = Float(bitPattern: UInt32(littleEndian: bits))
            }
            #endif
            initialized = count
        }
    }
}
