import Foundation

/// JSON of settings types (`DetectorConfig`, `Training.TrainSettings`): sorted-key text for checkpoint metadata, and
/// a JSON object's entries applied over a base value — missing keys keep the base's values, an unknown key or a
/// mistyped value is an error naming the file and the key.
public enum SettingsCoding {
    /// `value` as JSON text, keys sorted.
    public static func jsonString<T: Encodable>(_ value: T) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: (try? enc.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// `base` with `entries` applied; every entry must be one of `keys`; `source` names the file in errors.
    public static func merge<T: Codable>(_ entries: [String: Any], over base: T, keys: Set<String>, source: String) throws -> T {
        var merged = (try? JSONSerialization.jsonObject(with: Data(jsonString(base).utf8))) as? [String: Any] ?? [:]
        let unknown = entries.keys.filter { !keys.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw ModelError.invalidConfigFile(path: source, reason: "unknown keys \(unknown.joined(separator: ", "))")
        }
        merged.merge(entries) { _, new in new }
        do {
            return try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            throw ModelError.invalidConfigFile(
                path: source, reason: "key \(context.codingPath.first?.stringValue ?? "?"): \(context.debugDescription)")
        } catch {
            throw ModelError.invalidConfigFile(path: source, reason: "\(error)")
        }
    }
}
