import Boxes
import Foundation

/// The box ↔ delta transform of R-CNN (Girshick et al., CVPR 2014) as torchvision's `BoxCoder`, with the
/// gradient of `decode` for training through decoded boxes.
///
/// With an anchor of centre `(x_a, y_a)` and size `(w_a, h_a)` and weights `(w_x, w_y, w_w, w_h)`:
/// `encode`: `d = (w_x·(x − x_a)/w_a, w_y·(y − y_a)/h_a, w_w·log(w/w_a), w_h·log(h/h_a))`;
/// `decode`: centre `(x_a + w_a·d_x/w_x, …)`, size `(w_a·exp(min(d_w/w_w, clip)), …)`,
/// `clip = log(1000/16)` so that `exp` stays finite.
public struct DeltaCoder: Sendable, Equatable {
    /// `(w_x, w_y, w_w, w_h)`; RetinaNet uses `(1, 1, 1, 1)`.
    public var weights: (Double, Double, Double, Double)
    /// Upper clamp of the scaled log-size deltas before `exp`.
    public var clip: Double

    /// A coder; defaults as torchvision's RetinaNet.
    public init(weights: (Double, Double, Double, Double) = (1, 1, 1, 1), clip: Double = log(1000.0 / 16)) {
        self.weights = weights
        self.clip = clip
    }

    public static func == (a: DeltaCoder, b: DeltaCoder) -> Bool {
        a.weights == b.weights && a.clip == b.clip
    }

    /// The deltas `[4]` that move `anchor` onto `box` (both with positive width and height).
    public func encode(_ box: Box, anchor: Box) -> [Double] {
        let wa = anchor.x2 - anchor.x1, ha = anchor.y2 - anchor.y1
        let xa = anchor.x1 + 0.5 * wa, ya = anchor.y1 + 0.5 * ha
        let w = box.x2 - box.x1, h = box.y2 - box.y1
        let x = box.x1 + 0.5 * w, y = box.y1 + 0.5 * h
        return [weights.0 * (x - xa) / wa, weights.1 * (y - ya) / ha, weights.2 * log(w / wa), weights.3 * log(h / ha)]
    }

    /// The box `[x1, y1, x2, y2]` that `deltas` (`d[0..<4]`) make of `anchor`.
    public func decode(_ d: ArraySlice<Double>, anchor: Box) -> [Double] {
        let i = d.startIndex
        let wa = anchor.x2 - anchor.x1, ha = anchor.y2 - anchor.y1
        let xa = anchor.x1 + 0.5 * wa, ya = anchor.y1 + 0.5 * ha
        let x = d[i] / weights.0 * wa + xa, y = d[i + 1] / weights.1 * ha + ya
        let w = exp(min(d[i + 2] / weights.2, clip)) * wa, h = exp(min(d[i + 3] / weights.3, clip)) * ha
        return [x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h]
    }

    /// Gradient w.r.t. the deltas of `decode` given the gradient `g` w.r.t. the decoded `[x1, y1, x2, y2]`
    /// (the clamp passes the gradient where `d/w ≤ clip`, as `torch.clamp`).
    public func decodeBackward(_ d: ArraySlice<Double>, anchor: Box, gradient g: [Double]) -> [Double] {
        let i = d.startIndex
        let wa = anchor.x2 - anchor.x1, ha = anchor.y2 - anchor.y1
        let sw = d[i + 2] / weights.2, sh = d[i + 3] / weights.3
        let w = exp(min(sw, clip)) * wa, h = exp(min(sh, clip)) * ha
        return [
            (g[0] + g[2]) * wa / weights.0,
            (g[1] + g[3]) * ha / weights.1,
            sw <= clip ? 0.5 * (g[2] - g[0]) * w / weights.2 : 0,
            sh <= clip ? 0.5 * (g[3] - g[1]) * h / weights.3 : 0,
        ]
    }
}
