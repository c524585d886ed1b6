/// Max pooling with a square window, stride and implicit `−∞` padding (PyTorch `MaxPool2d`).
///
/// Shape key: `x: [N, C, H, W]`, `y: [N, C, Ho, Wo]`, `Ho = (H + 2p − K)/s + 1`. Forward keeps the flat index
/// of each window's maximum (the first one in row-major order on ties); backward adds `dy` there.
public final class MaxPool2D: Layer {
    /// Window size, stride, padding.
    public let kernelSize, stride, padding: Int
    private var argmax: [Int32] = []
    private var inputShape: [Int] = []
    /// None.
    public var parameters: [Parameter] { [] }

    /// A `kernelSize`² pooling; `stride` defaults to `kernelSize`, `padding` to 0.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(kernelSize > 0 && padding >= 0 && 2 * padding <= kernelSize, "MaxPool2D: bad window")
        self.kernelSize = kernelSize; self.stride = stride ?? kernelSize; self.padding = padding
    }

    /// The maximum of every window.
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "MaxPool2D: input \(x.shape), want [N, C, H, W]")
        let H = x.shape[2], W = x.shape[3], K = kernelSize, s = stride, p = padding
        let Ho = (H + 2 * p - K) / s + 1, Wo = (W + 2 * p - K) / s + 1
        precondition(Ho > 0 && Wo > 0, "MaxPool2D: input \(x.shape) smaller than the window")
        let planes = x.shape[0] * x.shape[1]
        inputShape = x.shape
        var idx = [Int32](repeating: 0, count: planes * Ho * Wo)
        let y = Tensor(shape: [x.shape[0], x.shape[1], Ho, Wo]) { yb in
            let ys = SharedPointer(yb.baseAddress!)
            idx.withUnsafeMutableBufferPointer { ib in
                let iS = SharedPointer(ib.baseAddress!)
                x.data.withUnsafeBufferPointer { xb in
                    let xs = SharedPointer(UnsafeMutablePointer(mutating: xb.baseAddress!))
                    Parallel.forEachChunk(planes, workPerItem: Ho * Wo * K * K) { r in
                        for pl in r {
                            let src = xs.base + pl * H * W
                            for oh in 0..<Ho {
                                for ow in 0..<Wo {
                                    var best = -Float.infinity, at = -1
                                    for ki in 0..<K {
                                        let ih = oh * s - p + ki
                                        if ih < 0 || ih >= H { continue }
                                        for kj in 0..<K {
                                            let iw = ow * s - p + kj
                                            if iw < 0 || iw >= W { continue }
                                            let v = src[ih * W + iw]
                                            if v > best || at < 0 || v.isNaN { best = v; at = ih * W + iw }
                                        }
                                    }
                                    let o = (pl * Ho + oh) * Wo + ow
                                    ys.base[o] = best
                                    iS.base[o] = Int32(pl * H * W + at)
                                }
                            }
                        }
                    }
                }
            }
        }
        argmax = idx
        return y
    }

    /// `dx[argmax] += dy`.
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.count == argmax.count, "MaxPool2D: dy \(dy.shape) does not match the forward pass")
        var dx = Tensor(shape: inputShape)
        dx.data.withUnsafeMutableBufferPointer { d in
            dy.data.withUnsafeBufferPointer { g in
                for i in 0..<g.count { d[Int(argmax[i])] += g[i] }
            }
        }
        return dx
    }
}
