/// Colour jitter and conversion to normalised planar `Float`.
extension Image {
    /// ITU-R BT.601 luma weights used for greyscale, as torchvision's `rgb_to_grayscale`:
    /// `grey = 0.2989 R + 0.587 G + 0.114 B`.
    public static let greyWeights: (Float, Float, Float) = (0.2989, 0.587, 0.114)

    /// This image with torchvision `ColorJitter`-style adjustments applied in the order brightness, contrast,
    /// saturation (torchvision draws a random order; callers wanting that can call this three times with the
    /// other factors at 1). With `v` the current value of a channel, clamped to [0, 255] after each step:
    /// - brightness `b`: `v ← b · v`
    /// - contrast `c`: `v ← c · v + (1 − c) · m`, `m` the mean over the image of the greyscale of the
    ///   brightness-adjusted image
    /// - saturation `s`: `v ← s · v + (1 − s) · g`, `g` the pixel's greyscale
    ///
    /// Factors are ≥ 0; 1 leaves the image unchanged, 0 gives black, mean grey and greyscale respectively.
    /// Intermediate values stay in `Float`; the result is rounded to nearest once (torchvision truncates after
    /// each step on `uint8` tensors, so results may differ from it by one or two levels).
    public func jittered(brightness: Float = 1, contrast: Float = 1, saturation: Float = 1) -> Image {
        precondition(brightness >= 0 && contrast >= 0 && saturation >= 0,
                     "Image.jittered: negative factor (\(brightness), \(contrast), \(saturation))")
        if brightness == 1 && contrast == 1 && saturation == 1 { return self }
        let (wr, wg, wb) = Image.greyWeights
        let count = width * height
        // Brightness, then contrast, depend on a channel's own value alone: one table of the 256 byte values.
        var level = (0..<256).map { min(Float($0) * brightness, 255) }
        if contrast != 1 {
            // The mean greyscale after brightness, from the histograms of the three channels.
            var histogram = [Int](repeating: 0, count: 3 * 256)
            pixels.withUnsafeBufferPointer { src in
                histogram.withUnsafeMutableBufferPointer { h in
                    for i in 0..<count {
                        h[Int(src[3 * i])] += 1
                        h[256 + Int(src[3 * i + 1])] += 1
                        h[512 + Int(src[3 * i + 2])] += 1
                    }
                }
            }
            var sum = 0.0
            for v in 0..<256 {
                sum += Double(level[v]) * (Double(wr) * Double(histogram[v]) + Double(wg) * Double(histogram[256 + v])
                                           + Double(wb) * Double(histogram[512 + v]))
            }
            let meanTerm = (1 - contrast) * (count > 0 ? Float(sum / Double(count)) : 0)
            level = level.map { min(max(contrast * $0 + meanTerm, 0), 255) }
        }
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                level.withUnsafeBufferPointer { t in
                    if saturation == 1 {
                        // Rounded once per byte value: the image is a table lookup.
                        let rounded = t.map { UInt8($0 + 0.5) }
                        rounded.withUnsafeBufferPointer { u in
                            for i in 0..<src.count { dst[i] = u[Int(src[i])] }
                        }
                        return
                    }
                    let (sw, sr, sg, sb) = (saturation, (1 - saturation) * wr, (1 - saturation) * wg,
                                            (1 - saturation) * wb)
                    for i in 0..<count {
                        let r = t[Int(src[3 * i])], g = t[Int(src[3 * i + 1])], b = t[Int(src[3 * i + 2])]
                        let grey = sr * r + sg * g + sb * b
                        dst[3 * i] = UInt8(min(max(sw * r + grey, 0), 255) + 0.5)
                        dst[3 * i + 1] = UInt8(min(max(sw * g + grey, 0), 255) + 0.5)
                        dst[3 * i + 2] = UInt8(min(max(sw * b + grey, 0), 255) + 0.5)
                    }
                }
            }
        }
        return Image(width: width, height: height, pixels: out)
    }

    /// The pixels as planar `[3, H, W]` floats, channel `c` normalised as `(v / 255 − mean[c]) / std[c]`
    /// (torchvision's `ToTensor` then `Normalize`). `mean` and `std` hold 3 values; the defaults give `v / 255`.
    public func toCHWFloat(mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1]) -> [Float] {
        [Float](unsafeUninitializedCapacity: 3 * width * height) { buffer, initialised in
            writeCHWFloat(into: buffer.baseAddress!, mean: mean, std: std)
            initialised = 3 * width * height
        }
    }

    /// Writes the normalised planes of `toCHWFloat(mean:std:)` to `destination`, for filling a batch tensor in
    /// place. Pixel `(x, y)` of channel `c` goes to `destination[c · planeStride + y · rowStride + x]`;
    /// `rowStride` defaults to `width` and `planeStride` to `rowStride · height`, so a larger stride places the
    /// image at the top-left of a bigger canvas (elements outside the image are not touched).
    /// Uses one 256-entry lookup table per channel.
    public func writeCHWFloat(
        into destination: UnsafeMutablePointer<Float>, mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1],
        rowStride: Int? = nil, planeStride: Int? = nil
    ) {
        precondition(mean.count == 3 && std.count == 3, "Image.writeCHWFloat: mean and std need 3 values each")
        let rowStride = rowStride ?? width
        let planeStride = planeStride ?? rowStride * height
        precondition(rowStride >= width && planeStride >= rowStride * height,
                     "Image.writeCHWFloat: strides \(rowStride), \(planeStride) too small for \(width)×\(height)")
        var table = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            for v in 0..<256 { table[c * 256 + v] = (Float(v) / 255 - mean[c]) / std[c] }
        }
        let w = width
        table.withUnsafeBufferPointer { lut in
            pixels.withUnsafeBufferPointer { src in
                let t0 = lut.baseAddress!, t1 = t0 + 256, t2 = t0 + 512
                for y in 0..<height {
                    let s = src.baseAddress! + y * w * 3
                    let d0 = destination + y * rowStride
                    let d1 = d0 + planeStride, d2 = d1 + planeStride
                    for x in 0..<w {
                        d0[x] = t0[Int(s[3 * x])]
                        d1[x] = t1[Int(s[3 * x + 1])]
                        d2[x] = t2[Int(s[3 * x + 2])]
                    }
                }
            }
        }
    }
}
