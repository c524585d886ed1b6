import Boxes
import Dispatch
import Losses

/// The loss of a dense anchor head, RetinaNet style (Lin et al., "Focal Loss for Dense Object Detection",
/// ICCV 2017), with the box terms of torchvision's RetinaNet and a GIoU term (Rezatofighi et al., CVPR 2019).
///
/// Per image, anchors are labelled by `AnchorAssigner` (IoU ≥ 0.5 positive, < 0.4 background, between
/// ignored, each box's best anchors positive, anchors inside crowd/ignore boxes ignored). Then, with
/// `P = max(1, positives in the batch)`:
/// - `focal`: sigmoid focal loss (α 0.25, γ 2) of every class logit of every non-ignored anchor against the
///   one-hot class of its box (all zeros for background), summed, `/ P`;
/// - `smooth_l1`: SmoothL1 (β 1/9) of the predicted deltas of the positives against the encoded deltas of
///   their boxes (`BoxCoder`, as torchvision's), summed over the 4 coordinates, `/ P`;
/// - `giou`: `Σ (1 − GIoU)` of the decoded boxes of the positives against their boxes, `/ P`.
/// The total is `Σ weight · term`.
public struct DenseCriterion: Sendable {
    /// Settings of the criterion; defaults as RetinaNet.
    public struct Configuration: Sendable, Equatable {
        /// Number of object classes `C` (one sigmoid logit each; no background logit).
        public var classes: Int
        /// Anchor labelling.
        public var assigner = AnchorAssigner()
        /// Focal α (< 0 disables it) and γ.
        public var focalAlpha = 0.25, focalGamma = 2.0
        /// Optional `[C]` weights of the focal loss per class column, e.g. `Loss.classBalancedWeights`
        /// (Cui et al., CVPR 2019) of the training set's class counts.
        public var classWeights: [Double]? = nil
        /// SmoothL1 β on the deltas.
        public var smoothL1Beta = 1.0 / 9
        /// Weights of `focal`, `smooth_l1` and `giou` in the total.
        public var focalWeight = 1.0, smoothL1Weight = 1.0, giouWeight = 1.0
        /// Delta encoding of the boxes.
        public var coder = BoxCoder()
        /// Spread the per-image work over the cores (`DispatchQueue.concurrentPerform`); false keeps it on the
        /// calling thread (data-parallel replicas, each on a core of its own). The results are the same.
        public var parallel = true

        /// A configuration for `classes` classes with RetinaNet's defaults.
        public init(classes: Int) {
            precondition(classes > 0, "DenseCriterion: classes must be > 0")
            self.classes = classes
        }
    }

    /// Loss terms, gradients and statistics of one batch.
    public struct Output: Sendable {
        /// `focal`, `smooth_l1`, `giou` (normalised by the positives).
        public var terms: [LossTerm]
        /// `Σ weight · term`.
        public var total: Double
        /// Per image, `[A × C]`: gradient of `total` w.r.t. the class logits.
        public var logitGradients: [[Float]]
        /// Per image, `[A × 4]`: gradient of `total` w.r.t. the box deltas.
        public var deltaGradients: [[Float]]
        /// Per image, the label of each anchor (see `AnchorAssigner.assign`).
        public var labels: [[Int]]
        /// Positive anchors in the batch.
        public var positives: Int
        /// Ignored anchors in the batch.
        public var ignored: Int
        /// The divisor of every term: `max(1, positives)` unless given.
        public var normaliser: Double
    }

    /// The settings.
    public var configuration: Configuration

    /// A criterion with `configuration`.
    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// Loss and gradients of a batch.
    /// - Parameters:
    ///   - anchors: `[A]` anchors in pixels, shared by the images.
    ///   - logits: per image `[A × C]` class logits (anchor-major).
    ///   - deltas: per image `[A × 4]` predicted deltas.
    ///   - targets: per image ground truth (pixels, 0-based classes, ignore flags).
    ///   - normaliser: divisor of the terms; default `max(1, positives in the batch)` (give the count over
    ///     all workers when training data-parallel).
    /// - Throws: `CriterionError` for non-finite outputs or terms and invalid targets.
    public func callAsFunction(
        anchors: [Box], logits: [[Float]], deltas: [[Float]], targets: [ImageTargets], normaliser: Double? = nil
    ) throws -> Output {
        let c = configuration.classes, a = anchors.count, images = targets.count
        precondition(logits.count == images && deltas.count == images, "DenseCriterion: image counts differ")
        for i in 0..<images {
            precondition(logits[i].count == a * c, "DenseCriterion: logits of image \(i) are not [A × C]")
            precondition(deltas[i].count == a * 4, "DenseCriterion: deltas of image \(i) are not [A × 4]")
            try checkFinite(logits[i], output: "logits", image: i)
            try checkFinite(deltas[i], output: "deltas", image: i)
            try validate(targets[i], image: i, classes: c)
        }
        let labels = parallelMap(images, parallel: configuration.parallel) {
            configuration.assigner.assign(anchors: anchors, targets: targets[$0])
        }
        let positives = labels.reduce(0) { $0 + $1.filter { $0 >= 0 }.count }
        let ignored = labels.reduce(0) { $0 + $1.filter { $0 == AnchorAssigner.ignored }.count }
        let norm = normaliser ?? Double(max(1, positives))
        // Images are independent: one task each, spread over the cores.
        let perImage = parallelMap(images, parallel: configuration.parallel) { i in
            Result { () throws -> (Double, [Float], Double, Double, [Float]) in
                let (f, gl) = try focal(logits[i], labels[i], targets[i], anchors: anchors,
                                        scale: configuration.focalWeight / norm)
                let (s, g, gd) = try boxTerms(anchors, deltas[i], labels[i], targets[i], norm: norm)
                return (f, gl, s, g, gd)
            }
        }
        var sums = (focal: 0.0, smoothL1: 0.0, giou: 0.0)
        var logitGrads = [[Float]](), deltaGrads = [[Float]]()
        for r in perImage {
            let (f, gl, s, g, gd) = try r.get()
            sums.focal += f
            sums.smoothL1 += s
            sums.giou += g
            logitGrads.append(gl)
            deltaGrads.append(gd)
        }
        let terms = [
            LossTerm(name: "focal", value: sums.focal / norm, weight: configuration.focalWeight),
            LossTerm(name: "smooth_l1", value: sums.smoothL1 / norm, weight: configuration.smoothL1Weight),
            LossTerm(name: "giou", value: sums.giou / norm, weight: configuration.giouWeight),
        ]
        for t in terms where !t.value.isFinite {
            throw CriterionError.nonFiniteTerm(term: t.name, detail: "value \(t.value)")
        }
        return Output(terms: terms, total: terms.weightedTotal, logitGradients: logitGrads,
                      deltaGradients: deltaGrads, labels: labels, positives: positives, ignored: ignored,
                      normaliser: norm)
    }

    /// Summed focal loss of one image over its non-ignored anchors, and its gradient times `scale`. A class column
    /// of an anchor lying inside a partial region of that class as it would inside a crowd region (the assigner's
    /// `ignoreOverlap`) counts only where the anchor is a positive of that class: elsewhere there it may sit on an
    /// object nobody boxed (the federated loss of Zhou et al., "Probabilistic two-stage detection", 2021, drops such
    /// classes the same way).
    private func focal(
        _ logits: [Float], _ labels: [Int], _ t: ImageTargets, anchors: [Box], scale: Double
    ) throws -> (Double, [Float]) {
        let c = configuration.classes
        var target = [Double](repeating: 0, count: logits.count)
        for (a, l) in labels.enumerated() where l >= 0 { target[a * c + t.classes[l]] = 1 }
        let r = try term("focal") {
            try Loss.sigmoidFocal(logits: logits.map(Double.init), targets: target,
                                  alpha: configuration.focalAlpha, gamma: configuration.focalGamma,
                                  classWeights: configuration.classWeights)
        }
        var sum = 0.0
        var grad = [Float](repeating: 0, count: logits.count)
        for (a, l) in labels.enumerated() where l != AnchorAssigner.ignored {
            let partial = t.partialClasses(of: anchors[a], overlap: configuration.assigner.ignoreOverlap)
            for k in a * c..<(a + 1) * c {
                if !partial.isEmpty, partial.contains(k - a * c), l < 0 || t.classes[l] != k - a * c { continue }
                sum += r.values[k]
                grad[k] = Float(r.gradients[0][k] * scale)
            }
        }
        return (sum, grad)
    }

    /// Summed SmoothL1 and GIoU losses of the positives of one image and the gradient of their weighted
    /// sum `/ norm` w.r.t. the deltas.
    private func boxTerms(
        _ anchors: [Box], _ deltas: [Float], _ labels: [Int], _ t: ImageTargets, norm: Double
    ) throws -> (Double, Double, [Float]) {
        var grad = [Float](repeating: 0, count: deltas.count)
        let positive = labels.indices.filter { labels[$0] >= 0 }
        guard !positive.isEmpty else { return (0, 0, grad) }
        let coder = configuration.coder
        var predicted = [Double](), encoded = [Double](), decoded = [Double](), boxes = [Double]()
        for a in positive {
            let d = (0..<4).map { Double(deltas[4 * a + $0]) }
            let box = t.boxes[labels[a]]
            predicted += d
            let e = coder.encode(box, anchor: anchors[a])
            encoded += [e.dx, e.dy, e.dw, e.dh]
            let b = coder.decode(BoxDelta(dx: d[0], dy: d[1], dw: d[2], dh: d[3]), anchor: anchors[a])
            decoded += [b.x1, b.y1, b.x2, b.y2]
            boxes += [box.x1, box.y1, box.x2, box.y2]
        }
        let s = try term("smooth_l1") {
            try Loss.smoothL1(input: predicted, target: encoded, beta: configuration.smoothL1Beta, reduction: .sum)
        }
        let g = try term("giou") { try Loss.boxIoU(.giou, predicted: decoded, target: boxes, reduction: .sum) }
        let ws = configuration.smoothL1Weight / norm, wg = configuration.giouWeight / norm
        for (p, a) in positive.enumerated() {
            let o = 4 * p
            let back = coder.decodeBackward(predicted[o..<o + 4], anchor: anchors[a],
                                            gradient: Array(g.gradients[0][o..<o + 4]))
            for k in 0..<4 { grad[4 * a + k] = Float(ws * s.gradients[0][o + k] + wg * back[k]) }
        }
        return (s.value, g.value, grad)
    }
}

/// `(0..<count).map(body)` with the iterations spread over the cores (`DispatchQueue.concurrentPerform`) when
/// `parallel`, else on the calling thread.
func parallelMap<T>(_ count: Int, parallel: Bool = true, _ body: (Int) -> T) -> [T] {
    guard parallel else { return (0..<count).map(body) }
    var out = [T?](repeating: nil, count: count)
    out.withUnsafeMutableBufferPointer { buffer in
        let base = buffer.baseAddress!
        DispatchQueue.concurrentPerform(iterations: count) { base[$0] = body($0) }
    }
    return out.map { $0! }
}
