import Boxes
import Foundation
import Imaging

/// Test-time augmentation by flips: each image is predicted as it is and mirrored, each mirrored pass's boxes are
/// mirrored back, and each head's detections of all passes are merged per class by NMS (the flips of ultralytics'
/// `augment=True` and of Detectron2's test-time augmentation, without their rescaled passes, which measured no gain
/// on BCCD: docs/experiments.md, "Test-time flips").
///
/// The merge is NMS, so the set head's detections lose what it was trained for (no NMS): neighbours that overlap
/// more than the merge IoU become one detection. Measured on cells (BCCD, `hv`) and heads in crowds (SCUT-HEAD, `h`),
/// where it gained on both heads or nearly so; objects that overlap each other by more than the IoU lose to it.
public enum TestTimeFlips: String, Sendable, CaseIterable {
    /// As it is and mirrored left to right: 2 passes.
    case horizontal = "h"
    /// As it is, mirrored left to right, top to bottom, and both: 4 passes, for pictures with no up (cells, aerial
    /// views).
    case all = "hv"

    /// One pass: which mirrors it applies.
    public struct Pass: Sendable, Equatable {
        /// Mirrored left to right.
        public var horizontal: Bool
        /// Mirrored top to bottom.
        public var vertical: Bool

        /// `image` mirrored as this pass says.
        public func apply(_ image: Image) -> Image {
            var out = horizontal ? image.flippedHorizontally() : image
            if vertical { out = out.flippedVertically() }
            return out
        }

        /// A box found on the mirrored picture of a `width × height` image, in the image's own pixels (a mirror is
        /// its own inverse).
        public func mapBack(_ box: Box, width: Double, height: Double) -> Box {
            let (x1, x2) = horizontal ? (width - box.x2, width - box.x1) : (box.x1, box.x2)
            let (y1, y2) = vertical ? (height - box.y2, height - box.y1) : (box.y1, box.y2)
            return Box(x1: x1, y1: y1, x2: x2, y2: y2)
        }
    }

    /// The passes, the unmirrored one first.
    public var passes: [Pass] {
        let h = [Pass(horizontal: false, vertical: false), Pass(horizontal: true, vertical: false)]
        switch self {
        case .horizontal: return h
        case .all: return h + [Pass(horizontal: false, vertical: true), Pass(horizontal: true, vertical: true)]
        }
    }

    /// One image's detections from every pass (boxes already in the image's pixels): class-aware NMS at `iou` over
    /// all of them, best first (ties: pass order, then each pass's order), at most `maxDetections`.
    public static func merge(_ perPass: [[DetectedObject]], iou: Double, maxDetections: Int) -> [DetectedObject] {
        let all = perPass.flatMap { $0 }
        let keep = batchedNMS(boxes: all.map(\.box), scores: all.map(\.score), classes: all.map(\.classIndex),
                              iouThreshold: iou)
        return keep.prefix(maxDetections).map { all[$0] }
    }
}
