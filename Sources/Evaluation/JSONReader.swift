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
///
/// Two departures from strict JSON are let through and noted rather than thrown, so that each caller can
/// decide: a string that is not valid UTF-8 or holds an unpaired `\u` surrogate escape is decoded with U+FFFD
/// (`firstInvalidUTF8`, `firstUnpairedSurrogate`), and, when `allowsTrailingCommas` is set, a comma before a
/// closing bracket (`firstTrailingComma`).
struct JSONReader {
    /// The JSON text; `base[count] == 0`.
    let base: UnsafePointer<UInt8>
    /// Number of bytes of JSON text.
    let count: Int
    /// Name used in error messages (usually the file path).
    let file: String
    /// Offset of the next unread byte.
    var position = 0
    /// Arrays and objects open at `position`.
    private var depth = 0
    /// Whether a comma may stand before `]` or `}` (`JSONSerialization` accepts it, Python's `json` does not).
    var allowsTrailingCommas = false
    /// Offset of the first `]` or `}` after a trailing comma, and which bracket it is (`allowsTrailingCommas`).
    private(set) var firstTrailingComma: (offset: Int, bracket: UInt8)?
    /// Offset of the first string (its opening quote) whose bytes are not valid UTF-8.
    private(set) var firstInvalidUTF8: Int?
    /// Offset of the first `\u` escape of a UTF-16 surrogate without its partner.
    private(set) var firstUnpairedSurrogate: Int?
    /// The last offset converted to a line and column, so that converting increasing offsets stays linear.
    private var lineMark = (offset: 0, line: 1, column: 1)

    /// Creates a reader over `count` bytes at `base` (followed by a 0 byte), naming `file` in errors.
    init(base: UnsafePointer<UInt8>, count: Int, file: String) {
        self.base = base
        self.count = count
        self.file = file
    }

    /// Reads the whole file and runs `body` on a reader positioned at its start.
    ///
    /// The text is read as `JSONSerialization` reads it: UTF-8, with a leading byte order mark skipped; UTF-16
    /// and UTF-32 (with a byte order mark, or recognised by the zero bytes of an ASCII start, RFC 4627 §3) are
    /// converted to UTF-8 first, so lines and columns then count UTF-8 bytes of the converted text.
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
        var bytes = [UInt8](unsafeUninitializedCapacity: size + 1) { buffer, initialized in
            initialized = fread(buffer.baseAddress, 1, size, handle)
            buffer[initialized] = 0
            initialized += 1
        }
        guard bytes.count == size + 1 else {
            throw EvaluationError.unreadable(file: url.path, reason: "short read")
        }
        if let (encoding, name, markLength) = foreignEncoding(of: bytes, count: size) {
            guard let text = String(bytes: bytes[markLength..<size], encoding: encoding) else {
                throw EvaluationError.unreadable(file: url.path, reason: "the text looks like \(name) but is not valid \(name)")
            }
            bytes = Array(text.utf8)
            bytes.append(0)
        }
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        return try bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(base: buffer.baseAddress! + start, count: buffer.count - 1 - start, file: url.path)
            return try body(&reader)
        }
    }

    /// The UTF-16 or UTF-32 encoding of `bytes` (its name for messages) and the length of its byte order mark;
    /// nil for UTF-8.
    private static func foreignEncoding(of bytes: [UInt8], count: Int) -> (String.Encoding, String, Int)? {
        let b = (0..<4).map { $0 < count ? bytes[$0] : 0xAA }
        switch (b[0], b[1], b[2], b[3]) {
        case (0x00, 0x00, 0xFE, 0xFF): return (.utf32BigEndian, "UTF-32BE", 4)
        case (0xFF, 0xFE, 0x00, 0x00): return (.utf32LittleEndian, "UTF-32LE", 4)
        case (0xFE, 0xFF, _, _): return (.utf16BigEndian, "UTF-16BE", 2)
        case (0xFF, 0xFE, _, _): return (.utf16LittleEndian, "UTF-16LE", 2)
        case (0x00, 0x00, 0x00, _) where count >= 4: return (.utf32BigEndian, "UTF-32BE", 0)
        case (_, 0x00, 0x00, 0x00) where count >= 4: return (.utf32LittleEndian, "UTF-32LE", 0)
        case (0x00, _, _, _) where count >= 2: return (.utf16BigEndian, "UTF-16BE", 0)
        case (_, 0x00, _, _) where count >= 2: return (.utf16LittleEndian, "UTF-16LE", 0)
        default: return nil
        }
    }

    /// The 1-based line and column (counting bytes) of `offset`.
    func lineColumn(of offset: Int) -> (line: Int, column: Int) {
        var (line, column) = (1, 1)
        var from = 0
        if lineMark.offset <= offset { (from, line, column) = lineMark }
        for i in from..<min(offset, count) {
            if base[i] == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    /// `lineColumn(of:)`, remembering the answer so that the next, later offset is counted from there.
    mutating func markLineColumn(of offset: Int) -> (line: Int, column: Int) {
        let (line, column) = lineColumn(of: offset)
        lineMark = (min(offset, count), line, column)
        return (line, column)
    }

    /// The error for the current position, with a 1-based line and column.
    func error(_ reason: String) -> EvaluationError {
        let (line, column) = lineColumn(of: position)
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

    /// Deepest nesting of arrays and objects accepted: 512 (Python's `json` stops near 1000 at its recursion
    /// limit; deeper input would overflow the stack of this recursive reader).
    static let maxDepth = 512
    /// Longest string accepted, in bytes as written: 1 MiB (file and class names; COCO's RLE counts of a
    /// 8192² mask stay far below it).
    static let maxStringBytes = 1 << 20

    /// Enters an array or object; throws past `maxDepth`.
    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("arrays and objects nested deeper than \(Self.maxDepth) levels (the limit)") }
    }

    /// Calls `body` for every element of an array (the reader is on the element's first byte).
    mutating func forEachElement(_ body: (inout JSONReader) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        try enter()
        defer { depth -= 1 }
        if peek() == UInt8(ascii: "]") { position += 1; return }
        while true {
            try body(&self)
            let c = peek()
            position += 1
            if c == UInt8(ascii: ",") {
                if peek() == UInt8(ascii: "]") {
                    try trailingComma()
                    return
                }
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
        try enter()
        defer { depth -= 1 }
        if peek() == UInt8(ascii: "}") { position += 1; return }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a key string but found \(describeNext())") }
            let key = try readString()
            try expect(UInt8(ascii: ":"))
            try body(&self, key)
            let c = peek()
            position += 1
            if c == UInt8(ascii: ",") {
                if allowsTrailingCommas, peek() == UInt8(ascii: "}") {
                    try trailingComma()
                    return
                }
                continue
            }
            if c == UInt8(ascii: "}") { return }
            position -= 1
            throw error("expected ',' or '}' in an object but found \(describeNext())")
        }
    }

    /// At a `]` or `}` after a comma: throws unless `allowsTrailingCommas`, else notes it and consumes it.
    private mutating func trailingComma() throws {
        guard allowsTrailingCommas else { throw error("trailing comma before ']'") }
        if firstTrailingComma == nil { firstTrailingComma = (position, base[position]) }
        position += 1
    }

    /// Notes a string (opening quote at `offset`) that is not valid UTF-8.
    mutating func noteInvalidUTF8(at offset: Int) {
        if firstInvalidUTF8 == nil { firstInvalidUTF8 = offset }
    }

    /// Notes a `\u` escape at `offset` of a surrogate without its partner.
    mutating func noteUnpairedSurrogate(at offset: Int) {
        if firstUnpairedSurrogate == nil { firstUnpairedSurrogate = offset }
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
