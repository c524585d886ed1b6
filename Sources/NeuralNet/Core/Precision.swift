import CKernels

/// The arithmetic of the network's matrix products: convolutions (forward, weight and input gradients), `Linear`
/// and the attention layer's products.
///
/// `bf16` follows PyTorch's CPU autocast recipe (`torch.autocast("cpu", dtype=torch.bfloat16)`; Intel,
/// "BFLOAT16 — Hardware Numerics Definition", 2018): the products' inputs are rounded to bfloat16 (round to nearest
/// even) and the products summed in fp32 by `GEMM.bf16gemm`; weights, gradients, optimizer state, BatchNorm
/// statistics, losses and matching stay fp32. `fp32` is OpenBLAS sgemm, exact up to summation order.
public enum Precision: String, Sendable, CaseIterable {
    /// Single precision everywhere.
    case fp32
    /// bfloat16 products with fp32 accumulation (needs AVX512_BF16).
    case bf16

    /// The process-wide mode the layers consult. fp32 unless set; set it before training starts (it is read, not
    /// synchronised, by the kernels). Setting `.bf16` on a CPU without AVX512_BF16 is a programmer error.
    nonisolated(unsafe) public static var current: Precision = .fp32 {
        willSet { precondition(newValue == .fp32 || bf16Available, "bf16 needs a CPU with AVX512_BF16") }
    }

    /// Whether this CPU runs `bf16`: AVX512F/BW/VL and AVX512_BF16, with the ZMM state saved by the OS (cpuid, XCR0).
    public static let bf16Available: Bool = ck_cpu_has_avx512_bf16() == 1

    /// Runs `body` with `current` set to `precision`, restoring the previous mode afterwards (tests, benchmarks).
    public static func with<R>(_ precision: Precision, _ body: () throws -> R) rethrows -> R {
        let previous = current
        current = precision
        defer { current = previous }
        return try body()
    }
}

/// The precision asked for on the command line: a mode, or `auto` (bf16 where the CPU has AVX512_BF16, else fp32).
public enum PrecisionSetting: String, Sendable, CaseIterable {
    /// bf16 where available, fp32 elsewhere.
    case auto
    /// Always fp32.
    case fp32
    /// bf16; an error on a CPU without AVX512_BF16 (see `resolved()`).
    case bf16

    /// The mode this setting means on this CPU, or nil for `bf16` where the CPU cannot run it.
    public func resolved() -> Precision? {
        switch self {
        case .auto: return Precision.bf16Available ? .bf16 : .fp32
        case .fp32: return .fp32
        case .bf16: return Precision.bf16Available ? .bf16 : nil
        }
    }
}
