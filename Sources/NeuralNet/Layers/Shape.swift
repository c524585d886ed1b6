/// Residual addition `y = a + b` (same shapes); backward hands `dy` to both inputs unchanged.
public final class Add: Layer {
    /// None.
    public var parameters: [Parameter] { [] }
    /// An addition.
    public init() {}
    /// `a + b`, element-wise.
    public func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "Add: shapes \(a.shape) and \(b.shape) differ")
        return Tensor(shape: a.shape) { yb in
            let ys = SharedPointer(yb.baseAddress!)
            a.data.withUnsafeBufferPointer { ab in
                b.data.withUnsafeBufferPointer { bb in
                    let aS = SharedPointer(UnsafeMutablePointer(mutating: ab.baseAddress!))
                    let bS = SharedPointer(UnsafeMutablePointer(mutating: bb.baseAddress!))
                    Parallel.forEachChunk(ab.count) { r in
                        let ap = aS.base, bp = bS.base, yp = ys.base
                        for i in r { yp[i] = ap[i] + bp[i] }
                    }
                }
            }
        }
    }
    /// `(da, db) = (dy, dy)`.
    public func backward(_ dy: Tensor) -> (Tensor, Tensor) { (dy, dy) }
}

/// Flattens every dimension after the first: `[N, d1, d2, …] → [N, d1·d2·…]`; backward restores the shape.
public final class Flatten: Layer {
    private var inputShape: [Int] = []
    /// None.
    public var parameters: [Parameter] { [] }
    /// A flatten.
    public init() {}
    /// `x` reshaped to `[N, rest]`.
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 1, "Flatten: scalar input")
        inputShape = x.shape
        return x.reshaped([x.shape[0], x.shape.dropFirst().reduce(1, *)])
    }
    /// `dy` reshaped to the input's shape.
    public func backward(_ dy: Tensor) -> Tensor { dy.reshaped(inputShape) }
}

/// Nearest-neighbour upsampling by an integer factor `f` (PyTorch `Upsample(scale_factor: f, mode: "nearest")`).
///
/// Shape key: `x: [N, C, H, W]`, `y: [N, C, f·H, f·W]`, `y[n, c, i, j] = x[n, c, i/f, j/f]`;
/// backward: `dx[n, c, h, w] = Σ_{a, b < f} dy[n, c, f·h + a, f·w + b]`.
public final class Upsample: Layer {
    /// Integer scale factor.
    public let factor: Int
    /// None.
    public var parameters: [Parameter] { [] }
    /// Upsampling by `factor` (≥ 1).
    public init(factor: Int) {
        precondition(factor >= 1, "Upsample: factor \(factor) < 1")
        self.factor = factor
    }
    /// Each input pixel repeated into an `f`×`f` block.
    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "Upsample: input \(x.shape), want [N, C, H, W]")
        let f = factor, planes = x.shape[0] * x.shape[1], H = x.shape[2], W = x.shape[3], Wo = W * f
        return Tensor(shape: [x.shape[0], x.shape[1], H * f, Wo]) { yb in
            let ys = SharedPointer(yb.baseAddress!)
            x.data.withUnsafeBufferPointer { xb in
                let xs = SharedPointer(UnsafeMutablePointer(mutating: xb.baseAddress!))
                Parallel.forEachChunk(planes, workPerItem: H * W * f * f) { r in
                    for pl in r {
                        for h in 0..<H {
                            let src = xs.base + (pl * H + h) * W
                            let row = ys.base + (pl * H + h) * f * Wo
                            for w in 0..<W { for a in 0..<f { row[w * f + a] = src[w] } }
                            for a in 1..<f { (row + a * Wo).update(from: row, count: Wo) }
                        }
                    }
                }
            }
        }
    }
    /// Sum of `dy` over each `f`×`f` block.
    public func backward(_ dy: Tensor) -> Tensor {
        let f = factor, H = dy.shape[2] / f, W = dy.shape[3] / f, Wo = dy.shape[3]
        precondition(dy.rank == 4 && dy.shape[2] % f == 0 && dy.shape[3] % f == 0, "Upsample: dy \(dy.shape)")
        return Tensor(shape: [dy.shape[0], dy.shape[1], H, W], repeating: 0).withData { dx in
            let planes = dy.shape[0] * dy.shape[1]
            let xs = SharedPointer(dx.baseAddress!)
            dy.data.withUnsafeBufferPointer { db in
                let ds = SharedPointer(UnsafeMutablePointer(mutating: db.baseAddress!))
                Parallel.forEachChunk(planes, workPerItem: H * W * f * f) { r in
                    for pl in r {
                        for h in 0..<H {
                            let dst = xs.base + (pl * H + h) * W
                            for a in 0..<f {
                                let row = ds.base + ((pl * H + h) * f + a) * Wo
                                for w in 0..<W { for b in 0..<f { dst[w] += row[w * f + b] } }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Tensor {
    /// This tensor after `body` has modified its elements in place.
    @inlinable
    public func withData(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) -> Tensor {
        var t = self
        t.data.withUnsafeMutableBufferPointer { body($0) }
        return t
    }
}
