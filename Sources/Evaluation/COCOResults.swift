import Foundation

/// One detection in COCO results format: `{"image_id", "category_id", "bbox": [x, y, w, h], "score"}`.
public struct COCODetection: Equatable, Sendable {
    /// `image_id`; must be an image of the ground truth.
    public var imageID: Int
    /// `category_id`; detections of categories absent from the ground truth are not evaluated
    /// (as in pycocotools).
    public var categoryID: Int
    /// `bbox`.
    public var box: COCOBox
    /// `score`; higher is more confident. Equal scores keep their order in the list.
    public var score: Double

    /// A detection record.
    public init(imageID: Int, categoryID: Int, box: COCOBox, score: Double) {
        self.imageID = imageID
        self.categoryID = categoryID
        self.box = box
        self.score = score
    }
}

/// Reading and writing COCO results files (a JSON array of detections).
///
/// Behaviour next to pycocotools' `COCO.loadRes`:
/// - an `image_id` absent from the ground truth: pycocotools asserts; `COCOEvaluator.evaluate` throws
///   `EvaluationError.unknownImage` naming the file and the id.
/// - a negative width or height: pycocotools keeps the box, computes `area = w · h` (negative when one side
///   is) and its box IoU is 0 with every ground truth. The same is done here, so the statistics stay identical
///   to pycocotools': such a detection never matches, and with a negative area it falls below every area
///   range, so it is ignored rather than counted as a false positive.
/// - an empty array: pycocotools' `loadRes` fails (`IndexError` on `anns[0]`). Here it is a valid file with
///   no detections; evaluation then gives 0 for every statistic whose area range holds ground truth and
///   −1 where it holds none (what `COCOeval` itself computes for a detection set with no annotations).
/// - other keys (`id`, `segmentation`, …) are skipped; a missing `image_id`, `category_id`, `bbox` or
///   `score` throws naming the file and the entry.
public enum COCOResults {
    /// Loads a results file.
    public static func load(contentsOf url: URL) throws -> [COCODetection] {
        var detections: [COCODetection] = []
        try JSONReader.withContents(of: url) { reader in
            guard reader.peek() == UInt8(ascii: "[") else {
                throw reader.format("a results file must be a JSON array of detections (pycocotools: "
                    + "'results in not an array of objects')")
            }
            try reader.forEachElement { reader in
                detections.append(try readDetection(&reader, index: detections.count))
            }
            try reader.expectEnd()
        }
        return detections
    }

    private static func readDetection(_ reader: inout JSONReader, index: Int) throws -> COCODetection {
        var imageID: Int?, categoryID: Int?, box: COCOBox?, score: Double?
        guard reader.peek() == UInt8(ascii: "{") else { throw reader.format("results[\(index)] is not an object") }
        try reader.forEachMember { reader, key in
            switch key {
            case "image_id": imageID = try reader.readInteger("results[\(index)].image_id")
            case "category_id": categoryID = try reader.readInteger("results[\(index)].category_id")
            case "bbox": box = try reader.readBox("results[\(index)].bbox")
            case "score": score = try reader.readDouble()
            default: try reader.skipValue()
            }
        }
        guard let imageID, let categoryID, let box, let score else {
            let missing = [("image_id", imageID == nil), ("category_id", categoryID == nil), ("bbox", box == nil),
                           ("score", score == nil)].filter { $0.1 }.map { "'\($0.0)'" }
            throw reader.format("results[\(index)] has no \(missing.joined(separator: ", "))")
        }
        return COCODetection(imageID: imageID, categoryID: categoryID, box: box, score: score)
    }

    /// The results JSON text: one detection per line, numbers in shortest round-trip form.
    public static func encode(_ detections: [COCODetection]) -> String {
        var text = "[\n"
        text.reserveCapacity(detections.count * 96)
        for (i, d) in detections.enumerated() {
            text += "{\"image_id\": \(d.imageID), \"category_id\": \(d.categoryID), \"bbox\": [\(number(d.box.x)), "
                + "\(number(d.box.y)), \(number(d.box.width)), \(number(d.box.height))], \"score\": \(number(d.score))}"
            text += i + 1 < detections.count ? ",\n" : "\n"
        }
        text += "]\n"
        return text
    }

    /// Writes `detections` as a results file.
    public static func write(_ detections: [COCODetection], to url: URL) throws {
        do {
            try encode(detections).write(to: url, atomically: true, encoding: .utf8)
        } catch {
            throw EvaluationError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }

    /// A finite number as JSON (`1` for 1.0, shortest digits otherwise); non-finite values become `null`.
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
        return "\(v)"
    }
}

extension JSONReader {
    /// An `invalidFormat` error naming this reader's file.
    func format(_ reason: String) -> EvaluationError {
        .invalidFormat(file: file, reason: reason)
    }

    /// Reads `[x, y, w, h]`: four numbers, or throws.
    mutating func readBox(_ what: @autoclosure () -> String) throws -> COCOBox {
        let (box, n, _) = try readBoxArray { try $0.readDouble() }
        guard n == 4 else { throw format("\(what()) has \(n) numbers; a box is [x, y, width, height]") }
        return box
    }
}
