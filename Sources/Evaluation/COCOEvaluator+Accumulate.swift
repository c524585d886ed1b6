/// `np.spacing(1)`: the gap between 1 and the next double, added to precision denominators by pycocotools.
let doubleSpacingOfOne = 2.220446049250313e-16

extension COCOEvaluator {
    /// pycocotools' `accumulate`: precision `[T][R][K][A][M]` and recall `[T][K][A][M]`, −1 where a setting
    /// has no relevant ground truth. Categories run in parallel.
    func accumulate(_ matches: DetectionMatches) -> (precision: [Double], recall: [Double]) {
        let p = parameters
        let T = p.iouThresholds.count, R = p.recallThresholds.count, K = categories.count
        let A = p.areaRanges.count, M = p.maxDetections.count
        var precision = [Double](repeating: -1, count: T * R * K * A * M)
        var recall = [Double](repeating: -1, count: T * K * A * M)
        precision.withUnsafeMutableBufferPointer { precisionOut in
            recall.withUnsafeMutableBufferPointer { recallOut in
                let out = AccumulateOutput(precision: precisionOut, recall: recallOut)
                parallelChunks(K) { k in accumulateCategory(k, matches, out) }
            }
        }
        return (precision, recall)
    }

    private func accumulateCategory(_ k: Int, _ matches: DetectionMatches, _ out: AccumulateOutput) {
        let p = parameters
        let T = p.iouThresholds.count, R = p.recallThresholds.count, K = categories.count
        let A = p.areaRanges.count, M = p.maxDetections.count
        let I = imageIDs.count
        let dets = matches.detections
        let first = dets.start[k * I], end = dets.start[(k + 1) * I]
        // All images' detections concatenated (image order, then score order) and merged by score:
        // numpy's argsort(-scores, kind='mergesort') is stable, so ties keep concatenation order.
        var sorted = Array(first..<end)
        dets.scores.withUnsafeBufferPointer { scores in
            sorted.sort { a, b in scores[a] > scores[b] || (scores[a] == scores[b] && a < b) }
        }
        var relevant = [Int](repeating: 0, count: A)
        for g in (k * I)..<((k + 1) * I) {
            for a in 0..<A { relevant[a] += Int(matches.relevantGroundTruth[g * A + a]) }
        }
        var kept: [Int] = []
        var rc: [Double] = [], pr: [Double] = []
        kept.reserveCapacity(sorted.count)
        rc.reserveCapacity(sorted.count)
        pr.reserveCapacity(sorted.count)
        for (m, limit) in p.maxDetections.enumerated() {
            kept.removeAll(keepingCapacity: true)
            for d in sorted where dets.ranks[d] < limit { kept.append(d) }
            for a in 0..<A where relevant[a] > 0 {
                let npig = Double(relevant[a])
                for t in 0..<T {
                    rc.removeAll(keepingCapacity: true)
                    pr.removeAll(keepingCapacity: true)
                    var tp = 0.0, fp = 0.0
                    for d in kept {
                        let ignoredBit = (matches.ignored[d * A + a] >> UInt32(t)) & 1
                        if ignoredBit == 0 {
                            if (matches.matched[d * A + a] >> UInt32(t)) & 1 == 1 { tp += 1 } else { fp += 1 }
                        }
                        rc.append(tp / npig)
                        pr.append(tp / (fp + tp + doubleSpacingOfOne))
                    }
                    let nd = kept.count
                    out.recall[((t * K + k) * A + a) * M + m] = nd > 0 ? rc[nd - 1] : 0
                    // Precision envelope: each point takes the best precision at any higher recall.
                    if nd > 1 {
                        for i in stride(from: nd - 1, to: 0, by: -1) where pr[i] > pr[i - 1] { pr[i - 1] = pr[i] }
                    }
                    // searchsorted(rc, recThrs, side='left'); points past the last recall keep precision 0.
                    var i = 0
                    for (r, threshold) in p.recallThresholds.enumerated() {
                        while i < nd && rc[i] < threshold { i += 1 }
                        out.precision[(((t * R + r) * K + k) * A + a) * M + m] = i < nd ? pr[i] : 0
                    }
                }
            }
        }
    }
}

/// Output buffers shared by the per-category workers; each category writes only its own slots.
private struct AccumulateOutput: @unchecked Sendable {
    let precision: UnsafeMutableBufferPointer<Double>
    let recall: UnsafeMutableBufferPointer<Double>
}
