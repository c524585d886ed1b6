/// Drawing boxes and short labels, clipped to the image.
extension Image {
    /// Ten well-separated colours (a qualitative palette in the style of Tableau 10) for telling classes apart.
    public static let classColors: [(UInt8, UInt8, UInt8)] = [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ]

    /// The colour for class `index` (cycling through `classColors`; negative indices allowed).
    public static func classColor(_ index: Int) -> (UInt8, UInt8, UInt8) {
        let n = classColors.count
        return classColors[((index % n) + n) % n]
    }

    /// Sets pixel `(x, y)` to `color` when it lies inside the image.
    @inline(__always)
    mutating func plot(_ x: Int, _ y: Int, _ color: (UInt8, UInt8, UInt8)) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = color.0
        pixels[i + 1] = color.1
        pixels[i + 2] = color.2
    }

    /// Fills the rectangle with corners `(x1, y1)` and `(x2, y2)` (both inclusive, any order), clipped.
    public mutating func fillRectangle(x1: Int, y1: Int, x2: Int, y2: Int, color: (UInt8, UInt8, UInt8)) {
        let left = max(min(x1, x2), 0), right = min(max(x1, x2), width - 1)
        let top = max(min(y1, y2), 0), bottom = min(max(y1, y2), height - 1)
        guard left <= right, top <= bottom else { return }
        let w = width
        pixels.withUnsafeMutableBufferPointer { p in
            for y in top...bottom {
                let row = p.baseAddress! + (y * w) * 3
                for x in left...right {
                    row[3 * x] = color.0; row[3 * x + 1] = color.1; row[3 * x + 2] = color.2
                }
            }
        }
    }

    /// Draws the outline of the rectangle with corner pixels `(x1, y1)` and `(x2, y2)` (inclusive, any order),
    /// `thickness` pixels wide growing inwards, so the outline never leaves the box. Parts outside the image are
    /// clipped; a box thicker than half its size is filled.
    public mutating func drawRectangle(
        x1: Int, y1: Int, x2: Int, y2: Int, color: (UInt8, UInt8, UInt8), thickness: Int = 1
    ) {
        precondition(thickness >= 1, "Image.drawRectangle: thickness \(thickness) must be at least 1")
        let left = min(x1, x2), right = max(x1, x2), top = min(y1, y2), bottom = max(y1, y2)
        let t = thickness - 1
        fillRectangle(x1: left, y1: top, x2: right, y2: min(top + t, bottom), color: color)
        fillRectangle(x1: left, y1: max(bottom - t, top), x2: right, y2: bottom, color: color)
        fillRectangle(x1: left, y1: top, x2: min(left + t, right), y2: bottom, color: color)
        fillRectangle(x1: max(right - t, left), y1: top, x2: right, y2: bottom, color: color)
    }

    /// Draws `text` with the built-in 5×7 `BitmapFont`, each font pixel a `scale × scale` block, the first
    /// glyph's top-left corner at `(x, y)`; `\n` starts a new line. With `background`, the ink area plus a margin
    /// of `scale` pixels on every side is filled first, so labels stay legible on any picture. Clipped.
    public mutating func drawText(
        _ text: String, x: Int, y: Int, color: (UInt8, UInt8, UInt8),
        background: (UInt8, UInt8, UInt8)? = nil, scale: Int = 1
    ) {
        precondition(scale >= 1, "Image.drawText: scale \(scale) must be at least 1")
        if let background {
            let size = BitmapFont.size(of: text, scale: scale)
            if size.width > 0 {
                fillRectangle(x1: x - scale, y1: y - scale, x2: x + size.width - 1 + scale,
                              y2: y + size.height - 1 + scale, color: background)
            }
        }
        var cx = x, cy = y
        for character in text {
            if character == "\n" {
                cx = x
                cy += BitmapFont.lineHeight * scale
                continue
            }
            let rows = BitmapFont.glyph(character)
            for (r, bits) in rows.enumerated() where bits != 0 {
                for c in 0..<BitmapFont.glyphWidth where bits & (UInt8(1) << (4 - c)) != 0 {
                    fillRectangle(x1: cx + c * scale, y1: cy + r * scale, x2: cx + (c + 1) * scale - 1,
                                  y2: cy + (r + 1) * scale - 1, color: color)
                }
            }
            cx += BitmapFont.advance * scale
        }
    }
}
