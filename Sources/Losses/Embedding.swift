import Foundation

// Losses on pairs or triplets of values / embeddings, the KL divergence and the centre loss.
// Matrices are `[N × D]` row-major; label arrays are `±1` as `Double` (PyTorch's float targets).

extension Loss {
    /// Hinge embedding loss (PyTorch `hinge_embedding_loss`): `x` where `y ≠ −1`, plus
    /// `max(0, margin − x)` where `y ≠ 1` (so `y = ±1` picks one term). Gradient w.r.t. `x` only.
    /// - Parameters: `input`, `labels`: `[N]`; `margin`: default 1.
    public static func hingeEmbedding(
        input: [Double], labels: [Double], margin: Double = 1, reduction: Reduction = .mean
    ) throws -> LossResult {
        let name = "hinge_embedding"
        precondition(input.count == labels.count, "\(name): input and labels counts differ")
        try checkFinite(input, loss: name, input: "input")
        try checkFinite(labels, loss: name, input: "labels")
        var v = [Double](repeating: 0, count: input.count), g = v
        for i in input.indices {
            let x = input[i], y = labels[i]
            if y != 1 {
                let h = margin - x
                v[i] += max(h, 0)
                if h >= 0 { g[i] -= 1 }
            }
            if y != -1 {
                v[i] += x
                g[i] += 1
            }
        }
        return try reduce(v, [g], reduction, denominator: Double(input.count), loss: name)
    }

    /// Margin ranking loss (PyTorch `margin_ranking_loss`): `max(0, −y·(x1 − x2) + margin)`.
    /// Gradients `[d/d x1, d/d x2]` (the subgradient at the hinge is taken from the active side, as PyTorch).
    /// - Parameters: `input1`, `input2`, `labels` (`±1`): `[N]`; `margin`: default 0.
    public static func marginRanking(
        input1: [Double], input2: [Double], labels: [Double], margin: Double = 0, reduction: Reduction = .mean
    ) throws -> LossResult {
        let name = "margin_ranking"
        precondition(input1.count == input2.count && input1.count == labels.count, "\(name): counts differ")
        try checkFinite(input1, loss: name, input: "input1")
        try checkFinite(input2, loss: name, input: "input2")
        try checkFinite(labels, loss: name, input: "labels")
        var v = [Double](repeating: 0, count: labels.count), g1 = v, g2 = v
        for i in labels.indices {
            let y = labels[i], h = -y * (input1[i] - input2[i]) + margin
            v[i] = max(h, 0)
            if h >= 0 {
                g1[i] = -y
                g2[i] = y
            }
        }
        return try reduce(v, [g1, g2], reduction, denominator: Double(labels.count), loss: name)
    }

    /// `‖a − b + eps‖_p` of two `[D]` rows (PyTorch `pairwise_distance`) and its gradient w.r.t. `a`
    /// (w.r.t. `b` it is the negative): `sign(u)·|u|^(p−1) / ‖u‖^(p−1)`, 0 at `‖u‖ = 0`.
    static func pairwiseDistance(
        _ a: ArraySlice<Double>, _ b: ArraySlice<Double>, p: Double, eps: Double
    ) -> (distance: Double, gradient: [Double]) {
        let u = zip(a, b).map { $0 - $1 + eps }
        let norm: Double
        if p == 2 {
            norm = sqrt(u.reduce(0) { $0 + $1 * $1 })
        } else if p == 1 {
            norm = u.reduce(0) { $0 + abs($1) }
        } else {
            norm = pow(u.reduce(0) { $0 + pow(abs($1), p) }, 1 / p)
        }
        guard norm > 0 else { return (0, [Double](repeating: 0, count: u.count)) }
        let g = u.map { x -> Double in
            let s: Double = x > 0 ? 1 : (x < 0 ? -1 : 0)
            if p == 2 { return x / norm }
            if p == 1 { return s }
            return s * pow(abs(x) / norm, p - 1)
        }
        return (norm, g)
    }

    /// Triplet margin loss (Balntas et al., BMVC 2016; PyTorch `triplet_margin_loss`):
    /// `max(0, margin + d(a, p) − d(a, n))` with `d(x, y) = ‖x − y + eps‖_p`; with `swap`, `d(a, n)` is
    /// replaced by `min(d(a, n), d(p, n))` (ties share the gradient equally, as PyTorch's `min`).
    /// - Parameters: `anchor`, `positive`, `negative`: `[N × D]`; `margin` 1, `p` 2 (any p ≥ 1), `eps` 1e-6.
    /// - Returns: gradients `[d/d anchor, d/d positive, d/d negative]`.
    public static func tripletMargin(
        anchor: [Double], positive: [Double], negative: [Double], dimension: Int, margin: Double = 1,
        p: Double = 2, eps: Double = 1e-6, swap: Bool = false, reduction: Reduction = .mean
    ) throws -> LossResult {
        let name = "triplet_margin"
        precondition(dimension > 0 && anchor.count % dimension == 0, "\(name): count not a multiple of D")
        precondition(anchor.count == positive.count && anchor.count == negative.count, "\(name): shapes differ")
        guard p >= 1, p.isFinite else {
            throw LossesError.invalidParameter(loss: name, parameter: "p", value: p, expected: "finite p ≥ 1")
        }
        try checkFinite(anchor, loss: name, input: "anchor")
        try checkFinite(positive, loss: name, input: "positive")
        try checkFinite(negative, loss: name, input: "negative")
        let n = anchor.count / dimension
        var v = [Double](repeating: 0, count: n)
        var ga = [Double](repeating: 0, count: anchor.count), gp = ga, gn = ga
        for i in 0..<n {
            let r = i * dimension..<(i + 1) * dimension
            let (dp, up) = pairwiseDistance(anchor[r], positive[r], p: p, eps: eps)
            let (dn, un) = pairwiseDistance(anchor[r], negative[r], p: p, eps: eps)
            var wNeg = 1.0, wSwap = 0.0, dNeg = dn
            var us = [Double]()
            if swap {
                let (ds, u) = pairwiseDistance(positive[r], negative[r], p: p, eps: eps)
                us = u
                if ds < dn { (wNeg, wSwap, dNeg) = (0, 1, ds) } else if ds == dn { (wNeg, wSwap) = (0.5, 0.5) }
            }
            let h = margin + dp - dNeg
            v[i] = max(h, 0)
            guard h >= 0 else { continue }
            for (j, k) in r.enumerated() {
                ga[k] += up[j] - wNeg * un[j]
                gp[k] -= up[j]
                gn[k] += wNeg * un[j]
                if wSwap != 0 {
                    gp[k] -= wSwap * us[j]
                    gn[k] += wSwap * us[j]
                }
            }
        }
        return try reduce(v, [ga, gp, gn], reduction, denominator: Double(n), loss: name)
    }

    /// Cosine embedding loss (PyTorch `cosine_embedding_loss`): `1 − cos(x1, x2)` where `y = 1`,
    /// `max(0, cos − margin)` where `y = −1`, 0 otherwise; `cos = x1·x2 / √((‖x1‖² + 1e-12)(‖x2‖² + 1e-12))`.
    /// - Parameters: `input1`, `input2`: `[N × D]`; `labels`: `[N]` (±1); `margin`: default 0.
    /// - Returns: gradients `[d/d input1, d/d input2]`.
    public static func cosineEmbedding(
        input1: [Double], input2: [Double], labels: [Double], dimension: Int, margin: Double = 0,
        reduction: Reduction = .mean
    ) throws -> LossResult {
        let name = "cosine_embedding"
        precondition(dimension > 0 && input1.count == labels.count * dimension, "\(name): shape mismatch")
        precondition(input1.count == input2.count, "\(name): shapes differ")
        try checkFinite(input1, loss: name, input: "input1")
        try checkFinite(input2, loss: name, input: "input2")
        try checkFinite(labels, loss: name, input: "labels")
        var v = [Double](repeating: 0, count: labels.count)
        var g1 = [Double](repeating: 0, count: input1.count), g2 = g1
        for i in labels.indices {
            let r = i * dimension..<(i + 1) * dimension
            var s = 0.0, m1 = 1e-12, m2 = 1e-12
            for k in r {
                s += input1[k] * input2[k]
                m1 += input1[k] * input1[k]
                m2 += input2[k] * input2[k]
            }
            let denom = sqrt(m1 * m2), cosine = s / denom
            var gc = 0.0
            if labels[i] == 1 {
                v[i] = 1 - cosine
                gc = -1
            } else if labels[i] == -1 {
                v[i] = max(cosine - margin, 0)
                gc = cosine - margin >= 0 ? 1 : 0
            }
            guard gc != 0 else { continue }
            for k in r {
                g1[k] = gc * (input2[k] / denom - cosine * input1[k] / m1)
                g2[k] = gc * (input1[k] / denom - cosine * input2[k] / m2)
            }
        }
        return try reduce(v, [g1, g2], reduction, denominator: Double(labels.count), loss: name)
    }
}
