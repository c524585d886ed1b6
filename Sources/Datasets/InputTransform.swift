import Boxes

/// The geometric map from an original image to the network input (square `inputSize²`, or a rectangle
/// `inputWidth × inputHeight` whose longer side is `inputSize`), recorded per image so that predictions can be mapped
/// back to original pixels.
///
/// Forward: optional horizontal and vertical flips in original pixels (`x ← W − x`, `y ← H − y`), then scaling by
/// `(scaleX, scaleY)`, then subtracting the crop origin `(offsetX, offsetY)` (in scaled pixels). The content occupies
/// the top-left `contentWidth × contentHeight` of the input; the rest (right and bottom) is padding.
/// For a plain letterbox: `scaleX = scaleY = S / max(W, H)`, no flip, zero offset.
public struct InputTransform: Sendable, Equatable {
    /// Original image width and height in pixels.
    public var originalWidth: Int, originalHeight: Int
    /// Scale from original to input pixels, per axis (equal up to rounding of the resized size).
    public var scaleX: Double, scaleY: Double
    /// Crop origin in scaled pixels (0 for a letterbox).
    public var offsetX: Double, offsetY: Double
    /// Whether the original was flipped horizontally first.
    public var flipped: Bool
    /// Whether the original was flipped vertically first (a training augmentation for data without an up, such as
    /// microscopy; `AugmentConfig.verticalFlipProbability`).
    public var flippedVertically: Bool
    /// The input's longer side (the square input's side); set-head boxes are normalised by it.
    public var inputSize: Int
    /// Width and height of the input canvas in pixels: `inputSize` both for a square input; a rectangular input
    /// (`DetectorConfig.rectangular`) has one of them below `inputSize`.
    public var inputWidth: Int, inputHeight: Int
    /// Width and height of the image content inside the input (the rest is padding).
    public var contentWidth: Int, contentHeight: Int

    /// A transform from its parts.
    public init(originalWidth: Int, originalHeight: Int, scaleX: Double, scaleY: Double, offsetX: Double = 0,
                offsetY: Double = 0, flipped: Bool = false, flippedVertically: Bool = false, inputSize: Int,
                contentWidth: Int, contentHeight: Int, inputWidth: Int? = nil, inputHeight: Int? = nil) {
        self.originalWidth = originalWidth
        self.originalHeight = originalHeight
        self.scaleX = scaleX
        self.scaleY = scaleY
        self.offsetX = offsetX
        self.offsetY = offsetY
        self.flipped = flipped
        self.flippedVertically = flippedVertically
        self.inputSize = inputSize
        self.inputWidth = inputWidth ?? inputSize
        self.inputHeight = inputHeight ?? inputSize
        self.contentWidth = contentWidth
        self.contentHeight = contentHeight
    }

    /// The letterbox of a `width × height` image into a square of side `inputSize`: keep the aspect ratio, scale
    /// the longer side to `inputSize` (`round(W · s)` by `round(H · s)`, `s = S / max(W, H)`), pad right and bottom.
    public static func letterbox(width: Int, height: Int, inputSize: Int) -> InputTransform {
        let s = Double(inputSize) / Double(max(width, height))
        let w = max(1, min(inputSize, Int((Double(width) * s).rounded())))
        let h = max(1, min(inputSize, Int((Double(height) * s).rounded())))
        return InputTransform(originalWidth: width, originalHeight: height, scaleX: Double(w) / Double(width),
                              scaleY: Double(h) / Double(height), inputSize: inputSize, contentWidth: w, contentHeight: h)
    }

    /// The rectangular input of a `width × height` image (YOLOv5/ultralytics' rectangular inference and `rect=True`
    /// batches): the longer side is `inputSize`, the shorter side the image's shorter side at the letterbox scale
    /// (`round(short · S / long)`) rounded up to the next multiple of `multiple` (the network's coarsest stride, 32),
    /// never above `inputSize`. A square image gives `inputSize × inputSize`.
    public static func rectangle(width: Int, height: Int, inputSize: Int, multiple: Int = 32) -> (width: Int, height: Int) {
        let s = Double(inputSize) / Double(max(width, height, 1))
        func side(_ v: Int) -> Int {
            let scaled = max(1, Int((Double(v) * s).rounded()))
            return min(inputSize, (scaled + multiple - 1) / multiple * multiple)
        }
        return width >= height ? (inputSize, side(height)) : (side(width), inputSize)
    }

    /// The input `(height, width)` of a batch of images whose rectangles are `rectangles`: per axis the largest, so
    /// every image's letterbox fits (a batch mixing landscape and portrait images is square); `inputSize` square when
    /// there are none.
    public static func batchShape(of rectangles: [(width: Int, height: Int)], inputSize: Int) -> (height: Int, width: Int) {
        guard !rectangles.isEmpty else { return (inputSize, inputSize) }
        return (rectangles.map(\.height).max()!, rectangles.map(\.width).max()!)
    }

    /// The letterbox of a `width × height` image into an `inputWidth × inputHeight` canvas whose longer side is
    /// `inputSize`: scaled as `letterbox(width:height:inputSize:)` (content top-left), padded right and bottom to the
    /// canvas. The canvas must hold the content (a `rectangle` of the image, or a batch's shape that covers it).
    public static func letterbox(width: Int, height: Int, inputSize: Int, inputWidth: Int, inputHeight: Int) -> InputTransform {
        var t = letterbox(width: width, height: height, inputSize: inputSize)
        precondition(t.contentWidth <= inputWidth && t.contentHeight <= inputHeight,
                     "InputTransform: content \(t.contentWidth)×\(t.contentHeight) exceeds the canvas \(inputWidth)×\(inputHeight)")
        t.inputWidth = inputWidth
        t.inputHeight = inputHeight
        return t
    }

    /// `box` (original pixels) in input pixels, not clipped.
    public func toInput(_ box: Box) -> Box {
        let w = Double(originalWidth), h = Double(originalHeight)
        let (x1, x2) = flipped ? (w - box.x2, w - box.x1) : (box.x1, box.x2)
        let (y1, y2) = flippedVertically ? (h - box.y2, h - box.y1) : (box.y1, box.y2)
        return Box(x1: x1 * scaleX - offsetX, y1: y1 * scaleY - offsetY,
                   x2: x2 * scaleX - offsetX, y2: y2 * scaleY - offsetY)
    }

    /// `box` (input pixels, e.g. a prediction) in original pixels, clipped to the original image.
    public func toOriginal(_ box: Box) -> Box {
        var x1 = (box.x1 + offsetX) / scaleX, x2 = (box.x2 + offsetX) / scaleX
        var y1 = (box.y1 + offsetY) / scaleY, y2 = (box.y2 + offsetY) / scaleY
        let w = Double(originalWidth), h = Double(originalHeight)
        if flipped { (x1, x2) = (w - x2, w - x1) }
        if flippedVertically { (y1, y2) = (h - y2, h - y1) }
        return Box(x1: min(max(x1, 0), w), y1: min(max(y1, 0), h), x2: min(max(x2, 0), w), y2: min(max(y2, 0), h))
    }
}
