import Boxes
import Imaging
import Seeding

extension Augmenter {
    /// The most of a box's area that pasted objects may cover: a paste that would hide more of a box already on the
    /// canvas (the first sample's or one pasted before) is refused, so that every labelled object still shows.
    public static let copyPasteMaxCovered = 0.3

    /// Probability that each object of the second sample is offered for pasting (half of them, as the random subset
    /// of Ghiasi et al. averages).
    public static let copyPasteShare = 0.5

    /// Copy-paste for detection with boxes only (Ghiasi et al., "Simple Copy-Paste is a Strong Data Augmentation
    /// Method for Instance Segmentation", CVPR 2021; ultralytics' `copy_paste`, which needs segments): objects of a
    /// second sample `b`, prepared the same way and of the same input shape, are pasted onto `a` at their own place,
    /// each as the rectangle of its box. Each of `b`'s objects is offered with probability `share`, in order, and
    /// pasted unless it would cover more than `copyPasteMaxCovered` of any box already on the canvas (covered areas
    /// add up over pastes, which counts an overlap of two pastes twice: the rule errs on keeping objects visible).
    /// Partial regions of `b` are not pasted. The transform is `a`'s. Without masks a pasted rectangle carries the
    /// background around its object.
    public static func copyPaste(_ b: PreparedSample, onto a: PreparedSample, share: Double = copyPasteShare,
                                 rng: inout SplitMix64) -> PreparedSample {
        precondition(a.image.width == b.image.width && a.image.height == b.image.height,
                     "Augmenter.copyPaste: \(a.image.width)×\(a.image.height) and \(b.image.width)×\(b.image.height)")
        var out = a
        var boxes = a.annotations.filter { !$0.isPartialRegion }.map(\.box)
        var covered = [Double](repeating: 0, count: boxes.count)
        for object in b.annotations where !object.isPartialRegion {
            guard rng.unit() < share else { continue }
            let (x0, y0) = (Int(object.box.x1.rounded(.down)), Int(object.box.y1.rounded(.down)))
            let (x1, y1) = (Int(object.box.x2.rounded(.up)), Int(object.box.y2.rounded(.up)))
            guard x1 > x0, y1 > y0 else { continue }
            let rect = Box(x1: Double(x0), y1: Double(y0), x2: Double(x1), y2: Double(y1))
            let added = boxes.map { intersectionAndUnion(rect, $0).intersection }
            let fits = boxes.indices.allSatisfy { j in
                added[j] == 0 || covered[j] + added[j] <= copyPasteMaxCovered * boxes[j].area
            }
            guard fits else { continue }
            for j in boxes.indices { covered[j] += added[j] }
            out.image.paste(b.image.cropped(x: x0, y: y0, width: x1 - x0, height: y1 - y0), x: x0, y: y0)
            out.annotations.append(object)
            boxes.append(object.box)
            covered.append(0)
        }
        return out
    }
}
