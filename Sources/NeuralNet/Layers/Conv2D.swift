/// 2-D convolution (cross-correlation, as PyTorch's `Conv2d`) with a square kernel, stride and zero padding.
///
/// Shape key: `x: [N, Cin, H, W]`, `weight: [Cout, Cin, K, K]`, `bias: [Cout]`, `y: [N, Cout, Ho, Wo]` with
/// `Ho = (H + 2p − K)/s + 1`. Per image: `col = im2col(x[n])` (`[Cin·K·K, Ho·Wo]`) and
/// `y[n] = weight[Cout, Cin·K·K] · col + bias`, one `GEMM.sgemm` each.
///
/// Backward per image: `dbias += Σ_p dy[n]`, `dweight += dy[n] · colᵀ` (col recomputed rather than kept),
/// `dx[n] = col2im(weightᵀ · dy[n])`. Parameters `<name>.weight` (decays) and `<name>.bias` (no decay).
/// Default initialisation: Kaiming normal with fan-in and gain √2, bias zero.
public final class Conv2D: Layer {
    /// Dotted name prefix of the parameters.
    public let name: String
    /// Channels in and out, kernel size, stride, padding.
    public let inChannels, outChannels, kernelSize, stride, padding: Int
    /// `[Cout, Cin, K, K]`.
    public let weight: Parameter
    /// `[Cout]`, or nil for a convolution without bias (e.g. one followed by BatchNorm).
    public let bias: Parameter?
    /// Whether `backward` computes the input gradient (false for a stem on images saves a third of its work).
    public var computesInputGradient = true

    private var input: Tensor?
    private var scratch: [Float] = []

    /// Every trainable parameter: weight, then bias if any.
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    /// A convolution `inChannels → outChannels` with a `kernelSize`² kernel; `padding` defaults to
    /// `kernelSize / 2` ("same" size at stride 1).
    public init(
        name: String, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int? = nil,
        bias: Bool = true, initializer: Initializer = .kaimingNormal(), generator: inout SeededGenerator
    ) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0, "Conv2D \(name): bad sizes")
        self.name = name
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding ?? kernelSize / 2
        let w = initializer.tensor(shape: [outChannels, inChannels, kernelSize, kernelSize], generator: &generator)
        self.weight = Parameter(name: name + ".weight", value: w)
        self.bias = bias ? Parameter(name: name + ".bias", value: Tensor(shape: [outChannels]), decays: false) : nil
    }

    /// The per-image geometry for an input of shape `[N, Cin, H, W]`.
    public func geometry(for shape: [Int]) -> Im2Col.Geometry {
        precondition(shape.count == 4 && shape[1] == inChannels, "Conv2D \(name): input \(shape), want [N, \(inChannels), H, W]")
        return Im2Col.Geometry(channels: inChannels, height: shape[2], width: shape[3],
                               kernel: kernelSize, stride: stride, padding: padding)
    }

    /// Whether the patch matrix of one image is the image itself (1×1, stride 1, no padding).
    private var isPointwise: Bool { kernelSize == 1 && stride == 1 && padding == 0 }

    /// `y = conv(x, weight) + bias`; keeps `x` for `backward`.
    public func forward(_ x: Tensor) -> Tensor {
        let g = geometry(for: x.shape)
        let n = x.shape[0], P = g.columns, R = g.rows, cin = inChannels * g.height * g.width
        precondition(g.outHeight > 0 && g.outWidth > 0, "Conv2D \(name): input \(x.shape) smaller than the kernel")
        input = x
        let cout = outChannels
        if !isPointwise && scratch.count < R * P { scratch = [Float](repeating: 0, count: R * P) }
        let pointwise = isPointwise
        return Tensor(shape: [n, cout, g.outHeight, g.outWidth]) { y in
            let yp = y.baseAddress!
            x.data.withUnsafeBufferPointer { xb in
                weight.value.data.withUnsafeBufferPointer { wb in
                    scratch.withUnsafeMutableBufferPointer { sb in
                        for i in 0..<n {
                            let xi = xb.baseAddress! + i * cin
                            let col: UnsafePointer<Float>
                            if pointwise { col = xi } else {
                                Im2Col.im2col(xi, g, sb.baseAddress!)
                                col = UnsafePointer(sb.baseAddress!)
                            }
                            let yi = yp + i * cout * P
                            var beta: Float = 0
                            if let b = bias {
                                b.value.data.withUnsafeBufferPointer { bb in
                                    for o in 0..<cout { (yi + o * P).update(repeating: bb[o], count: P) }
                                }
                                beta = 1
                            }
                            GEMM.sgemm(m: cout, n: P, k: R, a: wb.baseAddress!, lda: R, b: col, ldb: P,
                                       beta: beta, c: yi, ldc: P)
                        }
                    }
                }
            }
        }
    }

    /// Accumulates `weight.grad` and `bias.grad` from `dy` (`[N, Cout, Ho, Wo]`) and returns `dx`
    /// (`[N, Cin, H, W]`; zeros when `computesInputGradient` is false).
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Conv2D \(name): backward before forward") }
        let g = geometry(for: x.shape)
        let n = x.shape[0], P = g.columns, R = g.rows, cin = inChannels * g.height * g.width, cout = outChannels
        precondition(dy.shape == [n, cout, g.outHeight, g.outWidth], "Conv2D \(name): dy \(dy.shape)")
        if let b = bias { Self.accumulateBiasGradient(dy, into: b, channels: cout, plane: P) }
        var dx = Tensor(shape: x.shape)
        let needsDx = computesInputGradient, pointwise = isPointwise
        let dcolCount = needsDx && !pointwise ? R * P : 0
        if scratch.count < R * P + dcolCount { scratch = [Float](repeating: 0, count: R * P + dcolCount) }
        dx.data.withUnsafeMutableBufferPointer { dxb in
            x.data.withUnsafeBufferPointer { xb in
                dy.data.withUnsafeBufferPointer { dyb in
                    weight.value.data.withUnsafeBufferPointer { wb in
                        weight.grad.data.withUnsafeMutableBufferPointer { dwb in
                            scratch.withUnsafeMutableBufferPointer { sb in
                                for i in 0..<n {
                                    let xi = xb.baseAddress! + i * cin, dyi = dyb.baseAddress! + i * cout * P
                                    let col: UnsafePointer<Float>
                                    if pointwise { col = xi } else {
                                        Im2Col.im2col(xi, g, sb.baseAddress!)
                                        col = UnsafePointer(sb.baseAddress!)
                                    }
                                    // dweight[Cout, R] += dy[n][Cout, P] · colᵀ[P, R]
                                    GEMM.sgemm(transB: true, m: cout, n: R, k: P, a: dyi, lda: P, b: col, ldb: P,
                                               beta: 1, c: dwb.baseAddress!, ldc: R)
                                    guard needsDx else { continue }
                                    let dxi = dxb.baseAddress! + i * cin
                                    if pointwise {
                                        // dx[n][Cin, P] = weightᵀ[Cin, Cout] · dy[n]
                                        GEMM.sgemm(transA: true, m: R, n: P, k: cout, a: wb.baseAddress!, lda: R,
                                                   b: dyi, ldb: P, c: dxi, ldc: P)
                                    } else {
                                        let dcol = sb.baseAddress! + R * P
                                        GEMM.sgemm(transA: true, m: R, n: P, k: cout, a: wb.baseAddress!, lda: R,
                                                   b: dyi, ldb: P, c: dcol, ldc: P)
                                        Im2Col.col2im(dcol, g, dxi)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// `bias.grad[c] += Σ_{n,p} dy[n, c, p]`.
    static func accumulateBiasGradient(_ dy: Tensor, into b: Parameter, channels: Int, plane: Int) {
        let n = dy.shape[0]
        dy.data.withUnsafeBufferPointer { d in
            b.grad.data.withUnsafeMutableBufferPointer { gb in
                for i in 0..<n {
                    for c in 0..<channels {
                        let row = d.baseAddress! + (i * channels + c) * plane
                        var s: Float = 0
                        for p in 0..<plane { s += row[p] }
                        gb[c] += s
                    }
                }
            }
        }
    }
}
