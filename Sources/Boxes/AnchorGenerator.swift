/// Anchor boxes for dense detection heads, as torchvision's `AnchorGenerator`
/// (`torchvision.models.detection.anchor_utils`, the anchors of Faster R-CNN and RetinaNet).
///
/// Per feature level, base anchors centred on the origin are made for every (aspect ratio, size) pair,
/// ratio-major: with `h = √ratio` and `w = 1/√ratio`, the anchor of size `s` is
/// `round((−w·s, −h·s, w·s, h·s) / 2)`, rounding half to even as `torch.round` does. `aspectRatios` are
/// height / width. The anchors of a level are the base anchors shifted to every grid cell's top-left
/// corner `(x·strideX, y·strideY)`, ordered by (y, x, anchor).
///
/// Two settings depart from torchvision where a detector wants them: `centerOffset` shifts the anchors by that
/// fraction of the stride (mmdetection's `center_offset`; 0.5 centres them on the cells), and `roundsBaseAnchors`
/// false keeps the exact sizes (mmdetection does not round). The defaults are torchvision's.
public struct AnchorGenerator: Sendable, Equatable {
    /// Anchor sizes (side of the square anchor of ratio 1, pixels) per feature level.
    public var sizes: [[Double]]
    /// Aspect ratios (height / width) per feature level.
    public var aspectRatios: [[Double]]

    /// Shift of every anchor from the cell's top-left corner, as a fraction of the stride (0 = torchvision,
    /// 0.5 = the cell's centre).
    public var centerOffset: Double
    /// Round the base anchors' corners to integers, half to even (torchvision); false keeps them exact.
    public var roundsBaseAnchors: Bool

    /// A generator for `sizes.count` feature levels; `aspectRatios` must have one list per level.
    public init(sizes: [[Double]], aspectRatios: [[Double]], centerOffset: Double = 0, roundsBaseAnchors: Bool = true) {
        precondition(sizes.count == aspectRatios.count,
                     "\(sizes.count) size lists but \(aspectRatios.count) aspect-ratio lists")
        self.sizes = sizes
        self.aspectRatios = aspectRatios
        self.centerOffset = centerOffset
        self.roundsBaseAnchors = roundsBaseAnchors
    }

    /// Number of feature levels.
    public var levelCount: Int { sizes.count }

    /// Anchors per grid location on `level`: `sizes[level].count × aspectRatios[level].count`.
    public func anchorsPerLocation(level: Int) -> Int { sizes[level].count * aspectRatios[level].count }

    /// The base anchors of `level`, centred on the origin, ratio-major then size.
    public func baseAnchors(level: Int) -> [Box] {
        var out: [Box] = []
        out.reserveCapacity(anchorsPerLocation(level: level))
        for ratio in aspectRatios[level] {
            let hRatio = ratio.squareRoot()
            let wRatio = 1 / hRatio
            for size in sizes[level] {
                let w = wRatio * size, h = hRatio * size
                let round = { (v: Double) in self.roundsBaseAnchors ? v.rounded(.toNearestOrEven) : v }
                out.append(Box(x1: round(-w / 2), y1: round(-h / 2), x2: round(w / 2), y2: round(h / 2)))
            }
        }
        return out
    }

    /// The anchors of `level` on a `gridHeight × gridWidth` feature map whose cells are `strideY × strideX`
    /// pixels: `gridHeight · gridWidth · anchorsPerLocation` boxes ordered by (y, x, anchor), shifted by
    /// `centerOffset` strides.
    public func anchors(level: Int, gridHeight: Int, gridWidth: Int, strideY: Double, strideX: Double) -> [Box] {
        let base = baseAnchors(level: level)
        var out: [Box] = []
        out.reserveCapacity(gridHeight * gridWidth * base.count)
        for y in 0..<gridHeight {
            let sy = (Double(y) + centerOffset) * strideY
            for x in 0..<gridWidth {
                let sx = (Double(x) + centerOffset) * strideX
                for b in base {
                    out.append(Box(x1: b.x1 + sx, y1: b.y1 + sy, x2: b.x2 + sx, y2: b.y2 + sy))
                }
            }
        }
        return out
    }

    /// The anchors of every level for an `imageHeight × imageWidth` input whose level `l` feature map is
    /// `featureSizes[l]`; strides are `imageSize / featureSize` in integer division, as torchvision does.
    public func anchors(imageHeight: Int, imageWidth: Int, featureSizes: [(height: Int, width: Int)]) -> [[Box]] {
        precondition(featureSizes.count == levelCount, "\(featureSizes.count) feature maps for \(levelCount) levels")
        return featureSizes.enumerated().map { level, f in
            anchors(level: level, gridHeight: f.height, gridWidth: f.width,
                    strideY: Double(imageHeight / f.height), strideX: Double(imageWidth / f.width))
        }
    }
}
