import ArgumentParser
import Benchmarks
import Foundation
import NeuralNet

extension ConvAlgorithm: ExpressibleByArgument {}

/// `detector bench`: performance measurements.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the speed of the building blocks.",
        subcommands: [Kernels.self, TrainSpeed.self, JPEGDecode.self])

    /// `detector bench kernels`: conv forward + backward GFLOP/s beside OpenBLAS sgemm.
    struct Kernels: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Conv2D forward+backward throughput on the reference backbone's shapes, fp32 and bf16, vs sgemm.")

        @Option(help: "Images per batch.")
        var batch = 16

        @Option(help: "Timed repetitions per shape (after one warm-up); the fastest is reported, as the least disturbed by other load.")
        var repetitions = 5

        @Option(help: "Conv algorithm measured beside im2col + sgemm: winograd (the default where the CPU has AVX-512F: Winograd F(4×4, 3×3) forward and F(2×2, 3×3) weight gradient for 3×3 stride-1 layers, the implicit GEMM for the others), implicit, direct or im2col.")
        var algorithm = ConvAlgorithm.preferred

        func validate() throws {
            guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
            guard repetitions > 0 else { throw ValidationError("--repetitions must be positive, got \(repetitions)") }
        }

        func run() throws {
            print("OpenBLAS core: \(BLASRuntime.coreName), threads: \(BLASRuntime.threads), workers: \(Parallel.workers)")
            let r = KernelBenchmark.run(batch: batch, repetitions: repetitions, algorithm: algorithm)
            func f(_ v: Double, _ w: Int = 8, _ p: Int = 1) -> String {
                let s = String(format: "%.\(p)f", v)
                return String(repeating: " ", count: max(0, w - s.count)) + s
            }
            print("precision: fp32\(Precision.bf16Available ? " and bf16 (AVX512_BF16), timed in alternation" : " (no AVX512_BF16 here)")")
            print("shape (batch \(r.batch))".padding(toLength: 22, withPad: " ", startingAt: 0)
                  + "   cin  cout  size  \(algorithm.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) GFLOP/s"
                  + "  fp32 fwd  bwd ms  GFLOP/s  bf16 fwd  bwd ms  GFLOP/s  bf16/fp32")
            for c in r.convs {
                let s = c.shape
                var line = s.name.padding(toLength: 22, withPad: " ", startingAt: 0)
                    + f(Double(s.inChannels), 6, 0) + f(Double(s.outChannels), 6, 0) + f(Double(s.size), 6, 0)
                    + f(c.gflops, 18)
                    + f(c.im2colForwardSeconds * 1e3, 10) + f(c.im2colBackwardSeconds * 1e3) + f(c.im2colGFLOPs, 9)
                if let bf = c.bf16ForwardSeconds, let bb = c.bf16BackwardSeconds, let g = c.bf16GFLOPs {
                    line += f(bf * 1e3, 10) + f(bb * 1e3) + f(g, 9) + f(g / c.im2colGFLOPs, 11, 2)
                }
                print(line)
            }
            let fp32Rate = r.convFLOPs / r.im2colConvSeconds / 1e9
            print("convs total: \(f(r.convFLOPs / 1e9, 0, 2)) GFLOP; fp32 im2col + sgemm \(f(r.im2colConvSeconds * 1e3, 0, 1)) ms = "
                  + "\(f(fp32Rate, 0, 1)) GFLOP/s; \(algorithm.rawValue) (fp32) \(f(r.convSeconds * 1e3, 0, 1)) ms = "
                  + "\(f(r.convGFLOPs, 0, 1)) GFLOP/s")
            if let b = r.bf16ConvSeconds {
                print("convs total bf16 (bf16 GEMM, patches read in place): \(f(b * 1e3, 0, 1)) ms = \(f(r.convFLOPs / b / 1e9, 0, 1)) GFLOP/s; "
                      + "ratio bf16 conv / fp32 conv: \(f(r.im2colConvSeconds / b, 0, 2))")
            }
            print("sgemm \(r.gemmSize)³ (same FLOPs): \(f(r.gemmGFLOPs, 0, 1)) GFLOP/s"
                  + (r.bf16GemmGFLOPs.map { "; bf16 GEMM \(f($0, 0, 1)) GFLOP/s (ratio \(f($0 / r.gemmGFLOPs, 0, 2)))" } ?? ""))
            print("ratio conv / sgemm (fp32): \(f(100 * fp32Rate / r.gemmGFLOPs, 0, 1)) % (im2col + sgemm; "
                  + "\(algorithm.rawValue): \(f(100 * r.ratio, 0, 1)) %)")
            print("activation shape        BN f+b ms  ReLU f+b ms  Add ms  BN+ReLU fused f+b ms")
            for e in KernelBenchmark.runElementwise(shapes: KernelBenchmark.referenceActivationShapes(batch: batch),
                                                    repetitions: repetitions) {
                print("\(e.shape)".padding(toLength: 22, withPad: " ", startingAt: 0)
                      + f(e.batchNormMilliseconds, 11) + f(e.reluMilliseconds, 13) + f(e.addMilliseconds, 8)
                      + f(e.fusedMilliseconds, 22))
            }
        }
    }
}
