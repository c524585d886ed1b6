#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Numerically stable softmax over the last dimension, and its backward.
///
/// Shapes: `x: [R..., D]` (any leading dimensions, `R` rows in all), `y` the same.
/// Forward: `y[r, j] = exp(x[r, j] − max_j x[r, :]) / Σ_i exp(x[r, i] − max_j x[r, :])`; subtracting the row
/// maximum keeps `exp` from overflowing and leaves the result unchanged.
/// Backward (from the output): `dX[r, j] += y[r, j] · (dY[r, j] − Σ_i y[r, i] · dY[r, i])`.
public enum Softmax {
    /// `y = softmax(x)` along the last dimension.
    public static func forward(_ x: Tensor) -> Tensor {
        let (rows, width) = rowsAndWidth(x.shape)
        var y = x
        y.data.withUnsafeMutableBufferPointer { yp in
            guard let base = yp.baseAddress else { return }
            forwardRows(base, rows: rows, width: width)
        }
        return y
    }

    /// `dX += ∂L/∂x` given `dY = ∂L/∂y` and the forward output `y`; all three share one shape.
    public static func backward(dY: Tensor, y: Tensor, dX: inout Tensor) {
        precondition(dY.shape == y.shape && dX.shape == y.shape,
                     "Softmax.backward: shapes \(dY.shape) \(y.shape) \(dX.shape)")
        let (rows, width) = rowsAndWidth(y.shape)
        dY.data.withUnsafeBufferPointer { gp in
            y.data.withUnsafeBufferPointer { yp in
                dX.data.withUnsafeMutableBufferPointer { dp in
                    guard let g = gp.baseAddress, let yb = yp.baseAddress, let d = dp.baseAddress else { return }
                    backwardRows(dY: g, y: yb, dX: d, rows: rows, width: width, scale: 1)
                }
            }
        }
    }

    /// In-place softmax of `rows` contiguous rows of `width` values.
    static func forwardRows(_ p: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let row = p + r * width
            var peak = -Float.infinity
            for j in 0..<width where row[j] > peak { peak = row[j] }
            // An all −inf row has no finite maximum; treat it as a zero shift (the row then yields nan,
            // as an all-masked row does everywhere).
            if !peak.isFinite && peak < 0 { peak = 0 }
            var sum: Float = 0
            for j in 0..<width {
                let e = expf(row[j] - peak)
                row[j] = e
                sum += e
            }
            let inverse = 1 / sum
            for j in 0..<width { row[j] *= inverse }
        }
    }

    /// `dX += scale · y ⊙ (dY − rowsum(y ⊙ dY))` over `rows` contiguous rows of `width` values.
    static func backwardRows(
        dY: UnsafePointer<Float>, y: UnsafePointer<Float>, dX: UnsafeMutablePointer<Float>,
        rows: Int, width: Int, scale: Float
    ) {
        for r in 0..<rows {
            let g = dY + r * width, yr = y + r * width, d = dX + r * width
            var dot: Float = 0
            for j in 0..<width { dot += yr[j] * g[j] }
            for j in 0..<width { d[j] += scale * yr[j] * (g[j] - dot) }
        }
    }

    /// Softmax in Double with the textbook formula (max-shifted): the reference for tests.
    public static func reference(_ x: Tensor) -> Tensor {
        let (rows, width) = rowsAndWidth(x.shape)
        var out = [Float](repeating: 0, count: x.count)
        for r in 0..<rows {
            let row = (0..<width).map { Double(x.data[r * width + $0]) }
            let peak = row.max() ?? 0
            let e = row.map { exp($0 - peak) }
            let s = e.reduce(0, +)
            for j in 0..<width { out[r * width + j] = Float(e[j] / s) }
        }
        return Tensor(shape: x.shape, data: out)
    }

    /// `(rows, width)` of a tensor of rank at least 1.
    static func rowsAndWidth(_ shape: [Int]) -> (Int, Int) {
        precondition(!shape.isEmpty, "Softmax: x must have at least one dimension")
        let width = shape[shape.count - 1]
        return (width == 0 ? 0 : shape.reduce(1, *) / width, width)
    }
}
