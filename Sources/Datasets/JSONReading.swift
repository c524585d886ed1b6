import Foundation

/// JSON parsing with errors that name the file and the place (line, column and byte offset).
enum JSONReading {
    /// Parses `url` as a JSON object; a parse error becomes `DatasetError.malformedJSON` with its location.
    static func object(at url: URL) throws -> [String: Any] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DatasetError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            let detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
            throw DatasetError.malformedJSON(file: url.path, location: location(in: data, detail: detail),
                                             reason: detail)
        }
        guard let object = parsed as? [String: Any] else {
            throw DatasetError.invalidEntry(file: url.path, location: "top level", reason: "expected a JSON object")
        }
        return object
    }

    /// `line L, column C (byte B)` from the byte offset Foundation reports ("around character B"), or from a
    /// "line L, column C" it reports directly; "unknown position" when neither is present.
    static func location(in data: Data, detail: String) -> String {
        if let l = number(after: "line ", in: detail), let c = number(after: "column ", in: detail) {
            return "line \(l), column \(c)"
        }
        guard let offset = number(after: "character ", in: detail) else {
            return Self.endOfInputLocation(data, detail: detail)
        }
        let (line, column) = lineColumn(of: offset, in: data)
        return "line \(line), column \(column) (byte \(offset))"
    }

    /// Truncated input: Foundation may report no position; point at the end of the data.
    private static func endOfInputLocation(_ data: Data, detail: String) -> String {
        let (line, column) = lineColumn(of: data.count, in: data)
        return "line \(line), column \(column) (byte \(data.count), end of input)"
    }

    /// 1-based line and column of the byte `offset` (columns count bytes).
    static func lineColumn(of offset: Int, in data: Data) -> (Int, Int) {
        var line = 1, column = 1
        let end = min(offset, data.count)
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for i in 0..<end {
                if raw[i] == 0x0A { line += 1; column = 1 } else { column += 1 }
            }
        }
        return (line, column)
    }

    private static func number(after key: String, in text: String) -> Int? {
        guard let r = text.range(of: key) else { return nil }
        let digits = text[r.upperBound...].prefix { $0.isNumber }
        return Int(digits)
    }
}

/// Typed access to `[String: Any]` JSON entries with errors naming file and entry.
struct JSONEntry {
    let dict: [String: Any]
    let file: String
    let location: String

    func int(_ key: String) throws -> Int {
        guard let v = dict[key] else { throw missing(key) }
        if let n = v as? NSNumber {
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        }
        throw DatasetError.invalidEntry(file: file, location: location, reason: "\"\(key)\" must be an integer, got \(v)")
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let v = dict[key], !(v is NSNull) else { return nil }
        return try int(key)
    }

    func string(_ key: String) throws -> String {
        guard let v = dict[key] else { throw missing(key) }
        guard let s = v as? String else {
            throw DatasetError.invalidEntry(file: file, location: location, reason: "\"\(key)\" must be a string, got \(v)")
        }
        return s
    }

    func doubles(_ key: String, count: Int) throws -> [Double] {
        guard let v = dict[key] else { throw missing(key) }
        guard let a = v as? [Any], a.count == count, let ns = a as? [NSNumber] else {
            throw DatasetError.invalidEntry(file: file, location: location,
                                            reason: "\"\(key)\" must be an array of \(count) numbers, got \(v)")
        }
        let d = ns.map(\.doubleValue)
        guard d.allSatisfy(\.isFinite) else {
            throw DatasetError.invalidEntry(file: file, location: location, reason: "\"\(key)\" has a non-finite number")
        }
        return d
    }

    /// A 0/1 (or boolean) flag; absent means false.
    func flag(_ key: String) -> Bool {
        guard let v = dict[key] else { return false }
        if let n = v as? NSNumber { return n.doubleValue != 0 }
        return false
    }

    private func missing(_ key: String) -> DatasetError {
        .invalidEntry(file: file, location: location, reason: "missing key \"\(key)\"")
    }
}
