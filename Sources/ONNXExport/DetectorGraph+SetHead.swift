import DetectorModel
import Foundation
import NeuralNet

/// The set heads as graph nodes (`QuerySetHead.forward`, `GlobalSetHead.forward`).
extension DetectorGraph {
    /// The query head on the selected anchors `[N, K]`: gathers the dense features at their cells and the lateral
    /// stride-16 features at the cells below, appends the proposals (normalised dense boxes) and their dense
    /// probabilities, embeds `2F + 4 + C → D → D` (with `fine`, the stride-4 features under each proposal's centre
    /// after the lateral ones: `2F + F₄ + 4 + C`), runs the attention blocks and returns boxes
    /// `σ(logit(clamp(proposal, 1e-4, 1 − 1e-4)) + Δ)` `[N, K, 4]` and class logits `[N, K, C + 1]`.
    func querySetHead(features: String, c4: String, fine: String?, selected: String, boxes: String, scores: String,
                      logits: String) -> (boxes: String, logits: String)
    {
        guard let head = detector.querySet else { preconditionFailure("DetectorGraph: no query head") }
        let f = config.featureSize, f16 = config.inputSize / 16, width = head.featureWidth
        let cells = g.op("Div", selected, g.constant("anchors_per_cell", ints: [config.anchorsPerLocation], shape: []))
        let fc = g.constant("feature_side", ints: [f], shape: [])
        let two = g.constant("two", ints: [2], shape: []), last = g.constant("last_cell", ints: [f16 - 1], shape: [])
        let y16 = g.op("Min", g.op("Div", g.op("Div", cells, fc), two), last)
        let x16 = g.op("Min", g.op("Div", g.op("Mod", cells, fc), two), last)
        let cells16 = g.op("Add", g.op("Mul", y16, g.constant("c4_side", ints: [f16], shape: [])), x16)
        func rows(_ map: String) -> String { g.transpose(g.reshape(map, [0, width, -1]), [0, 2, 1]) }  // [N, H·W, F]
        let lateral = conv(c4, head.lateral, relu: false)
        let proposals = proposals(selectedBoxes: g.gatherRows(boxes, selected))
        let proposalScores = g.gatherRows(scores, selected)
        var parts = [g.gatherRows(rows(features), cells), g.gatherRows(rows(lateral), cells16)]
        if let fine {
            // `QuerySetHead.centreCells` on the square input: ⌊centre · S/4⌋ clamped to the map, as y·(S/4) + x.
            let side = config.inputSize / 4
            let centre = g.op("Floor", g.op("Mul", g.slice(proposals, axis: 2, from: 0, to: 2), g.scalar("fine_side", Float(side))))
            let xy = g.op("Cast", g.op("Clip", centre, g.scalar("fine_min", 0), g.scalar("fine_max", Float(side - 1))),
                          attributes: [.int("to", 7)])
            let cell = g.op("ReduceSum", g.op("Mul", xy, g.constant("fine_strides", ints: [1, side], shape: [2])),
                            g.constant("axes", ints: [2]), attributes: [.int("keepdims", 0)])
            let fineRows = g.transpose(g.reshape(fine, [0, head.fineChannels, -1]), [0, 2, 1])  // [N, (S/4)², F₄]
            parts.append(g.gatherRows(fineRows, cell))
        }
        let input = g.concat(parts + [proposals, proposalScores], axis: 2)
        let embed = head.embedding
        var e = g.linear(g.op("Relu", g.linear(input, embed.first)), embed.second)
        let maps = head.geometry ? geometryMaps(proposals) : nil
        for block in head.attentionBlocks { e = attentionBlock(e, block, geometry: maps) }
        let delta = g.linear(e, head.outputs.box)
        var classLogits = g.linear(e, head.outputs.classes)
        if head.classPrior {
            let p = g.op("Clip", proposalScores, g.scalar("p_min", 1e-6), g.scalar("p_max", 1 - 1e-6))
            let prior = g.op("Log", g.op("Div", p, g.op("Sub", g.scalar("one", 1), p)))
            let padded = g.op("Pad", prior, g.constant("pads", ints: [0, 0, 0, 0, 0, 1]), g.scalar("zero", 0))
            classLogits = g.op("Add", classLogits, padded, name: "set.cls_prior")
        }
        let q = g.op("Clip", proposals, g.scalar("q_min", 1e-4), g.scalar("q_max", 1 - 1e-4))
        let t = g.op("Add", g.op("Log", g.op("Div", q, g.op("Sub", g.scalar("one", 1), q))), delta)
        return (g.op("Sigmoid", t, name: "set_box_normalised"), classLogits)
    }

    /// `QuerySetHead.geometryMaps`: `[N, 2, K, K]`, map 0 the IoU of proposals i and j, map 1 the same where j < i.
    /// The proposals' sides are at least one pixel, so every union is positive.
    func geometryMaps(_ proposals: String) -> String {
        let k = config.hypotheses, half = g.scalar("half", 0.5)
        let centre = g.slice(proposals, axis: 2, from: 0, to: 2), size = g.slice(proposals, axis: 2, from: 2, to: 4)
        let lo = g.op("Sub", centre, g.op("Mul", size, half)), hi = g.op("Add", centre, g.op("Mul", size, half))
        let extent = g.op("Sub", hi, lo)
        let area = g.op("Mul", g.slice(extent, axis: 2, from: 0, to: 1), g.slice(extent, axis: 2, from: 1, to: 2))  // [N, K, 1]
        func pairs(_ x: String, _ j: Int) -> (row: String, column: String) {
            let v = g.slice(x, axis: 2, from: j, to: j + 1)  // [N, K, 1]
            return (v, g.transpose(v, [0, 2, 1]))          // [N, 1, K]
        }
        var overlap: [String] = []
        for j in 0..<2 {
            let (l, lt) = pairs(lo, j), (h, ht) = pairs(hi, j)
            let side = g.op("Sub", g.op("Min", h, ht), g.op("Max", l, lt))
            overlap.append(g.op("Max", side, g.scalar("zero", 0)))
        }
        let inter = g.op("Mul", overlap[0], overlap[1])
        let union = g.op("Sub", g.op("Add", area, g.transpose(area, [0, 2, 1])), inter)
        let iou = g.op("Div", inter, union, name: "proposal_iou")
        var lower = [Float](repeating: 0, count: k * k)
        for i in 0..<k { for j in 0..<i { lower[i * k + j] = 1 } }
        let ranked = g.op("Mul", iou, g.constant("higher_ranked", floats: lower, shape: [k, k]))
        return g.concat([g.unsqueeze(iou, [1]), g.unsqueeze(ranked, [1])], axis: 1)
    }

    /// One post-norm block: `z = LN₁(x + attention(x))`, `LN₂(z + ffn₂(relu(ffn₁(z))))`, `[N, K, D]`.
    func attentionBlock(_ x: String, _ block: AttentionBlockLayers, geometry: String?) -> String {
        let s = g.op("Add", selfAttention(x, block.attention, geometry: geometry), x)
        let z = layerNorm(s, block.norm1)
        let f = g.linear(g.op("Relu", g.linear(z, block.ffn1)), block.ffn2)
        return layerNorm(g.op("Add", f, z), block.norm2)
    }

    /// `LayerNormalization` over the last axis (opset 17).
    func layerNorm(_ x: String, _ norm: LayerNorm) -> String {
        g.op("LayerNormalization", x, g.constant(norm.name + ".weight", norm.weight.value), g.constant(norm.name + ".bias", norm.bias.value),
             attributes: [.int("axis", -1), .float("epsilon", norm.epsilon)], name: norm.name)
    }

    /// `MultiHeadSelfAttention.forward`: per head `softmax(Q_h·K_hᵀ/√d + Σ_g λ[h, g]·M_g)·V_h`, then the output
    /// projection. `x: [N, K, D]` → `[N, K, D]`; heads split as `[N, K, H, d]` → `[N, H, K, d]`.
    func selfAttention(_ x: String, _ layer: MultiHeadSelfAttention, geometry: String?) -> String {
        let h = layer.heads, d = layer.width / h
        let p = layer.projectionWeights  // q, k, v, out
        func heads(_ j: Int, _ perm: [Int]) -> String {
            g.transpose(g.reshape(g.linear(x, weight: p[j].weight, bias: p[j].bias, name: p[j].name), [0, 0, h, d]), perm)
        }
        let q = heads(0, [0, 2, 1, 3]), k = heads(1, [0, 2, 3, 1]), v = heads(2, [0, 2, 1, 3])
        var scores = g.op("Mul", g.op("MatMul", q, k), g.scalar("scale", 1 / Float(d).squareRoot()), name: layer.name + ".scores")
        if let maps = geometry, let lambda = layer.geometry {
            let kk = config.hypotheses
            let flat = g.reshape(maps, [0, lambda.value.shape[1], kk * kk])                  // [N, G, K·K]
            let mixed = g.op("MatMul", g.constant(layer.name + ".geometry", lambda.value), flat)  // [N, H, K·K]
            scores = g.op("Add", scores, g.reshape(mixed, [0, h, kk, kk]))
        }
        let attention = g.op("Softmax", scores, attributes: [.int("axis", -1)])
        let o = g.reshape(g.transpose(g.op("MatMul", attention, v), [0, 2, 1, 3]), [0, 0, layer.width])
        return g.linear(o, weight: p[3].weight, bias: p[3].bias, name: p[3].name)
    }

    /// The global head: conv1×1 + ReLU on `c4`, flatten, `Linear` + ReLU, `Linear` → `[N, K, 4 + C + 1]`, split into
    /// `σ(box)` and the class logits.
    func globalSetHead(c4: String) -> (boxes: String, logits: String) {
        guard let head = detector.globalSet else { preconditionFailure("DetectorGraph: no global head") }
        let layers = head.layers
        let flat = g.reshape(conv(c4, layers.reduce, relu: true), [0, -1])
        let hidden = g.op("Relu", g.linear(flat, layers.fc1))
        let y = g.reshape(g.linear(hidden, layers.fc2), [0, head.hypotheses, 5 + head.classes])
        return (g.op("Sigmoid", g.slice(y, axis: 2, from: 0, to: 4)), g.slice(y, axis: 2, from: 4, to: 5 + head.classes))
    }
}
