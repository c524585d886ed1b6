/// What the marker segments of a JPEG file say before its pixels are decoded, read without libjpeg-turbo: the
/// frame size, the EXIF orientation (APP1 `Exif`), the Adobe APP14 marker (which marks inverted CMYK, as
/// Photoshop writes it), and whether an end-of-image marker follows the scan data.
///
/// Layout (ITU T.81 annex B): `FF D8`, then segments `FF mm` with a big-endian 16-bit length that counts itself;
/// `D0…D7`, `01` stand alone; the frame header `SOFn` holds `P, Y(16), X(16), Nf`; scan data after `SOS` stuffs
/// every `FF` with `00`, so `FF D9` there can only be the end-of-image marker.
struct JPEGMarkers: Equatable {
    /// Frame size from the SOF segment (0 when no SOF was found before the first scan).
    var width = 0, height = 0
    /// Colour components in the frame (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK).
    var components = 0
    /// Whether the frame is progressive (SOF2, SOF6, SOF10, SOF14).
    var progressive = false
    /// The EXIF orientation (1…8); 1 when absent or unreadable.
    var orientation = 1
    /// Whether an Adobe APP14 segment is present.
    var adobe = false
    /// Offset of the first SOS marker, nil when the markers end before one.
    var firstScan: Int?
    /// Whether `FF D9` occurs after the first scan (false for a file cut short).
    var hasEndOfImage = false

    /// Scans `data` (starting with `FF D8`). Malformed segment lengths end the scan where they occur; libjpeg-turbo
    /// then reports the damage itself.
    init(_ data: [UInt8]) {
        var p = 2
        let n = data.count
        scan: while p + 1 < n {
            guard data[p] == 0xFF else { break }
            var m = data[p + 1]
            while m == 0xFF, p + 2 < n { p += 1; m = data[p + 1] }  // fill bytes
            if (0xD0...0xD7).contains(m) || m == 0x01 || m == 0xD8 { p += 2; continue }
            guard p + 3 < n else { break }
            let length = Int(data[p + 2]) << 8 | Int(data[p + 3])
            let body = p + 4, end = p + 2 + length
            guard length >= 2, end <= n else { break }
            switch m {
            case 0xC0...0xCF where m != 0xC4 && m != 0xC8 && m != 0xCC:
                if length >= 8 {
                    height = Int(data[body + 1]) << 8 | Int(data[body + 2])
                    width = Int(data[body + 3]) << 8 | Int(data[body + 4])
                    components = Int(data[body + 5])
                }
                progressive = [0xC2, 0xC6, 0xCA, 0xCE].contains(m)
            case 0xE1:
                if let o = Self.exifOrientation(data, body, end) { orientation = o }
            case 0xEE:
                adobe = end - body >= 5 && Array(data[body..<body + 5]) == Array("Adobe".utf8)
            case 0xDA:
                firstScan = p
                break scan
            case 0xD9:
                break scan
            default:
                break
            }
            p = end
        }
        if let s = firstScan {
            var i = n - 2
            while i > s { if data[i] == 0xFF && data[i + 1] == 0xD9 { hasEndOfImage = true; break }; i -= 1 }
        }
    }

    /// The orientation tag (0x0112, SHORT) of IFD0 in an APP1 body `data[start..<end]` that begins `Exif\0\0`
    /// followed by a TIFF header (`II*\0` little-endian or `MM\0*` big-endian); nil when absent or out of 1…8.
    static func exifOrientation(_ data: [UInt8], _ start: Int, _ end: Int) -> Int? {
        let exif: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]
        guard end - start >= 14, Array(data[start..<start + 6]) == exif else { return nil }
        let tiff = start + 6
        let little: Bool
        switch (data[tiff], data[tiff + 1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= tiff, at + 2 <= end else { return nil }
            let a = Int(data[at]), b = Int(data[at + 1])
            return little ? a | b << 8 : a << 8 | b
        }
        func u32(_ at: Int) -> Int? {
            guard let lo = u16(little ? at : at + 2), let hi = u16(little ? at + 2 : at) else { return nil }
            return hi << 16 | lo
        }
        guard u16(tiff + 2) == 42, let ifd = u32(tiff + 4), let count = u16(tiff + ifd) else { return nil }
        for k in 0..<count {
            let entry = tiff + ifd + 2 + 12 * k
            guard let tag = u16(entry), let type = u16(entry + 2) else { return nil }
            if tag == 0x0112 {
                guard type == 3, let value = u16(entry + 8), (1...8).contains(value) else { return nil }
                return value
            }
        }
        return nil
    }
}
