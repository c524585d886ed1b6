/// Greedy non-maximum suppression, as `torchvision.ops.nms`: boxes are visited by descending score
/// (ties by ascending index); each kept box suppresses every later box whose IoU with it is strictly
/// greater than `iouThreshold`. IoU is `I / (A + B − I)` without `eps` (a zero union never suppresses;
/// an inverted box has area 0).
/// `nan` scores sort last.
///
/// With `maxKept`, suppression stops once that many boxes are kept (the first `maxKept` of the full result, at
/// a cost of `O(n · maxKept)` overlaps instead of `O(n²)`).
///
/// - Returns: the indices of the kept boxes, by descending score.
public func nms(boxes: [Box], scores: [Double], iouThreshold: Double, maxKept: Int = .max) -> [Int] {
    precondition(boxes.count == scores.count, "\(boxes.count) boxes but \(scores.count) scores")
    return greedySuppression(order: scoreOrder(scores, indices: Array(boxes.indices)), boxes: boxes,
                             iouThreshold: iouThreshold, maxKept: maxKept)
}

/// Class-aware NMS (`torchvision.ops.batched_nms`): suppression only between boxes of the same class.
///
/// - Returns: the indices of the kept boxes of every class, merged by descending score (ties by index).
public func batchedNMS(boxes: [Box], scores: [Double], classes: [Int], iouThreshold: Double) -> [Int] {
    precondition(boxes.count == scores.count && boxes.count == classes.count,
                 "\(boxes.count) boxes, \(scores.count) scores, \(classes.count) classes")
    var groups: [Int: [Int]] = [:]
    for (k, c) in classes.enumerated() { groups[c, default: []].append(k) }
    var kept: [Int] = []
    for (_, members) in groups {
        kept += greedySuppression(order: scoreOrder(scores, indices: members), boxes: boxes,
                                  iouThreshold: iouThreshold)
    }
    return scoreOrder(scores, indices: kept)
}

/// `indices` sorted by descending score, ties by ascending index, `nan` last.
private func scoreOrder(_ scores: [Double], indices: [Int]) -> [Int] {
    indices.sorted { a, b in
        let sa = scores[a].isNaN ? -Double.infinity : scores[a]
        let sb = scores[b].isNaN ? -Double.infinity : scores[b]
        return sa != sb ? sa > sb : a < b
    }
}

/// Keeps boxes in `order`, dropping each one that overlaps an already kept box by IoU > threshold, until
/// `maxKept` are kept.
private func greedySuppression(order: [Int], boxes: [Box], iouThreshold: Double, maxKept: Int = .max) -> [Int] {
    var suppressed = [Bool](repeating: false, count: order.count)
    var kept: [Int] = []
    let sorted = order.map { boxes[$0] }
    let areas = sorted.map { max($0.x2 - $0.x1, 0) * max($0.y2 - $0.y1, 0) }
    for a in 0..<sorted.count where !suppressed[a] {
        guard kept.count < maxKept else { break }
        kept.append(order[a])
        let p = sorted[a]
        for b in (a + 1)..<max(a + 1, sorted.count) where !suppressed[b] {
            let q = sorted[b]
            let w = max(min(p.x2, q.x2) - max(p.x1, q.x1), 0)
            let h = max(min(p.y2, q.y2) - max(p.y1, q.y1), 0)
            let inter = w * h
            if inter / (areas[a] + areas[b] - inter) > iouThreshold { suppressed[b] = true }
        }
    }
    return kept
}
