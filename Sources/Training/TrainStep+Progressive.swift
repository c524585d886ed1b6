import Boxes
import Criterion
import DetectorModel

/// The criterion of progressive acceptance's second stage (`DetectorConfig.setProgressive`; after Zheng et al.,
/// "Progressive End-to-End Object Detection in Crowded Scenes", CVPR 2022).
extension TrainStep {
    /// The set criterion on the second stage's hypotheses: per image, those the first stage did not accept, matched
    /// to the boxes that no accepted hypothesis was matched to in `first` (the K queries' criterion output), and
    /// divided by `first`'s normaliser (with `matches`, pairs of such rows and boxes, held to those). The gradients
    /// and matches come back for all K rows and the boxes of `targets` (accepted rows: zero gradients).
    func secondStageCriterion(_ refined: RefinedHypotheses, first: SetCriterion.Output, targets: [ImageTargets],
                              matches: [[SetMatch]]? = nil) throws -> SetCriterion.Output {
        let (n, k, per) = (targets.count, detector.config.hypotheses, detector.config.numClasses + 1)
        var boxes: [[Float]] = [], logits: [[Float]] = [], open: [[Int]] = [], rest: [ImageTargets] = []
        var kept: [[Int]] = []
        for i in 0..<n {
            let accepted = Array(refined.accepted[(i * k)..<(i * k + k)])
            let taken = Set(first.matches[i].filter { accepted[$0.hypothesis] }.map(\.box))
            let rows = (0..<k).filter { !accepted[$0] }
            open.append(rows)
            boxes.append(rows.flatMap { refined.boxes[((i * k + $0) * 4)..<((i * k + $0) * 4 + 4)] })
            logits.append(rows.flatMap { refined.logits.data[((i * k + $0) * per)..<((i * k + $0) * per + per)] })
            let keep = targets[i].boxes.indices.filter { !taken.contains($0) }
            kept.append(keep)
            let t = targets[i]
            rest.append(ImageTargets(boxes: keep.map { t.boxes[$0] }, classes: keep.map { t.classes[$0] },
                                     ignore: keep.map { t.ignore[$0] }, partialRegions: t.partialRegions))
        }
        let s = Double(detector.config.inputSize)
        let given = matches.map { all in
            (0..<n).map { i in
                all[i].map {
                    SetMatch(hypothesis: open[i].firstIndex(of: $0.hypothesis)!, box: kept[i].firstIndex(of: $0.box)!)
                }
            }
        }
        var out = try setCriterion(boxes: boxes, logits: logits, targets: rest, imageSize: (s, s), ranks: open,
                                   matches: given, normaliser: first.normaliser)
        for i in 0..<n {
            var dBoxes = [Float](repeating: 0, count: k * 4), dLogits = [Float](repeating: 0, count: k * per)
            for (j, h) in open[i].enumerated() {
                for c in 0..<4 { dBoxes[h * 4 + c] = out.boxGradients[i][j * 4 + c] }
                for c in 0..<per { dLogits[h * per + c] = out.logitGradients[i][j * per + c] }
            }
            out.boxGradients[i] = dBoxes
            out.logitGradients[i] = dLogits
            out.matches[i] = out.matches[i].map { SetMatch(hypothesis: open[i][$0.hypothesis], box: kept[i][$0.box]) }
        }
        return out
    }
}
