import Foundation

// Overlap measures between boxes: IoU and its generalised, distance and complete variants.
//
// The one-pair functions follow torchvision's IoU-family losses (`torchvision.ops.*_box_iou_loss`),
// so that `1 − value` equals the loss: the intersection counts only when it is positive along both
// axes, and `eps` (default 1e-7) enters the denominators exactly where torchvision puts it.
// The pairwise functions follow `torchvision.ops.box_iou` / `generalized_box_iou`, which use no `eps`.

/// Intersection area and union area of two boxes (intersection zero unless it is positive along both axes).
@inlinable
public func intersectionAndUnion(_ a: Box, _ b: Box) -> (intersection: Double, union: Double) {
    let w = min(a.x2, b.x2) - max(a.x1, b.x1)
    let h = min(a.y2, b.y2) - max(a.y1, b.y1)
    let inter = (w > 0 && h > 0) ? w * h : 0
    return (inter, a.area + b.area - inter)
}

/// Whether at least `share` of `box`'s area lies inside `region` (never for an empty box or one that does not
/// overlap it): how crowd regions and partial regions claim the dense head's anchors.
@inlinable
public func liesInside(_ box: Box, _ region: Box, share: Double) -> Bool {
    let inside = intersectionAndUnion(box, region).intersection
    return box.area > 0 && inside > 0 && inside >= share * box.area
}

/// Intersection over union, `I / (U + eps)` (Jaccard index; torchvision's loss convention).
@inlinable
public func iou(_ a: Box, _ b: Box, eps: Double = 1e-7) -> Double {
    let (i, u) = intersectionAndUnion(a, b)
    return i / (u + eps)
}

/// Generalised IoU (Rezatofighi et al., CVPR 2019): `IoU − (C − U) / (C + eps)` with `C` the area of the
/// smallest box enclosing both. In `[−1, 1]`; `1 − giou` is torchvision's `generalized_box_iou_loss`.
@inlinable
public func giou(_ a: Box, _ b: Box, eps: Double = 1e-7) -> Double {
    let (i, u) = intersectionAndUnion(a, b)
    let c = (max(a.x2, b.x2) - min(a.x1, b.x1)) * (max(a.y2, b.y2) - min(a.y1, b.y1))
    return i / (u + eps) - (c - u) / (c + eps)
}

/// Distance IoU (Zheng et al., AAAI 2020): `IoU − ρ² / (c² + eps)` with `ρ` the distance between the
/// centres and `c` the diagonal of the enclosing box. `1 − diou` is torchvision's `distance_box_iou_loss`.
@inlinable
public func diou(_ a: Box, _ b: Box, eps: Double = 1e-7) -> Double {
    let (i, u) = intersectionAndUnion(a, b)
    let cw = max(a.x2, b.x2) - min(a.x1, b.x1)
    let ch = max(a.y2, b.y2) - min(a.y1, b.y1)
    let diagonal = cw * cw + ch * ch + eps
    let dx = a.cx - b.cx, dy = a.cy - b.cy
    return i / (u + eps) - (dx * dx + dy * dy) / diagonal
}

/// Complete IoU (Zheng et al., AAAI 2020): `DIoU − α·v` with `v = 4/π² · (atan(w_b/h_b) − atan(w_a/h_a))²`
/// and `α = v / (1 − IoU + v + eps)`. `1 − ciou` is torchvision's `complete_box_iou_loss`.
@inlinable
public func ciou(_ a: Box, _ b: Box, eps: Double = 1e-7) -> Double {
    let (i, u) = intersectionAndUnion(a, b)
    let iouValue = i / (u + eps)
    let d = diou(a, b, eps: eps)
    let t = atan(b.width / b.height) - atan(a.width / a.height)
    let v = (4 / (Double.pi * Double.pi)) * t * t
    let alpha = v / (1 - iouValue + v + eps)
    return d - alpha * v
}

/// IoU of every box of `a` with every box of `b`, row-major `[a.count × b.count]`
/// (`torchvision.ops.box_iou`: `I / U`, no `eps`). A pair whose union is zero gets 0.
public func pairwiseIoU(_ a: [Box], _ b: [Box]) -> [Double] {
    pairwise(a, b) { i, u, _ in u > 0 ? i / u : 0 }
}

/// Generalised IoU of every box of `a` with every box of `b`, row-major `[a.count × b.count]`
/// (`torchvision.ops.generalized_box_iou`: `I/U − (C − U)/C`, no `eps`). A zero union gives IoU 0,
/// a zero enclosing area gives no penalty term.
public func pairwiseGIoU(_ a: [Box], _ b: [Box]) -> [Double] {
    pairwise(a, b) { i, u, c in (u > 0 ? i / u : 0) - (c > 0 ? (c - u) / c : 0) }
}

/// Applies `f(intersection, union, enclosingArea)` to every pair, row-major. Intersections clamp width and
/// height at zero separately (torchvision's pairwise convention).
@inline(__always)
private func pairwise(_ a: [Box], _ b: [Box], _ f: (Double, Double, Double) -> Double) -> [Double] {
    let n = a.count, m = b.count
    guard n > 0, m > 0 else { return [] }
    return [Double](unsafeUninitializedCapacity: n * m) { out, count in
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for r in 0..<n {
                    let p = pa[r]
                    let areaP = p.area
                    for c in 0..<m {
                        let q = pb[c]
                        let w = max(min(p.x2, q.x2) - max(p.x1, q.x1), 0)
                        let h = max(min(p.y2, q.y2) - max(p.y1, q.y1), 0)
                        let inter = w * h
                        let union = areaP + q.area - inter
                        let cw = max(max(p.x2, q.x2) - min(p.x1, q.x1), 0)
                        let ch = max(max(p.y2, q.y2) - min(p.y1, q.y1), 0)
                        out[r * m + c] = f(inter, union, cw * ch)
                    }
                }
            }
        }
        count = n * m
    }
}
