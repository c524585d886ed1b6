import Boxes

/// The geometric map from an original image to the square network input, recorded per image so that
/// predictions can be mapped back to original pixels.
///
/// Forward: optional horizontal flip in original pixels (`x ← W − x`), then scaling by `(scaleX, scaleY)`, then
/// subtracting the crop origin `(offsetX, offsetY)` (in scaled pixels). The content occupies the top-left
/// `contentWidth × contentHeight` of the input; the rest (right and bottom) is padding.
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
    /// Side of the square input.
    public var inputSize: Int
    /// Width and height of the image content inside the input (the rest is padding).
    public var contentWidth: Int, contentHeight: Int

    /// A transform from its parts.
    public init(originalWidth: Int, originalHeight: Int, scaleX: Double, scaleY: Double, offsetX: Double = 0,
                offsetY: Double = 0, flipped: Bool = false, inputSize: Int, contentWidth: Int, contentHeight: Int) {
        self.originalWidth = originalWidth
        self.originalHeight = originalHeight
        self.scaleX = scaleX
        self.scaleY = scaleY
        self.offsetX = offsetX
        self.offsetY = offsetY
        self.flipped = flipped
        self.inputSize = inputSize
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

    /// `box` (original pixels) in input pixels, not clipped.
    public func toInput(_ box: Box) -> Box {
        let w = Double(originalWidth)
        let (x1, x2) = flipped ? (w - box.x2, w - box.x1) : (box.x1, box.x2)
        return Box(x1: x1 * scaleX - offsetX, y1: box.y1 * scaleY - offsetY,
                   x2: x2 * scaleX - offsetX, y2: box.y2 * scaleY - offsetY)
    }

    /// `box` (input pixels, e.g. a prediction) in original pixels, clipped to the original image.
    public func toOriginal(_ box: Box) -> Box {
        var x1 = (box.x1 + offsetX) / scaleX, x2 = (box.x2 + offsetX) / scaleX
        let y1 = (box.y1 + offsetY) / scaleY, y2 = (box.y2 + offsetY) / scaleY
        let w = Double(originalWidth), h = Double(originalHeight)
        if flipped { (x1, x2) = (w - x2, w - x1) }
        return Box(x1: min(max(x1, 0), w), y1: min(max(y1, 0), h), x2: min(max(x2, 0), w), y2: min(max(y2, 0), h))
    }
}
