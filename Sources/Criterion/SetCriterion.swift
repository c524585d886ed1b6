import Boxes
import Dispatch
import Losses
import Matching

/// The Hungarian set loss of ReInspect (Stewart & Andriluka, CVPR 2016) and DETR (Carion et al., ECCV 2020).
///
/// Per image, K hypotheses (boxes as normalised `(cx, cy, w, h)`, and class logits) are matched one-to-one to
/// the image's boxes (ignore/crowd boxes excluded) by an exact assignment (`Matching.linearSumAssignment`) of
/// the `SetMatchCost`. Then, with `B = max(1, boxes in the batch)`:
/// - `class` (softmax): cross-entropy of every hypothesis against its box's class, or no-object (the last
///   logit) when unmatched, weighted by `classWeights` and `eosCoef` on no-object, optional label smoothing,
///   summed, `/ B`; or `objectness` (one logit): BCE / focal against 1 (matched) or 0 (unmatched, weighted
///   `eosCoef`), summed, `/ B`. With `iouTargets` a matched hypothesis's target is soft instead: `q = IoU` of its
///   box with its ground truth (a constant, no gradient to the box) on its class and `1 − q` on no-object
///   (`Loss.softCrossEntropy`, weighted by the class's weight, no label smoothing), or objectness target `q`.
///   Partial regions (`ImageTargets.partialRegions`) change nothing here: an unmatched hypothesis keeps the
///   no-object target there (a set target {no-object, c} cost the set head AP50 in docs/experiments.md);
/// - `l1`: `Σ ‖b_k − b_g‖₁` over the matched pairs on `(cx, cy, w, h)`, `/ B`;
/// - `giou`: `Σ (1 − GIoU)` of the matched corner boxes (eps 1e-7, so degenerate boxes stay finite), `/ B`.
/// Total `= w_class·class + w_L1·l1 + w_giou·giou` (DETR's 1 / 5 / 2). Images with more boxes than
/// hypotheses match K of them; the others are counted in `Output.unmatchedBoxes` (and still in `B`).
public struct SetCriterion: Sendable {
    /// How hypotheses are classified.
    public enum Classification: Sendable, Equatable {
        /// `C + 1` logits per hypothesis, the last one "no object"; softmax cross-entropy.
        case softmax
        /// One objectness logit per hypothesis; binary cross-entropy.
        case objectnessBCE
        /// One objectness logit per hypothesis; sigmoid focal loss with α and γ.
        case objectnessFocal(alpha: Double, gamma: Double)
    }

    /// Settings; defaults as DETR.
    public struct Configuration: Sendable, Equatable {
        /// Number of object classes C.
        public var classes: Int
        /// Softmax over C + 1 classes or one objectness logit.
        public var classification: Classification = .softmax
        /// Weight of the no-object target (DETR's `eos_coef`, 0.1).
        public var eosCoef = 0.1
        /// Label smoothing ε of the softmax cross-entropy (PyTorch semantics).
        public var labelSmoothing = 0.0
        /// Optional `[C]` weights of the object classes (no-object gets `eosCoef`).
        public var classWeights: [Double]? = nil
        /// IoU-aware class targets (VarifocalNet, Zhang et al., CVPR 2021; RT-DETR's IoU-aware training, Zhao et
        /// al., CVPR 2024): a matched hypothesis's target is its box's IoU `q` with its ground truth (detached) on
        /// the class and `1 − q` on no-object (objectness: target `q`), so that scores rank localisation; unmatched
        /// hypotheses keep the no-object target. Off by default.
        public var iouTargets = false
        /// Matching cost.
        public var matchCost = SetMatchCost.detr()
        /// Weights of the `class`/`objectness`, `l1` and `giou` terms in the total (1 / 5 / 2).
        public var classWeight = 1.0, l1Weight = 5.0, giouWeight = 2.0

        /// A configuration for `classes` classes with DETR's defaults.
        public init(classes: Int) {
            precondition(classes > 0, "SetCriterion: classes must be > 0")
            self.classes = classes
        }

        /// Logits per hypothesis: `C + 1` (softmax) or 1 (objectness).
        public var logitsPerHypothesis: Int { classification == .softmax ? classes + 1 : 1 }
    }

    /// Loss terms, gradients, matches and statistics of a batch.
    public struct Output: Sendable {
        /// `class` (or `objectness`), `l1`, `giou`, each normalised by the boxes.
        public var terms: [LossTerm]
        /// `Σ weight · term`.
        public var total: Double
        /// Per image `[K × 4]`: gradient of `total` w.r.t. the normalised `(cx, cy, w, h)`.
        public var boxGradients: [[Float]]
        /// Per image `[K × (C + 1)]` (or `[K]`): gradient of `total` w.r.t. the logits.
        public var logitGradients: [[Float]]
        /// Per image, the matched pairs, hypotheses ascending.
        public var matches: [[SetMatch]]
        /// Boxes taking part in the matching, over the batch.
        public var groundTruth: Int
        /// Boxes left unmatched because their image has more boxes than hypotheses.
        public var unmatchedBoxes: Int
        /// The divisor of every term: `max(1, groundTruth)` unless given.
        public var normaliser: Double
        /// Wall seconds spent matching (cost matrices and assignments, over the batch; 0 with given matches),
        /// for time accounting.
        public var matchingSeconds = 0.0
    }

    /// The settings.
    public var configuration: Configuration

    /// When set, receives `Output.matchingSeconds` of every successful call (time accounting of benchmarks);
    /// nil by default. Set it only while no criterion runs (it is read without synchronisation).
    nonisolated(unsafe) public static var matchingTimer: ((Double) -> Void)?

    /// A criterion with `configuration`.
    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// Loss and gradients of a batch.
    /// - Parameters:
    ///   - boxes: per image `[K × 4]` normalised `(cx, cy, w, h)`.
    ///   - logits: per image `[K × (C + 1)]` (softmax) or `[K]` (objectness).
    ///   - targets: per image ground truth in pixels.
    ///   - imageSize: the size in pixels that normalised coordinates refer to.
    ///   - ranks: per image `[K]` ranks for the ReInspect cost (default: the hypothesis index).
    ///   - matches: per image pairs to use instead of matching (holds the assignment fixed, e.g. for tests).
    ///   - normaliser: divisor of the terms; default `max(1, boxes in the batch)`.
    /// - Throws: `CriterionError` for non-finite outputs or terms, invalid targets, failed matching.
    public func callAsFunction(
        boxes: [[Float]], logits: [[Float]], targets: [ImageTargets], imageSize: (width: Double, height: Double),
        ranks: [[Int]]? = nil, matches given: [[SetMatch]]? = nil, normaliser: Double? = nil
    ) throws -> Output {
        let images = targets.count, per = configuration.logitsPerHypothesis
        precondition(boxes.count == images && logits.count == images, "SetCriterion: image counts differ")
        for i in 0..<images {
            precondition(boxes[i].count % 4 == 0 && logits[i].count == boxes[i].count / 4 * per,
                         "SetCriterion: image \(i) boxes must be [K × 4] and logits [K × \(per)]")
            try checkFinite(boxes[i], output: "boxes", image: i)
            try checkFinite(logits[i], output: "logits", image: i)
            try validate(targets[i], image: i, classes: configuration.classes)
            if let r = ranks?[i], r.count != boxes[i].count / 4 {
                throw CriterionError.invalidTarget(image: i,
                                                   detail: "\(r.count) ranks for \(boxes[i].count / 4) hypotheses")
            }
        }
        let active = targets.map(\.activeIndices)
        let groundTruth = active.reduce(0) { $0 + $1.count }
        let norm = normaliser ?? Double(max(1, groundTruth))
        var sums = (cls: 0.0, l1: 0.0, giou: 0.0)
        var out = Output(terms: [], total: 0, boxGradients: [], logitGradients: [], matches: [],
                         groundTruth: groundTruth, unmatchedBoxes: 0, normaliser: norm)
        for i in 0..<images {
            let k = boxes[i].count / 4
            let pred = boxes[i].map(Double.init), x = logits[i].map(Double.init)
            let truth = normalised(targets[i], active[i], imageSize)
            let pairs: [SetMatch]
            if let g = given?[i] { pairs = g } else {
                let t0 = DispatchTime.now().uptimeNanoseconds
                pairs = try match(i, pred, x, truth, active[i], targets[i], ranks?[i], imageSize)
                out.matchingSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            }
            out.matches.append(pairs)
            out.unmatchedBoxes += max(0, active[i].count - k)
            let (c, gLogits) = try classification(x, k: k, pairs: pairs, targets: targets[i], boxes: pred, imageSize)
            let (l1, giou, gBoxes) = try boxTerms(pred, pairs: pairs, targets: targets[i], imageSize)
            sums.cls += c
            sums.l1 += l1
            sums.giou += giou
            let wc = configuration.classWeight / norm
            out.logitGradients.append(gLogits.map { Float($0 * wc) })
            out.boxGradients.append(gBoxes.map { Float($0 / norm) })
        }
        let classTerm = configuration.classification == .softmax ? "class" : "objectness"
        out.terms = [
            LossTerm(name: classTerm, value: sums.cls / norm, weight: configuration.classWeight),
            LossTerm(name: "l1", value: sums.l1 / norm, weight: configuration.l1Weight),
            LossTerm(name: "giou", value: sums.giou / norm, weight: configuration.giouWeight),
        ]
        for t in out.terms where !t.value.isFinite {
            throw CriterionError.nonFiniteTerm(term: t.name, detail: "value \(t.value)")
        }
        out.total = out.terms.weightedTotal
        Self.matchingTimer?(out.matchingSeconds)
        return out
    }
}
