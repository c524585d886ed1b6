import Boxes
import Criterion
import DetectorModel
import Matching
import Foundation
import NeuralNet

/// A batch ready for the network: letterboxed, normalised images and their targets in input pixels.
public struct TrainingBatch {
    /// `[N, 3, H, W]` (`H = W = S` unless `DetectorConfig.rectangular`).
    public var images: Tensor
    /// Per image ground truth, in input pixels (xyxy), 0-based classes, ignore flags.
    public var targets: [ImageTargets]

    /// Creates a batch.
    public init(images: Tensor, targets: [ImageTargets]) {
        self.images = images
        self.targets = targets
    }
}

/// The phases of a training step, in order; `TrainStep.phaseTimer` receives the seconds of each.
public enum TrainPhase: String, CaseIterable, Sendable {
    /// The forward pass of the network.
    case forward
    /// The dense criterion (anchor assignment, focal loss, box losses).
    case denseCriterion = "dense criterion"
    /// The set criterion (matching and set losses).
    case setCriterion = "set criterion"
    /// The backward pass.
    case backward
    /// Gradient clipping and the optimizer step.
    case optimizer
}

/// What one training step did.
public struct StepReport {
    /// Every weighted loss term by name (`dense.focal`, `set.class`, …) and `total`.
    public var losses: [(name: String, value: Double)]
    /// The weighted total.
    public var total: Double
    /// Global gradient norm before clipping (0 when the step was skipped).
    public var gradientNorm: Double
    /// Why the step was skipped (a non-finite term or output), or nil when it was applied.
    public var skipped: String?
    /// Dense positives and ground-truth boxes that found no hypothesis (more boxes than hypotheses).
    public var positives: Int, unmatchedBoxes: Int
}

/// The training step, readable top to bottom: forward, both criteria, backward in reverse order, gradient clipping,
/// optimizer step. Criteria follow the configuration: the dense criterion (RetinaNet focal + SmoothL1 + GIoU) and the
/// set criterion (Hungarian matching, class cross-entropy with no-object weight, L1 and GIoU on matched boxes).
public final class TrainStep {
    /// The network.
    public let detector: Detector
    /// The optimizer.
    public let optimizer: Optimizer
    /// Dense criterion (`ReplicaStep` keeps its per-image work on the replica's thread).
    public var denseCriterion: DenseCriterion
    /// Set criterion (unused without a set head).
    public let setCriterion: SetCriterion
    /// Maximum global gradient norm.
    public var clipNorm: Float = 10
    /// Receives the seconds of each phase.
    public var phaseTimer: ((TrainPhase, Double) -> Void)?
    /// Combines the step over the processes of a data-parallel job, or over the replicas of a `ReplicaStep`
    /// (`StepCoordinator`); nil: one process, one replica.
    public var coordinator: StepCoordinator?
    /// The reason a step gives when it is skipped because another process or replica skipped it.
    public static let agreedSkip = "another process skipped this step"
    /// The class-balanced weights both criteria apply (nil: none).
    public let classWeights: [Double]?
    private var phaseStart = Date()

    private func lap(_ name: TrainPhase) {
        guard let timer = phaseTimer else { return }
        let now = Date()
        timer(name, now.timeIntervalSince(phaseStart))
        phaseStart = now
    }

    /// A step for `detector` with `optimizer`; `classWeights` (class-balanced weighting) apply to both criteria.
    public init(detector: Detector, optimizer: Optimizer, classWeights: [Double]? = nil) {
        self.detector = detector
        self.optimizer = optimizer
        self.classWeights = classWeights
        let c = detector.config
        var dense = DenseCriterion.Configuration(classes: c.numClasses)
        dense.focalAlpha = c.focalAlpha
        dense.focalGamma = c.focalGamma
        dense.classWeights = classWeights
        if c.denseAssignment == .atss {
            dense.assigner.atssTopK = 9
            dense.assigner.anchorShapes = c.anchorsPerLocation
            dense.assigner.levelAnchorCounts = c.levelAnchorCounts
        }
        denseCriterion = DenseCriterion(dense)
        var set = SetCriterion.Configuration(classes: c.numClasses)
        set.eosCoef = c.eosCoef
        set.labelSmoothing = c.labelSmoothing
        set.iouTargets = c.setIoUTargets ?? false
        set.classWeights = classWeights
        set.classWeight = c.classWeight
        set.l1Weight = c.l1Weight
        set.giouWeight = c.giouWeight
        set.matchCost = c.matchCost == .reinspect
            ? .reinspect(ReInspectCost()) : .detr(DETRCost(classWeight: c.classWeight, l1Weight: c.l1Weight, giouWeight: c.giouWeight))
        setCriterion = SetCriterion(set)
    }

    /// Runs one step on `batch` at `learningRate`: `gradients(_:)`, then `update(_:learningRate:)` unless the step
    /// was skipped. A non-finite output, loss term or gradient skips the update and says which.
    public func run(_ batch: TrainingBatch, learningRate: Float) throws -> StepReport {
        let report = try gradients(batch)
        return report.skipped == nil ? update(report, learningRate: learningRate) : report
    }

    /// Steps 1–4 of a step on `batch`: forward, both criteria, backward (with the `coordinator`'s sums, when there
    /// is one). The parameters hold the step's gradients afterwards, unless the report says it was skipped.
    public func gradients(_ batch: TrainingBatch) throws -> StepReport {
        let c = detector.config
        let n = batch.images.shape[0]
        // 1. Forward.
        phaseStart = Date()
        detector.setTraining(true)
        detector.oneToManyGroup = c.setOneToMany != nil && detector.querySet != nil
        let denoising = detector.querySet == nil ? nil : c.setDenoising.map {
            Denoising.group(batch.targets, k: c.hypotheses, noise: $0, height: Double(batch.images.shape[2]),
                            width: Double(batch.images.shape[3]))
        }
        detector.denoisingBoxes = denoising?.boxes
        detector.progressiveTraining = c.setProgressive != nil
        let out = detector.forward(batch.images)
        (detector.oneToManyGroup, detector.denoisingBoxes, detector.progressiveTraining) = (false, nil, false)
        lap(.forward)
        // 2. Dense criterion.
        let (a, classes) = (out.denseLogits.shape[1], c.numClasses)
        let logits = (0..<n).map { Array(out.denseLogits.data[($0 * a * classes)..<(($0 + 1) * a * classes)]) }
        let deltas = (0..<n).map { Array(out.denseDeltas.data[($0 * a * 4)..<(($0 + 1) * a * 4)]) }
        var report = StepReport(losses: [], total: 0, gradientNorm: 0, skipped: nil, positives: 0, unmatchedBoxes: 0)
        if c.denseAssignment == .atss {  // ATSS picks candidates per level of this batch's input shape
            denseCriterion.configuration.assigner.levelAnchorCounts =
                c.levelAnchorCounts(height: detector.inputHeight, width: detector.inputWidth)
        }
        let denseOut: DenseCriterion.Output
        do { denseOut = try denseCriterion(anchors: detector.anchors, logits: logits, deltas: deltas, targets: batch.targets) } catch {
            return try skipping(report, "dense criterion: \(error)")
        }
        lap(.denseCriterion)
        report.positives = denseOut.positives
        report.losses += denseOut.terms.map { ("dense.\($0.name)", c.denseWeight * $0.value * $0.weight) }
        // 3. Set criterion.
        // The training-only groups: their outputs, term prefixes and the counts their terms are divided by.
        var setOut: SetCriterion.Output? = nil, extra: [(out: SetCriterion.Output, prefix: String, count: Int)] = []
        var secondStage: SetCriterion.Output? = nil
        let k = out.hypotheses
        if k > 0 {
            do {
                setOut = try setCriterion(group: 0, of: out, targets: batch.targets)
                report.losses += setOut!.terms.map { ("set.\($0.name)", c.setWeight * $0.value * $0.weight) }
                if let refined = out.refined {  // divided as the K queries' terms are
                    secondStage = try secondStageCriterion(refined, first: setOut!, targets: batch.targets)
                    report.losses += secondStage!.terms.map {
                        ("set.stage2.\($0.name)", c.setWeight * $0.value * $0.weight)
                    }
                }
                if detector.querySet != nil, let repeats = c.setOneToMany {
                    let repeated = batch.targets.map { Self.repeated($0, repeats, within: k) }
                    let o2m = try setCriterion(group: 1, of: out, targets: repeated)
                    extra.append((o2m, "set.o2m.", o2m.groundTruth))
                }
                if let denoising {
                    let positives = Double(max(1, denoising.positives))
                    extra.append((try setCriterion(group: out.setGroups - 1, of: out, targets: batch.targets,
                                                   matches: denoising.matches, normaliser: positives),
                                  "set.dn.", denoising.positives))
                }
                for group in extra {
                    report.losses += group.out.terms.map {
                        (group.prefix + $0.name, c.setWeight * $0.value * $0.weight)
                    }
                }
            } catch {
                return try skipping(report, "set criterion: \(error)")
            }
            report.unmatchedBoxes = setOut!.unmatchedBoxes
        }
        lap(.setCriterion)
        report.total = report.losses.reduce(0) { $0 + $1.value }
        if let bad = report.losses.first(where: { !$0.value.isFinite }) {
            return try skipping(report, "non-finite loss term \(bad.name) = \(bad.value)")
        }
        // Data parallel: every term normalised by the global counts, so that the summed gradients are the global
        // batch's; each training-only group by its own count (repeated boxes, denoising positives).
        var scale = (dense: 1.0, set: 1.0), groupScales = [Double](repeating: 1, count: extra.count)
        if let coordinator {
            let local = StepCounts(skipped: 0, positives: denseOut.positives, boxes: setOut?.groundTruth ?? 0,
                                   unmatchedBoxes: report.unmatchedBoxes, groups: extra.map(\.count))
            let all = try coordinator.combine(local)
            guard all.skipped == 0 else { return try skipping(report, Self.agreedSkip, agreed: true) }
            scale = (denseOut.normaliser / Double(max(1, all.positives)), (setOut?.normaliser ?? 1) / Double(max(1, all.boxes)))
            groupScales = zip(extra, all.groups).map { $0.out.normaliser / Double(max(1, $1)) }
            report.positives = all.positives
            report.unmatchedBoxes = all.unmatchedBoxes
            report.losses = report.losses.map { term in
                if term.name.hasPrefix("dense.") { return (term.name, term.value * scale.dense) }
                let group = extra.firstIndex { term.name.hasPrefix($0.prefix) }
                return (term.name, term.value * (group.map { groupScales[$0] } ?? scale.set))
            }
        }
        // 4. Backward, in reverse order of the forward pass.
        let params = detector.parameters
        zeroGradients(params)
        let dw = Float(c.denseWeight * scale.dense), sw = Float(c.setWeight * scale.set)
        var dLogits = Tensor(shape: out.denseLogits.shape), dDeltas = Tensor(shape: out.denseDeltas.shape)
        for i in 0..<n {
            for j in 0..<(a * classes) { dLogits.data[i * a * classes + j] = dw * denseOut.logitGradients[i][j] }
            for j in 0..<(a * 4) { dDeltas.data[i * a * 4 + j] = dw * denseOut.deltaGradients[i][j] }
        }
        var dSetBoxes: [Float] = [], dSetLogits = Tensor(shape: out.setLogits.shape)
        if let s = setOut {
            let groups = [(s, sw)] + zip(extra, groupScales).map { ($0.out, Float(c.setWeight * $1)) }
            dSetBoxes = (0..<n).flatMap { i in groups.flatMap { g, w in g.boxGradients[i].map { $0 * w } } }
            let dLogitsSet = (0..<n).flatMap { i in groups.flatMap { g, w in g.logitGradients[i].map { $0 * w } } }
            dSetLogits = Tensor(shape: out.setLogits.shape, data: dLogitsSet)
        }
        let dRefinedBoxes = secondStage.map { s in s.boxGradients.flatMap { $0.map { $0 * sw } } }
        let dRefinedLogits = secondStage.map { s in
            Tensor(shape: out.refined!.logits.shape, data: s.logitGradients.flatMap { $0.map { $0 * sw } })
        }
        detector.backward(dDenseLogits: dLogits, dDenseDeltas: dDeltas, dSetBoxes: dSetBoxes, dSetLogits: dSetLogits,
                          dRefinedBoxes: dRefinedBoxes, dRefinedLogits: dRefinedLogits)
        if let coordinator {
            var values = report.losses.map(\.value)
            try coordinator.reduce(params, terms: &values)
            report.losses = zip(report.losses, values).map { ($0.0.name, $0.1) }
        }
        report.total = report.losses.reduce(0) { $0 + $1.value }
        lap(.backward)
        return report
    }

    /// Step 5 after `gradients(_:)` produced `report` (not skipped): clips the gradients to `clipNorm` and takes the
    /// optimizer step at `learningRate`; a non-finite gradient norm zeroes the gradients and skips the update.
    public func update(_ report: StepReport, learningRate: Float) -> StepReport {
        var report = report
        let params = detector.parameters
        let norm = clipGradientNorm(params, maxNorm: clipNorm)
        report.gradientNorm = Double(norm)
        guard norm.isFinite else {
            zeroGradients(params)
            report.skipped = "non-finite gradient norm"
            return report
        }
        optimizer.step(params, learningRate: learningRate)
        lap(.optimizer)
        return report
    }

    /// Skips the step with `reason`; in a data-parallel job first tells the other processes (unless they `agreed`
    /// already), so that every process skips the same steps.
    private func skipping(_ report: StepReport, _ reason: String, agreed: Bool = false) throws -> StepReport {
        var report = report
        report.skipped = reason
        if let coordinator, !agreed {
            _ = try coordinator.combine(StepCounts(skipped: 1, positives: 0, boxes: 0, unmatchedBoxes: 0,
                                                   groups: Array(repeating: 0, count: trainingGroups)))
        }
        return report
    }
}
