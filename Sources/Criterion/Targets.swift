import Boxes
import Losses

/// One named, weighted term of a criterion: `weight · value` enters the total.
public struct LossTerm: Sendable, Equatable {
    /// Name of the term (`focal`, `smooth_l1`, `giou`, `class`, `objectness`, `l1`).
    public var name: String
    /// Value of the term, already normalised (e.g. divided by the number of positives).
    public var value: Double
    /// Weight of the term in the total.
    public var weight: Double

    /// Creates a term.
    public init(name: String, value: Double, weight: Double) {
        self.name = name
        self.value = value
        self.weight = weight
    }
}

extension Array where Element == LossTerm {
    /// `Σ weight · value`.
    public var weightedTotal: Double { reduce(0) { $0 + $1.weight * $1.value } }

    /// The value of the term called `name`, if present.
    public subscript(name: String) -> Double? { first { $0.name == name }?.value }
}

/// Errors a caller can cause: non-finite network outputs, bad targets, unsolvable matchings.
public enum CriterionError: Error, CustomStringConvertible, Equatable {
    /// A network output holds `nan` / `±inf`.
    case nonFiniteOutput(output: String, image: Int, index: Int, value: Float)
    /// A loss term came out non-finite; training must stop (DETR's rule), naming the term.
    case nonFiniteTerm(term: String, detail: String)
    /// A target is invalid (class out of range, non-finite box, rank count wrong, …).
    case invalidTarget(image: Int, detail: String)
    /// The assignment solver failed.
    case matchingFailed(image: Int, detail: String)

    /// A message naming the output, term or image at fault and what to do.
    public var description: String {
        switch self {
        case let .nonFiniteOutput(output, image, index, value):
            return "network output '\(output)' of image \(image) holds \(value) at index \(index); "
                + "training diverged or the input is corrupt (lower the learning rate, check the data)"
        case let .nonFiniteTerm(term, detail):
            return "loss term '\(term)' is not finite (\(detail)); stopping instead of applying NaN gradients"
        case let .invalidTarget(image, detail):
            return "ground truth of image \(image): \(detail)"
        case let .matchingFailed(image, detail):
            return "matching of image \(image) failed: \(detail)"
        }
    }
}

/// Throws `CriterionError.nonFiniteOutput` at the first non-finite value.
func checkFinite(_ x: [Float], output: String, image: Int) throws {
    for i in x.indices where !x[i].isFinite {
        throw CriterionError.nonFiniteOutput(output: output, image: image, index: i, value: x[i])
    }
}

/// Checks classes and box coordinates of `targets`.
func validate(_ t: ImageTargets, image: Int, classes: Int) throws {
    for (k, c) in t.classes.enumerated() where c < 0 || c >= classes {
        throw CriterionError.invalidTarget(image: image, detail: "box \(k) has class \(c), expected 0..<\(classes)")
    }
    for (k, b) in t.boxes.enumerated() where ![b.x1, b.y1, b.x2, b.y2].allSatisfy(\.isFinite) {
        throw CriterionError.invalidTarget(image: image, detail: "box \(k) has non-finite coordinates \(b)")
    }
    for (k, r) in t.partialRegions.enumerated() where r.classIndex < 0 || r.classIndex >= classes {
        throw CriterionError.invalidTarget(
            image: image, detail: "partial region \(k) has class \(r.classIndex), expected 0..<\(classes)")
    }
}

/// Runs a loss and turns its errors into `CriterionError.nonFiniteTerm` naming `term`.
func term<T>(_ name: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as LossesError {
        throw CriterionError.nonFiniteTerm(term: name, detail: e.description)
    }
}
