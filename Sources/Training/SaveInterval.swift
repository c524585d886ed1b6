import Foundation

/// How often a run writes `last.safetensors` between epochs (`--save-every`): every `steps` optimizer steps, or every
/// `minutes` of wall-clock time (training and validation). A kill loses at most one interval of training. Written as
/// `500` (steps) or `10m` (minutes) on the command line and in a `--config` file (a JSON number is steps).
public enum SaveInterval: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Every this many steps.
    case steps(Int)
    /// Every this many minutes.
    case minutes(Double)

    /// Parses `500` (steps) or `10m` / `1.5m` (minutes); nil for anything else, zero or negative.
    public init?(text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix("m") {
            guard let m = Double(t.dropLast()), m > 0, m.isFinite else { return nil }
            self = .minutes(m)
        } else {
            guard let s = Int(t), s > 0 else { return nil }
            self = .steps(s)
        }
    }

    /// `500` or `10m`.
    public var description: String {
        switch self {
        case let .steps(s): return "\(s)"
        case let .minutes(m): return String(format: "%gm", m)
        }
    }

    /// Decodes a JSON number (steps) or a string (`500`, `10m`).
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(Int.self) {
            self = .steps(s)
            return
        }
        let text = try c.decode(String.self)
        guard let v = SaveInterval(text: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected steps (500) or minutes (10m), got \"\(text)\"")
        }
        self = v
    }

    /// Steps as a JSON number, minutes as `"10m"`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .steps(s): try c.encode(s)
        case .minutes: try c.encode(description)
        }
    }

    /// Why the interval cannot work, or nil.
    var problem: String? {
        switch self {
        case let .steps(s): return s > 0 ? nil : "must be a positive number of steps, got \(s)"
        case let .minutes(m): return m > 0 && m.isFinite ? nil : "must be a positive number of minutes, got \(m)"
        }
    }

    /// Whether a save is due `steps` steps and `seconds` seconds after the last one.
    func isDue(stepsSince steps: Int, secondsSince seconds: Double) -> Bool {
        switch self {
        case let .steps(s): return steps >= s
        case let .minutes(m): return steps > 0 && seconds >= m * 60
        }
    }
}
