import CTurboJPEG
import Foundation

/// JPEG decoding and encoding through libjpeg-turbo's TurboJPEG API (the library behind Pillow-SIMD and
/// torchvision's `decode_jpeg`). This is the only file that imports libjpeg-turbo; it turns TurboJPEG's status
/// codes into thrown `ImagingError`s.
///
/// Reading always produces upright 8-bit RGB:
/// - baseline, extended and progressive frames; grey and YCbCr through TurboJPEG's own colour conversion (accurate
///   integer IDCT and fancy upsampling, libjpeg's defaults, as Pillow decodes);
/// - CMYK and YCCK decoded as CMYK, then `R = (255 − C)(255 − K) / 255` (likewise G with M, B with Y, rounded), the
///   formula of Pillow's `cmyk2rgb`; with an Adobe APP14 marker the samples are stored inverted (as Photoshop writes
///   them and Pillow reads them, raw mode `CMYK;I`), so `R = C′ · K′ / 255` of the stored `C′, K′`;
/// - the EXIF orientation tag applied after decoding (`Image.oriented(exif:)`), as Pillow's
///   `ImageOps.exif_transpose`, which ultralytics' loaders use: boxes in annotation files refer to the upright image;
/// - DCT-domain downscaling by 1/2, 1/4 or 1/8 (`DecodeOptions.minimumLongSide`): the IDCT produces the reduced
///   image directly, skipping most of the work of a full-size decode and the resize after it.
///
/// Damage: a file without an end-of-image marker after its scan data is `.truncated` (libjpeg-turbo would fill the
/// missing rows with grey); errors TurboJPEG calls fatal (bad headers, bogus Huffman tables, over 500 progressive
/// scans — `TJFLAG_LIMITSCANS`) are `.corrupt`; its warnings (`TJERR_WARNING`: corrupt entropy-coded data it
/// recovered from) leave the decoded pixels and are returned in `DecodedImage.warnings`.
public enum JPEG {
    /// Colour layouts the encoder accepts.
    public enum SampleFormat: Sendable, CaseIterable {
        /// One grey sample per pixel (`TJPF_GRAY`, written as a one-component JPEG).
        case grey
        /// Red, green, blue (`TJPF_RGB`, written as YCbCr).
        case rgb
        /// Cyan, magenta, yellow, black as stored (`TJPF_CMYK`, written as YCCK with an Adobe marker).
        case cmyk

        /// Samples per pixel.
        public var channels: Int { self == .grey ? 1 : self == .cmyk ? 4 : 3 }
        var pixelFormat: Int32 { self == .grey ? Int32(TJPF_GRAY.rawValue) : self == .cmyk ? Int32(TJPF_CMYK.rawValue) : Int32(TJPF_RGB.rawValue) }
    }

    /// Decodes JPEG bytes (see the type's notes); `name` is used in error messages.
    public static func decode(data: [UInt8], name: String, options: DecodeOptions = DecodeOptions()) throws
        -> DecodedImage
    {
        let markers = JPEGMarkers(data)
        guard let handle = tjInitDecompress() else {
            throw ImagingError.unreadable(file: name, reason: "libjpeg-turbo could not start a decompressor")
        }
        defer { tjDestroy(handle) }
        let header = try readHeader(handle, data, name: name)
        guard header.width > 0, header.height > 0,
            header.width.multipliedReportingOverflow(by: header.height).partialValue <= options.maxPixels
        else {
            throw ImagingError.tooLarge(file: name, width: header.width, height: header.height, maxPixels: options.maxPixels)
        }
        guard markers.hasEndOfImage else {
            throw ImagingError.truncated(file: name, reason: "JPEG data ends at byte \(data.count) without an "
                + "end-of-image marker after the scan data (cut short)")
        }
        let factor = scalingFactor(width: header.width, height: header.height, minimumLongSide: options.minimumLongSide)
        let w = Int(ctj_scaled(Int32(header.width), factor)), h = Int(ctj_scaled(Int32(header.height), factor))
        let cmyk = header.colorspace == Int32(TJCS_CMYK.rawValue) || header.colorspace == Int32(TJCS_YCCK.rawValue)
        let format: SampleFormat = cmyk ? .cmyk : .rgb
        var samples = [UInt8](repeating: 0, count: w * h * format.channels)
        let flags = Int32(TJFLAG_LIMITSCANS)
        let rc = data.withUnsafeBufferPointer { src in
            samples.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress, Int32(w),
                              Int32(w * format.channels), Int32(h), format.pixelFormat, flags)
            }
        }
        var warnings: [String] = []
        if rc != 0 {
            let message = "libjpeg-turbo: " + errorMessage(handle)
            guard tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) else {
                throw ImagingError.corrupt(file: name, reason: message)
            }
            warnings.append(message)
        }
        let rgb = cmyk ? cmykToRGB(samples, inverted: markers.adobe) : samples
        let image = Image(width: w, height: h, pixels: rgb).oriented(exif: markers.orientation)
        let swap = markers.orientation >= 5
        return DecodedImage(image: image, originalWidth: swap ? header.height : header.width,
                            originalHeight: swap ? header.width : header.height, format: .jpeg,
                            scale: (Int(factor.num), Int(factor.denom)), orientation: markers.orientation,
                            warnings: warnings)
    }

    /// Width and height after EXIF orientation, from the headers alone.
    public static func size(data: [UInt8], name: String) throws -> (width: Int, height: Int) {
        guard let handle = tjInitDecompress() else {
            throw ImagingError.unreadable(file: name, reason: "libjpeg-turbo could not start a decompressor")
        }
        defer { tjDestroy(handle) }
        let header = try readHeader(handle, data, name: name)
        let o = JPEGMarkers(data).orientation
        return o >= 5 ? (header.height, header.width) : (header.width, header.height)
    }

    /// The smallest of TurboJPEG's factors 1/8, 1/4, 1/2 (from `tjGetScalingFactors`) that keeps the longer side
    /// `⌈L · num / denom⌉ ≥ minimumLongSide`; `1/1` without a target or when none does.
    static func scalingFactor(width: Int, height: Int, minimumLongSide: Int?) -> tjscalingfactor {
        let full = tjscalingfactor(num: 1, denom: 1)
        guard let target = minimumLongSide else { return full }
        var count: Int32 = 0
        guard let list = tjGetScalingFactors(&count) else { return full }
        let longSide = Int32(max(width, height))
        let candidates = (0..<Int(count)).map { list[$0] }.filter { $0.num == 1 && [2, 4, 8].contains($0.denom) }
        return candidates.filter { Int(ctj_scaled(longSide, $0)) >= target }.max { $0.denom < $1.denom } ?? full
    }

    /// Encodes an RGB image as a JPEG of the given quality (1…100) with 4:2:0 chroma subsampling, progressive when
    /// asked. Used for fixtures, overlays and re-encoded datasets.
    public static func encode(_ image: Image, quality: Int = 90, progressive: Bool = false) throws -> [UInt8] {
        try encode(samples: image.pixels, width: image.width, height: image.height, format: .rgb, quality: quality,
                   progressive: progressive)
    }

    /// Encodes 8-bit samples (`width · height · format.channels` bytes, rows top to bottom); grey is written
    /// without chroma, RGB and CMYK with 4:2:0 subsampling.
    public static func encode(samples: [UInt8], width: Int, height: Int, format: SampleFormat, quality: Int = 90,
                              progressive: Bool = false) throws -> [UInt8] {
        precondition(samples.count == width * height * format.channels && width > 0 && height > 0,
                     "JPEG.encode: \(samples.count) samples for \(width)×\(height)×\(format.channels)")
        guard let handle = tjInitCompress() else {
            throw ImagingError.encodeFailed(file: "<memory>", reason: "libjpeg-turbo could not start a compressor")
        }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let subsampling = format == .grey ? Int32(TJSAMP_GRAY.rawValue) : Int32(TJSAMP_420.rawValue)
        let flags = progressive ? Int32(TJFLAG_PROGRESSIVE) : 0
        let rc = samples.withUnsafeBufferPointer { src in
            tjCompress2(handle, src.baseAddress, Int32(width), Int32(width * format.channels), Int32(height),
                        format.pixelFormat, &buffer, &size, subsampling, Int32(min(max(quality, 1), 100)), flags)
        }
        defer { tjFree(buffer) }
        guard rc == 0, let buffer else {
            throw ImagingError.encodeFailed(file: "<memory>", reason: "libjpeg-turbo: " + errorMessage(handle))
        }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }

    /// Frame size and JPEG colour space from `tjDecompressHeader3`.
    private static func readHeader(_ handle: tjhandle, _ data: [UInt8], name: String) throws
        -> (width: Int, height: Int, colorspace: Int32)
    {
        var w: Int32 = 0, h: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let rc = data.withUnsafeBufferPointer { src in
            tjDecompressHeader3(handle, src.baseAddress, UInt(src.count), &w, &h, &subsampling, &colorspace)
        }
        guard rc == 0 else {
            throw ImagingError.unreadable(file: name, reason: "JPEG header: libjpeg-turbo: " + errorMessage(handle))
        }
        return (Int(w), Int(h), colorspace)
    }

    /// TurboJPEG's message for the last call on `handle`.
    private static func errorMessage(_ handle: tjhandle) -> String {
        guard let text = tjGetErrorStr2(handle) else { return "no message" }
        return String(cString: text)
    }

    /// CMYK samples (inverted when `inverted`, as after an Adobe marker) to RGB: `R = round((255−C)(255−K)/255)`.
    static func cmykToRGB(_ cmyk: [UInt8], inverted: Bool) -> [UInt8] {
        let n = cmyk.count / 4
        var out = [UInt8](repeating: 0, count: n * 3)
        cmyk.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    let s = src.baseAddress! + 4 * i
                    let k = Int(inverted ? s[3] : 255 - s[3])
                    for c in 0..<3 {
                        let v = Int(inverted ? s[c] : 255 - s[c])
                        dst[3 * i + c] = UInt8((v * k + 127) / 255)
                    }
                }
            }
        }
        return out
    }
}
