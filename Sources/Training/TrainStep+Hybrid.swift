import Boxes
import Criterion
import DetectorModel

/// The set criterion on one group of a forward pass's hypotheses, and the repeated targets of hybrid matching's
/// one-to-many group (H-DETR, Jia et al., CVPR 2023; `DetectorConfig.setOneToMany`).
extension TrainStep {
    /// The set criterion on group `group` (0: the K queries; then the one-to-many group when there is one, the last
    /// by their place in the group; 2 after it: the denoising group) of `out`'s hypotheses, ranked by their place in
    /// the group, against `targets` (with `matches`, held to those pairs; with `normaliser`, divided by it).
    func setCriterion(group: Int, of out: DetectorOutput, targets: [ImageTargets], matches: [[SetMatch]]? = nil,
                      normaliser: Double? = nil) throws -> SetCriterion.Output {
        let (n, k, groups) = (targets.count, out.hypotheses, out.setGroups), per = detector.config.numClasses + 1
        let first = (0..<n).map { $0 * groups + group }
        let boxes = first.map { Array(out.setBoxes[($0 * k * 4)..<(($0 + 1) * k * 4)]) }
        let logits = first.map { Array(out.setLogits.data[($0 * k * per)..<(($0 + 1) * k * per)]) }
        let s = Double(detector.config.inputSize)
        return try setCriterion(boxes: boxes, logits: logits, targets: targets, imageSize: (s, s),
                                ranks: Array(repeating: Array(0..<k), count: n), matches: matches,
                                normaliser: normaliser)
    }

    /// How many training-only groups of set hypotheses a step appends: one for `setOneToMany`, one for
    /// `setDenoising`, each with a query head only (`StepCounts.groups` holds a count for each).
    var trainingGroups: Int {
        let c = detector.config
        guard detector.querySet != nil, c.hypotheses > 0 else { return 0 }
        return (c.setOneToMany != nil ? 1 : 0) + (c.setDenoising != nil ? 1 : 0)
    }

    /// `targets` with every box `repeats` times over, or as many times as `k` hypotheses can take them all (at least
    /// once): the one-to-many group's targets, so that the assignment gives each box up to that many hypotheses.
    static func repeated(_ targets: ImageTargets, _ repeats: Int, within k: Int) -> ImageTargets {
        let active = max(1, targets.activeIndices.count)
        let times = max(1, min(repeats, k / active))
        guard times > 1 else { return targets }
        var out = targets
        out.boxes = Array([[Box]](repeating: targets.boxes, count: times).joined())
        out.classes = Array([[Int]](repeating: targets.classes, count: times).joined())
        out.ignore = Array([[Bool]](repeating: targets.ignore, count: times).joined())
        return out
    }
}
