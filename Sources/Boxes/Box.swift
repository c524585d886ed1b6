/// An axis-aligned box in corner form `(x1, y1, x2, y2)`, in `Double` precision.
///
/// Coordinates are continuous (pixels or normalised units): the width is `x2 − x1`, with no `+1` pixel
/// convention, as in torchvision and COCO. A box with `x2 < x1` or `y2 < y1` is degenerate; `width`,
/// `height` and `area` report it as it is (negative), while the overlap measures treat it as empty.
public struct Box: Hashable, Sendable, Codable {
    /// Left edge.
    public var x1: Double
    /// Top edge.
    public var y1: Double
    /// Right edge.
    public var x2: Double
    /// Bottom edge.
    public var y2: Double

    /// A box from its corners `(x1, y1)` (top left) and `(x2, y2)` (bottom right).
    @inlinable
    public init(x1: Double, y1: Double, x2: Double, y2: Double) {
        self.x1 = x1
        self.y1 = y1
        self.x2 = x2
        self.y2 = y2
    }

    /// A box from its centre and size (the `cxcywh` format of DETR): `x1 = cx − w/2`, `x2 = cx + w/2`.
    @inlinable
    public init(cx: Double, cy: Double, w: Double, h: Double) {
        self.init(x1: cx - 0.5 * w, y1: cy - 0.5 * h, x2: cx + 0.5 * w, y2: cy + 0.5 * h)
    }

    /// A box from its top-left corner and size (COCO's `xywh`): `x2 = x + w`, `y2 = y + h`.
    @inlinable
    public init(x: Double, y: Double, w: Double, h: Double) {
        self.init(x1: x, y1: y, x2: x + w, y2: y + h)
    }

    /// `x2 − x1`.
    @inlinable public var width: Double { x2 - x1 }
    /// `y2 − y1`.
    @inlinable public var height: Double { y2 - y1 }
    /// `width · height` (negative for a box inverted along one axis).
    @inlinable public var area: Double { width * height }
    /// Horizontal centre `(x1 + x2) / 2`.
    @inlinable public var cx: Double { 0.5 * (x1 + x2) }
    /// Vertical centre `(y1 + y2) / 2`.
    @inlinable public var cy: Double { 0.5 * (y1 + y2) }

    /// COCO form `(x, y, w, h)` with `(x, y)` the top-left corner.
    @inlinable public var xywh: (x: Double, y: Double, w: Double, h: Double) { (x1, y1, width, height) }

    /// Centre form `(cx, cy, w, h)`.
    @inlinable public var cxcywh: (cx: Double, cy: Double, w: Double, h: Double) { (cx, cy, width, height) }

    /// Corner form as an array `[x1, y1, x2, y2]`.
    @inlinable public var xyxy: [Double] { [x1, y1, x2, y2] }

    /// Whether `x2 > x1` and `y2 > y1` (a box with positive area).
    @inlinable public var isValid: Bool { x2 > x1 && y2 > y1 }

    /// This box with every coordinate clamped to `[0, width] × [0, height]` (torchvision's `clip_boxes_to_image`).
    @inlinable
    public func clipped(width: Double, height: Double) -> Box {
        Box(x1: Swift.min(Swift.max(x1, 0), width), y1: Swift.min(Swift.max(y1, 0), height),
            x2: Swift.min(Swift.max(x2, 0), width), y2: Swift.min(Swift.max(y2, 0), height))
    }

    /// This box scaled about its centre by `factor` in both directions (`factor` 0.5 halves width and height).
    @inlinable
    public func scaledAboutCentre(_ factor: Double) -> Box {
        Box(cx: cx, cy: cy, w: width * factor, h: height * factor)
    }

    /// Whether the point `(x, y)` lies inside the box, edges included.
    @inlinable
    public func contains(x: Double, y: Double) -> Bool {
        x >= x1 && x <= x2 && y >= y1 && y <= y2
    }

    /// L1 distance between the `(cx, cy, w, h)` forms of two boxes: `|Δcx| + |Δcy| + |Δw| + |Δh|`
    /// (the box term of DETR's matching cost, `torch.cdist(…, p=1)` on `cxcywh`).
    @inlinable
    public func l1CxcywhDistance(to other: Box) -> Double {
        abs(cx - other.cx) + abs(cy - other.cy) + abs(width - other.width) + abs(height - other.height)
    }
}

extension Box: CustomStringConvertible {
    /// `Box(x1, y1, x2, y2)`.
    public var description: String { "Box(\(x1), \(y1), \(x2), \(y2))" }
}
