import Boxes
import Foundation

/// Overlapping tiles over an image larger than the network input, and the merge of the tiles' detections.
///
/// Slicing follows SAHI (Akyon, Altinuc & Temizel, "Slicing Aided Hyper Inference and Fine-tuning for Small Object
/// Detection", ICIP 2022): tiles of `side` × `side` image pixels, neighbours sharing at least `overlap` pixels, each
/// tile letterboxed to the input like a whole image, so small objects reach the network at (up to) their native
/// size. The merge differs from SAHI's NMS over every box, which would undo what the set head was trained for
/// (neighbours in a crowd are not duplicates):
///
/// 1. **Ownership by centre.** The cut between two neighbouring tiles is the middle of their shared band; each tile
///    owns the part of the image on its side of every cut (its *core*), and keeps the detections whose box centre
///    lies in its core. The cores partition the image, so every object is reported by exactly one tile; an object
///    no larger than the overlap whose centre lies in a tile's core lies wholly inside that tile.
/// 2. **Merge across tile borders only.** A box that touches an edge of its tile inside the image was cut by that
///    tile (an object larger than the overlap); its other part may be owned by a neighbour. Two kept boxes of
///    different tiles and the same class become one detection — the higher score and the union of the boxes (SAHI's
///    non-maximum merging, restricted to cut boxes) — when one of them is cut at an edge and the other continues
///    past that edge along the same rows (or columns): 1-D IoU of their extents along the edge at least
///    `mergeOverlap`. Boxes that no tile edge cuts are never merged.
public struct Tiling: Sendable, Equatable {
    /// Tile side in image pixels (the decoded picture's pixels).
    public var side: Int
    /// Least number of pixels neighbouring tiles share along each axis: at least the largest object side, so that
    /// step 1 alone keeps every object whole.
    public var overlap: Int
    /// 1-D IoU, along the cutting edge, at which a cut box and the box continuing it past the edge are one object.
    /// Default 0.5.
    public var mergeOverlap: Double

    /// Tiles of `side` pixels sharing at least `overlap`; throws `InferenceError.invalidSetting` unless
    /// `side > 0`, `0 ≤ overlap < side` and `mergeOverlap` is in `(0, 1]`.
    public init(side: Int, overlap: Int, mergeOverlap: Double = 0.5) throws {
        guard side > 0 else { throw InferenceError.invalidSetting(key: "tile", reason: "must be positive, got \(side)") }
        guard overlap >= 0 && overlap < side else {
            throw InferenceError.invalidSetting(key: "tileOverlap", reason: "must be in [0, \(side)) for tiles of \(side) px, got \(overlap)")
        }
        guard mergeOverlap > 0 && mergeOverlap <= 1 else {
            throw InferenceError.invalidSetting(key: "tileMergeOverlap", reason: "must be in (0, 1], got \(mergeOverlap)")
        }
        self.side = side; self.overlap = overlap; self.mergeOverlap = mergeOverlap
    }

    /// One tile: its rectangle in image pixels and the region it owns.
    public struct Tile: Sendable, Equatable {
        /// Top-left corner and size in image pixels (the size is `side`, or the image's where it is smaller).
        public var x: Int, y: Int, width: Int, height: Int
        /// The core: `[x0, x1) × [y0, y1)`, unbounded (±∞) on the image's outer edges.
        public var core: (x0: Double, y0: Double, x1: Double, y1: Double)
        /// Which edges lie inside the image (where the tile cuts the picture): left, top, right, bottom.
        public var innerEdges: (left: Bool, top: Bool, right: Bool, bottom: Bool)

        /// Whether `(x, y)` lies in the core (half-open on the far sides, so neighbouring cores never share a point).
        public func owns(x px: Double, y py: Double) -> Bool {
            px >= core.x0 && px < core.x1 && py >= core.y0 && py < core.y1
        }

        /// The edges of the tile that lie inside the image and that `box` (image pixels) touches within half a pixel:
        /// where the tile cut the object.
        public func cuts(_ box: Box) -> [Edge] {
            var out: [Edge] = []
            if innerEdges.left && box.x1 <= Double(x) + 0.5 { out.append(Edge(vertical: true, at: Double(x), outward: -1)) }
            if innerEdges.right && box.x2 >= Double(x + width) - 0.5 { out.append(Edge(vertical: true, at: Double(x + width), outward: 1)) }
            if innerEdges.top && box.y1 <= Double(y) + 0.5 { out.append(Edge(vertical: false, at: Double(y), outward: -1)) }
            if innerEdges.bottom && box.y2 >= Double(y + height) - 0.5 { out.append(Edge(vertical: false, at: Double(y + height), outward: 1)) }
            return out
        }

        /// Equal rectangles, cores and inner edges (the tuples keep `Equatable` from being synthesised).
        public static func == (a: Tile, b: Tile) -> Bool {
            a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height && a.core == b.core
                && a.innerEdges == b.innerEdges
        }
    }

    /// A tile edge inside the image: vertical (constant x) or horizontal, its coordinate, and the direction out of
    /// the tile (−1 left/up, +1 right/down).
    public struct Edge: Sendable, Equatable {
        /// Whether the edge is a vertical line `x = at` (else the horizontal line `y = at`).
        public var vertical: Bool
        /// Its coordinate in image pixels.
        public var at: Double
        /// −1 for the tile's left or top edge, +1 for its right or bottom edge.
        public var outward: Double

        /// Whether `other` continues an object that `box` shows cut at this edge: it reaches more than half a pixel
        /// past the edge, meets `box` across it, and spans the same rows (or columns) along it — the 1-D IoU of their
        /// extents along the edge at least `overlap`.
        func continues(_ box: Box, with other: Box, overlap: Double) -> Bool {
            let (lo, hi, oLo, oHi) = vertical ? (box.x1, box.x2, other.x1, other.x2) : (box.y1, box.y2, other.y1, other.y2)
            let reaches = outward > 0 ? oHi > at + 0.5 && oLo < hi : oLo < at - 0.5 && oHi > lo
            let (a1, a2, b1, b2) = vertical ? (box.y1, box.y2, other.y1, other.y2) : (box.x1, box.x2, other.x1, other.x2)
            let inter = min(a2, b2) - max(a1, b1), union = max(a2, b2) - min(a1, b1)
            return reaches && inter > 0 && union > 0 && inter / union >= overlap
        }
    }

    /// Start offsets of the tiles along an axis of `length` pixels: one tile at 0 when `length ≤ side`, else the
    /// fewest tiles `n` that cover the axis with neighbours sharing ≥ `overlap` pixels, spread evenly
    /// (`⌊i·(length − side)/(n − 1)⌋`), the last ending at the far edge.
    public func starts(length: Int) -> [Int] {
        guard length > side else { return [0] }
        let step = side - overlap
        let n = (length - overlap + step - 1) / step
        return (0..<n).map { i in i * (length - side) / (n - 1) }
    }

    /// The cuts between the tiles at `starts` (the middle of each shared band), with ±∞ at the ends.
    func cuts(_ starts: [Int], length: Int) -> [Double] {
        let extent = min(side, length)
        var cuts = [-Double.infinity]
        for i in 1..<max(starts.count, 1) { cuts.append(Double(starts[i] + starts[i - 1] + extent) / 2) }
        cuts.append(.infinity)
        return cuts
    }

    /// The tiles of a `width × height` image, row by row.
    public func tiles(width: Int, height: Int) -> [Tile] {
        let xs = starts(length: width), ys = starts(length: height)
        let cx = cuts(xs, length: width), cy = cuts(ys, length: height)
        var out: [Tile] = []
        for (j, y) in ys.enumerated() {
            for (i, x) in xs.enumerated() {
                let w = min(side, width), h = min(side, height)
                out.append(Tile(x: x, y: y, width: w, height: h, core: (cx[i], cy[j], cx[i + 1], cy[j + 1]),
                                innerEdges: (x > 0, y > 0, x + w < width, y + h < height)))
            }
        }
        return out
    }

    /// Whether an image of this size is cut into more than one tile.
    public func isTiled(width: Int, height: Int) -> Bool { width > side || height > side }

    /// The image's detections from each tile's (`perTile[t]`, boxes already in image pixels): ownership by centre,
    /// then the merge of cut boxes across borders; best first (ties: tile order, then each tile's order), at most
    /// `maxDetections`.
    public func merge(_ perTile: [[DetectedObject]], tiles: [Tile], maxDetections: Int) -> [DetectedObject] {
        precondition(perTile.count == tiles.count, "Tiling.merge: \(perTile.count) detection lists for \(tiles.count) tiles")
        var kept: [(det: DetectedObject, tile: Int, cuts: [Edge])] = []
        for (t, dets) in perTile.enumerated() {
            for d in dets where tiles[t].owns(x: d.box.cx, y: d.box.cy) {
                kept.append((d, t, tiles[t].cuts(d.box)))
            }
        }
        let order = kept.indices.sorted {
            kept[$0].det.score > kept[$1].det.score || (kept[$0].det.score == kept[$1].det.score && $0 < $1)
        }
        var out: [(det: DetectedObject, tile: Int, cuts: [Edge])] = []
        for i in order {
            let k = kept[i]
            let twin = out.firstIndex { o in
                o.tile != k.tile && o.det.classIndex == k.det.classIndex
                    && (k.cuts.contains { $0.continues(k.det.box, with: o.det.box, overlap: mergeOverlap) }
                        || o.cuts.contains { $0.continues(o.det.box, with: k.det.box, overlap: mergeOverlap) })
            }
            if let j = twin {
                let a = out[j].det.box, b = k.det.box
                out[j].det.box = Box(x1: min(a.x1, b.x1), y1: min(a.y1, b.y1), x2: max(a.x2, b.x2), y2: max(a.y2, b.y2))
                out[j].cuts += k.cuts
            } else {
                out.append(k)
            }
        }
        return out.prefix(maxDetections).map(\.det)
    }
}
