import Foundation

/// The loops of `Conv2D`. Shape key: `x: [N, Cin, H, W]`, `w: [Cout, R]` with `R = Cin·K·K`,
/// `y, dy: [N, Cout, Ho, Wo]`, `P = Ho·Wo`.
///
/// Work is split over the cores by image (and, in the forward pass, by bands of output rows), each worker
/// running single-threaded sgemm on its own patch-matrix tile of `[R, rows·Wo]`; tiles are sized to stay in
/// the core's cache rather than streaming a whole image's patch matrix through memory.
enum ConvKernels {
    /// Output rows per tile: about 2¹⁷ patch-matrix elements (512 KiB), at least 512 columns.
    static func tileRows(_ g: Im2Col.Geometry) -> Int {
        let columns = max(512, (1 << 17) / max(g.rows, 1))
        return max(1, min(g.outHeight, (columns + g.outWidth - 1) / g.outWidth))
    }

    static func isPointwise(_ g: Im2Col.Geometry) -> Bool { g.kernel == 1 && g.stride == 1 && g.padding == 0 }

    /// Runs `body(worker, items)` over `items` split into contiguous ranges, one per worker; with more than one
    /// worker, OpenBLAS is single-threaded meanwhile (and the workers' sgemm time is accounted as a share of the
    /// region's wall time, see `TimeAccounting`).
    static func split(_ items: Int, _ body: (Int, Range<Int>) -> Void) {
        let workers = min(Parallel.workers, items)
        if workers <= 1 { body(0, 0..<items); return }
        BLASRuntime.withSingleThread {
            TimeAccounting.concurrentPerform(iterations: workers) { w in
                body(w, (items * w / workers)..<(items * (w + 1) / workers))
            }
        }
    }

    /// `y = conv(x, w) + bias`, every element of `y` written.
    static func forward(
        x: UnsafePointer<Float>, n: Int, g: Im2Col.Geometry, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        cout: Int, y: UnsafeMutablePointer<Float>
    ) {
        let P = g.columns, R = g.rows, Wo = g.outWidth, cinPlane = g.channels * g.height * g.width
        let tr = tileRows(g), tiles = (g.outHeight + tr - 1) / tr, pointwise = isPointwise(g)
        let xs = SharedPointer(UnsafeMutablePointer(mutating: x)), ys = SharedPointer(y)
        let ws = SharedPointer(UnsafeMutablePointer(mutating: w))
        let bs = bias.map { SharedPointer(UnsafeMutablePointer(mutating: $0)) }
        split(n * tiles) { _, items in
            let col = UnsafeMutablePointer<Float>.allocate(capacity: pointwise ? 1 : R * tr * Wo)
            defer { col.deallocate() }
            for item in items {
                let i = item / tiles, oh0 = (item % tiles) * tr, rows = oh0..<min(g.outHeight, oh0 + tr)
                let pt = rows.count * Wo
                let xi = xs.base + i * cinPlane, yt = ys.base + i * cout * P + oh0 * Wo
                var b: UnsafePointer<Float> = UnsafePointer(xi + oh0 * Wo), ldb = P
                if !pointwise {
                    Im2Col.im2col(xi, g, outRows: rows, col)
                    b = UnsafePointer(col); ldb = pt
                }
                var beta: Float = 0
                if let bs {
                    for o in 0..<cout { (yt + o * P).update(repeating: bs.base[o], count: pt) }
                    beta = 1
                }
                GEMM.sgemm(m: cout, n: pt, k: R, a: ws.base, lda: R, b: b, ldb: ldb, beta: beta, c: yt, ldc: P)
            }
        }
    }

    /// `dw += Σ_n dy[n]·col(x[n])ᵀ`, `db += Σ dy` (when `db` is given), and `dx = col2im(wᵀ·dy)` when `dx`
    /// is given (every element of `dx` written). Parameter gradients are summed over workers in a fixed order.
    static func backward(
        x: UnsafePointer<Float>, n: Int, g: Im2Col.Geometry, w: UnsafePointer<Float>, cout: Int,
        dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>?,
        dx: UnsafeMutablePointer<Float>?
    ) {
        let P = g.columns, R = g.rows, Wo = g.outWidth, cinPlane = g.channels * g.height * g.width
        let tr = tileRows(g), tiles = (g.outHeight + tr - 1) / tr, pointwise = isPointwise(g)
        let workers = max(1, min(Parallel.workers, n))
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: workers * (cout * R + cout))
        partial.initialize(repeating: 0, count: workers * (cout * R + cout))
        defer { partial.deallocate() }
        let xs = SharedPointer(UnsafeMutablePointer(mutating: x)), dys = SharedPointer(UnsafeMutablePointer(mutating: dy))
        let ws = SharedPointer(UnsafeMutablePointer(mutating: w)), ps = SharedPointer(partial)
        let dxs = dx.map { SharedPointer($0) }
        split(n) { worker, images in
            let tileSize = pointwise ? 1 : R * tr * Wo
            // One tile buffer: the patch matrix, then (once dw has used it) the patch-matrix gradient.
            let col = UnsafeMutablePointer<Float>.allocate(capacity: tileSize)
            defer { col.deallocate() }
            let dcol = col
            let dwp = ps.base + worker * (cout * R + cout), dbp = dwp + cout * R
            for i in images {
                let xi = xs.base + i * cinPlane
                if let dxs { (dxs.base + i * cinPlane).update(repeating: 0, count: cinPlane) }
                for t in 0..<tiles {
                    let oh0 = t * tr, rows = oh0..<min(g.outHeight, oh0 + tr), pt = rows.count * Wo
                    let dyt = UnsafePointer(dys.base + i * cout * P + oh0 * Wo)
                    var b: UnsafePointer<Float> = UnsafePointer(xi + oh0 * Wo), ldb = P
                    if !pointwise {
                        Im2Col.im2col(xi, g, outRows: rows, col)
                        b = UnsafePointer(col); ldb = pt
                    }
                    if db != nil {
                        for o in 0..<cout {
                            dbp[o] += Reductions.sum(dyt + o * P, pt)
                        }
                    }
                    // dw[Cout, R] += dy_tile[Cout, pt] · colᵀ[pt, R]
                    GEMM.sgemm(transB: true, m: cout, n: R, k: pt, a: dyt, lda: P, b: b, ldb: ldb, beta: 1, c: dwp, ldc: R)
                    guard let dxs else { continue }
                    if pointwise {
                        GEMM.sgemm(transA: true, m: R, n: pt, k: cout, a: ws.base, lda: R, b: dyt, ldb: P,
                                   c: dxs.base + i * cinPlane + oh0 * Wo, ldc: P)
                    } else {
                        GEMM.sgemm(transA: true, m: R, n: pt, k: cout, a: ws.base, lda: R, b: dyt, ldb: P, c: dcol, ldc: pt)
                        Im2Col.col2im(dcol, g, outRows: rows, dxs.base + i * cinPlane)
                    }
                }
            }
        }
        for wk in 0..<workers {
            let src = partial + wk * (cout * R + cout)
            for j in 0..<(cout * R) { dw[j] += src[j] }
            if let db { for o in 0..<cout { db[o] += src[cout * R + o] } }
        }
    }
}
