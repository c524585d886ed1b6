import Foundation

extension Loss {
    /// Pairwise IoU matrix of two box sets (torchvision `box_iou`), with the gradient of its sum.
    /// `inter = clamp(min(x2) − max(x1), 0)·clamp(min(y2) − max(y1), 0)`, `IoU = inter / union`, no eps.
    /// - Parameters: `boxes1`: `[N × 4]`, `boxes2`: `[M × 4]`, xyxy.
    /// - Returns: values `[N × M]`; gradients `[d/d boxes1, d/d boxes2]` of `Σ values`, PyTorch's
    ///   conventions at kinks (a clamp at exactly 0 passes the gradient, `max`/`min` ties split it).
    public static func pairwiseIoU(boxes1: [Double], boxes2: [Double]) throws -> LossResult {
        try pairwise(boxes1: boxes1, boxes2: boxes2, generalized: false)
    }

    /// Pairwise generalized IoU matrix (torchvision `generalized_box_iou`, Rezatofighi et al., CVPR 2019):
    /// `IoU − (C − union)/C` with C the area of the smallest enclosing box; gradients as `pairwiseIoU`.
    public static func pairwiseGIoU(boxes1: [Double], boxes2: [Double]) throws -> LossResult {
        try pairwise(boxes1: boxes1, boxes2: boxes2, generalized: true)
    }

    static func pairwise(boxes1: [Double], boxes2: [Double], generalized: Bool) throws -> LossResult {
        let name = generalized ? "generalized_box_iou" : "box_iou"
        precondition(boxes1.count % 4 == 0 && boxes2.count % 4 == 0, "\(name): shapes must be [N × 4]")
        try checkFinite(boxes1, loss: name, input: "boxes1")
        try checkFinite(boxes2, loss: name, input: "boxes2")
        let n = boxes1.count / 4, m = boxes2.count / 4
        var v = [Double](repeating: 0, count: n * m)
        var g1 = [Double](repeating: 0, count: boxes1.count), g2 = [Double](repeating: 0, count: boxes2.count)
        for i in 0..<n {
            let a = Array(boxes1[4 * i..<4 * i + 4])
            let areaA = (a[2] - a[0]) * (a[3] - a[1])
            for j in 0..<m {
                let b = Array(boxes2[4 * j..<4 * j + 4])
                let areaB = (b[2] - b[0]) * (b[3] - b[1])
                // Intersection sides, clamped at 0 (the gradient passes where the side is ≥ 0).
                let rw = min(a[2], b[2]) - max(a[0], b[0]), rh = min(a[3], b[3]) - max(a[1], b[1])
                let w = max(rw, 0), h = max(rh, 0)
                let inter = w * h, union = areaA + areaB - inter
                var value = inter / union
                var gUnion = -inter / (union * union), gInter = 1 / union
                var gcw = 0.0, gch = 0.0, cw = 0.0, ch = 0.0
                if generalized {
                    let rcw = max(a[2], b[2]) - min(a[0], b[0]), rch = max(a[3], b[3]) - min(a[1], b[1])
                    cw = max(rcw, 0); ch = max(rch, 0)
                    let area = cw * ch
                    value -= (area - union) / area
                    gUnion += 1 / area
                    let gArea = -union / (area * area)
                    gcw = rcw >= 0 ? gArea * ch : 0
                    gch = rch >= 0 ? gArea * cw : 0
                }
                v[i * m + j] = value
                gInter -= gUnion
                let ai = 4 * i, bj = 4 * j
                g1[ai + 2] += gUnion * (a[3] - a[1]); g1[ai] -= gUnion * (a[3] - a[1])
                g1[ai + 3] += gUnion * (a[2] - a[0]); g1[ai + 1] -= gUnion * (a[2] - a[0])
                g2[bj + 2] += gUnion * (b[3] - b[1]); g2[bj] -= gUnion * (b[3] - b[1])
                g2[bj + 3] += gUnion * (b[2] - b[0]); g2[bj + 1] -= gUnion * (b[2] - b[0])
                let gw = rw >= 0 ? gInter * h : 0, gh = rh >= 0 ? gInter * w : 0
                var s = maxSplit(a[0], b[0]); g1[ai] -= gw * s.0; g2[bj] -= gw * s.1
                s = maxSplit(a[1], b[1]); g1[ai + 1] -= gh * s.0; g2[bj + 1] -= gh * s.1
                s = minSplit(a[2], b[2]); g1[ai + 2] += gw * s.0; g2[bj + 2] += gw * s.1
                s = minSplit(a[3], b[3]); g1[ai + 3] += gh * s.0; g2[bj + 3] += gh * s.1
                if generalized {
                    s = minSplit(a[0], b[0]); g1[ai] -= gcw * s.0; g2[bj] -= gcw * s.1
                    s = minSplit(a[1], b[1]); g1[ai + 1] -= gch * s.0; g2[bj + 1] -= gch * s.1
                    s = maxSplit(a[2], b[2]); g1[ai + 2] += gcw * s.0; g2[bj + 2] += gcw * s.1
                    s = maxSplit(a[3], b[3]); g1[ai + 3] += gch * s.0; g2[bj + 3] += gch * s.1
                }
            }
        }
        let r = LossResult(values: v, gradients: [g1, g2])
        try checkResult(r, loss: name)
        return r
    }
}
