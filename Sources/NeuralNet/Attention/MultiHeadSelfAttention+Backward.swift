#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension MultiHeadSelfAttention {
    /// Accumulates every parameter gradient and returns `dX: [B, K, D]` for `dY: [B, K, D]`.
    ///
    /// The forward read in reverse: `dO = dY·Wo` (and `dWo += dYᵀ·O`, `dbo += Σ dY`); per set and head,
    /// `dP = dO_h·V_hᵀ`, `dV_h = Pᵀ·dO_h`, `dS = P ⊙ (dP − rowsum(P ⊙ dP)) / √d`, `dQ_h = dS·K_h`,
    /// `dK_h = dSᵀ·Q_h`, `dλ[h, g] += Σ dS_raw ⊙ M_g` (scores' gradient before the 1/√d); then the q/k/v
    /// projections: `dX = dQ·Wq + dK·Wk + dV·Wv`.
    public func backward(_ dY: Tensor) -> Tensor {
        guard let w = workspace else { preconditionFailure("MultiHeadSelfAttention.backward before forward") }
        precondition(dY.shape == w.shape, "MultiHeadSelfAttention.backward: dY \(dY.shape) for input \(w.shape)")
        let (batch, tokens, d) = (w.shape[0], w.shape[1], width)
        let rows = batch * tokens, headWidth = d / heads, scale = self.scale, g = geometryMaps
        var dX = Tensor(shape: w.shape)
        guard rows > 0 else { return dX }
        for buffer in [w.dO, w.dQ, w.dK, w.dV] { buffer.zero() }

        dY.data.withUnsafeBufferPointer {
            out.backward(dy: $0.baseAddress!, x: w.o.pointer, rows: rows, dx: w.dO.pointer)
        }
        for b in 0..<batch {
            for h in 0..<heads {
                let column = b * tokens * d + h * headWidth
                let probabilities = w.p.pointer + (b * heads + h) * tokens * tokens
                let dOh = w.dO.pointer + column
                // dP[K, K] = dO_h · V_hᵀ
                GEMM.matmul(transB: true, m: tokens, n: tokens, k: headWidth, a: dOh, lda: d,
                           b: w.v.pointer + column, ldb: d, c: w.dP.pointer, ldc: tokens)
                // dV_h += Pᵀ · dO_h
                GEMM.matmul(transA: true, m: tokens, n: headWidth, k: tokens, a: probabilities, lda: tokens,
                           b: dOh, ldb: d, beta: 1, c: w.dV.pointer + column, ldc: d)
                // dS = softmax backward of dP (gradient of the scores); dλ[h, g] += Σ dS ⊙ M_g
                w.dS.zero()
                Softmax.backwardRows(dY: w.dP.pointer, y: probabilities, dX: w.dS.pointer,
                                     rows: tokens, width: tokens, scale: 1)
                if g > 0, let maps = lastGeometry, let lambda = geometry {
                    maps.data.withUnsafeBufferPointer { mp in
                        for m in 0..<g {
                            let map = mp.baseAddress! + (b * g + m) * tokens * tokens
                            var sum: Float = 0
                            for i in 0..<(tokens * tokens) { sum += w.dS.pointer[i] * map[i] }
                            lambda.grad.data[h * g + m] += sum
                        }
                    }
                }
                // dQ_h += dS · K_h / √d ; dK_h += dSᵀ · Q_h / √d
                GEMM.matmul(m: tokens, n: headWidth, k: tokens, alpha: scale, a: w.dS.pointer, lda: tokens,
                           b: w.k.pointer + column, ldb: d, beta: 1, c: w.dQ.pointer + column, ldc: d)
                GEMM.matmul(transA: true, m: tokens, n: headWidth, k: tokens, alpha: scale, a: w.dS.pointer, lda: tokens,
                           b: w.q.pointer + column, ldb: d, beta: 1, c: w.dK.pointer + column, ldc: d)
            }
        }
        dX.data.withUnsafeMutableBufferPointer { dxp in
            q.backward(dy: w.dQ.pointer, x: w.x.pointer, rows: rows, dx: dxp.baseAddress!)
            k.backward(dy: w.dK.pointer, x: w.x.pointer, rows: rows, dx: dxp.baseAddress!)
            v.backward(dy: w.dV.pointer, x: w.x.pointer, rows: rows, dx: dxp.baseAddress!)
        }
        return dX
    }

    /// The forward pass by subscripts in Double, straight from the formula: the reference for tests.
    public func reference(_ x: Tensor, geometry maps: Tensor? = nil) -> Tensor {
        let g = maps == nil ? 0 : geometryMaps
        let (batch, tokens, d) = (x.shape[0], x.shape[1], width)
        let headWidth = d / heads
        func project(_ p: AttentionProjection) -> [Double] {
            var y = [Double](repeating: 0, count: batch * tokens * d)
            for r in 0..<(batch * tokens) {
                for o in 0..<d {
                    var sum = Double(p.bias.value.data[o])
                    for i in 0..<d { sum += Double(x.data[r * d + i]) * Double(p.weight.value.data[o * d + i]) }
                    y[r * d + o] = sum
                }
            }
            return y
        }
        let (qv, kv, vv) = (project(q), project(k), project(v))
        var o = [Double](repeating: 0, count: batch * tokens * d)
        for b in 0..<batch {
            for h in 0..<heads {
                for i in 0..<tokens {
                    var scores = [Double](repeating: 0, count: tokens)
                    for j in 0..<tokens {
                        for c in (h * headWidth)..<((h + 1) * headWidth) {
                            scores[j] += qv[(b * tokens + i) * d + c] * kv[(b * tokens + j) * d + c]
                        }
                        scores[j] /= Double(headWidth).squareRoot()
                        for m in 0..<g {
                            scores[j] += Double(geometry!.value.data[h * g + m])
                                * Double(maps!.data[((b * g + m) * tokens + i) * tokens + j])
                        }
                    }
                    let peak = scores.max() ?? 0
                    let e = scores.map { exp($0 - peak) }
                    let total = e.reduce(0, +)
                    for j in 0..<tokens {
                        for c in (h * headWidth)..<((h + 1) * headWidth) {
                            o[(b * tokens + i) * d + c] += e[j] / total * vv[(b * tokens + j) * d + c]
                        }
                    }
                }
            }
        }
        var y = [Float](repeating: 0, count: o.count)
        for r in 0..<(batch * tokens) {
            for c in 0..<d {
                var sum = Double(out.bias.value.data[c])
                for i in 0..<d { sum += o[r * d + i] * Double(out.weight.value.data[c * d + i]) }
                y[r * d + c] = Float(sum)
            }
        }
        return Tensor(shape: x.shape, data: y)
    }
}
