/// Detections grouped by (category, image) — group `k · I + i` — ordered by score (ties in input order) and
/// cut to the largest detection limit, as pycocotools' `evaluateImg` sees them.
struct GroupedDetections {
    /// Group `g` holds `start[g] ..< start[g + 1]`.
    var start: [Int]
    var boxes: [COCOBox]
    var scores: [Double]
    /// Position within its group (0 = highest score); compared with each detection limit.
    var ranks: [Int32]
}

/// Per-detection match flags of every group, one `UInt32` bit per IoU threshold, for every area range.
struct DetectionMatches {
    var detections: GroupedDetections
    /// `[detection · A + a]`: bit t set when the detection matched a ground truth at threshold t
    /// (pycocotools' `dtMatches != 0`).
    var matched: [UInt32]
    /// `[detection · A + a]`: bit t set when the detection is ignored at threshold t (`dtIgnore`).
    var ignored: [UInt32]
    /// `[group · A + a]`: ground truths that are not ignored (`gtIgnore == 0`).
    var relevantGroundTruth: [Int32]
}

extension COCOEvaluator {
    /// Groups, orders and truncates detections; throws on an image id the ground truth lacks.
    func groupDetections(_ detections: [COCODetection], source: String) throws -> GroupedDetections {
        let imageCount = imageIDs.count
        let groups = categories.count * imageCount
        var groupOf = [Int32](repeating: -1, count: detections.count)
        var counts = [Int](repeating: 0, count: groups + 1)
        for (n, d) in detections.enumerated() {
            guard let i = imageIndex[d.imageID] else {
                throw EvaluationError.unknownImage(file: source, imageID: d.imageID)
            }
            guard let k = categoryIndex[d.categoryID] else { continue }
            let g = k * imageCount + i
            groupOf[n] = Int32(g)
            counts[g + 1] += 1
        }
        for g in 0..<groups { counts[g + 1] += counts[g] }
        var order = [Int](repeating: 0, count: counts[groups])
        var next = counts
        for n in detections.indices where groupOf[n] >= 0 {
            let g = Int(groupOf[n])
            order[next[g]] = n
            next[g] += 1
        }
        let limit = parameters.maxDetections.last!
        var start = [Int](repeating: 0, count: groups + 1)
        for g in 0..<groups { start[g + 1] = start[g] + min(counts[g + 1] - counts[g], limit) }
        var boxes = [COCOBox](repeating: COCOBox(x: 0, y: 0, width: 0, height: 0), count: start[groups])
        var scores = [Double](repeating: 0, count: start[groups])
        var ranks = [Int32](repeating: 0, count: start[groups])
        detections.withUnsafeBufferPointer { dets in
            order.withUnsafeMutableBufferPointer { order in
                for g in 0..<groups where counts[g + 1] > counts[g] {
                    var slice = UnsafeMutableBufferPointer(rebasing: order[counts[g]..<counts[g + 1]])
                    // numpy's argsort(-score, kind='mergesort'): descending score, ties in input order.
                    slice.sort { a, b in
                        let sa = dets[a].score, sb = dets[b].score
                        return sa > sb || (sa == sb && a < b)
                    }
                    for r in 0..<(start[g + 1] - start[g]) {
                        let d = dets[slice[r]]
                        boxes[start[g] + r] = d.box
                        scores[start[g] + r] = d.score
                        ranks[start[g] + r] = Int32(r)
                    }
                }
            }
        }
        return GroupedDetections(start: start, boxes: boxes, scores: scores, ranks: ranks)
    }

    /// Runs pycocotools' `evaluateImg` on every (category, image) group and area range, on all cores.
    func matchAll(_ grouped: GroupedDetections) -> DetectionMatches {
        let groups = gtStart.count - 1
        let areaCount = parameters.areaRanges.count
        let detectionCount = grouped.scores.count
        var matched = [UInt32](repeating: 0, count: detectionCount * areaCount)
        var ignored = [UInt32](repeating: 0, count: detectionCount * areaCount)
        var relevant = [Int32](repeating: 0, count: groups * areaCount)
        let chunks = chunkCount(for: groups)
        matched.withUnsafeMutableBufferPointer { matched in
            ignored.withUnsafeMutableBufferPointer { ignored in
                relevant.withUnsafeMutableBufferPointer { relevant in
                    let out = MatchOutput(matched: matched, ignored: ignored, relevant: relevant)
                    parallelChunks(chunks) { chunk in
                        var scratch = MatchScratch()
                        let lo = groups * chunk / chunks, hi = groups * (chunk + 1) / chunks
                        for g in lo..<hi { matchGroup(g, grouped, out, &scratch) }
                    }
                }
            }
        }
        return DetectionMatches(detections: grouped, matched: matched, ignored: ignored, relevantGroundTruth: relevant)
    }

    /// `evaluateImg` for one group and every area range.
    private func matchGroup(_ g: Int, _ grouped: GroupedDetections, _ out: MatchOutput, _ s: inout MatchScratch) {
        let g0 = gtStart[g], gCount = gtStart[g + 1] - g0
        let d0 = grouped.start[g], dCount = grouped.start[g + 1] - d0
        let areaCount = parameters.areaRanges.count
        if gCount == 0 && dCount == 0 { return }
        // IoU of every detection (score order) with every ground truth (file order).
        s.iou.removeAll(keepingCapacity: true)
        for d in 0..<dCount {
            let box = grouped.boxes[d0 + d]
            for j in 0..<gCount {
                s.iou.append(cocoBoxIoU(detection: box, groundTruth: gtBoxes[g0 + j], crowd: gtCrowd[g0 + j]))
            }
        }
        let thresholds = parameters.iouThresholds
        let allBits: UInt32 = thresholds.count == 32 ? ~0 : (1 << UInt32(thresholds.count)) - 1
        for (a, range) in parameters.areaRanges.enumerated() {
            // Ground truth ordered with ignored ones last (stable, like argsort(kind='mergesort')).
            s.order.removeAll(keepingCapacity: true)
            s.isIgnored.removeAll(keepingCapacity: true)
            var relevantCount: Int32 = 0
            for pass in 0..<2 {
                for j in 0..<gCount {
                    let area = gtAreas[g0 + j]
                    let ignore = gtCrowd[g0 + j] || area < range.lower || area > range.upper
                    if ignore == (pass == 1) {
                        s.order.append(j)
                        s.isIgnored.append(ignore)
                        if !ignore { relevantCount += 1 }
                    }
                }
            }
            out.relevant[g * areaCount + a] = relevantCount
            s.taken.removeAll(keepingCapacity: true)
            s.taken.append(contentsOf: repeatElement(false, count: thresholds.count * gCount))
            for d in 0..<dCount {
                var matchedBits: UInt32 = 0, ignoredBits: UInt32 = 0
                for (t, threshold) in thresholds.enumerated() {
                    var best = min(threshold, 1 - 1e-10)
                    var m = -1
                    for jj in 0..<gCount {
                        let j = s.order[jj]
                        if s.taken[t * gCount + jj] && !gtCrowd[g0 + j] { continue }
                        if m > -1 && !s.isIgnored[m] && s.isIgnored[jj] { break }
                        let iou = s.iou[d * gCount + j]
                        if iou < best { continue }
                        best = iou
                        m = jj
                    }
                    if m == -1 { continue }
                    s.taken[t * gCount + m] = true
                    if s.isIgnored[m] { ignoredBits |= 1 << UInt32(t) }
                    if gtCountsAsMatch[g0 + s.order[m]] { matchedBits |= 1 << UInt32(t) }
                }
                // Unmatched detections outside the area range are ignored (area = w · h, as loadRes sets it).
                let area = grouped.boxes[d0 + d].area
                if area < range.lower || area > range.upper { ignoredBits |= ~matchedBits & allBits }
                out.matched[(d0 + d) * areaCount + a] = matchedBits
                out.ignored[(d0 + d) * areaCount + a] = ignoredBits
            }
        }
    }
}

/// Output buffers shared by the matching workers; each group writes only its own slots.
private struct MatchOutput: @unchecked Sendable {
    let matched: UnsafeMutableBufferPointer<UInt32>
    let ignored: UnsafeMutableBufferPointer<UInt32>
    let relevant: UnsafeMutableBufferPointer<Int32>
}

/// Per-worker buffers reused across groups.
private struct MatchScratch {
    var iou: [Double] = []
    var order: [Int] = []
    var isIgnored: [Bool] = []
    /// `[t · G + jj]`: ground truth jj (in ignore order) already matched at threshold t.
    var taken: [Bool] = []
}
