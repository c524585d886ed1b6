import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small pull reader over JSON bytes, fast enough for results files with millions of numbers.
///
/// It validates the grammar of RFC 8259 as it goes and parses numbers to the nearest `Double`
/// (Clinger's exact fast path for up to 19 significant digits and |exponent| ≤ 22, `strtod` otherwise),
/// so values agree bit for bit with Python's `json` module. The buffer must be followed by one 0 byte
/// (a sentinel that stops every scan); `withContents(of:)` arranges that.
struct JSONReader {
    /// The JSON text; `base[count] == 0`.
    let base: UnsafePointer<UInt8>
    /// Number of bytes of JSON text.
    let count: Int
    /// Name used in error messages (usually the file path).
    let file: String
    /// Offset of the next unread byte.
    var position = 0

    /// Reads the whole file and runs `body` on a reader positioned at its start.
    static func withContents<R>(of url: URL, _ body: (inout JSONReader) throws -> R) throws -> R {
        guard let handle = fopen(url.path, "rb") else {
            throw EvaluationError.unreadable(file: url.path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(handle) }
        var info = stat()
        guard fstat(fileno(handle), &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw EvaluationError.unreadable(file: url.path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: size + 1)
        defer { buffer.deallocate() }
        guard fread(buffer, 1, size, handle) == size else {
            throw EvaluationError.unreadable(file: url.path, reason: "short read")
        }
        buffer[size] = 0
        var reader = JSONReader(base: buffer, count: size, file: url.path)
        return try body(&reader)
    }

    /// The error for the current position, with a 1-based line and column.
    func error(_ reason: String) -> EvaluationError {
        var line = 1
        var column = 1
        for i in 0..<min(position, count) {
            if base[i] == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return .malformedJSON(file: file, line: line, column: column, reason: reason)
    }

    /// Skips spaces, tabs, carriage returns and newlines.
    @inline(__always)
    mutating func skipWhitespace() {
        while true {
            let c = base[position]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            position += 1
        }
    }

    /// The next non-blank byte without consuming it (0 at the end of the text).
    @inline(__always)
    mutating func peek() -> UInt8 {
        skipWhitespace()
        return position < count ? base[position] : 0
    }

    /// Consumes `byte` (after blanks) or throws.
    @inline(__always)
    mutating func expect(_ byte: UInt8) throws {
        guard peek() == byte else {
            throw error("expected '\(Character(UnicodeScalar(byte)))' but found \(describeNext())")
        }
        position += 1
    }

    /// A short description of the next token for error messages.
    func describeNext() -> String {
        guard position < count else { return "the end of the file" }
        let c = base[position]
        return c >= 0x20 && c < 0x7F ? "'\(Character(UnicodeScalar(c)))'" : "byte \(c)"
    }

    /// Throws unless only blanks remain.
    mutating func expectEnd() throws {
        guard peek() == 0, position >= count else { throw error("unexpected \(describeNext()) after the value") }
    }

    /// Calls `body` for every element of an array (the reader is on the element's first byte).
    mutating func forEachElement(_ body: (inout JSONReader) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        if peek() == UInt8(ascii: "]") { position += 1; return }
        while true {
            try body(&self)
            let c = peek()
            position += 1
            if c == UInt8(ascii: ",") {
                if peek() == UInt8(ascii: "]") { throw error("trailing comma before ']'") }
                continue
            }
            if c == UInt8(ascii: "]") { return }
            position -= 1
            throw error("expected ',' or ']' in an array but found \(describeNext())")
        }
    }

    /// Calls `body` with every key of an object; `body` must consume the value (or call `skipValue`).
    mutating func forEachMember(_ body: (inout JSONReader, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if peek() == UInt8(ascii: "}") { position += 1; return }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a key string but found \(describeNext())") }
            let key = try readString()
            try expect(UInt8(ascii: ":"))
            try body(&self, key)
            let c = peek()
            position += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { return }
            position -= 1
            throw error("expected ',' or '}' in an object but found \(describeNext())")
        }
    }

    /// Whether the next value is `null` (consumed if so).
    mutating func consumeNull() throws -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        try readLiteral("null")
        return true
    }

    /// Consumes the literal `word` (`true`, `false`, `null`).
    mutating func readLiteral(_ word: StaticString) throws {
        let bytes = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for (i, b) in bytes.enumerated() where position + i >= count || base[position + i] != b {
            throw error("invalid literal (expected \(word))")
        }
        position += bytes.count
    }

    /// Skips one value of any kind, checking its grammar.
    mutating func skipValue() throws {
        switch peek() {
        case UInt8(ascii: "{"): try forEachMember { reader, _ in try reader.skipValue() }
        case UInt8(ascii: "["): try forEachElement { reader in try reader.skipValue() }
        case UInt8(ascii: "\""): _ = try readString()
        case UInt8(ascii: "t"): try readLiteral("true")
        case UInt8(ascii: "f"): try readLiteral("false")
        case UInt8(ascii: "n"): try readLiteral("null")
        default: _ = try readDouble()
        }
    }

    /// A JSON truth value read the way Python tests it: `true`/`false`, `null` (false), or a number (non-zero).
    mutating func readFlag() throws -> Bool {
        switch peek() {
        case UInt8(ascii: "t"): try readLiteral("true"); return true
        case UInt8(ascii: "f"): try readLiteral("false"); return false
        case UInt8(ascii: "n"): try readLiteral("null"); return false
        default: return try readDouble() != 0
        }
    }

    /// A number that must be integral (ids); `what` names the field in the error.
    mutating func readInteger(_ what: @autoclosure () -> String) throws -> Int {
        let start = position
        let value = try readDouble()
        guard value == value.rounded(), abs(value) < 9.0e15 else {
            position = start
            throw error("\(what()) must be an integer, found \(value)")
        }
        return Int(value)
    }
}

extension JSONReader {
    /// Reads any value as Foundation-style objects: `[String: Any]`, `[Any]`, `String`, `Bool`, `NSNull`,
    /// `Int` (numbers written without fraction or exponent that fit) or `Double` (correctly rounded, unlike
    /// `JSONSerialization` on Linux, which can be one unit in the last place off).
    mutating func readAny() throws -> Any {
        switch peek() {
        case UInt8(ascii: "{"):
            var object: [String: Any] = [:]
            try forEachMember { reader, key in object[key] = try reader.readAny() }
            return object
        case UInt8(ascii: "["):
            var array: [Any] = []
            try forEachElement { array.append(try $0.readAny()) }
            return array
        case UInt8(ascii: "\""): return try readString()
        case UInt8(ascii: "t"): try readLiteral("true"); return true
        case UInt8(ascii: "f"): try readLiteral("false"); return false
        case UInt8(ascii: "n"): try readLiteral("null"); return NSNull()
        default:
            let start = position
            let value = try readDouble()
            let isInteger = (start..<position).allSatisfy {
                base[$0] != UInt8(ascii: ".") && base[$0] != UInt8(ascii: "e") && base[$0] != UInt8(ascii: "E")
            }
            return isInteger && abs(value) < 9.0e15 ? Int(value) as Any : value as Any
        }
    }

    /// Parses a whole JSON file with `readAny()`.
    static func parse(contentsOf url: URL) throws -> Any {
        try withContents(of: url) { reader in
            let value = try reader.readAny()
            try reader.expectEnd()
            return value
        }
    }
}
