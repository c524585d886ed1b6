import NeuralNet

extension HeadLayout {
    /// Per-level head outputs `[N, A·D, H_l, W_l]` → one per-anchor tensor `[N, Σ_l H_l·W_l·A, D]`, level-major (the
    /// anchors of level 0 first, then level 1, …; `(y, x, a)` within a level), the order of `DetectorConfig.anchors`.
    /// One level is `toAnchors(_:anchors:)`.
    public static func toAnchors(levels: [Tensor], anchors a: Int) -> Tensor {
        precondition(!levels.isEmpty, "HeadLayout: no level")
        if levels.count == 1 { return toAnchors(levels[0], anchors: a) }
        let parts = levels.map { toAnchors($0, anchors: a) }
        let (n, d) = (parts[0].shape[0], parts[0].shape[2])
        let total = parts.reduce(0) { $0 + $1.shape[1] }
        var out = Tensor(shape: [n, total, d])
        var offset = 0
        for p in parts {
            let rows = p.shape[1] * d
            for b in 0..<n {
                let dst = (b * total * d) + offset * d
                out.data.replaceSubrange(dst..<(dst + rows), with: p.data[(b * rows)..<((b + 1) * rows)])
            }
            offset += p.shape[1]
        }
        return out
    }

    /// Inverse of `toAnchors(levels:anchors:)` for maps of `(height, width)` `shapes` (used for gradients):
    /// `[N, Σ_l H_l·W_l·A, D]` → per level `[N, A·D, H_l, W_l]`.
    public static func fromAnchors(levels x: Tensor, anchors a: Int, shapes: [(height: Int, width: Int)]) -> [Tensor] {
        if shapes.count == 1 { return [fromAnchors(x, anchors: a, height: shapes[0].height, width: shapes[0].width)] }
        let (n, total, d) = (x.shape[0], x.shape[1], x.shape[2])
        precondition(total == shapes.reduce(0) { $0 + $1.height * $1.width * a }, "HeadLayout: \(total) anchors ≠ levels \(shapes) · \(a)")
        var offset = 0
        return shapes.map { s in
            let count = s.height * s.width * a
            var part = Tensor(shape: [n, count, d])
            for b in 0..<n {
                let src = (b * total + offset) * d
                part.data.replaceSubrange((b * count * d)..<((b + 1) * count * d), with: x.data[src..<(src + count * d)])
            }
            offset += count
            return fromAnchors(part, anchors: a, height: s.height, width: s.width)
        }
    }
}
