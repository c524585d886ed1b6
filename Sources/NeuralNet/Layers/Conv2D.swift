/// 2-D convolution (cross-correlation, as PyTorch's `Conv2d`) with a square kernel, stride and zero padding.
///
/// Shape key: `x: [N, Cin, H, W]`, `weight: [Cout, Cin, K, K]`, `bias: [Cout]`, `y: [N, Cout, Ho, Wo]` with
/// `Ho = (H + 2p − K)/s + 1`. Per image: `col = im2col(x[n])` (`[Cin·K·K, Ho·Wo]`) and
/// `y[n] = weight[Cout, Cin·K·K] · col + bias`, one `GEMM.matmul` each.
///
/// Backward per image: `dbias += Σ_p dy[n]`, `dweight += dy[n] · colᵀ` (col recomputed rather than kept),
/// `dx[n] = col2im(weightᵀ · dy[n])`, or the equivalent forward products (`useTransposedConvolution` at stride 1,
/// `useParityInputGradient` at stride 2). Parameters `<name>.weight` (decays) and `<name>.bias` (no decay).
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
    /// Whether stride-1 input gradients use the transposed convolution (true) or col2im (false); both are exact.
    /// Default: `prefersTransposedConvolution(outChannels:algorithm:)` for `ConvAlgorithm.preferred`.
    public var useTransposedConvolution: Bool
    /// Whether stride-2 input gradients use the four parity sub-convolutions on the implicit fp32 GEMM (true; see
    /// `takesParityInputGradient`) or col2im of `weightᵀ·dy` (false); both are exact up to summation order.
    public var useParityInputGradient = true
    /// How the forward pass and the weight gradient are computed (default `ConvAlgorithm.preferred`: on AVX-512F
    /// CPUs Winograd for 3×3 stride-1 layers and the implicit fp32 GEMM for the others, im2col + sgemm elsewhere).
    public var algorithm = ConvAlgorithm.preferred

    private var input: Tensor?

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
        self.useTransposedConvolution = Conv2D.prefersTransposedConvolution(outChannels: outChannels,
                                                                             algorithm: .preferred)
        self.bias = bias ? Parameter(name: name + ".bias", value: Tensor(shape: [outChannels]), decays: false) : nil
    }

    /// A convolution that applies `other`'s parameters (the same `Parameter` objects, so gradients of both
    /// accumulate into one storage) with its own saved input: one layer shared across inputs of different sizes,
    /// such as a detection head applied to every level of a feature pyramid.
    public init(sharing other: Conv2D) {
        name = other.name
        inChannels = other.inChannels; outChannels = other.outChannels
        kernelSize = other.kernelSize; stride = other.stride; padding = other.padding
        weight = other.weight
        bias = other.bias
        computesInputGradient = other.computesInputGradient
        useTransposedConvolution = other.useTransposedConvolution
        useParityInputGradient = other.useParityInputGradient
        algorithm = other.algorithm
    }

    /// Whether the transposed convolution is the faster input gradient: with the implicit kernel always (it is then
    /// a forward pass reading its patches in place, no col2im), with im2col + sgemm from 64 output channels, where
    /// it measured faster (batch 16, 3×3: 64 channels at 40² 37–45 ms against 40–51 ms for col2im; at 32 channels
    /// col2im was faster, 54–58 against 66 ms).
    public static func prefersTransposedConvolution(outChannels: Int, algorithm: ConvAlgorithm) -> Bool {
        (algorithm.usesImplicitKernel && ConvAlgorithm.implicitAvailable) || outChannels >= 64
    }

    /// The per-image geometry for an input of shape `[N, Cin, H, W]`.
    public func geometry(for shape: [Int]) -> Im2Col.Geometry {
        precondition(shape.count == 4 && shape[1] == inChannels, "Conv2D \(name): input \(shape), want [N, \(inChannels), H, W]")
        return Im2Col.Geometry(channels: inChannels, height: shape[2], width: shape[3],
                               kernel: kernelSize, stride: stride, padding: padding)
    }

    /// `y = conv(x, weight) + bias`; keeps `x` for `backward`. Timed under `TimeAccounting.conv`.
    public func forward(_ x: Tensor) -> Tensor {
        TimeAccounting.measure(TimeAccounting.conv) { convolve(x) }
    }

    private func convolve(_ x: Tensor) -> Tensor {
        let g = geometry(for: x.shape)
        precondition(g.outHeight > 0 && g.outWidth > 0, "Conv2D \(name): input \(x.shape) smaller than the kernel")
        input = x
        let n = x.shape[0], cout = outChannels
        return Tensor(shape: [n, cout, g.outHeight, g.outWidth]) { y in
            guard n > 0 else { return }
            x.data.withUnsafeBufferPointer { xb in
                weight.value.data.withUnsafeBufferPointer { wb in
                    if let b = bias {
                        b.value.data.withUnsafeBufferPointer { bb in
                            ConvKernels.forward(x: xb.baseAddress!, n: n, g: g, w: wb.baseAddress!, bias: bb.baseAddress!,
                                                cout: cout, y: y.baseAddress!, algorithm: algorithm)
                        }
                    } else {
                        ConvKernels.forward(x: xb.baseAddress!, n: n, g: g, w: wb.baseAddress!, bias: nil,
                                            cout: cout, y: y.baseAddress!, algorithm: algorithm)
                    }
                }
            }
        }
    }

    /// Accumulates `weight.grad` and `bias.grad` from `dy` (`[N, Cout, Ho, Wo]`) and returns `dx`
    /// (`[N, Cin, H, W]`; zeros when `computesInputGradient` is false). Timed under `TimeAccounting.conv`.
    public func backward(_ dy: Tensor) -> Tensor {
        TimeAccounting.measure(TimeAccounting.conv) { gradients(dy) }
    }

    private func gradients(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Conv2D \(name): backward before forward") }
        let g = geometry(for: x.shape)
        let n = x.shape[0], cout = outChannels
        precondition(dy.shape == [n, cout, g.outHeight, g.outWidth], "Conv2D \(name): dy \(dy.shape)")
        guard n > 0 else { return Tensor(shape: x.shape) }
        var dbias = Tensor(shape: [bias == nil ? 0 : cout])
        // At stride 1, dx is the convolution of dy with the flipped, transposed kernel and padding K − 1 − p
        // (a forward pass, no scatter-add); at stride 2 four such convolutions, one per parity class of dx
        // (Conv2D+ParityGradient); otherwise col2im of wᵀ·dy.
        let viaTransposedConv = computesInputGradient && useTransposedConvolution && stride == 1
            && kernelSize > 1 && padding <= kernelSize - 1
        let viaParity = takesParityInputGradient
        let needsDx = computesInputGradient && !viaTransposedConv && !viaParity
        // dx is written by the kernels (needsDx), replaced below (transposed or parity convolution: no storage
        // here), or zeros.
        let replaced = viaTransposedConv || viaParity
        var dx = needsDx ? Tensor(shape: x.shape, fill: { _ in }) : Tensor(shape: replaced ? [0] : x.shape)
        x.data.withUnsafeBufferPointer { xb in
            dy.data.withUnsafeBufferPointer { dyb in
                weight.value.data.withUnsafeBufferPointer { wb in
                    weight.grad.data.withUnsafeMutableBufferPointer { dwb in
                        dbias.data.withUnsafeMutableBufferPointer { dbb in
                            dx.data.withUnsafeMutableBufferPointer { dxb in
                                ConvKernels.backward(
                                    x: xb.baseAddress!, n: n, g: g, w: wb.baseAddress!, cout: cout, dy: dyb.baseAddress!,
                                    dw: dwb.baseAddress!, db: bias == nil ? nil : dbb.baseAddress!,
                                    dx: needsDx ? dxb.baseAddress! : nil, algorithm: algorithm)
                            }
                        }
                    }
                }
            }
        }
        if let b = bias { b.grad.add(dbias) }
        if viaTransposedConv { dx = transposedConvolution(dy, inputShape: x.shape) }
        if viaParity { dx = parityInputGradient(dy, inputShape: x.shape) }
        return dx
    }

    /// `dx = conv(dy, flip(weight)ᵀ)` with padding `K − 1 − p` (stride 1): `wt[ci, co, ki, kj] = w[co, ci, K−1−ki, K−1−kj]`.
    private func transposedConvolution(_ dy: Tensor, inputShape: [Int]) -> Tensor {
        let K = kernelSize, cin = inChannels, cout = outChannels, n = dy.shape[0]
        var wt = [Float](repeating: 0, count: weight.value.count)
        weight.value.data.withUnsafeBufferPointer { w in
            for co in 0..<cout { for ci in 0..<cin { for ki in 0..<K { for kj in 0..<K {
                wt[((ci * cout + co) * K + (K - 1 - ki)) * K + (K - 1 - kj)] = w[((co * cin + ci) * K + ki) * K + kj]
            } } } }
        }
        let g = Im2Col.Geometry(channels: cout, height: dy.shape[2], width: dy.shape[3], kernel: K, stride: 1,
                                padding: K - 1 - padding)
        precondition(g.outHeight == inputShape[2] && g.outWidth == inputShape[3], "Conv2D \(name): transposed geometry")
        return Tensor(shape: inputShape) { dx in
            dy.data.withUnsafeBufferPointer { d in
                wt.withUnsafeBufferPointer { w in
                    ConvKernels.forward(x: d.baseAddress!, n: n, g: g, w: w.baseAddress!, bias: nil, cout: cin, y: dx.baseAddress!,
                                        algorithm: algorithm)
                }
            }
        }
    }
}
