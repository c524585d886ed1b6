/// What can go wrong reading or writing a safetensors file. Every case names the file, and the tensor when one
/// is at fault, so that a damaged checkpoint says where it is damaged.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or read (missing, unreadable).
    case cannotRead(file: String, reason: String)
    /// The file ends before the 8-byte header length (or before what the header promises).
    case truncated(file: String, size: Int)
    /// The header length in the first 8 bytes points past the end of the file, or above the 100 MB cap.
    case headerLengthBeyondFile(file: String, headerLength: UInt64, fileSize: Int)
    /// The header is not UTF-8 JSON of the expected form; `tensor` is the entry at fault when known.
    case invalidHeader(file: String, tensor: String?, reason: String)
    /// The `__metadata__` entry is not an object of string values.
    case invalidMetadata(file: String, reason: String)
    /// The tensor's dtype is not `F32` (the only one this reader converts).
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// The tensor's shape has a negative extent or an element count that overflows.
    case invalidShape(file: String, tensor: String, shape: [Int], reason: String)
    /// `data_offsets` is not `[begin, end]` with `0 ≤ begin ≤ end ≤` byte-buffer size.
    case offsetsOutOfBuffer(file: String, tensor: String, offsets: [Int], bufferSize: Int)
    /// The byte range's length differs from `shape` product × dtype size.
    case sizeMismatch(file: String, tensor: String, shape: [Int], expectedBytes: Int, actualBytes: Int)
    /// Two tensors' byte ranges overlap.
    case overlapping(file: String, tensor: String, other: String)
    /// A tensor name given to `write` is empty, reserved (`__metadata__`) or repeated.
    case invalidName(file: String, tensor: String, reason: String)
    /// The file could not be written (folder missing, disk full, permissions).
    case cannotWrite(file: String, reason: String)
    /// A parameter being loaded has no tensor of its name in the file.
    case missingTensor(file: String, tensor: String)
    /// A tensor's shape differs from the shape of the parameter it is loaded into.
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    /// A strict load found a tensor that no parameter takes.
    case unexpectedTensor(file: String, tensor: String)

    /// A sentence naming the file, the tensor and what is wrong.
    public var description: String {
        switch self {
        case let .cannotRead(file, reason):
            return "safetensors \(file): cannot read: \(reason)"
        case let .truncated(file, size):
            return "safetensors \(file): truncated (\(size) bytes); the file is incomplete, write it again"
        case let .headerLengthBeyondFile(file, length, size):
            return "safetensors \(file): header length \(length) exceeds the file (\(size) bytes) or the 100 MB cap;"
                + " the file is truncated or not safetensors"
        case let .invalidHeader(file, tensor, reason):
            let which = tensor.map { " entry \"\($0)\"" } ?? ""
            return "safetensors \(file): invalid JSON header\(which): \(reason)"
        case let .invalidMetadata(file, reason):
            return "safetensors \(file): invalid __metadata__: \(reason)"
        case let .unsupportedDType(file, tensor, dtype):
            return "safetensors \(file): tensor \"\(tensor)\" has dtype \(dtype); only F32 is supported,"
                + " convert it to float32 before saving"
        case let .invalidShape(file, tensor, shape, reason):
            return "safetensors \(file): tensor \"\(tensor)\" has invalid shape \(shape): \(reason)"
        case let .offsetsOutOfBuffer(file, tensor, offsets, size):
            return "safetensors \(file): tensor \"\(tensor)\" data_offsets \(offsets) lie outside the"
                + " \(size)-byte buffer"
        case let .sizeMismatch(file, tensor, shape, expected, actual):
            return "safetensors \(file): tensor \"\(tensor)\" of shape \(shape) needs \(expected) bytes but its"
                + " data_offsets span \(actual)"
        case let .overlapping(file, tensor, other):
            return "safetensors \(file): tensors \"\(tensor)\" and \"\(other)\" overlap in the byte buffer"
        case let .invalidName(file, tensor, reason):
            return "safetensors \(file): cannot write tensor \"\(tensor)\": \(reason)"
        case let .cannotWrite(file, reason):
            return "safetensors \(file): cannot write: \(reason)"
        case let .missingTensor(file, tensor):
            return "safetensors \(file): no tensor \"\(tensor)\"; the checkpoint belongs to a different model"
                + " configuration"
        case let .shapeMismatch(file, tensor, expected, found):
            return "safetensors \(file): tensor \"\(tensor)\" has shape \(found) but the model expects \(expected);"
                + " the checkpoint belongs to a different model configuration"
        case let .unexpectedTensor(file, tensor):
            return "safetensors \(file): tensor \"\(tensor)\" matches no parameter of the model"
        }
    }
}
