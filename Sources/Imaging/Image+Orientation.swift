/// The eight EXIF orientations (TIFF tag 0x0112) as pixel moves.
extension Image {
    /// This image made upright for EXIF orientation `tag`, as Pillow's `ImageOps.exif_transpose`:
    /// 1 unchanged, 2 mirrored left–right, 3 turned 180°, 4 mirrored top–bottom, 5 transposed (mirrored about the
    /// main diagonal), 6 turned 90° clockwise, 7 transversed (mirrored about the other diagonal), 8 turned 90°
    /// counter-clockwise. Tags 5–8 swap width and height. Any other value leaves the image unchanged.
    ///
    /// Output pixel `(x, y)` of a `W × H` source is source pixel: 2 `(W−1−x, y)`, 3 `(W−1−x, H−1−y)`,
    /// 4 `(x, H−1−y)`, 5 `(y, x)`, 6 `(y, H−1−x)`, 7 `(W−1−y, H−1−x)`, 8 `(W−1−y, x)`.
    public func oriented(exif tag: Int) -> Image {
        let w = width, h = height
        switch tag {
        case 2: return flippedHorizontally()
        case 3: return flippedHorizontally().flippedVertically()
        case 4: return flippedVertically()
        case 5: return remapped(width: h, height: w) { x, y in (y, x) }
        case 6: return remapped(width: h, height: w) { x, y in (y, h - 1 - x) }
        case 7: return remapped(width: h, height: w) { x, y in (w - 1 - y, h - 1 - x) }
        case 8: return remapped(width: h, height: w) { x, y in (w - 1 - y, x) }
        default: return self
        }
    }

    /// A `outW × outH` image whose pixel `(x, y)` is this image's pixel `source(x, y)`.
    private func remapped(width outW: Int, height outH: Int, source: (Int, Int) -> (Int, Int)) -> Image {
        var out = [UInt8](repeating: 0, count: outW * outH * 3)
        let w = width
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outH {
                    for x in 0..<outW {
                        let (sx, sy) = source(x, y)
                        let a = src.baseAddress! + (sy * w + sx) * 3, b = dst.baseAddress! + (y * outW + x) * 3
                        b[0] = a[0]; b[1] = a[1]; b[2] = a[2]
                    }
                }
            }
        }
        return Image(width: outW, height: outH, pixels: out)
    }
}
