import Foundation

/// A place in a JSON text: 1-based line and column (columns count bytes).
public struct JSONTextPosition: Equatable, Sendable, CustomStringConvertible {
    /// The line, from 1.
    public var line: Int
    /// The column, from 1, in bytes.
    public var column: Int

    /// A position from its line and column.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `line L, column C`.
    public var description: String { "line \(line), column \(column)" }
}

/// A JSON value found where a value of another kind was expected.
public struct COCOFoundValue: Equatable, Sendable {
    /// The value's JSON text as written, cut to `COCOFoundValue.maxTextLength` bytes (then ending in "…").
    public var text: String
    /// Where the value starts.
    public var position: JSONTextPosition

    /// How much of a found value's text is kept.
    public static let maxTextLength = 80

    /// A found value from its text and position.
    public init(text: String, position: JSONTextPosition) {
        self.text = text
        self.position = position
    }

    /// Whether the value is JSON `null`.
    public var isNull: Bool { text == "null" }
}

/// One field of an entry in a COCO file, as the file has it.
public enum COCOField<Value: Sendable>: Sendable {
    /// The entry has no such key.
    case absent
    /// The key holds a value of the expected kind.
    case present(Value)
    /// The key holds a value of another kind, or a number with a fraction where an integer is expected.
    indirect case mistyped(COCOFoundValue)

    /// The value when present, nil when absent or mistyped.
    public var value: Value? {
        if case let .present(value) = self { return value }
        return nil
    }
}

/// A COCO ground-truth file (`images`, `categories`, `annotations`) read in one pass, every field as found.
///
/// This is the one COCO JSON reader of the package: `COCOGroundTruth(contentsOf:)` (evaluation, pycocotools'
/// rules) and Datasets' `COCOFormat.load` (training data, its own validation) both start from it and apply
/// their own requirements, so it throws only for what no caller can read: an unreadable file, text that is not
/// JSON (with line and column), or a top level that is not an object.
///
/// Kinds, as Python's `json` and pycocotools see them (`true` and `false` are the integers 1 and 0):
/// integer fields (`id`, `image_id`, `category_id`, `width`, `height`) hold a number without fraction below
/// 9·10¹⁵ or a boolean; `area` a number or boolean; `bbox` an array of exactly 4 numbers or booleans (not
/// checked for finiteness); `iscrowd` and `ignore` a number (non-zero is true), boolean or `null` (false);
/// `file_name` and `name` a string; LVIS's `not_exhaustive_category_ids` and `neg_category_ids` arrays of integers.
/// Anything else is `.mistyped` with its text and position. A key that appears
/// twice keeps its last value; other keys (`info`, `segmentation`, …) are skipped, their grammar checked.
///
/// What strict JSON forbids but `JSONSerialization` reads is let through and listed in `irregularities`:
/// a comma before a closing bracket, a string that is not UTF-8, an unpaired `\u` surrogate escape (the last two
/// decoded with U+FFFD). A UTF-8 byte order mark is skipped; UTF-16 and UTF-32 text is converted first.
public struct COCOGroundTruthFile: Sendable {
    /// One entry of `images`.
    public struct Image: Sendable {
        /// `id`.
        public var id: COCOField<Int> = .absent
        /// `file_name`.
        public var fileName: COCOField<String> = .absent
        /// `width`.
        public var width: COCOField<Int> = .absent
        /// `height`.
        public var height: COCOField<Int> = .absent
        /// LVIS's `not_exhaustive_category_ids`: categories whose objects in this image are not all boxed.
        public var notExhaustiveCategoryIDs: COCOField<[Int]> = .absent
        /// LVIS's `neg_category_ids`: categories checked and absent from this image.
        public var negativeCategoryIDs: COCOField<[Int]> = .absent
    }

    /// One entry of `categories`.
    public struct Category: Sendable {
        /// `id`.
        public var id: COCOField<Int> = .absent
        /// `name`.
        public var name: COCOField<String> = .absent
    }

    /// One entry of `annotations`.
    public struct Annotation: Sendable {
        /// `id`.
        public var id: COCOField<Int> = .absent
        /// `image_id`.
        public var imageID: COCOField<Int> = .absent
        /// `category_id`.
        public var categoryID: COCOField<Int> = .absent
        /// `bbox`, `[x, y, width, height]`.
        public var bbox: COCOField<COCOBox> = .absent
        /// `area`.
        public var area: COCOField<Double> = .absent
        /// `iscrowd`.
        public var isCrowd: COCOField<Bool> = .absent
        /// `ignore`.
        public var ignore: COCOField<Bool> = .absent
    }

    /// A departure from strict JSON that the reader let through (the first of each kind).
    public struct Irregularity: Equatable, Sendable {
        /// What the departure is.
        public enum Kind: Equatable, Sendable {
            /// A comma before `]` or `}`.
            case trailingComma
            /// A string whose bytes are not valid UTF-8.
            case invalidUTF8
            /// A `\u` escape of a UTF-16 surrogate without its partner.
            case unpairedSurrogate
        }

        /// What the departure is.
        public var kind: Kind
        /// Where it is (the bracket, the string's opening quote, the escape).
        public var position: JSONTextPosition
        /// A phrase for an error message, e.g. "trailing comma before ']'".
        public var reason: String
    }

    /// The file's path, for error messages.
    public var source: String
    /// `images`: `.mistyped` when it is not an array, or holds something other than an object (that element).
    public var images: COCOField<[Image]> = .absent
    /// `categories`, as `images`.
    public var categories: COCOField<[Category]> = .absent
    /// `annotations`, as `images`.
    public var annotations: COCOField<[Annotation]> = .absent
    /// Departures from strict JSON, in file order (at most one of each kind).
    public var irregularities: [Irregularity] = []

    /// Reads `url`.
    ///
    /// Throws `EvaluationError.unreadable`, `.malformedJSON` (text that is not JSON, with line and column) or
    /// `.invalidFormat` (only when the top level is not an object).
    public init(contentsOf url: URL) throws {
        self = try JSONReader.withContents(of: url) { reader in
            var contents = COCOGroundTruthFile(source: url.path)
            reader.allowsTrailingCommas = true
            guard reader.peek() == UInt8(ascii: "{") else {
                throw EvaluationError.invalidFormat(file: url.path, reason: "the top level must be an object")
            }
            try reader.forEachMember { reader, key in
                switch key {
                case "images": contents.images = try reader.readObjectArrayField(Self.readImage)
                case "categories": contents.categories = try reader.readObjectArrayField(Self.readCategory)
                case "annotations": contents.annotations = try reader.readObjectArrayField(Self.readAnnotation)
                default: try reader.skipValue()
                }
            }
            try reader.expectEnd()
            contents.irregularities = Self.irregularities(of: reader)
            return contents
        }
    }

    private init(source: String) {
        self.source = source
    }

    private static func readImage(_ reader: inout JSONReader) throws -> Image {
        var image = Image()
        try reader.forEachMember { reader, key in
            switch key {
            case "id": image.id = try reader.readIntegerField()
            case "file_name": image.fileName = try reader.readStringField()
            case "width": image.width = try reader.readIntegerField()
            case "height": image.height = try reader.readIntegerField()
            case "not_exhaustive_category_ids": image.notExhaustiveCategoryIDs = try reader.readIntegerArrayField()
            case "neg_category_ids": image.negativeCategoryIDs = try reader.readIntegerArrayField()
            default: try reader.skipValue()
            }
        }
        return image
    }

    private static func readCategory(_ reader: inout JSONReader) throws -> Category {
        var category = Category()
        try reader.forEachMember { reader, key in
            switch key {
            case "id": category.id = try reader.readIntegerField()
            case "name": category.name = try reader.readStringField()
            default: try reader.skipValue()
            }
        }
        return category
    }

    private static func readAnnotation(_ reader: inout JSONReader) throws -> Annotation {
        var annotation = Annotation()
        try reader.forEachMember { reader, key in
            switch key {
            case "id": annotation.id = try reader.readIntegerField()
            case "image_id": annotation.imageID = try reader.readIntegerField()
            case "category_id": annotation.categoryID = try reader.readIntegerField()
            case "bbox": annotation.bbox = try reader.readBoxField()
            case "area": annotation.area = try reader.readNumberField()
            case "iscrowd": annotation.isCrowd = try reader.readFlagField()
            case "ignore": annotation.ignore = try reader.readFlagField()
            default: try reader.skipValue()
            }
        }
        return annotation
    }

    private static func irregularities(of reader: JSONReader) -> [Irregularity] {
        var found: [(Int, Irregularity.Kind, String)] = []
        if let (offset, bracket) = reader.firstTrailingComma {
            found.append((offset, .trailingComma, "trailing comma before '\(Character(UnicodeScalar(bracket)))'"))
        }
        if let offset = reader.firstInvalidUTF8 {
            found.append((offset, .invalidUTF8, "a string holds bytes that are not valid UTF-8"))
        }
        if let offset = reader.firstUnpairedSurrogate {
            found.append((offset, .unpairedSurrogate, "a \\u escape holds a UTF-16 surrogate without its partner"))
        }
        return found.sorted { $0.0 < $1.0 }.map { offset, kind, reason in
            let (line, column) = reader.lineColumn(of: offset)
            return Irregularity(kind: kind, position: JSONTextPosition(line: line, column: column), reason: reason)
        }
    }
}
