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

    /// Loads a COCO ground-truth JSON file.
    ///
    /// Required: `images[].id`; `categories[].id`; `annotations[].id`, `image_id`, `category_id`, `bbox`
    /// (4 numbers) and `area` (pycocotools fails with a `KeyError` without them; this throws naming the file
    /// and the annotation). `iscrowd` defaults to 0 when absent. Unknown keys (`info`, `licenses`,
    /// `segmentation`, …) are skipped.
    public init(contentsOf url: URL) throws {
        let file = url.path
        var images: [COCOImage] = []
        var categories: [COCOCategory] = []
        var annotations: [COCOAnnotation] = []
        try JSONReader.withContents(of: url) { reader in
            guard reader.peek() == UInt8(ascii: "{") else {
                throw EvaluationError.invalidFormat(file: file, reason: "the top level must be an object")
            }
            try reader.forEachMember { reader, key in
                switch key {
                case "images": try reader.forEachElement { images.append(try Self.readImage(&$0)) }
                case "categories": try reader.forEachElement { categories.append(try Self.readCategory(&$0)) }
                case "annotations":
                    try reader.forEachElement { annotations.append(try Self.readAnnotation(&$0, index: annotations.count)) }
                default: try reader.skipValue()
                }
            }
            try reader.expectEnd()
        }
        self.init(images: images, categories: categories, annotations: annotations, source: file)
    }

    private static func readImage(_ reader: inout JSONReader) throws -> COCOImage {
        var id: Int?
        var image = COCOImage(id: 0)
        try reader.forEachMember { reader, key in
            switch key {
            case "id": id = try reader.readInteger("images[].id")
            case "file_name": image.fileName = (try reader.consumeNull()) ? "" : try reader.readString()
            case "width": image.width = try reader.readInteger("images[].width")
            case "height": image.height = try reader.readInteger("images[].height")
            default: try reader.skipValue()
            }
        }
        guard let id else { throw reader.format("an entry of 'images' has no 'id'") }
        image.id = id
        return image
    }

    private static func readCategory(_ reader: inout JSONReader) throws -> COCOCategory {
        var id: Int?
        var name = ""
        try reader.forEachMember { reader, key in
            switch key {
            case "id": id = try reader.readInteger("categories[].id")
            case "name": name = try reader.readString()
            default: try reader.skipValue()
            }
        }
        guard let id else { throw reader.format("an entry of 'categories' has no 'id'") }
        return COCOCategory(id: id, name: name)
    }

    private static func readAnnotation(_ reader: inout JSONReader, index: Int) throws -> COCOAnnotation {
        var id: Int?, imageID: Int?, categoryID: Int?, box: COCOBox?, area: Double?
        var crowd = false, ignore = false
        try reader.forEachMember { reader, key in
            switch key {
            case "id": id = try reader.readInteger("annotations[].id")
            case "image_id": imageID = try reader.readInteger("annotations[].image_id")
            case "category_id": categoryID = try reader.readInteger("annotations[].category_id")
            case "bbox": box = try reader.readBox("annotations[\(index)].bbox")
            case "area": area = try reader.readDouble()
            case "iscrowd": crowd = try reader.readFlag()
            case "ignore": ignore = try reader.readFlag()
            default: try reader.skipValue()
            }
        }
        guard let id, let imageID, let categoryID, let box, let area else {
            let missing = [("id", id == nil), ("image_id", imageID == nil), ("category_id", categoryID == nil),
                           ("bbox", box == nil), ("area", area == nil)].filter { $0.1 }.map { "'\($0.0)'" }
            throw reader.format("annotations[\(index)] has no \(missing.joined(separator: ", "))")
        }
        return COCOAnnotation(id: id, imageID: imageID, categoryID: categoryID, box: box, area: area,
                              isCrowd: crowd, ignore: ignore)
    }
}

extension JSONReader {
    /// An `invalidFormat` error naming this reader's file.
    func format(_ reason: String) -> EvaluationError {
        .invalidFormat(file: file, reason: reason)
    }

    /// Reads `[x, y, w, h]`.
    mutating func readBox(_ what: @autoclosure () -> String) throws -> COCOBox {
        var values = (0.0, 0.0, 0.0, 0.0)
        var n = 0
        try forEachElement { reader in
            let v = try reader.readDouble()
            switch n {
            case 0: values.0 = v
            case 1: values.1 = v
            case 2: values.2 = v
            case 3: values.3 = v
            default: break
            }
            n += 1
        }
        guard n == 4 else { throw format("\(what()) has \(n) numbers; a box is [x, y, width, height]") }
        return COCOBox(x: values.0, y: values.1, width: values.2, height: values.3)
    }
}
