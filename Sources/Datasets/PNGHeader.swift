import Foundation

/// The width and height of a PNG file from its `IHDR` chunk, without decoding the pixels (PNG spec §11.2.2:
/// 8-byte signature, then the 13-byte IHDR whose first two fields are big-endian 32-bit width and height).
public enum PNGHeader {
    /// `(width, height)` of the PNG at `url`; throws `DatasetError.badImage` when it is not a PNG.
    public static func size(of url: URL) throws -> (width: Int, height: Int) {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw DatasetError.badImage(file: url.path, reason: "cannot open")
        }
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 24))
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard head.count == 24, Array(head[0..<8]) == signature, Array(head[12..<16]) == Array("IHDR".utf8) else {
            throw DatasetError.badImage(file: url.path, reason: "not a PNG file (no PNG signature and IHDR chunk)")
        }
        func be32(_ i: Int) -> Int { head[i..<i + 4].reduce(0) { $0 << 8 | Int($1) } }
        let w = be32(16), h = be32(20)
        guard w > 0, h > 0 else { throw DatasetError.badImage(file: url.path, reason: "PNG header has size \(w)×\(h)") }
        return (w, h)
    }
}
