extension Gather {
    /// Feature vectors of chosen cells of channel-first maps, as tokens: the set head's gather of its K
    /// hypotheses' features straight from `[B, C, H, W]`, without transposing the whole map first.
    ///
    /// Shapes: `x: [B, C, H, W]` (or `[B, C, S]`; the trailing dimensions are `S` cells in row-major order),
    /// `cells`: `B` lists of `K` flat cell indices `h·W + w` in `0 ..< S` (repeats allowed), `out: [B, K, C]`.
    /// Forward: `out[b, k, c] = x[b, c, cells[b][k]]`. Backward: `dX[b, c, cells[b][k]] += dOut[b, k, c]`.
    public static func cells(_ x: Tensor, cells: [[Int]]) -> Tensor {
        let (batch, channels, size) = cellDims(x.shape)
        let k = checkCells(cells, batch: batch, size: size)
        var out = Tensor(shape: [batch, k, channels])
        x.data.withUnsafeBufferPointer { xp in
            out.data.withUnsafeMutableBufferPointer { op in
                for b in 0..<batch {
                    let image = xp.baseAddress! + b * channels * size
                    for (t, cell) in cells[b].enumerated() {
                        let token = op.baseAddress! + (b * k + t) * channels
                        for c in 0..<channels { token[c] = image[c * size + cell] }
                    }
                }
            }
        }
        return out
    }

    /// `dX[b, c, cells[b][k]] += dOut[b, k, c]`; `dX` has the shape of the forward input.
    public static func cellsBackward(dOut: Tensor, cells: [[Int]], dX: inout Tensor) {
        let (batch, channels, size) = cellDims(dX.shape)
        let k = checkCells(cells, batch: batch, size: size)
        precondition(dOut.shape == [batch, k, channels], "Gather.cellsBackward: dOut \(dOut.shape)")
        dOut.data.withUnsafeBufferPointer { gp in
            dX.data.withUnsafeMutableBufferPointer { dp in
                for b in 0..<batch {
                    let image = dp.baseAddress! + b * channels * size
                    for (t, cell) in cells[b].enumerated() {
                        let token = gp.baseAddress! + (b * k + t) * channels
                        for c in 0..<channels { image[c * size + cell] += token[c] }
                    }
                }
            }
        }
    }

    /// Subscript-by-subscript `cells`: the reference for tests.
    public static func cellsReference(_ x: Tensor, cells: [[Int]]) -> Tensor {
        let (batch, channels, size) = cellDims(x.shape)
        let k = cells.first?.count ?? 0
        var out = Tensor(shape: [batch, k, channels])
        for b in 0..<batch {
            for t in 0..<k {
                for c in 0..<channels {
                    out.data[(b * k + t) * channels + c] = x.data[(b * channels + c) * size + cells[b][t]]
                }
            }
        }
        return out
    }

    /// `(B, C, S)` of a `[B, C, ...]` tensor.
    private static func cellDims(_ shape: [Int]) -> (Int, Int, Int) {
        precondition(shape.count >= 3, "Gather.cells: x \(shape) must be [B, C, H, W] or [B, C, S]")
        return (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
    }

    /// The common K of `cells`, after checking one list per image and every index in range.
    private static func checkCells(_ cells: [[Int]], batch: Int, size: Int) -> Int {
        precondition(cells.count == batch, "Gather.cells: \(cells.count) cell lists for \(batch) images")
        let k = cells.first?.count ?? 0
        precondition(cells.allSatisfy { $0.count == k }, "Gather.cells: every image needs the same number of cells")
        precondition(cells.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 < size } },
                     "Gather.cells: cell outside 0..<\(size)")
        return k
    }
}
