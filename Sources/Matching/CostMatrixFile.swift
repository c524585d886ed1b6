import Foundation

extension CostMatrix {
    /// Reads a cost matrix from `path`, by extension: NumPy `.npy` (2-D, `float64` or `float32`, either byte
    /// order, C or Fortran order), `.csv` (one row a line, comma-separated), or `.json` (`[[…], …]`).
    /// Non-finite values are written `inf`, `-inf`, `nan` (also `Infinity`, `NaN`, and quoted in JSON).
    /// - Throws: `MatchingError.unreadableFile` naming the path and what is wrong.
    public static func read(path: String) throws -> CostMatrix {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MatchingError.unreadableFile(path: path, reason: "no such file or not readable")
        }
        let ext = (path as NSString).pathExtension.lowercased()
        do {
            switch ext {
            case "npy": return try parseNPY(data)
            case "csv", "txt": return try parseCSV(String(decoding: data, as: UTF8.self))
            case "json": return try parseJSON(String(decoding: data, as: UTF8.self))
            default:
                if data.starts(with: [0x93] + Array("NUMPY".utf8)) { return try parseNPY(data) }
                let text = String(decoding: data, as: UTF8.self)
                if text.drop(while: { $0.isWhitespace }).first == "[" { return try parseJSON(text) }
                return try parseCSV(text)
            }
        } catch let MatchingError.malformedMatrix(reason) {
            throw MatchingError.unreadableFile(path: path, reason: reason)
        }
    }

    /// Parses one number token of a text format.
    static func parseNumber(_ token: Substring) throws -> Double {
        let t = token.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        switch t.lowercased() {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan", "-nan", "+nan": return .nan
        default:
            guard let x = Double(t) else { throw MatchingError.malformedMatrix("'\(t)' is not a number") }
            return x
        }
    }

    /// Comma-separated rows; blank lines and lines starting with `#` are skipped.
    static func parseCSV(_ text: String) throws -> CostMatrix {
        var rows: [[Double]] = []
        for (n, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do {
                rows.append(try trimmed.split(separator: ",", omittingEmptySubsequences: false).map(parseNumber))
            } catch let MatchingError.malformedMatrix(reason) {
                throw MatchingError.malformedMatrix("line \(n + 1): \(reason)")
            }
        }
        return try CostMatrix(rows)
    }

    /// A JSON array of arrays of numbers (or of the non-finite words above).
    static func parseJSON(_ text: String) throws -> CostMatrix {
        var rows: [[Double]] = []
        var s = Substring(text).drop(while: { $0.isWhitespace })
        guard s.first == "[" else { throw MatchingError.malformedMatrix("JSON does not start with '['") }
        s = s.dropFirst().drop(while: { $0.isWhitespace })
        if s.first == "]" { return try CostMatrix([]) }
        while true {
            guard s.first == "[" else { throw MatchingError.malformedMatrix("expected '[' to open row \(rows.count)") }
            guard let close = s.firstIndex(of: "]") else {
                throw MatchingError.malformedMatrix("row \(rows.count) is not closed")
            }
            let body = s[s.index(after: s.startIndex)..<close]
            let trimmedBody = body.trimmingCharacters(in: .whitespacesAndNewlines)
            rows.append(trimmedBody.isEmpty ? [] : try body.split(separator: ",").map {
                try parseNumber(Substring($0.trimmingCharacters(in: .whitespacesAndNewlines)))
            })
            s = s[s.index(after: close)...].drop(while: { $0.isWhitespace })
            if s.first == "," {
                s = s.dropFirst().drop(while: { $0.isWhitespace })
            } else if s.first == "]" {
                break
            } else {
                throw MatchingError.malformedMatrix("expected ',' or ']' after row \(rows.count - 1)")
            }
        }
        return try CostMatrix(rows)
    }
}
