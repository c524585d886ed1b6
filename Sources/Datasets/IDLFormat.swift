import Boxes
import Foundation

/// The ReInspect / Brainwash `.idl` annotation format (also TensorBox's annotation library):
///
///     "path/img.png": (x1, y1, x2, y2):0.9/3, (x1, y1, x2, y2);
///     "path/empty.png";
///     "path/last.png": (x1, y1, x2, y2).
///
/// One image a line; boxes are corner pixels; after a box an optional `:score` and `/id` (track id) are read and
/// discarded; a bare path (optionally followed by `:`) is an image without boxes; the last line may end with `.`
/// instead of `;`. Paths are relative to the `.idl` file's folder (or `imageDirectory`). All boxes get one class.
public enum IDLFormat {
    /// Reads an `.idl` file. Image sizes come from the image headers (PNG or JPEG). Errors name the file, line and column.
    /// A box with `x2 < x1` or `y2 < y1` is an error (a negative size), as are paths leaving the root.
    public static func load(_ url: URL, imageDirectory: URL? = nil, className: String = "object",
                            options: ValidationOptions = ValidationOptions()) throws -> DetectionDataset {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw DatasetError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        let root = imageDirectory ?? url.deletingLastPathComponent()
        let resolver = ImagePathResolver(bases: [root], roots: [root], sourceName: url.path)
        var images: [ImageRecord] = []
        var missing = OffenderList()
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let (path, boxes) = try parseLine(line, file: url.path, lineNumber: n + 1)
            let (file, exists) = try resolver.resolve(path)
            var width = 0, height = 0
            if exists {
                (width, height) = try ImageHeader.size(of: file)
            } else {
                missing.add("\(path) (line \(n + 1))")
                (width, height) = try sizeFromBoxes(boxes, file: url.path, image: path, lineNumber: n + 1)
            }
            images.append(ImageRecord(id: images.count + 1, file: file, fileName: path, width: width, height: height,
                                      annotations: boxes.map { Annotation(box: $0, classIndex: 0) }))
        }
        if options.requireImageFiles && missing.count > 0 {
            throw DatasetError.missingImages(file: url.path, count: missing.count, offenders: missing.first,
                                             searched: [root.path])
        }
        try DatasetLimits.check(images, file: url.path)
        var report = ValidationReport()
        Validator.clean(&images, options: options, report: &report)
        return DetectionDataset(root: root, source: url, images: images,
                                categories: [Category(id: 1, name: className)], report: report)
    }

    /// The size of an image that is not on disk, as far as its boxes reach: `⌈max x2⌉ × ⌈max y2⌉`, at least 1 × 1.
    /// A reach beyond `DatasetLimits.maxPixels` is `DatasetError.limitExceeded` (checked in `Double`, before any
    /// conversion to `Int`: a corner at 1e40 would trap there).
    static func sizeFromBoxes(_ boxes: [Box], file: String, image: String, lineNumber: Int) throws -> (Int, Int) {
        let w = max(1, boxes.map(\.x2).max() ?? 1).rounded(.up), h = max(1, boxes.map(\.y2).max() ?? 1).rounded(.up)
        guard w * h <= Double(DatasetLimits.maxPixels) else {
            throw DatasetError.limitExceeded(file: file, what: "pixels per image",
                                             found: "\(image) (line \(lineNumber), not found) has boxes reaching \(w)×\(h)",
                                             limit: DatasetLimits.maxPixels)
        }
        return (Int(w), Int(h))
    }

    /// Parses one non-empty line into its image path and boxes.
    static func parseLine(_ line: String, file: String, lineNumber: Int) throws -> (String, [Box]) {
        var scanner = LineScanner(chars: Array(line.unicodeScalars), file: file, line: lineNumber, text: line)
        try scanner.expect("\"", "expected a quoted image path")
        let path = scanner.take { $0 != "\"" }
        try scanner.expect("\"", "unterminated image path (missing closing quote)")
        guard !path.isEmpty else { throw scanner.error("empty image path") }
        scanner.skipSpace()
        if scanner.peek == ":" { scanner.advance(); scanner.skipSpace() }
        var boxes: [Box] = []
        while scanner.peek == "(" {
            scanner.advance()
            var v: [Double] = []
            for k in 0..<4 {
                scanner.skipSpace()
                v.append(try scanner.number("box coordinate \(k + 1) of 4"))
                scanner.skipSpace()
                if k < 3 { try scanner.expect(",", "expected ',' between box coordinates") }
            }
            try scanner.expect(")", "expected ')' after 4 box coordinates")
            guard v[2] >= v[0], v[3] >= v[1] else {
                throw scanner.error("box (\(v.map { "\($0)" }.joined(separator: ", "))) has x2 < x1 or y2 < y1 (negative size)")
            }
            boxes.append(Box(x1: v[0], y1: v[1], x2: v[2], y2: v[3]))
            scanner.skipSpace()
            if scanner.peek == ":" { scanner.advance(); scanner.skipSpace(); _ = try scanner.number("box score") }
            scanner.skipSpace()
            if scanner.peek == "/" { scanner.advance(); scanner.skipSpace(); _ = try scanner.number("box id") }
            scanner.skipSpace()
            if scanner.peek == "," { scanner.advance(); scanner.skipSpace() } else { break }
        }
        scanner.skipSpace()
        guard let end = scanner.peek, end == ";" || end == "." else {
            throw scanner.error(scanner.peek == nil ? "missing ';' (or '.' on the last line) at the end"
                                                    : "expected '(' for a box, ',' or the closing ';'")
        }
        scanner.advance()
        scanner.skipSpace()
        guard scanner.peek == nil else { throw scanner.error("unexpected text after the closing '\(end)'") }
        return (path, boxes)
    }
}

/// A cursor over one line of text with errors that name the file, line and column.
struct LineScanner {
    let chars: [Unicode.Scalar]
    let file: String
    let line: Int
    let text: String
    var position = 0

    var peek: Unicode.Scalar? { position < chars.count ? chars[position] : nil }

    mutating func advance() { position += 1 }

    mutating func skipSpace() {
        while let c = peek, c == " " || c == "\t" || c == "\r" { position += 1 }
    }

    mutating func expect(_ c: Unicode.Scalar, _ message: String) throws {
        guard peek == c else { throw error(message) }
        position += 1
    }

    mutating func take(while keep: (Unicode.Scalar) -> Bool) -> String {
        var s = String.UnicodeScalarView()
        while let c = peek, keep(c) { s.append(c); position += 1 }
        return String(s)
    }

    /// A decimal number (sign, digits, fraction, exponent).
    mutating func number(_ what: String) throws -> Double {
        let start = position
        var token = take { ("0"..."9").contains($0) || $0 == "." || $0 == "-" || $0 == "+" || $0 == "e" || $0 == "E" }
        if Double(token) == nil, token.count > 1, token.hasSuffix(".") {
            // "…:0.9." on the last line: the final '.' closes the line.
            token.removeLast()
            position -= 1
        }
        guard let v = Double(token), v.isFinite else {
            position = start
            throw error("expected a number for the \(what)")
        }
        return v
    }

    func error(_ reason: String) -> DatasetError {
        .badLine(file: file, line: line, column: position + 1, text: text, reason: reason)
    }
}
