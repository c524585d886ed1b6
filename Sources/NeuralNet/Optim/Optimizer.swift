import Foundation

/// Errors of the NeuralNet module.
public enum NeuralNetError: Error, CustomStringConvertible {
    /// Optimizer state for `name` has shape `found`, the parameter has `expected`.
    case stateShapeMismatch(name: String, expected: [Int], found: [Int])
    /// A state tensor `name` is not recognised by the optimizer.
    case unknownState(name: String)

    /// A readable message naming the tensor and what is wrong.
    public var description: String {
        switch self {
        case let .stateShapeMismatch(name, expected, found):
            return "optimizer state '\(name)' has shape \(found) but its parameter has shape \(expected)"
        case let .unknownState(name):
            return "optimizer state '\(name)' is not a state tensor of this optimizer"
        }
    }
}

/// An update rule for parameters from their accumulated gradients.
///
/// State (moments, step count) is kept per parameter name and can be exported and imported as named
/// tensors (`<parameter>.<state>`, plus scalars such as `step` as `[1]` tensors) for checkpoints.
public protocol Optimizer: AnyObject {
    /// Applies one update to every parameter with learning rate `learningRate`.
    func step(_ parameters: [Parameter], learningRate: Float)
    /// The optimizer's state as named tensors.
    func stateTensors() -> [(String, Tensor)]
    /// Restores state written by `stateTensors()`; throws on an unknown name or a shape mismatch with `parameters`.
    func loadState(_ tensors: [String: Tensor], parameters: [Parameter]) throws
}

/// Sets the gradient of every parameter to zero.
public func zeroGradients(_ parameters: [Parameter]) {
    for p in parameters { p.zeroGrad() }
}

/// The global L2 norm of all gradients, `√(Σ_p ‖∇p‖²)`, accumulated in Double.
public func gradientNorm(_ parameters: [Parameter]) -> Float {
    Float(parameters.reduce(0.0) { $0 + $1.grad.squaredNorm() }.squareRoot())
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm` (as `torch.nn.utils.clip_grad_norm_`:
/// factor `min(1, maxNorm/(norm + 1e-6))`); returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    let norm = gradientNorm(parameters)
    let factor = maxNorm / (norm + 1e-6)
    if factor < 1 {
        for p in parameters { p.grad.scale(by: factor) }
    }
    return norm
}

/// Loads a `[1]` scalar state tensor, or returns nil when absent.
func scalarState(_ tensors: [String: Tensor], _ name: String) -> Float? {
    guard let t = tensors[name], t.count == 1 else { return nil }
    return t.data[0]
}

/// Validates and collects per-parameter state tensors named `<parameter>.<suffix>`.
func perParameterState(
    _ tensors: [String: Tensor], parameters: [Parameter], suffixes: [String], scalars: Set<String>
) throws -> [String: [String: Tensor]] {
    let byName = Dictionary(parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var out: [String: [String: Tensor]] = [:]
    for (key, t) in tensors {
        if scalars.contains(key) { continue }
        guard let suffix = suffixes.first(where: { key.hasSuffix("." + $0) }) else {
            throw NeuralNetError.unknownState(name: key)
        }
        let pname = String(key.dropLast(suffix.count + 1))
        guard let p = byName[pname] else { throw NeuralNetError.unknownState(name: key) }
        guard p.value.shape == t.shape else {
            throw NeuralNetError.stateShapeMismatch(name: key, expected: p.value.shape, found: t.shape)
        }
        out[pname, default: [:]][suffix] = t
    }
    return out
}
