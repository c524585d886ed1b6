import Boxes
import Foundation
import NeuralNet

/// The query-selection set head (as in two-stage Deformable DETR, Zhu et al. ICLR 2021, and RT-DETR, Zhao et al.
/// CVPR 2024): the K best dense anchors become K hypotheses that look at each other and are refined.
///
/// Shape key (reference, C classes, K = 50, N images): per hypothesis, the dense head's shared features at its cell
/// (`[N·K, 64]`; on a pyramid, at its own level's cell) and the stride-16 features through a 1×1 lateral conv at the same place (`[N·K, 64]`, which is the
/// nearest-upsampled map at that cell), with `fineChannels` the stride-4 features under the proposal's centre
/// (`[N·K, 32]`), the dense box as normalised `(cx, cy, w, h)` (4) and the dense class probabilities (C), both
/// without gradient → MLP `64+64(+32)+4+C → 128 → 128` → `attentionLayers` × [self-attention
/// (residual, LayerNorm), FFN 128 → 256 → 128 (residual, LayerNorm)] → box offsets `[N·K, 4]` added to the logit of
/// the dense box, `box = σ(logit(b_dense) + Δ)`, and class logits `[N·K, C + 1]` (last = no-object).
public final class QuerySetHead: Layer {
    /// One self-attention + feed-forward block (post-norm, as DETR's encoder layer).
    final class AttentionBlock {
        let attention: MultiHeadSelfAttention
        let norm1, norm2: LayerNorm
        let ffn1, ffn2: Linear
        let relu = ReLU()

        init(prefix: String, width: Int, heads: Int, hidden: Int, geometryMaps: Int, generator: inout SeededGenerator) {
            // Geometry weights start at 0 for head 0 (global) and grow with the head index (more local).
            let initial = geometryMaps > 0 ? (0..<heads).flatMap { h in [Float](repeating: 2 * Float(h), count: geometryMaps) } : []
            attention = MultiHeadSelfAttention(name: prefix + ".attn", width: width, heads: heads, geometryMaps: geometryMaps,
                                               geometryInit: initial, generator: &generator)
            norm1 = LayerNorm(name: prefix + ".norm1", features: width)
            ffn1 = Linear(name: prefix + ".ffn1", inFeatures: width, outFeatures: hidden, generator: &generator)
            ffn2 = Linear(name: prefix + ".ffn2", inFeatures: hidden, outFeatures: width, generator: &generator)
            norm2 = LayerNorm(name: prefix + ".norm2", features: width)
        }

        var parameters: [Parameter] {
            let layers: [Layer] = [attention, norm1, ffn1, ffn2, norm2]
            return layers.flatMap(\.parameters)
        }

        /// `x: [N, K, D]` → `[N, K, D]`; `geometry`: `[N, G, K, K]` when the attention has geometry maps.
        func forward(_ x: Tensor, geometry: Tensor?) -> Tensor {
            var s = attention.forward(x, geometry: geometry)
            s.add(x)
            let z = norm1.forward(s.reshaped([x.shape[0] * x.shape[1], x.shape[2]]))
            var f = ffn2.forward(relu.forward(ffn1.forward(z)))
            f.add(z)
            return norm2.forward(f).reshaped(x.shape)
        }

        func backward(_ dy: Tensor) -> Tensor {
            let shape = dy.shape
            let df = norm2.backward(dy.reshaped([shape[0] * shape[1], shape[2]]))
            var dz = ffn1.backward(relu.backward(ffn2.backward(df)))
            dz.add(df)
            let ds = norm1.backward(dz).reshaped(shape)
            var dx = attention.backward(ds)
            dx.add(ds)
            return dx
        }
    }

    /// Channels of the dense features and of the lateral stride-16 features.
    public let featureWidth: Int
    /// Number of classes C.
    public let classes: Int
    /// Channels of the stride-4 backbone features each hypothesis also reads at its proposal's centre
    /// (`DetectorConfig.setFineFeatures`); 0 = none.
    public let fineChannels: Int
    /// 1×1 conv from stride-16 features to `featureWidth` channels.
    public let lateral: Conv2D
    let embed1, embed2: Linear
    let embedReLU = ReLU()
    let blocks: [AttentionBlock]
    /// Box offsets and class logits.
    let boxOut, classOut: Linear
    /// Whether the class logits add the dense head's class logits of the proposal (a prior without gradient).
    public let classPrior: Bool
    /// Whether self-attention sees the proposals' pairwise geometry (see `geometryMaps(boxes:n:k:)`).
    public let geometry: Bool
    /// Told of each layer's use in forward and of its gradients in backward (data-parallel overlap); nil alone.
    public var readiness: GradientReadiness?
    /// Progressive acceptance's second stage (`DetectorConfig.setProgressive`), when configured.
    let progressive: ProgressiveStage?
    /// The second stage's outputs for the K queries of the last forward pass (group 0), with `progressive`.
    public private(set) var refined: RefinedHypotheses?
    /// When set, the second stage takes these first-stage boxes `[N·K·4]` and logits `[N·K, C + 1]` of the K queries
    /// instead of the pass's own. They enter it without gradient, so finite-difference tests hold them fixed.
    var pinnedFirstStage: (boxes: [Float], logits: Tensor)?

    /// A head for `classes` classes over dense features of `featureWidth` channels and stride-16 features of
    /// `c4Channels` channels (and stride-4 features of `fineChannels` channels when above 0).
    public init(featureWidth: Int, c4Channels: Int, fineChannels: Int = 0, classes: Int, width: Int, heads: Int, hidden: Int,
                layers: Int, classPrior: Bool = false, geometry: Bool = false, progressive: Float? = nil,
                generator: inout SeededGenerator) {
        self.featureWidth = featureWidth
        self.fineChannels = fineChannels
        self.classPrior = classPrior
        self.geometry = geometry
        self.classes = classes
        lateral = Conv2D(name: "set.lateral", inChannels: c4Channels, outChannels: featureWidth, kernelSize: 1,
                         generator: &generator)
        embed1 = Linear(name: "set.embed1", inFeatures: 2 * featureWidth + fineChannels + 4 + classes, outFeatures: width, generator: &generator)
        embed2 = Linear(name: "set.embed2", inFeatures: width, outFeatures: width, generator: &generator)
        var blocks: [AttentionBlock] = []
        for l in 0..<layers {
            blocks.append(AttentionBlock(prefix: "set.layer\(l)", width: width, heads: heads, hidden: hidden,
                                         geometryMaps: geometry ? 2 : 0, generator: &generator))
        }
        self.blocks = blocks
        boxOut = Linear(name: "set.box", inFeatures: width, outFeatures: 4, initializer: .normal(std: 0.001), generator: &generator)
        classOut = Linear(name: "set.cls", inFeatures: width, outFeatures: classes + 1, generator: &generator)
        self.progressive = progressive.map {
            ProgressiveStage(threshold: $0, classes: classes, width: width, heads: heads, hidden: hidden,
                             geometry: geometry, generator: &generator)
        }
    }

    /// All parameters in forward order.
    public var parameters: [Parameter] {
        let front: [Layer] = [lateral, embed1, embed2], back: [Layer] = [boxOut, classOut]
        return front.flatMap(\.parameters) + blocks.flatMap(\.parameters) + back.flatMap(\.parameters)
            + (progressive?.parameters ?? [])
    }

    /// What the forward pass keeps for backward.
    struct Saved {
        var levels: [[Int]], cells: [[Int]], shapes: [[Int]]
        var cells16: [[Int]], shape16: [Int]
        var cells4: [[Int]], shape4: [Int]
        var boxes: [Float]
        var n: Int, k: Int, groups: Int
    }
    var saved: Saved?

    /// The forward pass on one feature level (stride 8): `forward(features: [features], levels: 0s, …, strides: [8])`.
    public func forward(features: Tensor, c4: Tensor, cells: [[Int]], proposals: [Float], proposalScores: [Float])
        -> (boxes: [Float], logits: Tensor)
    {
        forward(features: [features], c4: c4, levels: cells.map { $0.map { _ in 0 } }, cells: cells, strides: [8],
                proposals: proposals, proposalScores: proposalScores)
    }

    /// The forward pass.
    /// - Parameters:
    ///   - features: per level, the dense head's shared features `[N, F, H_l, W_l]` (stride `strides[l]`).
    ///   - c4: stride-16 backbone features `[N, C4, S/16, S/16]`.
    ///   - levels: per image, the level of each of the K selected anchors.
    ///   - cells: per image, the K selected cells `y·W_l + x` of their level's map.
    ///   - strides: the levels' strides (a cell `(y, x)` of stride s reads the stride-16 map at `(⌊y·s/16⌋, ⌊x·s/16⌋)`).
    ///   - proposals: `[N·K·4]` dense boxes as normalised `(cx, cy, w, h)`, no gradient.
    ///   - proposalScores: `[N·K·C]` dense class probabilities, no gradient.
    ///   - fine: with `fineChannels` above 0, the stride-4 backbone features `[N, fineChannels, H/4, W/4]`, read at the
    ///     cell under each proposal's centre.
    ///   - groups: the K hypotheses of an image are this many groups of K / groups, one after the other, and attention
    ///     stays within each group (hybrid matching's second group, `DetectorConfig.setOneToMany`); 1 by default.
    /// - Returns: `boxes: [N·K·4]` normalised `(cx, cy, w, h)` and `logits: [N·K, C + 1]`.
    public func forward(features: [Tensor], c4: Tensor, levels: [[Int]], cells: [[Int]], strides: [Int],
                        proposals: [Float], proposalScores: [Float], fine: Tensor? = nil, groups: Int = 1)
        -> (boxes: [Float], logits: Tensor)
    {
        precondition((fine?.shape[1] ?? 0) == fineChannels, "QuerySetHead: \(fineChannels) fine channels expected")
        let n = c4.shape[0]
        let k = cells.first?.count ?? 0
        precondition(groups >= 1 && k % groups == 0, "QuerySetHead: \(k) hypotheses do not split into \(groups) groups")
        if let readiness {
            for layer in [lateral, embed1, embed2] as [Layer] { readiness.used(layer.parameters) }
            for block in blocks { readiness.used(block.parameters) }
            readiness.used(boxOut.parameters)
            readiness.used(classOut.parameters)
            if let progressive { readiness.used(progressive.parameters) }
        }
        let lat = lateral.forward(c4)
        let (h16, w16) = (lat.shape[2], lat.shape[3])
        let cells16 = zip(levels, cells).map { lv, cs in
            zip(lv, cs).map { l, c -> Int in
                let (s, w) = (strides[l], features[l].shape[3])
                return min((c / w) * s / 16, h16 - 1) * w16 + min((c % w) * s / 16, w16 - 1)
            }
        }
        let a = Self.gather(features, levels: levels, cells: cells), b = Gather.cells(lat, cells: cells16)
        let cells4: [[Int]] = fine.map { map in
            let flat = Self.centreCells(proposals, map: map)
            return (0..<n).map { Array(flat[($0 * k)..<($0 * k + k)]) }
        } ?? []
        let fineRows = fine.map { Gather.cells($0, cells: cells4) }
        let f = featureWidth, f4 = fineChannels, rows = n * k, inWidth = 2 * f + f4 + 4 + classes
        var input = Tensor(shape: [rows, inWidth])
        input.data.withUnsafeMutableBufferPointer { dst in
            for r in 0..<rows {
                let o = r * inWidth
                for j in 0..<f { dst[o + j] = a.data[r * f + j]; dst[o + f + j] = b.data[r * f + j] }
                if let c = fineRows { for j in 0..<f4 { dst[o + 2 * f + j] = c.data[r * f4 + j] } }
                for j in 0..<4 { dst[o + 2 * f + f4 + j] = proposals[r * 4 + j] }
                for j in 0..<classes { dst[o + 2 * f + f4 + 4 + j] = proposalScores[r * classes + j] }
            }
        }
        var e = embed2.forward(embedReLU.forward(embed1.forward(input)))
        // Each group is a set of its own: tokens are image-major, then group-major, so `[N, K]` is `[N·G, K/G]`.
        let (sets, perSet) = (n * groups, k / groups)
        e = e.reshaped([sets, perSet, e.shape[1]])
        let maps = geometry ? Self.geometryMaps(boxes: proposals, n: sets, k: perSet) : nil
        for block in blocks { e = block.forward(e, geometry: maps) }
        let z = e.reshaped([rows, e.shape[2]])
        let delta = boxOut.forward(z)
        var logits = classOut.forward(z)
        if classPrior {
            // Dense-score prior: each real class starts from the dense head's logit for it (no gradient), so the
            // hypotheses begin ranked as the dense head ranks them and learn what to change (duplicates, misses).
            let c1 = classes + 1
            for r in 0..<rows {
                for j in 0..<classes {
                    let p = min(max(proposalScores[r * classes + j], 1e-6), 1 - 1e-6)
                    logits.data[r * c1 + j] += log(p / (1 - p))
                }
            }
        }
        let boxes = Self.refined(proposals, by: delta)
        saved = Saved(levels: levels, cells: cells, shapes: features.map(\.shape), cells16: cells16, shape16: lat.shape,
                      cells4: cells4, shape4: fine?.shape ?? [], boxes: boxes, n: n, k: k, groups: groups)
        refined = progressive.map { stage in
            let rows = Self.firstGroupRows(n: n, k: k, groups: groups), d = z.shape[1], per = classes + 1
            let first = pinnedFirstStage ?? (rows.flatMap { boxes[($0 * 4)..<($0 * 4 + 4)] },
                                             Tensor(shape: [rows.count, per],
                                                    data: rows.flatMap { logits.data[($0 * per)..<($0 * per + per)] }))
            let tokens = Tensor(shape: [rows.count, d], data: rows.flatMap { z.data[($0 * d)..<($0 * d + d)] })
            let r = stage.forward(tokens: tokens, boxes: first.boxes, logits: first.logits, n: n, k: k / groups)
            return RefinedHypotheses(boxes: r.boxes, logits: r.logits, accepted: r.accepted)
        }
        return (boxes, logits)
    }

    /// The pairwise geometry of the proposals that attention sees, `[N, 2, K, K]`: map 0 is the IoU of
    /// proposals i and j, map 1 the same IoU where j ranks above i (j < i: a higher dense score) and 0 elsewhere,
    /// so a head can learn which proposals duplicate a better one (the relation a learnt NMS needs, Hosang et
    /// al., "Learning non-maximum suppression", CVPR 2017). `boxes`: `[N·K·4]` normalised `(cx, cy, w, h)`.
    public static func geometryMaps(boxes: [Float], n: Int, k: Int) -> Tensor {
        var maps = Tensor(shape: [n, 2, k, k])
        for b in 0..<n {
            let set = (0..<k).map { i -> Box in
                let o = (b * k + i) * 4
                return Box(cx: Double(boxes[o]), cy: Double(boxes[o + 1]), w: Double(boxes[o + 2]), h: Double(boxes[o + 3]))
            }
            for i in 0..<k {
                for j in 0..<k {
                    let v = iou(set[i], set[j], eps: 0)
                    let overlap = v.isFinite ? Float(v) : 0  // two empty boxes: no overlap
                    maps.data[((b * 2) * k + i) * k + j] = overlap
                    maps.data[((b * 2 + 1) * k + i) * k + j] = j < i ? overlap : 0
                }
            }
        }
        return maps
    }

    /// The cell `y·W + x` of a stride-4 map `[N, C, H, W]` under each proposal's centre (`proposals`: `[N·K·4]`
    /// normalised by the input's longer side, which is `4·max(H, W)`).
    static func centreCells(_ proposals: [Float], map: Tensor) -> [Int] {
        let (h, w) = (map.shape[2], map.shape[3]), side = Float(max(h, w))
        return stride(from: 0, to: proposals.count, by: 4).map { o in
            let x = min(max(Int(proposals[o] * side), 0), w - 1), y = min(max(Int(proposals[o + 1] * side), 0), h - 1)
            return y * w + x
        }
    }

    /// Gradients w.r.t. the output boxes and logits → gradients w.r.t. the dense features of every level, `c4` and
    /// the stride-4 features (nil without `fineChannels`).
    /// With `progressive`, `dRefinedBoxes` and `dRefinedLogits` (the gradients w.r.t. `refined`'s boxes and logits)
    /// go through the second stage first; without them it gets none.
    public func backward(dBoxes: [Float], dLogits: Tensor, dRefinedBoxes: [Float]? = nil, dRefinedLogits: Tensor? = nil)
        -> (dFeatures: [Tensor], dC4: Tensor, dFine: Tensor?)
    {
        guard let s = saved else { preconditionFailure("QuerySetHead.backward before forward") }
        let rows = s.n * s.k
        let dDelta = Self.offsetGradient(dBoxes, refined: s.boxes)
        var dTokens: Tensor? = nil
        if let stage = progressive {
            if let dRefinedBoxes, let dRefinedLogits {
                dTokens = stage.backward(dBoxes: dRefinedBoxes, dLogits: dRefinedLogits)
            }
            readiness?.accumulated(stage.parameters)
        }
        var dz = classOut.backward(dLogits)
        readiness?.accumulated(classOut.parameters)
        dz.add(boxOut.backward(dDelta))
        readiness?.accumulated(boxOut.parameters)
        if let dTokens {
            let d = dz.shape[1]
            for (i, r) in Self.firstGroupRows(n: s.n, k: s.k, groups: s.groups).enumerated() {
                for j in 0..<d { dz.data[r * d + j] += dTokens.data[i * d + j] }
            }
        }
        var de = dz.reshaped([s.n * s.groups, s.k / s.groups, dz.shape[1]])
        for block in blocks.reversed() {
            de = block.backward(de)
            readiness?.accumulated(block.parameters)
        }
        let dEmbedded = embedReLU.backward(embed2.backward(de.reshaped([rows, de.shape[2]])))
        readiness?.accumulated(embed2.parameters)
        let dInput = embed1.backward(dEmbedded)
        readiness?.accumulated(embed1.parameters)
        let f = featureWidth, f4 = fineChannels, inWidth = dInput.shape[1]
        var da = Tensor(shape: [rows, f]), db = Tensor(shape: [rows, f]), dc = Tensor(shape: [rows, f4])
        for r in 0..<rows {
            for j in 0..<f { da.data[r * f + j] = dInput.data[r * inWidth + j]; db.data[r * f + j] = dInput.data[r * inWidth + f + j] }
            for j in 0..<f4 { dc.data[r * f4 + j] = dInput.data[r * inWidth + 2 * f + j] }
        }
        var dFine: Tensor? = nil
        if f4 > 0 {
            var d = Tensor(shape: s.shape4)
            Gather.cellsBackward(dOut: dc.reshaped([s.n, s.k, f4]), cells: s.cells4, dX: &d)
            dFine = d
        }
        var dFeatures = s.shapes.map { Tensor(shape: $0) }, dLat = Tensor(shape: s.shape16)
        Self.gatherBackward(dOut: da.reshaped([s.n, s.k, f]), levels: s.levels, cells: s.cells, dX: &dFeatures)
        Gather.cellsBackward(dOut: db.reshaped([s.n, s.k, f]), cells: s.cells16, dX: &dLat)
        let dC4 = lateral.backward(dLat)
        readiness?.accumulated(lateral.parameters)
        return (dFeatures, dC4, dFine)
    }

    /// Boxes refined by offsets in logit space: `σ(logit(b) + Δ)` per coordinate, `b` clamped to `[1e-4, 1 − 1e-4]`
    /// (`boxes`: `[R·4]`, `delta`: `[R, 4]`).
    static func refined(_ boxes: [Float], by delta: Tensor) -> [Float] {
        (0..<boxes.count).map { i in
            let p = min(max(boxes[i], 1e-4), 1 - 1e-4)
            let t = log(p / (1 - p)) + delta.data[i]
            return 1 / (1 + exp(-t))
        }
    }

    /// The gradient w.r.t. the offsets `Δ` of `refined(_:by:)`, from the gradient w.r.t. its output `refined`.
    static func offsetGradient(_ dRefined: [Float], refined: [Float]) -> Tensor {
        let data = (0..<refined.count).map { dRefined[$0] * refined[$0] * (1 - refined[$0]) }
        return Tensor(shape: [refined.count / 4, 4], data: data)
    }

    /// The rows of the K queries (group 0) among `n` images' `k` tokens in `groups` groups, image-major.
    static func firstGroupRows(n: Int, k: Int, groups: Int) -> [Int] {
        (0..<n).flatMap { b in (b * k)..<(b * k + k / groups) }
    }

    /// Each token's feature vector from its own level's map: `maps[l]: [N, F, H_l, W_l]`, per image K levels and cells
    /// → `[N, K, F]`, `out[b, t, c] = maps[levels[b][t]][b, c, cells[b][t]]` (one level: `Gather.cells`).
    static func gather(_ maps: [Tensor], levels: [[Int]], cells: [[Int]]) -> Tensor {
        let n = levels.count, k = levels.first?.count ?? 0, f = maps[0].shape[1]
        var out = Tensor(shape: [n, k, f])
        for b in 0..<n {
            for t in 0..<k {
                let m = maps[levels[b][t]], size = m.shape[2] * m.shape[3], cell = cells[b][t]
                precondition(cell >= 0 && cell < size, "QuerySetHead: cell \(cell) outside level \(levels[b][t])")
                let base = b * f * size + cell, o = (b * k + t) * f
                for c in 0..<f { out.data[o + c] = m.data[base + c * size] }
            }
        }
        return out
    }

    /// Backward of `gather`: `dX[levels[b][t]][b, c, cells[b][t]] += dOut[b, t, c]`.
    static func gatherBackward(dOut: Tensor, levels: [[Int]], cells: [[Int]], dX: inout [Tensor]) {
        let k = dOut.shape[1], f = dOut.shape[2]
        for b in levels.indices {
            for t in 0..<k {
                let l = levels[b][t], size = dX[l].shape[2] * dX[l].shape[3]
                let base = b * f * size + cells[b][t], o = (b * k + t) * f
                for c in 0..<f { dX[l].data[base + c * size] += dOut.data[o + c] }
            }
        }
    }
}
