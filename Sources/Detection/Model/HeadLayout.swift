import NeuralNet

/// Moves between the convolution layout of head outputs and the per-anchor layout the criteria use.
///
/// A head conv emits `[N, A·D, H, W]` (channel `a·D + d` for anchor `a`, value `d`); the criteria and the
/// box coder use `[N, H·W·A, D]` with anchor index `(y·W + x)·A + a`, the order of torchvision's RetinaNet
/// and of `AnchorGenerator`.
public enum HeadLayout {
    /// `x: [N, A·D, H, W]` → `[N, H·W·A, D]`.
    public static func toAnchors(_ x: Tensor, anchors a: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(c % a == 0, "HeadLayout: \(c) channels are not a multiple of \(a) anchors")
        let d = c / a, hw = h * w
        var out = Tensor(shape: [n, hw * a, d])
        x.data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                for b in 0..<n {
                    let s = src.baseAddress! + b * c * hw, o = dst.baseAddress! + b * c * hw
                    for ch in 0..<c {
                        let (ai, di) = (ch / d, ch % d)
                        let plane = s + ch * hw
                        for p in 0..<hw { o[(p * a + ai) * d + di] = plane[p] }
                    }
                }
            }
        }
        return out
    }

    /// Inverse of `toAnchors`: `[N, H·W·A, D]` → `[N, A·D, H, W]` (used for gradients).
    public static func fromAnchors(_ x: Tensor, anchors a: Int, height h: Int, width w: Int) -> Tensor {
        let (n, d) = (x.shape[0], x.shape[2])
        let hw = h * w, c = a * d
        precondition(x.shape[1] == hw * a, "HeadLayout: \(x.shape[1]) anchors ≠ \(h)·\(w)·\(a)")
        var out = Tensor(shape: [n, c, h, w])
        x.data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                for b in 0..<n {
                    let s = src.baseAddress! + b * c * hw, o = dst.baseAddress! + b * c * hw
                    for ch in 0..<c {
                        let (ai, di) = (ch / d, ch % d)
                        let plane = o + ch * hw
                        for p in 0..<hw { plane[p] = s[(p * a + ai) * d + di] }
                    }
                }
            }
        }
        return out
    }
}

/// Gathers feature vectors at chosen cells of a feature map, with a scatter-add backward.
///
/// Forward: `features: [N, C, H, W]`, `cells[b]`: K cell indices `y·W + x` per image → `[N·K, C]`
/// (row `b·K + k`). Backward: `dOut: [N·K, C]` → `dFeatures: [N, C, H, W]`, summing rows that pick the same cell.
public struct CellGather {
    /// Shape of the gathered feature map.
    public let featureShape: [Int]
    /// Per image, the K gathered cells.
    public let cells: [[Int]]

    /// Records the cells; `cells` must all have the same count.
    public init(featureShape: [Int], cells: [[Int]]) {
        precondition(featureShape.count == 4 && cells.count == featureShape[0], "CellGather: \(cells.count) cell lists for \(featureShape)")
        precondition(Set(cells.map(\.count)).count <= 1, "CellGather: images must gather the same number of cells")
        self.featureShape = featureShape
        self.cells = cells
    }

    /// `[N, C, H, W]` → `[N·K, C]`.
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape == featureShape, "CellGather: shape \(x.shape) ≠ \(featureShape)")
        let (n, c, hw) = (featureShape[0], featureShape[1], featureShape[2] * featureShape[3])
        let k = cells.first?.count ?? 0
        var out = Tensor(shape: [n * k, c])
        x.data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                for b in 0..<n {
                    for (j, cell) in cells[b].enumerated() {
                        let row = dst.baseAddress! + (b * k + j) * c
                        let base = src.baseAddress! + b * c * hw + cell
                        for ch in 0..<c { row[ch] = base[ch * hw] }
                    }
                }
            }
        }
        return out
    }

    /// `dOut: [N·K, C]` → `dX: [N, C, H, W]` (scatter-add).
    public func backward(_ dy: Tensor) -> Tensor {
        let (n, c, hw) = (featureShape[0], featureShape[1], featureShape[2] * featureShape[3])
        let k = cells.first?.count ?? 0
        precondition(dy.shape == [n * k, c], "CellGather: gradient shape \(dy.shape) ≠ [\(n * k), \(c)]")
        var dx = Tensor(shape: featureShape)
        dy.data.withUnsafeBufferPointer { src in
            dx.data.withUnsafeMutableBufferPointer { dst in
                for b in 0..<n {
                    for (j, cell) in cells[b].enumerated() {
                        let row = src.baseAddress! + (b * k + j) * c
                        let base = dst.baseAddress! + b * c * hw + cell
                        for ch in 0..<c { base[ch * hw] += row[ch] }
                    }
                }
            }
        }
        return dx
    }
}
