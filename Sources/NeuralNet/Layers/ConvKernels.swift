import CKernels
import Foundation

/// The loops of `Conv2D`. Shape key: `x: [N, Cin, H, W]`, `w: [Cout, R]` with `R = Cin·K·K`,
/// `y, dy: [N, Cout, Ho, Wo]`, `P = Ho·Wo`.
///
/// Work is split over the cores by image (and, in the forward pass, by bands of output rows), each worker
/// running a single-threaded product (`GEMM.matmul`) on its own patch-matrix tile of `[R, rows·Wo]`; tiles are
/// sized to stay in the core's cache rather than streaming a whole image's patch matrix through memory. With the
/// implicit fp32 kernel (`ConvAlgorithm.implicit` on AVX-512F) and in bf16 mode the forward product and the weight
/// gradient pack their B panels straight from the image (no patch matrix is written); the input gradient here is
/// `wᵀ·dy` into a tile, then col2im (`Conv2D` takes the transposed convolution, a forward pass, where it prefers it,
/// and at stride 2 on the implicit kernel four parity sub-convolutions, `Conv2D+ParityGradient`).
enum ConvKernels {
    /// Output rows per tile: about 2¹⁷ patch-matrix elements (512 KiB), at least 512 columns.
    static func tileRows(_ g: Im2Col.Geometry) -> Int {
        let columns = max(512, (1 << 17) / max(g.rows, 1))
        return max(1, min(g.outHeight, (columns + g.outWidth - 1) / g.outWidth))
    }

    static func isPointwise(_ g: Im2Col.Geometry) -> Bool { g.kernel == 1 && g.stride == 1 && g.padding == 0 }

    /// Whether the direct kernel (`CKernels/conv_direct.c`) computes this convolution: `.direct` asked for, AVX2 +
    /// FMA, 4·j output channels, kernel 1–3 (not pointwise), stride 1 or 2.
    static func usesDirect(_ g: Im2Col.Geometry, cout: Int, _ algorithm: ConvAlgorithm) -> Bool {
        algorithm == .direct && !isPointwise(g)
            && ck_conv_direct_supported(Int32(cout), Int32(g.kernel), Int32(g.stride)) == 1
    }

    /// Whether the forward product and the weight gradient read the patch matrix in place (implicit im2col inside
    /// a GEMM's packing), for every convolution but the pointwise ones (which need no patch matrix): in bf16 mode
    /// the bf16 GEMM (`ck_conv_bf16_forward` / `ck_conv_bf16_weight_grad`, bit-identical to im2col + the bf16
    /// GEMM); in fp32 mode with `.implicit` on an AVX-512F CPU the fp32 GEMM of `CKernels/gemm_f32.c`
    /// (`ck_conv_f32_forward` / `ck_conv_f32_weight_grad`, equal to im2col + sgemm up to summation order).
    static func usesImplicitPatches(_ g: Im2Col.Geometry, _ algorithm: ConvAlgorithm) -> Bool {
        guard !isPointwise(g) else { return false }
        if Precision.current == .bf16 { return readsPatchesInPlace }
        return algorithm.usesImplicitKernel && ConvAlgorithm.implicitAvailable
    }

    /// Whether Winograd's minimal filtering computes this convolution (forward F(4×4, 3×3), `CKernels/winograd4_f32.c`;
    /// weight gradient F(2×2, 3×3), `CKernels/winograd_f32_grad.c`): `.winograd` asked for,
    /// fp32 mode, an AVX-512F CPU, a 3×3 kernel at stride 1 with padding 1, at least 4 input and 4 output channels
    /// (the 3-channel stem stays on the implicit GEMM; any count is padded to the micro-kernel's rows).
    static func usesWinograd(_ g: Im2Col.Geometry, cout: Int, _ algorithm: ConvAlgorithm) -> Bool {
        algorithm == .winograd && Precision.current == .fp32 && ConvAlgorithm.implicitAvailable
            && g.kernel == 3 && g.stride == 1 && g.padding == 1 && g.channels >= 4 && cout >= 4
    }

    /// Whether the direct stride-2 kernel computes this convolution's forward pass (`CKernels/conv_s2_f32.c`):
    /// `.winograd` asked for (the default's fastest path for every layer), fp32 mode, an AVX-512F CPU, a 3×3 kernel at
    /// stride 2 with padding 1 and at most 3 input channels (an image stem, whose 27 patch rows leave the implicit
    /// GEMM's packing the larger part of its work; `bench kernels`: the stem 57–63 → 74 GFLOP/s forward + backward,
    /// while the downsampling layers measured the same or slower, 230–237 → 180–191 at 64 → 128 channels).
    static func usesStride2Direct(_ g: Im2Col.Geometry, _ algorithm: ConvAlgorithm) -> Bool {
        algorithm == .winograd && Precision.current == .fp32 && ConvAlgorithm.implicitAvailable
            && g.kernel == 3 && g.stride == 2 && g.padding == 1 && g.channels <= 3
    }

    /// `y = conv(x, w) + bias` by the direct stride-2 kernel (`usesStride2Direct`), every element of `y` written.
    static func stride2Forward(
        x: UnsafePointer<Float>, n: Int, g: Im2Col.Geometry, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        cout: Int, y: UnsafeMutablePointer<Float>
    ) {
        packedBandForward(x: x, n: n, g: g, w: w, bias: bias, cout: cout, y: y,
                          packedFloats: Int(ck_conv_s2_f32_weight_floats(Int32(cout), Int32(g.channels))),
                          pack: ck_conv_s2_f32_weights, forward: ck_conv_s2_f32_forward)
    }

    /// A C forward kernel over bands of output rows: `(x, cin, h, w, packed weights, cout, oh0, oh1, β, y, ldy)`.
    typealias BandKernel = (UnsafePointer<Float>?, Int32, Int32, Int32, UnsafePointer<Float>?, Int32, Int32, Int32,
                            Float, UnsafeMutablePointer<Float>?, Int32) -> Void

    /// `y = conv(x, w) + bias` by a forward kernel that reads weights packed once by `pack` (`packedFloats` floats)
    /// and runs band by band (`forEachBand`).
    static func packedBandForward(
        x: UnsafePointer<Float>, n: Int, g: Im2Col.Geometry, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        cout: Int, y: UnsafeMutablePointer<Float>, packedFloats: Int,
        pack: (UnsafePointer<Float>?, Int32, Int32, UnsafeMutablePointer<Float>?) -> Void, forward: BandKernel
    ) {
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: packedFloats)
        defer { packed.deallocate() }
        pack(w, Int32(cout), Int32(g.channels), packed)
        let ps = SharedPointer(packed)
        forEachBand(x: x, n: n, g: g, bias: bias, cout: cout, y: y) { xi, oh0, oh1, beta, yt in
            forward(xi, Int32(g.channels), Int32(g.height), Int32(g.width), ps.base, Int32(cout), Int32(oh0),
                    Int32(oh1), beta, yt, Int32(g.columns))
        }
    }

    /// Runs `kernel(image, oh0, oh1, β, output tile)` for every band of output rows (`winogradBandRows`) of every
    /// image, split over the workers and timed as GEMM, after writing the bias into the tile (`fillBias`, which
    /// gives β).
    static func forEachBand(
        x: UnsafePointer<Float>, n: Int, g: Im2Col.Geometry, bias: UnsafePointer<Float>?, cout: Int,
        y: UnsafeMutablePointer<Float>,
        _ kernel: (UnsafePointer<Float>, Int, Int, Float, UnsafeMutablePointer<Float>) -> Void
    ) {
        let P = g.columns, cinPlane = g.channels * g.height * g.width
        let band = winogradBandRows(g, images: n), bands = (g.outHeight + band - 1) / band
        let xs = SharedPointer(UnsafeMutablePointer(mutating: x)), ys = SharedPointer(y)
        let bs = bias.map { SharedPointer(UnsafeMutablePointer(mutating: $0)) }
        split(n * bands) { _, items in
            for item in items {
                let i = item / bands, oh0 = (item % bands) * band, oh1 = min(g.outHeight, oh0 + band)
                let yt = ys.base + i * cout * P + oh0 * g.outWidth, pt = (oh1 - oh0) * g.outWidth
                let beta = fillBias(bs?.base, cout: cout, tile: yt, stride: P, count: pt)
                TimeAccounting.measure(TimeAccounting.gemm) { kernel(xs.base + i * cinPlane, oh0, oh1, beta, yt) }
            }
        }
    }

    /// Writes `bias[o]` into the `count` outputs of each channel `o` of a tile (channels `stride` apart) and returns
    /// the β with which the product is then added to them: 1, or 0 (nothing written) without a bias.
    static func fillBias(_ bias: UnsafeMutablePointer<Float>?, cout: Int, tile: UnsafeMutablePointer<Float>,
                         stride: Int, count: Int) -> Float {
        guard let bias else { return 0 }
        for o in 0..<cout { (tile + o * stride).update(repeating: bias[o], count: count) }
        return 1
    }

    /// `db[o] += Σ` of the `count` values of channel `o` of a tile of `dy` (channels `stride` apart).
    static func addBiasGradient(_ db: UnsafeMutablePointer<Float>, cout: Int, tile: UnsafePointer<Float>, stride: Int,
                                count: Int) {
        for o in 0..<cout { db[o] += Reductions.sum(tile + o * stride, count) }
    }

    /// Output rows per band of the Winograd kernels: whole images when there are images for every worker, else
    /// an even share of the rows (bands start on a 4-row tile boundary, which is also one of the weight gradient's
    /// 2-row tiles).
    static func winogradBandRows(_ g: Im2Col.Geometry, images: Int) -> Int {
        let workers = max(1, Parallel.workers)
        guard images < workers else { return g.outHeight }
        let share = (g.outHeight * images + workers - 1) / workers
        return max(4, (share + 3) / 4 * 4)
    }

    /// `y = conv(x, w) + bias` by Winograd's F(4×4, 3×3) (`usesWinograd`), every element of `y` written.
    static func winogradForward(
        x: UnsafePointer<Float>, n: Int, g: Im2Col.Geometry, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        cout: Int, y: UnsafeMutablePointer<Float>
    ) {
        packedBandForward(x: x, n: n, g: g, w: w, bias: bias, cout: cout, y: y,
                          packedFloats: 36 * ((cout + 7) / 8 * 8) * g.channels,
                          pack: ck_winograd4_f32_weights, forward: ck_winograd4_f32_forward)
    }

    /// `dw += Σ_n ∂/∂w` and `db += Σ dy` (when `db` is given) by Winograd's F(2×2, 3×3) (`usesWinograd`): the
    /// transformed-domain sums of every worker, added in a fixed order, then transformed back once.
    static func winogradWeightGradient(
        x: UnsafePointer<Float>, n: Int, g: Im2Col.Geometry, cout: Int, dy: UnsafePointer<Float>,
        dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>?
    ) {
        let P = g.columns, cin = g.channels, cinPlane = cin * g.height * g.width
        let transformed = Int(ck_winograd_f32_grad_floats(Int32(cout), Int32(cin))), size = transformed + cout
        let band = winogradBandRows(g, images: n), bands = (g.outHeight + band - 1) / band
        let workers = max(1, min(Parallel.workers, n * bands))
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: workers * size)
        partial.initialize(repeating: 0, count: workers * size)
        defer { partial.deallocate() }
        let xs = SharedPointer(UnsafeMutablePointer(mutating: x)), dys = SharedPointer(UnsafeMutablePointer(mutating: dy))
        let ps = SharedPointer(partial)
        split(n * bands) { worker, items in
            let du = ps.base + worker * size, dbp = du + transformed
            for item in items {
                let i = item / bands, oh0 = (item % bands) * band, oh1 = min(g.outHeight, oh0 + band)
                let dyt = dys.base + i * cout * P + oh0 * g.outWidth, pt = (oh1 - oh0) * g.outWidth
                if db != nil { addBiasGradient(dbp, cout: cout, tile: dyt, stride: P, count: pt) }
                TimeAccounting.measure(TimeAccounting.gemm) {
                    ck_winograd_f32_weight_grad(xs.base + i * cinPlane, Int32(cin), Int32(g.height), Int32(g.width),
                                                dyt, Int32(P), Int32(cout), Int32(oh0), Int32(oh1), du)
                }
            }
        }
        for wk in 1..<workers {
            let src = partial + wk * size
            for j in 0..<size { partial[j] += src[j] }
        }
        ck_winograd_f32_weight_grad_finish(partial, Int32(cout), Int32(cin), dw)
        if let db { for o in 0..<cout { db[o] += partial[transformed + o] } }
    }

    /// False writes the patch matrix in bf16 mode too (im2col, then `GEMM.bf16gemm`): the tests' explicit twin.
    nonisolated(unsafe) static var readsPatchesInPlace = true

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
        cout: Int, y: UnsafeMutablePointer<Float>, algorithm: ConvAlgorithm = .im2col
    ) {
        if usesWinograd(g, cout: cout, algorithm) {
            winogradForward(x: x, n: n, g: g, w: w, bias: bias, cout: cout, y: y)
            return
        }
        if usesStride2Direct(g, algorithm) {
            stride2Forward(x: x, n: n, g: g, w: w, bias: bias, cout: cout, y: y)
            return
        }
        let P = g.columns, R = g.rows, Wo = g.outWidth, cinPlane = g.channels * g.height * g.width
        let tr = tileRows(g), tiles = (g.outHeight + tr - 1) / tr, pointwise = isPointwise(g)
        let xs = SharedPointer(UnsafeMutablePointer(mutating: x)), ys = SharedPointer(y)
        let ws = SharedPointer(UnsafeMutablePointer(mutating: w))
        let bs = bias.map { SharedPointer(UnsafeMutablePointer(mutating: $0)) }
        if usesDirect(g, cout: cout, algorithm) {
            split(n * tiles) { _, items in
                for item in items {
                    let i = item / tiles, oh0 = (item % tiles) * tr, oh1 = min(g.outHeight, oh0 + tr)
                    ck_conv_direct_forward(xs.base + i * cinPlane, Int32(g.channels), Int32(g.height), Int32(g.width),
                                           ws.base, Int32(cout), Int32(g.kernel), Int32(g.stride), Int32(g.padding),
                                           bs?.base, ys.base + i * cout * P, Int32(oh0), Int32(oh1))
                }
            }
            return
        }
        let implicit = usesImplicitPatches(g, algorithm), bf16 = Precision.current == .bf16
        split(n * tiles) { _, items in
            let col = UnsafeMutablePointer<Float>.allocate(capacity: pointwise || implicit ? 1 : R * tr * Wo)
            defer { col.deallocate() }
            for item in items {
                let i = item / tiles, oh0 = (item % tiles) * tr, rows = oh0..<min(g.outHeight, oh0 + tr)
                let pt = rows.count * Wo
                let xi = xs.base + i * cinPlane, yt = ys.base + i * cout * P + oh0 * Wo
                let beta = fillBias(bs?.base, cout: cout, tile: yt, stride: P, count: pt)
                if implicit {
                    TimeAccounting.measure(TimeAccounting.gemm) {
                        (bf16 ? ck_conv_bf16_forward : ck_conv_f32_forward)(
                            xi, Int32(g.channels), Int32(g.height), Int32(g.width), Int32(g.kernel), Int32(g.stride),
                            Int32(g.padding), ws.base, Int32(cout), Int32(rows.lowerBound), Int32(rows.upperBound), beta,
                            yt, Int32(P))
                    }
                    continue
                }
                var b: UnsafePointer<Float> = UnsafePointer(xi + oh0 * Wo), ldb = P
                if !pointwise {
                    Im2Col.im2col(xi, g, outRows: rows, col)
                    b = UnsafePointer(col); ldb = pt
                }
                GEMM.matmul(m: cout, n: pt, k: R, a: ws.base, lda: R, b: b, ldb: ldb, beta: beta, c: yt, ldc: P)
            }
        }
    }

    /// `dw += Σ_n dy[n]·col(x[n])ᵀ`, `db += Σ dy` (when `db` is given), and `dx = col2im(wᵀ·dy)` when `dx`
    /// is given (every element of `dx` written). Parameter gradients are summed over workers in a fixed order.
    static func backward(
        x: UnsafePointer<Float>, n: Int, g: Im2Col.Geometry, w: UnsafePointer<Float>, cout: Int,
        dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>?,
        dx: UnsafeMutablePointer<Float>?, algorithm: ConvAlgorithm = .im2col
    ) {
        if dx == nil && usesWinograd(g, cout: cout, algorithm) {
            winogradWeightGradient(x: x, n: n, g: g, cout: cout, dy: dy, dw: dw, db: db)
            return
        }
        let P = g.columns, R = g.rows, Wo = g.outWidth, cinPlane = g.channels * g.height * g.width
        let tr = tileRows(g), tiles = (g.outHeight + tr - 1) / tr, pointwise = isPointwise(g)
        let workers = max(1, min(Parallel.workers, n))
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: workers * (cout * R + cout))
        partial.initialize(repeating: 0, count: workers * (cout * R + cout))
        defer { partial.deallocate() }
        let xs = SharedPointer(UnsafeMutablePointer(mutating: x)), dys = SharedPointer(UnsafeMutablePointer(mutating: dy))
        let ws = SharedPointer(UnsafeMutablePointer(mutating: w)), ps = SharedPointer(partial)
        let dxs = dx.map { SharedPointer($0) }
        let direct = usesDirect(g, cout: cout, algorithm), implicit = !direct && usesImplicitPatches(g, algorithm)
        let bf16 = Precision.current == .bf16
        split(n) { worker, images in
            // One tile buffer: the patch matrix (im2col path), then (once dw has used it) the patch-matrix gradient.
            let tileSize = pointwise || ((direct || implicit) && dxs == nil) ? 1 : R * tr * Wo
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
                    if direct {
                        ck_conv_direct_weight_grad(
                            xi, Int32(g.channels), Int32(g.height), Int32(g.width), dys.base + i * cout * P, Int32(cout),
                            Int32(g.kernel), Int32(g.stride), Int32(g.padding), dwp, db == nil ? nil : dbp,
                            Int32(rows.lowerBound), Int32(rows.upperBound))
                    } else if implicit {
                        if db != nil { addBiasGradient(dbp, cout: cout, tile: dyt, stride: P, count: pt) }
                        TimeAccounting.measure(TimeAccounting.gemm) {
                            (bf16 ? ck_conv_bf16_weight_grad : ck_conv_f32_weight_grad)(
                                xi, Int32(g.channels), Int32(g.height), Int32(g.width), Int32(g.kernel), Int32(g.stride),
                                Int32(g.padding), dyt, Int32(P), Int32(cout), Int32(rows.lowerBound),
                                Int32(rows.upperBound), dwp)
                        }
                    } else {
                        var b: UnsafePointer<Float> = UnsafePointer(xi + oh0 * Wo), ldb = P
                        if !pointwise {
                            Im2Col.im2col(xi, g, outRows: rows, col)
                            b = UnsafePointer(col); ldb = pt
                        }
                        if db != nil { addBiasGradient(dbp, cout: cout, tile: dyt, stride: P, count: pt) }
                        // dw[Cout, R] += dy_tile[Cout, pt] · colᵀ[pt, R]
                        GEMM.matmul(transB: true, m: cout, n: R, k: pt, a: dyt, lda: P, b: b, ldb: ldb, beta: 1, c: dwp,
                                   ldc: R)
                    }
                    guard let dxs else { continue }
                    if pointwise {
                        GEMM.matmul(transA: true, m: R, n: pt, k: cout, a: ws.base, lda: R, b: dyt, ldb: P,
                                   c: dxs.base + i * cinPlane + oh0 * Wo, ldc: P)
                    } else {
                        GEMM.matmul(transA: true, m: R, n: pt, k: cout, a: ws.base, lda: R, b: dyt, ldb: P, c: dcol, ldc: pt)
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

/// How `Conv2D` computes its forward pass and weight gradient (and, through the transposed convolution, stride-1
/// input gradients from 64 output channels); all are exact up to summation order.
///
/// `.winograd` is the default where the CPU has AVX-512F (`preferred`): Winograd's minimal filtering for the 3×3
/// stride-1 layers, `.implicit` for the others. `.implicit` is a Goto/BLIS GEMM whose packing reads the
/// patch matrix straight from the image (implicit im2col, `CKernels/gemm_f32.c`), so no patch matrix is written or
/// re-read. Elsewhere `.implicit` is im2col + sgemm, the exact fallback.
///
/// The direct kernel used less single-threaded CPU time than im2col + sgemm in
/// isolation on the stem's forward pass (about 30 %) and on 32-channel 3×3 stride-1 layers (about 15 %), but in
/// `detector bench kernels` (two workers, batch 16, the two timed in alternation on a machine at load 11) it was
/// slower on every shape it applies to, so it is chosen only explicitly until a quieter measurement settles it.
public enum ConvAlgorithm: String, Sendable, CaseIterable {
    /// im2col + sgemm (sgemm alone for pointwise convolutions).
    case im2col
    /// The fp32 GEMM with the patch matrix read in place (AVX-512F; `ck_conv_f32_forward` /
    /// `ck_conv_f32_weight_grad`), im2col + sgemm on other CPUs and for pointwise convolutions.
    case implicit
    /// The direct kernel (`CKernels/conv_direct.c`: no patch matrix) wherever the CPU and the shape allow it
    /// (AVX2 + FMA, 4·j output channels, kernel ≤ 3, stride ≤ 2), im2col + sgemm elsewhere.
    case direct
    /// Winograd's minimal filtering (Lavin & Gray, CVPR 2016) for 3×3 stride-1 convolutions with padding 1 in fp32
    /// on AVX-512F CPUs: the forward pass and input gradient by F(4×4, 3×3) (`CKernels/winograd4_f32.c`, 36
    /// multiplications per 4×4 outputs instead of 144), the weight gradient by F(2×2, 3×3)
    /// (`CKernels/winograd_f32_grad.c`, 16 per 2×2 instead of 36); `.implicit` for every other convolution.
    case winograd

    /// Whether the implicit fp32 GEMM computes the convolutions this algorithm leaves to it (`.implicit`, and
    /// `.winograd` outside its shapes).
    public var usesImplicitKernel: Bool { self == .implicit || self == .winograd }

    /// Whether `.implicit` runs its own kernel here: AVX-512F with the ZMM state saved by the OS (cpuid, XCR0).
    public static let implicitAvailable: Bool = ck_cpu_has_avx512f() == 1

    /// The default of `Conv2D.algorithm`: `.winograd` where the CPU has AVX-512F (Winograd for the 3×3 stride-1
    /// layers, the implicit GEMM for the rest), else `.im2col`.
    public static var preferred: ConvAlgorithm { implicitAvailable ? .winograd : .im2col }
}
