/// Vectorised loops of the square initialisation (SIMD4 lanes; the scalar tail finishes each row).
extension AugmentingPathKernel {
    /// Folds one row into the running column minima: `v[j] = min(v[j], row[j])`, with `argmin[j] = i`
    /// where the row is strictly smaller. Returns whether the row holds a `nan` or `−inf`.
    @inline(__always)
    static func foldColumnMinima(_ row: UnsafePointer<Double>, rowIndex i: Int, count n: Int,
                                 minima v: UnsafeMutablePointer<Double>, argmin: UnsafeMutablePointer<Int>) -> Bool {
        let floor = SIMD4<Double>(repeating: -.infinity)
        var bad = SIMDMask<SIMD4<Int64>>(repeating: false)
        var j = 0
        while j + 4 <= n {
            let x = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD4<Double>.self)
            let current = UnsafeRawPointer(v + j).loadUnaligned(as: SIMD4<Double>.self)
            bad = bad .| .!(x .> floor)
            let smaller = x .< current
            if any(smaller) {
                for l in 0..<4 where smaller[l] {
                    v[j + l] = x[l]
                    argmin[j + l] = i
                }
            }
            j += 4
        }
        var badTail = false
        while j < n {
            let x = row[j]
            badTail = badTail || !(x > -.infinity)
            if x < v[j] {
                v[j] = x
                argmin[j] = i
            }
            j += 1
        }
        return any(bad) || badTail
    }

    /// `min over j in lo..<hi of (row[j] − v[j])`, `+inf` for an empty range.
    @inline(__always)
    static func leastReducedCost(_ row: UnsafePointer<Double>, _ v: UnsafePointer<Double>, from lo: Int, to hi: Int)
        -> Double
    {
        var acc = SIMD4<Double>(repeating: .infinity)
        var j = lo
        while j + 4 <= hi {
            let h = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD4<Double>.self)
                - UnsafeRawPointer(v + j).loadUnaligned(as: SIMD4<Double>.self)
            acc = acc.replacing(with: h, where: h .< acc)
            j += 4
        }
        var least = acc.min()
        while j < hi {
            let h = row[j] - v[j]
            if h < least { least = h }
            j += 1
        }
        return least
    }
}
