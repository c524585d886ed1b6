// The ground truth of one image as the batch loader hands it over and the criteria (dense anchor assignment,
// set matching) read it: boxes in corner form, 0-based classes and COCO-style ignore / crowd flags.

/// The ground truth of one image: boxes `(x1, y1, x2, y2)` in input pixels, their 0-based classes and ignore
/// flags, as parallel arrays.
public struct ImageTargets: Sendable, Equatable {
    /// Boxes in pixels, `(x1, y1, x2, y2)`.
    public var boxes: [Box]
    /// Class index of each box, 0-based (`0..<classes`).
    public var classes: [Int]
    /// Crowd / ignore flag of each box (COCO `ignore` or `iscrowd`): neither rewarded nor penalised. Such boxes
    /// are never matched; the dense criterion ignores the anchors that lie mostly inside them instead of calling
    /// them background.
    public var ignore: [Bool]

    /// Ground truth of one image; `ignore` defaults to all `false`. Counts must agree.
    public init(boxes: [Box], classes: [Int], ignore: [Bool]? = nil) {
        precondition(boxes.count == classes.count, "ImageTargets: \(boxes.count) boxes, \(classes.count) classes")
        precondition(ignore == nil || ignore!.count == boxes.count, "ImageTargets: ignore count differs")
        self.boxes = boxes
        self.classes = classes
        self.ignore = ignore ?? [Bool](repeating: false, count: boxes.count)
    }

    /// The image without any box.
    public static let empty = ImageTargets(boxes: [], classes: [])

    /// Indices of the boxes that take part in matching (not ignored).
    public var activeIndices: [Int] { boxes.indices.filter { !ignore[$0] } }
}
