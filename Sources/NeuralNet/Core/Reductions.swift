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
}
