/// An 8-bit RGB image, rows top to bottom, pixels left to right, 3 bytes (R, G, B) each.
public struct Image: Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// `width * height * 3` bytes, interleaved RGB.
    public var pixels: [UInt8]

    /// An image of the given size filled with one colour.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        precondition(width >= 0 && height >= 0, "Image: negative size \(width)×\(height)")
        self.width = width
        self.height = height
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: p.count, by: 3) { p[i] = fill.0; p[i + 1] = fill.1; p[i + 2] = fill.2 }
        self.pixels = p
    }

    /// An image over existing interleaved RGB bytes; `pixels.count` must be `width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "Image: \(pixels.count) bytes for \(width)×\(height) RGB")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The colour of pixel `(x, y)`; `x` in `0..<width`, `y` in `0..<height`.
    public func pixel(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        precondition(x >= 0 && y >= 0 && x < width && y < height,
                     "Image.pixel: (\(x), \(y)) outside \(width)×\(height)")
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}
