import Foundation

/// The file formats Imaging decodes, recognised by their first bytes (never by the file name's extension).
public enum ImageFormat: String, Sendable, CaseIterable {
    /// PNG: the 8-byte signature `89 50 4E 47 0D 0A 1A 0A`.
    case png
    /// JPEG (JFIF, Exif or bare): the start-of-image marker `FF D8` followed by another marker `FF`.
    case jpeg

    /// The format whose signature `bytes` start with, or nil.
    public static func sniff<C: Collection>(_ bytes: C) -> ImageFormat? where C.Element == UInt8 {
        let head = Array(bytes.prefix(8))
        if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF { return .jpeg }
        return nil
    }
}

/// How to decode: the pixel limit and, for formats that can decode at a reduced size, the smallest size needed.
public struct DecodeOptions: Sendable, Equatable {
    /// Upper bound on the full-size `width × height` declared by the header, checked before any pixel buffer is
    /// allocated. Default `PNG.defaultMaxPixels` (64 Mi pixels).
    public var maxPixels: Int
    /// When set, the longer side of the decoded image may be as small as this: JPEG decoding then picks the
    /// smallest DCT scaling factor (1/8, 1/4, 1/2 or 1, from `tjGetScalingFactors`) whose longer side
    /// `⌈L · num / denom⌉` is still at least `minimumLongSide`. Nil (the default) decodes at full size; PNG always
    /// decodes at full size.
    public var minimumLongSide: Int?

    /// Options with the given limit and reduced-size target.
    public init(maxPixels: Int = PNG.defaultMaxPixels, minimumLongSide: Int? = nil) {
        self.maxPixels = maxPixels
        self.minimumLongSide = minimumLongSide
    }
}

/// A decoded picture with what the decoder knows about it.
public struct DecodedImage: Sendable {
    /// The pixels, 8-bit RGB, upright (EXIF orientation applied), possibly reduced (see `scale`).
    public var image: Image
    /// The full-resolution size after orientation: the pixel space annotations refer to.
    public var originalWidth: Int, originalHeight: Int
    /// The format read.
    public var format: ImageFormat
    /// The DCT scaling factor used, as `(num, denom)`; `(1, 1)` for full size.
    public var scale: (num: Int, denom: Int)
    /// The EXIF orientation tag found (1…8), 1 when absent.
    public var orientation: Int
    /// Recoverable problems the decoder reported (libjpeg-turbo warnings such as corrupt entropy data); the pixels
    /// were decoded all the same. Empty for a clean file.
    public var warnings: [String]
}

/// Reading image files of any supported format: the bytes are sniffed and passed to `PNG` or `JPEG`.
public enum ImageFile {
    /// Reads and decodes `url` (see `DecodeOptions`). Errors name the file: `ImagingError.emptyFile`,
    /// `.unrecognized` (neither PNG nor JPEG), `.unreadable`, `.tooLarge`, `.corrupt`, `.truncated`.
    public static func decode(_ url: URL, options: DecodeOptions = DecodeOptions()) throws -> DecodedImage {
        try decode(data: bytes(of: url), name: url.path, options: options)
    }

    /// Decodes bytes held in memory; `name` is used in error messages.
    public static func decode(data: [UInt8], name: String, options: DecodeOptions = DecodeOptions()) throws
        -> DecodedImage
    {
        guard !data.isEmpty else { throw ImagingError.emptyFile(file: name) }
        switch ImageFormat.sniff(data) {
        case .png:
            let image = try PNG.read(data: data, name: name, maxPixels: options.maxPixels)
            return DecodedImage(image: image, originalWidth: image.width, originalHeight: image.height, format: .png,
                                scale: (1, 1), orientation: 1, warnings: [])
        case .jpeg:
            return try JPEG.decode(data: data, name: name, options: options)
        case nil:
            throw ImagingError.unrecognized(file: name, firstBytes: Array(data.prefix(8)))
        }
    }

    /// The full-size, upright pixels of `url`.
    public static func read(_ url: URL, maxPixels: Int = PNG.defaultMaxPixels) throws -> Image {
        try decode(url, options: DecodeOptions(maxPixels: maxPixels)).image
    }

    /// Width and height of `url` as annotations see it (after EXIF orientation), from the header alone.
    public static func size(of url: URL) throws -> (width: Int, height: Int) {
        let data = try bytes(of: url, prefix: 1 << 16)
        guard !data.isEmpty else { throw ImagingError.emptyFile(file: url.path) }
        switch ImageFormat.sniff(data) {
        case .png: return try PNG.size(of: url)
        case .jpeg:
            // The markers before the frame header usually fit in the first 64 KiB; otherwise read it all.
            if let s = try? JPEG.size(data: data, name: url.path) { return s }
            return try JPEG.size(data: bytes(of: url), name: url.path)
        case nil: throw ImagingError.unrecognized(file: url.path, firstBytes: Array(data.prefix(8)))
        }
    }

    /// Whether `url`'s name ends in an extension image folders use for pictures (`.png`, `.jpg`, `.jpeg`, any
    /// case); used to pick files out of a folder, the content is still sniffed when read.
    public static func hasImageExtension(_ url: URL) -> Bool {
        ["png", "jpg", "jpeg"].contains(url.pathExtension.lowercased())
    }

    /// The bytes of `url` (at most `prefix` when given); a missing or unreadable file is `.unreadable`.
    static func bytes(of url: URL, prefix: Int? = nil) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            let reason = FileManager.default.fileExists(atPath: url.path) ? "permission denied" : "no such file"
            throw ImagingError.unreadable(file: url.path, reason: reason)
        }
        defer { try? handle.close() }
        do {
            let data = try prefix.map { try handle.read(upToCount: $0) } ?? handle.readToEnd()
            return data.map { [UInt8]($0) } ?? []
        } catch {
            throw ImagingError.unreadable(file: url.path, reason: error.localizedDescription)
        }
    }
}
