import Foundation

/// An axis-aligned box in COCO's `[x, y, width, height]` layout (top-left corner and size, in pixels).
public struct COCOBox: Equatable, Sendable {
    /// Left edge.
    public var x: Double
    /// Top edge.
    public var y: Double
    /// Width (may be negative in a results file; see `COCOResults`).
    public var width: Double
    /// Height.
    public var height: Double

    /// A box from its top-left corner and size.
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// `width · height`, the area pycocotools' `loadRes` gives a detection (negative if one side is).
    public var area: Double { width * height }
}

/// One image of a COCO ground-truth file.
public struct COCOImage: Equatable, Sendable {
    /// The image id (`id`).
    public var id: Int
    /// `file_name`, empty when absent.
    public var fileName: String
    /// `width` in pixels, 0 when absent.
    public var width: Int
    /// `height` in pixels, 0 when absent.
    public var height: Int

    /// An image record.
    public init(id: Int, fileName: String = "", width: Int = 0, height: Int = 0) {
        self.id = id
        self.fileName = fileName
        self.width = width
        self.height = height
    }
}

/// One category of a COCO ground-truth file.
public struct COCOCategory: Equatable, Sendable {
    /// The category id (`id`).
    public var id: Int
    /// `name`, empty when absent.
    public var name: String

    /// A category record.
    public init(id: Int, name: String) {
        self.id = id
        self.name = name
    }
}

/// One ground-truth object of a COCO file.
///
/// pycocotools evaluates boxes against `area` (the annotation's field, usually the segment's area, not
/// `width · height`), treats `iscrowd` objects as regions any number of detections may fall into, and —
/// because `COCOeval._prepare` overwrites `ignore` with `iscrowd` — does not use the `ignore` field at all.
/// It is kept here (`ignore`) so callers can see it, and is not used by `COCOEvaluator`.
public struct COCOAnnotation: Equatable, Sendable {
    /// Annotation id (`id`). An id of 0 has a quirk in pycocotools, reproduced here: a detection matched
    /// to it counts as unmatched when precision is accumulated.
    public var id: Int
    /// `image_id`.
    public var imageID: Int
    /// `category_id`.
    public var categoryID: Int
    /// `bbox`.
    public var box: COCOBox
    /// `area`, used for the small / medium / large ranges.
    public var area: Double
    /// `iscrowd` read as a truth value (absent → false).
    public var isCrowd: Bool
    /// `ignore` read as a truth value (absent → false); pycocotools disregards it.
    public var ignore: Bool

    /// An annotation record.
    public init(id: Int, imageID: Int, categoryID: Int, box: COCOBox, area: Double, isCrowd: Bool = false,
                ignore: Bool = false) {
        self.id = id
        self.imageID = imageID
        self.categoryID = categoryID
        self.box = box
        self.area = area
        self.isCrowd = isCrowd
        self.ignore = ignore
    }
}

/// A COCO ground-truth set: images, categories and annotations, as in an `instances_*.json` file.
public struct COCOGroundTruth: Sendable {
    /// Images in file order.
    public var images: [COCOImage]
    /// Categories in file order.
    public var categories: [COCOCategory]
    /// Annotations in file order (their order decides ties between equally good matches, as in pycocotools).
    public var annotations: [COCOAnnotation]
    /// Where the set came from (a path, or a label for in-memory sets); used in error messages.
    public var source: String

    /// A ground-truth set built in memory.
    public init(images: [COCOImage], categories: [COCOCategory], annotations: [COCOAnnotation],
                source: String = "ground truth") {
        self.images = images
        self.categories = categories
        self.annotations = annotations
        self.source = source
    }

    /// Loads a COCO ground-truth JSON file (read by `COCOGroundTruthFile`, then `init(_:)`).
    public init(contentsOf url: URL) throws {
        try self.init(try COCOGroundTruthFile(contentsOf: url))
    }

    /// The ground truth of a file read by `COCOGroundTruthFile`, with pycocotools' requirements.
    ///
    /// Required: `images[].id`; `categories[].id`; `annotations[].id`, `image_id`, `category_id`, `bbox`
    /// (4 numbers) and `area` (pycocotools fails with a `KeyError` without them; this throws naming the file
    /// and the annotation). Absent `images`, `categories` or `annotations` are empty; an absent `file_name` or
    /// `name` is empty (also for a `null` `file_name`), an absent `width` or `height` 0, an absent `iscrowd` or
    /// `ignore` false. A field of the wrong kind throws `EvaluationError.malformedJSON` with its line and column,
    /// as does a trailing comma (Python's `json` rejects it).
    public init(_ file: COCOGroundTruthFile) throws {
        let source = file.source
        if let comma = file.irregularities.first(where: { $0.kind == .trailingComma }) {
            throw EvaluationError.malformedJSON(file: source, line: comma.position.line, column: comma.position.column,
                                                reason: comma.reason)
        }
        func mistyped(_ what: String, _ expected: String, _ found: COCOFoundValue) -> EvaluationError {
            .malformedJSON(file: source, line: found.position.line, column: found.position.column,
                           reason: "\(what) must be \(expected), found \(found.text)")
        }
        func entries<T>(_ field: COCOField<[T]>, _ key: String) throws -> [T] {
            switch field {
            case .absent: return []
            case let .present(entries): return entries
            case let .mistyped(found): throw mistyped("'\(key)'", "an array of objects", found)
            }
        }
        func optional<T>(_ field: COCOField<T>, _ what: @autoclosure () -> String, _ expected: String,
                         default value: T) throws -> T {
            switch field {
            case .absent: return value
            case let .present(v): return v
            case let .mistyped(found): throw mistyped(what(), expected, found)
            }
        }
        func required<T>(_ field: COCOField<T>, _ what: @autoclosure () -> String, _ expected: String) throws -> T? {
            if case let .mistyped(found) = field { throw mistyped(what(), expected, found) }
            return field.value
        }

        let images = try entries(file.images, "images").enumerated().map { i, entry -> COCOImage in
            guard let id = try required(entry.id, "images[\(i)].id", "an integer") else {
                throw EvaluationError.invalidFormat(file: source, reason: "an entry of 'images' has no 'id'")
            }
            var fileName = entry.fileName
            if case let .mistyped(found) = fileName, found.isNull { fileName = .present("") }
            return COCOImage(id: id, fileName: try optional(fileName, "images[\(i)].file_name", "a string", default: ""),
                             width: try optional(entry.width, "images[\(i)].width", "an integer", default: 0),
                             height: try optional(entry.height, "images[\(i)].height", "an integer", default: 0))
        }
        let categories = try entries(file.categories, "categories").enumerated().map { i, entry -> COCOCategory in
            guard let id = try required(entry.id, "categories[\(i)].id", "an integer") else {
                throw EvaluationError.invalidFormat(file: source, reason: "an entry of 'categories' has no 'id'")
            }
            return COCOCategory(id: id, name: try optional(entry.name, "categories[\(i)].name", "a string", default: ""))
        }
        let annotations = try entries(file.annotations, "annotations").enumerated().map { i, entry -> COCOAnnotation in
            let id = try required(entry.id, "annotations[\(i)].id", "an integer")
            let imageID = try required(entry.imageID, "annotations[\(i)].image_id", "an integer")
            let categoryID = try required(entry.categoryID, "annotations[\(i)].category_id", "an integer")
            let box = try required(entry.bbox, "annotations[\(i)].bbox", "4 numbers [x, y, width, height]")
            let area = try required(entry.area, "annotations[\(i)].area", "a number")
            let crowd = try optional(entry.isCrowd, "annotations[\(i)].iscrowd", "a number or boolean", default: false)
            let ignore = try optional(entry.ignore, "annotations[\(i)].ignore", "a number or boolean", default: false)
            guard let id, let imageID, let categoryID, let box, let area else {
                let missing = [("id", id == nil), ("image_id", imageID == nil), ("category_id", categoryID == nil),
                               ("bbox", box == nil), ("area", area == nil)].filter { $0.1 }.map { "'\($0.0)'" }
                throw EvaluationError.invalidFormat(file: source,
                                                    reason: "annotations[\(i)] has no \(missing.joined(separator: ", "))")
            }
            return COCOAnnotation(id: id, imageID: imageID, categoryID: categoryID, box: box, area: area,
                                  isCrowd: crowd, ignore: ignore)
        }
        self.init(images: images, categories: categories, annotations: annotations, source: source)
    }
}
