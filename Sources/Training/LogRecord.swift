import Foundation

/// One line of a run's `log.jsonl`: a training step or a validation. Keys are snake_case and sorted; loss terms
/// appear under their names (`dense.focal`, `set.class`, …); non-finite numbers are written as `null`.
public enum LogRecord: Codable, Equatable, Sendable {
    /// A training step.
    case step(StepRecord)
    /// A validation of both heads.
    case evaluation(EvaluationRecord)

    /// The step the record was written at (a validation's: the steps taken before it).
    public var step: Int {
        switch self {
        case let .step(s): return s.step
        case let .evaluation(e): return e.step
        }
    }

    /// What one step logged.
    public struct StepRecord: Equatable, Sendable {
        /// Optimizer steps taken after this one (1-based).
        public var step: Int
        /// 0-based epoch the step belongs to.
        public var epoch: Int
        /// Learning rate of the step.
        public var learningRate: Double
        /// Wall seconds of the step, data included.
        public var seconds: Double
        /// Weighted total loss.
        public var loss: Double
        /// Weighted loss terms by name, in the step's order.
        public var terms: [(name: String, value: Double)]
        /// Global gradient norm before clipping.
        public var gradientNorm: Double
        /// Dense positive anchors.
        public var positives: Int
        /// Ground-truth boxes that found no hypothesis.
        public var unmatchedBoxes: Int
        /// Why the step was skipped, or nil.
        public var skipped: String?

        /// Creates a record.
        public init(step: Int, epoch: Int, learningRate: Double, seconds: Double, loss: Double,
                    terms: [(name: String, value: Double)], gradientNorm: Double, positives: Int, unmatchedBoxes: Int,
                    skipped: String? = nil) {
            self.step = step; self.epoch = epoch; self.learningRate = learningRate; self.seconds = seconds
            self.loss = loss; self.terms = terms; self.gradientNorm = gradientNorm; self.positives = positives
            self.unmatchedBoxes = unmatchedBoxes; self.skipped = skipped
        }

        /// The value of the loss term `name`.
        public func term(_ name: String) -> Double? { terms.first { $0.name == name }?.value }

        /// Equal when every field is; loss values compare by bit pattern, so a logged NaN equals itself.
        public static func == (a: StepRecord, b: StepRecord) -> Bool {
            a.step == b.step && a.epoch == b.epoch && a.learningRate == b.learningRate && a.seconds == b.seconds
                && a.loss.bitPattern == b.loss.bitPattern && a.terms.map(\.name) == b.terms.map(\.name)
                && a.terms.map(\.value.bitPattern) == b.terms.map(\.value.bitPattern) && a.gradientNorm == b.gradientNorm
                && a.positives == b.positives && a.unmatchedBoxes == b.unmatchedBoxes && a.skipped == b.skipped
        }
    }

    /// What one validation logged.
    public struct EvaluationRecord: Codable, Equatable, Sendable {
        /// Steps taken when it ran.
        public var step: Int
        /// Completed epochs when it ran.
        public var epoch: Int
        /// Dense head AP and AP50.
        public var denseAP: Double, denseAP50: Double
        /// Set head AP and AP50 (nil without a set head).
        public var setAP: Double?, setAP50: Double?

        /// Creates a record.
        public init(step: Int, epoch: Int, denseAP: Double, denseAP50: Double, setAP: Double?, setAP50: Double?) {
            self.step = step; self.epoch = epoch; self.denseAP = denseAP; self.denseAP50 = denseAP50
            self.setAP = setAP; self.setAP50 = setAP50
        }

        enum CodingKeys: String, CodingKey {
            case step = "eval_step", epoch, denseAP = "dense_ap", denseAP50 = "dense_ap50", setAP = "set_ap", setAP50 = "set_ap50"
        }
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static let stepKeys: Set<String> = ["step", "epoch", "lr", "seconds", "loss", "grad_norm", "positives", "unmatched_boxes", "skipped"]

    /// Writes the record's keys: a step's fixed keys and one key per loss term, or a validation's keys.
    public func encode(to encoder: Encoder) throws {
        switch self {
        case let .evaluation(e): try e.encode(to: encoder)
        case let .step(s):
            var c = encoder.container(keyedBy: Key.self)
            func put(_ v: Double, _ k: String) throws {
                if v.isFinite { try c.encode(v, forKey: Key(k)) } else { try c.encodeNil(forKey: Key(k)) }
            }
            try c.encode(s.step, forKey: Key("step"))
            try c.encode(s.epoch, forKey: Key("epoch"))
            try put(s.learningRate, "lr")
            try put(s.seconds, "seconds")
            try put(s.loss, "loss")
            try put(s.gradientNorm, "grad_norm")
            try c.encode(s.positives, forKey: Key("positives"))
            try c.encode(s.unmatchedBoxes, forKey: Key("unmatched_boxes"))
            try c.encodeIfPresent(s.skipped, forKey: Key("skipped"))
            for (name, value) in s.terms { try put(value, name) }
        }
    }

    /// Reads a validation (it has `eval_step`) or a step (every key outside the fixed ones is a loss term).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if c.contains(Key("eval_step")) {
            self = .evaluation(try EvaluationRecord(from: decoder))
            return
        }
        func get(_ k: String) throws -> Double { try c.decodeIfPresent(Double.self, forKey: Key(k)) ?? .nan }
        let terms = try c.allKeys.map(\.stringValue).filter { !Self.stepKeys.contains($0) }.sorted().map { ($0, try get($0)) }
        self = .step(StepRecord(
            step: try c.decode(Int.self, forKey: Key("step")), epoch: try c.decode(Int.self, forKey: Key("epoch")),
            learningRate: try get("lr"), seconds: try get("seconds"), loss: try get("loss"), terms: terms,
            gradientNorm: try get("grad_norm"), positives: try c.decode(Int.self, forKey: Key("positives")),
            unmatchedBoxes: try c.decode(Int.self, forKey: Key("unmatched_boxes")),
            skipped: try c.decodeIfPresent(String.self, forKey: Key("skipped"))))
    }
}
