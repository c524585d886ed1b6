import Boxes
import Criterion
import TestSupport
import XCTest


/// Random scenes and Float finite differences shared by the criterion tests.
struct Scenes {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func floats(_ n: Int, _ lo: Float, _ hi: Float) -> [Float] {
        (0..<n).map { _ in Float.random(in: lo..<hi, using: &rng) }
    }

    /// `count` boxes of sides 8…40 px inside a `size` × `size` image, crowded (centres in the middle half).
    mutating func boxes(_ count: Int, size: Double) -> [Box] {
        (0..<count).map { _ in
            let w = Double.random(in: 8..<40, using: &rng), h = Double.random(in: 8..<40, using: &rng)
            let cx = Double.random(in: size * 0.25..<size * 0.75, using: &rng)
            let cy = Double.random(in: size * 0.25..<size * 0.75, using: &rng)
            return Box(cx: cx, cy: cy, w: w, h: h)
        }
    }

    mutating func targets(_ count: Int, classes: Int, size: Double) -> ImageTargets {
        ImageTargets(boxes: boxes(count, size: size),
                     classes: (0..<count).map { _ in Int.random(in: 0..<classes, using: &rng) })
    }
}

/// Anchors of a `cells × cells` grid with stride `stride` and three shapes per cell (sizes 16…32 px).
func gridAnchors(cells: Int, stride: Double) -> [Box] {
    var out = [Box]()
    for y in 0..<cells {
        for x in 0..<cells {
            let cx = (Double(x) + 0.5) * stride, cy = (Double(y) + 0.5) * stride
            for (w, h) in [(16.0, 16.0), (24.0, 32.0), (32.0, 24.0)] { out.append(Box(cx: cx, cy: cy, w: w, h: h)) }
        }
    }
    return out
}

/// Central differences of `f` w.r.t. the Float array `x`, exact in the step actually taken:
/// `(f(x + h) − f(x − h)) / (Double(Float(x + h)) − Double(Float(x − h)))`, entries in `skip` left at 0.
func floatGradient(_ x: [Float], h: Float = 1e-4, skip: Set<Int> = [], _ f: ([Float]) -> Double) -> [Double] {
    var g = [Double](repeating: 0, count: x.count)
    var xp = x
    for i in x.indices where !skip.contains(i) {
        let hi = x[i] + h, lo = x[i] - h
        xp[i] = hi
        let fp = f(xp)
        xp[i] = lo
        let fm = f(xp)
        xp[i] = x[i]
        g[i] = (fp - fm) / (Double(hi) - Double(lo))
    }
    return g
}

/// Asserts analytic Float gradients match finite differences (rtol 2e-4, atol 2e-6), skipping `skip`.
func assertGradient(
    _ analytic: [Float], _ numeric: [Double], skip: Set<Int> = [], _ label: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    var a = analytic.map(Double.init)
    for i in skip { a[i] = 0 }
    assertClose(a, numeric, rtol: 2e-4, atol: 2e-6, label, file: file, line: line)
}
