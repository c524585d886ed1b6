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

    /// Merges one category's detections of all images by score and fills its precision and recall.
    ///
    /// numpy's `argsort(-scores, kind='mergesort')` over the images' concatenated lists (image order, then
    /// score order) is stable, so ties keep concatenation order: here a sort on (score descending, position).
    /// Precision only needs to be known at true positives: recall reaches a new sampling point only there,
    /// and the envelope (max precision at any later position) is the max over later true positives, since a
    /// false positive only lowers precision and an ignored detection repeats it.
    private func accumulateCategory(_ k: Int, _ matches: DetectionMatches, _ out: AccumulateOutput) {
        let p = parameters
        let T = p.iouThresholds.count, R = p.recallThresholds.count, K = categories.count
        let A = p.areaRanges.count, M = p.maxDetections.count
        let I = imageIDs.count
        let dets = matches.detections
        let first = dets.start[k * I], count = dets.start[(k + 1) * I] - first
        var keys = [SortKey](repeating: SortKey(score: 0, position: 0), count: count)
        for n in 0..<count { keys[n] = SortKey(score: dets.scores[first + n] + 0.0, position: Int32(n)) }
        keys.sort { $0.score > $1.score || ($0.score == $1.score && $0.position < $1.position) }
        // Match flags gathered in merged order, so the walks below read memory in sequence.
        var ranks = [Int32](repeating: 0, count: count)
        var matched = [UInt32](repeating: 0, count: count * A)
        var ignored = [UInt32](repeating: 0, count: count * A)
        for (n, key) in keys.enumerated() {
            let d = first + Int(key.position)
            ranks[n] = dets.ranks[d]
            for a in 0..<A {
                matched[n * A + a] = matches.matched[d * A + a]
                ignored[n * A + a] = matches.ignored[d * A + a]
            }
        }
        var relevant = [Int](repeating: 0, count: A)
        for g in (k * I)..<((k + 1) * I) {
            for a in 0..<A { relevant[a] += Int(matches.relevantGroundTruth[g * A + a]) }
        }
        let allBits: UInt32 = T == 32 ? ~0 : (1 << UInt32(T)) - 1
        let maxRelevant = relevant.max() ?? 0
        // Per threshold, (tp, fp) at each true positive.
        let events = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, T * maxRelevant * 2))
        let envelope = UnsafeMutablePointer<Double>.allocate(capacity: max(1, maxRelevant))
        let kept = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
        defer { events.deallocate(); envelope.deallocate(); kept.deallocate() }
        var tp = [Int32](repeating: 0, count: T), partlyIgnored = [Int32](repeating: 0, count: T)
        var eventCount = [Int](repeating: 0, count: T)
        matched.withUnsafeBufferPointer { matched in
        ignored.withUnsafeBufferPointer { ignored in
        for (m, limit) in p.maxDetections.enumerated() {
            var nd = 0
            for n in 0..<count where ranks[n] < limit { kept[nd] = n; nd += 1 }
            for a in 0..<A where relevant[a] > 0 {
                let npig = relevant[a]
                for t in 0..<T { tp[t] = 0; partlyIgnored[t] = 0; eventCount[t] = 0 }
                var fullyIgnored: Int32 = 0
                for n in 0..<nd {
                    let slot = kept[n] * A + a
                    let ig = ignored[slot]
                    if ig == allBits { fullyIgnored += 1; continue }
                    var bits = ig
                    while bits != 0 {
                        partlyIgnored[bits.trailingZeroBitCount] += 1
                        bits &= bits - 1
                    }
                    var tpBits = matched[slot] & ~ig & allBits
                    while tpBits != 0 {
                        let t = tpBits.trailingZeroBitCount
                        tp[t] += 1
                        // Detections so far that count at t, minus the true positives.
                        let fp = Int32(n + 1) - fullyIgnored - partlyIgnored[t] - tp[t]
                        let e = (t * maxRelevant + eventCount[t]) * 2
                        events[e] = tp[t]
                        events[e + 1] = fp
                        eventCount[t] += 1
                        tpBits &= tpBits - 1
                    }
                }
                for t in 0..<T {
                    // rc[-1] = tp / npig (0 when there are no detections at all).
                    out.recall[((t * K + k) * A + a) * M + m] = nd > 0 ? Double(tp[t]) / Double(npig) : 0
                    let found = eventCount[t]
                    let base = events + t * maxRelevant * 2
                    var best = 0.0
                    for e in stride(from: found - 1, through: 0, by: -1) {
                        let tpe = Double(base[2 * e]), fpe = Double(base[2 * e + 1])
                        let precisionHere = tpe / (fpe + tpe + doubleSpacingOfOne)
                        if precisionHere > best { best = precisionHere }
                        envelope[e] = best
                    }
                    // searchsorted(rc, recThrs, side='left'); points past the last recall keep precision 0.
                    var e = 0
                    for (r, threshold) in p.recallThresholds.enumerated() {
                        while e < found && Double(base[2 * e]) / Double(npig) < threshold { e += 1 }
                        out.precision[(((t * R + r) * K + k) * A + a) * M + m] = e < found ? envelope[e] : 0
                    }
                }
            }
        }
        }
        }
    }
}

/// A detection's place in the merged order: its score (−0 folded into +0) and its concatenation position.
private struct SortKey {
    var score: Double
    var position: Int32
}

/// Output buffers shared by the per-category workers; each category writes only its own slots.
private struct AccumulateOutput: @unchecked Sendable {
    let precision: UnsafeMutableBufferPointer<Double>
    let recall: UnsafeMutableBufferPointer<Double>
}
