/// Antialiased bilinear resizing, as Pillow's `Image.resize(…, BILINEAR)` (and torchvision's
/// `resize(…, antialias=True)`): a triangle filter whose support widens with the shrink factor.
///
/// Per axis, with `scale = in / out` and `s = max(scale, 1)`, output pixel `i` is centred at source coordinate
/// `c = (i + 0.5) · scale`; it averages source pixels `j` in `[c − s, c + s)` (clamped to the image) with weights
/// `max(0, 1 − |j + 0.5 − c| / s)` normalised to sum 1. When enlarging (`s = 1`) this is the plain centre-aligned
/// bilinear of `resized(width:height:)`; when shrinking every source pixel contributes, so there is no aliasing.
/// Horizontal then vertical pass, `Float` intermediate, one rounding at the end (Pillow rounds between passes and
/// uses fixed-point weights, so results may differ from Pillow's by a level).
extension Image {
    /// This image resized to `width × height`; `antialias: true` uses the widened triangle filter described on
    /// the extension, `false` is `resized(width:height:)` (OpenCV `INTER_LINEAR`).
    public func resized(width outW: Int, height outH: Int, antialias: Bool) -> Image {
        guard antialias else { return resized(width: outW, height: outH) }
        precondition(outW > 0 && outH > 0, "Image.resized: target size \(outW)×\(outH) must be positive")
        precondition(width > 0 && height > 0, "Image.resized: cannot resize an empty \(width)×\(height) image")
        if outW == width && outH == height { return self }
        let xTaps = FilterTaps(input: width, output: outW)
        let yTaps = FilterTaps(input: height, output: outH)
        let inW = width, inH = height
        // Horizontal pass over every source row: inH × outW × 3 floats.
        // Each pixel is loaded as a 4-byte vector (its RGB and the next byte), so the source gets one byte of
        // padding and every intermediate row one float, which the next pixel overwrites.
        var padded = pixels
        padded.append(0)
        var middle = [Float](repeating: 0, count: inH * outW * 3 + 1)
        padded.withUnsafeBytes { src in
            middle.withUnsafeMutableBufferPointer { mid in
                xTaps.weights.withUnsafeBufferPointer { w in
                    for y in 0..<inH {
                        let rowOffset = y * inW * 3
                        let out = UnsafeMutableRawPointer(mid.baseAddress! + y * outW * 3)
                        for x in 0..<outW {
                            let start = xTaps.starts[x], n = xTaps.counts[x]
                            let wx = w.baseAddress! + x * xTaps.stride
                            var sum = SIMD4<Float>()
                            for k in 0..<n {
                                let p = src.loadUnaligned(fromByteOffset: rowOffset + (start + k) * 3,
                                                          as: SIMD4<UInt8>.self)
                                sum += SIMD4<Float>(p) * wx[k]
                            }
                            out.storeBytes(of: sum, toByteOffset: x * 12, as: SIMD4<Float>.self)
                        }
                    }
                }
            }
        }
        // Vertical pass.
        var result = [UInt8](repeating: 0, count: outW * outH * 3)
        let rowLength = outW * 3
        middle.withUnsafeBufferPointer { mid in
            result.withUnsafeMutableBufferPointer { dst in
                yTaps.weights.withUnsafeBufferPointer { w in
                    var accumulator = [Float](repeating: 0, count: rowLength)
                    accumulator.withUnsafeMutableBufferPointer { acc in
                        for y in 0..<outH {
                            let start = yTaps.starts[y], n = yTaps.counts[y]
                            let wy = w.baseAddress! + y * yTaps.stride
                            acc.update(repeating: 0)
                            for k in 0..<n {
                                let row = mid.baseAddress! + (start + k) * rowLength
                                let weight = wy[k]
                                for i in 0..<rowLength { acc[i] += weight * row[i] }
                            }
                            let d = dst.baseAddress! + y * rowLength
                            // Normalised non-negative weights keep values in [0, 255] (up to float error);
                            // 1.5 · 2^23 rounds to nearest into the low mantissa bits (see `resized`).
                            for i in 0..<rowLength {
                                d[i] = UInt8(truncatingIfNeeded: (acc[i] + 12_582_912).bitPattern)
                            }
                        }
                    }
                }
            }
        }
        return Image(width: outW, height: outH, pixels: result)
    }
}

/// Per output index along one axis: the first contributing source index, the number of taps and their
/// normalised triangle-filter weights (row-major, `stride` weights per output index).
struct FilterTaps {
    var starts: [Int] = []
    var counts: [Int] = []
    var weights: [Float] = []
    var stride = 0

    init(input: Int, output: Int) {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = filterScale  // the triangle filter has support 1, widened by the shrink factor
        stride = Int((support * 2).rounded(.up)) + 2
        weights = [Float](repeating: 0, count: output * stride)
        for i in 0..<output {
            let centre = (Double(i) + 0.5) * scale
            let first = max(Int((centre - support + 0.5).rounded(.down)), 0)
            let end = min(Int((centre + support + 0.5).rounded(.down)), input)
            var taps: [Double] = []
            for j in first..<max(end, first) {
                taps.append(max(0, 1 - abs(Double(j) + 0.5 - centre) / filterScale))
            }
            let total = taps.reduce(0, +)
            precondition(total > 0 && taps.count <= stride, "FilterTaps: no weight for output \(i)")
            starts.append(first)
            counts.append(taps.count)
            for (k, t) in taps.enumerated() { weights[i * stride + k] = Float(t / total) }
        }
    }
}
