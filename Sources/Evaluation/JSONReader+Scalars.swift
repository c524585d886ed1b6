import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exact powers of ten 10⁰ … 10²² (all representable in a `Double`).
private let exactPowersOfTen: [Double] = (0...22).map { e in
    var p = 1.0
    for _ in 0..<e { p *= 10 }
    return p
}

extension JSONReader {
    /// Reads a JSON number as the nearest `Double` (what Python's `float()` of the same text gives).
    ///
    /// Grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. Mantissas of up to 19 significant
    /// digits with a decimal exponent in −22…22 take Clinger's fast path (one correctly rounded `*` or `/`);
    /// everything else goes through `strtod`, which glibc rounds correctly.
    mutating func readDouble() throws -> Double {
        skipWhitespace()
        let start = position
        var p = position
        var negative = false
        if base[p] == UInt8(ascii: "-") { negative = true; p += 1 }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent10 = 0
        @inline(__always) func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }
        let first = base[p]
        guard isDigit(first) else {
            throw error("expected a number but found \(describeNext())")
        }
        if first == UInt8(ascii: "0") {
            p += 1
        } else {
            while isDigit(base[p]) {
                if significant < 19 {
                    mantissa = mantissa * 10 + UInt64(base[p] - UInt8(ascii: "0"))
                    if mantissa != 0 { significant += 1 }
                } else {
                    significant += 1
                }
                p += 1
            }
        }
        if base[p] == UInt8(ascii: ".") {
            p += 1
            guard isDigit(base[p]) else { position = p; throw error("expected a digit after '.'") }
            while isDigit(base[p]) {
                if significant < 19 {
                    mantissa = mantissa * 10 + UInt64(base[p] - UInt8(ascii: "0"))
                    if mantissa != 0 { significant += 1 }
                    exponent10 -= 1
                } else if base[p] != UInt8(ascii: "0") {
                    significant += 1
                }
                p += 1
            }
        }
        if base[p] == UInt8(ascii: "e") || base[p] == UInt8(ascii: "E") {
            p += 1
            var expNegative = false
            if base[p] == UInt8(ascii: "+") || base[p] == UInt8(ascii: "-") {
                expNegative = base[p] == UInt8(ascii: "-")
                p += 1
            }
            guard isDigit(base[p]) else { position = p; throw error("expected a digit in the exponent") }
            var e = 0
            while isDigit(base[p]) {
                if e < 100_000 { e = e * 10 + Int(base[p] - UInt8(ascii: "0")) }
                p += 1
            }
            exponent10 += expNegative ? -e : e
        }
        position = p
        if significant <= 19, mantissa < (1 << 53), abs(exponent10) <= 22 {
            var value = Double(mantissa)
            if exponent10 < 0 {
                value /= exactPowersOfTen[-exponent10]
            } else if exponent10 > 0 {
                value *= exactPowersOfTen[exponent10]
            }
            return negative ? -value : value
        }
        return strtod(UnsafeRawPointer(base + start).assumingMemoryBound(to: CChar.self), nil)
    }

    /// Reads a JSON string, decoding escapes (`\n`, `\"`, `\uXXXX` with surrogate pairs, …).
    ///
    /// Bytes that are not UTF-8 and unpaired surrogate escapes become U+FFFD and are noted
    /// (`firstInvalidUTF8`, `firstUnpairedSurrogate`).
    mutating func readString() throws -> String {
        try expect(UInt8(ascii: "\""))
        let quote = position - 1
        let start = position
        var p = position
        var highBits: UInt8 = 0
        while true {
            let c = base[p]
            if p - start > Self.maxStringBytes { break }
            if c == UInt8(ascii: "\"") {
                position = p + 1
                let raw = UnsafeBufferPointer(start: base + start, count: p - start)
                let text = String(decoding: raw, as: UTF8.self)
                if highBits >= 0x80, !text.utf8.elementsEqual(raw) { noteInvalidUTF8(at: quote) }
                return text
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 {
                position = p
                throw error(p >= count ? "unterminated string" : "control character in a string")
            }
            highBits |= c
            p += 1
        }
        var bytes = [UInt8](UnsafeBufferPointer(start: base + start, count: p - start))
        while true {
            let c = base[p]
            if p - start > Self.maxStringBytes {
                position = quote
                throw error("a string longer than \(Self.maxStringBytes) bytes (the limit)")
            }
            if c == UInt8(ascii: "\"") { position = p + 1; break }
            if c < 0x20 {
                position = p
                throw error(p >= count ? "unterminated string" : "control character in a string")
            }
            guard c == UInt8(ascii: "\\") else { bytes.append(c); p += 1; continue }
            let e = base[p + 1]
            p += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                let escape = p - 2
                position = p
                var scalar = try readHex4()
                p = position
                if (0xD800..<0xDC00).contains(scalar), base[p] == UInt8(ascii: "\\"), base[p + 1] == UInt8(ascii: "u") {
                    position = p + 2
                    let low = try readHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        p = position
                    }
                }
                guard let decoded = UnicodeScalar(scalar) else {
                    noteUnpairedSurrogate(at: escape)
                    bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    continue
                }
                bytes.append(contentsOf: Array(String(Character(decoded)).utf8))
            default:
                position = p - 1
                throw error("invalid escape in a string")
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if !text.utf8.elementsEqual(bytes) { noteInvalidUTF8(at: quote) }
        return text
    }

    /// Four hexadecimal digits of a `\u` escape.
    private mutating func readHex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = base[position]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            v = v * 16 + d
            position += 1
        }
        return v
    }
}
