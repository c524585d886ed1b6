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

    /// A setting whose value differs between two values of a settings type: its key and both values as JSON text
    /// (`none` for a missing optional).
    public struct Change: Equatable, Sendable {
        /// The setting's key.
        public var key: String
        /// The old and the new value, as JSON text.
        public var old: String, new: String
        /// `key: old → new`.
        public var description: String { "\(key): \(old) → \(new)" }
    }

    /// The settings of `keys` (in that order) whose JSON values differ between `old` and `new`.
    public static func changes<T: Encodable>(from old: T, to new: T, keys: [String]) -> [Change] {
        let (a, b) = (entries(old), entries(new))
        return keys.compactMap { key in
            let (x, y) = (text(a[key]), text(b[key]))
            return x == y ? nil : Change(key: key, old: x, new: y)
        }
    }

    /// `value`'s JSON object.
    static func entries<T: Encodable>(_ value: T) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(jsonString(value).utf8))) as? [String: Any] ?? [:]
    }

    /// One JSON value as text; `none` when absent.
    static func text(_ value: Any?) -> String {
        guard let value, let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]) else { return "none" }
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    /// `base` with `entries` applied; every entry must be one of `keys`; `source` names the file in errors.
    public static func merge<T: Codable>(_ entries: [String: Any], over base: T, keys: Set<String>, source: String) throws -> T {
        var merged = self.entries(base)
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
