/// The patch-matrix transforms behind `Conv2D`: `im2col` lays out every receptive field of one image as a
/// column, so that a convolution becomes one matrix product; `col2im` is its adjoint (scatter-add).
///
/// Shape key (one image): `x: [C, H, W]`, `col: [C·K·K, Ho·Wo]` with row `(c·K + ki)·K + kj` and column
/// `oh·Wo + ow` holding `x[c, oh·s − p + ki, ow·s − p + kj]` (zero outside the image),
/// `Ho = (H + 2p − K)/s + 1`, `Wo` likewise.
public enum Im2Col {
    /// Geometry of one 2-D convolution on one image.
    public struct Geometry: Sendable, Equatable {
        /// Input channels, height, width.
        public var channels, height, width: Int
        /// Square kernel size, stride and zero padding.
        public var kernel, stride, padding: Int
        /// Output height `(H + 2p − K)/s + 1`.
        public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
        /// Output width `(W + 2p − K)/s + 1`.
        public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
        /// Rows of the patch matrix, `C·K·K`.
        public var rows: Int { channels * kernel * kernel }
        /// Columns of the patch matrix, `Ho·Wo`.
        public var columns: Int { outHeight * outWidth }

        /// The geometry of a `kernel`×`kernel` convolution with `stride` and `padding` on `[C, H, W]`.
        public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
            self.channels = channels; self.height = height; self.width = width
            self.kernel = kernel; self.stride = stride; self.padding = padding
        }

        /// Output columns `ow` in `lo..<hi` read input columns inside the image for kernel column `kj`.
        func validColumns(_ kj: Int) -> (lo: Int, hi: Int) {
            // ow·s − p + kj ≥ 0  ⇔  ow ≥ ceil((p − kj)/s);   ow·s − p + kj ≤ W − 1.
            let a = padding - kj
            let lo = a <= 0 ? 0 : (a + stride - 1) / stride
            let b = width - 1 + padding - kj
            let hi = b < 0 ? 0 : min(outWidth, b / stride + 1)
            return (min(lo, hi), hi)
        }
    }

    /// Fills `col` (`[C·K·K, Ho·Wo]`, every element written) from the image `x` (`[C, H, W]`), splitting the
    /// rows over the cores.
    public static func im2col(_ x: UnsafePointer<Float>, _ g: Geometry, _ col: UnsafeMutablePointer<Float>) {
        let out = SharedPointer(col)
        let xs = SharedPointer(UnsafeMutablePointer(mutating: x))
        Parallel.forEachChunk(g.rows, workPerItem: g.columns) { rows in
            for r in rows { fillRow(xs.base, g, r, 0..<g.outHeight, out.base) }
        }
    }

    /// The columns of output rows `outRows` only, on the calling thread: `col` is
    /// `[C·K·K, outRows.count·Wo]`, column `(oh − outRows.lowerBound)·Wo + ow`.
    public static func im2col(_ x: UnsafePointer<Float>, _ g: Geometry, outRows: Range<Int>, _ col: UnsafeMutablePointer<Float>) {
        let xs = UnsafeMutablePointer(mutating: x)
        for r in 0..<g.rows { fillRow(xs, g, r, outRows, col) }
    }

    /// `dx += col2im(dcol)` for the output rows `outRows` only (layout as `im2col(_:_:outRows:_:)`), on the
    /// calling thread.
    public static func col2im(_ dcol: UnsafePointer<Float>, _ g: Geometry, outRows: Range<Int>, _ dx: UnsafeMutablePointer<Float>) {
        let src = UnsafeMutablePointer(mutating: dcol)
        for r in 0..<g.rows { addRow(src, g, r, outRows, dx) }
    }

    static func fillRow(
        _ x: UnsafeMutablePointer<Float>, _ g: Geometry, _ r: Int, _ outRows: Range<Int>, _ col: UnsafeMutablePointer<Float>
    ) {
        let K = g.kernel, s = g.stride, p = g.padding, W = g.width, H = g.height
        let Wo = g.outWidth
        let c = r / (K * K), ki = (r / K) % K, kj = r % K
        let (lo, hi) = g.validColumns(kj)
        let plane = x + c * H * W
        var dst = col + r * outRows.count * Wo
        for oh in outRows {
            let ih = oh * s - p + ki
            if ih < 0 || ih >= H {
                dst.update(repeating: 0, count: Wo)
            } else {
                if lo > 0 { dst.update(repeating: 0, count: lo) }
                let src = plane + ih * W - p + kj
                if s == 1 {
                    (dst + lo).update(from: src + lo, count: hi - lo)
                } else if s == 2 {
                    for ow in lo..<hi { dst[ow] = src[2 * ow] }
                } else {
                    for ow in lo..<hi { dst[ow] = src[ow * s] }
                }
                if hi < Wo { (dst + hi).update(repeating: 0, count: Wo - hi) }
            }
            dst += Wo
        }
    }

    /// `dx += col2im(dcol)`: adds every patch-matrix entry of `dcol` (`[C·K·K, Ho·Wo]`) back to the image
    /// position it was read from in `dx` (`[C, H, W]`); the channels are split over the cores.
    public static func col2im(_ dcol: UnsafePointer<Float>, _ g: Geometry, _ dx: UnsafeMutablePointer<Float>) {
        let out = SharedPointer(dx)
        let src = SharedPointer(UnsafeMutablePointer(mutating: dcol))
        let K = g.kernel
        Parallel.forEachChunk(g.channels, workPerItem: K * K * g.columns) { channels in
            for c in channels {
                for r in (c * K * K)..<((c + 1) * K * K) { addRow(src.base, g, r, 0..<g.outHeight, out.base) }
            }
        }
    }

    static func addRow(
        _ dcol: UnsafeMutablePointer<Float>, _ g: Geometry, _ r: Int, _ outRows: Range<Int>, _ dx: UnsafeMutablePointer<Float>
    ) {
        let K = g.kernel, s = g.stride, p = g.padding, W = g.width, H = g.height
        let Wo = g.outWidth
        let c = r / (K * K), ki = (r / K) % K, kj = r % K
        let (lo, hi) = g.validColumns(kj)
        let plane = dx + c * H * W
        var src = dcol + r * outRows.count * Wo
        for oh in outRows {
            let ih = oh * s - p + ki
            if ih >= 0 && ih < H {
                let dst = plane + ih * W - p + kj
                if s == 1 {
                    addVectors(dst + lo, src + lo, hi - lo)
                } else {
                    for ow in lo..<hi { dst[ow * s] += src[ow] }
                }
            }
            src += Wo
        }
    }

    /// `dst[i] += src[i]` for `i < n`, 8 lanes at a time (the buffers never overlap here).
    @inline(__always)
    static func addVectors(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafeMutablePointer<Float>, _ n: Int) {
        let rd = UnsafeMutableRawPointer(dst), rs = UnsafeRawPointer(src)
        var i = 0
        while i + 8 <= n {
            let a = rd.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let b = rs.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            rd.storeBytes(of: a + b, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { dst[i] += src[i]; i += 1 }
    }
}
