import Foundation

// Element-wise losses on equally long arrays: `input[i]` against `target[i]`.
// Gradients: `[d/d input, d/d target]` (see `LossResult`).

/// Logistic function computed without overflow for any finite `x`.
func sigmoid(_ x: Double) -> Double {
    if x >= 0 { return 1 / (1 + exp(-x)) }
    let e = exp(x)
    return e / (1 + e)
}

/// `BCE(σ(x), t) = max(x, 0) − x·t + log(1 + e^(−|x|))`, exact for any finite `x` (no overflow at |x| ≥ 30).
func logisticCrossEntropy(_ x: Double, _ t: Double) -> Double {
    max(x, 0) - x * t + log1p(exp(-abs(x)))
}

extension Loss {
    /// Mean squared error `(x − y)²` (PyTorch `mse_loss`).
    /// - Parameters: `input`, `target`: `[N]` (any shape, flattened).
    /// - Returns: gradients `[2(x − y), −2(x − y)]` scaled by the reduction.
    public static func mse(input: [Double], target: [Double], reduction: Reduction = .mean) throws -> LossResult {
        let name = "mse"
        precondition(input.count == target.count, "\(name): input and target counts differ")
        try checkFinite(input, loss: name, input: "input")
        try checkFinite(target, loss: name, input: "target")
        var v = [Double](repeating: 0, count: input.count), gx = v, gy = v
        for i in input.indices {
            let d = input[i] - target[i]
            v[i] = d * d
            gx[i] = 2 * d
            gy[i] = -2 * d
        }
        return try reduce(v, [gx, gy], reduction, denominator: Double(input.count), loss: name)
    }

    /// Absolute error `|x − y|` (PyTorch `l1_loss`; the gradient at `x = y` is 0, as `sign(0)`).
    public static func l1(input: [Double], target: [Double], reduction: Reduction = .mean) throws -> LossResult {
        try smoothL1(input: input, target: target, beta: 0, reduction: reduction, name: "l1")
    }

    /// Smooth L1 (Girshick, Fast R-CNN, ICCV 2015; PyTorch `smooth_l1_loss`):
    /// `0.5·d²/β` for `|d| < β`, else `|d| − 0.5·β`, with `d = x − y`; `β = 0` is L1.
    /// Gradient w.r.t. `x`: `d/β` inside, `sign(d)` outside; the target gets its negative.
    /// - Parameters: `input`, `target`: `[N]`; `beta` ≥ 0 (RetinaNet: 1/9, PyTorch default 1).
    public static func smoothL1(
        input: [Double], target: [Double], beta: Double = 1, reduction: Reduction = .mean
    ) throws -> LossResult {
        try smoothL1(input: input, target: target, beta: beta, reduction: reduction, name: "smooth_l1")
    }

    static func smoothL1(
        input: [Double], target: [Double], beta: Double, reduction: Reduction, name: String
    ) throws -> LossResult {
        precondition(input.count == target.count, "\(name): input and target counts differ")
        guard beta >= 0, beta.isFinite else {
            throw LossesError.invalidParameter(loss: name, parameter: "beta", value: beta, expected: "finite ≥ 0")
        }
        try checkFinite(input, loss: name, input: "input")
        try checkFinite(target, loss: name, input: "target")
        let n = input.count
        var v = [Double](repeating: 0, count: n), gx = v, gy = v
        for i in 0..<n {
            let d = input[i] - target[i], a = abs(d)
            let g: Double
            if a < beta {
                v[i] = 0.5 * d * d / beta
                g = d / beta
            } else {
                v[i] = a - 0.5 * beta
                g = d > 0 ? 1 : (d < 0 ? -1 : 0)
            }
            gx[i] = g
            gy[i] = -g
        }
        return try reduce(v, [gx, gy], reduction, denominator: Double(n), loss: name)
    }

    /// Binary cross-entropy on logits (PyTorch `binary_cross_entropy_with_logits`):
    /// `max(x, 0) − x·t + log(1 + e^(−|x|))`, stable for any finite logit.
    /// Gradients: `σ(x) − t` w.r.t. the logit, `−x` w.r.t. the target.
    /// - Parameters: `logits`, `targets`: `[N]`, targets usually in [0, 1].
    public static func bceWithLogits(
        logits: [Double], targets: [Double], reduction: Reduction = .mean
    ) throws -> LossResult {
        let name = "bce_with_logits"
        precondition(logits.count == targets.count, "\(name): logits and targets counts differ")
        try checkFinite(logits, loss: name, input: "logits")
        try checkFinite(targets, loss: name, input: "targets")
        var v = [Double](repeating: 0, count: logits.count), gx = v, gt = v
        for i in logits.indices {
            let x = logits[i], t = targets[i]
            v[i] = logisticCrossEntropy(x, t)
            gx[i] = sigmoid(x) - t
            gt[i] = -x
        }
        return try reduce(v, [gx, gt], reduction, denominator: Double(logits.count), loss: name)
    }

    /// Binary cross-entropy on probabilities (PyTorch `binary_cross_entropy`):
    /// `−(t·max(log p, −100) + (1 − t)·max(log(1 − p), −100))`.
    /// Gradients as PyTorch: `(p − t) / max(p(1 − p), 1e-12)` w.r.t. `p`, and
    /// `max(log(1 − p), −100) − max(log p, −100)` w.r.t. `t`.
    /// - Parameters: `probabilities` in [0, 1] (else `LossesError.outOfDomain`), `targets`: `[N]`.
    public static func binaryCrossEntropy(
        probabilities: [Double], targets: [Double], reduction: Reduction = .mean
    ) throws -> LossResult {
        let name = "binary_cross_entropy"
        precondition(probabilities.count == targets.count, "\(name): input and target counts differ")
        try checkFinite(probabilities, loss: name, input: "probabilities")
        try checkFinite(targets, loss: name, input: "targets")
        var v = [Double](repeating: 0, count: targets.count), gp = v, gt = v
        for i in targets.indices {
            let p = probabilities[i], t = targets[i]
            guard p >= 0, p <= 1 else {
                throw LossesError.outOfDomain(
                    loss: name, input: "probabilities", index: i, value: p, expected: "a value in [0, 1]")
            }
            let lp = max(log(p), -100), lq = max(log(1 - p), -100)
            v[i] = -(t * lp + (1 - t) * lq)
            gp[i] = (p - t) / max(p * (1 - p), 1e-12)
            gt[i] = lq - lp
        }
        return try reduce(v, [gp, gt], reduction, denominator: Double(targets.count), loss: name)
    }

    /// Sigmoid focal loss (Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017; torchvision
    /// `sigmoid_focal_loss`): `α_t · BCE(σ(x), t) · (1 − p_t)^γ` with `p_t = p·t + (1 − p)(1 − t)` and
    /// `α_t = α·t + (1 − α)(1 − t)`; `α < 0` disables the α weighting. `1 − p_t` is computed as
    /// `t·σ(−x) + (1 − t)·σ(x)`, which keeps its precision when `p_t` is near 1.
    /// - Parameters:
    ///   - logits, targets: `[N]` (targets usually 0/1; gradients w.r.t. both, as torch).
    ///   - alpha: default 0.25; gamma: default 2 (γ = 0 is α-weighted BCE).
    ///   - classWeights: optional `[C]` weights multiplying element `i` by `w[i % C]` (rows of `C` classes),
    ///     e.g. the class-balanced weights of Cui et al. (`classBalancedWeights`).
    public static func sigmoidFocal(
        logits: [Double], targets: [Double], alpha: Double = 0.25, gamma: Double = 2,
        classWeights: [Double]? = nil, reduction: Reduction = .none
    ) throws -> LossResult {
        let name = "sigmoid_focal"
        precondition(logits.count == targets.count, "\(name): logits and targets counts differ")
        guard gamma >= 0, gamma.isFinite, alpha.isFinite, alpha <= 1 else {
            throw LossesError.invalidParameter(
                loss: name, parameter: "alpha/gamma", value: gamma >= 0 ? alpha : gamma,
                expected: "α ≤ 1 (α < 0 disables it) and finite γ ≥ 0")
        }
        try checkFinite(logits, loss: name, input: "logits")
        try checkFinite(targets, loss: name, input: "targets")
        if let w = classWeights {
            precondition(!w.isEmpty && logits.count % w.count == 0, "\(name): count not a multiple of classes")
            try checkFinite(w, loss: name, input: "classWeights")
        }
        let n = logits.count
        var v = [Double](repeating: 0, count: n), gx = v, gt = v
        let useAlpha = alpha >= 0
        v.withUnsafeMutableBufferPointer { vp in
            gx.withUnsafeMutableBufferPointer { gxp in
                gt.withUnsafeMutableBufferPointer { gtp in
                    logits.withUnsafeBufferPointer { xp in
                        targets.withUnsafeBufferPointer { tp in
                            for i in 0..<n {
                                let x = xp[i], t = tp[i]
                                // One exp and one log1p: e = e^(−|x|), p = σ(x), q = σ(−x) = 1 − p.
                                let e = exp(-abs(x)), r = 1 / (1 + e)
                                let p = x >= 0 ? r : e * r, q = x >= 0 ? e * r : r
                                let m = t * q + (1 - t) * p
                                let ce = max(x, 0) - x * t + log1p(e)
                                let at = useAlpha ? alpha * t + (1 - alpha) * (1 - t) : 1
                                let dat = useAlpha ? 2 * alpha - 1 : 0
                                let mg: Double, dmg: Double
                                if gamma == 2 {
                                    (mg, dmg) = (m * m, 2 * m)
                                } else {
                                    mg = gamma == 0 ? 1 : pow(m, gamma)
                                    dmg = (gamma == 0 || m == 0) ? 0 : gamma * pow(m, gamma - 1)
                                }
                                var w = 1.0
                                if let cw = classWeights { w = cw[i % cw.count] }
                                vp[i] = w * at * ce * mg
                                gxp[i] = w * at * ((p - t) * mg + ce * dmg * p * q * (1 - 2 * t))
                                gtp[i] = w * (dat * ce * mg + at * (-x * mg + ce * dmg * (1 - 2 * p)))
                            }
                        }
                    }
                }
            }
        }
        return try reduce(v, [gx, gt], reduction, denominator: Double(n), loss: name)
    }
}
