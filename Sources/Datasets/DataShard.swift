/// Which images of an epoch's order one process of a data-parallel job trains on, step by step.
///
/// The epoch order (a permutation of the `count` images, the same on every process) is cut into global batches of
/// `G = ranks × batchSize` consecutive images; global batch `s` holds positions `s·G ..< (s+1)·G` of the order, and
/// rank `r` takes the `r`-th of `ranks` balanced parts of it: positions `⌊r·L/N⌋ ..< ⌊(r+1)·L/N⌋` of the `L` images
/// of the batch (`batchSize` each in a full batch). So the images seen after `s` steps are the first `s·G` of the
/// order whatever the number of processes, and one process with batch `2B` sees exactly what two with `B` see.
///
/// The end of the epoch: with `dropLast` the `count mod G` remaining images are left out (the single-process
/// default). Without it every image is seen exactly once: a remainder of at least `ranks` images is a last, smaller
/// global batch; a remainder of fewer images than processes (which would leave a process without an image) joins
/// the previous batch, whose parts then differ by at most one image.
public struct DataShard: Hashable, Sendable {
    /// This process's rank in `0..<ranks`.
    public var rank: Int
    /// Number of processes.
    public var ranks: Int

    /// The shard of process `rank` of `ranks`.
    public init(rank: Int = 0, ranks: Int = 1) {
        precondition(ranks > 0 && rank >= 0 && rank < ranks, "DataShard: rank \(rank) outside 0..<\(ranks)")
        self.rank = rank
        self.ranks = ranks
    }

    /// Global batches (steps) in an epoch of `count` images with `batchSize` images per process.
    public func steps(count: Int, batchSize: Int, dropLast: Bool) -> Int {
        let g = ranks * batchSize
        if dropLast { return count / g }
        guard count >= ranks else { return 0 }
        let full = count / g, rest = count % g
        return max(1, rest >= ranks ? full + 1 : full)
    }

    /// The positions in the epoch order of global batch `step`: `start ..< end`.
    public func globalBatch(step: Int, count: Int, batchSize: Int, dropLast: Bool) -> Range<Int> {
        let total = steps(count: count, batchSize: batchSize, dropLast: dropLast)
        precondition(step >= 0 && step < total, "DataShard: step \(step) outside 0..<\(total)")
        let g = ranks * batchSize, start = step * g
        let end = step == total - 1 && !dropLast ? count : start + g
        return start..<end
    }

    /// The positions in the epoch order that this rank trains on at `step` (use them to index the order).
    public func positions(step: Int, count: Int, batchSize: Int, dropLast: Bool) -> Range<Int> {
        let batch = globalBatch(step: step, count: count, batchSize: batchSize, dropLast: dropLast)
        let l = batch.count
        return (batch.lowerBound + rank * l / ranks)..<(batch.lowerBound + (rank + 1) * l / ranks)
    }
}
