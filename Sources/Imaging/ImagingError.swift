import Foundation

/// Errors a user can cause when reading or writing images: missing, corrupt or oversized files,
/// unwritable destinations. Every message names the file (or `<memory>` for in-memory data).
public enum ImagingError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or its header is not valid (`reason` is libpng's or libjpeg-turbo's message).
    case unreadable(file: String, reason: String)
    /// The header was valid but decoding the pixels failed (truncated or corrupt data).
    case corrupt(file: String, reason: String)
    /// The file holds no bytes.
    case emptyFile(file: String)
    /// The bytes are neither PNG nor JPEG (whatever the file's name says); `firstBytes` are the first up to 8.
    case unrecognized(file: String, firstBytes: [UInt8])
    /// The data stops before the image ends (a JPEG without its end-of-image marker).
    case truncated(file: String, reason: String)
    /// The header declares more pixels than the caller allows (a guard against decompression bombs).
    case tooLarge(file: String, width: Int, height: Int, maxPixels: Int)
    /// libpng refused to encode the pixels.
    case encodeFailed(file: String, reason: String)
    /// The encoded bytes could not be written to the destination.
    case writeFailed(file: String, reason: String)

    /// A one-line message naming the file and what went wrong.
    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): not a readable image file (\(reason))"
        case let .corrupt(file, reason):
            return "\(file): corrupt or truncated image data (\(reason))"
        case let .emptyFile(file):
            return "\(file): empty file (0 bytes), not an image"
        case let .unrecognized(file, bytes):
            let hex = bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
            let text = bytes.allSatisfy { (0x20..<0x7F).contains($0) || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
            return "\(file): neither PNG nor JPEG (starts with \(hex)\(text ? ", which looks like text" : ""))"
        case let .truncated(file, reason):
            return "\(file): truncated image (\(reason))"
        case let .tooLarge(file, width, height, maxPixels):
            return "\(file): image header declares \(width)×\(height) = \(width * height) pixels, more than the "
                + "limit of \(maxPixels); pass a larger maxPixels if the image is genuine"
        case let .encodeFailed(file, reason):
            return "\(file): PNG encoding failed (\(reason))"
        case let .writeFailed(file, reason):
            return "\(file): could not write the PNG file (\(reason))"
        }
    }
}
