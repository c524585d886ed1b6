import CKernels

/// The input gradient of a stride-2 convolution as four stride-1 convolutions, one per parity class of `dx`.
///
/// `dx[ci, ih, iw] = Σ w[co, ci, kh, kw]·dy[co, oh, ow]` over `ih = 2·oh − p + kh`, `iw = 2·ow − p + kw`, so the rows
/// `ih = 2a + rh` receive only the taps `kh ≡ rh + p (mod 2)` and the columns `iw = 2b + rw` only `kw ≡ rw + p`: for
/// each `(rh, rw)` a stride-1 convolution of `dy` (`[N, Cout, Ho, Wo]`) with the flipped `Jh × Jw` sub-kernel of
/// those taps (`J ≤ ⌈K/2⌉`) and its own top and left padding, giving `dx[:, :, rh::2, rw::2]`
/// (`ck_conv_f32_parity_weights`, `ck_conv_f32_input_grad_stride2`). The four products hold exactly the
/// `Cin·Cout·K²` multiply-adds per `dy` position of `col2im(wᵀ·dy)`, run on the implicit fp32 GEMM, and write no
/// patch-matrix gradient and no K²-fold scatter-add.
extension Conv2D {
    /// Whether `backward` takes the parity split for this layer's input gradient: stride 2, the input gradient
    /// asked for, `useParityInputGradient`, `.implicit` or `.winograd` on an AVX-512F CPU and fp32 mode (bf16 mode keeps
    /// col2im of the bf16 product).
    public var takesParityInputGradient: Bool {
        computesInputGradient && useParityInputGradient && stride == 2 && algorithm.usesImplicitKernel
            && ConvAlgorithm.implicitAvailable && Precision.current == .fp32
    }

    /// The four parity sub-kernels of `w` (`[Cout, Cin, K, K]`), concatenated in the order (0,0), (0,1), (1,0),
    /// (1,1), each `[Cin, Cout·Jh·Jw]` with its taps flipped (`ck_conv_f32_parity_weights`): a permutation of `w`.
    static func parityWeights(_ w: [Float], outChannels: Int, inChannels: Int, kernel: Int, padding: Int) -> [Float] {
        precondition(w.count == outChannels * inChannels * kernel * kernel, "parityWeights: \(w.count) weights")
        var sub = [Float](repeating: 0, count: w.count)
        w.withUnsafeBufferPointer { wb in
            sub.withUnsafeMutableBufferPointer { sb in
                ck_conv_f32_parity_weights(wb.baseAddress!, Int32(outChannels), Int32(inChannels), Int32(kernel),
                                           Int32(padding), sb.baseAddress!)
            }
        }
        return sub
    }

    /// `dx` (`[N, Cin, H, W]` = `inputShape`, every element written) for `dy` (`[N, Cout, Ho, Wo]`) by the parity
    /// split; images are spread over `Parallel.workers`, each a single-threaded call.
    func parityInputGradient(_ dy: Tensor, inputShape: [Int]) -> Tensor {
        let cin = inChannels, cout = outChannels, n = dy.shape[0]
        let h = inputShape[2], w = inputShape[3], ho = dy.shape[2], wo = dy.shape[3]
        let sub = Conv2D.parityWeights(weight.value.data, outChannels: cout, inChannels: cin, kernel: kernelSize,
                                       padding: padding)
        let (K, p) = (kernelSize, padding)
        return Tensor(shape: inputShape) { dx in
            dy.data.withUnsafeBufferPointer { d in
                sub.withUnsafeBufferPointer { s in
                    let ds = SharedPointer(UnsafeMutablePointer(mutating: d.baseAddress!))
                    let ss = SharedPointer(UnsafeMutablePointer(mutating: s.baseAddress!))
                    let xs = SharedPointer(dx.baseAddress!)
                    ConvKernels.split(n) { _, images in
                        for i in images {
                            TimeAccounting.measure(TimeAccounting.gemm) {
                                ck_conv_f32_input_grad_stride2(
                                    ds.base + i * cout * ho * wo, Int32(cout), Int32(ho), Int32(wo), ss.base, Int32(cin),
                                    Int32(h), Int32(w), Int32(K), Int32(p), xs.base + i * cin * h * w)
                            }
                        }
                    }
                }
            }
        }
    }
}
