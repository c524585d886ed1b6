/// Row gather by index, and its backward, a scatter-add.
///
/// Shapes: `x: [N, D...]` (rows of `D = shape[1...]` product elements), `indices: [K]` with `0 ≤ index < N`
/// (repeats allowed), `out: [K, D...]`. Forward: `out[k, :] = x[indices[k], :]`.
/// Backward: `dX[indices[k], :] += dOut[k, :]`, so repeated indices sum their gradients.
/// The indices carry no gradient (in the set head they come from a top-K selection).
public enum Gather {
    /// `out[k, :] = x[indices[k], :]`; `out` has shape `[indices.count] + x.shape[1...]`.
    public static func forward(_ x: Tensor, indices: [Int]) -> Tensor {
        let (n, d) = rowsAndWidth(x.shape)
        precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "Gather: index outside 0..<\(n)")
        var out = Tensor(shape: [indices.count] + x.shape.dropFirst())
        x.data.withUnsafeBufferPointer { xp in
            out.data.withUnsafeMutableBufferPointer { op in
                for (k, row) in indices.enumerated() {
                    let src = xp.baseAddress! + row * d
                    (op.baseAddress! + k * d).update(from: src, count: d)
                }
            }
        }
        return out
    }

    /// `dX[indices[k], :] += dOut[k, :]`; `dX` has the shape of the forward input.
    public static func backward(dOut: Tensor, indices: [Int], dX: inout Tensor) {
        let (n, d) = rowsAndWidth(dX.shape)
        precondition(dOut.count == indices.count * d, "Gather.backward: dOut \(dOut.shape) for \(indices.count) rows")
        precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "Gather.backward: index outside 0..<\(n)")
        dOut.data.withUnsafeBufferPointer { gp in
            dX.data.withUnsafeMutableBufferPointer { dp in
                for (k, row) in indices.enumerated() {
                    let src = gp.baseAddress! + k * d
                    let dst = dp.baseAddress! + row * d
                    for j in 0..<d { dst[j] += src[j] }
                }
            }
        }
    }

    /// Element-by-element forward through subscripts: the reference for tests.
    public static func reference(_ x: Tensor, indices: [Int]) -> Tensor {
        let (_, d) = rowsAndWidth(x.shape)
        var values: [Float] = []
        for row in indices {
            for j in 0..<d { values.append(x.data[row * d + j]) }
        }
        return Tensor(shape: [indices.count] + x.shape.dropFirst(), data: values)
    }

    /// Element-by-element scatter-add: the reference for `backward`.
    public static func referenceBackward(dOut: Tensor, indices: [Int], dX: inout Tensor) {
        let (_, d) = rowsAndWidth(dX.shape)
        for (k, row) in indices.enumerated() {
            for j in 0..<d { dX.data[row * d + j] += dOut.data[k * d + j] }
        }
    }

    /// `(N, D)` of a tensor of rank at least 1.
    private static func rowsAndWidth(_ shape: [Int]) -> (Int, Int) {
        precondition(!shape.isEmpty, "Gather: x must have at least one dimension")
        return (shape[0], shape.dropFirst().reduce(1, *))
    }
}
