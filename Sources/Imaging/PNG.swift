import CLibPNG
import Foundation

/// PNG decoding and encoding through libpng's simplified API (`png_image_*`), which reports failures through
/// return codes and `png_image.message` rather than `longjmp`. This is the only file that imports libpng.
///
/// Reading always produces 8-bit RGB. libpng converts every colour type and bit depth: grey 1/2/4/8/16-bit,
/// grey+alpha, RGB 8/16, RGBA, palette with or without `tRNS`, interlaced or not. Conventions:
/// - Alpha (an alpha channel or `tRNS`) is composited on **black** in linear light:
///   `out = round(255 · sRGB(linear(c / 255) · α / 255))` with the IEC 61966-2-1 sRGB curves; opaque pixels are
///   unchanged and fully transparent ones become black. libpng delivers straight 8-bit RGBA and `Compositing` does
///   the arithmetic, because libpng's own 8-bit compositing path loses up to ~13 levels near black.
/// - 16-bit samples without a `gAMA`/`sRGB` chunk are taken as sRGB-encoded (`PNG_IMAGE_FLAG_16BIT_sRGB`), so
///   a 16-bit value `v` becomes `round(v · 255 / 65535)` (Pillow and OpenCV take the high byte, `v >> 8`, which
///   differs by at most one level); 16-bit files that declare
///   linear gamma (as written by `encode(linearSamples:…)`) are converted by libpng with the power 1/2.2.
/// - A file whose `gAMA` chunk differs from sRGB is converted to sRGB (Pillow and OpenCV ignore `gAMA`).
public enum PNG {
    /// Default upper bound on `width × height` accepted by `read`: 64 Mi pixels (67,108,864 = 8192 × 8192),
    /// i.e. at most 192 MiB of RGB output. The check runs on the header, before any pixel buffer is allocated.
    public static let defaultMaxPixels = 64 * 1024 * 1024

    /// The in-memory sample layouts the encoder accepts (`PNG_FORMAT_GRAY`, `_GA`, `_RGB`, `_RGBA`).
    public enum SampleFormat: Sendable, CaseIterable {
        /// One grey sample per pixel.
        case grey
        /// Grey then alpha.
        case greyAlpha
        /// Red, green, blue.
        case rgb
        /// Red, green, blue, alpha (straight, not premultiplied, for 8-bit data).
        case rgba

        /// Samples per pixel: 1, 2, 3 or 4.
        public var channels: Int {
            switch self {
            case .grey: return 1
            case .greyAlpha: return 2
            case .rgb: return 3
            case .rgba: return 4
            }
        }

        /// libpng's `PNG_FORMAT_FLAG_ALPHA` (0x01) and `PNG_FORMAT_FLAG_COLOR` (0x02) bits.
        var flags: UInt32 {
            switch self {
            case .grey: return 0
            case .greyAlpha: return 0x01
            case .rgb: return 0x02
            case .rgba: return 0x03
            }
        }
    }

    /// `PNG_FORMAT_RGB`.
    static let formatRGB: UInt32 = 0x02
    /// `PNG_FORMAT_RGBA`.
    static let formatRGBA: UInt32 = 0x03
    /// `PNG_FORMAT_FLAG_ALPHA`.
    static let formatFlagAlpha: UInt32 = 0x01
    /// `PNG_FORMAT_FLAG_LINEAR`: 16-bit linear samples.
    static let flagLinear: UInt32 = 0x04
    /// `PNG_IMAGE_FLAG_16BIT_sRGB`: 16-bit data without gamma information is sRGB-encoded.
    static let flag16BitSRGB: UInt32 = 0x04

    // MARK: Reading

    /// Decodes the PNG file at `url` into 8-bit RGB (see the type's notes for alpha and 16-bit handling).
    /// Throws `ImagingError.unreadable` (missing file, not a PNG), `.tooLarge` (header beyond `maxPixels`, checked
    /// before allocating) or `.corrupt` (truncated or damaged data), each naming the file.
    public static func read(_ url: URL, maxPixels: Int = PNG.defaultMaxPixels) throws -> Image {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, url.path) != 0 else {
            let reason = message(&image)
            png_image_free(&image)
            throw ImagingError.unreadable(file: url.path, reason: reason)
        }
        return try finishRead(&image, name: url.path, maxPixels: maxPixels)
    }

    /// Decodes PNG bytes held in memory; `name` is used in error messages. Same conventions and errors as
    /// `read(_:maxPixels:)`.
    public static func read(
        data: [UInt8], name: String = "<memory>", maxPixels: Int = PNG.defaultMaxPixels
    ) throws -> Image {
        try data.withUnsafeBytes { raw -> Image in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            // libpng reads from this buffer until finish_read returns, so both calls stay inside the closure.
            guard let base = raw.baseAddress, png_image_begin_read_from_memory(&image, base, raw.count) != 0 else {
                let reason = raw.isEmpty ? "empty data" : message(&image)
                png_image_free(&image)
                throw ImagingError.unreadable(file: name, reason: reason)
            }
            return try finishRead(&image, name: name, maxPixels: maxPixels)
        }
    }

    /// Width and height from the PNG header of `url`, without decoding pixels.
    public static func size(of url: URL) throws -> (width: Int, height: Int) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        guard png_image_begin_read_from_file(&image, url.path) != 0 else {
            throw ImagingError.unreadable(file: url.path, reason: message(&image))
        }
        return (Int(image.width), Int(image.height))
    }

    /// Checks the header's size against `maxPixels`, then decodes into a zeroed RGB buffer.
    private static func finishRead(_ image: inout png_image, name: String, maxPixels: Int) throws -> Image {
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width.multipliedReportingOverflow(by: height).partialValue <= maxPixels,
            width <= Int(Int32.max) / 4
        else {
            png_image_free(&image)
            throw ImagingError.tooLarge(file: name, width: width, height: height, maxPixels: maxPixels)
        }
        // The source format (set by begin_read) has the alpha flag for alpha channels and for tRNS.
        let hasAlpha = image.format & formatFlagAlpha != 0
        let channels = hasAlpha ? 4 : 3
        image.format = hasAlpha ? formatRGBA : formatRGB
        image.flags |= flag16BitSRGB
        var samples = [UInt8](repeating: 0, count: width * height * channels)
        let ok = samples.withUnsafeMutableBytes { buffer in
            png_image_finish_read(&image, nil, buffer.baseAddress, Int32(width * channels), nil)
        }
        guard ok != 0 else {
            let reason = message(&image)
            png_image_free(&image)
            throw ImagingError.corrupt(file: name, reason: reason)
        }
        let pixels = hasAlpha ? Compositing.onBlack(rgba: samples) : samples
        return Image(width: width, height: height, pixels: pixels)
    }

    /// libpng's NUL-terminated `png_image.message`.
    static func message(_ image: inout png_image) -> String {
        let text = withUnsafeBytes(of: &image.message) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return text.isEmpty ? "libpng reported no message" : text
    }
}
