import Foundation

/// Which member of the IoU loss family `Loss.boxIoU` computes (torchvision `ops` semantics, xyxy boxes).
public enum IoULossKind: String, Sendable, CaseIterable {
    /// `1 − IoU`, IoU = `inter / (union + eps)`.
    case iou
    /// Generalized IoU (Rezatofighi et al., CVPR 2019): `1 − IoU + (C − union)/(C + eps)`, C the area of
    /// the smallest enclosing box (torchvision `generalized_box_iou_loss`).
    case giou
    /// Distance IoU (Zheng et al., AAAI 2020): `1 − IoU + ρ²/(c² + eps)`, ρ the distance of the centres, c the
    /// diagonal of the enclosing box (torchvision `distance_box_iou_loss`).
    case diou
    /// Complete IoU (Zheng et al., AAAI 2020): DIoU `+ α·v`, `v = 4/π²·(atan(w_g/h_g) − atan(w/h))²`,
    /// `α = v/(1 − IoU + v + eps)` held constant in the gradient, as torchvision (`torch.no_grad`).
    case ciou
}

/// Gradient split of `max(a, b)` as PyTorch's `maximum`: all to the larger, half each on a tie.
@inline(__always)
func maxSplit(_ a: Double, _ b: Double) -> (Double, Double) {
    a > b ? (1, 0) : (a < b ? (0, 1) : (0.5, 0.5))
}

/// Gradient split of `min(a, b)` as PyTorch's `minimum`.
@inline(__always)
func minSplit(_ a: Double, _ b: Double) -> (Double, Double) {
    a < b ? (1, 0) : (a > b ? (0, 1) : (0.5, 0.5))
}

extension Loss {
    /// IoU-family loss of matched box pairs (row i of `predicted` against row i of `target`), torchvision
    /// `ops` semantics: boxes `(x1, y1, x2, y2)`, intersection counted only where both its sides are
    /// positive, `eps` added to the denominators, `max`/`min` ties splitting the gradient as PyTorch.
    /// - Parameters: `predicted`, `target`: `[N × 4]` xyxy; `eps`: default 1e-7; reduction default `.none`.
    /// - Returns: gradients `[d/d predicted, d/d target]` (`[N × 4]` each). Degenerate boxes are allowed;
    ///   a CIoU with a 0 × 0 box has no defined aspect term and throws `LossesError.nonFiniteResult`.
    public static func boxIoU(
        _ kind: IoULossKind, predicted: [Double], target: [Double], eps: Double = 1e-7,
        reduction: Reduction = .none
    ) throws -> LossResult {
        let name = "\(kind.rawValue)_loss"
        precondition(predicted.count == target.count && predicted.count % 4 == 0, "\(name): shapes must be [N × 4]")
        try checkFinite(predicted, loss: name, input: "predicted")
        try checkFinite(target, loss: name, input: "target")
        let n = predicted.count / 4
        var v = [Double](repeating: 0, count: n)
        var gp = [Double](repeating: 0, count: predicted.count), gt = gp
        for i in 0..<n {
            let o = 4 * i
            let (loss, ga, gb) = boxIoURow(
                kind, (predicted[o], predicted[o + 1], predicted[o + 2], predicted[o + 3]),
                (target[o], target[o + 1], target[o + 2], target[o + 3]), eps: eps)
            v[i] = loss
            for k in 0..<4 {
                gp[o + k] = ga[k]
                gt[o + k] = gb[k]
            }
        }
        return try reduce(v, [gp, gt], reduction, denominator: Double(n), loss: name)
    }

    /// One pair: the loss and its gradients w.r.t. both boxes (`[x1, y1, x2, y2]` order).
    static func boxIoURow(
        _ kind: IoULossKind, _ a: (Double, Double, Double, Double), _ b: (Double, Double, Double, Double),
        eps: Double
    ) -> (Double, [Double], [Double]) {
        let (x1, y1, x2, y2) = a, (u1, v1, u2, v2) = b
        var ga = [0.0, 0, 0, 0], gb = [0.0, 0, 0, 0]
        // Intersection.
        let ix1 = max(x1, u1), iy1 = max(y1, v1), ix2 = min(x2, u2), iy2 = min(y2, v2)
        let iw = ix2 - ix1, ih = iy2 - iy1
        let overlaps = iw > 0 && ih > 0
        let inter = overlaps ? iw * ih : 0
        let wa = x2 - x1, ha = y2 - y1, wb = u2 - u1, hb = v2 - v1
        let union = wa * ha + wb * hb - inter
        let iou = inter / (union + eps)
        var loss = 1 - iou
        let gIoU = -1.0
        var gUnion = -gIoU * inter / ((union + eps) * (union + eps))
        var gInter = gIoU / (union + eps)
        // Enclosing box.
        let cx1 = min(x1, u1), cy1 = min(y1, v1), cx2 = max(x2, u2), cy2 = max(y2, v2)
        let cw = cx2 - cx1, ch = cy2 - cy1
        var gcw = 0.0, gch = 0.0
        switch kind {
        case .iou:
            break
        case .giou:
            let area = cw * ch
            loss += (area - union) / (area + eps)
            gUnion -= 1 / (area + eps)
            let gArea = (eps + union) / ((area + eps) * (area + eps))
            gcw = gArea * ch
            gch = gArea * cw
        case .diou, .ciou:
            let diag = cw * cw + ch * ch + eps
            let dx = (x1 + x2) / 2 - (u1 + u2) / 2, dy = (y1 + y2) / 2 - (v1 + v2) / 2
            let centre = dx * dx + dy * dy
            loss += centre / diag
            let gDiag = -centre / (diag * diag)
            gcw = gDiag * 2 * cw
            gch = gDiag * 2 * ch
            // d(centre/diag)/dx1 = (1/diag)·2·dx·½.
            ga[0] += dx / diag; ga[2] += dx / diag; gb[0] -= dx / diag; gb[2] -= dx / diag
            ga[1] += dy / diag; ga[3] += dy / diag; gb[1] -= dy / diag; gb[3] -= dy / diag
            if kind == .ciou {
                let k = 4 / (Double.pi * Double.pi)
                let diff = atan(wb / hb) - atan(wa / ha)
                let aspect = k * diff * diff
                let alpha = aspect / (1 - iou + aspect + eps)
                loss += alpha * aspect
                // d(α·v)/d atan(w_a/h_a) with α constant.
                let gAtanA = alpha * -2 * k * diff, gAtanB = -gAtanA
                let ra = wa * wa + ha * ha, rb = wb * wb + hb * hb
                let gwa = gAtanA * ha / ra, gha = -gAtanA * wa / ra
                let gwb = gAtanB * hb / rb, ghb = -gAtanB * wb / rb
                ga[2] += gwa; ga[0] -= gwa; ga[3] += gha; ga[1] -= gha
                gb[2] += gwb; gb[0] -= gwb; gb[3] += ghb; gb[1] -= ghb
            }
        }
        // Union = area_a + area_b − inter.
        gInter -= gUnion
        ga[2] += gUnion * ha; ga[0] -= gUnion * ha; ga[3] += gUnion * wa; ga[1] -= gUnion * wa
        gb[2] += gUnion * hb; gb[0] -= gUnion * hb; gb[3] += gUnion * wb; gb[1] -= gUnion * wb
        if overlaps {
            let giw = gInter * ih, gih = gInter * iw
            var s = maxSplit(x1, u1); ga[0] -= giw * s.0; gb[0] -= giw * s.1
            s = maxSplit(y1, v1); ga[1] -= gih * s.0; gb[1] -= gih * s.1
            s = minSplit(x2, u2); ga[2] += giw * s.0; gb[2] += giw * s.1
            s = minSplit(y2, v2); ga[3] += gih * s.0; gb[3] += gih * s.1
        }
        if gcw != 0 || gch != 0 {
            var s = minSplit(x1, u1); ga[0] -= gcw * s.0; gb[0] -= gcw * s.1
            s = minSplit(y1, v1); ga[1] -= gch * s.0; gb[1] -= gch * s.1
            s = maxSplit(x2, u2); ga[2] += gcw * s.0; gb[2] += gcw * s.1
            s = maxSplit(y2, v2); ga[3] += gch * s.0; gb[3] += gch * s.1
        }
        return (loss, ga, gb)
    }
}
