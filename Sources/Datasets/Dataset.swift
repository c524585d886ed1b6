import Boxes
import Foundation

/// One ground-truth object of an image.
public struct Annotation: Sendable, Equatable {
    /// The box in image pixels, corners `(x1, y1, x2, y2)` with `x1 < x2`, `y1 < y2` (continuous coordinates:
    /// a box covering pixel columns 0…9 is `x1 = 0, x2 = 10`).
    public var box: Box
    /// 0-based contiguous class index into `DetectionDataset.categories`.
    public var classIndex: Int
    /// COCO `iscrowd`: the box covers a group of objects (matched as "ignore" by COCO evaluation).
    public var isCrowd: Bool
    /// The object should neither be rewarded nor penalised (COCO `ignore`, or an annotator's doubt).
    public var ignore: Bool
    /// The box is no object but an area where objects of `classIndex` may lack boxes (a `PartialRegion`). Only the
    /// training pipeline adds such entries (from `ImageRecord.partialClasses`), so that augmentation moves them with
    /// the pixels; datasets and evaluation never hold them.
    public var isPartialRegion: Bool

    /// An annotation; `isCrowd`, `ignore` and `isPartialRegion` default to `false`.
    public init(box: Box, classIndex: Int, isCrowd: Bool = false, ignore: Bool = false, isPartialRegion: Bool = false) {
        self.box = box
        self.classIndex = classIndex
        self.isCrowd = isCrowd
        self.ignore = ignore
        self.isPartialRegion = isPartialRegion
    }
}

/// One image of a dataset with its annotations.
public struct ImageRecord: Sendable, Equatable {
    /// The image id (COCO `id`; for YOLO and `.idl` the 1-based position in the file order).
    public var id: Int
    /// The image file on disk.
    public var file: URL
    /// The path as written in the annotation file (relative to the dataset root when it was relative).
    public var fileName: String
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// The objects of this image, in file order.
    public var annotations: [Annotation]
    /// Classes this image labels only in part or not at all (sorted 0-based indices): objects of them may be present
    /// without boxes, so the dense head's loss does not count their scores here against the network. From LVIS-style
    /// COCO fields (`not_exhaustive_category_ids`, and every class neither boxed nor in `neg_category_ids` where that
    /// field is given) or `DetectionDataset.markImagesLackingUsualClasses`.
    public var partialClasses: [Int]

    /// An image record.
    public init(id: Int, file: URL, fileName: String, width: Int, height: Int, annotations: [Annotation] = [],
                partialClasses: [Int] = []) {
        self.id = id
        self.file = file
        self.fileName = fileName
        self.width = width
        self.height = height
        self.annotations = annotations
        self.partialClasses = partialClasses
    }

    /// The annotations with one `isPartialRegion` entry covering the whole image per class of `partialClasses`.
    public var annotationsWithPartialRegions: [Annotation] {
        guard !partialClasses.isEmpty else { return annotations }
        let whole = Box(x1: 0, y1: 0, x2: Double(width), y2: Double(height))
        return annotations + partialClasses.map { Annotation(box: whole, classIndex: $0, isPartialRegion: true) }
    }
}

/// A class of objects: its id in the source file and its name.
public struct Category: Sendable, Equatable, Codable {
    /// The id as written in the source (COCO `category_id`; YOLO and `.idl`: the 0-based index + 1).
    public var id: Int
    /// The human-readable name.
    public var name: String

    /// A category.
    public init(id: Int, name: String) {
        self.id = id
        self.name = name
    }
}

/// The one in-memory form of a detection dataset, whatever format it was read from.
///
/// Images keep file order; classes are 0-based contiguous indices into `categories` (sorted by original id for
/// COCO). `report` says what validation changed or found while loading.
public struct DetectionDataset: Sendable {
    /// The folder image paths are resolved against and must stay inside.
    public var root: URL
    /// The annotation file (or the folder, for YOLO) the dataset was read from.
    public var source: URL
    /// The images with their annotations.
    public var images: [ImageRecord]
    /// The classes; `annotation.classIndex` indexes this array.
    public var categories: [Category]
    /// What validation clipped, dropped or noticed.
    public var report: ValidationReport

    /// A dataset from parts.
    public init(root: URL, source: URL, images: [ImageRecord], categories: [Category],
                report: ValidationReport = ValidationReport()) {
        self.root = root
        self.source = source
        self.images = images
        self.categories = categories
        self.report = report
    }

    /// Total number of annotations over all images.
    public var annotationCount: Int { images.reduce(0) { $0 + $1.annotations.count } }

    /// Number of annotations per class index, `[categories.count]`.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: categories.count)
        for image in images {
            for a in image.annotations where a.classIndex >= 0 && a.classIndex < counts.count {
                counts[a.classIndex] += 1
            }
        }
        return counts
    }
}

/// Errors a user can cause with a dataset: each message names the file (and the line or place) and what is wrong.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read at all.
    case unreadable(file: String, reason: String)
    /// The JSON does not parse; `location` is `line L, column C`.
    case malformedJSON(file: String, location: String, reason: String)
    /// A structurally wrong entry (missing key, wrong type, negative size, …).
    case invalidEntry(file: String, location: String, reason: String)
    /// A line of a text format (`.idl`, YOLO) that does not parse.
    case badLine(file: String, line: Int, column: Int?, text: String, reason: String)
    /// Annotations refer to categories the file does not declare; `offenders` lists the first few.
    case unknownCategories(file: String, count: Int, offenders: [String])
    /// Image files that do not exist; `searched` lists where they were looked for.
    case missingImages(file: String, count: Int, offenders: [String], searched: [String])
    /// An image path that leaves the dataset root (`..` or an absolute path elsewhere).
    case pathEscapesRoot(file: String, path: String, root: String)
    /// The path's kind (extension, folder) is not a known annotation format.
    case unknownFormat(path: String)
    /// An image file could not be decoded (used by loaders that skip bad images).
    case badImage(file: String, reason: String)
    /// The file describes more than a `DatasetLimits` limit allows (`what`: images per file, boxes per image, …).
    case limitExceeded(file: String, what: String, found: String, limit: Int)

    /// The message: the file (and place), then what is wrong and what to do.
    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .malformedJSON(file, location, reason):
            return "\(file): malformed JSON at \(location): \(reason)"
        case let .invalidEntry(file, location, reason):
            return "\(file): \(location): \(reason)"
        case let .badLine(file, line, column, text, reason):
            let col = column.map { ", column \($0)" } ?? ""
            let shown = text.count > 120 ? String(text.prefix(117)) + "..." : text
            return "\(file):\(line)\(col): \(reason): \(shown)"
        case let .unknownCategories(file, count, offenders):
            return "\(file): \(count) annotation(s) use a category id that is not in `categories`; first: "
                + offenders.joined(separator: "; ")
        case let .missingImages(file, count, offenders, searched):
            return "\(file): \(count) image file(s) not found (looked in \(searched.joined(separator: ", then "))); "
                + "first: " + offenders.joined(separator: ", ")
                + ". Pass the image folder explicitly (--images DIR) or fix the paths."
        case let .pathEscapesRoot(file, path, root):
            return "\(file): image path \"\(path)\" leaves the dataset root \(root); use a path inside it"
        case let .unknownFormat(path):
            return "\(path): unknown annotation format (expected a COCO .json, a .idl file, or a YOLO folder "
                + "with images/ and labels/)"
        case let .badImage(file, reason):
            return "\(file): cannot decode image: \(reason)"
        case let .limitExceeded(file, what, found, limit):
            return "\(file): \(found): more than the limit of \(limit) \(what) (README, Limits)"
        }
    }
}
