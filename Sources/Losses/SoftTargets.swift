import Foundation

extension Loss {
    /// Softmax cross-entropy against soft targets (target distributions rather than class indices), each row
    /// weighted: `ℓ_i = −r_i · Σ_k t_ik · log p_ik` with `p = softmax(x)` row-wise.
    ///
    /// The set head's IoU-aware class targets use it (`SetCriterion.Configuration.iouTargets`): a matched hypothesis
    /// gets target mass `IoU` on its box's class and `1 − IoU` on no-object, so that its score learns to rank
    /// localisation quality, as the IoU-aware classification score of VarifocalNet (Zhang et al., CVPR 2021) and the
    /// IoU-aware query training of RT-DETR (Zhao et al., CVPR 2024).
    ///
    /// Gradient w.r.t. `x_ik`: `r_i · (T_i · p_ik − t_ik)` with `T_i = Σ_k t_ik` (the targets are constants).
    /// `.mean` divides by `Σ_i r_i`.
    /// - Parameters:
    ///   - logits: `[N × C]`.
    ///   - classes: C.
    ///   - targets: `[N × C]` non-negative target masses (rows usually sum to 1).
    ///   - rowWeights: optional `[N]` non-negative weights `r_i` (1 without).
    ///   - reduction: how the `N` values are reduced.
    /// - Throws: `LossesError` for non-finite logits, negative or non-finite targets or weights.
    public static func softCrossEntropy(
        logits: [Double], classes: Int, targets: [Double], rowWeights: [Double]? = nil, reduction: Reduction = .mean
    ) throws -> LossResult {
        let name = "soft_cross_entropy"
        precondition(classes > 0 && logits.count % classes == 0 && targets.count == logits.count,
                     "\(name): logits and targets must both be [N × C]")
        let n = logits.count / classes, c = classes
        precondition(rowWeights == nil || rowWeights!.count == n, "\(name): rowWeights must have N entries")
        try checkFinite(logits, loss: name, input: "logits")
        for (i, t) in targets.enumerated() where !(t >= 0 && t.isFinite) {
            throw LossesError.outOfDomain(loss: name, input: "targets", index: i, value: t,
                                          expected: "a finite mass ≥ 0")
        }
        for (i, r) in (rowWeights ?? []).enumerated() where !(r >= 0 && r.isFinite) {
            throw LossesError.outOfDomain(loss: name, input: "rowWeights", index: i, value: r,
                                          expected: "a finite weight ≥ 0")
        }
        let (logp, p) = logSoftmax(logits, classes: c)
        var v = [Double](repeating: 0, count: n), g = [Double](repeating: 0, count: logits.count)
        var wsum = 0.0
        for i in 0..<n {
            let row = i * c, r = rowWeights?[i] ?? 1
            var mass = 0.0, value = 0.0
            for k in 0..<c where targets[row + k] > 0 {
                mass += targets[row + k]
                value -= targets[row + k] * logp[row + k]
            }
            v[i] = r * value
            for k in 0..<c { g[row + k] = r * (mass * p[row + k] - targets[row + k]) }
            wsum += r
        }
        return try reduce(v, [g], reduction, denominator: wsum, loss: name)
    }
}
