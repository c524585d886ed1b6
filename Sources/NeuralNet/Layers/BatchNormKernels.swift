/// The loops of `BatchNorm2D`, each parallel over channels. Shape key: `x, dy: [N, C, H, W]`, per-channel
/// vectors `[C]`, `P = H·W`, `M = N·P`.
enum BatchNormKernels {
    /// Per-channel mean and biased variance of `x`, reading `x` once: each plane's sum and squared deviation from
    /// its own mean while it is in cache, the planes then combined in Double by Chan, Golub & LeVeque's pairwise
    /// update (`M2 = Σ M2ᵢ + Σ Pᵢ·(μᵢ − μ)²`), as stable as two passes over the whole channel.
    static func statistics(_ x: Tensor, mean: inout [Float], variance: inout [Float]) {
        let n = x.shape[0], C = x.shape[1], P = x.shape[2] * x.shape[3]
        x.data.withUnsafeBufferPointer { xb in
            mean.withUnsafeMutableBufferPointer { mb in
                variance.withUnsafeMutableBufferPointer { vb in
                    let xs = SharedPointer(UnsafeMutablePointer(mutating: xb.baseAddress!))
                    let ms = SharedPointer(mb.baseAddress!), vs = SharedPointer(vb.baseAddress!)
                    Parallel.forEachChunk(C, workPerItem: n * P) { channels in
                        var planeMean = [Double](repeating: 0, count: n)
                        for c in channels {
                            var total = 0.0, m2 = 0.0
                            for i in 0..<n {
                                let row = xs.base + (i * C + c) * P
                                let s = Double(Reductions.sum(row, P)), mu = s / Double(P)
                                m2 += Double(Reductions.sumSquaredDeviation(row, P, Float(mu)))
                                planeMean[i] = mu
                                total += s
                            }
                            let mu = total / Double(n * P)
                            for i in 0..<n { m2 += Double(P) * (planeMean[i] - mu) * (planeMean[i] - mu) }
                            ms.base[c] = Float(mu)
                            vs.base[c] = Float(m2 / Double(n * P))
                        }
                    }
                }
            }
        }
    }

    /// `y[n, c, p] = x[n, c, p]·scale[c] + shift[c]`.
    /// With `relu`, `y = max(x·scale + shift, 0)`.
    static func affine(_ x: Tensor, scale: [Float], shift: [Float], relu: Bool) -> Tensor {
        let n = x.shape[0], C = x.shape[1], P = x.shape[2] * x.shape[3]
        return Tensor(shape: x.shape) { yb in
            let ys = SharedPointer(yb.baseAddress!)
            x.data.withUnsafeBufferPointer { xb in
                let xs = SharedPointer(UnsafeMutablePointer(mutating: xb.baseAddress!))
                Parallel.forEachChunk(n * C, workPerItem: P) { planes in
                    for plane in planes {
                        let c = plane % C, a = scale[c], b = shift[c]
                        let src = xs.base + plane * P, dst = ys.base + plane * P
                        if relu {
                            for p in 0..<P { dst[p] = max(src[p] * a + b, 0) }
                        } else {
                            for p in 0..<P { dst[p] = src[p] * a + b }
                        }
                    }
                }
            }
        }
    }

    /// `y[n, c, p] = max(x[n, c, p]·scale[c] + shift[c] + r[n, c, p], 0)`: the end of a residual block in one pass
    /// (the same operations in the same order as the affine map, the sum and the ReLU one after the other).
    static func affineResidualReLU(_ x: Tensor, scale: [Float], shift: [Float], residual r: Tensor) -> Tensor {
        let n = x.shape[0], C = x.shape[1], P = x.shape[2] * x.shape[3]
        return Tensor(shape: x.shape) { yb in
            let ys = SharedPointer(yb.baseAddress!)
            x.data.withUnsafeBufferPointer { xb in
                r.data.withUnsafeBufferPointer { rb in
                    let xs = SharedPointer(UnsafeMutablePointer(mutating: xb.baseAddress!))
                    let rs = SharedPointer(UnsafeMutablePointer(mutating: rb.baseAddress!))
                    Parallel.forEachChunk(n * C, workPerItem: P) { planes in
                        for plane in planes {
                            let c = plane % C, a = scale[c], b = shift[c]
                            let src = xs.base + plane * P, add = rs.base + plane * P, dst = ys.base + plane * P
                            for p in 0..<P { dst[p] = max(src[p] * a + b + add[p], 0) }
                        }
                    }
                }
            }
        }
    }

    /// Gradients of batch normalisation; see `BatchNorm2D` for the formulas. With `relu` (the forward pass's
    /// `x·scale + shift` before a fused ReLU), `dy` is first zeroed where that value is not positive. With
    /// `residualOutput` (the output `y` of `affineResidualReLU`), `dy` is first zeroed where `y` is not positive and
    /// that gradient, which is also the residual's, is returned as `maskedDy` (written by the pass that sums it);
    /// otherwise `maskedDy` is `dy`.
    static func backward(
        x: Tensor, dy: Tensor, mean: [Float], invStd: [Float], gamma: [Float],
        dGamma: inout Tensor, dBeta: inout Tensor, throughStatistics: Bool, relu: (scale: [Float], shift: [Float])?,
        residualOutput: Tensor? = nil, synchronizer: BatchNormSynchronizer? = nil
    ) -> (dx: Tensor, maskedDy: Tensor) {
        let n = x.shape[0], C = x.shape[1], P = x.shape[2] * x.shape[3], M = n * P
        var sumDy = [Float](repeating: 0, count: C), sumDyXhat = [Float](repeating: 0, count: C)
        // With a residual output, the sums pass also writes the masked gradient (one read of dy and y).
        var dy = dy
        var masked = residualOutput.map { _ in Tensor(shape: x.shape, fill: { _ in }) } ?? Tensor(shape: [0])
        let residual = residualOutput ?? Tensor(shape: [0])
        x.data.withUnsafeBufferPointer { xb in
            dy.data.withUnsafeBufferPointer { db in
                residual.data.withUnsafeBufferPointer { yb in
                    masked.data.withUnsafeMutableBufferPointer { mb in
                        sumDy.withUnsafeMutableBufferPointer { s1 in
                            sumDyXhat.withUnsafeMutableBufferPointer { s2 in
                                let xs = SharedPointer(UnsafeMutablePointer(mutating: xb.baseAddress!))
                                let ds = SharedPointer(UnsafeMutablePointer(mutating: db.baseAddress!))
                                // (an empty array's buffer may still have an address: test the tensor, not it)
                                let hasResidual = residualOutput != nil
                                let ys = hasResidual ? SharedPointer(UnsafeMutablePointer(mutating: yb.baseAddress!)) : nil
                                let ms = hasResidual ? SharedPointer(mb.baseAddress!) : nil
                                let a1 = SharedPointer(s1.baseAddress!), a2 = SharedPointer(s2.baseAddress!)
                                Parallel.forEachChunk(C, workPerItem: M) { channels in
                                    for c in channels {
                                        let mu = mean[c], inv = invStd[c]
                                        var t1 = 0.0, t2 = 0.0
                                        for i in 0..<n {
                                            let at = (i * C + c) * P
                                            let xr = xs.base + at, dr = ds.base + at
                                            let (u1, u2): (Float, Float)
                                            if let ys, let ms {
                                                (u1, u2) = Reductions.reluGradientSumAndDeviationDot(
                                                    ms.base + at, dr, ys.base + at, xr, P, mu)
                                            } else if let relu {
                                                (u1, u2) = Reductions.reluMaskedSumAndDeviationDot(
                                                    dr, xr, P, mu, scale: relu.scale[c], shift: relu.shift[c])
                                            } else {
                                                (u1, u2) = Reductions.sumAndDeviationDot(dr, xr, P, mu)
                                            }
                                            t1 += Double(u1); t2 += Double(u2)
                                        }
                                        a1.base[c] = Float(t1)
                                        a2.base[c] = Float(t2) * inv
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if residualOutput != nil { dy = masked }
        for c in 0..<C {
            dBeta.data[c] += sumDy[c]
            dGamma.data[c] += sumDyXhat[c]
        }
        // Synchronised BatchNorm: the sums and M of the global batch.
        var count = Double(M)
        if let sync = synchronizer {
            var sums = sumDy.map(Double.init) + sumDyXhat.map(Double.init) + [count]
            sync.sumAcrossProcesses(&sums)
            for c in 0..<C { sumDy[c] = Float(sums[c]); sumDyXhat[c] = Float(sums[C + c]) }
            count = sums[2 * C]
        }
        // dx = k·(dy − u − x̂·v), k = γ·invStd, u = Σdy/M, v = Σ(dy·x̂)/M (u = v = 0 without statistics)
        var k = [Float](repeating: 0, count: C), u = k, v = k
        for c in 0..<C {
            k[c] = gamma[c] * invStd[c]
            if throughStatistics { u[c] = sumDy[c] / Float(count); v[c] = sumDyXhat[c] / Float(count) }
        }
        let dx = Tensor(shape: x.shape) { out in
            let os = SharedPointer(out.baseAddress!)
            x.data.withUnsafeBufferPointer { xb in
                dy.data.withUnsafeBufferPointer { db in
                    let xs = SharedPointer(UnsafeMutablePointer(mutating: xb.baseAddress!))
                    let ds = SharedPointer(UnsafeMutablePointer(mutating: db.baseAddress!))
                    Parallel.forEachChunk(n * C, workPerItem: P) { planes in
                        for plane in planes {
                            let c = plane % C, mu = mean[c], inv = invStd[c], kc = k[c], uc = u[c], vc = v[c]
                            let xr = xs.base + plane * P, dr = ds.base + plane * P, o = os.base + plane * P
                            if let relu {
                                Reductions.reluMaskedNormGradient(o, dr, xr, P, k: kc, u: uc, mean: mu, w: inv * vc,
                                                                  scale: relu.scale[c], shift: relu.shift[c])
                            } else {
                                for p in 0..<P { o[p] = kc * (dr[p] - uc - (xr[p] - mu) * inv * vc) }
                            }
                        }
                    }
                }
            }
        }
        return (dx, dy)
    }
}
