// The ground truth of one image as the batch loader hands it over and the criteria (dense anchor assignment,
// set matching) read it: boxes in corner form, 0-based classes, COCO-style ignore / crowd flags, and the areas
// where a class is only partly labelled.

/// An area of an image where objects of one class may be present without a box (the class is partly labelled
/// there, as LVIS's `not_exhaustive_category_ids`, or not checked at all): the dense criterion does not count that
/// class's scores inside it against the network.
public struct PartialRegion: Sendable, Equatable {
    /// The area in pixels, `(x1, y1, x2, y2)`.
    public var box: Box
    /// The class, 0-based.
    public var classIndex: Int

    /// A region of `classIndex` covering `box`.
    public init(box: Box, classIndex: Int) {
        self.box = box
        self.classIndex = classIndex
    }
}

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
    /// Where a class may hold objects without boxes: the dense criterion does not penalise that class's scores there.
    public var partialRegions: [PartialRegion]

    /// Ground truth of one image; `ignore` defaults to all `false`. Counts must agree.
    public init(boxes: [Box], classes: [Int], ignore: [Bool]? = nil, partialRegions: [PartialRegion] = []) {
        precondition(boxes.count == classes.count, "ImageTargets: \(boxes.count) boxes, \(classes.count) classes")
        precondition(ignore == nil || ignore!.count == boxes.count, "ImageTargets: ignore count differs")
        self.boxes = boxes
        self.classes = classes
        self.ignore = ignore ?? [Bool](repeating: false, count: boxes.count)
        self.partialRegions = partialRegions
    }

    /// The image without any box.
    public static let empty = ImageTargets(boxes: [], classes: [])

    /// Indices of the boxes that take part in matching (not ignored).
    public var activeIndices: [Int] { boxes.indices.filter { !ignore[$0] } }

    /// The classes whose partial regions hold at least `overlap` of `box`'s area (`liesInside`; sorted, each once);
    /// empty for an empty box.
    public func partialClasses(of box: Box, overlap: Double) -> [Int] {
        guard !partialRegions.isEmpty else { return [] }
        var found: [Int] = []
        for r in partialRegions where !found.contains(r.classIndex) && liesInside(box, r.box, share: overlap) {
            found.append(r.classIndex)
        }
        return found.sorted()
    }
}
