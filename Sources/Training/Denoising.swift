import Boxes
import Criterion
import NeuralNet

/// The denoising group of the set head (`DetectorConfig.setDenoising`): per image, K noised copies of its boxes with
/// the targets they learn. DN-DETR (Li et al., "DN-DETR: Accelerate DETR Training by Introducing Query DeNoising",
/// CVPR 2022) feeds noised ground-truth boxes to the decoder and asks for the boxes back; DINO (Zhang et al., ICLR
/// 2023) adds negative copies, noised further, that must be called no-object.
///
/// Copy `c` of box `g` is token `c·G + g` of the image's K (G active boxes, cycled until K are made). Even copies
/// are positives, up to `positivesPerBox` of each box; every other copy is a negative. Each corner of a positive
/// moves by `r · side / 2` with `|r|` uniform in `[0, λ)` and a random sign (`side`: the box's width for x, height
/// for y); a negative's `|r|` is uniform in `[λ, 2λ)`. A copy keeps at least 1 px of width and height. An image
/// without boxes gets K negatives at random places (sides uniform in 5–25 % of the shorter image side).
public enum Denoising {
    /// The most positive copies of one box.
    public static let positivesPerBox = 5

    /// One batch's group.
    public struct Group: Sendable, Equatable {
        /// Per image, K boxes in input pixels.
        public var boxes: [[Box]]
        /// Per image, the positive copies' pairs (token, box index in the image's targets); negatives have none.
        public var matches: [[SetMatch]]
        /// Positive copies in the batch: the divisor of the group's loss terms.
        public var positives: Int { matches.reduce(0) { $0 + $1.count } }
    }

    /// The group of a batch of `height × width` inputs, `k` tokens an image, box noise `noise` (λ). The draws come
    /// from a generator seeded by the targets themselves, so a batch always gets the same copies.
    public static func group(_ targets: [ImageTargets], k: Int, noise: Double, height: Double, width: Double) -> Group {
        var g = SeededGenerator(seed: seed(targets))
        var out = Group(boxes: [], matches: [])
        for t in targets {
            let (boxes, matches) = copies(t, k: k, noise: noise, height: height, width: width, generator: &g)
            out.boxes.append(boxes)
            out.matches.append(matches)
        }
        return out
    }

    /// One image's K copies and the positives' pairs.
    static func copies(_ targets: ImageTargets, k: Int, noise: Double, height: Double, width: Double,
                       generator g: inout SeededGenerator) -> ([Box], [SetMatch]) {
        let active = targets.activeIndices
        var boxes: [Box] = [], matches: [SetMatch] = []
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(g.nextUniform()) }
        guard !active.isEmpty else {
            let short = min(height, width)
            for _ in 0..<k {
                let (w, h) = (uniform(0.05, 0.25) * short, uniform(0.05, 0.25) * short)
                boxes.append(Box(cx: uniform(0, width), cy: uniform(0, height), w: w, h: h))
            }
            return (boxes, matches)
        }
        for t in 0..<k {
            let (c, index) = (t / active.count, active[t % active.count])
            let positive = c % 2 == 0 && c / 2 < positivesPerBox
            let box = targets.boxes[index]
            let (lo, hi) = positive ? (0.0, noise) : (noise, 2 * noise)
            func moved(_ v: Double, _ side: Double) -> Double {
                v + (g.nextUniform() < 0.5 ? -1 : 1) * uniform(lo, hi) * max(side, 1) / 2
            }
            var x1 = moved(box.x1, box.width), y1 = moved(box.y1, box.height)
            var x2 = moved(box.x2, box.width), y2 = moved(box.y2, box.height)
            if x2 - x1 < 1 { (x1, x2) = (min(x1, x2) - 0.5, max(x1, x2) + 0.5) }
            if y2 - y1 < 1 { (y1, y2) = (min(y1, y2) - 0.5, max(y1, y2) + 0.5) }
            boxes.append(Box(x1: x1, y1: y1, x2: x2, y2: y2))
            if positive { matches.append(SetMatch(hypothesis: t, box: index)) }
        }
        return (boxes, matches)
    }

    /// FNV-1a over the targets' coordinates and classes: the same batch, the same seed.
    static func seed(_ targets: [ImageTargets]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ v: UInt64) { h = (h ^ v) &* 0x0000_0100_0000_01B3 }
        for t in targets {
            mix(UInt64(t.boxes.count))
            for (b, c) in zip(t.boxes, t.classes) {
                for v in [b.x1, b.y1, b.x2, b.y2] { mix(v.bitPattern) }
                mix(UInt64(bitPattern: Int64(c)))
            }
        }
        return h
    }
}
