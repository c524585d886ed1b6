import Foundation

// The field readers of `COCOGroundTruthFile`: each reads one value of a COCO entry as the file has it, `.present`
// when it is of the expected kind, `.mistyped` with its text and position otherwise.

extension JSONReader {
    /// Skips the next value and returns its text and position.
    mutating func skipFoundValue() throws -> COCOFoundValue {
        skipWhitespace()
        let start = position
        try skipValue()
        let length = min(position - start, COCOFoundValue.maxTextLength)
        var text = String(decoding: UnsafeBufferPointer(start: base + start, count: length), as: UTF8.self)
        if length < position - start { text += "…" }
        let (line, column) = markLineColumn(of: start)
        return COCOFoundValue(text: text, position: JSONTextPosition(line: line, column: column))
    }

    /// Whether the next value is a number (it starts with `-` or a digit).
    @inline(__always)
    mutating func nextIsNumber() -> Bool {
        let c = peek()
        return c == UInt8(ascii: "-") || (c &- UInt8(ascii: "0")) < 10
    }

    /// A number, or a boolean as 1 or 0; nil (nothing consumed) for any other value.
    @inline(__always)
    private mutating func readNumberOrBoolean() throws -> Double? {
        if nextIsNumber() { return try readDouble() }
        switch peek() {
        case UInt8(ascii: "t"): try readLiteral("true"); return 1
        case UInt8(ascii: "f"): try readLiteral("false"); return 0
        default: return nil
        }
    }

    /// An integer field: a number without fraction (|value| < 9·10¹⁵) or a boolean.
    mutating func readIntegerField() throws -> COCOField<Int> {
        skipWhitespace()
        let start = position
        if let value = try readNumberOrBoolean(), value == value.rounded(), abs(value) < 9.0e15 {
            return .present(Int(value))
        }
        position = start
        return .mistyped(try skipFoundValue())
    }

    /// An array of integer fields; `.mistyped` with the value when it is not an array or holds anything else.
    mutating func readIntegerArrayField() throws -> COCOField<[Int]> {
        skipWhitespace()
        let start = position
        guard peek() == UInt8(ascii: "[") else { return .mistyped(try skipFoundValue()) }
        var values: [Int] = [], allIntegers = true
        try forEachElement { reader in
            if case let .present(v) = try reader.readIntegerField() { values.append(v) } else { allIntegers = false }
        }
        if allIntegers { return .present(values) }
        position = start
        return .mistyped(try skipFoundValue())
    }

    /// A number field (a boolean counts as 1 or 0).
    mutating func readNumberField() throws -> COCOField<Double> {
        if let value = try readNumberOrBoolean() { return .present(value) }
        return .mistyped(try skipFoundValue())
    }

    /// A truth value the way Python tests it: a boolean, `null` (false) or a number (non-zero).
    mutating func readFlagField() throws -> COCOField<Bool> {
        if peek() == UInt8(ascii: "n") {
            try readLiteral("null")
            return .present(false)
        }
        if let value = try readNumberOrBoolean() { return .present(value != 0) }
        return .mistyped(try skipFoundValue())
    }

    /// A string field.
    mutating func readStringField() throws -> COCOField<String> {
        guard peek() == UInt8(ascii: "\"") else { return .mistyped(try skipFoundValue()) }
        return .present(try readString())
    }

    /// `[x, y, width, height]`: exactly four numbers (or booleans).
    mutating func readBoxField() throws -> COCOField<COCOBox> {
        skipWhitespace()
        let start = position
        if base[position] == UInt8(ascii: "[") {
            let (box, count, allNumbers) = try readBoxArray { try $0.readNumberOrBoolean() }
            if allNumbers, count == 4 { return .present(box) }
            position = start
        }
        return .mistyped(try skipFoundValue())
    }

    /// Reads an array as a box from its first four elements that `number` reads (it returns nil, consuming
    /// nothing, for an element of another kind, which is skipped); also gives the number of elements and whether
    /// `number` read all of them.
    mutating func readBoxArray(_ number: (inout JSONReader) throws -> Double?) throws
        -> (box: COCOBox, count: Int, allNumbers: Bool) {
        var values = (0.0, 0.0, 0.0, 0.0)
        var n = 0
        var allNumbers = true
        try forEachElement { reader in
            guard let v = try number(&reader) else {
                allNumbers = false
                try reader.skipValue()
                n += 1
                return
            }
            switch n {
            case 0: values.0 = v
            case 1: values.1 = v
            case 2: values.2 = v
            case 3: values.3 = v
            default: break
            }
            n += 1
        }
        return (COCOBox(x: values.0, y: values.1, width: values.2, height: values.3), n, allNumbers)
    }

    /// An array of objects, each read by `element`; `.mistyped` with the first element that is not an object
    /// (the rest is skipped), or with the value when it is not an array.
    mutating func readObjectArrayField<T>(_ element: (inout JSONReader) throws -> T) throws -> COCOField<[T]> {
        guard peek() == UInt8(ascii: "[") else { return .mistyped(try skipFoundValue()) }
        var items: [T] = []
        var stray: COCOFoundValue?
        try forEachElement { reader in
            if stray != nil {
                try reader.skipValue()
            } else if reader.peek() == UInt8(ascii: "{") {
                items.append(try element(&reader))
            } else {
                stray = try reader.skipFoundValue()
            }
        }
        if let stray { return .mistyped(stray) }
        return .present(items)
    }
}
