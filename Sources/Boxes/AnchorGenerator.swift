/// Anchor boxes for dense detection heads, as torchvision's `AnchorGenerator`
/// (`torchvision.models.detection.anchor_utils`, the anchors of Faster R-CNN and RetinaNet).
///
/// Per feature level, base anchors centred on the origin are made for every (aspect ratio, size) pair,
/// ratio-major: with `h = √ratio` and `w = 1/√ratio`, the anchor of size `s` is
/// `round((−w·s, −h·s, w·s, h·s) / 2)`, rounding half to even as `torch.round` does. `aspectRatios` are
/// height / width. The anchors of a level are the base anchors shifted to every grid cell's top-left
/// corner `(x·strideX, y·strideY)`, ordered by (y, x, anchor).
public struct AnchorGenerator: Sendable, Equatable {
    /// Anchor sizes (side of the square anchor of ratio 1, pixels) per feature level.
    public var sizes: [[Double]]
    /// Aspect ratios (height / width) per feature level.
    public var aspectRatios: [[Double]]

    /// A generator for `sizes.count` feature levels; `aspectRatios` must have one list per level.
    public init(sizes: [[Double]], aspectRatios: [[Double]]) {
        precondition(sizes.count == aspectRatios.count,
                     "\(sizes.count) size lists but \(aspectRatios.count) aspect-ratio lists")
        self.sizes = sizes
        self.aspectRatios = aspectRatios
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
                out.append(Box(x1: (-w / 2).rounded(.toNearestOrEven), y1: (-h / 2).rounded(.toNearestOrEven),
                               x2: (w / 2).rounded(.toNearestOrEven), y2: (h / 2).rounded(.toNearestOrEven)))
            }
        }
        return out
    }

    /// The anchors of `level` on a `gridHeight × gridWidth` feature map whose cells are `strideY × strideX`
    /// pixels: `gridHeight · gridWidth · anchorsPerLocation` boxes ordered by (y, x, anchor).
    public func anchors(level: Int, gridHeight: Int, gridWidth: Int, strideY: Double, strideX: Double) -> [Box] {
        let base = baseAnchors(level: level)
        var out: [Box] = []
        out.reserveCapacity(gridHeight * gridWidth * base.count)
        for y in 0..<gridHeight {
            let sy = Double(y) * strideY
            for x in 0..<gridWidth {
                let sx = Double(x) * strideX
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
