import Foundation

/// An element-wise function with one parameter `a` and its derivative, as static functions so that the
/// generic loops below are specialised with the function inlined.
protocol ElementOp {
    /// `f(v; a)`.
    static func apply(_ v: Float, _ a: Float) -> Float
    /// `f'` expressed through the saved value `s` (the input or the output, as the layer keeps).
    static func derivative(_ s: Float, _ a: Float) -> Float
}

enum ReLUOp: ElementOp {
    static func apply(_ v: Float, _ a: Float) -> Float { v > 0 ? v : 0 }
    static func derivative(_ y: Float, _ a: Float) -> Float { y > 0 ? 1 : 0 }
}

enum LeakyReLUOp: ElementOp {
    static func apply(_ v: Float, _ a: Float) -> Float { v > 0 ? v : a * v }
    static func derivative(_ x: Float, _ a: Float) -> Float { x > 0 ? 1 : a }
}

enum SigmoidOp: ElementOp {
    static func apply(_ v: Float, _ a: Float) -> Float {
        if v >= 0 { return 1 / (1 + Foundation.exp(-v)) }
        let e = Foundation.exp(v)
        return e / (1 + e)
    }
    static func derivative(_ y: Float, _ a: Float) -> Float { y * (1 - y) }
}

/// `y[i] = Op.apply(x[i], a)`, parallel over the cores.
func mapElements<Op: ElementOp>(_ x: Tensor, _ op: Op.Type, _ a: Float = 0) -> Tensor {
    Tensor(shape: x.shape) { yb in
        let ys = SharedPointer(yb.baseAddress!)
        x.data.withUnsafeBufferPointer { xb in
            let xs = SharedPointer(UnsafeMutablePointer(mutating: xb.baseAddress!))
            Parallel.forEachChunk(xb.count) { r in
                let xp = xs.base, yp = ys.base
                for i in r { yp[i] = Op.apply(xp[i], a) }
            }
        }
    }
}

/// `dx[i] = dy[i]·Op.derivative(saved[i], a)`, parallel over the cores.
func mapGradient<Op: ElementOp>(_ dy: Tensor, _ saved: Tensor, _ op: Op.Type, _ a: Float = 0) -> Tensor {
    precondition(dy.shape == saved.shape, "activation backward: dy \(dy.shape) ≠ \(saved.shape)")
    return Tensor(shape: dy.shape) { out in
        let os = SharedPointer(out.baseAddress!)
        dy.data.withUnsafeBufferPointer { db in
            saved.data.withUnsafeBufferPointer { sb in
                let ds = SharedPointer(UnsafeMutablePointer(mutating: db.baseAddress!))
                let ss = SharedPointer(UnsafeMutablePointer(mutating: sb.baseAddress!))
                Parallel.forEachChunk(db.count) { r in
                    let dp = ds.base, sp = ss.base, op = os.base
                    for i in r { op[i] = dp[i] * Op.derivative(sp[i], a) }
                }
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
        let y = mapElements(x, ReLUOp.self)
        output = y
        return y
    }
    /// `dy` where the output was positive, else 0.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let y = output else { preconditionFailure("ReLU: backward before forward") }
        return mapGradient(dy, y, ReLUOp.self)
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
        return mapElements(x, LeakyReLUOp.self, slope)
    }
    /// `dy·(x > 0 ? 1 : slope)`.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("LeakyReLU: backward before forward") }
        return mapGradient(dy, x, LeakyReLUOp.self, slope)
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
        let y = mapElements(x, SigmoidOp.self)
        output = y
        return y
    }
    /// `dy·y·(1 − y)`.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let y = output else { preconditionFailure("Sigmoid: backward before forward") }
        return mapGradient(dy, y, SigmoidOp.self)
    }
}
