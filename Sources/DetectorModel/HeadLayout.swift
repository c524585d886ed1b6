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
