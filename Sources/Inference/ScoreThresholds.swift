import Foundation

/// The working score threshold of each head: the threshold of the highest F1 on a validation split
/// (`ThresholdDiagnostics.bestF1`, ultralytics' confidence at the peak of `F1_curve.png`). Training stores the latest
/// validation's thresholds in its checkpoints (metadata key `scoreThresholds`, JSON), and `detector detect` without
/// `--threshold` reports the boxes at or above the chosen head's threshold. Scores of heads trained with IoU-aware
/// class targets read as expected IoU and run lower than a fixed threshold fitted to another head expects.
public struct ScoreThresholds: Codable, Equatable, Sendable {
    /// Best-F1 threshold of the set head, nil without one.
    public var set: Double?
    /// Best-F1 threshold of the dense head (after NMS).
    public var dense: Double

    /// The thresholds of both heads.
    public init(set: Double?, dense: Double) {
        self.set = set
        self.dense = dense
    }

    /// Metadata key of the thresholds in a checkpoint.
    public static let metadataKey = "scoreThresholds"

    /// The threshold `detect` uses when a checkpoint has none and none is given.
    public static let fallback = 0.3

    /// The threshold of `head` (nil: the checkpoint's model has no set head but the set head was asked for).
    public func threshold(of head: DetectRun.Head) -> Double? { head == .set ? set : dense }

    /// The thresholds as checkpoint metadata (`[metadataKey: JSON]`).
    public var metadata: [String: String] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        guard let data = try? enc.encode(self) else { return [:] }
        return [Self.metadataKey: String(decoding: data, as: UTF8.self)]
    }

    /// The thresholds stored in a checkpoint's `metadata`, nil when it holds none (checkpoints written before
    /// training stored them, or by a run without validation); throws when the entry is there but unreadable,
    /// naming `source`.
    public static func stored(in metadata: [String: String], source: String) throws -> ScoreThresholds? {
        guard let text = metadata[metadataKey] else { return nil }
        let t: ScoreThresholds
        do { t = try JSONDecoder().decode(ScoreThresholds.self, from: Data(text.utf8)) } catch {
            throw InferenceError.invalidSetting(key: metadataKey, reason: "\(source): unreadable stored score thresholds \(text): \(error)")
        }
        let values = [t.dense] + (t.set.map { [$0] } ?? [])
        guard values.allSatisfy({ (0...1).contains($0) }) else {
            throw InferenceError.invalidSetting(key: metadataKey, reason: "\(source): stored score thresholds \(text) are not in [0, 1]")
        }
        return t
    }
}
