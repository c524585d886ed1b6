/// Multi-head scaled dot-product self-attention (Vaswani et al., "Attention Is All You Need", NeurIPS 2017, §3.2),
/// the layer through which the set head's hypotheses look at each other.
///
/// Shapes: `x: [B, K, D]` (B sets of K tokens of width D), `heads` = H divides D, head width `d = D/H`.
/// Forward: `Q = x·Wqᵀ + bq`, `K = x·Wkᵀ + bk`, `V = x·Wvᵀ + bv` (each `[B, K, D]`); per set and head h, on
/// columns `h·d ..< (h+1)·d`: `P = softmax(Q_h·K_hᵀ / √d)` (`[K, K]`, rows over keys), `O_h = P·V_h`;
/// `y = O·Woᵀ + bo`, `[B, K, D]`. No mask and no dropout: every token attends to every token of its own set.
///
/// Geometry bias (optional, `geometryMaps` G > 0): the caller passes G pairwise maps `[B, G, K, K]` (for boxes:
/// IoU, IoU with higher-ranked boxes…) and each head adds a learnt mix of them to its scores before the softmax,
/// `S_h = Q_h·K_hᵀ/√d + Σ_g λ[h, g]·M_g`, the geometric attention weights of Relation Networks (Hu et al.,
/// "Relation Networks for Object Detection", CVPR 2018) in their simplest form. `λ` is `<name>.geometry`, `[H, G]`,
/// without weight decay.
/// Parameters (PyTorch `nn.Linear` layout `[out, in]`): `<name>.{q,k,v,out}_proj.{weight,bias}`; weights
/// Xavier-uniform (`Initializer.xavierUniform()`, bound `√(6/2D)`), biases zero and without weight decay.
/// Backward (in `MultiHeadSelfAttention+Backward.swift`) reads the forward in reverse and accumulates (`+=`)
/// every parameter gradient.
public final class MultiHeadSelfAttention: UnaryLayer {
    /// Dotted name prefix of the parameters.
    public let name: String
    /// Token width D.
    public let width: Int
    /// Number of heads H.
    public let heads: Int
    /// Query, key, value and output projections.
    let q, k, v, out: AttentionProjection
    /// Per head, the weight of each geometry map (`[H, G]`); nil without geometry bias.
    public let geometry: Parameter?
    /// Number of geometry maps G the forward pass expects.
    public var geometryMaps: Int { geometry?.value.shape[1] ?? 0 }
    /// The geometry maps of the last forward pass, `[B, G, K, K]`, for backward.
    var lastGeometry: Tensor?

    /// What `backward` needs from the last `forward`, in buffers reused while the input shape stays the same.
    final class Workspace {
        let shape: [Int]
        /// Input, projections and head outputs `[B·K, D]`; attention probabilities `[B, H, K, K]`.
        let x, q, k, v, o, p: AttentionBuffer
        /// Backward scratch: gradients of the head outputs and projections `[B·K, D]`, one head's `dP`, `dS`.
        let dO, dQ, dK, dV, dP, dS: AttentionBuffer

        init(shape: [Int], heads: Int) {
            self.shape = shape
            let rows = shape[0] * shape[1], tokens = shape[1]
            let n = rows * shape[2]
            (x, q, k, v, o) = (.init(n), .init(n), .init(n), .init(n), .init(n))
            p = .init(shape[0] * heads * tokens * tokens)
            (dO, dQ, dK, dV) = (.init(n), .init(n), .init(n), .init(n))
            (dP, dS) = (.init(tokens * tokens), .init(tokens * tokens))
        }
    }
    /// The last forward pass (nil before the first).
    var workspace: Workspace?

    /// An attention layer over tokens of `width` features split into `heads` heads, its parameters named
    /// `<name>.q_proj.weight` etc.; the four weights are drawn in order q, k, v, out from `generator`.
    /// - Parameter geometryInit: `[H·G]` initial geometry weights (head-major); empty for none.
    public init(name: String, width: Int, heads: Int, geometryMaps: Int = 0, geometryInit: [Float] = [],
                generator: inout SeededGenerator) {
        precondition(geometryInit.isEmpty || geometryInit.count == heads * geometryMaps,
                     "MultiHeadSelfAttention \(name): geometryInit needs \(heads)·\(geometryMaps) values")
        precondition(width > 0 && heads > 0 && width % heads == 0,
                     "MultiHeadSelfAttention \(name): \(heads) heads ∤ width \(width)")
        self.name = name
        self.width = width
        self.heads = heads
        func projection(_ suffix: String) -> AttentionProjection {
            let weight = Initializer.xavierUniform().tensor(shape: [width, width], generator: &generator)
            return AttentionProjection(prefix: "\(name).\(suffix)", weight: weight)
        }
        q = projection("q_proj")
        k = projection("k_proj")
        v = projection("v_proj")
        out = projection("out_proj")
        geometry = geometryMaps > 0
            ? Parameter(name: "\(name).geometry",
                        value: Tensor(shape: [heads, geometryMaps],
                                      data: geometryInit.isEmpty ? [Float](repeating: 0, count: heads * geometryMaps) : geometryInit),
                        decays: false)
            : nil
    }

    /// `q_proj.weight, q_proj.bias, k_proj…, v_proj…, out_proj…`.
    public var parameters: [Parameter] {
        [q, k, v, out].flatMap { [$0.weight, $0.bias] } + (geometry.map { [$0] } ?? [])
    }

    /// The attention probabilities of the last forward pass, `[B, H, K, K]` (row = query, column = key).
    public var lastAttention: Tensor? {
        guard let w = workspace else { return nil }
        return Tensor(shape: [w.shape[0], heads, w.shape[1], w.shape[1]], data: Array(w.p.buffer))
    }

    /// `1/√d`, the score scale.
    var scale: Float { 1 / Float(width / heads).squareRoot() }

    /// Attends within each set of `x: [B, K, D]`; returns `[B, K, D]` and keeps what `backward` needs.
    public func forward(_ x: Tensor) -> Tensor { forward(x, geometry: nil) }

    /// Attends within each set of `x: [B, K, D]` with the geometry maps `[B, G, K, K]` (required when the layer
    /// has `geometryMaps` > 0, ignored otherwise); returns `[B, K, D]`.
    public func forward(_ x: Tensor, geometry maps: Tensor?) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == width,
                     "MultiHeadSelfAttention \(name): input \(x.shape), want [B, K, \(width)]")
        let g = geometryMaps
        if g > 0 {
            precondition(maps?.shape == [x.shape[0], g, x.shape[1], x.shape[1]],
                         "MultiHeadSelfAttention \(name): geometry \(maps?.shape ?? []), want [B, \(g), K, K]")
            lastGeometry = maps
        }
        let (batch, tokens, d) = (x.shape[0], x.shape[1], width)
        let rows = batch * tokens, headWidth = d / heads, scale = self.scale
        if workspace?.shape != x.shape { workspace = Workspace(shape: x.shape, heads: heads) }
        let w = workspace!
        var y = Tensor(shape: x.shape)
        guard rows > 0 else { return y }
        x.data.withUnsafeBufferPointer { w.x.pointer.update(from: $0.baseAddress!, count: $0.count) }
        q.forward(w.x.pointer, rows: rows, into: w.q.pointer)
        k.forward(w.x.pointer, rows: rows, into: w.k.pointer)
        v.forward(w.x.pointer, rows: rows, into: w.v.pointer)
        for b in 0..<batch {
            for h in 0..<heads {
                let column = b * tokens * d + h * headWidth
                let probabilities = w.p.pointer + (b * heads + h) * tokens * tokens
                // scores[K, K] = Q_h · K_hᵀ / √d, then softmax over each row (over keys)
                GEMM.matmul(transB: true, m: tokens, n: tokens, k: headWidth, alpha: scale, a: w.q.pointer + column,
                           lda: d, b: w.k.pointer + column, ldb: d, c: probabilities, ldc: tokens)
                if g > 0, let maps, let lambda = geometry?.value.data {
                    maps.data.withUnsafeBufferPointer { mp in
                        for m in 0..<g {
                            let weight = lambda[h * g + m], map = mp.baseAddress! + (b * g + m) * tokens * tokens
                            for i in 0..<(tokens * tokens) { probabilities[i] += weight * map[i] }
                        }
                    }
                }
                Softmax.forwardRows(probabilities, rows: tokens, width: tokens)
                // O_h[K, d] = P · V_h
                GEMM.matmul(m: tokens, n: headWidth, k: tokens, a: probabilities, lda: tokens,
                           b: w.v.pointer + column, ldb: d, c: w.o.pointer + column, ldc: d)
            }
        }
        y.data.withUnsafeMutableBufferPointer { out.forward(w.o.pointer, rows: rows, into: $0.baseAddress!) }
        return y
    }
}

/// A heap block of Floats, zeroed at allocation and freed with its owner.
final class AttentionBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    /// The contents, for copying out.
    var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: pointer, count: count) }

    /// Sets every element to zero.
    func zero() { pointer.update(repeating: 0, count: count) }
}
