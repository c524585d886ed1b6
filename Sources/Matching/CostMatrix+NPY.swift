import Foundation

extension CostMatrix {
    /// Parses a NumPy `.npy` file (format versions 1–3): a 2-D array of `float64` or `float32` in either
    /// byte order, C or Fortran order. See numpy's `lib.format` documentation for the layout: magic
    /// `\x93NUMPY`, version, header length (2 bytes in v1, 4 after), a Python-literal header dict, the data.
    static func parseNPY(_ data: Data) throws -> CostMatrix {
        let bytes = [UInt8](data)
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw MatchingError.malformedMatrix("not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw MatchingError.malformedMatrix(".npy header is truncated") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        guard bytes.count >= headerStart + headerLength else {
            throw MatchingError.malformedMatrix(".npy header is truncated")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let descr = try headerValue(header, key: "descr").trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        let fortran = try headerValue(header, key: "fortran_order").trimmingCharacters(in: .whitespaces) == "True"
        let shapeText = try headerValue(header, key: "shape")
        let shape = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard shape.count == 2 else {
            throw MatchingError.malformedMatrix(".npy array has shape \(shapeText); a cost matrix must be 2-D")
        }
        let (rows, cols) = (shape[0], shape[1])
        let width: Int
        switch descr.dropFirst() {
        case "f8": width = 8
        case "f4": width = 4
        default:
            throw MatchingError.malformedMatrix(".npy dtype '\(descr)' is not supported; use float64 or float32")
        }
        let bigEndian = descr.first == ">"
        let start = headerStart + headerLength
        let product = rows.multipliedReportingOverflow(by: cols), size = product.partialValue.multipliedReportingOverflow(by: width)
        guard rows >= 0, cols >= 0, !product.overflow, !size.overflow else {
            throw MatchingError.malformedMatrix(".npy array has shape \(shapeText), which no file can hold")
        }
        let count = product.partialValue
        guard bytes.count - start >= count * width else {
            throw MatchingError.malformedMatrix(".npy data holds \(bytes.count - start) bytes, "
                + "\(count * width) expected for \(rows)×\(cols) \(descr)")
        }
        var values = [Double](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let p = raw.baseAddress! + start
            for k in 0..<count {
                let x: Double
                if width == 8 {
                    var bits = p.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self)
                    bits = bigEndian ? UInt64(bigEndian: bits) : UInt64(littleEndian: bits)
                    x = Double(bitPattern: bits)
                } else {
                    var bits = p.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self)
                    bits = bigEndian ? UInt32(bigEndian: bits) : UInt32(littleEndian: bits)
                    x = Double(Float(bitPattern: bits))
                }
                // Fortran order stores columns contiguously.
                let index = fortran ? (k % rows) * cols + k / rows : k
                values[index] = x
            }
        }
        return CostMatrix(rows: rows, columns: cols, values: values)
    }

    /// The text after `'key':` in a .npy header dict, up to the next top-level comma or closing brace.
    private static func headerValue(_ header: String, key: String) throws -> String {
        guard let r = header.range(of: "'\(key)':") ?? header.range(of: "\"\(key)\":") else {
            throw MatchingError.malformedMatrix(".npy header lacks '\(key)': \(header)")
        }
        var depth = 0
        var out = ""
        for ch in header[r.upperBound...] {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if depth == 0 && (ch == "," || ch == "}") { break }
            out.append(ch)
        }
        return out.trimmingCharacters(in: .whitespaces)
    }
}
