import Foundation

/// Alpha compositing of decoded RGBA onto black, in linear light with the sRGB transfer curves
/// (IEC 61966-2-1): `linear(c) = c / 12.92` for `c ≤ 0.04045`, else `((c + 0.055) / 1.055)^2.4`;
/// `sRGB(l) = 12.92 · l` for `l ≤ 0.0031308`, else `1.055 · l^(1/2.4) − 0.055`.
enum Compositing {
    /// `linear(c / 255)` for every 8-bit sRGB value.
    static let linearFromSRGB: [Float] = (0..<256).map { i in
        let c = Double(i) / 255
        return Float(c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4))
    }

    /// `round(255 · sRGB(l))` for `l` in [0, 1].
    @inline(__always)
    static func srgbByte(fromLinear l: Float) -> UInt8 {
        let v = Double(max(0, min(1, l)))
        let c = v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1 / 2.4) - 0.055
        return UInt8((c * 255).rounded())
    }

    /// Straight (not premultiplied) interleaved RGBA bytes to RGB bytes composited on black:
    /// `out = round(255 · sRGB(linear(c) · α / 255))`; `α = 255` copies, `α = 0` gives 0.
    static func onBlack(rgba: [UInt8]) -> [UInt8] {
        let count = rgba.count / 4
        var out = [UInt8](repeating: 0, count: count * 3)
        linearFromSRGB.withUnsafeBufferPointer { table in
            rgba.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<count {
                        let s = src.baseAddress! + i * 4, d = dst.baseAddress! + i * 3
                        let a = s[3]
                        if a == 255 {
                            d[0] = s[0]; d[1] = s[1]; d[2] = s[2]
                        } else if a != 0 {
                            let w = Float(a) / 255
                            d[0] = srgbByte(fromLinear: table[Int(s[0])] * w)
                            d[1] = srgbByte(fromLinear: table[Int(s[1])] * w)
                            d[2] = srgbByte(fromLinear: table[Int(s[2])] * w)
                        }
                    }
                }
            }
        }
        return out
    }
}
