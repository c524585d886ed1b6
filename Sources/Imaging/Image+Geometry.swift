import Foundation

/// Flips, crops and padding: pure pixel moves, no interpolation.
extension Image {
    /// This image mirrored left to right: output pixel `(x, y)` is input pixel `(width − 1 − x, y)`.
    public func flippedHorizontally() -> Image {
        var out = [UInt8](repeating: 0, count: pixels.count)
        let w = width
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let s = src.baseAddress! + y * w * 3, d = dst.baseAddress! + y * w * 3
                    for x in 0..<w {
                        let a = s + (w - 1 - x) * 3, b = d + x * 3
                        b[0] = a[0]; b[1] = a[1]; b[2] = a[2]
                    }
                }
            }
        }
        return Image(width: width, height: height, pixels: out)
    }

    /// This image mirrored top to bottom: output row `y` is input row `height − 1 − y`.
    public func flippedVertically() -> Image {
        var out = [UInt8](repeating: 0, count: pixels.count)
        let rowBytes = width * 3
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    (dst.baseAddress! + y * rowBytes).update(
                        from: src.baseAddress! + (height - 1 - y) * rowBytes, count: rowBytes)
                }
            }
        }
        return Image(width: width, height: height, pixels: out)
    }

    /// The `width × height` region whose top-left corner is source pixel `(x, y)`. The region may extend past any
    /// edge (or lie wholly outside, `x`/`y` may be negative); the part outside the image is filled with `fill`.
    /// Output pixel `(i, j)` is source pixel `(x + i, y + j)` where that exists.
    public func cropped(
        x: Int, y: Int, width outW: Int, height outH: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)
    ) -> Image {
        precondition(outW >= 0 && outH >= 0, "Image.cropped: negative size \(outW)×\(outH)")
        var out = Image(width: outW, height: outH, fill: fill)
        // Intersection of the region with the image, in source coordinates.
        let x0 = max(x, 0), x1 = min(x + outW, width)
        let y0 = max(y, 0), y1 = min(y + outH, height)
        guard x0 < x1, y0 < y1 else { return out }
        let count = (x1 - x0) * 3
        let inW = width
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for sy in y0..<y1 {
                    let s = src.baseAddress! + (sy * inW + x0) * 3
                    let d = dst.baseAddress! + ((sy - y) * outW + (x0 - x)) * 3
                    d.update(from: s, count: count)
                }
            }
        }
        return out
    }

    /// This image placed at the top-left of a `toWidth × height` canvas filled with `fill` (padding on the right
    /// and bottom only, so pixel and box coordinates are unchanged). The target must be at least the image's size.
    public func padded(toWidth outW: Int, height outH: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) -> Image {
        precondition(outW >= width && outH >= height,
                     "Image.padded: target \(outW)×\(outH) is smaller than the image \(width)×\(height)")
        return cropped(x: 0, y: 0, width: outW, height: outH, fill: fill)
    }

    /// Copies `image` into this one with its top-left corner at `(x, y)`; the part that falls outside is left out.
    public mutating func paste(_ image: Image, x: Int, y: Int) {
        let x0 = max(x, 0), x1 = min(x + image.width, width)
        let y0 = max(y, 0), y1 = min(y + image.height, height)
        guard x0 < x1, y0 < y1 else { return }
        let count = (x1 - x0) * 3, outW = width, inW = image.width
        image.pixels.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for dy in y0..<y1 {
                    let s = src.baseAddress! + ((dy - y) * inW + (x0 - x)) * 3
                    (dst.baseAddress! + (dy * outW + x0) * 3).update(from: s, count: count)
                }
            }
        }
    }
}
