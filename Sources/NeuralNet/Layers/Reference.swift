/// Naive Double-precision forward passes of the layers, written as directly as the formulas: the
/// references that tests compare the fast kernels with (values, and finite-difference gradients taken in
/// Double). Arrays are row-major with the shapes given.
public enum Reference {
    /// Convolution. `x: [N, Cin, H, W]`, `weight: [Cout, Cin, K, K]`, `bias: [Cout]` or nil;
    /// returns `[N, Cout, Ho, Wo]` with `Ho = (H + 2p − K)/s + 1`.
    public static func conv2d(
        x: [Double], xShape: [Int], weight: [Double], outChannels: Int, kernel K: Int,
        bias: [Double]?, stride s: Int, padding p: Int
    ) -> [Double] {
        let (N, C, H, W) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let Ho = (H + 2 * p - K) / s + 1, Wo = (W + 2 * p - K) / s + 1
        var y = [Double](repeating: 0, count: N * outChannels * Ho * Wo)
        for n in 0..<N {
            for o in 0..<outChannels {
                for oh in 0..<Ho {
                    for ow in 0..<Wo {
                        var acc = bias?[o] ?? 0
                        for c in 0..<C {
                            for ki in 0..<K {
                                for kj in 0..<K {
                                    let ih = oh * s - p + ki, iw = ow * s - p + kj
                                    guard ih >= 0, ih < H, iw >= 0, iw < W else { continue }
                                    acc += x[((n * C + c) * H + ih) * W + iw] * weight[((o * C + c) * K + ki) * K + kj]
                                }
                            }
                        }
                        y[((n * outChannels + o) * Ho + oh) * Wo + ow] = acc
                    }
                }
            }
        }
        return y
    }

    /// Gradients of `conv2d` for output gradient `dy: [N, Cout, Ho, Wo]`: `(dx, dweight, dbias)` by direct loops.
    public static func conv2dBackward(
        x: [Double], xShape: [Int], weight: [Double], outChannels: Int, kernel K: Int,
        stride s: Int, padding p: Int, dy: [Double]
    ) -> (dx: [Double], dw: [Double], db: [Double]) {
        let (N, C, H, W) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let Ho = (H + 2 * p - K) / s + 1, Wo = (W + 2 * p - K) / s + 1
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: weight.count)
        var db = [Double](repeating: 0, count: outChannels)
        for n in 0..<N { for o in 0..<outChannels { for oh in 0..<Ho { for ow in 0..<Wo {
            let g = dy[((n * outChannels + o) * Ho + oh) * Wo + ow]
            db[o] += g
            for c in 0..<C { for ki in 0..<K { for kj in 0..<K {
                let ih = oh * s - p + ki, iw = ow * s - p + kj
                guard ih >= 0, ih < H, iw >= 0, iw < W else { continue }
                let xi = ((n * C + c) * H + ih) * W + iw, wi = ((o * C + c) * K + ki) * K + kj
                dx[xi] += g * weight[wi]
                dw[wi] += g * x[xi]
            } } }
        } } } }
        return (dx, dw, db)
    }

    /// Batch normalisation with batch statistics (biased variance). `x: [N, C, H, W]`, `gamma, beta: [C]`.
    public static func batchNorm(x: [Double], xShape: [Int], gamma: [Double], beta: [Double], epsilon: Double = 1e-5) -> [Double] {
        let (N, C, P) = (xShape[0], xShape[1], xShape[2] * xShape[3])
        var y = x
        for c in 0..<C {
            var mean = 0.0, sq = 0.0
            for n in 0..<N { for i in 0..<P { mean += x[(n * C + c) * P + i] } }
            mean /= Double(N * P)
            for n in 0..<N { for i in 0..<P { let d = x[(n * C + c) * P + i] - mean; sq += d * d } }
            let inv = 1 / (sq / Double(N * P) + epsilon).squareRoot()
            for n in 0..<N { for i in 0..<P {
                y[(n * C + c) * P + i] = gamma[c] * (x[(n * C + c) * P + i] - mean) * inv + beta[c]
            } }
        }
        return y
    }

    /// Fully connected. `x: [N, in]`, `weight: [out, in]`, `bias: [out]` or nil; returns `[N, out]`.
    public static func linear(x: [Double], n: Int, weight: [Double], inFeatures: Int, outFeatures: Int, bias: [Double]?) -> [Double] {
        var y = [Double](repeating: 0, count: n * outFeatures)
        for i in 0..<n {
            for o in 0..<outFeatures {
                var acc = bias?[o] ?? 0
                for k in 0..<inFeatures { acc += x[i * inFeatures + k] * weight[o * inFeatures + k] }
                y[i * outFeatures + o] = acc
            }
        }
        return y
    }

    /// Max pooling with `−∞` padding. `x: [N, C, H, W]`; returns `[N, C, Ho, Wo]`.
    public static func maxPool(x: [Double], xShape: [Int], kernel K: Int, stride s: Int, padding p: Int) -> [Double] {
        let (NC, H, W) = (xShape[0] * xShape[1], xShape[2], xShape[3])
        let Ho = (H + 2 * p - K) / s + 1, Wo = (W + 2 * p - K) / s + 1
        var y = [Double](repeating: -.infinity, count: NC * Ho * Wo)
        for pl in 0..<NC { for oh in 0..<Ho { for ow in 0..<Wo {
            for ki in 0..<K { for kj in 0..<K {
                let ih = oh * s - p + ki, iw = ow * s - p + kj
                guard ih >= 0, ih < H, iw >= 0, iw < W else { continue }
                y[(pl * Ho + oh) * Wo + ow] = max(y[(pl * Ho + oh) * Wo + ow], x[(pl * H + ih) * W + iw])
            } }
        } } }
        return y
    }

    /// Nearest upsampling by `f`. `x: [N, C, H, W]`; returns `[N, C, f·H, f·W]`.
    public static func upsample(x: [Double], xShape: [Int], factor f: Int) -> [Double] {
        let (NC, H, W) = (xShape[0] * xShape[1], xShape[2], xShape[3])
        var y = [Double](repeating: 0, count: NC * H * W * f * f)
        for pl in 0..<NC { for i in 0..<(H * f) { for j in 0..<(W * f) {
            y[(pl * H * f + i) * W * f + j] = x[(pl * H + i / f) * W + j / f]
        } } }
        return y
    }
}
