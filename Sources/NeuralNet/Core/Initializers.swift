import Foundation

/// Weight initialisations, as `torch.nn.init` defines them.
///
/// `fanIn` of a weight `[out, in, k, k]` is `in·k·k`, `fanOut` is `out·k·k`; a `Linear` weight `[out, in]`
/// has fan-in `in`. Gains: ReLU `√2`, linear/sigmoid `1`, leaky ReLU with slope `a`: `√(2 / (1 + a²))`.
public enum Initializer {
    /// Kaiming (He et al., "Delving deep into rectifiers", ICCV 2015) normal: `N(0, (gain/√fan)²)`.
    case kaimingNormal(gain: Float = 1.4142135, fanOutMode: Bool = false)
    /// Kaiming uniform: `U(−b, b)` with `b = gain·√(3/fan)`. PyTorch's default for `Conv2d`/`Linear` weights
    /// is this with `gain = √(2/(1+5)) = √(1/3)` and fan-in mode.
    case kaimingUniform(gain: Float = 1.4142135, fanOutMode: Bool = false)
    /// Xavier/Glorot (Glorot & Bengio, AISTATS 2010) uniform: `U(−b, b)` with `b = gain·√(6/(fanIn+fanOut))`.
    case xavierUniform(gain: Float = 1)
    /// Xavier/Glorot normal: `N(0, gain²·2/(fanIn+fanOut))`.
    case xavierNormal(gain: Float = 1)
    /// Uniform `U(−bound, bound)` (PyTorch's bias default uses `bound = 1/√fanIn`).
    case uniform(bound: Float)
    /// Normal `N(0, std²)`.
    case normal(std: Float)
    /// Every element equal to `value`.
    case constant(Float)

    /// Fan-in and fan-out of a weight of `shape` (`[out, in, …receptive field]`, or `[n]` for a vector).
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        guard shape.count >= 2 else { return (shape.first ?? 1, shape.first ?? 1) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// A tensor of `shape` drawn from this distribution with `generator`.
    public func tensor(shape: [Int], generator: inout SeededGenerator) -> Tensor {
        let (fanIn, fanOut) = Self.fans(shape)
        var t = Tensor(shape: shape)
        let n = t.count
        t.data.withUnsafeMutableBufferPointer { p in
            switch self {
            case .kaimingNormal(let gain, let outMode):
                let std = gain / Float(outMode ? fanOut : fanIn).squareRoot()
                for i in 0..<n { p[i] = std * generator.nextNormal() }
            case .kaimingUniform(let gain, let outMode):
                let b = gain * (3 / Float(outMode ? fanOut : fanIn)).squareRoot()
                for i in 0..<n { p[i] = (2 * generator.nextUniform() - 1) * b }
            case .xavierUniform(let gain):
                let b = gain * (6 / Float(fanIn + fanOut)).squareRoot()
                for i in 0..<n { p[i] = (2 * generator.nextUniform() - 1) * b }
            case .xavierNormal(let gain):
                let std = gain * (2 / Float(fanIn + fanOut)).squareRoot()
                for i in 0..<n { p[i] = std * generator.nextNormal() }
            case .uniform(let bound):
                for i in 0..<n { p[i] = (2 * generator.nextUniform() - 1) * bound }
            case .normal(let std):
                for i in 0..<n { p[i] = std * generator.nextNormal() }
            case .constant(let v):
                for i in 0..<n { p[i] = v }
            }
        }
        return t
    }
}
