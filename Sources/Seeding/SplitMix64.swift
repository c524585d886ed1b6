// SplitMix64: G. L. Steele Jr., D. Lea and C. H. Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014, with the golden-ratio increment and the 64-bit finaliser of java.util.SplittableRandom (Stafford's
// "Mix13"), plus the sampling helpers the data pipeline and the tests draw from it.

/// A small, fast, seedable random number generator (SplitMix64, Steele, Lea & Flood, OOPSLA 2014), so that
/// data order, augmentation, synthetic scenes and random test inputs are exact functions of their seed on
/// every platform. It also seeds `SeededGenerator`.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator state; each `next()` adds the golden-ratio increment and mixes.
    public var state: UInt64

    /// A generator started from `seed`.
    public init(seed: UInt64) { state = seed }

    /// A generator whose seed mixes several values (for example seed, epoch, image index), so that streams for
    /// different tuples are independent.
    public init(mixing values: UInt64...) {
        var s: UInt64 = 0x243F_6A88_85A3_08D3
        for v in values { s = SplitMix64.mix(s ^ SplitMix64.mix(v &+ 0x9E37_79B9_7F4A_7C15)) }
        state = s
    }

    /// The SplitMix64 output function: a bijective 64-bit mixer.
    @inlinable
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// A uniform `Double` in `[0, 1)` from the top 53 bits.
    @inlinable
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform `Double` in `range` (`lowerBound + unit · (upper − lower)`).
    @inlinable
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + unit() * (range.upperBound - range.lowerBound)
    }

    /// A uniform integer in `range`.
    @inlinable
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// A standard normal sample (Box–Muller).
    @inlinable
    public mutating func normal() -> Double {
        let u = max(unit(), 1e-300), v = unit()
        return (-2 * _log(u)).squareRoot() * _cos(2 * Double.pi * v)
    }

    /// A Gamma(`shape`, 1) sample, `shape` ≥ 1 (Marsaglia & Tsang, "A simple method for generating gamma
    /// variables", ACM TOMS 2000: a squeezed cubic transform of normal samples, rejected until accepted).
    public mutating func gamma(shape: Double) -> Double {
        precondition(shape >= 1, "SplitMix64.gamma: shape \(shape) below 1")
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let x = normal(), t = 1 + c * x
            guard t > 0 else { continue }
            let v = t * t * t, u = max(unit(), 1e-300)
            if _log(u) < 0.5 * x * x + d - d * v + d * _log(v) { return d * v }
        }
    }

    /// A Beta(`a`, `b`) sample, `a`, `b` ≥ 1, as `X / (X + Y)` of Gamma(`a`) and Gamma(`b`) samples.
    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(shape: a), y = gamma(shape: b)
        return x / (x + y)
    }

    /// `true` with probability `p`.
    @inlinable
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// A random permutation of `0..<n` (Fisher–Yates, from the last position down).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            p.swapAt(i, j)
        }
        return p
    }
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _log(_ x: Double) -> Double { Glibc.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@usableFromInline func _log(_ x: Double) -> Double { Darwin.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
