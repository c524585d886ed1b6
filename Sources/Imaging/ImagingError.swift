/// Errors a user can cause when reading or writing images: missing, corrupt or oversized files,
/// unwritable destinations. Every message names the file (or `<memory>` for in-memory data).
public enum ImagingError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or does not start with a valid PNG header (`reason` is libpng's message).
    case unreadable(file: String, reason: String)
    /// The header was valid but decoding the pixels failed (truncated or corrupt data).
    case corrupt(file: String, reason: String)
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
            return "\(file): not a readable PNG file (\(reason))"
        case let .corrupt(file, reason):
            return "\(file): corrupt or truncated PNG data (\(reason))"
        case let .tooLarge(file, width, height, maxPixels):
            return "\(file): PNG header declares \(width)×\(height) = \(width * height) pixels, more than the "
                + "limit of \(maxPixels); pass a larger maxPixels if the image is genuine"
        case let .encodeFailed(file, reason):
            return "\(file): PNG encoding failed (\(reason))"
        case let .writeFailed(file, reason):
            return "\(file): could not write the PNG file (\(reason))"
        }
    }
}
