import CLibPNG
import Foundation

extension PNG {
    /// `PNG_IMAGE_FLAG_FAST`: libpng writes without row filters at zlib level 3 instead of adaptive filtering at
    /// the default level, trading file size for speed.
    static let flagFast: UInt32 = 0x02
    /// `PNG_ZBUF_SIZE`: libpng's default IDAT chunk payload, used in the output size bound.
    static let zbufSize = 8192

    /// Encodes an RGB image as an 8-bit RGB PNG.
    ///
    /// - Parameter fast: favour speed over size (`PNG_IMAGE_FLAG_FAST`: no row filters, zlib level 3). The file
    ///   decodes to the same pixels; on noisy pictures it is a few percent larger and several times faster to
    ///   write. Default `false` (adaptive filters, zlib's default level).
    public static func encode(_ image: Image, fast: Bool = false) throws -> [UInt8] {
        try encode(samples: image.pixels, width: image.width, height: image.height, format: .rgb, fast: fast)
    }

    /// Encodes 8-bit samples (`width · height · format.channels` bytes, rows top to bottom) as an 8-bit PNG of the
    /// matching colour type. Used for test fixtures of other colour types. `fast` as in `encode(_:fast:)`.
    public static func encode(samples: [UInt8], width: Int, height: Int, format: SampleFormat, fast: Bool = false)
        throws -> [UInt8]
    {
        precondition(samples.count == width * height * format.channels,
                     "PNG.encode: \(samples.count) samples for \(width)×\(height)×\(format.channels)")
        return try samples.withUnsafeBytes { raw in
            try encode(raw, width: width, height: height, format: format.flags, bytesPerSample: 1,
                       stride: width * format.channels, fast: fast)
        }
    }

    /// Encodes 16-bit **linear** samples (libpng's `PNG_FORMAT_LINEAR_*`; with alpha the colour samples must be
    /// premultiplied by alpha) as a 16-bit PNG carrying a linear `gAMA` chunk. Reading it back converts linear
    /// light with libpng's power-law approximation of sRGB, `255 · (v / 65535)^(1/2.2)`: `32768 → 186`.
    public static func encode(linearSamples: [UInt16], width: Int, height: Int, format: SampleFormat) throws
        -> [UInt8]
    {
        precondition(linearSamples.count == width * height * format.channels,
                     "PNG.encode: \(linearSamples.count) samples for \(width)×\(height)×\(format.channels)")
        return try linearSamples.withUnsafeBytes { raw in
            try encode(raw, width: width, height: height, format: format.flags | flagLinear, bytesPerSample: 2,
                       stride: width * format.channels, fast: false)
        }
    }

    /// Upper bound on the PNG stream libpng can produce for a `width × height` image of `rowBytes` bytes per row:
    /// libpng's `PNG_IMAGE_PNG_SIZE_MAX` — zlib's `deflateBound`-style `b + ⌈b/8⌉ + ⌈b/64⌉ + 11` over the filtered
    /// data `b = height · (rowBytes + 1)`, plus 12 bytes per `PNG_ZBUF_SIZE` IDAT chunk and the fixed chunks
    /// (signature, IHDR, gAMA, cHRM, IEND and one more IDAT header).
    static func encodedSizeBound(height: Int, rowBytes: Int) -> Int {
        let data = height * (rowBytes + 1)
        let compressed = data + (data + 7) >> 3 + (data + 63) >> 6 + 11
        return 8 + 25 + 16 + 44 + 12 + 12 + 12 * (compressed / zbufSize) + compressed
    }

    /// One call of `png_image_write_to_memory` into a buffer of the `encodedSizeBound` size; should the bound ever
    /// fall short, libpng reports the size it needs and a second call fills a buffer of that size.
    private static func encode(
        _ raw: UnsafeRawBufferPointer, width: Int, height: Int, format: UInt32, bytesPerSample: Int, stride: Int,
        fast: Bool
    ) throws -> [UInt8] {
        precondition(width > 0 && height > 0, "PNG.encode: empty image \(width)×\(height)")
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = format
        if fast { image.flags |= flagFast }
        let capacity = encodedSizeBound(height: height, rowBytes: stride * bytesPerSample)
        var size = png_alloc_size_t(capacity)
        var out = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            count = 0
            let ok = png_image_write_to_memory(&image, buffer.baseAddress, &size, 0, raw.baseAddress,
                                               Int32(stride), nil)
            if ok != 0 { count = Int(size) } else if Int(size) <= capacity { size = 0 }
        }
        if size == 0 {
            let reason = message(&image)
            png_image_free(&image)
            throw ImagingError.encodeFailed(file: "<memory>", reason: reason)
        }
        if Int(size) > capacity {
            // The bound was too small; `size` now holds the exact requirement.
            png_image_free(&image)
            image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            image.width = UInt32(width)
            image.height = UInt32(height)
            image.format = format
            if fast { image.flags |= flagFast }
            out = [UInt8](repeating: 0, count: Int(size))
            let ok = out.withUnsafeMutableBytes { dst in
                png_image_write_to_memory(&image, dst.baseAddress, &size, 0, raw.baseAddress, Int32(stride), nil)
            }
            guard ok != 0 else {
                let reason = message(&image)
                png_image_free(&image)
                throw ImagingError.encodeFailed(file: "<memory>", reason: reason)
            }
            out.removeSubrange(Int(size)...)
        }
        return out
    }

    /// Writes `image` as an 8-bit RGB PNG at `url`, atomically: the bytes go to a temporary file in the same
    /// folder, which is then renamed over `url`, so readers never see a half-written file. `fast` as in
    /// `encode(_:fast:)`.
    public static func write(_ image: Image, to url: URL, fast: Bool = false) throws {
        try write(bytes: encode(image, fast: fast), to: url)
    }

    /// Writes already-encoded bytes to `url` atomically (temporary file in the same folder, then `rename`).
    public static func write(bytes: [UInt8], to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try Data(bytes).write(to: temporary)
        } catch {
            // A full disk fails part-way: no half-written temporary stays behind.
            try? FileManager.default.removeItem(at: temporary)
            throw ImagingError.writeFailed(file: url.path, reason: "\(error.localizedDescription)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ImagingError.writeFailed(file: url.path, reason: reason)
        }
    }
}
