import Boxes
import Imaging
import Seeding

/// One image of a mosaic: its pixels (possibly decoded smaller than the original), the size its annotations refer
/// to, and its annotations.
public struct MosaicPart: Sendable {
    /// The decoded image.
    public var image: Image
    /// The original size the annotations refer to (`image`'s own size unless it was decoded smaller).
    public var originalSize: (width: Int, height: Int)
    /// The image's annotations, in original pixels.
    public var annotations: [Annotation]

    /// A part from its pieces; `originalSize` defaults to the image's size.
    public init(image: Image, originalSize: (width: Int, height: Int)? = nil, annotations: [Annotation]) {
        self.image = image
        self.originalSize = originalSize ?? (image.width, image.height)
        self.annotations = annotations
    }
}

extension Augmenter {
    /// Mosaic augmentation (YOLOv4, Bochkovskiy et al. 2020; ultralytics' `Mosaic`): up to four images share one
    /// input canvas, split into four quadrants at a random centre `(cx, cy)` drawn from the middle half of each
    /// side. Part `k` fills quadrant `k` (top-left, top-right, bottom-left, bottom-right), each with the same
    /// scale, flip and colour jitter as `apply` draws for a single image, so objects keep the size they have
    /// without mosaic. A part larger than its quadrant shows a random window of itself; a smaller one is placed
    /// against the centre and the rest of the quadrant stays padding. Boxes follow their part, are clipped to its
    /// window and dropped by the same rules as `apply` (`minKeptFraction`, `minBoxSize`).
    ///
    /// The returned transform is the canvas's identity: a mosaic has no single original image to map back to.
    /// Random draws come from `rng` in a fixed order, so the result is a function of the seed.
    public static func mosaic(_ parts: [MosaicPart], inputSize s: Int, inputWidth: Int? = nil, inputHeight: Int? = nil,
                              config: AugmentConfig, rng: inout SplitMix64) -> PreparedSample {
        precondition((1...4).contains(parts.count), "Augmenter.mosaic: \(parts.count) parts, want 1 to 4")
        let (cw, ch) = (inputWidth ?? s, inputHeight ?? s)
        let cx = rng.int((cw / 4)...(cw - cw / 4)), cy = rng.int((ch / 4)...(ch - ch / 4))
        var canvas = Image(width: cw, height: ch, fill: padColor)
        var kept: [Annotation] = []
        for (k, part) in parts.enumerated() {
            let right = k % 2 == 1, bottom = k >= 2
            let (regionW, regionH) = (right ? cw - cx : cx, bottom ? ch - cy : cy)
            let (width, height) = part.originalSize
            let placement = Placement.draw(width: width, height: height, inputSize: s, window: (regionW, regionH),
                                           config: config, rng: &rng)
            guard regionW > 0, regionH > 0 else { continue }
            // Quadrants left of (above) the centre end at it; the others start at it.
            let x = right ? cx : cx - placement.contentWidth, y = bottom ? cy : cy - placement.contentHeight
            let transform = placement.transform(width: width, height: height, inputSize: s, canvas: (cw, ch))
            let piece = placement.render(part.image)
            canvas.paste(piece, x: x, y: y)
            for var a in mapBoxes(part.annotations, transform: transform, minKeptFraction: config.minKeptFraction,
                                  minBoxSize: config.minBoxSize) {
                let (dx, dy) = (Double(x), Double(y))
                a.box = Box(x1: a.box.x1 + dx, y1: a.box.y1 + dy, x2: a.box.x2 + dx, y2: a.box.y2 + dy)
                kept.append(a)
            }
        }
        let identity = InputTransform(originalWidth: cw, originalHeight: ch, scaleX: 1, scaleY: 1, inputSize: s,
                                      contentWidth: cw, contentHeight: ch, inputWidth: cw, inputHeight: ch)
        return PreparedSample(image: canvas, annotations: kept, transform: identity)
    }
}

extension Augmenter {
    /// Beta(α, α) parameter of the blend ratio of `mixup` (YOLOv5 / ultralytics draw Beta(32, 32): ratios near 0.5).
    public static let mixupAlpha = 32.0

    /// MixUp for detection (Zhang et al., "mixup: Beyond empirical risk minimization", ICLR 2018, as YOLOv4/YOLOX and
    /// ultralytics apply it to detectors): the pixels of two prepared samples of the same input shape blended as
    /// `ratio · a + (1 − ratio) · b`, and the boxes of both kept, unweighted. The transform is `a`'s.
    public static func mixup(_ a: PreparedSample, _ b: PreparedSample, ratio: Double) -> PreparedSample {
        precondition(a.image.width == b.image.width && a.image.height == b.image.height,
                     "Augmenter.mixup: \(a.image.width)×\(a.image.height) and \(b.image.width)×\(b.image.height)")
        precondition((0...1).contains(ratio), "Augmenter.mixup: ratio \(ratio) outside [0, 1]")
        var image = a.image
        let (r, q) = (Float(ratio), Float(1 - ratio))
        image.pixels.withUnsafeMutableBufferPointer { out in
            b.image.pixels.withUnsafeBufferPointer { other in
                for i in 0..<out.count {
                    out[i] = UInt8((r * Float(out[i]) + q * Float(other[i])).rounded())
                }
            }
        }
        return PreparedSample(image: image, annotations: a.annotations + b.annotations, transform: a.transform)
    }
}
