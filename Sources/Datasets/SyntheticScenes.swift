import Boxes
import Foundation
import Imaging
import Seeding

/// One rendered synthetic scene.
public struct SyntheticScene: Sendable {
    /// The picture.
    public var image: Image
    /// The annotated objects: each box is the object's full extent (even where occluded), in pixels.
    public var annotations: [Annotation]
    /// Objects drawn, annotated or not (objects that found no place under the placement rule are not drawn).
    public var drawnObjects: Int
    /// Objects drawn but left unannotated because less than `minVisibleFraction` of them stayed visible.
    public var hiddenObjects: Int
}

/// The embedded default dataset: synthetic crowded scenes of simple shapes on cluttered backgrounds.
///
/// Each image: a two-colour gradient with smooth value noise, 6–18 distractors (lines, hollow rings, specks
/// smaller than any object), then up to 10–60 objects of up to 3 shape classes (filled ellipse, rectangle or
/// square, triangle; random colour, darker outline), 16–64 px, most of them gathered around 2–5 cluster centres
/// (blobs, or rows where each object covers part of its neighbour) so they overlap, drawn in painter's order.
/// An object is only placed where every earlier object keeps at least half of its box uncovered (else the
/// cluster's next place is tried, and after 8 tries the object is dropped), and it is annotated with its full
/// box unless less than 40% of its own pixels stay visible. Every image is a
/// function of `(seed, split, index)` alone, so generation is deterministic and parallel.
public enum SyntheticScenes {
    /// Renders image `index` of `split` (0 = train, 1 = val) for `seed`.
    public static func render(index: Int, split: Int = 0, seed: UInt64,
                              config: SyntheticSceneConfig = SyntheticSceneConfig()) -> SyntheticScene {
        var rng = SplitMix64(mixing: seed, UInt64(split), UInt64(index))
        let (s, sh) = (config.imageSize, config.height)
        var canvas = SceneCanvas(width: s, height: sh)
        let c0 = randomColor(&rng, saturation: 0.1...0.5, value: 0.3...0.9)
        let c1 = randomColor(&rng, saturation: 0.1...0.5, value: 0.3...0.9)
        canvas.background(c0: (Double(c0.0), Double(c0.1), Double(c0.2)), c1: (Double(c1.0), Double(c1.1), Double(c1.2)),
                          angle: rng.uniform(0...(2 * Double.pi)), amplitude: config.noiseAmplitude,
                          cell: config.noiseCell, rng: &rng)
        drawDistractors(&canvas, count: rng.int(config.minDistractors...config.maxDistractors), rng: &rng)

        let n = rng.int(config.minObjects...config.maxObjects)
        let lo = Double(config.minObjectSize), hi = Double(config.maxObjectSize)
        // A cluster: centre, typical object side (log-uniform, so neighbours have similar sizes) and kind: a blob
        // (Gaussian scatter around the centre) or a row (objects stepping along a line, each partly covering the
        // previous one, like a queue of people).
        var clusters = (0..<rng.int(config.minClusters...config.maxClusters)).map { _ in
            SceneCluster(x: rng.uniform(0.15...0.85) * Double(s), y: rng.uniform(0.15...0.85) * Double(sh),
                         side: _exp(rng.uniform(_ln(lo)...(_ln(hi)))), isRow: rng.chance(config.rowShare),
                         angle: rng.uniform(0...(2 * Double.pi)), step: config.rowStep * rng.uniform(0.8...1.2))
        }
        var objects: [(box: Box, cls: Int, area: Int)] = []
        var occupancy = BoxOccupancy(width: s, height: sh)
        for _ in 0..<n {
            let cls = rng.int(0...(config.classCount - 1))
            let clustered = !clusters.isEmpty && rng.chance(config.clusteredShare)
            let k = clusters.isEmpty ? 0 : rng.int(0...(clusters.count - 1))
            let side = clustered ? min(hi, max(lo, clusters[k].side * _exp(rng.normal() * config.clusterSizeJitter)))
                                 : _exp(rng.uniform(_ln(lo)...(_ln(hi))))
            let aspect = rng.chance(0.25) ? 1 : _exp(rng.uniform(_ln(0.6)...(_ln(1.6))))
            let w = min(config.maxObjectSize, max(config.minObjectSize, Int((side * aspect.squareRoot()).rounded())))
            let h = min(config.maxObjectSize, max(config.minObjectSize, Int((side / aspect.squareRoot()).rounded())))
            // Where it goes: its cluster's next place (or anywhere), tried again while it would bury an earlier object.
            var spot: (Int, Int)?
            for _ in 0..<8 {
                var cx = rng.uniform(0...Double(s)), cy = rng.uniform(0...Double(sh))
                if clustered { (cx, cy) = clusters[k].place(spread: config.clusterSpread, rng: &rng) }
                let x1 = min(s - w, max(0, Int((cx - Double(w) / 2).rounded())))
                let y1 = min(sh - h, max(0, Int((cy - Double(h) / 2).rounded())))
                if occupancy.accepts(x1: x1, y1: y1, x2: x1 + w, y2: y1 + h, minVisible: config.minVisibleBoxFraction) {
                    spot = (x1, y1)
                    break
                }
            }
            guard let (x1, y1) = spot else { continue }
            occupancy.add(x1: x1, y1: y1, x2: x1 + w, y2: y1 + h)
            let fill = randomColor(&rng, saturation: 0.45...1, value: 0.45...1)
            let edge = (UInt8(Double(fill.0) * 0.45), UInt8(Double(fill.1) * 0.45), UInt8(Double(fill.2) * 0.45))
            let area = canvas.paint(SceneShape(rawValue: cls)!, x1: x1, y1: y1, x2: x1 + w, y2: y1 + h, fill: fill,
                                    edge: edge, outline: config.outlineWidth,
                                    apexX: rng.uniform(Double(x1)...Double(x1 + w)), flip: rng.chance(0.5),
                                    object: Int32(objects.count))
            objects.append((Box(x1: Double(x1), y1: Double(y1), x2: Double(x1 + w), y2: Double(y1 + h)), cls, area))
        }
        let visible = canvas.visibleCounts(objects.count)
        var annotations: [Annotation] = []
        for (i, o) in objects.enumerated() where o.area > 0 && Double(visible[i]) >= config.minVisibleFraction * Double(o.area) {
            annotations.append(Annotation(box: o.box, classIndex: o.cls))
        }
        return SyntheticScene(image: canvas.image, annotations: annotations, drawnObjects: objects.count,
                              hiddenObjects: objects.count - annotations.count)
    }

    /// Background clutter: lines (1–3 px), hollow rings and clusters of specks (2–5 px, below the smallest object).
    static func drawDistractors(_ canvas: inout SceneCanvas, count: Int, rng: inout SplitMix64) {
        let s = Double(canvas.width), sh = Double(canvas.height)
        for _ in 0..<count {
            let color = randomColor(&rng, saturation: 0...0.8, value: 0.2...1)
            switch rng.int(0...2) {
            case 0:
                canvas.line(ax: rng.uniform(0...s), ay: rng.uniform(0...sh), bx: rng.uniform(0...s), by: rng.uniform(0...sh),
                            thickness: rng.uniform(1...3), color: color)
            case 1:
                let w = rng.int(10...80), h = rng.int(10...80)
                let x = rng.int(-10...Int(s) - 10), y = rng.int(-10...Int(sh) - 10)
                canvas.paint(.ellipse, x1: x, y1: y, x2: x + w, y2: y + h, fill: color, edge: color,
                             outline: rng.uniform(1...2.5), ring: true, object: -1)
            default:
                let cx = rng.uniform(0...s), cy = rng.uniform(0...sh)
                for _ in 0..<rng.int(3...10) {
                    let x = Int(cx + rng.normal() * 15), y = Int(cy + rng.normal() * 15), k = rng.int(2...5)
                    canvas.paint(.rectangle, x1: x, y1: y, x2: x + k, y2: y + k, fill: color, edge: color, outline: 0,
                                 object: -1)
                }
            }
        }
    }

    /// Where objects of one cluster go.
struct SceneCluster {
    var x: Double, y: Double, side: Double, isRow: Bool, angle: Double, step: Double
    var placed = 0

    /// The next object's centre: for a row, `step · side` further along the row (alternating sides of the centre
    /// so the row grows both ways) with a small sideways jitter; for a blob, Gaussian around the centre.
    mutating func place(spread: Double, rng: inout SplitMix64) -> (Double, Double) {
        defer { placed += 1 }
        if isRow {
            let k = Double((placed + 1) / 2) * (placed % 2 == 0 ? 1 : -1)
            let along = k * step * side, across = rng.normal() * 0.15 * side
            let c = _cos(angle), sn = _cos(angle - Double.pi / 2)
            return (x + along * c - across * sn, y + along * sn + across * c)
        }
        return (x + rng.normal() * spread * side, y + rng.normal() * spread * side)
    }
}

/// A colour from hue (uniform), saturation and value ranges (HSV → RGB, 8-bit).
    static func randomColor(_ rng: inout SplitMix64, saturation: ClosedRange<Double>,
                            value: ClosedRange<Double>) -> (UInt8, UInt8, UInt8) {
        let h = rng.uniform(0...5.999_999), s = rng.uniform(saturation), v = rng.uniform(value)
        let i = Int(h), f = h - Double(i)
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        let (r, g, b): (Double, Double, Double)
        switch i {
        case 0: (r, g, b) = (v, t, p)
        case 1: (r, g, b) = (q, v, p)
        case 2: (r, g, b) = (p, v, t)
        case 3: (r, g, b) = (p, q, v)
        case 4: (r, g, b) = (t, p, v)
        default: (r, g, b) = (v, p, q)
        }
        return (UInt8((r * 255).rounded()), UInt8((g * 255).rounded()), UInt8((b * 255).rounded()))
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
@inline(__always) func _ln(_ x: Double) -> Double { Glibc.log(x) }
#else
import Darwin
@inline(__always) func _exp(_ x: Double) -> Double { Darwin.exp(x) }
@inline(__always) func _ln(_ x: Double) -> Double { Darwin.log(x) }
#endif
