import Foundation

// Losses over rows of class scores: `logits` / `logProbabilities` are `[N × C]` row-major, `targets` `[N]`
// class indices in `0..<C`. Gradients: `[d/d input]` (`[N × C]`), class indices have none.

extension Loss {
    /// Row-wise log-softmax and softmax of `[N × C]` logits: `log p_ic = x_ic − log Σ_k e^(x_ik)`.
    static func logSoftmax(_ x: [Double], classes c: Int) -> (logp: [Double], p: [Double]) {
        let n = x.count / c
        var logp = [Double](repeating: 0, count: x.count), p = logp
        for i in 0..<n {
            let row = i * c
            var m = -Double.infinity
            for k in 0..<c { m = max(m, x[row + k]) }
            var s = 0.0
            for k in 0..<c { s += exp(x[row + k] - m) }
            let lse = m + log(s)
            for k in 0..<c {
                logp[row + k] = x[row + k] - lse
                p[row + k] = exp(logp[row + k])
            }
        }
        return (logp, p)
    }

    /// Negative log-likelihood on log-probabilities (PyTorch `nll_loss`): `−w[t_i] · log p_{i,t_i}`.
    /// `.mean` divides by `Σ_i w[t_i]` (by N without weights), as PyTorch.
    /// - Parameters: `logProbabilities`: `[N × C]`; `targets`: `[N]`; `weights`: optional `[C]`.
    public static func nll(
        logProbabilities: [Double], classes: Int, targets: [Int], weights: [Double]? = nil,
        reduction: Reduction = .mean
    ) throws -> LossResult {
        let name = "nll"
        precondition(classes > 0 && logProbabilities.count == targets.count * classes, "\(name): shape mismatch")
        precondition(weights == nil || weights!.count == classes, "\(name): weights must have C entries")
        try checkFinite(logProbabilities, loss: name, input: "logProbabilities")
        try checkClasses(targets, classes: classes, loss: name)
        var v = [Double](repeating: 0, count: targets.count)
        var g = [Double](repeating: 0, count: logProbabilities.count)
        var wsum = 0.0
        for (i, t) in targets.enumerated() {
            let w = weights?[t] ?? 1
            v[i] = -w * logProbabilities[i * classes + t]
            g[i * classes + t] = -w
            wsum += w
        }
        return try reduce(v, [g], reduction, denominator: wsum, loss: name)
    }

    /// Softmax cross-entropy with optional class weights and label smoothing (PyTorch `cross_entropy`):
    /// `ℓ_i = (1 − ε)·w[t_i]·(−log p_{i,t_i}) + (ε/C)·Σ_c w_c·(−log p_ic)`.
    /// `.mean` divides by `Σ_i w[t_i]` (N without weights) — the weighted mean DETR uses with the no-object
    /// class weighted by `eos_coef`.
    /// Gradient w.r.t. `x_ik`: `(1 − ε)·w[t_i]·(p_ik − [k = t_i]) + (ε/C)·(W·p_ik − w_k)`, `W = Σ_c w_c`.
    /// - Parameters: `logits`: `[N × C]`; `targets`: `[N]`; `weights`: optional `[C]`;
    ///   `labelSmoothing` ε in [0, 1].
    public static func crossEntropy(
        logits: [Double], classes: Int, targets: [Int], weights: [Double]? = nil, labelSmoothing: Double = 0,
        reduction: Reduction = .mean
    ) throws -> LossResult {
        let name = "cross_entropy"
        precondition(classes > 0 && logits.count == targets.count * classes, "\(name): shape mismatch")
        precondition(weights == nil || weights!.count == classes, "\(name): weights must have C entries")
        guard labelSmoothing >= 0, labelSmoothing <= 1 else {
            throw LossesError.invalidParameter(
                loss: name, parameter: "labelSmoothing", value: labelSmoothing, expected: "a value in [0, 1]")
        }
        try checkFinite(logits, loss: name, input: "logits")
        if let w = weights { try checkFinite(w, loss: name, input: "weights") }
        try checkClasses(targets, classes: classes, loss: name)
        let (logp, p) = logSoftmax(logits, classes: classes)
        let eps = labelSmoothing, c = classes
        let wTotal = weights?.reduce(0, +) ?? Double(c)
        var v = [Double](repeating: 0, count: targets.count)
        var g = [Double](repeating: 0, count: logits.count)
        var wsum = 0.0
        for (i, t) in targets.enumerated() {
            let row = i * c, wt = weights?[t] ?? 1
            var smooth = 0.0
            for k in 0..<c { smooth -= (weights?[k] ?? 1) * logp[row + k] }
            v[i] = (1 - eps) * wt * -logp[row + t] + eps / Double(c) * smooth
            for k in 0..<c {
                let wk = weights?[k] ?? 1
                g[row + k] = (1 - eps) * wt * p[row + k] + eps / Double(c) * (wTotal * p[row + k] - wk)
            }
            g[row + t] -= (1 - eps) * wt
            wsum += wt
        }
        return try reduce(v, [g], reduction, denominator: wsum, loss: name)
    }

    /// Class-balanced weights by the effective number of samples (Cui et al., "Class-Balanced Loss Based on
    /// Effective Number of Samples", CVPR 2019): `w_c = (1 − β)/(1 − β^n_c)`, normalised to sum to `C`.
    /// - Parameters: `counts`: `[C]` samples per class (each > 0); `beta` in [0, 1) (0: no re-weighting,
    ///   → 1: inverse frequency; the paper uses 0.9 … 0.9999).
    public static func classBalancedWeights(counts: [Double], beta: Double) throws -> [Double] {
        let name = "class_balanced_weights"
        guard beta >= 0, beta < 1 else {
            throw LossesError.invalidParameter(loss: name, parameter: "beta", value: beta, expected: "[0, 1)")
        }
        for (i, n) in counts.enumerated() where !(n > 0 && n.isFinite) {
            throw LossesError.outOfDomain(
                loss: name, input: "counts", index: i, value: n, expected: "a finite count > 0")
        }
        // 1 − β^n computed as −expm1(n·log β) keeps precision for β near 1.
        let raw = counts.map { n in beta == 0 ? 1 : (1 - beta) / -expm1(n * log(beta)) }
        let s = raw.reduce(0, +)
        return raw.map { $0 * Double(counts.count) / s }
    }

    /// Class-balanced softmax cross-entropy (Cui et al., CVPR 2019): `Σ_i w[t_i]·CE_i / N` — a plain mean over
    /// samples (not PyTorch's weighted mean) of the per-sample losses scaled by their class weight.
    /// - Parameters: `logits`: `[N × C]`; `targets`: `[N]`; `weights`: `[C]` from `classBalancedWeights`.
    public static func classBalancedSoftmax(
        logits: [Double], classes: Int, targets: [Int], weights: [Double]
    ) throws -> LossResult {
        var r = try crossEntropy(logits: logits, classes: classes, targets: targets, weights: weights, reduction: .sum)
        let s = 1 / Double(max(targets.count, 1))
        r.values = r.values.map { $0 * s }
        r.gradients = r.gradients.map { $0.map { $0 * s } }
        return r
    }

    /// Soft (differentiable) macro F1 loss on softmax probabilities: with `p = softmax(x)` and one-hot `y`,
    /// per class `tp = Σ_i p·y`, `fp = Σ_i p·(1 − y)`, `fn = Σ_i (1 − p)·y`, `P = tp/(tp + fp + ε)`,
    /// `R = tp/(tp + fn + ε)`, `F1 = 2PR/(P + R + ε)` clamped to `[ε, 1 − ε]`; loss `1 − mean_c F1_c`.
    /// - Parameters: `logits`: `[N × C]`; `targets`: `[N]`; `eps`: default 1e-7.
    public static func softF1(
        logits: [Double], classes: Int, targets: [Int], eps: Double = 1e-7
    ) throws -> LossResult {
        let name = "soft_f1"
        precondition(classes > 0 && logits.count == targets.count * classes, "\(name): shape mismatch")
        try checkFinite(logits, loss: name, input: "logits")
        try checkClasses(targets, classes: classes, loss: name)
        let c = classes, n = targets.count
        let (_, p) = logSoftmax(logits, classes: c)
        var tp = [Double](repeating: 0, count: c), fp = tp, fn = tp
        for i in 0..<n {
            for k in 0..<c {
                let y: Double = targets[i] == k ? 1 : 0, pk = p[i * c + k]
                tp[k] += pk * y
                fp[k] += pk * (1 - y)
                fn[k] += (1 - pk) * y
            }
        }
        var loss = 1.0
        var dtp = [Double](repeating: 0, count: c), dfp = dtp, dfn = dtp
        for k in 0..<c {
            let dP = tp[k] + fp[k] + eps, dR = tp[k] + fn[k] + eps
            let prec = tp[k] / dP, rec = tp[k] / dR
            let den = prec + rec + eps
            let f1 = 2 * prec * rec / den
            let clamped = min(max(f1, eps), 1 - eps)
            loss -= clamped / Double(c)
            guard f1 >= eps, f1 <= 1 - eps else { continue }
            let gf = -1 / Double(c)
            let gPrec = gf * 2 * rec * (rec + eps) / (den * den)
            let gRec = gf * 2 * prec * (prec + eps) / (den * den)
            dtp[k] = gPrec * (fp[k] + eps) / (dP * dP) + gRec * (fn[k] + eps) / (dR * dR)
            dfp[k] = -gPrec * tp[k] / (dP * dP)
            dfn[k] = -gRec * tp[k] / (dR * dR)
        }
        var g = [Double](repeating: 0, count: logits.count)
        for i in 0..<n {
            let row = i * c
            var gp = [Double](repeating: 0, count: c)
            var dot = 0.0
            for k in 0..<c {
                let y: Double = targets[i] == k ? 1 : 0
                gp[k] = dtp[k] * y + dfp[k] * (1 - y) - dfn[k] * y
                dot += gp[k] * p[row + k]
            }
            for k in 0..<c { g[row + k] = p[row + k] * (gp[k] - dot) }
        }
        let r = LossResult(values: [loss], gradients: [g])
        try checkResult(r, loss: name)
        return r
    }
}
