import Foundation

/// Element-wise map over a tensor, parallel over the cores: `y[i] = f(x[i])`.

func mapElements(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
    Tensor(shape: x.shape) { yb in
        let ys = SharedPointer(yb.baseAddress!)
        x.data.withUnsafeBufferPointer { xb in
            let xs = SharedPointer(UnsafeMutablePointer(mutating: xb.baseAddress!))
            Parallel.forEachChunk(xb.count) { r in for i in r { ys.base[i] = f(xs.base[i]) } }
        }
    }
}

/// Element-wise product of a gradient with a local derivative read from a saved tensor:
/// `dx[i] = dy[i] · g(saved[i])`.

func mapGradient(_ dy: Tensor, _ saved: Tensor, _ g: (Float) -> Float) -> Tensor {
    precondition(dy.shape == saved.shape, "activation backward: dy \(dy.shape) ≠ \(saved.shape)")
    return Tensor(shape: dy.shape) { out in
        let os = SharedPointer(out.baseAddress!)
        dy.data.withUnsafeBufferPointer { db in
            saved.data.withUnsafeBufferPointer { sb in
                let ds = SharedPointer(UnsafeMutablePointer(mutating: db.baseAddress!))
                let ss = SharedPointer(UnsafeMutablePointer(mutating: sb.baseAddress!))
                Parallel.forEachChunk(db.count) { r in for i in r { os.base[i] = ds.base[i] * g(ss.base[i]) } }
            }
        }
    }
}

/// Rectified linear unit: `y = max(x, 0)`; `dx = dy·[y > 0]`. Any shape; keeps `y`.
public final class ReLU: Layer {
    private var output: Tensor?
    /// None.
    public var parameters: [Parameter] { [] }
    /// A ReLU.
    public init() {}
    /// `max(x, 0)`.
    public func forward(_ x: Tensor) -> Tensor {
        let y = mapElements(x) { $0 > 0 ? $0 : 0 }
        output = y
        return y
    }
    /// `dy` where the output was positive, else 0.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let y = output else { preconditionFailure("ReLU: backward before forward") }
        return mapGradient(dy, y) { $0 > 0 ? 1 : 0 }
    }
}

/// Leaky ReLU: `y = x` for `x > 0`, else `slope·x` (default slope 0.01, as PyTorch); any shape; keeps `x`.
public final class LeakyReLU: Layer {
    /// Slope for negative inputs.
    public let slope: Float
    private var input: Tensor?
    /// None.
    public var parameters: [Parameter] { [] }
    /// A leaky ReLU with `slope` for negative inputs.
    public init(slope: Float = 0.01) { self.slope = slope }
    /// `x > 0 ? x : slope·x`.
    public func forward(_ x: Tensor) -> Tensor {
        input = x
        let a = slope
        return mapElements(x) { $0 > 0 ? $0 : a * $0 }
    }
    /// `dy·(x > 0 ? 1 : slope)`.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("LeakyReLU: backward before forward") }
        let a = slope
        return mapGradient(dy, x) { $0 > 0 ? 1 : a }
    }
}

/// Logistic sigmoid: `y = 1/(1 + e^(−x))`, `dx = dy·y·(1 − y)`; any shape; keeps `y`.
public final class Sigmoid: Layer {
    private var output: Tensor?
    /// None.
    public var parameters: [Parameter] { [] }
    /// A sigmoid.
    public init() {}
    /// `1/(1 + e^(−x))`, computed without overflow for large `|x|`.
    public func forward(_ x: Tensor) -> Tensor {
        let y = mapElements(x) { v in
            if v >= 0 { return 1 / (1 + Foundation.exp(-v)) }
            let e = Foundation.exp(v)
            return e / (1 + e)
        }
        output = y
        return y
    }
    /// `dy·y·(1 − y)`.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let y = output else { preconditionFailure("Sigmoid: backward before forward") }
        return mapGradient(dy, y) { $0 * (1 - $0) }
    }
}
