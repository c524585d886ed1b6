// The shared vocabulary of the Losses module: reductions, the result type and the errors.
//
// Conventions (every loss in `Loss`):
// - inputs are `Double` arrays, matrices row-major (`[N × C]` flattened), class indices `Int` (0-based);
// - `LossResult.values` holds one value per element / row for `.none`, else the single reduced value;
// - `LossResult.gradients[k]` is the gradient of the reduced loss (of the *sum* of the values for `.none`)
//   with respect to the k-th real-valued input, in the order the parameters are listed, same layout as it;
//   for `.none`, output i depends on element / row i only, so scaling row i of a gradient by an upstream
//   weight gives the gradient of a weighted sum;
// - non-finite inputs throw `LossesError.nonFinite`; a non-finite result throws `LossesError.nonFiniteResult`.

/// How per-element losses are combined, as PyTorch's `reduction` argument.
public enum Reduction: String, Sendable, CaseIterable {
    /// One value per element (or per row for row-wise losses).
    case none
    /// The sum of the per-element values.
    case sum
    /// The sum divided by the number of elements (by the sum of the target weights for weighted
    /// cross-entropy and NLL, as PyTorch).
    case mean
}

/// The value of a loss and its gradients with respect to its real-valued inputs.
public struct LossResult: Sendable, Equatable {
    /// Per-element values for `Reduction.none`, otherwise one value.
    public var values: [Double]
    /// `gradients[k]`: gradient of `value` with respect to the k-th real-valued input (same layout).
    public var gradients: [[Double]]

    /// Creates a result.
    public init(values: [Double], gradients: [[Double]]) {
        self.values = values
        self.gradients = gradients
    }

    /// The reduced loss: the single value, or the sum of the values for `Reduction.none`.
    public var value: Double { values.count == 1 ? values[0] : values.reduce(0, +) }
}

/// Errors a caller can cause with the data it passes to a loss.
public enum LossesError: Error, CustomStringConvertible, Equatable {
    /// An input holds `nan` or `±inf`.
    case nonFinite(loss: String, input: String, index: Int, value: Double)
    /// The loss or one of its gradients came out non-finite although the inputs were finite.
    case nonFiniteResult(loss: String, detail: String)
    /// A class index is outside `0..<classes`.
    case classOutOfRange(loss: String, index: Int, value: Int, classes: Int)
    /// A value lies outside the domain the loss accepts (e.g. a probability outside [0, 1]).
    case outOfDomain(loss: String, input: String, index: Int, value: Double, expected: String)
    /// A parameter is invalid (e.g. β outside [0, 1) for class-balanced weights).
    case invalidParameter(loss: String, parameter: String, value: Double, expected: String)

    /// A message naming the loss, the input and the offending value.
    public var description: String {
        switch self {
        case let .nonFinite(loss, input, index, value):
            return "\(loss): input '\(input)' holds the non-finite value \(value) at index \(index); "
                + "check the network outputs and the data feeding this loss"
        case let .nonFiniteResult(loss, detail):
            return "\(loss): the result is non-finite (\(detail)) although the inputs are finite"
        case let .classOutOfRange(loss, index, value, classes):
            return "\(loss): target class \(value) at index \(index) is outside 0..<\(classes)"
        case let .outOfDomain(loss, input, index, value, expected):
            return "\(loss): input '\(input)' has \(value) at index \(index), expected \(expected)"
        case let .invalidParameter(loss, parameter, value, expected):
            return "\(loss): parameter '\(parameter)' is \(value), expected \(expected)"
        }
    }
}

/// Namespace of the loss functions (forward and gradient in one call). See `LossResult` for conventions.
public enum Loss {}

extension Loss {
    /// Throws `LossesError.nonFinite` at the first non-finite entry of `x`.
    @usableFromInline
    static func checkFinite(_ x: [Double], loss: String, input: String) throws {
        for i in x.indices where !x[i].isFinite {
            throw LossesError.nonFinite(loss: loss, input: input, index: i, value: x[i])
        }
    }

    /// Throws `LossesError.classOutOfRange` at the first target outside `0..<classes`.
    @usableFromInline
    static func checkClasses(_ t: [Int], classes: Int, loss: String) throws {
        for i in t.indices where t[i] < 0 || t[i] >= classes {
            throw LossesError.classOutOfRange(loss: loss, index: i, value: t[i], classes: classes)
        }
    }

    /// Applies `reduction` to per-element `values` whose gradients are of their sum; `denominator` is the
    /// divisor of `.mean`. Then checks that everything is finite.
    @usableFromInline
    static func reduce(
        _ values: [Double], _ gradients: [[Double]], _ reduction: Reduction, denominator: Double, loss: String
    ) throws -> LossResult {
        var result: LossResult
        switch reduction {
        case .none:
            result = LossResult(values: values, gradients: gradients)
        case .sum:
            result = LossResult(values: [values.reduce(0, +)], gradients: gradients)
        case .mean:
            let s = 1 / denominator
            result = LossResult(values: [values.reduce(0, +) * s], gradients: gradients.map { $0.map { $0 * s } })
        }
        try checkResult(result, loss: loss)
        return result
    }

    /// Throws `LossesError.nonFiniteResult` when a value or a gradient entry is not finite.
    @usableFromInline
    static func checkResult(_ r: LossResult, loss: String) throws {
        if let i = r.values.firstIndex(where: { !$0.isFinite }) {
            throw LossesError.nonFiniteResult(loss: loss, detail: "value[\(i)] = \(r.values[i])")
        }
        for (k, g) in r.gradients.enumerated() {
            if let i = g.firstIndex(where: { !$0.isFinite }) {
                throw LossesError.nonFiniteResult(loss: loss, detail: "gradient \(k) [\(i)] = \(g[i])")
            }
        }
    }
}
