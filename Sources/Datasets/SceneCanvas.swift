import Imaging
import Seeding

/// The shapes of the synthetic scenes.
enum SceneShape: Int {
    case ellipse = 0, rectangle = 1, triangle = 2
}

/// An RGB pixel buffer with an owner map (which object covers each pixel, painter's order), used to draw the
/// synthetic scenes and to measure how much of each object stays visible. Pixel `(x, y)` covers
/// `[x, x+1) × [y, y+1)`; a shape paints the pixels whose centre `(x + 0.5, y + 0.5)` lies inside it.
struct SceneCanvas {
    let width: Int
    let height: Int
    var pixels: [UInt8]
    /// Index of the object drawn last at each pixel, −1 for background and distractors.
    var owner: [Int32]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        owner = [Int32](repeating: -1, count: width * height)
    }

    /// Fills the canvas with a linear gradient from `c0` to `c1` along `angle`, plus smooth value noise:
    /// a random grid of offsets every `cell` pixels in `[−amplitude, amplitude]`, bilinearly interpolated.
    mutating func background(c0: (Double, Double, Double), c1: (Double, Double, Double), angle: Double,
                             amplitude: Double, cell: Int, rng: inout SplitMix64) {
        let gw = width / cell + 2, gh = height / cell + 2
        var grid = [Double](repeating: 0, count: gw * gh * 3)
        for i in grid.indices { grid[i] = rng.uniform(-amplitude...amplitude) }
        let ca = _cosine(angle), sa = _cosine(angle - Double.pi / 2)
        let diag = Double(width * width + height * height).squareRoot()
        let inv = 1 / Double(cell)
        let w = width, h = height
        pixels.withUnsafeMutableBufferPointer { p in
            grid.withUnsafeBufferPointer { g in
                for y in 0..<h {
                    let gy = Double(y) * inv, iy = Int(gy), fy = gy - Double(iy)
                    for x in 0..<w {
                        let gx = Double(x) * inv, ix = Int(gx), fx = gx - Double(ix)
                        let t = min(1, max(0, ((Double(x) - Double(w) / 2) * ca + (Double(y) - Double(h) / 2) * sa) / diag + 0.5))
                        let o = (y * w + x) * 3
                        let g00 = (iy * gw + ix) * 3, g01 = g00 + 3, g10 = g00 + gw * 3, g11 = g10 + 3
                        let w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy
                        let base = (c0.0 + (c1.0 - c0.0) * t, c0.1 + (c1.1 - c0.1) * t, c0.2 + (c1.2 - c0.2) * t)
                        for c in 0..<3 {
                            let n = g[g00 + c] * w00 + g[g01 + c] * w01 + g[g10 + c] * w10 + g[g11 + c] * w11
                            let b = c == 0 ? base.0 : (c == 1 ? base.1 : base.2)
                            p[o + c] = UInt8(min(255, max(0, b + n)).rounded())
                        }
                    }
                }
            }
        }
    }

    /// Paints `shape` filling the integer box `[x1, x2) × [y1, y2)` (its full extent) with `fill`, and the band
    /// within `outline` pixels of its edge with `edge`; marks the painted pixels as owned by `object` (−1 for a
    /// distractor) and returns how many pixels were painted. `apexX` is the triangle's tip; `flip` puts it
    /// at the bottom; `ring` paints only the outline band (a hollow shape, for distractors).
    @discardableResult
    mutating func paint(_ shape: SceneShape, x1: Int, y1: Int, x2: Int, y2: Int, fill: (UInt8, UInt8, UInt8),
                        edge: (UInt8, UInt8, UInt8), outline: Double, apexX: Double = 0, flip: Bool = false,
                        ring: Bool = false, object: Int32) -> Int {
        let bx1 = max(0, x1), by1 = max(0, y1), bx2 = min(width, x2), by2 = min(height, y2)
        guard bx2 > bx1, by2 > by1 else { return 0 }
        let fx1 = Double(x1), fy1 = Double(y1), fx2 = Double(x2), fy2 = Double(y2)
        let cx = (fx1 + fx2) / 2, cy = (fy1 + fy2) / 2, rx = (fx2 - fx1) / 2, ry = (fy2 - fy1) / 2
        // Triangle: tip (apexX, top) and base corners (x1, bottom), (x2, bottom); `flip` mirrors vertically.
        let tipY = flip ? fy2 : fy1, baseY = flip ? fy1 : fy2
        let tri = [(apexX, tipY), (fx1, baseY), (fx2, baseY)]
        var edges: [(Double, Double, Double)] = []  // a·x + b·y + c ≥ 0 inside, normalised so it is a distance
        if shape == .triangle {
            let sign: Double = flip ? 1 : -1
            for k in 0..<3 {
                let (ax, ay) = tri[k], (bx, by) = tri[(k + 1) % 3]
                var a = -(by - ay), b = bx - ax
                let len = max(1e-9, (a * a + b * b).squareRoot())
                a /= len; b /= len
                let c = -(a * ax + b * ay)
                edges.append((a * sign, b * sign, c * sign))
            }
        }
        var count = 0
        let w = width
        pixels.withUnsafeMutableBufferPointer { p in
            owner.withUnsafeMutableBufferPointer { own in
                for y in by1..<by2 {
                    let py = Double(y) + 0.5
                    for x in bx1..<bx2 {
                        let px = Double(x) + 0.5
                        var dist: Double  // distance inside from the edge; < 0 outside
                        switch shape {
                        case .rectangle:
                            dist = min(min(px - fx1, fx2 - px), min(py - fy1, fy2 - py))
                        case .ellipse:
                            let u = (px - cx) / rx, v = (py - cy) / ry
                            dist = (1 - (u * u + v * v).squareRoot()) * min(rx, ry)
                        case .triangle:
                            dist = .infinity
                            for e in edges { dist = min(dist, e.0 * px + e.1 * py + e.2) }
                        }
                        if dist < 0 { continue }
                        let onEdge = dist < outline
                        if ring && !onEdge { continue }
                        let o = (y * w + x) * 3
                        let col = onEdge ? edge : fill
                        p[o] = col.0; p[o + 1] = col.1; p[o + 2] = col.2
                        own[y * w + x] = object
                        count += 1
                    }
                }
            }
        }
        return count
    }

    /// Draws a straight line of the given thickness from `(ax, ay)` to `(bx, by)` (a distractor: owner −1).
    mutating func line(ax: Double, ay: Double, bx: Double, by: Double, thickness: Double, color: (UInt8, UInt8, UInt8)) {
        let dx = bx - ax, dy = by - ay
        let len2 = max(1e-9, dx * dx + dy * dy)
        let r = thickness / 2
        let x1 = max(0, Int(min(ax, bx) - r)), x2 = min(width, Int(max(ax, bx) + r) + 1)
        let y1 = max(0, Int(min(ay, by) - r)), y2 = min(height, Int(max(ay, by) + r) + 1)
        guard x2 > x1, y2 > y1 else { return }
        for y in y1..<y2 {
            let py = Double(y) + 0.5
            for x in x1..<x2 {
                let px = Double(x) + 0.5
                let t = min(1, max(0, ((px - ax) * dx + (py - ay) * dy) / len2))
                let qx = ax + t * dx - px, qy = ay + t * dy - py
                if qx * qx + qy * qy <= r * r {
                    let o = (y * width + x) * 3
                    pixels[o] = color.0; pixels[o + 1] = color.1; pixels[o + 2] = color.2
                    owner[y * width + x] = -1
                }
            }
        }
    }

    /// Pixels still owned by each object `0..<count` after all painting.
    func visibleCounts(_ count: Int) -> [Int] {
        var c = [Int](repeating: 0, count: count)
        for o in owner where o >= 0 { c[Int(o)] += 1 }
        return c
    }

    /// The canvas as an `Image`.
    var image: Image { Image(width: width, height: height, pixels: pixels) }
}

@inline(__always) func _cosine(_ x: Double) -> Double { _cos(x) }
