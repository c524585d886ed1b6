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
        let input = MatchInput(self, grouped)
        defer { input.deallocate() }
        matched.withUnsafeMutableBufferPointer { matched in
            ignored.withUnsafeMutableBufferPointer { ignored in
                relevant.withUnsafeMutableBufferPointer { relevant in
                    let out = MatchOutput(matched: matched, ignored: ignored, relevant: relevant)
                    parallelChunks(chunks) { chunk in
                        let lo = groups * chunk / chunks, hi = groups * (chunk + 1) / chunks
                        var largest = 0
                        for g in lo..<hi {
                            largest = max(largest, (input.gtStart[g + 1] - input.gtStart[g])
                                * max(1, input.dStart[g + 1] - input.dStart[g]))
                        }
                        let scratch = MatchScratch(capacity: largest, thresholds: input.thresholds.count)
                        defer { scratch.deallocate() }
                        for g in lo..<hi { matchGroup(g, input, out, scratch) }
                    }
                }
            }
        }
        return DetectionMatches(detections: grouped, matched: matched, ignored: ignored, relevantGroundTruth: relevant)
    }

    /// `evaluateImg` for one group and every area range.
    private func matchGroup(_ g: Int, _ input: MatchInput, _ out: MatchOutput, _ s: MatchScratch) {
        let g0 = input.gtStart[g], gCount = input.gtStart[g + 1] - g0
        let d0 = input.dStart[g], dCount = input.dStart[g + 1] - d0
        if gCount == 0 && dCount == 0 { return }
        let areaCount = input.areas.count
        let gtBoxes = input.gtBoxes + g0, gtAreas = input.gtAreas + g0, gtCrowd = input.gtCrowd + g0
        let gtCounts = input.gtCounts + g0, boxes = input.dBoxes + d0
        // IoU of every detection (score order) with every ground truth (file order).
        for d in 0..<dCount {
            for j in 0..<gCount {
                s.iou[d * gCount + j] = cocoBoxIoU(detection: boxes[d], groundTruth: gtBoxes[j], crowd: gtCrowd[j])
            }
        }
        let T = input.thresholds.count
        let allBits: UInt32 = T == 32 ? ~0 : (1 << UInt32(T)) - 1
        for a in 0..<areaCount {
            let lower = input.areas[a].lower, upper = input.areas[a].upper
            // Ground truth ordered with ignored ones last (stable, like argsort(kind='mergesort')).
            var n = 0
            var relevantCount: Int32 = 0
            for pass in 0..<2 {
                for j in 0..<gCount {
                    let area = gtAreas[j]
                    let ignore = gtCrowd[j] || area < lower || area > upper
                    if ignore == (pass == 1) {
                        s.order[n] = j
                        s.isIgnored[n] = ignore
                        s.isCrowd[n] = gtCrowd[j]
                        n += 1
                        if !ignore { relevantCount += 1 }
                    }
                }
            }
            out.relevant[g * areaCount + a] = relevantCount
            s.taken.update(repeating: false, count: T * gCount)
            for d in 0..<dCount {
                var matchedBits: UInt32 = 0, ignoredBits: UInt32 = 0
                let iouRow = s.iou + d * gCount
                for t in 0..<T {
                    var best = min(input.thresholds[t], 1 - 1e-10)
                    var m = -1
                    let taken = s.taken + t * gCount
                    for jj in 0..<gCount {
                        if taken[jj] && !s.isCrowd[jj] { continue }
                        if m > -1 && !s.isIgnored[m] && s.isIgnored[jj] { break }
                        let iou = iouRow[s.order[jj]]
                        if iou < best { continue }
                        best = iou
                        m = jj
                    }
                    if m == -1 { continue }
                    taken[m] = true
                    if s.isIgnored[m] { ignoredBits |= 1 << UInt32(t) }
                    if gtCounts[s.order[m]] { matchedBits |= 1 << UInt32(t) }
                }
                // Unmatched detections outside the area range are ignored (area = w · h, as loadRes sets it).
                let area = boxes[d].area
                if area < lower || area > upper { ignoredBits |= ~matchedBits & allBits }
                out.matched[(d0 + d) * areaCount + a] = matchedBits
                out.ignored[(d0 + d) * areaCount + a] = ignoredBits
            }
        }
    }
}

/// Read-only copies of the evaluator's and the detections' arrays for the matching workers.
private struct MatchInput: @unchecked Sendable {
    let gtStart: UnsafeMutablePointer<Int>, gtBoxes: UnsafeMutablePointer<COCOBox>
    let gtAreas: UnsafeMutablePointer<Double>, gtCrowd: UnsafeMutablePointer<Bool>
    let gtCounts: UnsafeMutablePointer<Bool>
    let dStart: UnsafeMutablePointer<Int>, dBoxes: UnsafeMutablePointer<COCOBox>
    let thresholds: [Double]
    let areas: [COCOParameters.AreaRange]

    init(_ e: COCOEvaluator, _ grouped: GroupedDetections) {
        func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, a.count))
            _ = UnsafeMutableBufferPointer(start: p, count: a.count).initialize(from: a)
            return p
        }
        gtStart = copy(e.gtStart); gtBoxes = copy(e.gtBoxes); gtAreas = copy(e.gtAreas)
        gtCrowd = copy(e.gtCrowd); gtCounts = copy(e.gtCountsAsMatch)
        dStart = copy(grouped.start); dBoxes = copy(grouped.boxes)
        thresholds = e.parameters.iouThresholds
        areas = e.parameters.areaRanges
    }

    func deallocate() {
        gtStart.deallocate(); gtBoxes.deallocate(); gtAreas.deallocate(); gtCrowd.deallocate()
        gtCounts.deallocate(); dStart.deallocate(); dBoxes.deallocate()
    }
}

/// Output buffers shared by the matching workers; each group writes only its own slots.
private struct MatchOutput: @unchecked Sendable {
    let matched: UnsafeMutableBufferPointer<UInt32>
    let ignored: UnsafeMutableBufferPointer<UInt32>
    let relevant: UnsafeMutableBufferPointer<Int32>
}

/// Per-worker buffers sized for the largest group of the worker's chunk.
private struct MatchScratch {
    /// `[d · G + j]`: IoU of detection d with ground truth j (file order).
    let iou: UnsafeMutablePointer<Double>
    /// Ground truth in ignore order: file index, ignore flag, crowd flag.
    let order: UnsafeMutablePointer<Int>
    let isIgnored: UnsafeMutablePointer<Bool>
    let isCrowd: UnsafeMutablePointer<Bool>
    /// `[t · G + jj]`: ground truth jj (in ignore order) already matched at threshold t.
    let taken: UnsafeMutablePointer<Bool>

    init(capacity: Int, thresholds: Int) {
        let c = max(1, capacity)
        iou = .allocate(capacity: c)
        order = .allocate(capacity: c)
        isIgnored = .allocate(capacity: c)
        isCrowd = .allocate(capacity: c)
        taken = .allocate(capacity: c * max(1, thresholds))
    }

    func deallocate() {
        iou.deallocate(); order.deallocate(); isIgnored.deallocate(); isCrowd.deallocate(); taken.deallocate()
    }
}
