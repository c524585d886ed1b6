/// Errors a user can cause while loading ground truth or detections, or while writing evaluation outputs.
///
/// Every message names the file (or, for in-memory input, the source label) and says what is wrong.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read at all.
    case unreadable(file: String, reason: String)
    /// The text is not valid JSON; `line` and `column` are 1-based.
    case malformedJSON(file: String, line: Int, column: Int, reason: String)
    /// The JSON is valid but does not have the COCO layout (a missing or mistyped field).
    case invalidFormat(file: String, reason: String)
    /// A detection names an image id that the ground truth does not list (pycocotools asserts
    /// "Results do not correspond to current coco set" in this case).
    case unknownImage(file: String, imageID: Int)
    /// An output file could not be written.
    case unwritable(file: String, reason: String)

    /// A sentence a person can act on.
    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read the file (\(reason))"
        case let .malformedJSON(file, line, column, reason):
            return "\(file):\(line):\(column): invalid JSON: \(reason)"
        case let .invalidFormat(file, reason):
            return "\(file): not a COCO file: \(reason)"
        case let .unknownImage(file, imageID):
            return "\(file): a detection names image_id \(imageID), which the ground truth does not list "
                + "(results do not correspond to this ground-truth set; pycocotools rejects them too)"
        case let .unwritable(file, reason):
            return "\(file): cannot write the file (\(reason))"
        }
    }
}
