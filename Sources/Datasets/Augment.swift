import Boxes
import Imaging
import Seeding

/// Settings of the box-aware training augmentation. `AugmentConfig.none` is the plain letterbox used for
/// evaluation.
public struct AugmentConfig: Sendable, Equatable, Codable {
    /// Probability of a horizontal flip. Default 0.5.
    public var flipProbability: Double = 0.5
    /// Probability of a vertical flip (ultralytics' `flipud`), for data without an up: cells on a slide, aerial and
    /// top-down views. Default 0: a person's head is not seen upside down. At 0 no draw is made, so the images of a
    /// seed are those of a configuration without the setting.
    public var verticalFlipProbability: Double = 0
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
    /// Probability that a training sample is blended with a second one prepared the same way (`Augmenter.mixup`,
    /// ultralytics' `mixup`). Default 0 (off); at 0 no draw is made, so the images of a seed are those of a
    /// configuration without the setting.
    public var mixupProbability: Double = 0
    /// Probability that objects of another training image are pasted onto a sample (`Augmenter.copyPaste`, Ghiasi
    /// et al. 2021). Default 0 (off); at 0 no draw is made.
    public var copyPasteProbability: Double = 0

    /// Whether some samples draw other images (mosaic, copy-paste or mixup above 0): what the closing phase of a
    /// schedule (`BatchLoader.mosaicEnd`) ends.
    public var combinesImages: Bool { mosaicProbability > 0 || copyPasteProbability > 0 || mixupProbability > 0 }

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
        let placement = Placement.draw(width: width, height: height, inputSize: s, window: (cw, ch), config: config,
                                       rng: &rng)
        let transform = placement.transform(width: width, height: height, inputSize: s, canvas: (cw, ch))
        var out = placement.render(image)
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
    /// than `minBoxSize` on a side (partial regions are kept while any of their area is shown).
    public static func mapBoxes(_ annotations: [Annotation], transform: InputTransform, minKeptFraction: Double,
                                minBoxSize: Double) -> [Annotation] {
        let cw = Double(transform.contentWidth), ch = Double(transform.contentHeight)
        var out: [Annotation] = []
        out.reserveCapacity(annotations.count)
        for var a in annotations {
            let m = transform.toInput(a.box)
            let c = Box(x1: min(max(m.x1, 0), cw), y1: min(max(m.y1, 0), ch), x2: min(max(m.x2, 0), cw), y2: min(max(m.y2, 0), ch))
            if a.isPartialRegion {
                // A region is kept while any of it is shown, however little.
                if c.width > 0, c.height > 0 { a.box = c; out.append(a) }
                continue
            }
            guard c.width >= minBoxSize, c.height >= minBoxSize else { continue }
            guard m.area > 0, c.area >= minKeptFraction * m.area else { continue }
            a.box = c
            out.append(a)
        }
        return out
    }
}

/// The random draws of one augmented image shown in a window (the input canvas, or a mosaic's quadrant): flips,
/// scale (relative to the letterbox scale `S / max(W, H)`), the crop origin when the scaled image is larger than the
/// window, and colour jitter. Drawn in that order, so a seed gives the same image in every release.
struct Placement {
    /// Whether the image is flipped horizontally first.
    var flip: Bool
    /// Whether the image is flipped vertically first.
    var flipVertically = false
    /// The scaled image's size.
    var scaledWidth: Int, scaledHeight: Int
    /// The crop origin in the scaled image (0 where it fits the window).
    var offsetX: Int, offsetY: Int
    /// The shown part's size: the scaled image's, at most the window's.
    var contentWidth: Int, contentHeight: Int
    /// Colour jitter factors.
    var brightness: Double, contrast: Double, saturation: Double

    /// The draws for a `width × height` original shown in a `window` of an input whose longer side is `s`.
    static func draw(width: Int, height: Int, inputSize s: Int, window: (width: Int, height: Int), config: AugmentConfig,
                     rng: inout SplitMix64) -> Placement {
        let flip = rng.unit() < config.flipProbability
        let flipVertically = config.verticalFlipProbability > 0 && rng.unit() < config.verticalFlipProbability
        let factor = rng.uniform(config.minScale...max(config.minScale, config.maxScale))
        let base = Double(s) / Double(max(width, height))
        let scaledW = max(1, Int((Double(width) * base * factor).rounded()))
        let scaledH = max(1, Int((Double(height) * base * factor).rounded()))
        let offX = scaledW > window.width ? rng.int(0...(scaledW - window.width)) : 0
        let offY = scaledH > window.height ? rng.int(0...(scaledH - window.height)) : 0
        let b = rng.uniform(max(0, 1 - config.brightness)...(1 + config.brightness))
        let c = rng.uniform(max(0, 1 - config.contrast)...(1 + config.contrast))
        let sat = rng.uniform(max(0, 1 - config.saturation)...(1 + config.saturation))
        return Placement(flip: flip, flipVertically: flipVertically, scaledWidth: scaledW, scaledHeight: scaledH,
                         offsetX: offX, offsetY: offY, contentWidth: min(window.width, scaledW), contentHeight: min(window.height, scaledH),
                         brightness: b, contrast: c, saturation: sat)
    }

    /// The map from the `width × height` original to the shown part, on a `canvas` of an input whose longer side is
    /// `s` (content at the top-left; a mosaic shifts its boxes to the quadrant afterwards).
    func transform(width: Int, height: Int, inputSize s: Int, canvas: (width: Int, height: Int)) -> InputTransform {
        InputTransform(originalWidth: width, originalHeight: height, scaleX: Double(scaledWidth) / Double(width),
                       scaleY: Double(scaledHeight) / Double(height), offsetX: Double(offsetX),
                       offsetY: Double(offsetY), flipped: flip, flippedVertically: flipVertically, inputSize: s,
                       contentWidth: contentWidth, contentHeight: contentHeight, inputWidth: canvas.width,
                       inputHeight: canvas.height)
    }

    /// The shown part of `image` (decoded at the original size or smaller): flipped, resized to the scaled size,
    /// cropped to the window, colour-jittered.
    func render(_ image: Image) -> Image {
        var out = flip ? image.flippedHorizontally() : image
        if flipVertically { out = out.flippedVertically() }
        out = out.resized(width: scaledWidth, height: scaledHeight)
        if offsetX != 0 || offsetY != 0 || contentWidth < scaledWidth || contentHeight < scaledHeight {
            out = out.cropped(x: offsetX, y: offsetY, width: contentWidth, height: contentHeight)
        }
        if brightness != 1 || contrast != 1 || saturation != 1 {
            out = out.jittered(brightness: Float(brightness), contrast: Float(contrast), saturation: Float(saturation))
        }
        return out
    }
}
