/// Greedy non-maximum suppression, as `torchvision.ops.nms`: boxes are visited by descending score
/// (ties by ascending index); each kept box suppresses every later box whose IoU with it is strictly
/// greater than `iouThreshold`. IoU is `I / (A + B − I)` without `eps` (a zero union never suppresses;
/// an inverted box has area 0).
/// `nan` scores sort last.
///
/// With `maxKept`, suppression stops once that many boxes are kept: the first `maxKept` of the full result, at a
/// cost of the boxes visited times `maxKept` overlaps at most, and the boxes are drawn by score from a heap instead
/// of sorted in full (proposal selection keeps K boxes of thousands of anchors).
///
/// - Returns: the indices of the kept boxes, by descending score.
public func nms(boxes: [Box], scores: [Double], iouThreshold: Double, maxKept: Int = .max) -> [Int] {
    precondition(boxes.count == scores.count, "\(boxes.count) boxes but \(scores.count) scores")
    let ranking = ScoreRanking(scores)
    if maxKept < boxes.count {
        return greedySuppression(order: ScoreHeap(ranking), boxes: boxes, iouThreshold: iouThreshold,
                                 maxKept: maxKept)
    }
    return greedySuppression(order: ranking.sorted(Array(boxes.indices)), boxes: boxes,
                             iouThreshold: iouThreshold, maxKept: maxKept)
}

/// Class-aware NMS (`torchvision.ops.batched_nms`): suppression only between boxes of the same class.
///
/// - Returns: the indices of the kept boxes of every class, merged by descending score (ties by index).
public func batchedNMS(boxes: [Box], scores: [Double], classes: [Int], iouThreshold: Double) -> [Int] {
    precondition(boxes.count == scores.count && boxes.count == classes.count,
                 "\(boxes.count) boxes, \(scores.count) scores, \(classes.count) classes")
    let ranking = ScoreRanking(scores)
    var groups: [Int: [Int]] = [:]
    for (k, c) in classes.enumerated() { groups[c, default: []].append(k) }
    var kept: [Int] = []
    for (_, members) in groups {
        kept += greedySuppression(order: ranking.sorted(members), boxes: boxes, iouThreshold: iouThreshold)
    }
    return ranking.sorted(kept)
}

/// The order NMS visits boxes in: descending score, ties by ascending index, `nan` as −∞ (so last). The one
/// definition both the full sort and the heap use.
private struct ScoreRanking {
    private let keys: [Double]

    init(_ scores: [Double]) { keys = scores.map { $0.isNaN ? -.infinity : $0 } }

    /// The number of scores ranked.
    var count: Int { keys.count }

    /// Whether index `a` comes before index `b`.
    func before(_ a: Int, _ b: Int) -> Bool { keys[a] != keys[b] ? keys[a] > keys[b] : a < b }

    /// `indices` in this order.
    func sorted(_ indices: [Int]) -> [Int] { indices.sorted(by: before) }
}

/// The indices of `ScoreRanking`'s scores in its order, drawn one at a time from a binary heap: building it costs
/// `O(n)`, each index drawn `O(log n)`.
private struct ScoreHeap: Sequence, IteratorProtocol {
    private let ranking: ScoreRanking
    private var heap: [Int]

    init(_ ranking: ScoreRanking) {
        self.ranking = ranking
        heap = Array(0..<ranking.count)
        var i = heap.count / 2
        while i > 0 {
            i -= 1
            siftDown(i)
        }
    }

    private func before(_ a: Int, _ b: Int) -> Bool { ranking.before(a, b) }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let (l, r) = (2 * i + 1, 2 * i + 2)
            var first = i
            if l < heap.count && before(heap[l], heap[first]) { first = l }
            if r < heap.count && before(heap[r], heap[first]) { first = r }
            if first == i { return }
            heap.swapAt(i, first)
            i = first
        }
    }

    mutating func next() -> Int? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return top
    }
}

/// Keeps boxes in `order`, dropping each one that overlaps an already kept box by IoU > threshold, until
/// `maxKept` are kept.
///
/// Each box is tested, when its turn comes, against the boxes kept before it (the eager form, where each kept box
/// marks every later box it overlaps, gives the same set: only kept boxes suppress, and a box's fate is sealed by the
/// kept boxes ahead of it). The IoU is the same expression with the kept box first, so the comparisons are
/// bit-identical. A box visited once `maxKept` are kept is never looked at, so proposal selection (K kept out of
/// thousands of anchors) costs the visited boxes times K at most instead of every box times K.
private func greedySuppression<Order: Sequence<Int>>(order: Order, boxes: [Box], iouThreshold: Double,
                                                   maxKept: Int = .max) -> [Int] {
    var kept: [Int] = []
    // The kept boxes' coordinates and areas, side by side for the inner loop.
    var kx1: [Double] = [], ky1: [Double] = [], kx2: [Double] = [], ky2: [Double] = [], kArea: [Double] = []
    for index in order {
        guard kept.count < maxKept else { break }
        let q = boxes[index]
        let area = max(q.x2 - q.x1, 0) * max(q.y2 - q.y1, 0)
        var suppressed = false
        for j in kept.indices {
            let w = max(min(kx2[j], q.x2) - max(kx1[j], q.x1), 0)
            let h = max(min(ky2[j], q.y2) - max(ky1[j], q.y1), 0)
            let inter = w * h
            if inter / (kArea[j] + area - inter) > iouThreshold { suppressed = true; break }
        }
        guard !suppressed else { continue }
        kept.append(index)
        kx1.append(q.x1); ky1.append(q.y1); kx2.append(q.x2); ky2.append(q.y2); kArea.append(area)
    }
    return kept
}
