import Foundation

extension CrowdMetrics {
    /// JI of one category (CrowdHuman's `compute_JI`): for each score threshold t in `jaccardThresholds`, per image
    /// the detections scoring above t are matched one-to-one to the non-ignored ground truth by a maximum-cardinality
    /// bipartite matching over the pairs of IoU ≥ the threshold (k pairs); unmatched detections and unmatched objects
    /// covered by an ignore region (intersection over their own area above the threshold) are left out of n and m;
    /// the image scores `k / (m + n − k + 10⁻⁶)`. The mean runs over the images with m or n non-zero, and JI is the
    /// best mean over the thresholds (with the first threshold that reached it).
    static func jaccardIndex(_ images: [CrowdScenes.Image], iouThreshold: Double) -> (value: Double, threshold: Double) {
        var best = (value: -Double.infinity, threshold: 0.0)
        for t in jaccardThresholds {
            var sum = 0.0, counted = 0
            for image in images {
                let dets = image.detections.filter { $0.score > t }.map(\.box)
                let objects = image.truth.filter { !$0.ignored }.map(\.box)
                let regions = image.truth.filter(\.ignored).map(\.box)
                let pairs = maximumMatching(dets.map { d in objects.map { d.iou($0) >= iouThreshold && d.iou($0) > 0 } })
                let matchedDets = Set(pairs.map(\.0)), matchedObjects = Set(pairs.map(\.1))
                func covered(_ b: CrowdBox) -> Bool { regions.contains { b.intersectionOverOwnArea($0) > iouThreshold } }
                let ignoredDets = dets.indices.filter { !matchedDets.contains($0) && covered(dets[$0]) }.count
                let ignoredObjects = objects.indices.filter { !matchedObjects.contains($0) && covered(objects[$0]) }.count
                let k = Double(pairs.count), m = Double(objects.count - ignoredObjects), n = Double(dets.count - ignoredDets)
                sum += k / (m + n - k + 1e-6)
                if m != 0 || n != 0 { counted += 1 }
            }
            let mean = counted > 0 ? sum / Double(counted) : 0
            if mean > best.value { best = (mean, t) }
        }
        return best
    }

    /// A maximum-cardinality matching of a bipartite graph given as `edges[row][column]`, by augmenting paths (Kuhn,
    /// "The Hungarian method for the assignment problem", 1955): (row, column) pairs.
    static func maximumMatching(_ edges: [[Bool]]) -> [(Int, Int)] {
        let columns = edges.first?.count ?? 0
        var rowOf = [Int](repeating: -1, count: columns)
        func augment(_ r: Int, _ seen: inout [Bool]) -> Bool {
            for c in 0..<columns where edges[r][c] && !seen[c] {
                seen[c] = true
                if rowOf[c] < 0 || augment(rowOf[c], &seen) { rowOf[c] = r; return true }
            }
            return false
        }
        for r in edges.indices {
            var seen = [Bool](repeating: false, count: columns)
            _ = augment(r, &seen)
        }
        return rowOf.enumerated().compactMap { c, r in r >= 0 ? (r, c) : nil }
    }
}

/// A box as corners, for the crowd metrics.
struct CrowdBox {
    var x1, y1, x2, y2: Double
    var area: Double { (x2 - x1) * (y2 - y1) }

    func intersection(_ o: CrowdBox) -> Double {
        let w = min(x2, o.x2) - max(x1, o.x1), h = min(y2, o.y2) - max(y1, o.y1)
        return w > 0 && h > 0 ? w * h : 0
    }

    /// Intersection over union (0 when the union is empty).
    func iou(_ o: CrowdBox) -> Double {
        let i = intersection(o), u = area + o.area - i
        return u > 0 ? i / u : 0
    }

    /// Intersection over this box's own area (CrowdHuman's IoA against an ignore region).
    func intersectionOverOwnArea(_ o: CrowdBox) -> Double { area > 0 ? intersection(o) / area : 0 }
}

/// Ground truth and detections grouped by category and image for the crowd metrics.
struct CrowdScenes {
    struct Truth { var box: CrowdBox; var ignored: Bool }
    struct Detection { var box: CrowdBox; var score: Double }
    struct Image { var truth: [Truth] = []; var detections: [Detection] = [] }

    let categories: [Int]
    /// `[category][image]`, images ascending by id.
    private let grouped: [[Image]]

    init(groundTruth: COCOGroundTruth, detections: [COCODetection]) {
        var sizes: [Int: (Double, Double)] = [:]
        for i in groundTruth.images { sizes[i.id] = (Double(i.width), Double(i.height)) }
        let imageIDs = sizes.keys.sorted()
        categories = Array(Set(groundTruth.categories.map(\.id))).sorted()
        let imageIndex = Dictionary(uniqueKeysWithValues: imageIDs.enumerated().map { ($1, $0) })
        let categoryIndex = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
        var grouped = [[Image]](repeating: [Image](repeating: Image(), count: imageIDs.count), count: categories.count)
        func clipped(_ b: COCOBox, _ image: Int) -> CrowdBox {
            var c = CrowdBox(x1: b.x, y1: b.y, x2: b.x + b.width, y2: b.y + b.height)
            guard let (w, h) = sizes[image], w > 0, h > 0 else { return c }
            c.x1 = min(max(c.x1, 0), w - 1); c.y1 = min(max(c.y1, 0), h - 1)
            c.x2 = max(min(c.x2, w), 0); c.y2 = max(min(c.y2, h), 0)
            return c
        }
        for a in groundTruth.annotations {
            guard let i = imageIndex[a.imageID], let k = categoryIndex[a.categoryID] else { continue }
            grouped[k][i].truth.append(Truth(box: clipped(a.box, a.imageID), ignored: a.isCrowd || a.ignore))
        }
        for d in detections {
            guard let i = imageIndex[d.imageID], let k = categoryIndex[d.categoryID] else { continue }
            grouped[k][i].detections.append(Detection(box: clipped(d.box, d.imageID), score: d.score))
        }
        self.grouped = grouped
    }

    /// The images (every image of the ground truth) for category index `k`.
    func images(category k: Int) -> [Image] { grouped[k] }
}
