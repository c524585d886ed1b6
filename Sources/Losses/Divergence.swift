import Foundation

/// Reductions of `Loss.klDivergence`, as PyTorch's `kl_div`.
public enum KLReduction: String, Sendable, CaseIterable {
    /// One value per element.
    case none
    /// The sum over all elements.
    case sum
    /// The sum divided by the number of elements (not the KL divergence; PyTorch warns about it).
    case mean
    /// The sum divided by the number of rows N: the mathematical KL divergence averaged over the batch.
    case batchMean
}

extension Loss {
    /// Kullback–Leibler divergence with log-probability input (PyTorch `kl_div`):
    /// `t·(log t − x)` (0 where `t = 0`), or with `logTarget` `e^t·(t − x)`.
    /// Gradients `[d/d input, d/d target]`: `−t` and `log t + 1 − x` (`−e^t` and `e^t·(t − x + 1)` with
    /// `logTarget`); at `t = 0` the target gradient (−∞ one-sided) is reported as 0.
    /// - Parameters: `logInput`, `target`: `[N × C]`, `rows` = N (for `.batchMean`).
    public static func klDivergence(
        logInput: [Double], target: [Double], rows: Int, logTarget: Bool = false, reduction: KLReduction = .batchMean
    ) throws -> LossResult {
        let name = "kl_div"
        precondition(logInput.count == target.count, "\(name): input and target counts differ")
        precondition(rows > 0 && logInput.count % rows == 0, "\(name): count not a multiple of rows")
        try checkFinite(logInput, loss: name, input: "logInput")
        try checkFinite(target, loss: name, input: "target")
        var v = [Double](repeating: 0, count: target.count), gx = v, gt = v
        for i in target.indices {
            let x = logInput[i], t = target[i]
            if logTarget {
                let e = exp(t)
                v[i] = e * (t - x)
                gx[i] = -e
                gt[i] = e * (t - x + 1)
            } else {
                guard t >= 0 else {
                    throw LossesError.outOfDomain(
                        loss: name, input: "target", index: i, value: t, expected: "a probability ≥ 0")
                }
                v[i] = t > 0 ? t * (log(t) - x) : 0
                gx[i] = -t
                gt[i] = t > 0 ? log(t) + 1 - x : 0
            }
        }
        switch reduction {
        case .none: return try reduce(v, [gx, gt], .none, denominator: 1, loss: name)
        case .sum: return try reduce(v, [gx, gt], .sum, denominator: 1, loss: name)
        case .mean: return try reduce(v, [gx, gt], .mean, denominator: Double(v.count), loss: name)
        case .batchMean: return try reduce(v, [gx, gt], .mean, denominator: Double(rows), loss: name)
        }
    }

    /// Centre loss (Wen et al., "A Discriminative Feature Learning Approach for Deep Face Recognition",
    /// ECCV 2016): `½·Σ_i ‖x_i − c_{y_i}‖² / N`.
    /// Gradients `[d/d features, d/d centres]`: `(x_i − c_{y_i})/N` and `−Σ_{i: y_i = j}(x_i − c_j)/N`.
    /// The paper does not train the centres by this gradient but with `updateCentres`.
    /// - Parameters: `features`: `[N × D]`; `centres`: `[K × D]`; `labels`: `[N]` in `0..<K`.
    public static func centre(
        features: [Double], centres: [Double], labels: [Int], dimension: Int
    ) throws -> LossResult {
        let name = "centre"
        precondition(dimension > 0 && features.count == labels.count * dimension, "\(name): shape mismatch")
        precondition(centres.count % dimension == 0, "\(name): centres not a multiple of D")
        try checkFinite(features, loss: name, input: "features")
        try checkFinite(centres, loss: name, input: "centres")
        try checkClasses(labels, classes: centres.count / dimension, loss: name)
        let n = Double(max(labels.count, 1))
        var loss = 0.0
        var gx = [Double](repeating: 0, count: features.count)
        var gc = [Double](repeating: 0, count: centres.count)
        for (i, y) in labels.enumerated() {
            for k in 0..<dimension {
                let d = features[i * dimension + k] - centres[y * dimension + k]
                loss += 0.5 * d * d / n
                gx[i * dimension + k] = d / n
                gc[y * dimension + k] -= d / n
            }
        }
        let r = LossResult(values: [loss], gradients: [gx, gc])
        try checkResult(r, loss: name)
        return r
    }

    /// The centre update of Wen et al. (ECCV 2016, eq. 4): `c_j ← c_j − α·Δc_j` with
    /// `Δc_j = Σ_{i: y_i = j}(c_j − x_i) / (1 + #{i: y_i = j})`; centres without samples stay put.
    /// - Parameters: `centres`: `[K × D]`; `features`: `[N × D]`; `labels`: `[N]`; `alpha` in [0, 1]
    ///   (the paper's 0.5 default).
    /// - Returns: the updated `[K × D]` centres.
    public static func updateCentres(
        centres: [Double], features: [Double], labels: [Int], dimension: Int, alpha: Double = 0.5
    ) throws -> [Double] {
        let name = "centre_update"
        precondition(dimension > 0 && features.count == labels.count * dimension, "\(name): shape mismatch")
        try checkFinite(features, loss: name, input: "features")
        try checkFinite(centres, loss: name, input: "centres")
        try checkClasses(labels, classes: centres.count / dimension, loss: name)
        var delta = [Double](repeating: 0, count: centres.count)
        var counts = [Double](repeating: 0, count: centres.count / dimension)
        for (i, y) in labels.enumerated() {
            counts[y] += 1
            for k in 0..<dimension { delta[y * dimension + k] += centres[y * dimension + k] - features[i * dimension + k] }
        }
        var out = centres
        for j in counts.indices where counts[j] > 0 {
            for k in 0..<dimension { out[j * dimension + k] -= alpha * delta[j * dimension + k] / (1 + counts[j]) }
        }
        return out
    }
}
