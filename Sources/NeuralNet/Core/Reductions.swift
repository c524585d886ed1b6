/// Vectorised reductions over contiguous Float rows. Plain loops do not vectorise a Float sum (the order of
/// additions would change), so these keep 16-lane partial sums explicitly: the result differs from a
/// sequential sum only by rounding.
enum Reductions {
    /// `Σ p[i]`.
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 16 <= n {
            acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        var s = acc.sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    /// `Σ (p[i] − c)²`.
    @inline(__always)
    static func sumSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, _ c: Float) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        let cv = SIMD16<Float>(repeating: c)
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 16 <= n {
            let d = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - cv
            acc += d * d
            i += 16
        }
        var s = acc.sum()
        while i < n { let d = p[i] - c; s += d * d; i += 1 }
        return s
    }

    /// `(Σ a[i], Σ a[i]·(b[i] − c))`.
    @inline(__always)
    static func sumAndDeviationDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, _ c: Float) -> (Float, Float) {
        var s1 = SIMD16<Float>(repeating: 0), s2 = SIMD16<Float>(repeating: 0)
        let cv = SIMD16<Float>(repeating: c)
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 16 <= n {
            let av = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            let bv = rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            s1 += av
            s2 += av * (bv - cv)
            i += 16
        }
        var t1 = s1.sum(), t2 = s2.sum()
        while i < n { t1 += a[i]; t2 += a[i] * (b[i] - c); i += 1 }
        return (t1, t2)
    }

    /// All ones in the lanes where `t > 0` (sign clear and not ±0), else zero: the mask of `max(t, 0) > 0`.
    @inline(__always)
    static func positiveMask(_ t: SIMD16<Float>) -> SIMD16<Int32> {
        let b = unsafeBitCast(t, to: SIMD16<Int32>.self)
        return ((0 &- b) & ~b) &>> 31
    }

    /// `(Σ d[i], Σ d[i]·(x[i] − c))` with `d[i] = dy[i]` where `x[i]·scale + shift > 0` (a fused ReLU's output is
    /// positive there), else 0. Branch-free.
    @inline(__always)
    static func reluMaskedSumAndDeviationDot(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, _ c: Float, scale: Float, shift: Float
    ) -> (Float, Float) {
        var s1 = SIMD16<Float>(repeating: 0), s2 = SIMD16<Float>(repeating: 0)
        let cv = SIMD16<Float>(repeating: c), av = SIMD16<Float>(repeating: scale), bv = SIMD16<Float>(repeating: shift)
        var i = 0
        let rd = UnsafeRawPointer(dy), rx = UnsafeRawPointer(x)
        while i + 16 <= n {
            let xv = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            let keep = positiveMask(xv * av + bv)
            let d = unsafeBitCast(rd.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Int32>.self) & keep,
                                  to: SIMD16<Float>.self)
            s1 += d
            s2 += d * (xv - cv)
            i += 16
        }
        var t1 = s1.sum(), t2 = s2.sum()
        while i < n {
            if x[i] * scale + shift > 0 { t1 += dy[i]; t2 += dy[i] * (x[i] - c) }
            i += 1
        }
        return (t1, t2)
    }

    /// `o[i] = k·(d[i] − u − (x[i] − mean)·w)`, `d` as in `reluMaskedSumAndDeviationDot`, 16 lanes at a time.
    @inline(__always)
    static func reluMaskedNormGradient(
        _ o: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int,
        k: Float, u: Float, mean: Float, w: Float, scale: Float, shift: Float
    ) {
        let kv = SIMD16<Float>(repeating: k), uv = SIMD16<Float>(repeating: u)
        let mv = SIMD16<Float>(repeating: mean), wv = SIMD16<Float>(repeating: w)
        let av = SIMD16<Float>(repeating: scale), bv = SIMD16<Float>(repeating: shift)
        let ro = UnsafeMutableRawPointer(o), rd = UnsafeRawPointer(dy), rx = UnsafeRawPointer(x)
        var i = 0
        while i + 16 <= n {
            let xv = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            let keep = positiveMask(xv * av + bv)
            let d = unsafeBitCast(rd.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Int32>.self) & keep,
                                  to: SIMD16<Float>.self)
            ro.storeBytes(of: kv * (d - uv - (xv - mv) * wv), toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n {
            let d: Float = x[i] * scale + shift > 0 ? dy[i] : 0
            o[i] = k * (d - u - (x[i] - mean) * w)
            i += 1
        }
    }

    /// `o[i] = d[i]` with `d[i] = g[i]` where `y[i] > 0`, else 0 (the gradient through a ReLU whose output is `y`),
    /// and `(Σ d[i], Σ d[i]·(x[i] − c))`, in one pass.
    @inline(__always)
    static func reluGradientSumAndDeviationDot(
        _ o: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
        _ x: UnsafePointer<Float>, _ n: Int, _ c: Float
    ) -> (Float, Float) {
        var s1 = SIMD16<Float>(repeating: 0), s2 = SIMD16<Float>(repeating: 0)
        let cv = SIMD16<Float>(repeating: c)
        let ro = UnsafeMutableRawPointer(o), rg = UnsafeRawPointer(g), ry = UnsafeRawPointer(y), rx = UnsafeRawPointer(x)
        var i = 0
        while i + 16 <= n {
            let keep = positiveMask(ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
            let d = unsafeBitCast(rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Int32>.self) & keep,
                                  to: SIMD16<Float>.self)
            ro.storeBytes(of: d, toByteOffset: i * 4, as: SIMD16<Float>.self)
            s1 += d
            s2 += d * (rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - cv)
            i += 16
        }
        var t1 = s1.sum(), t2 = s2.sum()
        while i < n {
            let d: Float = y[i] > 0 ? g[i] : 0
            o[i] = d
            t1 += d; t2 += d * (x[i] - c)
            i += 1
        }
        return (t1, t2)
    }
}
