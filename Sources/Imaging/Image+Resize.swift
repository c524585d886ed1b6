/// Bilinear resizing.
///
/// Pixel-centre aligned sampling, as OpenCV's `INTER_LINEAR` (and Pillow's `BILINEAR` when enlarging): output
/// pixel `x` reads the source at `sx = (x + 0.5) · inW / outW − 0.5`; with `x0 = ⌊sx⌋` and `f = sx − x0` the
/// value is `(1 − f) · src[x0] + f · src[x0 + 1]`, and positions left of the first or right of the last pixel
/// centre clamp to the edge pixel (`f = 0`), separately in x and y. There is no antialiasing when shrinking
/// (OpenCV's behaviour; Pillow widens its filter instead, so the two differ for downscaling). Arithmetic is in
/// `Float`, rounded to nearest once at the end.
extension Image {
    /// This image resized to `width × height` by bilinear interpolation (see the extension's notes). Returns a copy
    /// when the size is unchanged. Both sizes must be positive, and the source must not be empty.
    public func resized(width outW: Int, height outH: Int) -> Image {
        precondition(outW > 0 && outH > 0, "Image.resized: target size \(outW)×\(outH) must be positive")
        precondition(width > 0 && height > 0, "Image.resized: cannot resize an empty \(width)×\(height) image")
        if outW == width && outH == height { return self }
        let xs = Image.samplePositions(input: width, output: outW)
        let ys = Image.samplePositions(input: height, output: outH)
        var out = [UInt8](repeating: 0, count: outW * outH * 3)
        let rowLength = outW * 3
        // Two horizontally interpolated source rows, reused while consecutive output rows need them.
        var rowA = [Float](repeating: 0, count: rowLength + 1)
        var rowB = [Float](repeating: 0, count: rowLength + 1)
        let inW = width
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                rowA.withUnsafeMutableBufferPointer { bufA in
                    rowB.withUnsafeMutableBufferPointer { bufB in
                        var top = bufA.baseAddress!, bottom = bufB.baseAddress!
                        var topRow = -1, bottomRow = -1
                        for y in 0..<outH {
                            let (y0, fy) = ys[y]
                            let y1 = min(y0 + 1, height - 1)
                            if topRow != y0 {
                                if bottomRow == y0 {
                                    swap(&top, &bottom)
                                    swap(&topRow, &bottomRow)
                                } else {
                                    Image.interpolateRow(src.baseAddress! + y0 * inW * 3, xs, inW, into: top)
                                    topRow = y0
                                }
                            }
                            if bottomRow != y1 {
                                Image.interpolateRow(src.baseAddress! + y1 * inW * 3, xs, inW, into: bottom)
                                bottomRow = y1
                            }
                            let d = dst.baseAddress! + y * rowLength
                            let gy = 1 - fy
                            for i in 0..<rowLength {
                                // A convex blend of bytes lies in [0, 255]; adding 1.5 · 2^23 leaves the value
                                // rounded to nearest (ties to even) in the low mantissa bits, without a checked
                                // float-to-integer conversion, so this loop vectorises.
                                let v = top[i] * gy + bottom[i] * fy
                                d[i] = UInt8(truncatingIfNeeded: (v + 12_582_912).bitPattern)
                            }
                        }
                    }
                }
            }
        }
        return Image(width: outW, height: outH, pixels: out)
    }

    /// For each output index, the left (or top) source index and the weight `f` of its right (or lower)
    /// neighbour, with OpenCV's edge clamping.
    static func samplePositions(input: Int, output: Int) -> [(Int, Float)] {
        let scale = Double(input) / Double(output)
        return (0..<output).map { i in
            let s = (Double(i) + 0.5) * scale - 0.5
            var i0 = Int(s.rounded(.down))
            var f = s - Double(i0)
            if i0 < 0 { i0 = 0; f = 0 }
            if i0 >= input - 1 { i0 = input - 1; f = 0 }
            return (i0, Float(f))
        }
    }

    /// One source row interpolated horizontally at the positions `xs`, as `Float` RGB. `out` must have room for
    /// one float past the row: each pixel is computed as a 4-lane vector (R, G, B and the next byte) and the
    /// fourth lane is overwritten by the next pixel.
    @inline(__always)
    static func interpolateRow(
        _ row: UnsafePointer<UInt8>, _ xs: [(Int, Float)], _ inW: Int, into out: UnsafeMutablePointer<Float>
    ) {
        xs.withUnsafeBufferPointer { positions in
            let raw = UnsafeRawPointer(row)
            let n = positions.count
            // The 4-byte loads read one byte past pixel x1; safe for every pixel but the row's last one.
            var x = 0
            while x < n {
                let (x0, f) = positions[x]
                let x1 = min(x0 + 1, inW - 1)
                if x1 == inW - 1 { break }
                let a = SIMD4<Float>(raw.loadUnaligned(fromByteOffset: x0 * 3, as: SIMD4<UInt8>.self))
                let b = SIMD4<Float>(raw.loadUnaligned(fromByteOffset: x1 * 3, as: SIMD4<UInt8>.self))
                UnsafeMutableRawPointer(out + x * 3).storeBytes(of: a + (b - a) * f, as: SIMD4<Float>.self)
                x += 1
            }
            while x < n {
                let (x0, f) = positions[x]
                let x1 = min(x0 + 1, inW - 1)
                let a = row + x0 * 3, b = row + x1 * 3, o = out + x * 3
                o[0] = Float(a[0]) + (Float(b[0]) - Float(a[0])) * f
                o[1] = Float(a[1]) + (Float(b[1]) - Float(a[1])) * f
                o[2] = Float(a[2]) + (Float(b[2]) - Float(a[2])) * f
                x += 1
            }
        }
    }
}
