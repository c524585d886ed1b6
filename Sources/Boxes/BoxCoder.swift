import Foundation

/// Regression targets of a box relative to an anchor: `(dx, dy, dw, dh)`.
public struct BoxDelta: Hashable, Sendable, Codable {
    /// Weighted centre offset along x, in anchor widths.
    public var dx: Double
    /// Weighted centre offset along y, in anchor heights.
    public var dy: Double
    /// Weighted log width ratio.
    public var dw: Double
    /// Weighted log height ratio.
    public var dh: Double

    /// A delta from its four components.
    public init(dx: Double, dy: Double, dw: Double, dh: Double) {
        self.dx = dx
        self.dy = dy
        self.dw = dw
        self.dh = dh
    }
}

/// Encodes boxes as deltas from anchors and back, as torchvision's `det_utils.BoxCoder`
/// (R-CNN parameterisation, Girshick et al. 2014):
/// `dx = wx·(gx − ax)/aw`, `dy = wy·(gy − ay)/ah`, `dw = ww·log(gw/aw)`, `dh = wh·log(gh/ah)` with centres
/// `(gx, gy)`, `(ax, ay)` and sizes `gw = x2 − x1` (no +1). Decoding divides by the weights, clamps
/// `dw`, `dh` at `clamp` (default `log(1000/16)`) before `exp`, and rebuilds corners from centre ± size/2.
public struct BoxCoder: Sendable, Equatable {
    /// Weights `(wx, wy, ww, wh)`; default `(1, 1, 1, 1)` (RetinaNet; Faster R-CNN heads use `(10, 10, 5, 5)`).
    public var weights: SIMD4<Double>
    /// Upper bound on decoded `dw`, `dh` (after dividing by the weights), default `log(1000/16)`.
    public var clamp: Double

    /// A coder with the given weights and clamp.
    public init(weights: SIMD4<Double> = SIMD4(1, 1, 1, 1), clamp: Double = log(1000.0 / 16)) {
        self.weights = weights
        self.clamp = clamp
    }

    /// The delta that moves `anchor` onto `box`.
    @inlinable
    public func encode(_ box: Box, anchor: Box) -> BoxDelta {
        let aw = anchor.width, ah = anchor.height
        let ax = anchor.x1 + 0.5 * aw, ay = anchor.y1 + 0.5 * ah
        let gw = box.width, gh = box.height
        let gx = box.x1 + 0.5 * gw, gy = box.y1 + 0.5 * gh
        return BoxDelta(dx: weights[0] * (gx - ax) / aw, dy: weights[1] * (gy - ay) / ah,
                        dw: weights[2] * log(gw / aw), dh: weights[3] * log(gh / ah))
    }

    /// The box obtained by applying `delta` to `anchor`.
    @inlinable
    public func decode(_ delta: BoxDelta, anchor: Box) -> Box {
        let aw = anchor.width, ah = anchor.height
        let ax = anchor.x1 + 0.5 * aw, ay = anchor.y1 + 0.5 * ah
        let dx = delta.dx / weights[0], dy = delta.dy / weights[1]
        let dw = min(delta.dw / weights[2], clamp), dh = min(delta.dh / weights[3], clamp)
        let cx = dx * aw + ax, cy = dy * ah + ay
        let hw = 0.5 * (exp(dw) * aw), hh = 0.5 * (exp(dh) * ah)
        return Box(x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh)
    }

    /// `encode` of `boxes[k]` against `anchors[k]` for every k.
    public func encode(_ boxes: [Box], anchors: [Box]) -> [BoxDelta] {
        precondition(boxes.count == anchors.count, "\(boxes.count) boxes for \(anchors.count) anchors")
        return zip(boxes, anchors).map { encode($0, anchor: $1) }
    }

    /// `decode` of `deltas[k]` against `anchors[k]` for every k.
    public func decode(_ deltas: [BoxDelta], anchors: [Box]) -> [Box] {
        precondition(deltas.count == anchors.count, "\(deltas.count) deltas for \(anchors.count) anchors")
        return zip(deltas, anchors).map { decode($0, anchor: $1) }
    }

    /// `encode` into a flat `[n × 4]` array `(dx, dy, dw, dh)` per box, the layout of a regression tensor.
    public func encodeFlat(_ boxes: [Box], anchors: [Box]) -> [Double] {
        encode(boxes, anchors: anchors).flatMap { [$0.dx, $0.dy, $0.dw, $0.dh] }
    }

    /// `decode` from a flat `[n × 4]` array of deltas (n = `anchors.count`).
    public func decode(flat: [Double], anchors: [Box]) -> [Box] {
        precondition(flat.count == 4 * anchors.count, "\(flat.count) values for \(anchors.count) anchors")
        return anchors.indices.map { k in
            decode(BoxDelta(dx: flat[4 * k], dy: flat[4 * k + 1], dw: flat[4 * k + 2], dh: flat[4 * k + 3]),
                   anchor: anchors[k])
        }
    }
}
