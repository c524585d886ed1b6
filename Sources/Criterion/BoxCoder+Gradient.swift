import Boxes
import Foundation

extension BoxCoder {
    /// Gradient w.r.t. the deltas `d[0..<4]` of `decode` given the gradient `g` w.r.t. the decoded
    /// `[x1, y1, x2, y2]`. With `x1 = c_x − w/2`, `x2 = c_x + w/2`, `c_x = a_x + a_w·d_x/w_x`,
    /// `w = a_w·exp(min(d_w/w_w, clamp))`: `∂/∂d_x = (g_x1 + g_x2)·a_w/w_x`,
    /// `∂/∂d_w = (g_x2 − g_x1)/2 · w / w_w` where `d_w/w_w ≤ clamp` (else 0, as `torch.clamp`); y alike.
    public func decodeBackward(_ d: ArraySlice<Double>, anchor: Box, gradient g: [Double]) -> [Double] {
        let i = d.startIndex
        let aw = anchor.width, ah = anchor.height
        let sw = d[i + 2] / weights[2], sh = d[i + 3] / weights[3]
        let w = exp(min(sw, clamp)) * aw, h = exp(min(sh, clamp)) * ah
        return [
            (g[0] + g[2]) * aw / weights[0],
            (g[1] + g[3]) * ah / weights[1],
            sw <= clamp ? 0.5 * (g[2] - g[0]) * w / weights[2] : 0,
            sh <= clamp ? 0.5 * (g[3] - g[1]) * h / weights[3] : 0,
        ]
    }
}
