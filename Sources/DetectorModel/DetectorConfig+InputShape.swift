import Boxes

extension DetectorConfig {
    /// Each pyramid level's feature map `(height, width)` for an `height × width` input, `(H / s, W / s)` for the
    /// strides of `pyramidStrides` in order. A square `inputSize²` input gives `levelSizes`.
    public func levelShapes(height: Int, width: Int) -> [(height: Int, width: Int)] {
        pyramidStrides.map { (height / $0, width / $0) }
    }

    /// Dense anchors of each level for an `height × width` input, `H_l · W_l · anchorsPerLocation`.
    public func levelAnchorCounts(height: Int, width: Int) -> [Int] {
        levelShapes(height: height, width: width).map { $0.height * $0.width * anchorsPerLocation }
    }

    /// Every dense anchor in input pixels for an `height × width` input (`rectangular`, or a square of another side),
    /// in the order of `anchors`: level-major, then `(y, x, a)` on each level's `H / s × W / s` grid of cells
    /// `s × s`. A square `inputSize²` input gives exactly `anchors`.
    public func anchors(height: Int, width: Int) -> [Box] {
        let g = anchorGenerator, shapes = levelShapes(height: height, width: width)
        return pyramidStrides.indices.flatMap { l in
            g.anchors(level: l, gridHeight: shapes[l].height, gridWidth: shapes[l].width,
                      strideY: Double(pyramidStrides[l]), strideX: Double(pyramidStrides[l]))
        }
    }

    /// Whether the network accepts an `height × width` input: both sides positive multiples of 16 (the backbone's
    /// coarsest stride) and no larger than `inputSize`, and square unless `rectangular`.
    public func accepts(height: Int, width: Int) -> Bool {
        height > 0 && width > 0 && height % 16 == 0 && width % 16 == 0 && max(height, width) <= inputSize
            && (rectangular || height == width)
    }
}
