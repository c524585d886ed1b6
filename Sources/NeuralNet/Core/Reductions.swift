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

    /// `(Σ a[i]·[m[i] ≠ 0], Σ a[i]·[m[i] ≠ 0]·(b[i] − c))`: the sums of `sumAndDeviationDot` over the positions
    /// where the ReLU output `m` (never negative, never −0) is positive. Branch-free: the mask is built from
    /// the bit pattern, so random signs cost no mispredictions.
    @inline(__always)
    static func maskedSumAndDeviationDot(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ m: UnsafePointer<Float>, _ n: Int, _ c: Float
    ) -> (Float, Float) {
        var s1 = SIMD16<Float>(repeating: 0), s2 = SIMD16<Float>(repeating: 0)
        let cv = SIMD16<Float>(repeating: c), zero = SIMD16<UInt32>(repeating: 0)
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b), rm = UnsafeRawPointer(m)
        while i + 16 <= n {
            let mv = rm.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<UInt32>.self)
            let keep = zero &- ((zero &- mv) &>> 31)
            let ab = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<UInt32>.self) & keep
            let av = unsafeBitCast(ab, to: SIMD16<Float>.self)
            let bv = rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            s1 += av
            s2 += av * (bv - cv)
            i += 16
        }
        var t1 = s1.sum(), t2 = s2.sum()
        while i < n {
            let av = a[i] * keepFactor(m[i])
            t1 += av; t2 += av * (b[i] - c)
            i += 1
        }
        return (t1, t2)
    }

    /// `v` where the ReLU output `m` is positive, else `+0`, without a branch.
    @inline(__always)
    static func masked(_ v: Float, by m: Float) -> Float {
        let keep = 0 &- ((0 &- m.bitPattern) >> 31)
        return Float(bitPattern: v.bitPattern & keep)
    }

    /// 1 where the ReLU output `m` is positive, else 0.
    @inline(__always)
    static func keepFactor(_ m: Float) -> Float { m.bitPattern == 0 ? 0 : 1 }

    /// `o[i] = k·(masked(dy[i], by: y[i]) − u − (x[i] − mean)·w)`, 16 lanes at a time.
    @inline(__always)
    static func maskedNormGradient(
        _ o: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
        _ n: Int, k: Float, u: Float, mean: Float, w: Float
    ) {
        let zero = SIMD16<UInt32>(repeating: 0)
        let kv = SIMD16<Float>(repeating: k), uv = SIMD16<Float>(repeating: u)
        let mv = SIMD16<Float>(repeating: mean), wv = SIMD16<Float>(repeating: w)
        let ro = UnsafeMutableRawPointer(o), rd = UnsafeRawPointer(dy), rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y)
        var i = 0
        while i + 16 <= n {
            let yb = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<UInt32>.self)
            let keep = zero &- ((zero &- yb) &>> 31)
            let d = unsafeBitCast(rd.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<UInt32>.self) & keep, to: SIMD16<Float>.self)
            let xv = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            ro.storeBytes(of: kv * (d - uv - (xv - mv) * wv), toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { o[i] = k * (masked(dy[i], by: y[i]) - u - (x[i] - mean) * w); i += 1 }
    }
}
