import Boxes
import Imaging
import Seeding

/// Settings of the box-aware training augmentation. `AugmentConfig.none` is the plain letterbox used for
/// evaluation.
public struct AugmentConfig: Sendable, Equatable, Codable {
    /// Probability of a horizontal flip. Default 0.5.
    public var flipProbability: Double = 0.5
    /// Random scale relative to the letterbox scale `S / max(W, H)`; above 1 the image is larger than the input
    /// and a random `S × S` window is cropped, below 1 it is padded. Default `0.75…1.25`.
    public var minScale: Double = 0.75
    /// Upper end of the random scale.
    public var maxScale: Double = 1.25
    /// A box cut by the crop is kept when at least this share of its area remains inside (then clipped to the
    /// window), else dropped. Default 0.4.
    public var minKeptFraction: Double = 0.4
    /// Boxes narrower or shorter than this after clipping (input pixels) are dropped. Default 2 px.
    public var minBoxSize: Double = 2
    /// Colour jitter: factors drawn uniformly from `1 ± brightness`, `1 ± contrast`, `1 ± saturation`
    /// (torchvision `ColorJitter` semantics, see `Image.jittered`). Default 0.2 each.
    public var brightness: Double = 0.2
    /// Contrast jitter amplitude.
    public var contrast: Double = 0.2
    /// Saturation jitter amplitude.
    public var saturation: Double = 0.2
    /// Probability that a training sample is a mosaic of its image and three others drawn at random from the
    /// dataset (`Augmenter.mosaic`) instead of its image alone. Default 0 (off).
    public var mosaicProbability: Double = 0

    /// The training defaults above.
    public init() {}

    /// No augmentation: letterbox only (flip 0, scale 1, no jitter).
    public static let none: AugmentConfig = {
        var c = AugmentConfig()
        c.flipProbability = 0
        c.minScale = 1
        c.maxScale = 1
        c.brightness = 0
        c.contrast = 0
        c.saturation = 0
        return c
    }()
}

/// One image prepared for the network: the input (square or rectangular), its targets in input pixels and the transform back.
public struct PreparedSample: Sendable {
    /// The input image, `S × S` or the rectangular canvas (content top-left, padding right/bottom).
    public var image: Image
    /// Kept annotations with boxes in input pixels (clipped to the content).
    public var annotations: [Annotation]
    /// The map from original to input pixels.
    public var transform: InputTransform
}

/// Box-aware, seeded augmentation and letterboxing.
public enum Augmenter {
    /// Padding colour: the ImageNet mean `(0.485, 0.456, 0.406) · 255`, which normalises to about 0.
    public static let padColor: (UInt8, UInt8, UInt8) = (124, 116, 104)

    /// Flip (with probability `flipProbability`), scale by `letterbox · U(minScale, maxScale)` (letterbox scale
    /// `S / max(W, H)`), crop a random canvas-sized window when larger, colour-jitter, pad right/bottom to the canvas:
    /// `S × S`, or `inputWidth × inputHeight` for a rectangular input (YOLOv5/ultralytics `rect=True`: the batch's
    /// shape, whose longer side is `S`). Boxes follow the same geometry, are
    /// clipped to the content, and are dropped when less than `minKeptFraction` of their area stays inside or
    /// when smaller than `minBoxSize`. Random draws come from `rng` in a fixed order, so the result is a
    /// function of the seed.
    ///
    /// `originalSize` is the full-resolution size the annotations refer to when `image` was decoded smaller (JPEG
    /// DCT scaling); the geometry is computed in original pixels and the reduced image is resized to the same
    /// target, so the result differs from a full-size decode only by resampling (and by under one reduced pixel at the right and
    /// bottom edges, where the reduced size was rounded up). Default: `image`'s own size.
    public static func apply(_ image: Image, originalSize: (width: Int, height: Int)? = nil, annotations: [Annotation],
                             inputSize s: Int, inputWidth: Int? = nil, inputHeight: Int? = nil, config: AugmentConfig,
                             rng: inout SplitMix64) -> PreparedSample {
        let (width, height) = originalSize ?? (image.width, image.height)
        let (cw, ch) = (inputWidth ?? s, inputHeight ?? s)
        let flip = rng.unit() < config.flipProbability
        let factor = rng.uniform(config.minScale...max(config.minScale, config.maxScale))
        let base = Double(s) / Double(max(width, height))
        let scaledW = max(1, Int((Double(width) * base * factor).rounded()))
        let scaledH = max(1, Int((Double(height) * base * factor).rounded()))
        let offX = scaledW > cw ? rng.int(0...(scaledW - cw)) : 0
        let offY = scaledH > ch ? rng.int(0...(scaledH - ch)) : 0
        let b = rng.uniform(max(0, 1 - config.brightness)...(1 + config.brightness))
        let c = rng.uniform(max(0, 1 - config.contrast)...(1 + config.contrast))
        let sat = rng.uniform(max(0, 1 - config.saturation)...(1 + config.saturation))

        let transform = InputTransform(
            originalWidth: width, originalHeight: height, scaleX: Double(scaledW) / Double(width),
            scaleY: Double(scaledH) / Double(height), offsetX: Double(offX), offsetY: Double(offY), flipped: flip,
            inputSize: s, contentWidth: min(cw, scaledW), contentHeight: min(ch, scaledH), inputWidth: cw, inputHeight: ch)
        var out = flip ? image.flippedHorizontally() : image
        out = out.resized(width: scaledW, height: scaledH)
        if offX != 0 || offY != 0 || scaledW > cw || scaledH > ch {
            out = out.cropped(x: offX, y: offY, width: transform.contentWidth, height: transform.contentHeight)
        }
        if b != 1 || c != 1 || sat != 1 { out = out.jittered(brightness: Float(b), contrast: Float(c), saturation: Float(sat)) }
        if out.width != cw || out.height != ch { out = out.padded(toWidth: cw, height: ch, fill: padColor) }
        let kept = mapBoxes(annotations, transform: transform, minKeptFraction: config.minKeptFraction,
                            minBoxSize: config.minBoxSize)
        return PreparedSample(image: out, annotations: kept, transform: transform)
    }

    /// The plain letterbox (no randomness): `apply` with `AugmentConfig.none`, into `S × S` or the
    /// `inputWidth × inputHeight` canvas (which must hold the letterboxed content).
    public static func letterbox(_ image: Image, originalSize: (width: Int, height: Int)? = nil,
                                 annotations: [Annotation], inputSize: Int, inputWidth: Int? = nil,
                                 inputHeight: Int? = nil) -> PreparedSample {
        var rng = SplitMix64(seed: 0)
        return apply(image, originalSize: originalSize, annotations: annotations, inputSize: inputSize,
                     inputWidth: inputWidth, inputHeight: inputHeight, config: .none, rng: &rng)
    }

    /// Annotations mapped by `transform`, clipped to the content window `[0, contentWidth] × [0, contentHeight]`,
    /// and dropped when less than `minKeptFraction` of the mapped area remains or the clipped box is smaller
    /// than `minBoxSize` on a side.
    public static func mapBoxes(_ annotations: [Annotation], transform: InputTransform, minKeptFraction: Double,
                                minBoxSize: Double) -> [Annotation] {
        let cw = Double(transform.contentWidth), ch = Double(transform.contentHeight)
        var out: [Annotation] = []
        out.reserveCapacity(annotations.count)
        for var a in annotations {
            let m = transform.toInput(a.box)
            let c = Box(x1: min(max(m.x1, 0), cw), y1: min(max(m.y1, 0), ch), x2: min(max(m.x2, 0), cw), y2: min(max(m.y2, 0), ch))
            guard c.width >= minBoxSize, c.height >= minBoxSize else { continue }
            guard m.area > 0, c.area >= minKeptFraction * m.area else { continue }
            a.box = c
            out.append(a)
        }
        return out
    }
}
