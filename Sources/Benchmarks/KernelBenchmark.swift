import Foundation
import NeuralNet

/// Forward + backward throughput of `Conv2D` on the reference backbone's shapes, beside OpenBLAS sgemm on a
/// square-ish product of the same FLOP count measured in the same run; in fp32 and, where the CPU has AVX512_BF16,
/// in bf16 (`Precision`), the variants timed in alternation so that each comparison sees the same load.
public enum KernelBenchmark {
    /// One convolution shape: `x: [batch, inChannels, size, size]`, square kernel, stride `stride`.
    public struct ConvShape: Sendable {
        /// Label, e.g. `stage2.block.conv1`.
        public var name: String
        /// Channels in, out, kernel size, stride, input height = width.
        public var inChannels, outChannels, kernel, stride, size: Int
        /// Whether the input gradient is computed (false for the stem, whose input is the image).
        public var inputGradient: Bool

        /// A shape with padding `kernel / 2`.
        public init(_ name: String, _ cin: Int, _ cout: Int, kernel: Int = 3, stride: Int, size: Int, inputGradient: Bool = true) {
            self.name = name; inChannels = cin; outChannels = cout; self.kernel = kernel; self.stride = stride
            self.size = size; self.inputGradient = inputGradient
        }

        /// Output height = width with padding `kernel / 2`.
        public var outSize: Int { (size + 2 * (kernel / 2) - kernel) / stride + 1 }
        /// FLOPs of the forward product for `batch` images: `2·Cout·Cin·K²·Ho·Wo·batch`.
        public func forwardFLOPs(batch: Int) -> Double {
            2 * Double(outChannels * inChannels * kernel * kernel * outSize * outSize * batch)
        }
        /// FLOPs of forward + backward (weight gradient, and input gradient when computed).
        public func trainingFLOPs(batch: Int) -> Double { forwardFLOPs(batch: batch) * (inputGradient ? 3 : 2) }
    }

    /// The reference configuration's convolutions at 320×320 input (backbone and dense-head tower).
    public static let referenceShapes: [ConvShape] = [
        ConvShape("stem", 3, 16, stride: 2, size: 320, inputGradient: false),
        ConvShape("stage1.down", 16, 32, stride: 2, size: 160),
        ConvShape("stage1.block.conv1", 32, 32, stride: 1, size: 80),
        ConvShape("stage1.block.conv2", 32, 32, stride: 1, size: 80),
        ConvShape("stage2.down", 32, 64, stride: 2, size: 80),
        ConvShape("stage2.block.conv1", 64, 64, stride: 1, size: 40),
        ConvShape("stage2.block.conv2", 64, 64, stride: 1, size: 40),
        ConvShape("stage3.down", 64, 128, stride: 2, size: 40),
        ConvShape("stage3.block.conv1", 128, 128, stride: 1, size: 20),
        ConvShape("stage3.block.conv2", 128, 128, stride: 1, size: 20),
        ConvShape("head.conv1", 64, 64, stride: 1, size: 40),
        ConvShape("head.conv2", 64, 64, stride: 1, size: 40),
    ]

    /// Timing of one shape: best (minimum) seconds of forward and of backward over the repetitions, the statistic least disturbed by other load on the machine.
    public struct ConvResult: Sendable {
        /// The shape measured.
        public var shape: ConvShape
        /// Best (minimum) forward and backward time in seconds with the algorithm benchmarked.
        public var forwardSeconds, backwardSeconds: Double
        /// The same with im2col + sgemm, timed in alternation with the above (an A/B pair on the same load).
        public var im2colForwardSeconds, im2colBackwardSeconds: Double
        /// im2col + the bf16 GEMM (`Precision.bf16`), timed in the same alternation; nil without AVX512_BF16.
        public var bf16ForwardSeconds, bf16BackwardSeconds: Double?
        /// Forward + backward FLOPs.
        public var flops: Double
        /// `flops / (forward + backward) / 1e9`.
        public var gflops: Double { flops / (forwardSeconds + backwardSeconds) / 1e9 }
        /// GFLOP/s of im2col + sgemm.
        public var im2colGFLOPs: Double { flops / (im2colForwardSeconds + im2colBackwardSeconds) / 1e9 }
        /// GFLOP/s in bf16 (im2col + bf16 GEMM), nil without AVX512_BF16.
        public var bf16GFLOPs: Double? {
            guard let f = bf16ForwardSeconds, let b = bf16BackwardSeconds else { return nil }
            return flops / (f + b) / 1e9
        }
    }

    /// Everything `run` measured.
    public struct Report: Sendable {
        /// Per-shape results.
        public var convs: [ConvResult]
        /// Batch size used.
        public var batch: Int
        /// Total conv FLOPs per training step and total best seconds (the algorithm benchmarked, im2col + sgemm).
        public var convFLOPs, convSeconds, im2colConvSeconds: Double
        /// sgemm problem size `m = n = k` and its measured GFLOP/s.
        public var gemmSize: Int
        /// GFLOP/s of the square sgemm.
        public var gemmGFLOPs: Double
        /// Total best seconds of the convs in bf16, nil without AVX512_BF16.
        public var bf16ConvSeconds: Double?
        /// GFLOP/s of the bf16 GEMM on the same square product, timed in alternation with sgemm; nil without it.
        public var bf16GemmGFLOPs: Double?
        /// Conv throughput over all shapes.
        public var convGFLOPs: Double { convFLOPs / convSeconds / 1e9 }
        /// `convGFLOPs / gemmGFLOPs`.
        public var ratio: Double { convGFLOPs / gemmGFLOPs }
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    static func best(_ v: [Double]) -> Double { v.min() ?? 0 }

    /// Measures every shape with `algorithm` (fp32), with im2col + sgemm (fp32) and, where the CPU has AVX512_BF16,
    /// with im2col + the bf16 GEMM, in alternation (`repetitions` timed runs of each after one warm-up), then the
    /// same-FLOP sgemm and bf16 GEMM in alternation.
    public static func run(shapes: [ConvShape] = referenceShapes, batch: Int = 16, repetitions: Int = 3,
                           algorithm: ConvAlgorithm = .preferred) -> Report {
        var g = SeededGenerator(seed: 1)
        var results: [ConvResult] = []
        for s in shapes {
            let conv = Conv2D(name: s.name, inChannels: s.inChannels, outChannels: s.outChannels, kernelSize: s.kernel,
                              stride: s.stride, bias: false, generator: &g)
            conv.computesInputGradient = s.inputGradient
            let x = Initializer.normal(std: 1).tensor(shape: [batch, s.inChannels, s.size, s.size], generator: &g)
            let dy = Initializer.normal(std: 1).tensor(shape: [batch, s.outChannels, s.outSize, s.outSize], generator: &g)
            // Variants in alternation: (algorithm, fp32), (im2col, fp32), and (im2col, bf16) where the CPU has it.
            var variants: [(ConvAlgorithm, Precision)] = [(algorithm, .fp32), (.im2col, .fp32)]
            if Precision.bf16Available { variants.append((.im2col, .bf16)) }
            var fw = [[Double]](repeating: [], count: variants.count), bw = fw
            for r in 0...repetitions {
                for (i, v) in variants.enumerated() {
                    conv.algorithm = v.0
                    conv.useTransposedConvolution = Conv2D.prefersTransposedConvolution(outChannels: s.outChannels,
                                                                                        algorithm: v.0)
                    Precision.with(v.1) {
                        let t0 = now()
                        _ = conv.forward(x)
                        let t1 = now()
                        _ = conv.backward(dy)
                        let t2 = now()
                        if r > 0 { fw[i].append(t1 - t0); bw[i].append(t2 - t1) }
                    }
                }
            }
            let hasBF16 = variants.count > 2
            results.append(ConvResult(shape: s, forwardSeconds: best(fw[0]), backwardSeconds: best(bw[0]),
                                      im2colForwardSeconds: best(fw[1]), im2colBackwardSeconds: best(bw[1]),
                                      bf16ForwardSeconds: hasBF16 ? best(fw[2]) : nil,
                                      bf16BackwardSeconds: hasBF16 ? best(bw[2]) : nil,
                                      flops: s.trainingFLOPs(batch: batch)))
        }
        let totalFLOPs = results.reduce(0) { $0 + $1.flops }
        let totalSeconds = results.reduce(0) { $0 + $1.forwardSeconds + $1.backwardSeconds }
        let im2colSeconds = results.reduce(0) { $0 + $1.im2colForwardSeconds + $1.im2colBackwardSeconds }
        // A square product whose FLOPs equal one average conv GEMM call set, repeated to the total.
        let perCall = totalFLOPs / Double(3 * shapes.count)
        let d = max(64, Int((Foundation.cbrt(perCall / 2) / 16).rounded()) * 16)
        let gemmFLOPs = 2 * Double(d) * Double(d) * Double(d)
        let calls = max(1, Int((totalFLOPs / gemmFLOPs).rounded()))
        let a = Initializer.normal(std: 1).tensor(shape: [d, d], generator: &g)
        let b = Initializer.normal(std: 1).tensor(shape: [d, d], generator: &g)
        var c = Tensor(shape: [d, d])
        var times: [Double] = [], bf16Times: [Double] = []
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                c.data.withUnsafeMutableBufferPointer { cp in
                    for r in 0...repetitions {
                        let t0 = now()
                        for _ in 0..<calls {
                            GEMM.sgemm(m: d, n: d, k: d, a: ap.baseAddress!, lda: d, b: bp.baseAddress!, ldb: d,
                                       c: cp.baseAddress!, ldc: d)
                        }
                        if r > 0 { times.append(now() - t0) }
                        guard Precision.bf16Available else { continue }
                        let t1 = now()
                        for _ in 0..<calls {
                            GEMM.bf16gemm(m: d, n: d, k: d, a: ap.baseAddress!, lda: d, b: bp.baseAddress!, ldb: d,
                                          c: cp.baseAddress!, ldc: d)
                        }
                        if r > 0 { bf16Times.append(now() - t1) }
                    }
                }
            }
        }
        let gemmRate = gemmFLOPs * Double(calls) / best(times) / 1e9
        let bf16Seconds = results.compactMap { c in c.bf16ForwardSeconds.flatMap { f in c.bf16BackwardSeconds.map { f + $0 } } }
        return Report(convs: results, batch: batch, convFLOPs: totalFLOPs, convSeconds: totalSeconds,
                      im2colConvSeconds: im2colSeconds, gemmSize: d, gemmGFLOPs: gemmRate,
                      bf16ConvSeconds: bf16Seconds.count == results.count ? bf16Seconds.reduce(0, +) : nil,
                      bf16GemmGFLOPs: bf16Times.isEmpty ? nil : gemmFLOPs * Double(calls) / best(bf16Times) / 1e9)
    }
}
